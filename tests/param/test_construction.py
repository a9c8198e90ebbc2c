"""Constructors of the decimal value types: inputs accepted, conversions, errors."""

from __future__ import annotations

import enum
import fractions
from decimal import Decimal

import numpy as np
import pytest

import openpit_shm.param as param
from openpit_shm.param import (
    CashFlow,
    Fee,
    Notional,
    ParamError,
    Pnl,
    PositionSize,
    Price,
    Quantity,
    RoundingStrategy,
    Volume,
)
from tests.param._support import VALUE_TYPES, exact

ALL = [getattr(param, name) for name in VALUE_TYPES]


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("value", [True, False, None, [1], b"1", 1 + 0j, np.bool_(True), object()])
def test_should_reject_non_numbers_with_a_plain_value_error(cls: type, value: object) -> None:
    with pytest.raises(ValueError) as info:
        cls(value)
    assert type(info.value) is ValueError
    assert str(info.value) == f"{cls.__name__} must be a Decimal, str, int, or float"


@pytest.mark.parametrize("cls", ALL)
def test_should_reject_another_value_type_with_a_type_error(cls: type) -> None:
    other = Price(1) if cls is not Price else Quantity(1)
    with pytest.raises(TypeError, match=f"^{cls.__name__} must be a Decimal, str, int, or float$"):
        cls(other)


def test_should_copy_a_value_of_the_same_type() -> None:
    assert repr(Quantity(Quantity("1.50"))) == "Quantity(Decimal('1.50'))"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.50"), "1.50"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("1E-28"), "0.0000000000000000000000000001"),
        (Decimal("0E+100"), "0"),
        (Decimal("79228162514264337593543950335"), "79228162514264337593543950335"),
    ],
)
def test_should_take_decimals_exactly(value: Decimal, expected: str) -> None:
    assert str(Pnl(value)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("NaN", "Pnl decimal NaN is not finite"),
        ("sNaN", "Pnl decimal sNaN is not finite"),
        ("-Infinity", "Pnl decimal -Infinity is not finite"),
        (
            "1.0E-28",
            "Pnl decimal 1.0E-28 exceeds the core decimal range: "
            "Scale exceeds the maximum precision allowed: 29 > 28",
        ),
        (
            "0E-100",
            "Pnl decimal 0E-100 exceeds the core decimal range: "
            "Scale exceeds the maximum precision allowed: 100 > 28",
        ),
        (
            "79228162514264337593543950336",
            "Pnl decimal 79228162514264337593543950336 exceeds the core decimal range: "
            "Number exceeds maximum value that can be represented.",
        ),
        (
            "-1E+29",
            "Pnl decimal -1E+29 exceeds the core decimal range: "
            "Number less than minimum value that can be represented.",
        ),
        ("1E+39", "Pnl decimal 1E+39 exceeds the core decimal range"),
        (
            "111111111111111.111111111111111111111111111111",
            "Pnl decimal 111111111111111.111111111111111111111111111111"
            " exceeds the core decimal range",
        ),
    ],
)
def test_should_report_decimals_outside_the_core_range(value: str, message: str) -> None:
    with pytest.raises(ParamError) as info:
        Pnl(Decimal(value))
    assert str(info.value) == message


class _Three(enum.IntEnum):
    THREE = 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (-5, "-5"),
        (2**96 - 1, "79228162514264337593543950335"),
        (np.int64(-7), "-7"),
        (np.uint64(2**64 - 1), "18446744073709551615"),
        (_Three.THREE, "3"),
    ],
)
def test_should_take_integers(value: object, expected: str) -> None:
    assert str(Price(value)) == expected


def test_should_report_integers_beyond_96_bits_as_invalid_format() -> None:
    with pytest.raises(
        ParamError, match=exact("invalid format for Price: '79228162514264337593543950336'")
    ):
        Price(2**96)
    with pytest.raises(
        ParamError,
        match=exact("invalid format for Price: '-170141183460469231731687303715884105728'"),
    ):
        Price(-(2**127))


def test_should_report_integers_beyond_i128_as_outside_the_core_range() -> None:
    with pytest.raises(ParamError, match=exact("Price integer is outside the core decimal range")):
        Price(2**127)
    with pytest.raises(
        ParamError, match=exact("Quantity integer is outside the core decimal range")
    ):
        Quantity(-(10**40))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5.0, "5"),
        (-0.0, "0"),
        (1e22, "10000000000000000000000"),
        (1e-7, "0.0000001"),
        (1e-28, "0.0000000000000000000000000001"),
        (123456789.123456789, "123456789.12345679"),
        (101.25, "101.25"),
        # an exact tie between two shortest digit strings: Rust rounds up, Python to even
        (1e15 + 0.25, "1000000000000000.3"),
        (0.0007219314575195312, "0.0007219314575195313"),
        (np.float32(0.1), "0.10000000149011612"),
        (fractions.Fraction(1, 2), "0.5"),
    ],
)
def test_should_take_floats_through_their_shortest_rust_display(
    value: object, expected: str
) -> None:
    assert str(Price(value)) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (1e-30, "0.000000000000000000000000000001"),
        (8e28, "80000000000000000000000000000"),
    ],
)
def test_should_reject_floats_that_do_not_parse_with_their_display_text(
    value: float, shown: str
) -> None:
    with pytest.raises(ParamError) as info:
        Price(value)
    assert str(info.value) == f"invalid format for Price: '{shown}'"


