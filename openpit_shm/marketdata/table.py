"""``QuoteTable``: Python access to the keyed, seqlocked quote table, and a service mirror.

The table (``layout.quotes``, "The keyed table") holds one seqlocked row per
key: quote buckets ``(bucket kind, instrument, account/group)`` and the
configuration rows a kernel needs to decide like ``MarketDataService.get``
(registrations and the TTL tiers). ``kernels.market_data`` writes and reads
it; this module converts at the boundary: ``Quote`` -> fixed point exactly (a
price with more fractional digits than the scale, or beyond int64, raises
``FixedPointError``: never rounded), and back to a ``Quote`` whose prices
carry the engine's scale.

``QuoteTableMirror`` backs a ``MarketDataService`` with a table: every
registration, TTL change, ``push``/``push_by_instrument``/``push_for`` and
``clear`` is written through (``attach_mirror`` first copies what the
service already holds), so kernels in any process that maps the table read
the quotes without locks and decide as the service does. The service keeps
answering its own ``get`` from its exact-decimal copy (openpit's reprs keep
each price's own scale). Quotes a C producer pushes straight into the table
(``opshm_quote_push``) are seen by kernels only, not by the service's ``get``.
"""

from __future__ import annotations

import decimal
from typing import Any, NamedTuple

import numpy as np

from ..kernels.market_data import qt_find_arr, qt_put_arr, quote_for_arr
from ..kernels.quotes import quote_read, quote_read_fresh
from ..layout.quotes import (
    QK_GROUP,
    QK_INSTRUMENT,
    QK_TTL_ACCOUNT,
    QK_TTL_GROUP,
    QK_TTL_INSTRUMENT_ACCOUNT,
    QK_TTL_INSTRUMENT_GROUP,
    QT_CAPACITY,
    QT_CFG_REGISTERED,
    QT_CFG_SET,
    QT_DEFAULT_TTL,
    QT_ENTRY_READY,
    QT_HEADER_WORDS,
    QT_I_INSTRUMENT,
    QT_I_KEY,
    QT_I_KIND,
    QT_I_STATE,
    QT_INDEX_WORDS,
    QT_NO_GROUP,
    QT_SCALE,
    QT_USED,
    QT_VERSION,
    QUOTE_BUSY,
    QUOTE_EXPIRED,
    QUOTE_FULL,
    QUOTE_HAS_ASK,
    QUOTE_HAS_BID,
    QUOTE_HAS_MARK,
    QUOTE_OK,
    QUOTE_PRESENT,
    QUOTE_ROW_WORDS,
    QUOTE_TABLE_VERSION,
    QUOTE_TTL_INFINITE,
    QUOTE_W_AGE_NS,
    QUOTE_W_ASK,
    QUOTE_W_BID,
    QUOTE_W_FLAGS,
    QUOTE_W_INSTRUMENT,
    QUOTE_W_MARK,
    QUOTE_W_PUSHED_NS,
    quote_table_max_keys,
    quote_table_rows_at,
    quote_table_words,
)
from ..layout.records import FIXED_SCALE_DEFAULT
from ..param.fixed_point import FixedPointError, to_fixed
from ..param.values import Price
from .service import BUCKET_ACCOUNT, BUCKET_DEFAULT, BUCKET_GROUP, UNSET
from .values import Quote, make_quote

