"""Spot Funds post-trade on the object door: the funds page's probe rows, and slot hygiene."""

from __future__ import annotations

from typing import Any

import openpit_shm as op
from openpit_shm.layout.state import H_RES_LIVE

pm, aa = op.param, op.account_adjustment
ACC = pm.AccountId.from_int(7)
AAPL = op.Instrument("AAPL", "USD")


def _engine(usd: int = 10_000) -> Any:
    eng = op.Engine.builder().no_sync().builtin(op.pretrade.policies.build_spot_funds()).build()
    item = aa.Adjustment(operation=aa.BalanceOperation(asset="USD"),
                         amount=aa.Amount(balance=aa.AdjustmentAmount.delta(pm.PositionSize(usd))))
    assert eng.apply_account_adjustment(ACC, [item]).ok
    return eng


def _buy(eng: Any, q: int, p: int) -> Any:
    order = op.Order(operation=op.OrderOperation(
        instrument=AAPL, account_id=ACC, side=pm.Side.BUY, trade_amount=pm.TradeAmount.quantity(q),
        price=pm.Price(p)))  # fmt: skip
    return eng.execute_pre_trade(order).reservation


def _report(lock: Any, q: int | None, p: int, rem: Any, final: Any, side: Any = None,
            fee: Any = None) -> Any:  # fmt: skip
    trade = None if q is None else pm.Trade(price=pm.Price(p), quantity=pm.Quantity(q))
    return op.ExecutionReport(
        operation=op.ExecutionReportOperation(instrument=AAPL, side=side or pm.Side.BUY,
                                              account_id=ACC),
        fill=op.ExecutionReportFillDetails(
            last_trade=trade, fee=fee, lock=lock, is_final=final,
            remaining_reserved_quantity=None if rem is None else pm.Quantity(rem)))  # fmt: skip


def _entries(result: Any) -> dict[str, str]:
    return {a.entry.asset: repr(a.entry) for a in result.account_adjustments}


def test_should_reconcile_a_fill_at_the_lock_price_and_release_the_rest_when_final() -> None:
    eng = _engine()
    res = _buy(eng, 10, 100)
    lock = res.lock
    res.commit()
    r = _entries(eng.apply_execution_report(_report(lock, 6, 99, 4, False)))
    assert 'balance=Some("OutcomeAmount(delta=6, absolute=6)")' in r["AAPL"]
    assert "MISSING_ACCOUNT_CURRENCY" in r["AAPL"]
    assert 'balance=Some("OutcomeAmount(delta=6, absolute=9006)")' in r["USD"]
    assert 'held=Some("OutcomeAmount(delta=-600, absolute=400)")' in r["USD"]
    r = _entries(eng.apply_execution_report(_report(lock, None, 0, 4, True)))
    assert 'incoming=Some("OutcomeAmount(delta=-4, absolute=0)")' in r["AAPL"]
    assert 'held=Some("OutcomeAmount(delta=-400, absolute=0)")' in r["USD"]


def test_should_block_the_account_on_a_report_without_remaining_quantity_or_lock_price() -> None:
    eng = _engine()
    r = eng.apply_execution_report(_report(op.pretrade.Lock(), 1, 99, None, False))
    want = "failed to access required field 'remaining reserved quantity'"
    assert r.account_blocks[0].reason == want
    eng.accounts().unblock(ACC)
    r = eng.apply_execution_report(_report(op.pretrade.Lock(), 1, 99, 0, False))
    assert (r.account_blocks[0].reason, r.account_blocks[0].details) == (
        "pre-trade lock has no price for settlement fill", "group 0")


def test_should_weight_the_entry_price_and_realize_pnl_in_the_account_currency() -> None:
    eng = _engine()
    eng.accounts().set_currency(ACC, "USD")
    lock = op.pretrade.Lock()
    lock.push(0, pm.Price(100))
    fee = pm.MonetaryAmount(pm.Fee(2), "USD")
    eng.apply_execution_report(_report(lock, 10, 100, 0, False, fee=fee))
    lock = op.pretrade.Lock()
    lock.push(0, pm.Price(120))
    r = eng.apply_execution_report(_report(lock, 10, 120, 0, False))
    assert r.account_adjustments[0].entry.average_entry_price == pm.Price(110)
    lock = op.pretrade.Lock()
    lock.push(0, pm.Price(130))
    r = eng.apply_execution_report(_report(lock, 5, 130, 0, False, side=pm.Side.SELL,
                                           fee=pm.MonetaryAmount(pm.Fee(1), "USD")))
    pnl = r.account_pnls[0].pnl
    assert (str(pnl.delta), str(pnl.absolute)) == ("99", "97")


def test_should_retire_committed_slots_while_their_funds_stay_held() -> None:
    eng = _engine()
    for _ in range(3):
        _buy(eng, 1, 100).commit()
    assert int(eng._book.state[H_RES_LIVE]) == 0
    r = eng.apply_account_adjustment(ACC, [aa.Adjustment(
        operation=aa.BalanceOperation(asset="USD"),
        amount=aa.Amount(held=aa.AdjustmentAmount.delta(pm.PositionSize(0))))])  # fmt: skip
    assert 'held=Some("OutcomeAmount(delta=0, absolute=300)")' in repr(r.outcomes[0].entry)
