"""TradeAmount, AdjustmentAmount, Trade and MonetaryAmount."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from openpit_shm.param import (
    AdjustmentAmount,
    AssetError,
    Fee,
    MonetaryAmount,
    ParamError,
    Pnl,
    PositionSize,
    Price,
    Quantity,
    Trade,
    TradeAmount,
    Volume,
)
from tests.param._support import exact


@pytest.mark.parametrize("value", [Quantity("1.50"), "1.50", Decimal("1.50"), 1.5, 12])
def test_should_build_quantity_amounts_from_values_and_literals(value: object) -> None:
    ta = TradeAmount.quantity(value)  # type: ignore[arg-type]
    assert ta.is_quantity and not ta.is_volume
    assert ta.as_volume is None
    assert ta.as_quantity == Quantity(value if not isinstance(value, Quantity) else "1.50")  # type: ignore[arg-type]
    assert ta._quantity is ta.as_quantity and ta._volume is None


def test_should_keep_the_given_value_object() -> None:
    q = Quantity(1)
    assert TradeAmount.quantity(q).as_quantity is q


def test_should_show_trade_amounts_like_openpit() -> None:
    assert (
        repr(TradeAmount.quantity(Quantity("1.50"))) == "TradeAmount.quantity(value=Quantity(1.50))"
    )
    assert repr(TradeAmount.volume("2")) == "TradeAmount.volume(value=Volume(2))"
    assert str(TradeAmount.volume(2)) == "TradeAmount.volume(value=Volume(2))"


def test_should_reject_wrong_trade_amount_inputs() -> None:
    with pytest.raises(TypeError, match=exact("Quantity must be a Decimal, str, int, or float")):
        TradeAmount.quantity(Price(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=exact("Volume must be a Decimal, str, int, or float")):
        TradeAmount.volume(Quantity(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=exact("Quantity must be a Decimal, str, int, or float")):
        TradeAmount.quantity(True)  # type: ignore[arg-type]
    with pytest.raises(ParamError, match=exact("value must be non-negative for Volume")):
        TradeAmount.volume(-1)
    with pytest.raises(ParamError, match=exact("invalid format for Quantity: 'NaN'")):
        TradeAmount.quantity(float("nan"))


def test_should_have_no_value_equality_but_allow_extra_attributes() -> None:
    a, b = TradeAmount.quantity(1), TradeAmount.quantity(1)
    assert a != b
    a.note = "x"  # type: ignore[attr-defined]
    assert a.note == "x"  # type: ignore[attr-defined]


def test_should_copy_through_the_constructor_only() -> None:
    ta = TradeAmount.volume("3")
    assert repr(TradeAmount(ta)) == "TradeAmount.volume(value=Volume(3))"
    with pytest.raises(TypeError, match=exact("'int' object is not an instance of 'TradeAmount'")):
        TradeAmount(1)  # type: ignore[arg-type]


def test_should_build_adjustment_amounts() -> None:
    d = AdjustmentAmount.delta(PositionSize("-1.5"))
    assert (d.is_delta, d.is_absolute, d.as_absolute) == (True, False, None)
    assert repr(d) == "AdjustmentAmount.delta(value=PositionSize(-1.5))"
    a = AdjustmentAmount.absolute("2.50")  # type: ignore[arg-type]
    assert repr(a) == "AdjustmentAmount.absolute(value=PositionSize(2.50))"
    assert repr(AdjustmentAmount(a)) == repr(a)
    with pytest.raises(
        TypeError, match=exact("PositionSize must be a Decimal, str, int, or float")
    ):
        AdjustmentAmount.delta(Price(1))  # type: ignore[arg-type]
    assert AdjustmentAmount.delta(PositionSize(1)) != AdjustmentAmount.delta(PositionSize(1))


def test_should_build_trades_keyword_only_and_type_checked() -> None:
    t = Trade(price=Price("1.5"), quantity=Quantity(2))
    assert repr(t) == "Trade(price=Price(Decimal('1.5')), quantity=Quantity(Decimal('2')))"
    assert (t.price, t.quantity) == (Price("1.5"), Quantity(2))
    with pytest.raises(TypeError, match=exact("price must be openpit.param.Price")):
        Trade(price="1", quantity=Quantity(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=exact("quantity must be openpit.param.Quantity")):
        Trade(price=Price(1), quantity=1)  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="has no setter"):
        t.price = Price(2)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: Trade(Price(1), Quantity(1)),
            "Trade.__new__() takes 0 positional arguments but 2 were given",
        ),
        (
            lambda: Trade(price=Price(1)),
            "Trade.__new__() missing 1 required keyword argument: 'quantity'",
        ),
        (
            lambda: Trade(),
            "Trade.__new__() missing 2 required keyword arguments: 'price' and 'quantity'",
        ),
        (
            lambda: Trade(price=Price(1), quantity=Quantity(1), x=2),
            "Trade.__new__() got an unexpected keyword argument 'x'",
        ),
    ],
)
def test_should_report_trade_argument_errors_like_pyo3(call: object, message: str) -> None:
    with pytest.raises(TypeError) as info:
        call()  # type: ignore[operator]
    assert str(info.value) == message


def test_should_build_monetary_amounts_as_frozen_dataclasses() -> None:
    m = MonetaryAmount(Fee("1.5"), "USD")
    assert repr(m) == "MonetaryAmount(amount=Fee(Decimal('1.5')), currency='USD')"
    assert m == MonetaryAmount(amount=Fee("1.50"), currency="USD")
    assert hash(m) == hash(MonetaryAmount(Fee("1.50"), "USD"))
    assert type(m.currency).__name__ == "Asset"
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.amount = Fee(1)  # type: ignore[misc]
    with pytest.raises(TypeError, match=exact("amount must be openpit.param.Fee")):
        MonetaryAmount(Pnl(1), "USD")  # type: ignore[arg-type]
    with pytest.raises(AssetError, match=exact("asset must not be empty")):
        MonetaryAmount(Fee(1), "")
    with pytest.raises(TypeError, match=exact("asset must be str")):
        MonetaryAmount(Fee(1), 5)  # type: ignore[arg-type]


def test_should_expose_the_trade_amount_slots_the_engine_reads() -> None:
    v = Volume("3")
    ta = TradeAmount.volume(v)
    assert ta._volume is v and ta._quantity is None
