"""Pickling and copying (a superset of openpit, whose native values refuse to pickle)."""

from __future__ import annotations

import copy
import pickle

import pytest

import openpit_shm.param as p
from openpit_shm.core import FinancialImpact, Instrument, Order, OrderOperation


@pytest.mark.parametrize(
    "value",
    [
        p.Price("1.50"),
        p.Price.from_float(-0.0),
        p.Quantity("0.0000000000000000000000000001"),
        p.AccountId.from_int(2**64 - 1),
        p.AccountGroupId.from_int(9),
        p.Asset("USD"),
        p.Side.SELL,
        p.MonetaryAmount(p.Fee("0.5"), "USD"),
        p.TradeAmount.volume("3.5"),
        p.AdjustmentAmount.absolute("-2"),
        p.Trade(price=p.Price(1), quantity=p.Quantity(2)),
        FinancialImpact(pnl="-1.5", fee="0.25"),
        Instrument("BTC", "USD"),
    ],
)
def test_should_round_trip_through_pickle_with_the_same_text(value: object) -> None:
    restored = pickle.loads(pickle.dumps(value))
    assert type(restored) is type(value)
    assert repr(restored) == repr(value)


def test_should_keep_the_default_group_a_singleton() -> None:
    assert pickle.loads(pickle.dumps(p.DEFAULT_ACCOUNT_GROUP)) is p.DEFAULT_ACCOUNT_GROUP


def test_should_keep_extra_attributes_and_leverage_through_copies() -> None:
    ta = p.TradeAmount.quantity("1")
    ta.tag = "t"  # type: ignore[attr-defined]
    assert copy.deepcopy(ta).tag == "t"  # type: ignore[attr-defined]
    assert repr(copy.copy(p.Leverage(2.5))) == "Leverage(value=2.5)"
    order = Order(
        operation=OrderOperation(
            instrument=Instrument("S", "U"),
            side="BUY",
            trade_amount=ta,
            account_id=p.AccountId.from_int(3),
            price="1.25",
        )
    )
    clone = pickle.loads(pickle.dumps(order))
    assert clone.operation.price == p.Price("1.25")  # type: ignore[union-attr]
    assert clone.operation.trade_amount.tag == "t"  # type: ignore[union-attr]