def test_should_reject_negative_floats_for_unsigned_types() -> None:
    with pytest.raises(ParamError, match=exact("value must be non-negative for Volume")):
        Volume(-1.5)


def test_should_prefer_index_over_float_for_objects_with_both() -> None:
    class Both:
        def __index__(self) -> int:
            return 7

        def __float__(self) -> float:
            return 2.5

    assert str(Price(Both())) == "7"
    assert str(Price(np.array(1.5))) == "1.5"


# ----------------------------------------------------------------------------- from_*


def test_should_require_a_decimal_in_from_decimal() -> None:
    with pytest.raises(TypeError, match=exact("Fee.from_decimal expects decimal.Decimal")):
        Fee.from_decimal("1.5")
    assert str(Fee.from_decimal(Decimal("1.50"))) == "1.50"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (3, "'int' object is not an instance of 'str'"),
        (None, "'None' is not an instance of 'str'"),
        (Decimal(1), "'Decimal' object is not an instance of 'str'"),
        (np.int64(4), "'int64' object is not an instance of 'str'"),
    ],
)
def test_should_require_a_str_in_from_string(value: object, message: str) -> None:
    with pytest.raises(TypeError) as info:
        Quantity.from_string(value)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_should_apply_the_exact_grammar_in_from_string() -> None:
    assert str(Quantity.from_string("1_0.50")) == "10.50"
    with pytest.raises(ParamError, match=exact("value must be non-negative for Quantity")):
        Quantity.from_string("-1")


def test_should_take_any_index_in_from_int() -> None:
    assert str(Quantity.from_int(True)) == "1"
    assert str(Quantity.from_int(np.int64(4))) == "4"
    with pytest.raises(
        TypeError, match=exact("'float' object cannot be interpreted as an integer")
    ):
        Quantity.from_int(2.5)
    with pytest.raises(
        TypeError, match=exact("'decimal.Decimal' object cannot be interpreted as an integer")
    ):
        Quantity.from_int(Decimal(1))
    with pytest.raises(
        ParamError, match=exact("invalid format for Quantity: '1267650600228229401496703205376'")
    ):
        Quantity.from_int(2**100)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1 + 0.2, "0.3"),
        (2 / 3, "0.666666666666667"),
        (1 / 3, "0.3333333333333333"),
        (1e-30, "0"),
        (-1e-30, "-0"),
        (-0.0, "-0"),
        (7.9e28, "78999999999999996926548246528"),
        (1e23, "99999999999999991611392"),
        (123456789.123456789, "123456789.1234568"),
        (np.float32(0.1), "0.1000000014901161"),
        (Decimal("1.5"), "1.5"),
        (3, "3"),
    ],
)
def test_should_convert_with_rust_decimal_from_f64_in_from_float(
    value: object, expected: str
) -> None:
    assert str(Price.from_float(value)) == expected  # type: ignore[arg-type]


def test_should_report_unconvertible_floats_in_from_float() -> None:
    for bad in (float("nan"), float("inf"), 8e28, 2**100):
        with pytest.raises(ParamError, match=exact("invalid float value")):
            Price.from_float(bad)
    with pytest.raises(TypeError, match=exact("must be real number, not str")):
        Price.from_float("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=exact("must be real number, not NoneType")):
        Price.from_float(None)  # type: ignore[arg-type]


def test_should_accept_a_negative_zero_float_as_an_unsigned_value() -> None:
    q = Quantity.from_float(-0.0)
    assert str(q) == "-0"
    assert q == Quantity.ZERO


# ----------------------------------------------------------------------------- rounded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.225", ["1.22", "1.23", "1.23", "1.22"]),
        ("-1.225", ["-1.22", "-1.23", "-1.22", "-1.23"]),
        ("-1.221", ["-1.22", "-1.22", "-1.22", "-1.23"]),
        ("1.5", ["1.5", "1.5", "1.5", "1.5"]),
        ("9.999", ["10.00", "10.00", "10.00", "9.99"]),
        ("-0.001", ["0.00", "0.00", "0.00", "-0.01"]),
    ],
)
def test_should_round_strings_with_the_four_strategies(text: str, expected: list[str]) -> None:
    got = [str(Pnl.from_string_rounded(text, 2, s)) for s in RoundingStrategy]
    assert got == expected


