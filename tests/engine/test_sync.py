"""Sync modes: full_sync serializes every call; account_sync is safe with pinned accounts."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

from tests.engine.conftest import Recorder, build, make_order


def _broker_limited(mod: Any, sync: str, limit: int) -> Any:
    pol = mod.pretrade.policies
    builder = getattr(mod.Engine.builder(), sync)()
    return builder.builtin(
        pol.build_rate_limit().broker_barrier(
            pol.RateLimitBrokerBarrier(pol.RateLimit(limit, datetime.timedelta(hours=1)))
        )
    ).build()


def _hammer(engine: Any, mod: Any, threads: int, per_thread: int, account_of: Any) -> int:
    accepted = [0] * threads
    barrier = threading.Barrier(threads)

    def run(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            if engine.start_pre_trade(make_order(mod, account=account_of(t, i))).ok:
                accepted[t] += 1

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(accepted)


def test_should_hold_a_broker_limit_exactly_under_full_sync(mod: Any) -> None:
    engine = _broker_limited(mod, "full_sync", 1000)
    assert _hammer(engine, mod, 8, 500, lambda t, i: i % 50) == 1000


def test_should_hold_a_broker_limit_with_pinned_accounts_under_account_sync(mod: Any) -> None:
    engine = _broker_limited(mod, "account_sync", 1000)
    assert _hammer(engine, mod, 4, 500, lambda t, i: 100 * t + i % 10) == 1000


def test_should_never_interleave_custom_hooks_under_full_sync() -> None:
    # Stronger than openpit, whose full_sync locks its own storage but lets custom
    # hooks of concurrent calls interleave: ours serializes whole calls, so a
    # custom policy's state needs no lock of its own.
    import openpit_shm as mod

    events: list = []

    class Slow(Recorder):
        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            me = threading.get_ident()
            events.append(("in", me))
            time.sleep(0.0005)  # releases the GIL: only the engine's lock keeps calls apart
            events.append(("out", me))
            return ()

    engine = build(mod, Slow(mod, "A", []), sync="full_sync")
    _hammer(engine, mod, 4, 20, lambda t, i: t)
    assert len(events) == 160
    for k in range(0, len(events), 2):
        assert events[k][0] == "in" and events[k + 1] == ("out", events[k][1])
