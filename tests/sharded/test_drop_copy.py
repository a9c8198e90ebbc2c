"""The sharded engine passes the in-process engine's drop-copy tests (openpit is the oracle)."""

from __future__ import annotations

from typing import Any

import openpit
import pytest

import openpit_shm
from tests.differential import drop_copy_scenarios as S
from tests.differential import drop_copy_streams as DS
from tests.sharded.drop_copy_policies import gate_for

_engines: list = []


def _sharded(pkg: Any, builtins: list, customs: list) -> Any:
    if pkg is openpit:
        return S.default_engine(pkg, builtins, customs)
    b = pkg.Engine.builder().account_sync()
    for x in builtins:
        b = b.builtin(x)
    for p in customs:
        b = b.pre_trade(p)
    engine = b.sharded(workers=2).build()
    _engines.append(engine)
    return engine


@pytest.fixture(autouse=True)
def _close_engines() -> Any:
    yield
    while _engines:
        _engines.pop().close()


def test_should_match_openpit_on_builtin_drop_copies_sharded() -> None:
    assert S.builtin_scenario(openpit_shm, _sharded) == S.builtin_scenario(openpit)


@pytest.mark.parametrize("seed", [0, 1])
def test_should_match_openpit_on_builtin_streams_sharded(seed: int) -> None:
    ours = DS.replay_builtins(openpit_shm, seed, 600, _sharded)
    assert ours == DS.replay_builtins(openpit, seed, 600)


def _with_gate(pkg: Any, builtins: list, customs: list) -> Any:
    return _sharded(pkg, builtins, [gate_for(pkg)])


@pytest.mark.parametrize("seed", [0, 1])
def test_should_match_openpit_with_custom_policies_sharded(seed: int) -> None:
    ours = DS.replay_builtins(openpit_shm, seed, 600, _with_gate)
    theirs = DS.replay_builtins(openpit, seed, 600, _with_gate)
    assert ours == theirs
    assert any(step[0] == "drop_copy" and step[1] is False for step in theirs)
    # Prices written with trailing zeros ("0.00") lock, and are seen by the hooks, as written.
    assert any(step[0] == "drop_copy" and step[3] and '0"' in step[3][0] for step in theirs)


def test_should_keep_worker_held_operations_across_control_requests() -> None:
    # A custom-policy worker leaves its serving loop for every control request (an
    # unblock here); the operations and reservations it holds must survive that.
    engine = _sharded(openpit_shm, [], [gate_for(openpit_shm)])
    kept = [
        engine.apply_drop_copy(S.order(openpit_shm, acc=1, price="10")).operation,
        engine.execute_pre_trade(S.order(openpit_shm, acc=1, price="10")).reservation,
    ]
    engine.accounts().unblock(openpit_shm.param.AccountId.from_int(1))
    for held in kept:
        held.commit()
