"""``QuoteTable``: Python access to the seqlocked shared-memory quote table, and a service mirror.

The rows (``layout.quotes``) hold fixed-point prices at the engine's scale;
``kernels.quotes`` writes and reads them. This module converts at the
boundary: ``Quote`` -> fixed point exactly (a price with more fractional
digits than the scale, or beyond int64, raises ``FixedPointError``: never
rounded), and back to a ``Quote`` whose prices carry the engine's scale.

``QuoteTableMirror`` backs a ``MarketDataService``'s buckets with a table:
every ``push``/``push_by_instrument``/``push_for``/``clear`` is written
through to the row of its (instrument, bucket), so worker processes that map
the same table read the quotes without locks. The service keeps answering
its own ``get`` from its exact-decimal copy (openpit's reprs keep each
price's own scale), so both views always hold the same quote. Wiring (the
sharded engine, later)::

    table = QuoteTable(capacity, scale, buffer=segment_memory)
    attach_mirror(service, QuoteTableMirror(table))
    row = mirror.row_of(instrument_id, BUCKET_DEFAULT, 0)   # the row a worker reads
"""

from __future__ import annotations

import decimal
from typing import Any, NamedTuple

import numpy as np

from ..kernels.quotes import quote_clear, quote_read, quote_read_fresh, quote_write
from ..layout.quotes import (
    QUOTE_BUSY,
    QUOTE_HAS_ASK,
    QUOTE_HAS_BID,
    QUOTE_HAS_MARK,
    QUOTE_PRESENT,
    QUOTE_ROW_WORDS,
    QUOTE_TTL_INFINITE,
    QUOTE_W_AGE_NS,
    QUOTE_W_ASK,
    QUOTE_W_BID,
    QUOTE_W_FLAGS,
    QUOTE_W_INSTRUMENT,
    QUOTE_W_MARK,
    QUOTE_W_PUSHED_NS,
    quote_table_bytes,
)
from ..layout.records import FIXED_SCALE_DEFAULT
from ..param.fixed_point import FixedPointError, to_fixed
from ..param.values import Price
from .service import BUCKET_ACCOUNT, BUCKET_DEFAULT, BUCKET_GROUP
from .values import Quote, make_quote

__all__ = [
    "BUCKET_ACCOUNT",
    "BUCKET_DEFAULT",
    "BUCKET_GROUP",
    "FixedPointError",
    "QuoteRow",
    "QuoteTable",
    "QuoteTableBusy",
    "QuoteTableFull",
    "QuoteTableMirror",
    "attach_mirror",
]

_I64_MAX = (1 << 63) - 1
_U64_SIGN = 1 << 63


class QuoteTableBusy(RuntimeError):
    """A row stayed locked by another writer (or by one that died inside it)."""


class QuoteTableFull(RuntimeError):
    """Every row of the table is assigned to an (instrument, bucket)."""


class QuoteRow(NamedTuple):
    """One row as read: its code (``layout.quotes.QUOTE_*``) and, unless busy, its fields."""

    code: int
    quote: Quote | None
    pushed_ns: int
    age_ns: int
    instrument: int


def _fixed(price: Price | None, scale: int, what: str) -> int:
    return 0 if price is None else to_fixed(price, scale, what)


def _price(raw: int, scale: int) -> Price:
    return Price(decimal.Decimal(int(raw)).scaleb(-scale))


def _as_i64(u64: int) -> int:
    return u64 - (1 << 64) if u64 & _U64_SIGN else u64


