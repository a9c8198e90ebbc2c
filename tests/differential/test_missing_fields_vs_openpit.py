"""Operations with a missing account id, trade amount or side, against openpit 0.10 (object door).

openpit accepts ``OrderOperation(account_id=None | trade_amount=None | side=None)``
and ``ExecutionReportOperation(account_id=None | side=None)``; each builtin
then reads the fields it needs in its own order and rejects with
``MissingRequiredField`` for the first missing one, and the block gate
answers "account could not be verified" while any block exists. Each case
runs the same calls on both engines and compares every result, then a
normal order (so that nothing was counted or latched by the failed one).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import openpit
import pytest

import openpit_shm

SEC = datetime.timedelta(seconds=1)
ACCOUNT, OTHER = 7, 8


def _rate(P: Any, p: Any, axes: str) -> Any:
    b = P.build_rate_limit()
    a = p.AccountId.from_int(ACCOUNT)
    if "broker" in axes:
        b = b.broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(1, SEC)))
    if "asset" in axes:
        b = b.asset_barriers(P.RateLimitAssetBarrier(P.RateLimit(1, SEC), "USD"))
    if "account" in axes:
        b = b.account_barriers(P.RateLimitAccountBarrier(P.RateLimit(1, SEC), a))
    if "pair" in axes:
        b = b.account_asset_barriers(
            P.RateLimitAccountAssetBarrier(P.RateLimit(1, SEC), a, "USD")
        )
    return b


def _size(P: Any, p: Any, axes: str) -> Any:
    b = P.build_order_size_limit()
    a = p.AccountId.from_int(ACCOUNT)
    q = P.OrderSizeLimit(max_quantity=p.Quantity(100))
    n = P.OrderSizeLimit(max_notional=p.Volume(100))
    if "broker" in axes:
        b = b.broker_barrier(P.OrderSizeBrokerBarrier(q))
    if "asset" in axes:
        b = b.asset_barriers(P.OrderSizeAssetBarrier(q, "AAPL"))
    if "notional" in axes:  # on USD: a market order then needs a price
        b = b.asset_barriers(P.OrderSizeAssetBarrier(n, "USD"))
    if "other" in axes:  # an asset barrier no order here touches
        b = b.asset_barriers(P.OrderSizeAssetBarrier(q, "MSFT"))
    if "pair" in axes:
        b = b.account_asset_barriers(P.OrderSizeAccountAssetBarrier(q, a, "AAPL"))
    if "pair-elsewhere" in axes:  # account+asset barriers exist, none for this order
        b = b.account_asset_barriers(P.OrderSizeAccountAssetBarrier(q, a, "MSFT"))
    return b


def _pnl(P: Any, p: Any, axes: str) -> Any:
    b = P.build_pnl_bounds_killswitch()
    if "broker" in axes:
        b = b.broker_barriers(P.PnlBoundsBrokerBarrier("USD", p.Pnl(-100)))
    if "elsewhere" in axes:
        b = b.broker_barriers(P.PnlBoundsBrokerBarrier("EUR", p.Pnl(-100)))
    if "account" in axes:
        b = b.account_barriers(P.PnlBoundsAccountAssetBarrier(
            P.PnlBoundsBrokerBarrier("USD", p.Pnl(-100)), p.AccountId.from_int(ACCOUNT), p.Pnl(0)
        ))  # fmt: skip
    return b


#: name -> builtins, as (maker, axes) pairs
CONFIGS: dict[str, list[tuple[Callable[..., Any] | None, str]]] = {
    "validation": [(None, "")],
    "rate broker": [(_rate, "broker")],
    "rate asset": [(_rate, "asset")],
    "rate account": [(_rate, "account")],
    "rate pair": [(_rate, "pair")],
    "rate broker+account": [(_rate, "broker account")],
    "rate asset+account": [(_rate, "asset account")],
    "size broker": [(_size, "broker")],
    "size asset": [(_size, "asset")],
    "size notional": [(_size, "notional")],
    "size other": [(_size, "other")],
    "size pair": [(_size, "pair")],
    "size pair elsewhere": [(_size, "pair-elsewhere")],
    "pnl broker": [(_pnl, "broker")],
    "pnl elsewhere": [(_pnl, "elsewhere")],
    "pnl account": [(_pnl, "account")],
    "all four": [(None, ""), (_rate, "broker account"), (_size, "asset"), (_pnl, "broker")],
    "all four, pair axes": [(None, ""), (_rate, "pair"), (_size, "pair notional"),
                            (_pnl, "account")],
}


def _engine(pkg: Any, config: str) -> Any:
    P, p = pkg.pretrade.policies, pkg.param
    b = pkg.Engine.builder().no_sync()
    for maker, axes in CONFIGS[config]:
        b = b.builtin(P.build_order_validation() if maker is None else maker(P, p, axes))
    return b.build()


def _order(pkg: Any, missing: str = "", price: str | None = "10", volume: bool = False) -> Any:
    p = pkg.param
    if "amount" in missing:
        amount = None
    elif volume:
        amount = p.TradeAmount.volume(p.Volume(50))
    else:
        amount = p.TradeAmount.quantity(p.Quantity(5))
    return pkg.Order(operation=pkg.OrderOperation(
        instrument=pkg.Instrument("AAPL", "USD"),
        side=None if "side" in missing else p.Side.BUY,
        trade_amount=amount,
        account_id=None if "account" in missing else p.AccountId.from_int(ACCOUNT),
        price=price,
    ))  # fmt: skip


def _rejects(result: Any) -> list[tuple] | None:
    rejects = result.rejects
    if rejects is None:
        return None
    return [(r.policy, r.code, r.reason, r.details, r.scope, r.user_data) for r in rejects]


def _outcome(result: Any) -> tuple:
    ok = result.is_pass if hasattr(result, "is_pass") else result.ok
    block = getattr(result, "account_block", None)
    block = None if block is None else (block.policy, block.code, block.reason, block.details)
    return ok, _rejects(result), block


def _both(fn: Callable[[Any, Any], list[tuple]], config: str) -> None:
    theirs = fn(openpit, _engine(openpit, config))
    ours = fn(openpit_shm, _engine(openpit_shm, config))
    assert ours == theirs


MISSING = ["account", "amount", "side", "account amount", "account amount side"]
ORDERS = [
    {"price": "10"},
    {"price": None},  # a market order
    {"price": "10", "volume": True},
    {"price": None, "volume": True},
]


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("missing", MISSING)
@pytest.mark.parametrize("shape", range(len(ORDERS)))
def test_should_reject_missing_operation_fields_like_openpit(
    config: str, missing: str, shape: int
) -> None:
    def run(pkg: Any, engine: Any) -> list[tuple]:
        kw = ORDERS[shape]
        seen = [
            _outcome(engine.start_pre_trade_dry_run(_order(pkg, missing, **kw))),
            _outcome(engine.execute_pre_trade_dry_run(_order(pkg, missing, **kw))),
            _outcome(engine.execute_pre_trade(_order(pkg, missing, **kw))),
        ]
        start = engine.start_pre_trade(_order(pkg, missing, **kw))
        seen.append(_outcome(start))
        if start.ok:
            seen.append(_outcome(start.request.execute()))
        # Nothing was counted or latched by the failed orders: a normal order decides alone.
        seen.append(_outcome(engine.execute_pre_trade(_order(pkg, "", **kw))))
        return seen

    _both(run, config)


@pytest.mark.parametrize("config", ["validation", "all four", "pnl broker"])
@pytest.mark.parametrize("missing", MISSING)
def test_should_ask_for_the_account_at_the_gate_while_any_block_exists(
    config: str, missing: str
) -> None:
    def run(pkg: Any, engine: Any) -> list[tuple]:
        seen = [_outcome(engine.execute_pre_trade(_order(pkg, missing)))]
        started = engine.start_pre_trade(_order(pkg, missing))
        seen.append(_outcome(started))
        engine.accounts().block(pkg.param.AccountId.from_int(OTHER), "admin")
        if started.ok:  # blocked between the two stages: the main stage gate asks again
            seen.append(_outcome(started.request.execute()))
        seen.append(_outcome(engine.execute_pre_trade(_order(pkg, missing))))
        seen.append(_outcome(engine.start_pre_trade_dry_run(_order(pkg, missing))))
        seen.append(_outcome(engine.execute_pre_trade_dry_run(_order(pkg, missing))))
        engine.accounts().unblock(pkg.param.AccountId.from_int(OTHER))
        seen.append(_outcome(engine.execute_pre_trade(_order(pkg, missing))))
        return seen

    _both(run, config)


def _report(pkg: Any, account: bool, side: bool, financial: bool, pnl: str = "-200") -> Any:
    p = pkg.param
    return pkg.ExecutionReport(
        operation=pkg.ExecutionReportOperation(
            instrument=pkg.Instrument("AAPL", "USD"),
            side=p.Side.SELL if side else None,
            account_id=p.AccountId.from_int(ACCOUNT) if account else None,
        ),
        financial_impact=pkg.FinancialImpact(pnl=p.Pnl(pnl), fee=p.Fee("0.5"))
        if financial else None,
    )  # fmt: skip


@pytest.mark.parametrize(("account", "side", "financial"), [
    (False, True, True), (False, True, False), (False, False, True), (True, False, True),
    (True, False, False),
])  # fmt: skip
def test_should_report_missing_report_fields_like_openpit(
    account: bool, side: bool, financial: bool
) -> None:
    def run(pkg: Any, engine: Any) -> list[tuple]:
        result = engine.apply_execution_report(_report(pkg, account, side, financial))
        blocks = [(b.policy, b.code, b.reason, b.details) for b in result.account_blocks]
        return [blocks]

    _both(run, "all four")


def test_should_block_every_account_after_a_report_without_an_account_id() -> None:
    def run(pkg: Any, engine: Any) -> list[tuple]:
        engine.apply_execution_report(_report(pkg, account=False, side=True, financial=True))
        return [_outcome(engine.execute_pre_trade(_order(pkg, "")))]

    _both(run, "all four")
