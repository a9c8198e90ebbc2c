"""Every answer belongs to its own request (issue 9, defects 1 and 3).

A request abandoned on a timeout is still decided by its worker later; its
late answer must never be taken for the answer of a newer request. The
orders here make every answer identifiable: a zero quantity is rejected by
order validation, a small one accepted, a big one rejected by the size cap
with its own amount in ``d0``.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.errors import ShardUnavailableError
from openpit_shm.kernels.codes import RSN_OV_ZERO_QTY
from openpit_shm.layout.records import CODE_NUMBER, STATUS_OK, STATUS_REJECTED
from tests.engine.conftest import make_order
from tests.sharded.conftest import PassThrough
from tests.sharded.faults import (
    UNIT,
    accounts_of,
    counting_builder,
    later,
    orders,
    signal_pid,
    wait_until,
)

QTY_CAP = 900
QTY_REJECT = CODE_NUMBER["OrderQtyExceedsLimit"]
ZERO_REJECT = CODE_NUMBER["InvalidFieldValue"]


def _check_batch(records: np.ndarray, results: np.ndarray) -> None:
    """Each result is the answer its own record deserves."""
    amount = records["amount"]
    assert np.array_equal(results["seq"], records["seq"])
    zero = amount == 0
    big = amount > QTY_CAP * UNIT
    small = ~zero & ~big
    assert np.all(results["status"][small] == STATUS_OK), "accepted orders are accepted"
    assert np.all(results["status"][~small] == STATUS_REJECTED), "never accepted by mistake"
    assert np.all(results["code"][zero] == ZERO_REJECT)
    assert np.all(results["reason"][zero] == RSN_OV_ZERO_QTY)
    assert np.all(results["code"][big] == QTY_REJECT)
    assert np.array_equal(results["d0"][big], amount[big]), "a reject names its own order"


def _check_one(engine: op.Engine, account: int, qty: int) -> None:
    result = engine.execute_pre_trade(make_order(op, account=account, qty=str(qty)))
    if 0 < qty <= QTY_CAP:
        assert result.ok
        return
    assert not result.ok
    reject = result.rejects[0]
    if qty == 0:
        assert reject.code == "InvalidFieldValue"
    else:
        assert (reject.code, reject.details) == (
            "OrderQtyExceedsLimit",
            f"requested {qty}, max allowed: {QTY_CAP}",
        )


@pytest.fixture()
def small_rings() -> op.Engine:
    engine = counting_builder(size_cap=QTY_CAP).sharded(
        workers=1, ring_capacity=64, batch=16, timeout=0.5
    ).build()  # fmt: skip
    with engine:
        yield engine


def _give_up(engine: op.Engine, call: Callable[[], object], resume_after: float = 0.0) -> None:
    """Run ``call`` while shard 0's worker is stopped, so the call times out and abandons its
    requests; the worker resumes ``resume_after`` seconds later (during the next call)."""
    pid = engine.workers[0]
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(op.errors.ShardUnavailableError):
            call()
    finally:
        later(resume_after, lambda: signal_pid(pid, signal.SIGCONT)).join(0 if resume_after else 5)


def test_should_not_take_a_timed_out_batchs_answers_for_the_next_batch(small_rings) -> None:
    engine = small_rings
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    _give_up(engine, lambda: engine.execute_batch(orders(engine, [1] * 200, iid, UNIT)), 0.05)
    zero = orders(engine, [1] * 200, iid, 0)
    _check_batch(zero, engine.execute_batch(zero))


@pytest.mark.parametrize("follow_up", ["batch", "order"])
def test_should_not_take_a_timed_out_orders_answer_for_the_next_request(
    small_rings, follow_up: str
) -> None:
    engine = small_rings
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    _give_up(engine, lambda: engine.execute_pre_trade(make_order(op, account=1, qty="5")), 0.05)
    if follow_up == "batch":
        zero = orders(engine, [1] * 20, iid, 0)
        _check_batch(zero, engine.execute_batch(zero))
    else:
        _check_one(engine, 1, 0)


@pytest.mark.slow
def test_should_match_every_answer_to_its_request_under_random_stalls() -> None:
    """Random SIGSTOP/SIGCONT timings around batches and single orders, 40 seeded rounds."""
    rng = np.random.default_rng(20240909)
    engine = counting_builder(size_cap=QTY_CAP).sharded(
        workers=2, ring_capacity=256, batch=16, timeout=0.15
    ).build()  # fmt: skip
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        mine = [accounts_of(k, 2, 8) for k in range(2)]
        accounts = np.concatenate(mine)
        next_qty = QTY_CAP + 1
        checked = timeouts = 0
        for _ in range(40):
            shard = int(rng.integers(2))
            pid = engine.workers[shard]
            stop_at = float(rng.uniform(0.0, 0.004))
            cont_at = stop_at + float(rng.uniform(0.02, 0.4))
            stopper = later(stop_at, lambda p=pid: signal_pid(p, signal.SIGSTOP))
            starter = later(cont_at, lambda p=pid: signal_pid(p, signal.SIGCONT))
            for _call in range(3):  # calls during and after the stall
                n = int(rng.integers(1, 600))
                qty = rng.choice([0, 1, 2], size=n, p=[0.3, 0.3, 0.4])
                big = qty == 2
                qty = qty.astype(np.int64)
                qty[big] = next_qty + np.arange(int(big.sum()))
                next_qty += int(big.sum())
                try:
                    if rng.random() < 0.5:
                        recs = orders(engine, rng.choice(accounts, size=n), iid, qty * UNIT)
                        _check_batch(recs, engine.execute_batch(recs))
                    else:
                        for q in qty[:5]:
                            _check_one(engine, int(rng.choice(accounts)), int(q))
                    checked += 1
                except op.errors.ShardUnavailableError:
                    timeouts += 1
            stopper.join()
            starter.join()
        assert checked > 0 and timeouts > 0, (checked, timeouts)


def test_should_bound_a_batch_by_the_stall_not_by_its_length() -> None:
    """A batch far longer than ``timeout`` completes while the workers make progress.

    The workers are paused for 0.1 s of every 0.2 s, so the batch lasts well
    over the 0.3 s timeout while no shard ever stalls that long.
    """
    engine = counting_builder().sharded(workers=2, timeout=0.3).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        accounts = np.concatenate([accounts_of(k, 2, 50) for k in range(2)])
        recs = orders(engine, np.resize(accounts, 2_000_000), iid, UNIT)
        done = threading.Event()

        def pulse() -> None:
            while not done.is_set():
                for sig in (signal.SIGSTOP, signal.SIGCONT):
                    for pid in engine.workers:
                        signal_pid(pid, sig)
                    time.sleep(0.1)

        pulses = threading.Thread(target=pulse, daemon=True)
        pulses.start()
        try:
            results = engine.execute_batch(recs)
        finally:
            done.set()
            pulses.join()
        assert np.all(results["status"] == STATUS_OK)


def _live_reservations(engine: op.Engine, shard: int) -> int:
    from openpit_shm.layout.state import H_RES_LIVE
    from openpit_shm.sharded.topology import segment_array

    return int(segment_array(engine._topology.state[shard])[H_RES_LIVE])


def test_should_roll_back_the_reservations_of_abandoned_batch_records() -> None:
    """Records given up on may still reserve; nobody holds those reservations, so the
    client rolls them back when the late answers arrive."""
    engine = counting_builder().sharded(workers=1, timeout=0.3).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        _give_up(
            engine,
            lambda: engine.execute_batch(orders(engine, [1] * 50, iid, UNIT, auto_commit=False)),
        )
        wait_until(lambda: _live_reservations(engine, 0) == 50)  # decided after all

        def settled() -> bool:
            engine.execute_pre_trade_dry_run(make_order(op, account=2, qty="5"))
            return _live_reservations(engine, 0) == 0

        wait_until(settled)


def test_should_roll_back_the_reservation_of_an_abandoned_order() -> None:
    """The same for one order whose reservation a custom policy's worker holds."""
    engine = counting_builder().pre_trade(PassThrough()).sharded(workers=1, timeout=0.3).build()
    with engine:
        engine.register_instrument(op.Instrument("AAPL", "USD"))
        link = engine._links[0]
        _give_up(engine, lambda: engine.execute_pre_trade(make_order(op, account=1, qty="5")))

        def settled() -> bool:
            try:  # a loaded host may stall the worker past the short timeout: just poll again
                engine.execute_pre_trade_dry_run(make_order(op, account=2, qty="5"))
            except ShardUnavailableError:
                return False
            return link.rolled_back == 1 and not link.retry and not link.unsettled

        wait_until(settled)  # rolled back, and the rollback was answered (not to be resent)
