"""The string enums of openpit.param (members compare equal to their string values)."""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "FillType",
    "Kind",
    "PositionEffect",
    "PositionMode",
    "PositionSide",
    "RoundingStrategy",
    "Side",
]


class _ClassProperty:
    """A read-only attribute computed on the class (for the RoundingStrategy aliases)."""

    def __init__(self, getter: Any) -> None:
        self._getter = getter

    def __get__(self, instance: object, owner: type) -> Any:
        return self._getter(owner)


@enum.unique
class Side(enum.StrEnum):
    """Trade direction for orders and execution reports."""

    BUY = "BUY"
    SELL = "SELL"

    @classmethod
    def _missing_(cls, value: object) -> Side | None:
        raise ValueError("expected 'BUY' or 'SELL'")

    def is_buy(self) -> bool:
        """Return ``True`` when the side is buy."""
        return self is Side.BUY

    def is_sell(self) -> bool:
        """Return ``True`` when the side is sell."""
        return self is Side.SELL

    def opposite(self) -> Side:
        """Return the opposite side."""
        return Side.SELL if self is Side.BUY else Side.BUY

    def sign(self) -> int:
        """Return ``+1`` for buy and ``-1`` for sell."""
        return 1 if self is Side.BUY else -1


@enum.unique
class PositionSide(enum.StrEnum):
    """Hedge-mode leg for derivatives positions."""

    LONG = "LONG"
    SHORT = "SHORT"

    @classmethod
    def _missing_(cls, value: object) -> PositionSide | None:
        raise ValueError("expected 'LONG' or 'SHORT'")

    def is_long(self) -> bool:
        """Return ``True`` when the position side is long."""
        return self is PositionSide.LONG

    def is_short(self) -> bool:
        """Return ``True`` when the position side is short."""
        return self is PositionSide.SHORT

    def opposite(self) -> PositionSide:
        """Return the opposite hedge-mode leg."""
        return PositionSide.SHORT if self is PositionSide.LONG else PositionSide.LONG


@enum.unique
class PositionEffect(enum.StrEnum):
    """Whether an execution opens or closes exposure."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"

    @classmethod
    def _missing_(cls, value: object) -> PositionEffect | None:
        raise ValueError("expected 'OPEN' or 'CLOSE'")


@enum.unique
class PositionMode(enum.StrEnum):
    """Netting vs hedged position mode."""

    NETTING = "netting"
    HEDGED = "hedged"

    @classmethod
    def _missing_(cls, value: object) -> PositionMode | None:
        raise ValueError("expected 'netting' or 'hedged'")


@enum.unique
class FillType(enum.StrEnum):
    """Type of fill event reported by the venue."""

    TRADE = "TRADE"
    LIQUIDATION = "LIQUIDATION"
    AUTO_DELEVERAGE = "AUTO_DELEVERAGE"
    SETTLEMENT = "SETTLEMENT"
    FUNDING = "FUNDING"

    @classmethod
    def _missing_(cls, value: object) -> FillType | None:
        raise ValueError(
            "expected 'TRADE', 'LIQUIDATION', 'AUTO_DELEVERAGE', 'SETTLEMENT', or 'FUNDING'"
        )


@enum.unique
class Kind(enum.StrEnum):
    """Stable identifiers for numeric domain value categories."""

    QUANTITY = "Quantity"
    VOLUME = "Volume"
    NOTIONAL = "Notional"
    PRICE = "Price"
    PNL = "Pnl"
    CASH_FLOW = "CashFlow"
    POSITION_SIZE = "PositionSize"
    FEE = "Fee"
    LEVERAGE = "Leverage"


@enum.unique
class RoundingStrategy(enum.StrEnum):
    """Named rounding strategies (``Up`` rounds toward +inf, ``Down`` toward -inf)."""

    MIDPOINT_NEAREST_EVEN = "MidpointNearestEven"
    MIDPOINT_AWAY_FROM_ZERO = "MidpointAwayFromZero"
    UP = "Up"
    DOWN = "Down"

    DEFAULT = _ClassProperty(lambda cls: cls.MIDPOINT_NEAREST_EVEN)  # type: ignore[assignment]
    BANKER = _ClassProperty(lambda cls: cls.MIDPOINT_NEAREST_EVEN)  # type: ignore[assignment]
    CONSERVATIVE_PROFIT = _ClassProperty(lambda cls: cls.DOWN)  # type: ignore[assignment]
    CONSERVATIVE_LOSS = _ClassProperty(lambda cls: cls.DOWN)  # type: ignore[assignment]


Side.BUY.__doc__ = "Buy direction."
Side.SELL.__doc__ = "Sell direction."
PositionSide.LONG.__doc__ = "Long hedge-mode leg."
PositionSide.SHORT.__doc__ = "Short hedge-mode leg."
PositionEffect.OPEN.__doc__ = "Execution opens exposure."
PositionEffect.CLOSE.__doc__ = "Execution closes exposure."
PositionMode.NETTING.__doc__ = "Single net position."
PositionMode.HEDGED.__doc__ = "Separate long and short legs."
FillType.TRADE.__doc__ = "Normal trade execution."
FillType.LIQUIDATION.__doc__ = "Forced liquidation by the venue."
FillType.AUTO_DELEVERAGE.__doc__ = "Auto-deleveraging event."
FillType.SETTLEMENT.__doc__ = "Settlement at expiry or delivery."
FillType.FUNDING.__doc__ = "Funding payment."

for _cls in (Side, PositionSide, PositionEffect, PositionMode, FillType, Kind, RoundingStrategy):
    _cls.__module__ = "openpit_shm.param"
del _cls
