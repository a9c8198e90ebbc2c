"""Number formatting for reject texts: Rust ``Duration`` Debug and rust_decimal Display."""

from __future__ import annotations

import datetime
import decimal

import openpit
import pytest

from openpit_shm.builtins.numbers import fixed_to_decimal, fmt_decimal, fmt_duration

D = decimal.Decimal
td = datetime.timedelta


@pytest.mark.parametrize(
    "window",
    [
        td(seconds=1), td(milliseconds=300), td(hours=1), td(seconds=90), td(milliseconds=1001),
        td(microseconds=1), td(microseconds=1500), td(seconds=1.5), td(days=2),
        td(microseconds=999_999), td(seconds=12, microseconds=345_678), td(microseconds=100),
        td(days=400), td(days=200_000),
    ],
)
def test_should_print_windows_like_openpits_rejects(window: td) -> None:
    P = openpit.pretrade.policies
    e = openpit.Engine.builder().no_sync().builtin(
        P.build_rate_limit().broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(0, window)))
    ).build()
    o = openpit.Order(operation=openpit.OrderOperation(
        instrument=openpit.Instrument("A", "B"), side=openpit.param.Side.BUY,
        trade_amount=openpit.param.TradeAmount.quantity(1),
        account_id=openpit.param.AccountId.from_int(1)))
    details = e.start_pre_trade(o).rejects[0].details
    ns = (window // td(microseconds=1)) * 1000
    assert details == f"submitted 1 orders in {fmt_duration(ns)} window, max allowed: 0"


def test_should_print_sub_microsecond_durations_in_nanoseconds() -> None:
    assert fmt_duration(999) == "999ns"
    assert fmt_duration(86_399_999_913_600 * 10**9) == "86399999913600s"


@pytest.mark.parametrize(
    ("value", "text"),
    [("5000.0", "5000.0"), ("-0.00", "0.00"), ("1E+3", "1000"), ("-105.50", "-105.50"),
     ("0.00000001", "0.00000001"), ("-0", "0")],
)
def test_should_print_decimals_with_their_own_scale(value: str, text: str) -> None:
    assert fmt_decimal(D(value)) == text


def test_should_rebuild_decimals_from_fixed_point_at_a_display_scale() -> None:
    assert str(fixed_to_decimal(-10_550_000_000, 8, 2)) == "-105.50"
    assert str(fixed_to_decimal(-10_550_000_000, 8)) == "-105.5"
    assert fmt_decimal(fixed_to_decimal(100_000_000_000, 8)) == "1000"
    # a display scale too small to be exact widens instead of rounding
    assert str(fixed_to_decimal(123_456_789, 8, 2)) == "1.23456789"
