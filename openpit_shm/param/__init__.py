"""openpit_shm.param: openpit's value types, ids and enums with rust_decimal semantics.

Mirrors ``openpit.param`` name for name (plus ``FixedPointError``). Decimal
values are ``(mantissa, scale)`` pairs with openpit's exact arithmetic; every
numeric value converts to the kernels' int64 fixed point with
``value._to_fixed(scale)``.
"""

from __future__ import annotations

from .amounts import AdjustmentAmount, MonetaryAmount, Trade, TradeAmount
from .asset import Asset
from .enums import (
    FillType,
    Kind,
    PositionEffect,
    PositionMode,
    PositionSide,
    RoundingStrategy,
    Side,
)
from .errors import AccountIdError, AssetError, FixedPointError, ParamError
from .ids import DEFAULT_ACCOUNT_GROUP, AccountGroupId, AccountId
from .leverage import Leverage
from .values import CashFlow, Fee, Notional, Pnl, PositionSize, Price, Quantity, Volume

__all__ = [
    "DEFAULT_ACCOUNT_GROUP",
    "AccountGroupId",
    "AccountId",
    "AccountIdError",
    "AdjustmentAmount",
    "Asset",
    "AssetError",
    "CashFlow",
    "Fee",
    "FillType",
    "FixedPointError",
    "Kind",
    "Leverage",
    "MonetaryAmount",
    "Notional",
    "ParamError",
    "Pnl",
    "PositionEffect",
    "PositionMode",
    "PositionSide",
    "PositionSize",
    "Price",
    "Quantity",
    "RoundingStrategy",
    "Side",
    "Trade",
    "TradeAmount",
    "Volume",
]
