"""Boundary behaviour of the numeric builtins with an injected clock: at the limit passes,
one unit (1e-8 / 1 ns / 1 attempt) beyond rejects; windows restart and expire exactly.
"""

from __future__ import annotations

import datetime
from collections import deque
from typing import Any

import openpit
import pytest

import openpit_shm
from openpit_shm import param as p

P = openpit_shm.pretrade.policies
US = datetime.timedelta(microseconds=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def _engine(*builders: Any, clock: Clock | None = None) -> Any:
    b = openpit_shm.Engine.builder()
    if clock is not None:
        b = b.with_clock(clock)
    b = b.no_sync()
    for x in builders:
        b = b.builtin(x)
    return b.build()


def _order(qty: str | None = "1", price: str | None = "10", acct: int = 1, vol: str | None = None,
           inst: tuple[str, str] = ("AAPL", "USD"), pkg: Any = openpit_shm) -> Any:
    q = pkg.param
    ta = q.TradeAmount.volume(q.Volume(vol)) if vol is not None else q.TradeAmount.quantity(
        q.Quantity(qty))
    return pkg.Order(operation=pkg.OrderOperation(
        instrument=pkg.Instrument(*inst), side=q.Side.BUY, trade_amount=ta,
        account_id=q.AccountId.from_int(acct), price=None if price is None else q.Price(price)))


def _texts(r: Any) -> list[tuple[str, str, str]]:
    return [(x.code, x.reason, x.details) for x in r.rejects]


# ---- rate limit --------------------------------------------------------------------------------


def test_should_restart_a_fixed_window_exactly_when_it_has_elapsed() -> None:
    clock = Clock()
    e = _engine(P.build_rate_limit().broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(2, US))),
                clock=clock)
    t0 = clock.now
    assert [e.start_pre_trade(_order()).ok for _ in range(2)] == [True, True]
    clock.now = t0 + 999  # 1 ns before the window ends: still the same window
    r = e.start_pre_trade(_order())
    assert _texts(r) == [("RateLimitExceeded", "rate limit exceeded: broker barrier",
                          "submitted 3 orders in 1µs window, max allowed: 2")]
    clock.now = t0 + 1000  # now - start == window: a new window, count 1
    assert e.start_pre_trade(_order()).ok


def test_should_slide_account_windows_exactly_like_a_deque() -> None:
    clock = Clock()
    acc = p.AccountId.from_int(1)
    e = _engine(P.build_rate_limit().account_barriers(
        P.RateLimitAccountBarrier(P.RateLimit(3, US * 2), acc)), clock=clock)
    ref: deque[int] = deque()
    for step in [0, 100, 700, 1999, 2000, 2000, 2100, 2700, 4000, 4001, 6500]:
        clock.now = 1_000_000 + step
        while ref and clock.now - ref[0] >= 2000:
            ref.popleft()
        ref.append(clock.now)
        r = e.start_pre_trade(_order())
        assert r.ok == (len(ref) <= 3), step
        if not r.ok:
            assert f"submitted {len(ref)} orders in 2µs window" in r.rejects[0].details


def test_should_count_rejected_attempts_and_never_give_slots_back() -> None:
    e = _engine(P.build_rate_limit().broker_barrier(
        P.RateLimitBrokerBarrier(P.RateLimit(2, datetime.timedelta(hours=1)))))
    r = e.execute_pre_trade(_order())
    r.reservation.rollback()  # a rollback does not return the slot
    assert e.execute_pre_trade(_order()).ok
    texts = [_texts(e.start_pre_trade(_order()))[0][2] for _ in range(3)]
    assert texts == [f"submitted {n} orders in 3600s window, max allowed: 2" for n in (3, 4, 5)]


def test_should_peek_in_dry_runs_without_spending_budget() -> None:
    e = _engine(P.build_rate_limit().broker_barrier(
        P.RateLimitBrokerBarrier(P.RateLimit(1, datetime.timedelta(hours=1)))))
    assert all(e.start_pre_trade_dry_run(_order()).is_pass for _ in range(3))
    assert e.start_pre_trade(_order()).ok
    d = e.execute_pre_trade_dry_run(_order())
    assert not d.is_pass and "submitted 2 orders" in d.rejects[0].details
    assert "submitted 2 orders" in e.start_pre_trade(_order()).rejects[0].details


def test_should_reject_everything_at_zero_and_nothing_at_u64_max() -> None:
    hour = datetime.timedelta(hours=1)
    rl = P.build_rate_limit()
    zero = _engine(rl.broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(0, hour))))
    assert _texts(zero.start_pre_trade(_order()))[0][2] == (
        "submitted 1 orders in 3600s window, max allowed: 0")
    top = _engine(P.build_rate_limit().broker_barrier(
        P.RateLimitBrokerBarrier(P.RateLimit(2**64 - 1, datetime.timedelta(days=200_000)))))
    assert all(top.start_pre_trade(_order()).ok for _ in range(100))


def test_should_admit_everything_without_reading_fields_when_empty() -> None:
    e = _engine(P.build_rate_limit().account_barriers())
    assert e.start_pre_trade(openpit_shm.Order()).ok


