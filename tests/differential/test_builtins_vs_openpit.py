"""The four builtins together against openpit 0.10.0 on seeded random streams.

Every observable must match: ok flags, every reject (policy, code, reason,
details, scope, user_data), dry-run verdicts and would-be blocks, post-trade
blocks, retune errors. Streams mix orders (quantity/volume, limit/market,
zero amounts, no operation), two-stage requests, dry runs, reports with P&L
and fees (and missing groups), unblocks, retunes of every builtin and P&L
force-sets. Windows are an hour, so wall-clock time never decides.

Two of ours are checked: the Book driven directly (``BookEngine``, the
builtins on their own) and, once it exists, the product ``openpit_shm.Engine``.
"""

from __future__ import annotations

import openpit
import pytest

import openpit_shm

from ..builtins.book_engine import BookEngine
from . import builtins_streams as S

SEEDS = range(10)
STEPS = 3000


@pytest.fixture(scope="module", params=list(SEEDS))
def stream(request: pytest.FixtureRequest) -> tuple[dict, list, list]:
    seed = request.param
    cfg = S.make_config(seed)
    ops = S.make_ops(seed, STEPS)
    return cfg, ops, S.replay(openpit, cfg, ops)


def _first_difference(ours: list, theirs: list, ops: list) -> str:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            return f"step {i}:\n  ours   {a}\n  openpit {b}"
    return f"lengths differ: {len(ours)} vs {len(theirs)}"


def test_should_decide_like_openpit_through_the_book(stream: tuple[dict, list, list]) -> None:
    cfg, ops, theirs = stream
    ours = S.replay(openpit_shm, cfg, ops, make_engine=BookEngine)
    assert ours == theirs, _first_difference(ours, theirs, ops)


@pytest.mark.skipif(not hasattr(openpit_shm, "Engine"), reason="openpit_shm.Engine not there yet")
def test_should_decide_like_openpit_through_the_engine(stream: tuple[dict, list, list]) -> None:
    cfg, ops, theirs = stream
    ours = S.replay(openpit_shm, cfg, ops)
    assert ours == theirs, _first_difference(ours, theirs, ops)


def test_should_exercise_every_kind_of_outcome(stream: tuple[dict, list, list]) -> None:
    """A stream is only worth something if it reaches the interesting paths."""
    _, _, theirs = stream
    codes = {
        r[1]
        for step in theirs
        for x in step[1:]
        if isinstance(x, tuple)
        for r in x
        if isinstance(r, tuple) and len(r) >= 5
    }
    accepted = sum(1 for step in theirs if step[0] in ("execute", "exec") and step[1])
    assert accepted >= 50
    assert {"RateLimitExceeded", "OrderQtyExceedsLimit", "OrderNotionalExceedsLimit"} <= codes
    assert {"MissingRequiredField", "OrderValueCalculationFailed", "InvalidFieldValue"} <= codes
    assert codes & {"PnlKillSwitchTriggered", "AccountBlocked"}
