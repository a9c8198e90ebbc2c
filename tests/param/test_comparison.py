"""Equality, ordering, hashing and text forms of the decimal value types."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openpit_shm.param import Fee, Pnl, Price, Quantity
from tests.param._support import exact


def test_should_compare_equal_ignoring_trailing_zeros() -> None:
    assert Price("1.0") == Price(1)
    assert Price("1.0") == Price("1.00000")
    assert Price("1.5") != Price("1.50001")
    assert hash(Price("1.0")) == hash(Price(1)) == hash(Price("1.000"))
    assert len({Price("2.50"), Price("2.5"), Price(Decimal("2.500"))}) == 1


def test_should_not_equal_other_types_or_plain_numbers() -> None:
    assert Price(1) != 1
    assert Price(1) != Quantity(1)
    assert Price(1) != Decimal(1)
    assert Price(1).__eq__(1) is NotImplemented


def test_should_order_values_of_the_same_type() -> None:
    assert (
        Price("-2")
        < Price("-1.5")
        <= Price("-1.50")
        < Price(0)
        < Price("0.0000000000000000000000000001")
    )
    assert Price(2) > Price("1.99") >= Price("1.990")
    assert sorted([Price(3), Price(1), Price("2.0")]) == [Price(1), Price(2), Price(3)]


@pytest.mark.parametrize("other", [1, 1.0, Decimal(1), None, Quantity(1)])
def test_should_refuse_ordering_against_other_types(other: object) -> None:
    with pytest.raises(TypeError, match="not supported between instances of"):
        Price(1) < other  # type: ignore[operator]  # noqa: B015


def test_should_be_falsy_only_when_zero() -> None:
    assert not Price("0.00")
    assert not Price.from_float(-0.0)
    assert Price("0.0000000000000000000000000001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("0.3333333333333333333333333333", 0.33333333333333337),  # rust_decimal's to_f64
        ("-2", -2.0),
        ("79228162514264337593543950335", 7.922816251426434e28),
    ],
)
def test_should_convert_to_float_like_rust_decimal(text: str, expected: float) -> None:
    assert float(Pnl(text)) == expected


def test_should_show_values_like_openpit() -> None:
    p = Price("1.50")
    assert str(p) == "1.50"
    assert repr(p) == "Price(Decimal('1.50'))"
    assert p.to_json_value() == "1.50"
    assert f"{p}" == "1.50"
    assert (
        repr(Price("0.0000000000000000000000000001"))
        == "Price(Decimal('0.0000000000000000000000000001'))"
    )
    assert repr(Fee.from_float(-0.0)) == "Fee(Decimal('-0'))"


def test_should_reject_format_specs_like_openpit() -> None:
    with pytest.raises(
        TypeError, match=exact("unsupported format string passed to openpit.param.Price.__format__")
    ):
        format(Price("1.5"), ".3f")


def test_should_expose_an_equal_decimal_with_the_same_exponent() -> None:
    d = Price("1.50").decimal
    assert isinstance(d, Decimal)
    assert d.as_tuple() == Decimal("1.50").as_tuple()
    assert Price("0.0000000000000000000000000001").decimal.as_tuple().exponent == -28
    assert str(Price.from_float(-0.0).decimal) == "-0"


def test_should_be_immutable() -> None:
    p = Price("1.5")
    with pytest.raises(AttributeError):
        p.decimal = Decimal(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.foo = 1  # type: ignore[attr-defined]


def test_should_not_be_subclassable() -> None:
    with pytest.raises(
        TypeError, match=exact("type 'openpit.param.Price' is not an acceptable base type")
    ):
        type("MyPrice", (Price,), {})
