"""Order and its groups: keyword-only, type-checked, read-only, subclassable."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pytest

from openpit_shm.core import Instrument, Order, OrderMargin, OrderOperation, OrderPosition
from openpit_shm.param import (
    AccountId,
    Leverage,
    ParamError,
    PositionSide,
    Price,
    Quantity,
    Side,
    TradeAmount,
)
from tests.param._support import exact

I = Instrument("S001", "USD")  # noqa: E741
A = AccountId.from_int(5)
TA = TradeAmount.quantity(Quantity("12"))


def op(**overrides: object) -> OrderOperation:
    fields: dict[str, object] = {
        "instrument": I,
        "side": Side.BUY,
        "trade_amount": TA,
        "account_id": A,
        "price": Price("101.25"),
    }
    fields.update(overrides)
    return OrderOperation(**fields)  # type: ignore[arg-type]


def test_should_store_the_given_objects_in_the_engines_slots() -> None:
    p = Price("101.25")
    o = op(price=p)
    assert o._instrument is I and o._account_id is A and o._trade_amount is TA and o._price is p
    assert o._side is Side.BUY
    assert (o.instrument, o.account_id, o.side, o.trade_amount, o.price) == (I, A, Side.BUY, TA, p)


@pytest.mark.parametrize("side", ["BUY", "buy", "Buy", Side.BUY])
def test_should_turn_side_strings_into_side_members(side: object) -> None:
    assert op(side=side).side is Side.BUY
    assert op(side="sell")._side is Side.SELL


@pytest.mark.parametrize(
    ("side", "message"),
    [
        ("x", "ValueError: invalid side \"x\"; expected 'buy' or 'sell'"),
        (PositionSide.LONG, "ValueError: invalid side \"long\"; expected 'buy' or 'sell'"),
        (1, "side must be a str or openpit.Side"),
    ],
)
def test_should_reject_bad_sides_with_openpits_type_errors(side: object, message: str) -> None:
    with pytest.raises(TypeError, match=exact(message)):
        op(side=side)


@pytest.mark.parametrize(
    ("price", "expected"),
    [("101.25", "101.25"), (101, "101"), (101.5, "101.5"), (Decimal("1.50"), "1.50"), ("-5", "-5")],
)
def test_should_convert_price_literals_to_price(price: object, expected: str) -> None:
    got = op(price=price).price
    assert type(got) is Price and str(got) == expected


def test_should_reject_bad_prices_with_price_errors() -> None:
    with pytest.raises(ParamError, match=exact("invalid format for Price: 'abc'")):
        op(price="abc")
    with pytest.raises(ParamError, match=exact("invalid format for Price: 'NaN'")):
        op(price=float("nan"))
    with pytest.raises(TypeError, match=exact("Price must be a Decimal, str, int, or float")):
        op(price=Quantity(1))
    with pytest.raises(ValueError, match=exact("Price must be a Decimal, str, int, or float")):
        op(price=True)


def test_should_allow_a_market_order_without_price() -> None:
    assert op(price=None).price is None
    o = OrderOperation(instrument=I, side="BUY", trade_amount=TA, account_id=A)
    assert o._price is None


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"instrument": ("S", "U")}, TypeError, "instrument must be openpit.core.Instrument"),
        (
            {"instrument": None},
            AttributeError,
            "'NoneType' object has no attribute 'underlying_asset'",
        ),
        ({"account_id": 5}, TypeError, "account_id must be openpit.param.AccountId"),
        ({"trade_amount": "12"}, TypeError, "trade_amount must be openpit.param.TradeAmount"),
        (
            {"trade_amount": Quantity(1)},
            TypeError,
            "trade_amount must be openpit.param.TradeAmount",
        ),
        (
            {"side": 1, "trade_amount": 1, "account_id": 1, "price": "x"},
            TypeError,
            "account_id must be openpit.param.AccountId",
        ),
        (
            {"side": 1, "trade_amount": 1, "price": "x"},
            TypeError,
            "side must be a str or openpit.Side",
        ),
        (
            {"trade_amount": 1, "price": "x"},
            TypeError,
            "trade_amount must be openpit.param.TradeAmount",
        ),
    ],
)
def test_should_type_check_operation_fields_in_openpits_order(
    overrides: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=exact(message)):
        op(**overrides)


def test_should_accept_none_for_optional_at_runtime_fields() -> None:
    o = op(side=None, trade_amount=None, account_id=None)
    assert (o.side, o.trade_amount, o.account_id) == (None, None, None)


def test_should_require_keyword_arguments() -> None:
    with pytest.raises(
        TypeError,
        match=exact("OrderOperation.__init__() missing 1 required keyword-only argument: 'side'"),
    ):
        OrderOperation(instrument=I, trade_amount=TA, account_id=A)  # type: ignore[call-arg]
    with pytest.raises(
        TypeError,
        match=exact("OrderOperation.__init__() takes 1 positional argument but 5 were given"),
    ):
        OrderOperation(I, Side.BUY, TA, A)  # type: ignore[misc]


def test_should_keep_operation_properties_read_only() -> None:
    o = op()
    with pytest.raises(AttributeError, match="has no setter"):
        o.price = Price(1)  # type: ignore[misc]
    o.client_id = "c-1"  # type: ignore[attr-defined]
    assert o.client_id == "c-1"  # type: ignore[attr-defined]


def test_should_show_an_operation_like_openpit() -> None:
    shown = re.sub(r"0x[0-9a-f]+", "0x?", repr(op()))
    assert shown == (
        'OrderOperation(underlying_asset=Some("S001"), settlement_asset=Some("USD"), '
        'side=Ok(Some(Py(0x?))), trade_amount=Some("TradeAmount.quantity(value=Quantity(12))"), '
        'price=Some("101.25"))'
    )
    assert repr(op(side=None, price=None, trade_amount=None)).endswith(
        "side=Ok(None), trade_amount=None, price=None)"
    )


def test_should_build_orders_from_optional_groups() -> None:
    o = op()
    order = Order(operation=o)
    assert order._operation is o and order.operation is o
    assert (order.position, order.margin) == (None, None)
    assert Order()._operation is None
    assert repr(Order()) == "Order(operation=None, position=None, margin=None)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operation": 5}, "operation must be openpit.core.OrderOperation"),
        ({"position": 5}, "position must be openpit.core.OrderPosition"),
        ({"margin": 5}, "margin must be openpit.core.OrderMargin"),
        ({"operation": OrderPosition()}, "operation must be openpit.core.OrderOperation"),
    ],
)
def test_should_type_check_order_groups(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=exact(message)):
        Order(**kwargs)  # type: ignore[arg-type]


def test_should_keep_a_subclassed_order_and_its_extra_attributes() -> None:
    class BrokerOrder(Order):
        def __init__(self, *, client_order_id: str, **groups: object) -> None:
            super().__init__(**groups)  # type: ignore[arg-type]
            self.client_order_id = client_order_id

    order = BrokerOrder(client_order_id="abc", operation=op())
    assert isinstance(order, Order)
    assert order.client_order_id == "abc"
    assert order._operation.price == Price("101.25")  # type: ignore[union-attr]
    with pytest.raises(AttributeError, match="has no setter"):
        order.operation = op()  # type: ignore[misc]


def test_should_show_orders_with_nested_debug_strings() -> None:
    order = Order(position=OrderPosition(position_side="LONG"), margin=OrderMargin(leverage=2))
    shown = re.sub(r"0x[0-9a-f]+", "0x?", repr(order))
    assert shown == (
        'Order(operation=None, position=Some("OrderPosition(position_side=Ok(Some(Py(0x?))), '
        'reduce_only=false, close_position=false)"), margin=Some("OrderMargin(leverage=Some(2.0), '
        'collateral_asset=None, auto_borrow=false)"))'
    )


def test_should_build_positions() -> None:
    p = OrderPosition(position_side="long", reduce_only=True)
    assert p.position_side is PositionSide.LONG and p._position_side is PositionSide.LONG
    assert (p.reduce_only, p.close_position) == (True, False)
    assert OrderPosition(reduce_only=np.bool_(True)).reduce_only is True
    assert OrderPosition().position_side is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"position_side": "x"},
            "ValueError: invalid position side \"x\"; expected 'long' or 'short'",
        ),
        ({"position_side": 1}, "position_side must be a str or openpit.PositionSide"),
        ({"reduce_only": 1}, "'int' object is not an instance of 'bool'"),
        ({"close_position": None}, "'None' is not an instance of 'bool'"),
        (
            {"position_side": 1, "reduce_only": 1},
            "position_side must be a str or openpit.PositionSide",
        ),
    ],
)
def test_should_type_check_positions(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=exact(message)):
        OrderPosition(**kwargs)  # type: ignore[arg-type]


def test_should_build_margins() -> None:
    lev = Leverage(3)
    m = OrderMargin(leverage=lev, collateral_asset="USD", auto_borrow=True)
    assert m.leverage is lev and m._collateral_asset == "USD" and m.auto_borrow is True
    assert repr(OrderMargin(leverage=2.5).leverage) == "Leverage(value=2.5)"
    assert (
        repr(m) == 'OrderMargin(leverage=Some(3.0), collateral_asset=Some("USD"), auto_borrow=true)'
    )
    assert (
        repr(OrderMargin())
        == "OrderMargin(leverage=None, collateral_asset=None, auto_borrow=false)"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"leverage": 0}, ValueError, "invalid leverage value"),
        ({"leverage": "3"}, ValueError, "leverage must be openpit.param.Leverage, int, or float"),
        ({"collateral_asset": ""}, ValueError, "asset must not be empty"),
        ({"collateral_asset": 1}, TypeError, "asset must be a str"),
        ({"auto_borrow": 1}, TypeError, "'int' object is not an instance of 'bool'"),
    ],
)
def test_should_validate_margins(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=exact(message)):
        OrderMargin(**kwargs)  # type: ignore[arg-type]


def test_should_expose_the_instruments_assets_read_only_on_operations() -> None:
    o = op()
    assert (o.underlying_asset, o.settlement_asset) == ("S001", "USD")
    with pytest.raises(AttributeError, match="has no setter"):
        o.underlying_asset = "X"  # type: ignore[misc]