def test_should_validate_after_rounding() -> None:
    assert str(Quantity.from_string_rounded("-0.001", 2, "Up")) == "0.00"
    with pytest.raises(ParamError, match=exact("value must be non-negative for Quantity")):
        Quantity.from_string_rounded("-0.001", 2, "Down")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1e3", "1000"),
        ("1.5e2", "150"),
        ("1.50e1", "15.0"),
        ("1e-+3", "0.001"),
        ("2.5e-28", "0.0000000000000000000000000003"),
        ("-0.4e-28", "-0.0000000000000000000000000000"),
        ("0.00000000000000000000000000005", "0.0000000000000000000000000001"),
        ("0.00000000000000000000000000001xyz", "0.0000000000000000000000000000"),
        ("12345678901234567890123456789.5", "12345678901234567890123456790"),
        ("7922816251426433759354395033.56", "7922816251426433759354395034"),
        ("9.9999999999999999999999999999", "10.000000000000000000000000000"),
    ],
)
def test_should_parse_rounded_strings_with_rust_decimal_from_str(text: str, expected: str) -> None:
    assert str(Price.from_string_rounded(text, 28, "Down")) == expected


@pytest.mark.parametrize(
    "text", ["1e30", "5e-29", "0.00001e29", "79228162514264337593543950335.5", " 5", "abc"]
)
def test_should_reject_rounded_strings_rust_decimal_rejects(text: str) -> None:
    with pytest.raises(ParamError, match=r"^invalid format for Price: "):
        Price.from_string_rounded(text, 2, "Up")


def test_should_leave_values_with_fewer_places_than_the_requested_scale_untouched() -> None:
    assert str(Price.from_string_rounded("1.2345", 100, "Up")) == "1.2345"
    assert str(Price.from_float_rounded(-0.0, 2, "Up")) == "-0"


@pytest.mark.parametrize(
    ("scale", "error", "message"),
    [
        (-1, OverflowError, "out of range integral type conversion attempted"),
        (2**32, OverflowError, "out of range integral type conversion attempted"),
        (2**64, OverflowError, "Python int too large to convert to C long"),
        (1.0, TypeError, "'float' object cannot be interpreted as an integer"),
        ("2", TypeError, "'str' object cannot be interpreted as an integer"),
    ],
)
def test_should_reject_bad_scales_like_pyo3(scale: object, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        Price.from_string_rounded("1.5", scale, "Up")  # type: ignore[arg-type]
    assert str(info.value) == message


def test_should_accept_strategies_case_insensitively_and_reject_unknown_ones() -> None:
    assert str(Price.from_string_rounded("1.2345", 2, "uP")) == "1.24"
    assert str(Price.from_string_rounded("1.2345", 2, RoundingStrategy.UP)) == "1.24"
    with pytest.raises(ValueError) as info:
        Price.from_string_rounded("1.2345", 2, "BankersRounding")
    assert str(info.value) == (
        'invalid rounding strategy "bankersrounding"; expected '
        "'MidpointNearestEven', 'MidpointAwayFromZero', 'Up', or 'Down'"
    )
    with pytest.raises(TypeError, match=exact("'None' is not an instance of 'str'")):
        Price.from_string_rounded("1.2345", 2, None)  # type: ignore[arg-type]


def test_should_check_rounded_arguments_in_openpits_order() -> None:
    with pytest.raises(TypeError, match=exact("'float' object is not an instance of 'str'")):
        Price.from_string_rounded(1.5, -1, None)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        Price.from_string_rounded("abc", -1, "bad")
    with pytest.raises(ValueError, match="invalid rounding strategy"):
        Price.from_string_rounded("abc", 2, "bad")
    with pytest.raises(ValueError, match="invalid rounding strategy"):
        Price.from_float_rounded(float("nan"), 2, "bad")
    with pytest.raises(ParamError, match=exact("Price decimal NaN is not finite")):
        Price.from_decimal_rounded(Decimal("NaN"), 2, "bad")
    with pytest.raises(TypeError, match=exact("Price.from_decimal expects decimal.Decimal")):
        Price.from_decimal_rounded(1.5, 2, "Up")  # type: ignore[arg-type]


def test_should_round_floats_and_decimals() -> None:
    assert str(Price.from_float_rounded(2.675, 2, "MidpointNearestEven")) == "2.68"
    assert str(Price.from_float_rounded(1.005, 28, "Up")) == "1.005"
    assert str(Price.from_decimal_rounded(Decimal("1.225"), 2, "MidpointNearestEven")) == "1.22"
    with pytest.raises(ParamError, match="Scale exceeds the maximum precision allowed: 29 > 28"):
        Price.from_decimal_rounded(Decimal("1E-29"), 2, "Up")


@pytest.mark.parametrize(
    "cls", [Quantity, Price, Volume, Notional, Pnl, Fee, CashFlow, PositionSize]
)
def test_should_expose_a_shared_zero_constant(cls: type) -> None:
    assert cls.ZERO is cls.ZERO
    assert type(cls.ZERO) is cls
    assert repr(cls.ZERO) == f"{cls.__name__}(Decimal('0'))"


def test_should_name_the_class_in_argument_errors() -> None:
    with pytest.raises(
        TypeError, match=exact("Quantity.__new__() missing 1 required positional argument: 'value'")
    ):
        Quantity()  # type: ignore[call-arg]
    with pytest.raises(
        TypeError, match=exact("Price.from_int() missing 1 required positional argument: 'value'")
    ):
        Price.from_int()  # type: ignore[call-arg]
    assert str(Price(value="2")) == "2"
