"""Order and report objects -> order records and scalar rows (the object door).

The batch and shared-memory doors hand the kernels ``ORDER_DTYPE`` records; a
``RowMaker(book, requests=True)`` writes each order it converts as the same record
into the Book's request view (``Book.request_record``), which the object door's
kernel (``kernels.pipeline.start_at``) reads. This module is the one place Python
objects become kernel numbers.
Conversion is exact: a value that does not fit the engine's fixed point raises
``FixedPointError`` before any state changes.

Reads the private slots documented in ``openpit_shm.core`` (``_operation``,
``_instrument._key``, ``_trade_amount._quantity`` ...) and the param values'
mantissa and scale (``_m``, ``_s``) because this runs once per order on the
hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..layout.records import (
    MSG_ORDER,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    ORDER_NO_SIDE,
    ORDER_STRUCT,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    REPORT_NO_ACCOUNT,
    REPORT_NO_SIDE,
    SIDE_BUY,
    SIDE_NONE,
    SIDE_SELL,
)

if TYPE_CHECKING:
    from ..builtins.book import Book

__all__ = ["RowMaker", "account_key"]

_U63 = 1 << 63
_U64 = 1 << 64
_I64_MIN = -(1 << 63)
_I64_LIMIT = 1 << 63
_BIG = _I64_LIMIT  # "not converted inline"
_P10 = tuple(10**i for i in range(19))  # engine scales are 0..18
_NO_OPERATION = (0, -1, -1, SIDE_NONE, 0, 0, 0)
_PACK = ORDER_STRUCT.pack_into
_SIDES = {"BUY": SIDE_BUY, "SELL": SIDE_SELL}


def account_key(account_id: Any) -> int:
    """An AccountId's u64 value as the int64 bit pattern kernels and records use."""
    v = account_id._value
    return v - _U64 if v >= _U63 else v


