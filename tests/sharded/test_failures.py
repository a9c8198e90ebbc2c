"""Failure semantics of the sharded engine (DESIGN §6): dead workers, full rings, leaks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import finalize_records, order_records, report_records
from openpit_shm.layout.records import CODE_NUMBER, STATUS_ERROR, STATUS_OK, STATUS_REJECTED
from openpit_shm.layout.shard import shard_of
from tests.engine.conftest import make_order, make_report
from tests.sharded.conftest import c1_builder, shm_entries

UNAVAILABLE = CODE_NUMBER["SystemUnavailable"]


def _accounts_of(shard: int, n: int, count: int = 2000) -> np.ndarray:
    return np.array([a for a in range(1, count) if shard_of(a, n) == shard])


def _wait_until(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_should_answer_system_unavailable_restart_and_keep_state_after_a_worker_is_killed() -> None:
    before = shm_entries()
    engine = c1_builder("account_sync").sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        mine = _accounts_of(0, 2)
        # State that must survive: open and committed reservations, accumulated P&L.
        opened = engine.execute_batch(
            order_records(
                engine,
                account=mine[:40],
                instrument=iid,
                side=1,
                quantity=1.0,
                price=5.0,
                units="decimal",
            )
        )
        handles = opened["reservation"]
        assert np.all(handles != 0)
        done = engine.execute_batch(finalize_records(handles[:20], commit=True))
        assert np.all(done["status"] == STATUS_OK)
        victim = int(mine[0])
        post = engine.execute_batch(
            report_records(
                engine,
                account=victim,
                instrument=iid,
                side=1,
                pnl=-1500.0,
                fee=0.0,
                units="decimal",
            )
        )
        assert post["count"][0] == 0
        # Kill shard 0's worker while a large batch for it is in flight.
        pid = engine.workers[0]
        flood = order_records(
            engine,
            account=np.resize(mine, 200_000), instrument=iid, side=1, quantity=1.0, price=5.0,
            auto_commit=True, units="decimal",
        )  # fmt: skip
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        results = engine.execute_batch(flood)
        elapsed = time.monotonic() - started
        assert elapsed < 10.0, "every record answered in bounded time"
        unavailable = results["code"] == UNAVAILABLE
        assert unavailable.any(), "requests to the dead shard are answered SystemUnavailable"
        assert set(np.unique(results["status"])) <= {STATUS_OK, STATUS_REJECTED}
        # A single order to the dead shard is refused too, at once.
        one = engine.execute_pre_trade(make_order(op, account=victim))
        assert not one.ok
        # The supervisor restarts the worker over the same state.
        _wait_until(lambda: engine.workers[0] != pid and engine.execute_pre_trade(
            make_order(op, account=int(mine[5]))).ok)  # fmt: skip
        assert engine.stats()[0]["restarts"] == 1
        again = engine.execute_batch(finalize_records(handles[:20], commit=True))
        assert np.all(again["status"] == STATUS_ERROR), "committed handles stayed committed"
        rest = engine.execute_batch(finalize_records(handles[20:], commit=True))
        assert np.all(rest["status"] == STATUS_OK), "open reservations survived the crash"
        # The P&L accumulated before the crash is still there: -1500 - 600 breaches -2000.
        blocks = engine.apply_execution_report(make_report(op, account=victim, pnl="-600", fee="0"))
        assert [b.code for b in blocks.account_blocks] == ["PnlKillSwitchTriggered"]
        assert "realized pnl -2100" in blocks.account_blocks[0].details
    assert shm_entries() <= before


def test_should_raise_a_clear_error_when_a_request_ring_stays_full() -> None:
    before = shm_entries()
    engine = (
        c1_builder("account_sync")
        .sharded(workers=1, ring_capacity=64, batch=16, timeout=0.5)
        .build()
    )
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        os.kill(engine.workers[0], signal.SIGSTOP)  # alive but not consuming
        try:
            recs = order_records(
                engine,
                account=[1] * 200,
                instrument=iid,
                side=1,
                quantity=1.0,
                price=1.0,
                units="decimal",
            )
            with pytest.raises(op.errors.ShardUnavailableError):
                engine.execute_batch(recs)
        finally:
            os.kill(engine.workers[0], signal.SIGCONT)
    assert shm_entries() <= before


def test_should_leave_nothing_in_dev_shm_after_an_exception_inside_the_with_block() -> None:
    before = shm_entries()
    with (
        pytest.raises(RuntimeError, match="boom"),
        c1_builder("account_sync").sharded(workers=2).build(),
    ):
        assert shm_entries() - before
        raise RuntimeError("boom")
    assert shm_entries() <= before


def test_should_let_the_sweep_remove_what_a_killed_host_left() -> None:
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from tests.sharded.conftest import c1_builder
        if __name__ == "__main__":
            engine = c1_builder("account_sync").sharded(workers=2).build()
            print("ready", os.getpid(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert "ready" in proc.stdout, proc.stderr
    host = int(proc.stdout.split()[1])
    # Only this host's segments: other processes on the machine may be making their own.
    left = shm_entries(creator=host)
    assert left, "a SIGKILLed host leaves its segments behind"
    sweep = subprocess.run(
        [sys.executable, "-m", "openpit_shm", "sweep"], capture_output=True, text=True, timeout=60
    )
    assert sweep.returncode == 0, sweep.stderr
    assert not shm_entries(creator=host)


def test_should_keep_block_texts_when_a_custom_policy_worker_restarts() -> None:
    from tests.sharded.conftest import PassThrough

    before = shm_entries()
    engine = c1_builder("account_sync").pre_trade(PassThrough()).sharded(workers=2).build()
    with engine:
        account = int(_accounts_of(0, 2)[0])
        engine.accounts().block(op.param.AccountId.from_int(account), "desk halted")
        want = [(r.policy, r.code, r.reason) for r in engine.start_pre_trade(
            make_order(op, account=account)).rejects]  # fmt: skip
        assert want == [("Engine", "AccountBlocked", "desk halted")]
        pid = engine.workers[0]
        os.kill(pid, signal.SIGKILL)
        _wait_until(lambda: engine.workers[0] != pid and engine.stats()[0].get("down") is None)
        _wait_until(lambda: engine.start_pre_trade(make_order(op, account=account)).rejects[0].code
                    != "SystemUnavailable")  # fmt: skip
        got = [(r.policy, r.code, r.reason) for r in engine.start_pre_trade(
            make_order(op, account=account)).rejects]  # fmt: skip
        assert got == want
    assert shm_entries() <= before