# ---- order size --------------------------------------------------------------------------------


def _size(**caps: Any) -> Any:
    barrier = P.OrderSizeBrokerBarrier(P.OrderSizeLimit(**caps))
    return P.build_order_size_limit().broker_barrier(barrier)


@pytest.mark.parametrize(
    ("caps", "order", "expect"),
    [
        ({"max_quantity": "100"}, {"qty": "100"}, None),
        ({"max_quantity": "100"}, {"qty": "100.00000001"},
         ("OrderQtyExceedsLimit", "requested 100.00000001, max allowed: 100")),
        ({"max_notional": "5000"}, {"qty": "100", "price": "50"}, None),
        ({"max_notional": "5000"}, {"qty": "100.00000001", "price": "50"},
         ("OrderNotionalExceedsLimit", "requested 5000.00000050, max allowed: 5000")),
        # volume / |price| is compared exactly: 300.00000001 / 3 is above 100 even though it
        # truncates to 100.00000000 at scale 8
        ({"max_quantity": "100"}, {"vol": "300", "price": "3"}, None),
        ({"max_quantity": "100"}, {"vol": "300.00000001", "price": "3"},
         ("OrderQtyExceedsLimit", "requested 100.00000000333333333333333333, max allowed: 100")),
        ({"max_quantity": "100"}, {"vol": "300", "price": "-3"}, None),
        ({"max_quantity": "0"}, {"vol": "5", "price": "0"}, None),  # price 0: quantity 0
        ({"max_quantity": "0"}, {"qty": "0.00000001"},
         ("OrderQtyExceedsLimit", "requested 0.00000001, max allowed: 0")),
        ({"max_notional": "1"}, {"qty": "1", "price": None},
         ("OrderValueCalculationFailed",
          "price not provided for evaluating cash flow/notional/volume")),
    ],
)
def test_should_cap_order_size_strictly_and_exactly(caps: dict, order: dict, expect: Any) -> None:
    got = []
    for pkg in (openpit, openpit_shm):
        b = pkg.pretrade.policies
        e = pkg.Engine.builder().no_sync().builtin(b.build_order_size_limit().broker_barrier(
            b.OrderSizeBrokerBarrier(b.OrderSizeLimit(**caps)))).build()
        r = e.start_pre_trade(_order(**order, pkg=pkg))
        got.append([(x.code, x.details) for x in r.rejects])
    assert got[1] == got[0] == ([] if expect is None else [expect])


def test_should_fail_closed_when_a_price_magnitude_does_not_fit_int64() -> None:
    e = _engine(_size(max_notional="1"))
    r = e.start_pre_trade(_order(qty="1", price="-92233720368.54775808"))
    assert _texts(r) == [("OrderValueCalculationFailed", "order value calculation failed",
                          "price or quantity could not be used to evaluate order notional")]


def test_should_refuse_orders_not_representable_in_fixed_point() -> None:
    e = _engine(_size(max_quantity="1"))
    with pytest.raises(ValueError, match="not representable"):
        e.start_pre_trade(_order(qty="0.000000001"))


# ---- P&L kill switch -----------------------------------------------------------------------------


def _report(e: Any, pnl: str, fee: str = "0") -> list[tuple[str, str, str]]:
    rep = openpit_shm.ExecutionReport(
        operation=openpit_shm.ExecutionReportOperation(
            instrument=openpit_shm.Instrument("AAPL", "USD"), side=p.Side.BUY,
            account_id=p.AccountId.from_int(1)),
        financial_impact=openpit_shm.FinancialImpact(pnl=p.Pnl(pnl), fee=p.Fee(fee)))
    return [(b.code, b.reason, b.details) for b in e.apply_execution_report(rep).account_blocks]


def test_should_treat_pnl_bounds_as_strict() -> None:
    e = _engine(P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", p.Pnl(-100), p.Pnl(100))))
    assert _report(e, "-100") == []  # equal to the bound is fine
    assert e.start_pre_trade(_order()).ok
    assert _report(e, "-0.00000001") == [("PnlKillSwitchTriggered", "pnl kill switch triggered",
                                          "realized pnl -100.00000001, settlement asset USD")]


def test_should_block_on_accumulator_overflow_and_keep_the_old_value() -> None:
    e = _engine(P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", p.Pnl(-10**10))))
    big = "90000000000"
    assert _report(e, big) == []
    blocks = _report(e, big)
    assert blocks[0][:2] == ("OrderValueCalculationFailed", "pnl accumulation overflow")
    assert blocks[0][2] == ("realized pnl + pnl_with_fee overflow: previous 90000000000, "
                            f"increment {big}, settlement asset USD")
    e.accounts().unblock(p.AccountId.from_int(1))
    assert e.start_pre_trade(_order()).ok  # the accumulator kept 9e10: inside the bounds
    assert _report(e, "-90000000000", "92233720368")[0][2] == (
        "pnl + fee overflow: pnl -90000000000, fee 92233720368, settlement asset USD")
