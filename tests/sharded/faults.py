"""Fault-injection helpers for the sharded-engine tests: raw records, stop/kill timing, counters.

Records are built here word by word (raw fixed point, scale 8) rather than
with ``openpit_shm.batch``, so these tests pin the transport's behaviour and
nothing else. The counters read what the workers really applied: the
broker-wide rate window (in the shared segment, surviving any worker) and
the accumulated P&L of each account.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import openpit_shm as op
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_ORDER,
    MSG_REPORT,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    REPORT_HAS_FINANCIAL,
    SIDE_BUY,
)
from openpit_shm.layout.shard import shard_of
from tests.records import stamped

pol = op.pretrade.policies
P = op.param

UNIT = 10**8  #: one unit at the default fixed-point scale
UNAVAILABLE = CODE_NUMBER["SystemUnavailable"]
BROKER_LIMIT = 10**9  #: never reached: every order the workers decide counts in the window


def counting_builder(*, size_cap: int | None = None) -> Any:
    """An account_sync builder whose broker rate window counts every order decided.

    With ``size_cap`` an broker-wide order-size limit (max quantity) comes after the
    rate limit, so a bigger order is rejected with its amount in ``d0``; the
    P&L kill switch's bounds are far away, so reports only accumulate.
    """
    rate = pol.build_rate_limit().broker_barrier(
        pol.RateLimitBrokerBarrier(pol.RateLimit(BROKER_LIMIT, datetime.timedelta(hours=1)))
    )
    builder = op.Engine.builder().account_sync().builtin(pol.build_order_validation())
    builder = builder.builtin(rate)
    if size_cap is not None:
        size = pol.build_order_size_limit().broker_barrier(
            pol.OrderSizeBrokerBarrier(pol.OrderSizeLimit(max_quantity=P.Quantity(size_cap)))
        )
        builder = builder.builtin(size)
    pnl = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", P.Pnl(-(10**10)), P.Pnl(10**10))
    )
    return builder.builtin(pnl)


def accounts_of(shard: int, n_shards: int, count: int) -> np.ndarray:
    """``count`` account ids owned by ``shard``."""
    out = []
    a = 1
    while len(out) < count:
        if shard_of(a, n_shards) == shard:
            out.append(a)
        a += 1
    return np.array(out, dtype=np.uint64)


def orders(
    engine: Any, account: Any, instrument: int, quantity: Any, *, auto_commit: bool = True
) -> np.ndarray:
    """``engine``'s limit buy orders, ``quantity`` in raw fixed point (scalars broadcast)."""
    account, quantity = np.broadcast_arrays(np.asarray(account), np.asarray(quantity))
    rec = np.zeros(account.shape[0], dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(rec.shape[0]) + 1000
    rec["account"] = account.astype(np.uint64)
    rec["instrument"] = instrument
    rec["kind"] = MSG_ORDER
    rec["side"] = SIDE_BUY
    rec["price"] = UNIT
    rec["amount"] = quantity.astype(np.int64)
    flags = ORDER_HAS_OPERATION | ORDER_HAS_PRICE
    rec["flags"] = flags | (ORDER_AUTO_COMMIT if auto_commit else 0)
    return stamped(rec, engine)


def reports(engine: Any, account: Any, instrument: int, pnl: Any) -> np.ndarray:
    """``engine``'s execution reports with a raw fixed-point ``pnl`` and no fee."""
    account, pnl = np.broadcast_arrays(np.asarray(account), np.asarray(pnl))
    rec = np.zeros(account.shape[0], dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(rec.shape[0])
    rec["account"] = account.astype(np.uint64)
    rec["instrument"] = instrument
    rec["kind"] = MSG_REPORT
    rec["side"] = SIDE_BUY
    rec["pnl"] = pnl.astype(np.int64)
    rec["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    return stamped(rec, engine)


def broker_count(engine: Any) -> int:
    """Orders counted in the broker-wide rate window (shared by every shard)."""
    snap = engine._call(0, "snapshot", time.monotonic_ns())
    window = snap["windows"].get("*broker*")
    return 0 if window is None else window[2]


def pnl_of(engine: Any, account: int) -> int:
    """The raw fixed-point P&L accumulated on ``account`` (USD)."""
    shard = shard_of(account, len(engine.workers))
    snap = engine._call(shard, "snapshot", time.monotonic_ns())
    entry = snap["pairs"].get((account, "USD"))
    return 0 if entry is None else entry[0]


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def wait_serving(engine: Any, shard: int, old_pid: int | None = None) -> None:
    """Until shard ``shard`` has a running worker again (a new one when ``old_pid`` is given)."""
    sup = engine._supervisor
    wait_until(
        lambda: (
            (old_pid is None or engine.workers[shard] != old_pid)
            and shard not in sup.down
            and sup.alive(shard)
        )
    )


def later(delay_s: float, action: Callable[[], None]) -> threading.Thread:
    """Run ``action`` on a thread after ``delay_s`` (a fault injected mid-call)."""

    def run() -> None:
        time.sleep(delay_s)
        action()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def stop_cont_kill(pid: int, stop_after: float, run_for: float) -> Callable[[], None]:
    """SIGSTOP ``pid`` after ``stop_after`` s, SIGCONT, then SIGKILL ``run_for`` s later."""

    def act() -> None:
        time.sleep(stop_after)
        signal_pid(pid, signal.SIGSTOP)
        time.sleep(0.002)
        signal_pid(pid, signal.SIGCONT)
        time.sleep(run_for)
        signal_pid(pid, signal.SIGKILL)

    return act
