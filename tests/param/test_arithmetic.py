"""Arithmetic of the decimal value types: rust_decimal results, scales, and openpit's errors."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from openpit_shm.param import CashFlow, Fee, ParamError, Pnl, Price, Quantity, Volume
from tests.param._support import exact


def test_should_add_with_the_larger_scale() -> None:
    assert str(Price("1.10") + Price("2.205")) == "3.305"
    assert str(Price(10000) - Price("101.00") + Price("101.00")) == "10000.00"


def test_should_return_the_other_operand_unchanged_when_one_side_is_zero() -> None:
    assert repr(Price("1.5") + Price("0.000")) == "Price(Decimal('1.5'))"
    assert repr(Price("0.000") + Price("1.5")) == "Price(Decimal('1.5'))"
    assert repr(Price("0.000") - Price("1.5")) == "Price(Decimal('-1.5'))"
    assert repr(Price("0.00") - Price("0.0")) == "Price(Decimal('0.0'))"


def test_should_give_a_positive_zero_when_non_zero_operands_cancel() -> None:
    assert repr(Price("-1.5") - Price("-1.5")) == "Price(Decimal('0.0'))"


def test_should_round_half_even_when_a_sum_needs_more_than_96_bits() -> None:
    big = Price("7922816251426433759354395033.5")
    assert str(big + Price("0.5")) == "7922816251426433759354395034"
    assert str(big + Price("0.7")) == "7922816251426433759354395034"


def test_should_report_overflow_and_underflow() -> None:
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Price("79228162514264337593543950335") + Price(1)
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Price("-79228162514264337593543950335") - Price(1)
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Quantity")):
        Quantity("79228162514264337593543950335") + Quantity(1)
    with pytest.raises(ParamError, match=exact("arithmetic underflow in Quantity")):
        Quantity(1) - Quantity(2)


def test_should_negate_signed_values_as_zero_minus_value() -> None:
    assert repr(-Price("1.50")) == "Price(Decimal('-1.50'))"
    assert repr(-Price("0.00")) == "Price(Decimal('0.00'))"
    negative_zero = Price.from_float(-0.0)
    assert str(-negative_zero) == "-0"


def test_should_not_negate_unsigned_values() -> None:
    with pytest.raises(TypeError, match="bad operand type for unary -"):
        -Quantity(1)
    assert not hasattr(Volume, "__neg__")


def test_should_carry_a_negative_zero_through_zero_operand_additions() -> None:
    nz = Price.from_float(-0.0)
    assert str(Price(0) + nz) == "-0"
    assert str(Price(0) - nz) == "-0"
    assert str(nz + Price(0)) == "0"
    assert str(nz * 2) == "0"
    assert nz == Price(0) and hash(nz) == hash(Price(0))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Price("1.5"), 2, "3.0"),
        (Price("1.5"), 2.0, "3.0"),
        (Price(1), 0.1 + 0.2, "0.3"),
        (Price(3), 0.1, "0.3"),
        (Price("1.50"), 0, "0"),
        (Price("1.50"), 0.0, "0"),
        (Price("-1"), 0, "0"),
        (Price(1), 2**64 - 1, "18446744073709551615"),
        (Price(1), -(2**63), "-9223372036854775808"),
        (Price("1.5"), 1e16, "15000000000000000.0"),
        (Price(1), 7.9e28, "78999999999999996926548246528"),
        (Price(5), np.int64(2), "10"),
        (Price(5), np.float32(0.5), "2.5"),
        (Price("-0.0000000000000000000000000001"), 0.1, "0.0000000000000000000000000000"),
        (
            Price("-0.0000000000000000000000000001"),
            4294967296e-28,
            "-0.0000000000000000000000000000",
        ),
        (Price("0.0000000000000000000000000001"), 1e-20, "0"),
    ],
)
def test_should_multiply_by_int_and_float_scalars(a: Price, b: object, expected: str) -> None:
    assert str(a * b) == expected
    assert str(b * a) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Quantity(1), 3, "0.3333333333333333333333333333"),
        (Quantity(2), 3, "0.6666666666666666666666666667"),
        (Price(10), 4, "2.50"),
        (Price(1), 2, "0.50"),
        (Price("1.50"), 2, "0.75"),
        (Price("1.0"), 4, "0.250"),
        (Price("6.0"), 4, "1.5"),
        (Price(12), 4, "3"),
        (Price(1), 1024, "0.00097656250"),
        (Price(22), 7, "3.1428571428571428571428571429"),
        (Price(10), 2.5, "4.0"),
        (Price(1), 0.3, "3.3333333333333333333333333333"),
        (Price(-3), 4, "-0.75"),
        (Price("-0.0000000000000000000000000001"), 3, "0"),
        (Price(7404509), 74228.35393651109, "99.75310790716462731488272402"),
    ],
)
def test_should_divide_like_rust_decimal(a: object, b: object, expected: str) -> None:
    assert str(a / b) == expected  # type: ignore[operator]


def test_should_report_division_by_zero_for_zero_and_vanishing_divisors() -> None:
    for divisor in (0, 0.0, -0.0, 1e-30):
        with pytest.raises(ParamError, match=exact("division by zero in Price")):
            Price(1) / divisor
        with pytest.raises(ParamError, match=exact("division by zero in Price")):
            Price(1) % divisor


def test_should_report_overflowing_quotients() -> None:
    with pytest.raises(ParamError, match=exact("arithmetic overflow in Price")):
        Price("79228162514264337593543950335") / 0.5


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (Price(-10), 4, "-2"),
        (Price(10), -4, "2"),
        (Price("10.5"), 4, "2.5"),
        (Price(10), 0.3, "0.1"),
        (Price(-1), 1, "0"),
        (Price("-1.5"), 0.5, "0.0"),
        (Price("1.5"), -1, "0.5"),
        (Price("0.50"), 2, "0.50"),
        (Quantity(1), 1, "0"),
    ],
)
def test_should_take_the_remainder_with_the_sign_of_the_dividend(
    a: object, b: object, expected: str
) -> None:
    assert str(a % b) == expected  # type: ignore[operator]


def test_should_reject_negative_scalars_for_unsigned_types_even_on_zero() -> None:
    for op in (
        lambda: Quantity(1) * -1,
        lambda: Quantity(0) * -1,
        lambda: Quantity(1) / -1,
        lambda: Quantity(10) % -3,
    ):
        with pytest.raises(ParamError, match=exact("value must be non-negative for Quantity")):
            op()
    assert str(Quantity(1) * -0.0) == "0"


def test_should_check_scalar_ranges_and_floats() -> None:
    with pytest.raises(ParamError, match=exact("integer operand is out of range for i64/u64")):
        Price(1) * 2**64
    with pytest.raises(ParamError, match=exact("integer operand is out of range for i64/u64")):
        Price(1) * (-(2**63) - 1)
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ParamError, match=exact("invalid float value")):
            Price(1) * bad


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            lambda: Price(1) + 1,
            "unsupported operand type(s) for +: 'openpit.param.Price' and 'int'",
        ),
        (
            lambda: 1 - Price(1),
            "unsupported operand type(s) for -: 'int' and 'openpit.param.Price'",
        ),
        (
            lambda: Price(1) + Quantity(1),
            "unsupported operand type(s) for +: 'openpit.param.Price' and 'openpit.param.Quantity'",
        ),
        (
            lambda: Price(1) * Price(2),
            "unsupported operand type(s) for *: 'openpit.param.Price' and 'openpit.param.Price'",
        ),
        (
            lambda: Price(1) * Decimal(2),
            "unsupported operand type(s) for *: 'openpit.param.Price' and 'decimal.Decimal'",
        ),
        (
            lambda: Price(3) * True,
            "unsupported operand type(s) for *: 'openpit.param.Price' and 'bool'",
        ),
        (
            lambda: Price(1) * None,
            "unsupported operand type(s) for *: 'openpit.param.Price' and 'NoneType'",
        ),
        (
            lambda: Price(1) * "2",
            "can't multiply sequence by non-int of type 'openpit.param.Price'",
        ),
        (
            lambda: "2" * Price(1),
            "can't multiply sequence by non-int of type 'openpit.param.Price'",
        ),
        (
            lambda: Price(1) / Price(2),
            "unsupported operand type(s) for /: 'openpit.param.Price' and 'openpit.param.Price'",
        ),
        (
            lambda: 2 / Price(1),
            "unsupported operand type(s) for /: 'int' and 'openpit.param.Price'",
        ),
        (
            lambda: 2 % Price(1),
            "unsupported operand type(s) for %: 'int' and 'openpit.param.Price'",
        ),
        (
            lambda: Pnl(1) + Fee(1),
            "unsupported operand type(s) for +: 'openpit.param.Pnl' and 'openpit.param.Fee'",
        ),
    ],
)
def test_should_reject_mixed_operands_with_openpits_type_errors(expr: object, message: str) -> None:
    with pytest.raises(TypeError) as info:
        expr()  # type: ignore[operator]
    assert str(info.value) == message


def test_should_leave_unknown_operands_to_their_reflected_operators() -> None:
    class Money:
        def __radd__(self, other: object) -> str:
            return "money radd"

        def __rmul__(self, other: object) -> str:
            return "money rmul"

    assert Price(1) + Money() == "money radd"
    assert Price(1) * Money() == "money rmul"


def test_should_keep_results_typed_like_the_left_operand() -> None:
    assert type(CashFlow(1) + CashFlow(2)) is CashFlow
    assert type(Volume(1) * 2) is Volume
    assert type(Fee(1) / 2) is Fee
