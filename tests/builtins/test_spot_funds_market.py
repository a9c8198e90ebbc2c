"""Spot Funds with market data: the funds page's probe rows (openpit 0.10), one by one.

Market orders priced from the engine's quote table (MARK, BOOK_TOP, slippage and its
override cascade), openpit's rejects when no usable quote exists, and realized P&L
in the account currency through an FX mark (direct or inverse).
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pytest

import openpit_shm as op

pm, aa, md = op.param, op.account_adjustment, op.marketdata
P = op.pretrade.policies
ACC = pm.AccountId.from_int(7)
GRP = pm.AccountGroupId.from_int(3)
AAPL = op.Instrument("AAPL", "USD")
Z = datetime.timedelta(0)


def _engine(source: Any = P.SpotFundsPricingSource.MARK, bps: int = 100,
            overrides: Any = (), market: bool = True) -> tuple[Any, Any, Any]:  # fmt: skip
    stage = op.Engine.builder().no_sync()
    svc = stage.market_data(md.QuoteTtl.within(datetime.timedelta(seconds=5))).build()
    iid = svc.register(AAPL)
    builder = P.build_spot_funds()
    if market:
        builder = builder.market_data(svc, bps, source, overrides(iid) if callable(overrides)
                                      else overrides)  # fmt: skip
    eng = stage.builtin(builder).build()
    for asset, v in (("USD", 100_000), ("AAPL", 1_000), ("EUR", 100_000)):
        item = aa.Adjustment(operation=aa.BalanceOperation(asset=asset), amount=aa.Amount(
            balance=aa.AdjustmentAmount.delta(pm.PositionSize(v))))  # fmt: skip
        assert eng.apply_account_adjustment(ACC, [item]).ok
    return eng, svc, iid


def _market(eng: Any, side: Any, instrument: Any = AAPL, q: int = 1) -> Any:
    return eng.execute_pre_trade(op.Order(operation=op.OrderOperation(
        instrument=instrument, account_id=ACC, side=side,
        trade_amount=pm.TradeAmount.quantity(q), price=None)))  # fmt: skip


def _lock(result: Any) -> decimal.Decimal:
    assert result.ok, result.rejects
    price = result.reservation.lock.prices_of(0)[0]
    result.reservation.rollback()
    return decimal.Decimal(str(price))


def _reject(result: Any) -> tuple[str, str, str, str]:
    assert not result.ok
    (r,) = result.rejects
    return (str(r.code), r.reason, r.details, r.policy)


@pytest.mark.parametrize(("source", "buy", "sell"), [("MARK", "101", "99"),
                                                     ("BOOK_TOP", "102.01", "98.01")])
def test_should_lock_the_market_price_with_slippage(source: str, buy: str, sell: str) -> None:
    eng, svc, iid = _engine(getattr(P.SpotFundsPricingSource, source))
    svc.push(iid, md.Quote(mark=pm.Price(100), bid=pm.Price(99), ask=pm.Price(101)), Z)
    assert _lock(_market(eng, pm.Side.BUY)) == decimal.Decimal(buy)
    assert _lock(_market(eng, pm.Side.SELL)) == decimal.Decimal(sell)


def test_should_reject_a_market_order_without_a_usable_quote_as_openpit() -> None:
    eng, svc, iid = _engine(P.SpotFundsPricingSource.BOOK_TOP)
    unavailable = ("MarkPriceUnavailable", "mark price unavailable", "", "SpotFundsPolicy")
    assert _reject(_market(eng, pm.Side.BUY)) == unavailable  # no quote yet
    svc.push(iid, md.Quote(mark=pm.Price(100)), Z)  # BOOK_TOP has no ask: no fallback
    assert _reject(_market(eng, pm.Side.BUY)) == unavailable
    svc.push(iid, md.Quote(ask=pm.Price(101)), datetime.timedelta(seconds=6))  # expired
    assert _reject(_market(eng, pm.Side.BUY)) == unavailable
    assert _reject(_market(eng, pm.Side.BUY, op.Instrument("MSFT", "USD"))) == unavailable
    svc.push(iid, md.Quote(ask=pm.Price(0), bid=pm.Price(0)), Z)
    calc = ("OrderValueCalculationFailed", "price calculation failed", "", "SpotFundsPolicy")
    assert _reject(_market(eng, pm.Side.BUY)) == calc
    assert _reject(_market(eng, pm.Side.SELL)) == calc


def test_should_reject_market_orders_without_market_data_as_unsupported() -> None:
    eng, _, _ = _engine(market=False)
    assert _reject(_market(eng, pm.Side.BUY)) == (
        "UnsupportedOrderType", "market orders not supported", "", "SpotFundsPolicy")


def test_should_refuse_slippage_beyond_10000_bps_when_the_engine_builds() -> None:
    svc = op.Engine.builder().no_sync().market_data(md.QuoteTtl.infinite()).build()
    ready = P.build_spot_funds().market_data(svc, 10_001)  # accepted until build, as openpit
    with pytest.raises(ValueError, match="slippage 10001 bps is out of range"):
        op.Engine.builder().no_sync().builtin(ready).build()


def test_should_pick_slippage_account_then_group_then_instrument_then_global() -> None:
    def overrides(iid: Any) -> list[Any]:
        return [P.SpotFundsOverrideEntry(P.SpotFundsOverrideTargetInstrument(iid),
                                         P.SpotFundsOverride(1000)),
                P.SpotFundsOverrideEntry(P.SpotFundsOverrideTargetInstrumentAccountGroup(iid, GRP),
                                         P.SpotFundsOverride(2000)),
                P.SpotFundsOverrideEntry(P.SpotFundsOverrideTargetInstrumentAccount(iid, ACC),
                                         P.SpotFundsOverride(3000))]  # fmt: skip

    eng, svc, iid = _engine(bps=0, overrides=overrides)
    svc.push(iid, md.Quote(mark=pm.Price(100)), Z)
    eng.accounts().register_group([ACC], GRP)
    assert _lock(_market(eng, pm.Side.BUY)) == 130
    cleared = P.SpotFundsOverrideEntry(P.SpotFundsOverrideTargetInstrumentAccount(iid, ACC),
                                       P.SpotFundsOverride(None))  # fmt: skip
    eng.configure().spot_funds("SpotFundsPolicy", overrides=[cleared])
    assert _lock(_market(eng, pm.Side.BUY)) == 120
    eng.accounts().unregister_group([ACC], GRP)
    assert _lock(_market(eng, pm.Side.BUY)) == 110
    assert _lock(_market(eng, pm.Side.SELL)) == 90
    eng.configure().spot_funds("SpotFundsPolicy", overrides=[P.SpotFundsOverrideEntry(
        P.SpotFundsOverrideTargetInstrument(iid), P.SpotFundsOverride(None))],
        global_slippage_bps=500, pricing_source=P.SpotFundsPricingSource.MARK)  # fmt: skip
    assert _lock(_market(eng, pm.Side.BUY)) == 105


def _fill(eng: Any, instrument: Any, side: Any, q: int, price: int) -> Any:
    res = eng.execute_pre_trade(op.Order(operation=op.OrderOperation(
        instrument=instrument, account_id=ACC, side=side, trade_amount=pm.TradeAmount.quantity(q),
        price=pm.Price(price)))).reservation  # fmt: skip
    lock = res.lock
    res.commit()
    return eng.apply_execution_report(op.ExecutionReport(
        operation=op.ExecutionReportOperation(instrument=instrument, side=side, account_id=ACC),
        fill=op.ExecutionReportFillDetails(
            last_trade=pm.Trade(price=pm.Price(price), quantity=pm.Quantity(q)), lock=lock,
            remaining_reserved_quantity=pm.Quantity(0), is_final=True)))  # fmt: skip


@pytest.mark.parametrize(("pair", "mark"), [(("EUR", "USD"), "1.10"), (("USD", "EUR"), "0.8")])
def test_should_realize_pnl_in_the_account_currency_through_fx(pair: tuple, mark: str) -> None:
    eng, svc, _ = _engine()
    eng.accounts().set_currency(ACC, "USD")
    svc.push(svc.register(op.Instrument(*pair)), md.Quote(mark=pm.Price(mark)), Z)
    sap = op.Instrument("SAP", "EUR")
    rate = decimal.Decimal(mark) if pair[0] == "EUR" else 1 / decimal.Decimal(mark)
    opened = _fill(eng, sap, pm.Side.BUY, 10, 50)
    (entry,) = [a.entry for a in opened.account_adjustments if str(a.entry.asset) == "SAP"]
    assert decimal.Decimal(str(entry.average_entry_price)) == 50 * rate
    closed = _fill(eng, sap, pm.Side.SELL, 10, 40)
    (pnl,) = closed.account_pnls
    assert decimal.Decimal(str(pnl.pnl.delta)) == -100 * rate


def test_should_halt_missing_fx_without_a_rate() -> None:
    eng, _, _ = _engine()
    eng.accounts().set_currency(ACC, "USD")
    sap = op.Instrument("SAP", "EUR")
    _fill(eng, sap, pm.Side.BUY, 10, 50)
    (pnl,) = _fill(eng, sap, pm.Side.SELL, 10, 40).account_pnls
    assert pnl.pnl is None
    assert str(pnl.halt_reason).endswith("MISSING_FX")
