"""The StrEnums of openpit.param."""

from __future__ import annotations

import enum

import pytest

from openpit_shm.param import (
    FillType,
    Kind,
    PositionEffect,
    PositionMode,
    PositionSide,
    RoundingStrategy,
    Side,
)


def test_should_behave_as_strings() -> None:
    assert Side.BUY == "BUY"
    assert str(Side.BUY) == "BUY"
    assert f"{Side.SELL}" == "SELL"
    assert hash(Side.BUY) == hash("BUY")
    assert repr(Side.BUY) == "<Side.BUY: 'BUY'>"
    assert issubclass(Side, enum.StrEnum)


def test_should_offer_side_helpers() -> None:
    assert Side.BUY.is_buy() and not Side.BUY.is_sell()
    assert Side.BUY.opposite() is Side.SELL and Side.SELL.opposite() is Side.BUY
    assert (Side.BUY.sign(), Side.SELL.sign()) == (1, -1)
    assert PositionSide.LONG.is_long() and not PositionSide.LONG.is_short()
    assert PositionSide.LONG.opposite() is PositionSide.SHORT


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Side, "expected 'BUY' or 'SELL'"),
        (PositionSide, "expected 'LONG' or 'SHORT'"),
        (PositionEffect, "expected 'OPEN' or 'CLOSE'"),
        (PositionMode, "expected 'netting' or 'hedged'"),
        (
            FillType,
            "expected 'TRADE', 'LIQUIDATION', 'AUTO_DELEVERAGE', 'SETTLEMENT', or 'FUNDING'",
        ),
        (Kind, "'x' is not a valid Kind"),
        (RoundingStrategy, "'x' is not a valid RoundingStrategy"),
    ],
)
def test_should_reject_unknown_values_with_openpits_message(cls: type, message: str) -> None:
    with pytest.raises(ValueError) as info:
        cls("x")
    assert str(info.value) == message


def test_should_be_case_sensitive_on_construction() -> None:
    with pytest.raises(ValueError):
        Side("buy")
    assert Side("SELL") is Side.SELL


def test_should_list_openpits_members() -> None:
    assert [m.value for m in FillType] == [
        "TRADE",
        "LIQUIDATION",
        "AUTO_DELEVERAGE",
        "SETTLEMENT",
        "FUNDING",
    ]
    assert [m.value for m in PositionMode] == ["netting", "hedged"]
    assert [m.value for m in Kind] == [
        "Quantity",
        "Volume",
        "Notional",
        "Price",
        "Pnl",
        "CashFlow",
        "PositionSize",
        "Fee",
        "Leverage",
    ]
    assert [m.value for m in RoundingStrategy] == [
        "MidpointNearestEven",
        "MidpointAwayFromZero",
        "Up",
        "Down",
    ]


def test_should_alias_the_rounding_strategies() -> None:
    assert RoundingStrategy.DEFAULT is RoundingStrategy.MIDPOINT_NEAREST_EVEN
    assert RoundingStrategy.BANKER is RoundingStrategy.MIDPOINT_NEAREST_EVEN
    assert RoundingStrategy.CONSERVATIVE_PROFIT is RoundingStrategy.DOWN
    assert RoundingStrategy.CONSERVATIVE_LOSS is RoundingStrategy.DOWN
    assert len(RoundingStrategy) == 4


def test_should_document_members_like_openpit() -> None:
    assert Side.BUY.__doc__ == "Buy direction."
    assert FillType.FUNDING.__doc__ == "Funding payment."
