"""Order and report objects -> the scalar rows the kernels read (the object door).

The batch and shared-memory doors read the same fields from ``ORDER_DTYPE``
records; this module is the one place Python objects become kernel numbers.
Conversion is exact: a value that does not fit the engine's fixed point raises
``FixedPointError`` before any state changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..layout.records import (
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
)

if TYPE_CHECKING:
    from ..builtins.book import Book

__all__ = ["account_key", "order_row", "report_row"]

_U63 = 1 << 63
_U64 = 1 << 64
_NO_OPERATION = (0, -1, -1, SIDE_NONE, 0, 0, 0)


def account_key(account_id: Any) -> int:
    """An AccountId's u64 value as the int64 bit pattern kernels and records use."""
    v = account_id.value
    return v - _U64 if v >= _U63 else v


def _side(side: Any) -> int:
    if side == "BUY":
        return SIDE_BUY
    if side == "SELL":
        return SIDE_SELL
    return SIDE_NONE


def order_row(book: Book, order: Any) -> tuple[int, int, int, int, int, int, int]:
    """(account, underlying, settlement, side, flags, price, amount) of one order."""
    op = order._operation
    if op is None:
        return _NO_OPERATION
    scale = book.scale
    underlying, settlement = op._instrument._key
    amount = op._trade_amount
    flags = ORDER_HAS_OPERATION
    if amount._quantity is not None:
        amount_fx = amount._quantity._to_fixed(scale)
    else:
        amount_fx = amount._volume._to_fixed(scale)
        flags |= ORDER_VOLUME
    price = op._price
    if price is None:
        price_fx = 0
    else:
        price_fx = price._to_fixed(scale)
        flags |= ORDER_HAS_PRICE
    return (
        account_key(op._account_id),
        book.asset_id(underlying),
        book.asset_id(settlement),
        _side(op._side),
        flags,
        price_fx,
        amount_fx,
    )


def report_row(book: Book, report: Any) -> tuple[int, int, int, int, int, int, int]:
    """(account, underlying, settlement, side, flags, pnl, fee) of one execution report."""
    op = report._operation
    fin = report._financial_impact
    flags = 0
    account = underlying = settlement = 0
    side = SIDE_NONE
    underlying = settlement = -1
    if op is not None:
        flags |= ORDER_HAS_OPERATION
        account = account_key(op._account_id)
        u, s = op._instrument._key
        underlying, settlement = book.asset_id(u), book.asset_id(s)
        side = _side(op._side)
    pnl = fee = 0
    if fin is not None:
        flags |= REPORT_HAS_FINANCIAL
        pnl = fin._pnl._to_fixed(book.scale)
        fee = fin._fee._to_fixed(book.scale)
    return (account, underlying, settlement, side, flags, pnl, fee)