class QuoteTable:
    """A quote table over ``buffer`` (shared memory) or a private zeroed array."""

    __slots__ = ("_out", "rows", "scale")

    def __init__(self, capacity: int, scale: int = FIXED_SCALE_DEFAULT, buffer: Any = None) -> None:
        nbytes = quote_table_bytes(capacity)
        if buffer is None:
            words = np.zeros(capacity * QUOTE_ROW_WORDS, np.int64)
        else:
            words = np.frombuffer(buffer, np.int64, count=nbytes // 8)
        self.rows = words.reshape(capacity, QUOTE_ROW_WORDS)
        self.scale = scale
        self._out = np.zeros(QUOTE_ROW_WORDS, np.int64)

    @property
    def capacity(self) -> int:
        return int(self.rows.shape[0])

    def encode(self, quote: Quote) -> tuple[int, int, int, int]:
        """``(flags, mark, bid, ask)`` of ``quote`` at the table's scale (exact or raises)."""
        flags = (
            QUOTE_PRESENT
            | (QUOTE_HAS_MARK if quote.mark is not None else 0)
            | (QUOTE_HAS_BID if quote.bid is not None else 0)
            | (QUOTE_HAS_ASK if quote.ask is not None else 0)
        )
        return (
            flags,
            _fixed(quote.mark, self.scale, "mark"),
            _fixed(quote.bid, self.scale, "bid"),
            _fixed(quote.ask, self.scale, "ask"),
        )

    def write_encoded(
        self, slot: int, encoded: tuple[int, int, int, int], pushed_ns: int, age_ns: int,
        instrument: int,
    ) -> None:  # fmt: skip
        flags, mark, bid, ask = encoded
        code = quote_write(
            self.rows, slot, flags, mark, bid, ask,
            max(min(pushed_ns, _I64_MAX), -_I64_MAX), min(max(age_ns, 0), _I64_MAX),
            _as_i64(instrument),
        )  # fmt: skip
        if code == QUOTE_BUSY:
            raise QuoteTableBusy(f"quote row {slot} is locked by another writer")

    def write(self, slot: int, quote: Quote, pushed_ns: int, age_ns: int, instrument: int) -> None:
        """Replace row ``slot`` with ``quote`` (pushed at ``pushed_ns``, ``age_ns`` old then)."""
        self.write_encoded(slot, self.encode(quote), pushed_ns, age_ns, instrument)

    def clear(self, slot: int, instrument: int) -> None:
        """Mark row ``slot`` as holding no quote."""
        if quote_clear(self.rows, slot, _as_i64(instrument)) == QUOTE_BUSY:
            raise QuoteTableBusy(f"quote row {slot} is locked by another writer")

    def _row(self, code: int) -> QuoteRow:
        out = self._out
        if code == QUOTE_BUSY:
            return QuoteRow(code, None, 0, 0, 0)
        flags, s = int(out[QUOTE_W_FLAGS]), self.scale
        quote = None
        if flags & QUOTE_PRESENT:
            quote = make_quote(
                _price(out[QUOTE_W_MARK], s) if flags & QUOTE_HAS_MARK else None,
                _price(out[QUOTE_W_BID], s) if flags & QUOTE_HAS_BID else None,
                _price(out[QUOTE_W_ASK], s) if flags & QUOTE_HAS_ASK else None,
            )
        return QuoteRow(
            code, quote, int(out[QUOTE_W_PUSHED_NS]), int(out[QUOTE_W_AGE_NS]),
            int(out[QUOTE_W_INSTRUMENT]) & ((1 << 64) - 1),
        )  # fmt: skip

    def read(self, slot: int) -> QuoteRow:
        """Row ``slot`` (``QUOTE_OK``, ``QUOTE_EMPTY`` or ``QUOTE_BUSY``)."""
        return self._row(quote_read(self.rows, slot, self._out))

    def read_fresh(self, slot: int, ttl_ns: int | None, now: int) -> QuoteRow:
        """``read`` plus expiry at ``now`` (``ttl_ns`` None: infinite); QUOTE_EXPIRED keeps
        the stale quote."""
        ttl = QUOTE_TTL_INFINITE if ttl_ns is None else min(ttl_ns, _I64_MAX)
        return self._row(quote_read_fresh(self.rows, slot, ttl, now, self._out))


class QuoteTableMirror:
    """Writes a service's bucket updates through to a ``QuoteTable``, one row per bucket."""

    __slots__ = ("_rows_by_instrument", "_slots", "table")

    def __init__(self, table: QuoteTable) -> None:
        self.table = table
        self._slots: dict[tuple[int, int, int], int] = {}
        self._rows_by_instrument: dict[int, list[int]] = {}

    def row_of(self, instrument: int, kind: int, key: int) -> int | None:
        """The row of (instrument, bucket kind, account/group key), or None if never written."""
        return self._slots.get((instrument, kind, key))

    def _assign(self, instrument: int, kind: int, key: int) -> int:
        k = (instrument, kind, key)
        row = self._slots.get(k)
        if row is None:
            row = len(self._slots)
            if row >= self.table.capacity:
                raise QuoteTableFull(f"quote table is full ({self.table.capacity} rows)")
            self._slots[k] = row
            self._rows_by_instrument.setdefault(instrument, []).append(row)
        return row

    def prepare(self, targets: list[tuple[int, int, int]], quote: Quote) -> Any:
        """Check a push can be mirrored (rows free, prices exact) before the service mutates."""
        fresh = {t for t in targets if t not in self._slots}
        if len(self._slots) + len(fresh) > self.table.capacity:
            raise QuoteTableFull(f"quote table is full ({self.table.capacity} rows)")
        return self.table.encode(quote)

    def on_push(
        self, targets: list[tuple[int, int, int]], encoded: Any, pushed_ns: int, age_ns: int
    ) -> None:
        for instrument, kind, key in targets:
            row = self._assign(instrument, kind, key)
            self.table.write_encoded(row, encoded, pushed_ns, age_ns, instrument)

    def on_clear(self, instrument: int) -> None:
        for row in self._rows_by_instrument.get(instrument, ()):
            self.table.clear(row, instrument)


def attach_mirror(service: Any, mirror: QuoteTableMirror | None) -> None:
    """Write ``service``'s future pushes and clears through to ``mirror`` (None: detach)."""
    object.__setattr__(service, "_mirror", mirror)
