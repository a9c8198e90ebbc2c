"""Domain conversions between the decimal value types (openpit's formulas, scales and errors)."""

from __future__ import annotations

import pytest

from openpit_shm.param import (
    CashFlow,
    Fee,
    Leverage,
    Notional,
    ParamError,
    Pnl,
    PositionSide,
    PositionSize,
    Price,
    Quantity,
    Side,
    Volume,
)
from tests.param._support import exact

MAX = "79228162514264337593543950335"


def test_should_compute_volume_from_absolute_price_and_quantity() -> None:
    assert repr(Price("-1.50").calculate_volume(Quantity("2.0"))) == "Volume(Decimal('3.000'))"
    assert repr(Quantity("2.0").calculate_volume(Price("-1.50"))) == "Volume(Decimal('3.000'))"
    assert repr(Price(-2).calculate_volume(Quantity(0))) == "Volume(Decimal('0'))"


def test_should_compute_signed_position_size_from_price() -> None:
    assert (
        repr(Price("-1.50").calculate_position_size(Quantity("2.0")))
        == "PositionSize(Decimal('-3.000'))"
    )


def test_should_report_product_overflow_against_price() -> None:
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Price(MAX).calculate_volume(Quantity(2))
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Price(MAX).calculate_position_size(Quantity(2))
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Notional.from_price_quantity(Price(MAX), Quantity(2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Price(1).calculate_volume(1), "'int' object is not an instance of 'Quantity'"),
        (lambda: Price(1).calculate_volume(None), "'None' is not an instance of 'Quantity'"),
        (
            lambda: Quantity(1).calculate_volume(Quantity(1)),
            "'Quantity' object is not an instance of 'Price'",
        ),
        (lambda: Volume(1).calculate_quantity(1), "'int' object is not an instance of 'Price'"),
        (lambda: Pnl.from_fee(Pnl(1)), "'Pnl' object is not an instance of 'Fee'"),
        (
            lambda: CashFlow.from_volume_inflow(Quantity(3)),
            "'Quantity' object is not an instance of 'Volume'",
        ),
        (
            lambda: Notional.from_price_quantity(Quantity(4), Price(1)),
            "'Quantity' object is not an instance of 'Price'",
        ),
        (
            lambda: PositionSize.from_quantity_and_side(1, "BUY"),
            "'int' object is not an instance of 'Quantity'",
        ),
        (
            lambda: PositionSize.from_quantity_and_side(Quantity(1), None),
            "'None' is not an instance of 'str'",
        ),
    ],
)
def test_should_type_check_conversion_arguments(call: object, message: str) -> None:
    with pytest.raises(TypeError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message


def test_should_compute_quantity_from_volume_and_absolute_price() -> None:
    assert str(Volume(400).calculate_quantity(Price(3))) == "133.33333333333333333333333333"
    assert str(Volume(400).calculate_quantity(Price(-3))) == "133.33333333333333333333333333"
    assert str(Volume(1000).calculate_quantity(Price("7.5"))) == "133.33333333333333333333333333"
    assert Volume(400).calculate_quantity(Price("0.00")) is Quantity.ZERO
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Volume")):
        Volume(MAX).calculate_quantity(Price("0.0000000000000000000000000001"))


def test_should_convert_volume_to_cash_flows() -> None:
    assert repr(Volume("1.50").to_cash_flow_inflow()) == "CashFlow(Decimal('1.50'))"
    assert repr(Volume("1.50").to_cash_flow_outflow()) == "CashFlow(Decimal('-1.50'))"
    assert repr(Volume("0").to_cash_flow_outflow()) == "CashFlow(Decimal('-0'))"
    assert repr(CashFlow.from_volume_inflow(Volume(3))) == "CashFlow(Decimal('3'))"
    assert repr(CashFlow.from_volume_outflow(Volume(3))) == "CashFlow(Decimal('-3'))"


def test_should_treat_a_positive_fee_as_a_cost() -> None:
    assert repr(Fee("0.25").to_pnl()) == "Pnl(Decimal('-0.25'))"
    assert repr(Fee("-0.25").to_pnl()) == "Pnl(Decimal('0.25'))"
    assert repr(Fee("0.25").to_cash_flow()) == "CashFlow(Decimal('-0.25'))"
    assert repr(Fee("0.25").to_position_size()) == "PositionSize(Decimal('-0.25'))"
    assert repr(Pnl.from_fee(Fee("0.00"))) == "Pnl(Decimal('-0.00'))"
    assert repr(CashFlow.from_fee(Fee(2))) == "CashFlow(Decimal('-2'))"
    assert repr(PositionSize.from_fee(Fee(1))) == "PositionSize(Decimal('-1'))"


def test_should_carry_pnl_and_volumes_over_unchanged() -> None:
    assert repr(Pnl("-1.5").to_cash_flow()) == "CashFlow(Decimal('-1.5'))"
    assert repr(Pnl("-1.5").to_position_size()) == "PositionSize(Decimal('-1.5'))"
    assert repr(CashFlow.from_pnl(Pnl(-2))) == "CashFlow(Decimal('-2'))"
    assert repr(PositionSize.from_pnl(Pnl(-1))) == "PositionSize(Decimal('-1'))"
    assert repr(Volume("1.5").to_position_size()) == "PositionSize(Decimal('1.5'))"
    assert repr(Quantity("1.5").to_position_size()) == "PositionSize(Decimal('1.5'))"
    assert repr(Notional.from_volume(Volume("1.5"))) == "Notional(Decimal('1.5'))"
    assert repr(Notional("1.5").to_volume()) == "Volume(Decimal('1.5'))"


def test_should_compute_notional_from_absolute_price() -> None:
    assert (
        repr(Notional.from_price_quantity(Price("-2.5"), Quantity("4")))
        == "Notional(Decimal('10.0'))"
    )


@pytest.mark.parametrize(
    ("notional", "leverage", "expected"),
    [
        ("100", 3, "33.333333333333333333333333333"),
        ("100", Leverage(3), "33.333333333333333333333333333"),
        ("100", 2.5, "40"),
        ("100", 10.1, "9.900990099009900990099009901"),
        ("1", 2.5, "0.40"),
        ("123.456", 2.5, "49.38240"),
        ("0.00", 3, "0"),
        ("7922816251426433759354395033.5", 1, "7922816251426433759354395033.5"),
    ],
)
def test_should_compute_margin_as_notional_times_ten_over_stored_leverage(
    notional: str, leverage: object, expected: str
) -> None:
    assert str(Notional(notional).calculate_margin_required(leverage)) == expected


def test_should_report_margin_overflow_and_bad_leverage() -> None:
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Notional")):
        Notional(MAX).calculate_margin_required(1)
    with pytest.raises(ValueError, match=exact("invalid leverage value")):
        Notional(100).calculate_margin_required(0)
    with pytest.raises(ValueError, match=exact("invalid leverage value")):
        Notional(100).calculate_margin_required(2.55)
    with pytest.raises(
        ValueError, match=exact("leverage must be openpit.param.Leverage, int, or float")
    ):
        Notional(100).calculate_margin_required("3")


@pytest.mark.parametrize(
    ("value", "side", "expected"),
    [
        ("1.5", "SELL", "-1.5"),
        ("1.5", Side.BUY, "1.5"),
        ("1.5", "buy", "1.5"),
        ("1", "Sell", "-1"),
        ("0.0", "SELL", "-0.0"),
    ],
)
def test_should_build_position_size_from_quantity_and_side(
    value: str, side: str, expected: str
) -> None:
    assert str(PositionSize.from_quantity_and_side(Quantity(value), side)) == expected


def test_should_reject_unknown_sides_with_the_lowercased_text() -> None:
    with pytest.raises(ValueError) as info:
        PositionSize.from_quantity_and_side(Quantity(1), PositionSide.LONG)
    assert str(info.value) == "invalid side \"long\"; expected 'buy' or 'sell'"
    with pytest.raises(ValueError, match=r'^invalid side "x"'):
        PositionSize(1).checked_add_quantity(Quantity(1), "X")


def test_should_split_position_size_into_open_and_close_quantities() -> None:
    assert PositionSize("-1.50").to_open_quantity() == (Quantity("1.50"), "SELL")
    assert str(PositionSize("-1.50").to_open_quantity()[0]) == "1.50"
    assert PositionSize("2").to_open_quantity() == (Quantity(2), "BUY")
    assert PositionSize("0.00").to_open_quantity() == (Quantity.ZERO, "BUY")
    assert str(PositionSize("0.00").to_open_quantity()[0]) == "0"
    assert PositionSize("-1.5").to_close_quantity() == (Quantity("1.5"), "BUY")
    assert PositionSize("2").to_close_quantity() == (Quantity(2), "SELL")
    assert PositionSize("0").to_close_quantity() == (Quantity.ZERO, None)
    assert type(PositionSize("2").to_open_quantity()[1]) is str


def test_should_add_a_signed_quantity_to_a_position() -> None:
    assert str(PositionSize("-1.5").checked_add_quantity(Quantity(2), "BUY")) == "0.5"
    assert str(PositionSize("-1.5").checked_add_quantity(Quantity(2), "SELL")) == "-3.5"
    assert str(PositionSize("1.5").checked_add_quantity(Quantity("0.00"), "SELL")) == "1.5"
    assert str(PositionSize("0.00").checked_add_quantity(Quantity("1.5"), "SELL")) == "-1.5"
    assert str(PositionSize(1).checked_add_quantity(qty=Quantity(1), side="BUY")) == "2"
    with pytest.raises(ParamError, match=exact("arithmetic overflow in PositionSize")):
        PositionSize(MAX).checked_add_quantity(Quantity(1), "BUY")


def test_should_only_offer_openpits_conversion_methods() -> None:
    assert not hasattr(Price, "to_position_size")
    assert not hasattr(CashFlow, "to_position_size")
    assert not hasattr(PositionSize, "to_position_size")
    assert hasattr(Fee, "to_position_size") and hasattr(Quantity, "to_position_size")
