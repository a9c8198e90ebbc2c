"""``ShardedEngine.apply_account_adjustment``: openpit's batch semantics on the owning worker.

The tracer policies of ``tests.differential.adjust_policies`` are pickled into
the workers; the batch runs in the worker that owns the account, where its
mutations and the policies' state live. The same seeded stream decides as in
openpit (results, call order, state after rollback or commit, the next order),
argument errors are the in-process ones, a hook's exception and a failing
finalizer come back as in process, and a shard that is down refuses the batch.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import openpit
import pytest

import openpit_shm as op
from openpit_shm.layout.shard import shard_of
from tests.differential import adjust_policies as ap
from tests.sharded.faults import wait_serving, wait_until


@pytest.fixture(scope="module")
def sharded() -> Iterator[Any]:
    with ap.builder(op, "account_sync").sharded(workers=2).build() as engine:
        ap.prepare(engine, op)
        yield engine


def test_the_stream_accounts_live_on_both_shards() -> None:
    assert {shard_of(a, 2) for a in ap.ACCOUNTS} == {0, 1}


@pytest.mark.parametrize("seed", [21, 22])
def test_should_decide_a_seeded_stream_as_openpit(seed: int) -> None:
    oracle = ap.builder(openpit, "account_sync").build()
    ap.prepare(oracle, openpit)
    ap.STATE.clear()
    want = ap.run_stream(oracle, openpit, seed, 50)
    with ap.builder(op, "account_sync").sharded(workers=2).build() as sharded:  # fresh state
        ap.prepare(sharded, op)
        got = ap.run_stream(sharded, op, seed, 50)
    for step, (w, g) in enumerate(zip(want, got)):
        assert g == w, f"step {step}"
    assert any(not w[0][0] for w in want) and any(w[0][6] for w in want)


@pytest.mark.parametrize(
    "call",
    [
        lambda e, aid, item: e.apply_account_adjustment(5, [item]),
        lambda e, aid, item: e.apply_account_adjustment(aid, 7),
        lambda e, aid, item: e.apply_account_adjustment(aid, [item, 3]),
        lambda e, aid, item: e.apply_account_adjustment(aid, [], 1),
    ],
)
def test_should_refuse_malformed_arguments_as_in_process(sharded: Any, call: Any) -> None:
    local = ap.builder(op, "account_sync").build()
    aid, item = op.param.AccountId.from_int(1), ap.items_of(op, ["A000"])[0]
    errors = []
    for engine in (local, sharded):
        with pytest.raises(TypeError) as info:
            call(engine, aid, item)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_should_accept_an_empty_batch(sharded: Any) -> None:
    r = sharded.apply_account_adjustment(op.param.AccountId.from_int(1), [])
    assert r.ok and r.failed_index is None and r.outcomes == [] and r.account_blocks == []


class Raising:
    """A custom policy whose hook raises (module level: workers unpickle it)."""

    name = "Raising"

    def __init__(self, what: str) -> None:
        self.what = what

    def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
        return ()

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        return None

    def apply_execution_report(self, ctx: Any, report: Any) -> Any:
        return None

    def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
        if self.what == "hook":
            raise KeyError("hook failed")

        def commit() -> None:
            raise ValueError("commit failed")

        return op.pretrade.PolicyAccountAdjustmentResult(
            mutations=(op.Mutation(commit=commit, rollback=lambda: None),)
        )


def test_should_raise_a_hooks_exception_and_block_every_shard_on_a_failing_commit() -> None:
    builder = op.Engine.builder().account_sync().pre_trade(Raising("hook"))
    with builder.sharded(workers=2).build() as engine:
        with pytest.raises(KeyError, match="hook failed"):
            engine.apply_account_adjustment(op.param.AccountId.from_int(1), ap.items_of(op, ["A0"]))
        assert engine.execute_pre_trade(ap._order(op, 1, "AAPL")).ok, "nothing is blocked"
    builder = op.Engine.builder().account_sync().pre_trade(Raising("commit"))
    with builder.sharded(workers=2).build() as engine:
        owner = shard_of(1, 2)
        other = next(a for a in range(2, 100) if shard_of(a, 2) != owner)
        with pytest.raises(ValueError, match="commit failed"):
            engine.apply_account_adjustment(op.param.AccountId.from_int(1), ap.items_of(op, ["A0"]))
        for account in (1, other):  # the engine-wide block reaches every shard, as in process
            answer = engine.execute_pre_trade(ap._order(op, account, "AAPL"))
            assert ap.rejects_of(answer.rejects)[0][:3] == (
                "Engine", "SystemUnavailable", "mutation finalizer failed"
            )


def test_should_refuse_a_batch_for_a_shard_that_is_down() -> None:
    with ap.builder(op, "account_sync").sharded(workers=2).build() as engine:
        account = next(a for a in ap.ACCOUNTS if shard_of(a, 2) == 0)
        aid = op.param.AccountId.from_int(account)
        pid = engine.workers[0]
        supervisor = engine._supervisor
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: 0 in supervisor.down)
        with (
            supervisor._lock,  # hold the restart back: the shard stays down meanwhile
            pytest.raises(op.errors.ShardUnavailableError, match="not applied"),
        ):
            engine.apply_account_adjustment(aid, ap.items_of(op, ["A000"]))
        wait_serving(engine, 0, pid)
        ap.STATE.clear()
        result, decision, state = ap.apply_step(engine, op, account, ["A000"])
        assert result[0] and decision[0]
        assert state["value"] == {"Tracer0": 10, "Tracer1": 20, "Tracer2": 30}, (
            "the refused batch was not applied; the next one was, once"
        )
