"""Fixtures for engine tests: most tests run against both openpit (the oracle) and openpit_shm."""

from __future__ import annotations

from typing import Any

import openpit
import pytest

import openpit_shm


@pytest.fixture(params=["openpit", "openpit_shm"])
def mod(request: pytest.FixtureRequest) -> Any:
    """The package under test; every assertion must hold for the oracle too."""
    return openpit if request.param == "openpit" else openpit_shm


class Recorder:
    """A custom policy that logs every hook call and can be told what to return."""

    def __init__(self, mod: Any, name: str, log: list, **behaviour: Any) -> None:
        self.mod, self._name, self.log, self.b = mod, name, log, behaviour

    @property
    def name(self) -> str:
        return self._name

    @property
    def policy_group_id(self) -> int:
        return self.b.get("group", 0)

    def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
        self.log.append(("start", self._name))
        if "start_raises" in self.b:
            raise self.b["start_raises"]
        return self.b.get("start", ())

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        self.log.append(("main", self._name))
        if "main_raises" in self.b:
            raise self.b["main_raises"]
        P = self.mod.pretrade
        name, log = self._name, self.log
        fail = self.b.get("fail")

        def commit() -> None:
            log.append(("commit", name))
            if fail == "commit":
                raise KeyError(name)

        def rollback() -> None:
            log.append(("rollback", name))
            if fail == "rollback":
                raise KeyError(name)

        mutation = self.mod.Mutation(commit=commit, rollback=rollback)
        rejects = self.b.get("main", ())
        return P.PolicyPreTradeResult(
            rejects=tuple(rejects), mutations=(mutation,), lock_prices=tuple(self.b.get("lock", ()))
        )

    def apply_execution_report(self, ctx: Any, report: Any) -> Any:
        self.log.append(("report", self._name))
        if "report_raises" in self.b:
            raise self.b["report_raises"]
        return self.b.get("report")

    def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
        return None


def make_order(mod: Any, account: int = 1, qty: str = "10", price: str | None = "100") -> Any:
    p = mod.param
    return mod.Order(
        operation=mod.OrderOperation(
            instrument=mod.Instrument("AAPL", "USD"),
            account_id=p.AccountId.from_int(account),
            side=p.Side.BUY,
            trade_amount=p.TradeAmount.quantity(qty),
            price=None if price is None else p.Price(price),
        )
    )


def make_report(mod: Any, account: int = 1, pnl: str = "-10", fee: str = "1") -> Any:
    p = mod.param
    return mod.ExecutionReport(
        operation=mod.ExecutionReportOperation(
            instrument=mod.Instrument("AAPL", "USD"),
            account_id=p.AccountId.from_int(account),
            side=p.Side.BUY,
        ),
        financial_impact=mod.FinancialImpact(pnl=p.Pnl(pnl), fee=p.Fee(fee)),
    )


def build(mod: Any, *policies: Any, sync: str = "no_sync") -> Any:
    builder = getattr(mod.Engine.builder(), sync)()
    for p in policies:
        builder = builder.pre_trade(p)
    return builder.build()


def reject(
    mod: Any, code: str = "Custom", scope: str = "order", user_data: int = 0, tag: str = ""
) -> Any:
    P = mod.pretrade
    return P.PolicyReject(
        code=code,
        reason=f"r{tag}",
        details=f"d{tag}",
        scope=P.RejectScope(scope),
        user_data=user_data,
    )


def as_tuples(rejects: Any) -> Any:
    if rejects is None:
        return None
    return [
        (r.policy, str(r.code), r.reason, r.details, str(r.scope), r.user_data) for r in rejects
    ]