__all__ = [
    "BUCKET_ACCOUNT",
    "BUCKET_DEFAULT",
    "BUCKET_GROUP",
    "FixedPointError",
    "MirrorSet",
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
    """A keyed quote table over ``buffer`` (shared memory) or a private zeroed array.

    ``capacity``: slots (a power of two); 3/4 of them can hold keys. A new
    table's header is written here; ``fresh=False`` attaches one that another
    process made (its header is checked, not written).
    """

    __slots__ = ("capacity", "rows", "scale", "words")

    def __init__(
        self, capacity: int, scale: int = FIXED_SCALE_DEFAULT, buffer: Any = None,
        fresh: bool = True,
    ) -> None:  # fmt: skip
        n = quote_table_words(capacity)
        if buffer is None:
            words = np.zeros(n, np.int64)
        else:
            words = np.frombuffer(buffer, np.int64, count=n)
        self.words = words
        self.capacity = capacity
        self.scale = scale
        at = quote_table_rows_at(capacity)
        self.rows = words[at : at + capacity * QUOTE_ROW_WORDS].reshape(capacity, QUOTE_ROW_WORDS)
        if fresh:
            words[QT_CAPACITY] = capacity
            words[QT_SCALE] = scale
            words[QT_VERSION] = QUOTE_TABLE_VERSION
            words[QT_DEFAULT_TTL] = QUOTE_TTL_INFINITE
        elif (int(words[QT_CAPACITY]), int(words[QT_VERSION])) != (capacity, QUOTE_TABLE_VERSION):
            raise ValueError("not a quote table of this capacity and version")

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

    def put(
        self, kind: int, instrument: int, key: int, flags: int, mark: int = 0, bid: int = 0,
        ask: int = 0, pushed_ns: int = 0, age_ns: int = 0,
    ) -> None:  # fmt: skip
        """Write the row of key ``(kind, instrument, key)`` (claimed if new)."""
        code = qt_put_arr(
            self.words, self.capacity, kind, _as_i64(instrument), _as_i64(key), flags, mark, bid,
            ask, max(min(pushed_ns, _I64_MAX), -_I64_MAX), min(max(age_ns, 0), _I64_MAX),
        )  # fmt: skip
        if code == QUOTE_BUSY:
            raise QuoteTableBusy(f"quote row of {(kind, instrument, key)} is locked by a writer")
        if code == QUOTE_FULL:
            raise QuoteTableFull(f"quote table is full ({self.keys_max} keys)")

    def find(self, kind: int, instrument: int, key: int) -> int | None:
        """The row of a key, or None if it was never written."""
        slot = int(qt_find_arr(self.words, self.capacity, kind, _as_i64(instrument), _as_i64(key)))
        return None if slot < 0 else slot

    @property
    def keys_max(self) -> int:
        return quote_table_max_keys(self.capacity)

    @property
    def keys_used(self) -> int:
        return int(self.words[QT_USED])

    def index(self) -> np.ndarray:
        """The index entries ``int64[capacity, 4]``: state, kind, instrument, key."""
        at = QT_HEADER_WORDS
        return self.words[at : at + self.capacity * QT_INDEX_WORDS].reshape(self.capacity, 4)

    def set_default_ttl(self, ttl_ns: int | None) -> None:
        """Tier 8 (the service's default TTL; None: infinite)."""
        self.words[QT_DEFAULT_TTL] = _ttl_word(ttl_ns)

    def _row(self, row: int) -> QuoteRow:
        out = np.zeros(QUOTE_ROW_WORDS, np.int64)
        return self._decode(quote_read(self.rows, row, out), out)

    def _decode(self, code: int, out: np.ndarray) -> QuoteRow:
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

    def read(self, row: int) -> QuoteRow:
        """Row ``row`` (``QUOTE_OK``, ``QUOTE_EMPTY`` or ``QUOTE_BUSY``)."""
        return self._row(row)

    def read_fresh(self, row: int, ttl_ns: int | None, now: int) -> QuoteRow:
        """``read`` plus expiry at ``now`` (``ttl_ns`` None: infinite); QUOTE_EXPIRED keeps
        the stale quote."""
        out = np.zeros(QUOTE_ROW_WORDS, np.int64)
        ttl = QUOTE_TTL_INFINITE if ttl_ns is None else min(ttl_ns, _I64_MAX)
        return self._decode(quote_read_fresh(self.rows, row, ttl, now, out), out)

    def quote_for(
        self, instrument: int, account: int, group: int | None, resolution: int, now: int
    ) -> tuple[int, Quote | None]:
        """What a kernel's ``quote_for`` answers: ``(QUOTE_* code, quote or None)``."""
        code, flags, mark, bid, ask = quote_for_arr(
            self.words, self.capacity, _as_i64(instrument), _as_i64(account),
            QT_NO_GROUP if group is None else group, resolution, now,
        )  # fmt: skip
        if code not in (QUOTE_OK, QUOTE_EXPIRED):
            return int(code), None
        s = self.scale
        return int(code), make_quote(
            _price(mark, s) if flags & QUOTE_HAS_MARK else None,
            _price(bid, s) if flags & QUOTE_HAS_BID else None,
            _price(ask, s) if flags & QUOTE_HAS_ASK else None,
        )


def _ttl_word(ttl_ns: int | None) -> int:
    return QUOTE_TTL_INFINITE if ttl_ns is None else min(ttl_ns, _I64_MAX)


class QuoteTableMirror:
    """Writes a service's registrations, TTLs and bucket updates through to a ``QuoteTable``."""

    __slots__ = ("table",)

    def __init__(self, table: QuoteTable) -> None:
        self.table = table

    def row_of(self, instrument: int, kind: int, key: int) -> int | None:
        """The row of (instrument, bucket kind, account/group key), or None if never written."""
        return self.table.find(kind, instrument, key)

    def prepare(self, targets: list[tuple[int, int, int]], quote: Quote) -> Any:
        """Check a push can be mirrored (rows free, prices exact) before the service mutates."""
        table = self.table
        fresh = {t for t in targets if table.find(t[1], t[0], t[2]) is None}
        if table.keys_used + len(fresh) > table.keys_max:
            raise QuoteTableFull(f"quote table is full ({table.keys_max} keys)")
        return table.encode(quote)

    def on_push(
        self, targets: list[tuple[int, int, int]], encoded: Any, pushed_ns: int, age_ns: int
    ) -> None:
        flags, mark, bid, ask = encoded
        for instrument, kind, key in targets:
            self.table.put(kind, instrument, key, flags, mark, bid, ask, pushed_ns, age_ns)

    def on_clear(self, instrument: int) -> None:
        """Empty every quote bucket of ``instrument``, a C producer's included."""
        index = self.table.index()
        mine = (
            (index[:, QT_I_STATE] == QT_ENTRY_READY)
            & (index[:, QT_I_INSTRUMENT] == _as_i64(instrument))
            & (index[:, QT_I_KIND] <= QK_GROUP)
        )
        for slot in np.flatnonzero(mine):
            self.table.put(int(index[slot, QT_I_KIND]), instrument, int(index[slot, QT_I_KEY]), 0)

    def on_config(self, kind: int, instrument: int, key: int, ttl: Any) -> None:
        """A registration (``QK_INSTRUMENT``) or TTL tier row; ``ttl``: ns, None (infinite)
        or ``UNSET`` (cleared / inherit)."""
        flags = QT_CFG_REGISTERED if kind == QK_INSTRUMENT else 0
        if ttl is not UNSET:
            flags |= QT_CFG_SET
        word = 0 if ttl is UNSET else _ttl_word(ttl)
        if flags == 0 and self.table.find(kind, instrument, key) is None:
            return  # clearing what was never set: no key spent on it
        self.table.put(kind, instrument, key, flags, word)

    def on_register(self, key: tuple[str, str], value: int) -> None:
        """An instrument registered (the table learnt it through ``on_config``)."""

    def sync(self, service: Any) -> None:
        """Copy everything ``service`` holds (before the mirror was attached) into the table."""
        self.table.set_default_ttl(service._default_ttl)
        for acct, ns in service._account_ttls.items():
            self.on_config(QK_TTL_ACCOUNT, 0, acct, ns)
        for group, ns in service._group_ttls.items():
            self.on_config(QK_TTL_GROUP, 0, group, ns)
        for value, slot in service._slots.items():
            self.on_config(QK_INSTRUMENT, value, 0, slot.ttl)
            for acct, ns in slot.account_ttls.items():
                self.on_config(QK_TTL_INSTRUMENT_ACCOUNT, value, acct, ns)
            for group, ns in slot.group_ttls.items():
                self.on_config(QK_TTL_INSTRUMENT_GROUP, value, group, ns)
            for acct, (q, pushed, age) in slot.account_quotes.items():
                self.on_push([(value, BUCKET_ACCOUNT, acct)], self.table.encode(q), pushed, age)
            for group, (q, pushed, age) in slot.group_quotes.items():
                target = (value, BUCKET_DEFAULT, 0) if group == 0 else (value, BUCKET_GROUP, group)
                self.on_push([target], self.table.encode(q), pushed, age)


class MirrorSet:
    """Several mirrors of one service (one per engine it was given to)."""

    __slots__ = ("mirrors",)

    def __init__(self, mirrors: list[QuoteTableMirror]) -> None:
        self.mirrors = mirrors

    def prepare(self, targets: list[tuple[int, int, int]], quote: Quote) -> Any:
        return [m.prepare(targets, quote) for m in self.mirrors]

    def on_push(self, targets: Any, encoded: Any, pushed_ns: int, age_ns: int) -> None:
        for m, e in zip(self.mirrors, encoded, strict=True):
            m.on_push(targets, e, pushed_ns, age_ns)

    def on_clear(self, instrument: int) -> None:
        for m in self.mirrors:
            m.on_clear(instrument)

    def on_config(self, kind: int, instrument: int, key: int, ttl: Any) -> None:
        for m in self.mirrors:
            m.on_config(kind, instrument, key, ttl)

    def on_register(self, key: tuple[str, str], value: int) -> None:
        for m in self.mirrors:
            m.on_register(key, value)


def attach_mirror(service: Any, mirror: QuoteTableMirror | None) -> None:
    """Write ``service``'s state now and its future changes through to ``mirror`` (None:
    detach every mirror). A service given to several engines keeps one mirror each."""
    with service._lock:
        if mirror is None:
            object.__setattr__(service, "_mirror", None)
            return
        mirror.sync(service)
        current = service._mirror
        if current is None:
            object.__setattr__(service, "_mirror", mirror)
        elif isinstance(current, MirrorSet):
            current.mirrors.append(mirror)
        else:
            object.__setattr__(service, "_mirror", MirrorSet([current, mirror]))
