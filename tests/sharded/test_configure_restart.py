"""``configure()`` of a sharded engine reaches every shard, even one whose worker is restarting.

A shard whose worker is down (or dies while applying the change) gets the
change from the supervisor before its restarted worker serves again, so the
shards never disagree (issue 9, defect 8). Workers are killed at random
moments around the call (seeded).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from typing import Any

import pytest

import openpit_shm as op
from tests.engine.conftest import make_order
from tests.sharded.test_failures import _accounts_of

pol = op.pretrade.policies
P = op.param
#: An account on each shard of a 2-worker engine.
ACCOUNTS = tuple(int(_accounts_of(k, 2)[0]) for k in (0, 1))


def _size_cap(quantity: int) -> Any:
    return pol.OrderSizeBrokerBarrier(pol.OrderSizeLimit(max_quantity=P.Quantity(quantity)))


def _engine() -> Any:
    size = pol.build_order_size_limit().broker_barrier(_size_cap(1_000))
    return op.Engine.builder().account_sync().builtin(size).sharded(workers=2).build()


def _decide(engine: Any, account: int, quantity: int, timeout: float = 120.0) -> Any:
    """The decision on an order of ``quantity``, once the account's shard serves again."""
    deadline = time.monotonic() + timeout
    while True:
        res = engine.execute_pre_trade(make_order(op, account=account, qty=str(quantity)))
        if res.ok or res.rejects[0].code != "SystemUnavailable":
            return res
        assert time.monotonic() < deadline, "the shard did not come back"
        time.sleep(0.01)


def _assert_cap_everywhere(engine: Any, cap: int) -> None:
    for account in ACCOUNTS:
        assert _decide(engine, account, cap).ok, f"account {account}: {cap} within the cap"
        over = _decide(engine, account, cap + 1)
        assert not over.ok and over.rejects[0].code == "OrderQtyExceedsLimit", (account, cap)


@pytest.mark.slow  # a worker restart per round
def test_should_configure_every_shard_when_a_worker_is_killed_around_the_call() -> None:
    rng = random.Random(9_008)
    with _engine() as engine:
        _assert_cap_everywhere(engine, 1_000)
        for round_ in range(4):
            cap = 200 + 10 * round_
            victim = rng.randrange(2)
            pid = engine.workers[victim]
            delay = rng.uniform(0.0, 0.01)
            if rng.random() < 0.5:  # down (restarting) when the change comes
                os.kill(pid, signal.SIGKILL)
                time.sleep(delay)
                killer = None
            else:  # killed while the change is on its way, or being applied
                killer = threading.Timer(delay, os.kill, (pid, signal.SIGKILL))
                killer.start()
            engine.configure().order_size_limit("OrderSizeLimitPolicy", broker=_size_cap(cap))
            if killer is not None:
                killer.join()
            _assert_cap_everywhere(engine, cap)
            assert engine.workers[victim] != pid, "the worker was restarted"


def test_should_not_take_the_late_reply_of_a_timed_out_control_call_for_the_next_one() -> None:
    """A control call that gave up is sent again (it may be queued): its late reply is skipped."""
    with _engine() as engine:
        pid = engine.workers[0]
        os.kill(pid, signal.SIGSTOP)  # alive, not answering
        try:
            with pytest.raises(op.errors.ShardUnavailableError, match="did not answer"):
                engine._supervisor.channel(0).call("stats", timeout=0.2)
        finally:
            os.kill(pid, signal.SIGCONT)
        iid = engine.register_instrument(op.Instrument("LATE", "USD"))  # a reply the id checks
        assert iid == engine.register_instrument(op.Instrument("LATE", "USD"))
        engine.configure().order_size_limit("OrderSizeLimitPolicy", broker=_size_cap(300))
        _assert_cap_everywhere(engine, 300)
        assert engine.workers[0] == pid
