"""Threaded engines serialize every custom callback, mutation finalizers included.

The README promises that under ``full_sync`` a custom policy needs no lock of
its own. The commit/rollback callbacks of a policy's mutations run when the
caller finalizes a reservation, outside any engine call, so they must take the
engine's lock too. An in-process ``account_sync`` engine keeps each answer with
its own request when threads with pinned accounts call it at once.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import openpit_shm as mod
from openpit_shm.pretrade.policies import (
    OrderSizeBrokerBarrier,
    OrderSizeLimit,
    build_order_size_limit,
    build_order_validation,
)
from tests.engine.conftest import make_order

THREADS = 8


@contextmanager
def _fast_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond so that unserialized code interleaves often."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _run_threads(work: Callable[[int], None]) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        start.wait()
        try:
            work(t)
        except BaseException as exc:  # re-raised by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a thread hung"
    if errors:
        raise errors[0]


class CountingPolicy(mod.pretrade.Policy):
    """Counts its commits and rollbacks with an unlocked read-modify-write.

    ``time.sleep(0)`` gives the GIL away between the read and the write, so two
    callbacks that run at once lose an update.
    """

    def __init__(self) -> None:
        self.commits = 0
        self.rollbacks = 0

    @property
    def name(self) -> str:
        return "Counting"

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        return mod.pretrade.PolicyPreTradeResult(
            mutations=[mod.Mutation(commit=self._commit, rollback=self._rollback)]
        )

    def _commit(self) -> None:
        seen = self.commits
        time.sleep(0)
        self.commits = seen + 1

    def _rollback(self) -> None:
        seen = self.rollbacks
        time.sleep(0)
        self.rollbacks = seen + 1


@pytest.mark.parametrize("sync", ["full_sync", "account_sync"])
def test_should_count_every_commit_and_rollback_when_threads_finalize_at_once(sync: str) -> None:
    policy = CountingPolicy()
    engine = getattr(mod.Engine.builder(), sync)().pre_trade(policy).build()
    per_thread = 1000
    expected_commits = [0] * THREADS

    def work(t: int) -> None:
        rng = random.Random(1000 + t)
        for i in range(per_thread):
            result = engine.execute_pre_trade(make_order(mod, account=t * per_thread + i + 1))
            assert result.ok
            if rng.random() < 0.5:
                result.reservation.commit()
                expected_commits[t] += 1
            else:
                result.reservation.rollback()

    with _fast_thread_switches():
        _run_threads(work)
    commits = sum(expected_commits)
    assert (policy.commits, policy.rollbacks) == (commits, THREADS * per_thread - commits)


def test_should_serialize_finalizers_with_engine_calls_under_full_sync() -> None:
    # A finalizer and a pre-trade hook of another thread touch the same state.
    events: list[tuple[str, int]] = []

    class Bracketing(mod.pretrade.Policy):
        @property
        def name(self) -> str:
            return "Bracketing"

        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            self._bracket("start")
            return ()

        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            return mod.pretrade.PolicyPreTradeResult(
                mutations=[
                    mod.Mutation(
                        commit=lambda: self._bracket("commit"),
                        rollback=lambda: self._bracket("rollback"),
                    )
                ]
            )

        def _bracket(self, what: str) -> None:
            me = threading.get_ident()
            events.append((what + ">", me))
            time.sleep(0)
            events.append(("<" + what, me))

    engine = mod.Engine.builder().full_sync().pre_trade(Bracketing()).build()

    def work(t: int) -> None:
        for i in range(100):
            result = engine.execute_pre_trade(make_order(mod, account=t + 1))
            (result.reservation.commit if i % 2 else result.reservation.rollback)()

    with _fast_thread_switches():
        _run_threads(work)
    assert len(events) == THREADS * 100 * 4
    for k in range(0, len(events), 2):
        (opened, who), (closed, same) = events[k], events[k + 1]
        assert opened.endswith(">") and closed == "<" + opened[:-1] and who == same


def test_should_answer_each_account_sync_call_with_its_own_rejects() -> None:
    # Pinned accounts: each thread sends one kind of bad order for its own account.
    engine = (
        mod.Engine.builder()
        .account_sync()
        .builtin(build_order_validation())
        .builtin(
            build_order_size_limit().broker_barrier(
                OrderSizeBrokerBarrier(OrderSizeLimit(max_quantity=mod.param.Quantity("500")))
            )
        )
        .build()
    )
    too_large = ("1000", "OrderQtyExceedsLimit")
    zero = ("0", "InvalidFieldValue")
    wrong = [0] * THREADS

    def work(t: int) -> None:
        qty, code = too_large if t % 2 else zero
        order = make_order(mod, account=t + 1, qty=qty)
        for _ in range(5000):
            rejects = engine.execute_pre_trade(order).rejects
            if [str(r.code) for r in rejects] != [code]:
                wrong[t] += 1

    with _fast_thread_switches():
        _run_threads(work)
    assert wrong == [0] * THREADS
