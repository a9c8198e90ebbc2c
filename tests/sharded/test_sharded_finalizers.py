"""Reservations a worker holds: finalizer failures and garbage-collected rollbacks.

A sharded engine must finalize exactly as the in-process one: a custom
mutation callback that fails in the worker raises from ``commit()`` and blocks
the whole engine (every shard, openpit's texts), and a reservation dropped
without finalizing is rolled back before the shard decides anything else.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

import openpit_shm as op
from tests.sharded.test_failures import _accounts_of

P = op.param


class FailingCommit(op.pretrade.Policy):
    """Accepts with a mutation whose commit raises (module level: workers unpickle it)."""

    @property
    def name(self) -> str:
        return "FailingCommit"

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        def fail() -> None:
            raise ValueError("commit callback failed")

        mutation = op.Mutation(commit=fail, rollback=lambda: None)
        return op.pretrade.PolicyPreTradeResult.accept(mutations=[mutation])


class OneOpenOrder(op.pretrade.Policy):
    """At most one open reservation per account: a rollback frees the slot."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    @property
    def name(self) -> str:
        return "OneOpenOrder"

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        account = order.operation.account_id.value
        if account in self.open:
            reject = op.pretrade.PolicyReject(
                code=op.pretrade.RejectCode.RISK_LIMIT_EXCEEDED,
                reason="an order is already open",
                details=f"account {account}",
            )
            return op.pretrade.PolicyPreTradeResult.reject([reject])
        self.open.add(account)
        mutation = op.Mutation(commit=lambda: None, rollback=lambda: self.open.discard(account))
        return op.pretrade.PolicyPreTradeResult.accept(mutations=[mutation])


def _order(account: int) -> Any:
    return op.Order(
        operation=op.OrderOperation(
            instrument=op.Instrument("AAPL", "USD"),
            account_id=P.AccountId.from_int(account),
            side=P.Side.BUY,
            trade_amount=P.TradeAmount.quantity("1"),
            price=P.Price("10"),
        )
    )


def _decisions(engine: Any, accounts: list[int]) -> list[tuple]:
    out = []
    for a in accounts:
        res = engine.execute_pre_trade(_order(a))
        rejects = [(r.policy, r.code, r.reason, r.details, r.scope) for r in res.rejects]
        out.append((res.ok, rejects))
        if res.ok:
            res.reservation.rollback()
    return out


@pytest.fixture(scope="module")
def accounts() -> list[int]:
    """Two accounts on shard 0 and two on shard 1 of a 2-worker engine."""
    return [int(a) for a in _accounts_of(0, 2)[:2]] + [int(a) for a in _accounts_of(1, 2)[:2]]


def _failing_commit(engine: Any, accounts: list[int]) -> tuple[str, list[tuple]]:
    res = engine.execute_pre_trade(_order(accounts[0]))
    assert res.ok
    with pytest.raises(ValueError) as raised:
        res.reservation.commit()
    with pytest.raises(RuntimeError):
        res.reservation.commit()  # single use, even after a failure
    return str(raised.value), _decisions(engine, accounts)


def test_should_raise_a_failing_worker_commit_and_block_every_shard_like_in_process(
    accounts: list[int],
) -> None:
    builder = op.Engine.builder().account_sync().pre_trade(policy=FailingCommit())
    want = _failing_commit(builder.build(), accounts)
    sharded_builder = op.Engine.builder().account_sync().pre_trade(policy=FailingCommit())
    with sharded_builder.sharded(workers=2).build() as engine:
        got = _failing_commit(engine, accounts)
    assert want[0] == "commit callback failed"
    assert all(rejects[0][1] == "SystemUnavailable" for _, rejects in want[1])
    assert got == want


def _dropped_reservation(engine: Any, accounts: list[int]) -> list[tuple]:
    seen = []
    for a in accounts:
        res = engine.execute_pre_trade(_order(a))
        assert res.ok
        del res
        gc.collect()
        again = engine.execute_pre_trade(_order(a))  # free only if the drop rolled back
        seen.append((again.ok, [r.reason for r in again.rejects]))
        held = again  # keep this one open: the next order on the account must reject
        seen.append(_decisions(engine, [a])[0])
        held.reservation.commit()
    return seen


def test_should_roll_back_a_dropped_worker_reservation_before_the_next_decision(
    accounts: list[int],
) -> None:
    want = _dropped_reservation(
        op.Engine.builder().account_sync().pre_trade(policy=OneOpenOrder()).build(), accounts
    )
    sharded_builder = op.Engine.builder().account_sync().pre_trade(policy=OneOpenOrder())
    with sharded_builder.sharded(workers=2).build() as engine:
        got = _dropped_reservation(engine, accounts)
    assert want[0] == (True, [])
    assert want[1][0] is False
    assert got == want
