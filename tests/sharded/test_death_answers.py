"""A worker that dies mid-batch: ``SystemUnavailable`` only for what it never touched (issue 9).

Defect 2: requests a dying worker had decided came back ``SystemUnavailable``
("not evaluated") although they counted in the rate windows. Defect 10: a
custom-policy worker killed mid-batch stranded records until the timeout.
Defect 11: a report to a dead shard came back as a fake account block.

The invariant, over seeded random SIGSTOP/SIGCONT/SIGKILL timings: what the
workers applied (the broker rate window, which lives in shared memory and
survives them; the accumulated P&L) equals what was answered as decided,
plus at most the requests answered "outcome unknown" (the one a worker was
in the middle of when it died).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.kernels.codes import RSN_OUTCOME_UNKNOWN
from openpit_shm.layout.records import POLICY_ENGINE, STATUS_ERROR, STATUS_OK
from openpit_shm.sharded.supervisor import RSN_SHARD_DOWN
from tests.sharded.conftest import PassThrough
from tests.sharded.faults import (
    UNAVAILABLE,
    UNIT,
    accounts_of,
    broker_count,
    counting_builder,
    orders,
    pnl_of,
    reports,
    stop_cont_kill,
    wait_serving,
)

pytestmark = pytest.mark.slow  # every round restarts the workers it killed


def _classify(results: np.ndarray) -> tuple[int, int, int]:
    """(decided OK, not applied, outcome unknown) answers; nothing else is expected."""
    engine_answer = results["policy"] == POLICY_ENGINE
    down = engine_answer & (results["reason"] == RSN_SHARD_DOWN) & (results["code"] == UNAVAILABLE)
    unknown = (
        engine_answer
        & (results["reason"] == RSN_OUTCOME_UNKNOWN)
        & (results["status"] == STATUS_ERROR)
    )
    ok = results["status"] == STATUS_OK
    assert np.all(ok | down | unknown), "only decided, unavailable and unknown answers"
    return int(ok.sum()), int(down.sum()), int(unknown.sum())


def _chaos_rounds(engine: op.Engine, make_batch, applied, rounds: int, seed: int,
                  stop_window: float, kill_window: float) -> tuple[int, int]:  # fmt: skip
    """Kill both workers at random moments of a batch; check the invariant every round."""
    rng = np.random.default_rng(seed)
    downs = unknowns = 0
    for _ in range(rounds):
        before = applied()
        pids = list(engine.workers)
        batch = make_batch(rng)
        killers = [
            threading.Thread(
                target=stop_cont_kill(
                    pid, float(rng.uniform(0, stop_window)), float(rng.uniform(0, kill_window))
                ),
                daemon=True,
            )
            for pid in pids
        ]
        for t in killers:
            t.start()
        results = engine.execute_batch(batch)  # every record answered, none stranded
        for t in killers:
            t.join()
        ok, down, unknown = _classify(results)
        for k, pid in enumerate(pids):
            wait_serving(engine, k, pid)
        delta = applied() - before
        assert ok <= delta <= ok + unknown, (ok, down, unknown, delta)
        downs += down
        unknowns += unknown
    return downs, unknowns


def _order_chaos(builder: Any, size: int, rounds: int, seed: int, stop: float, kill: float) -> None:
    """Batches of ``size`` orders over both shards, counted in the broker rate window."""
    engine = builder.sharded(workers=2, timeout=60).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        accounts = np.concatenate([accounts_of(k, 2, 40) for k in range(2)])

        def batch(rng: np.random.Generator) -> np.ndarray:
            return orders(engine, rng.choice(accounts, size=size), iid, UNIT)

        downs, _ = _chaos_rounds(engine, batch, lambda: broker_count(engine), rounds, seed,
                                 stop, kill)  # fmt: skip
        assert downs > 0, "the kills landed while requests were queued"


def test_should_answer_unavailable_only_for_orders_a_killed_worker_never_applied() -> None:
    _order_chaos(counting_builder(), 60_000, rounds=6, seed=2, stop=0.004, kill=0.002)


def test_should_answer_unavailable_only_for_reports_a_killed_worker_never_applied() -> None:
    engine = counting_builder().sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        victims = [int(accounts_of(k, 2, 1)[0]) for k in range(2)]

        def batch(rng: np.random.Generator) -> np.ndarray:
            return reports(engine, np.resize(victims, 60_000), iid, -UNIT)

        def applied() -> int:
            return -sum(pnl_of(engine, a) for a in victims) // UNIT

        downs, _ = _chaos_rounds(
            engine, batch, applied, rounds=5, seed=3, stop_window=0.004, kill_window=0.002
        )
        assert downs > 0


def test_should_answer_every_record_at_once_when_a_custom_policy_worker_dies() -> None:
    """Custom policies run in Python in the worker: same rule, and nothing is stranded."""
    builder = counting_builder().pre_trade(PassThrough())
    _order_chaos(builder, 3000, rounds=4, seed=4, stop=0.03, kill=0.01)