class RowMaker:
    """Converts orders and reports for one Book (its scale and asset ids).

    ``requests=True``: ``order`` also writes the order record into the Book's request
    view (registering the instrument in the Book on first sight). A replica that only
    numbers assets (the sharded client, which registers instruments on every shard
    itself) passes False.
    """

    __slots__ = ("_book", "_pairs", "_record", "_scale")

    def __init__(self, book: Book, requests: bool = False) -> None:
        self._book = book
        self._scale = book.scale
        self._record = book.request_record if requests else None
        # (underlying, settlement) -> (asset id, asset id, instrument id or -1): one dict hit
        # per order.
        self._pairs: dict[tuple[str, str], tuple[int, int, int]] = {}

    def assets(self, key: tuple[str, str]) -> tuple[int, int, int]:
        """(underlying id, settlement id, instrument id; -1 without ``requests``) of a pair."""
        ids = self._pairs.get(key)
        if ids is None:
            book = self._book
            u, s = book.asset_id(key[0]), book.asset_id(key[1])
            iid = book.instrument_id(*key) if self._record is not None else -1
            ids = self._pairs[key] = (u, s, iid)
        return ids

    def order(self, order: Any) -> tuple[int, int, int, int, int, int, int]:
        """(account, underlying, settlement, side, flags, price, amount) of one order.

        An operation without an account id, trade amount or side (openpit
        accepts each as None) sets ``ORDER_NO_ACCOUNT`` / ``ORDER_NO_AMOUNT``
        / ``ORDER_NO_SIDE`` with 0 in the missing field.
        """
        op = order._operation
        if op is None:
            if self._record is not None:
                _PACK(self._record, 0, 0, 0, 0, MSG_ORDER, SIDE_NONE, 0, 0, 0, 0, 0, 0)
            return _NO_OPERATION
        ids = self._pairs.get(op._instrument._key) or self.assets(op._instrument._key)
        amount = op._trade_amount
        account = op._account_id
        side = _SIDES.get(op._side)
        if amount is None or account is None or side is None:
            row = self._partial(op, ids, amount, account, side)
            if self._record is not None:
                _PACK(self._record, 0, 0, row[0], ids[2], MSG_ORDER, *row[3:], 0, 0, 0)
            return row
        # Fixed point inline (mantissa * 10**(scale - value scale)): C1's orders are fresh
        # objects, and a first ``_to_fixed`` (which also caches) costs 2-3x this. Anything
        # unusual (more decimals than the scale, out of int64) goes to ``_to_fixed``, which
        # raises FixedPointError.
        scale = self._scale
        value = amount._quantity
        if value is not None:
            flags = ORDER_HAS_OPERATION
        else:
            flags = ORDER_HAS_OPERATION | ORDER_VOLUME
            value = amount._volume
        s = value._s
        amount_fx = value._m * _P10[scale - s] if s <= scale else _BIG
        if not _I64_MIN <= amount_fx < _I64_LIMIT:
            amount_fx = value._to_fixed(scale)
        price = op._price
        if price is None:
            price_fx = 0
        else:
            s = price._s
            price_fx = price._m * _P10[scale - s] if s <= scale else _BIG
            if not _I64_MIN <= price_fx < _I64_LIMIT:
                price_fx = price._to_fixed(scale)
            flags |= ORDER_HAS_PRICE
        v = account._value
        if v >= _U63:
            v -= _U64
        if self._record is not None:
            _PACK(self._record, 0, 0, v, ids[2], MSG_ORDER, side, flags, price_fx, amount_fx,
                  0, 0, 0)  # fmt: skip
        return (v, ids[0], ids[1], side, flags, price_fx, amount_fx)

    def _partial(
        self, op: Any, ids: tuple[int, int], amount: Any, account: Any, side: int | None
    ) -> tuple[int, int, int, int, int, int, int]:
        """The row of an operation with a field missing (off the common path)."""
        scale = self._scale
        flags = ORDER_HAS_OPERATION
        amount_fx = 0
        if amount is None:
            flags |= ORDER_NO_AMOUNT
        elif amount._quantity is not None:
            amount_fx = amount._quantity._to_fixed(scale)
        else:
            flags |= ORDER_VOLUME
            amount_fx = amount._volume._to_fixed(scale)
        price_fx = 0
        if op._price is not None:
            price_fx = op._price._to_fixed(scale)
            flags |= ORDER_HAS_PRICE
        if account is None:
            flags |= ORDER_NO_ACCOUNT
            key = 0
        else:
            key = account_key(account)
        if side is None:
            flags |= ORDER_NO_SIDE
            side = SIDE_NONE
        return (key, ids[0], ids[1], side, flags, price_fx, amount_fx)

    def report(self, report: Any) -> tuple[int, int, int, int, int, int, int, int]:
        """(account, underlying, settlement, side, flags, pnl, fee, scales) of one report.

        ``scales`` = ``pnl scale | fee scale << 8`` of the report's decimals: openpit
        prints the accumulated P&L at the largest scale that went into it. An
        operation without an account id or side sets ``REPORT_NO_ACCOUNT`` /
        ``REPORT_NO_SIDE``.
        """
        op = report._operation
        fin = report._financial_impact
        flags = 0
        account = 0
        side = SIDE_NONE
        underlying = settlement = -1
        if op is not None:
            flags |= ORDER_HAS_OPERATION
            if op._account_id is None:
                flags |= REPORT_NO_ACCOUNT
            else:
                account = account_key(op._account_id)
            underlying, settlement, _ = self.assets(op._instrument._key)
            side = _SIDES.get(op._side, SIDE_NONE)
            if side == SIDE_NONE:
                flags |= REPORT_NO_SIDE
        pnl = fee = 0
        scales = -1
        if fin is not None:
            flags |= REPORT_HAS_FINANCIAL
            pnl = fin._pnl._to_fixed(self._scale)
            fee = fin._fee._to_fixed(self._scale)
            scales = fin._pnl._s | fin._fee._s << 8
        return (account, underlying, settlement, side, flags, pnl, fee, scales)
