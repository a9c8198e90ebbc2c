"""Composite amounts: TradeAmount (quantity | volume), AdjustmentAmount (delta | absolute),
Trade (price + quantity) and MonetaryAmount (fee + currency).

Private layout read by the engine: ``TradeAmount._quantity`` / ``._volume``
(exactly one is ``None``), ``AdjustmentAmount._delta`` / ``._absolute``,
``Trade._price`` / ``._quantity``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._compat import downcast_error, pyo3_kwonly, reduce_slots
from .asset import Asset
from .values import Fee, PositionSize, Price, Quantity, Volume, coerce

__all__ = ["AdjustmentAmount", "MonetaryAmount", "Trade", "TradeAmount"]

_onew = object.__new__


def _trade_amount(cls: type, quantity: Any, volume: Any) -> Any:
    o = _onew(cls)
    o._quantity = quantity
    o._volume = volume
    return o


class TradeAmount:
    """Quantity- or volume-based trade amount; build with ``quantity()`` or ``volume()``."""

    __slots__ = ("__dict__", "_quantity", "_volume")

    _quantity: Quantity | None
    _volume: Volume | None

    def __new__(cls, other: TradeAmount) -> TradeAmount:
        if not isinstance(other, TradeAmount):
            raise downcast_error(other, "TradeAmount")
        return _trade_amount(cls, other._quantity, other._volume)

    @staticmethod
    def quantity(value: Quantity | str | int | float) -> TradeAmount:
        """Create a quantity-based trade amount (value objects or literals)."""
        if value.__class__ is not Quantity:
            value = Quantity(value)
        o = _onew(TradeAmount)
        o._quantity = value
        o._volume = None
        return o

    @staticmethod
    def volume(value: Volume | str | int | float) -> TradeAmount:
        """Create a volume-based trade amount (value objects or literals)."""
        if value.__class__ is not Volume:
            value = Volume(value)
        o = _onew(TradeAmount)
        o._quantity = None
        o._volume = value
        return o

    @property
    def is_quantity(self) -> bool:
        return self._quantity is not None

    @property
    def is_volume(self) -> bool:
        return self._volume is not None

    @property
    def as_quantity(self) -> Quantity | None:
        return self._quantity

    @property
    def as_volume(self) -> Volume | None:
        return self._volume

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_quantity", "_volume"))

    def __repr__(self) -> str:
        if self._quantity is not None:
            return f"TradeAmount.quantity(value=Quantity({self._quantity}))"
        return f"TradeAmount.volume(value=Volume({self._volume}))"


class AdjustmentAmount:
    """Delta-or-absolute adjustment payload; build with ``delta()`` or ``absolute()``."""

    __slots__ = ("__dict__", "_absolute", "_delta")

    _delta: PositionSize | None
    _absolute: PositionSize | None

    def __new__(cls, other: AdjustmentAmount) -> AdjustmentAmount:
        if not isinstance(other, AdjustmentAmount):
            raise downcast_error(other, "AdjustmentAmount")
        o = _onew(cls)
        o._delta = other._delta
        o._absolute = other._absolute
        return o

    @staticmethod
    def delta(value: PositionSize) -> AdjustmentAmount:
        """Create a delta-type adjustment amount."""
        o = _onew(AdjustmentAmount)
        o._delta = coerce(PositionSize, value)
        o._absolute = None
        return o

    @staticmethod
    def absolute(value: PositionSize) -> AdjustmentAmount:
        """Create an absolute-type adjustment amount."""
        o = _onew(AdjustmentAmount)
        o._delta = None
        o._absolute = coerce(PositionSize, value)
        return o

    @property
    def is_delta(self) -> bool:
        return self._delta is not None

    @property
    def is_absolute(self) -> bool:
        return self._absolute is not None

    @property
    def as_delta(self) -> PositionSize | None:
        return self._delta

    @property
    def as_absolute(self) -> PositionSize | None:
        return self._absolute

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_delta", "_absolute"))

    def __repr__(self) -> str:
        if self._delta is not None:
            return f"AdjustmentAmount.delta(value=PositionSize({self._delta}))"
        return f"AdjustmentAmount.absolute(value=PositionSize({self._absolute}))"


class Trade:
    """Last executed trade details (keyword-only, type-checked)."""

    __slots__ = ("__dict__", "_price", "_quantity")

    _price: Price
    _quantity: Quantity

    def __new__(cls, *args: Any, **kwargs: Any) -> Trade:
        if args or len(kwargs) != 2 or "price" not in kwargs or "quantity" not in kwargs:
            pyo3_kwonly("Trade.__new__", args, kwargs, ("price", "quantity"))
        price = kwargs["price"]
        quantity = kwargs["quantity"]
        if not isinstance(price, Price):
            raise TypeError("price must be openpit.param.Price")
        if not isinstance(quantity, Quantity):
            raise TypeError("quantity must be openpit.param.Quantity")
        o = _onew(cls)
        o._price = price
        o._quantity = quantity
        return o

    @property
    def price(self) -> Price:
        return self._price

    @property
    def quantity(self) -> Quantity:
        return self._quantity

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_price", "_quantity"))

    def __repr__(self) -> str:
        return f"Trade(price={self._price!r}, quantity={self._quantity!r})"


@dataclasses.dataclass(frozen=True)
class MonetaryAmount:
    """Monetary amount paired with its currency."""

    amount: Fee
    currency: Asset

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Fee):
            raise TypeError("amount must be openpit.param.Fee")
        object.__setattr__(self, "currency", Asset(self.currency))


for _cls in (TradeAmount, AdjustmentAmount, Trade, MonetaryAmount):
    _cls.__module__ = "openpit_shm.param"
del _cls
