"""Drop copy against openpit 0.10.0: scripted scenarios, then seeded random streams.

Scenarios (``drop_copy_scenarios``) cover every rule of openpit's drop copy:
missing account, ignored blocks, non-enforcing rejects of every builtin,
evaluation failures that abort and roll back, latches at apply time that
rollback does not undo, rate-limit attempts spent, the operation's accessors
and their errors once finalized, garbage collection, ``ctx.is_drop_copy`` and
``ctx.record_drop_copy_start_mutation``. Streams (``drop_copy_streams``) mix
drop copies into the builtin streams and the custom-pipeline streams.
"""

from __future__ import annotations

import openpit
import pytest

import openpit_shm

from . import drop_copy_scenarios as S
from . import drop_copy_streams as DS


def _first_difference(ours: list, theirs: list) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"step {i}:\n  ours    {a}\n  openpit {b}"
    return f"lengths differ: {len(ours)} vs {len(theirs)}"


@pytest.mark.parametrize("scenario", [S.builtin_scenario, S.custom_scenarios])
def test_should_match_openpit_on_every_drop_copy_rule(scenario) -> None:  # type: ignore[no-untyped-def]
    theirs = scenario(openpit)
    ours = scenario(openpit_shm)
    assert ours == theirs, _first_difference(ours, theirs)


@pytest.mark.parametrize("sync", ["full_sync", "account_sync"])
def test_should_match_openpit_in_every_sync_mode(sync: str) -> None:
    def make(pkg, builtins, customs):  # type: ignore[no-untyped-def]
        b = getattr(pkg.Engine.builder(), sync)()
        for x in builtins:
            b = b.builtin(x)
        for p in customs:
            b = b.pre_trade(p)
        return b.build()

    for scenario in (S.builtin_scenario, S.custom_scenarios):
        theirs = scenario(openpit, make)
        ours = scenario(openpit_shm, make)
        assert ours == theirs, _first_difference(ours, theirs)


@pytest.mark.parametrize("seed", range(4))
def test_should_match_openpit_on_builtin_streams_with_drop_copies(seed: int) -> None:
    theirs = DS.replay_builtins(openpit, seed)
    ours = DS.replay_builtins(openpit_shm, seed)
    assert ours == theirs, _first_difference(ours, theirs)
    assert sum(1 for step in theirs if step[0] == "drop_copy") >= 100


@pytest.mark.parametrize("seed", range(4))
def test_should_match_openpit_on_custom_streams_with_drop_copies(seed: int) -> None:
    theirs = DS.replay_customs(openpit, seed)
    ours = DS.replay_customs(openpit_shm, seed)
    assert ours == theirs, _first_difference(ours, theirs)
    outcomes = {step[1] for step in theirs if step[0] == "drop_copy"}
    assert {True, False} <= outcomes
