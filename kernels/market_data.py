"""Market data for kernels: the keyed quote table, its writers, and ``quote_for``.

Layout: ``openpit_shm.layout.quotes`` (header, index of ``(kind, instrument,
key)`` keys, seqlocked rows). ``q`` is a ``CPointer(int64)`` to the table's
first word and ``cap`` its slot count, which the caller knows from the engine
(the request view's ``V_QUOTES_CAP``), never from the shared header, so a
corrupted header cannot send a reader out of bounds.

=====================================================================  =========================
``qt_find(q, cap, kind, instrument, key) -> slot``                       -1 when absent
``qt_slot(q, cap, kind, instrument, key) -> slot``                       find or claim; -1 full
                                                                         (``QUOTE_FULL``), -2
                                                                         busy (``QUOTE_BUSY``)
``qt_put(q, cap, kind, instrument, key, flags, mark, bid, ask,``        write a keyed row (any
``       pushed_ns, age_ns) -> code``                                    writer: host or C)
``quote_for_at(q, cap, instrument, account, group, resolution, now)``   the read a policy does
``quote_for(view, instrument, account, group, resolution, now)``        same, table from the view
=====================================================================  =========================

``quote_for`` decides exactly as ``MarketDataService.get`` does (see
``marketdata.service``): an unregistered instrument is
``QUOTE_UNKNOWN_INSTRUMENT``; the bucket is the account's, then (resolution
permitting, and only if ``group >= 0``) the group's, then the default one; a
bucket with no quote is skipped; none left is ``QUOTE_EMPTY`` (unavailable).
The TTL is the 8-tier cascade for (instrument, account, group), the first
tier that is set deciding; ``QUOTE_EXPIRED`` returns the stale prices. A row
that stays locked by a writer is ``QUOTE_BUSY``: the caller fails closed.
Returns ``(code, flags, mark, bid, ask)``; ``flags`` says which prices are
present (``QUOTE_HAS_*``).
"""

from __future__ import annotations

import numpy as np

from openpit_shm.layout.quotes import (
    QK_ACCOUNT,
    QK_DEFAULT,
    QK_GROUP,
    QK_INSTRUMENT,
    QK_TTL_ACCOUNT,
    QK_TTL_GROUP,
    QK_TTL_INSTRUMENT_ACCOUNT,
    QK_TTL_INSTRUMENT_GROUP,
    QR_ACCOUNT_ONLY,
    QR_ACCOUNT_THEN_GROUP,
    QT_CFG_REGISTERED,
    QT_CFG_SET,
    QT_DEFAULT_TTL,
    QT_ENTRY_CLAIMING,
    QT_ENTRY_EMPTY,
    QT_ENTRY_READY,
    QT_HEADER_WORDS,
    QT_I_INSTRUMENT,
    QT_I_KEY,
    QT_I_KIND,
    QT_I_STATE,
    QT_INDEX_WORDS,
    QT_KINDS_USED,
    QT_USED,
    QUOTE_BUSY,
    QUOTE_EMPTY,
    QUOTE_EXPIRED,
    QUOTE_FULL,
    QUOTE_OK,
    QUOTE_ROW_WORDS,
    QUOTE_UNKNOWN_INSTRUMENT,
    QUOTE_WRITE_SPINS,
)
from openpit_shm.layout.view import V_QUOTES_ADDR, V_QUOTES_CAP

from .atomics import cpu_relax
from .hashtable import GOLDEN, fmix64
from .jit import njit
from .ptr import addr_ptr, p_cas, p_fetch_add, p_load_acquire, p_load_relaxed, p_store_release
from .quotes import quote_expired, row_read_p, row_write_p

__all__ = [
    "qt_find",
    "qt_put",
    "qt_slot",
    "quote_for",
    "quote_for_arr",
    "quote_for_at",
]

@njit(cache=True, inline="always")
def qt_hash(kind, instrument, key):  # type: ignore[no-untyped-def]
    """MurmurHash3 ``fmix64`` over the three key words (the C header has the same)."""
    h = fmix64(np.uint64(instrument) + GOLDEN)
    h = fmix64(h ^ np.uint64(key))
    return fmix64(h ^ np.uint64(kind))


@njit(cache=True, inline="always")
def _row_base(cap, slot):  # type: ignore[no-untyped-def]
    return QT_HEADER_WORDS + cap * QT_INDEX_WORDS + slot * QUOTE_ROW_WORDS


@njit(cache=True, inline="always")
def _matches(q, e, kind, instrument, key):  # type: ignore[no-untyped-def]
    return (
        p_load_relaxed(q, e + QT_I_KIND) == kind
        and p_load_relaxed(q, e + QT_I_INSTRUMENT) == instrument
        and p_load_relaxed(q, e + QT_I_KEY) == key
    )


@njit(cache=True)
def qt_find(q, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    """The slot of key ``(kind, instrument, key)``, or -1 (entries being claimed are skipped)."""
    mask = cap - 1
    i = np.int64(qt_hash(kind, instrument, key) & np.uint64(mask))
    for _ in range(cap):
        e = QT_HEADER_WORDS + i * QT_INDEX_WORDS
        state = p_load_acquire(q, e + QT_I_STATE)
        if state == QT_ENTRY_EMPTY:
            return -1
        if state == QT_ENTRY_READY and _matches(q, e, kind, instrument, key):
            return i
        i = (i + 1) & mask
    return -1


@njit(cache=True)
def qt_slot(q, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    """The slot of the key, claiming a free one if it has none: -1 full, -2 busy."""
    mask = cap - 1
    limit = cap - cap // 4
    i = np.int64(qt_hash(kind, instrument, key) & np.uint64(mask))
    for _ in range(cap):
        e = QT_HEADER_WORDS + i * QT_INDEX_WORDS
        spins = 0
        while True:
            state = p_load_acquire(q, e + QT_I_STATE)
            if state == QT_ENTRY_EMPTY:
                # Count the key first, so concurrent claimants never overfill the table.
                if p_fetch_add(q, QT_USED, 1) >= limit:
                    p_fetch_add(q, QT_USED, -1)
                    return -1
                if p_cas(q, e + QT_I_STATE, QT_ENTRY_EMPTY, QT_ENTRY_CLAIMING) == QT_ENTRY_EMPTY:
                    p_store_release(q, e + QT_I_KIND, kind)
                    p_store_release(q, e + QT_I_INSTRUMENT, instrument)
                    p_store_release(q, e + QT_I_KEY, key)
                    p_store_release(q, e + QT_I_STATE, QT_ENTRY_READY)
                    bit = np.int64(1) << kind
                    kinds = p_load_relaxed(q, QT_KINDS_USED)
                    while kinds & bit == 0:
                        seen = p_cas(q, QT_KINDS_USED, kinds, kinds | bit)
                        if seen == kinds:
                            break
                        kinds = seen
                    return i
                p_fetch_add(q, QT_USED, -1)  # another writer took it: look again
                continue
            if state == QT_ENTRY_CLAIMING:  # it may be claiming this very key: wait for it
                spins += 1
                if spins >= QUOTE_WRITE_SPINS:
                    return -2
                cpu_relax()
                continue
            break
        if _matches(q, e, kind, instrument, key):
            return i
        i = (i + 1) & mask
    return -1


@njit(cache=True)
def qt_put(q, cap, kind, instrument, key, flags, mark, bid, ask, pushed_ns, age_ns):  # type: ignore[no-untyped-def]
    """Write the row of key ``(kind, instrument, key)``: QUOTE_OK, QUOTE_FULL or QUOTE_BUSY."""
    slot = qt_slot(q, cap, kind, instrument, key)
    if slot == -1:
        return QUOTE_FULL
    if slot == -2:
        return QUOTE_BUSY
    return row_write_p(
        q, _row_base(cap, slot), flags, mark, bid, ask, pushed_ns, age_ns, instrument
    )


@njit(cache=True, inline="always")
def _kind_used(q, kind):  # type: ignore[no-untyped-def]
    return p_load_acquire(q, QT_KINDS_USED) & (np.int64(1) << kind) != 0


@njit(cache=True)
def _cfg(q, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    """A configuration row: (busy, flags, ttl); flags 0 when absent or cleared."""
    if not _kind_used(q, kind):
        return False, 0, 0
    slot = qt_find(q, cap, kind, instrument, key)
    if slot < 0:
        return False, 0, 0
    code, _, flags, ttl, _, _, _, _, _ = row_read_p(q, _row_base(cap, slot))
    return code == QUOTE_BUSY, flags, ttl


@njit(cache=True)
def _bucket(q, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    """A quote bucket: (code, flags, mark, bid, ask, pushed_ns, age_ns); QUOTE_EMPTY if none."""
    slot = qt_find(q, cap, kind, instrument, key) if _kind_used(q, kind) else -1
    if slot < 0:
        return QUOTE_EMPTY, 0, 0, 0, 0, 0, 0
    code, _, flags, mark, bid, ask, pushed, age, _ = row_read_p(q, _row_base(cap, slot))
    return code, flags, mark, bid, ask, pushed, age


@njit(cache=True, inline="always")
def _tier(q, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    """One tier: 0 not set, 1 set (ttl), 2 busy."""
    busy, flags, ttl = _cfg(q, cap, kind, instrument, key)
    if busy:
        return 2, ttl
    return (1 if flags & QT_CFG_SET else 0), ttl


@njit(cache=True)
def _ttl(q, cap, instrument, account, group):  # type: ignore[no-untyped-def]
    """The 8-tier cascade (``MarketDataService._effective_ttl``): (state, ttl ns, -1 infinite),
    state 1 decided, 2 busy."""
    st, ttl = _tier(q, cap, QK_TTL_INSTRUMENT_ACCOUNT, instrument, account)  # 1
    if st:
        return st, ttl
    if group >= 0:
        st, ttl = _tier(q, cap, QK_TTL_INSTRUMENT_GROUP, instrument, group)  # 2
        if st:
            return st, ttl
    st, ttl = _tier(q, cap, QK_TTL_INSTRUMENT_GROUP, instrument, 0)  # 3
    if st:
        return st, ttl
    st, ttl = _tier(q, cap, QK_TTL_ACCOUNT, 0, account)  # 4
    if st:
        return st, ttl
    if group >= 0:
        st, ttl = _tier(q, cap, QK_TTL_GROUP, 0, group)  # 5
        if st:
            return st, ttl
    st, ttl = _tier(q, cap, QK_TTL_GROUP, 0, 0)  # 6
    if st:
        return st, ttl
    st, ttl = _tier(q, cap, QK_INSTRUMENT, instrument, 0)  # 7
    if st:
        return st, ttl
    return 1, p_load_acquire(q, QT_DEFAULT_TTL)  # 8


@njit(cache=True)
def quote_for_at(q, cap, instrument, account, group, resolution, now):  # type: ignore[no-untyped-def]
    """The quote ``account`` (in ``group``, -1: none) sees for ``instrument`` at ``now``:
    ``(code, flags, mark, bid, ask)`` (see the module docstring)."""
    if cap <= 0:
        return QUOTE_EMPTY, 0, 0, 0, 0
    busy, reg, _ = _cfg(q, cap, QK_INSTRUMENT, instrument, 0)
    if busy:
        return QUOTE_BUSY, 0, 0, 0, 0
    if reg & QT_CFG_REGISTERED == 0:
        return QUOTE_UNKNOWN_INSTRUMENT, 0, 0, 0, 0
    # ``MarketDataService._select``: account, then group (if any), then default.
    code, flags, mark, bid, ask, pushed, age = _bucket(q, cap, QK_ACCOUNT, instrument, account)
    if code == QUOTE_EMPTY and resolution != QR_ACCOUNT_ONLY:
        fallback = resolution != QR_ACCOUNT_THEN_GROUP
        if group >= 0:
            kind = QK_DEFAULT if group == 0 else QK_GROUP
            key = 0 if group == 0 else group
            code, flags, mark, bid, ask, pushed, age = _bucket(q, cap, kind, instrument, key)
        if code == QUOTE_EMPTY and fallback:
            code, flags, mark, bid, ask, pushed, age = _bucket(q, cap, QK_DEFAULT, instrument, 0)
    if code != QUOTE_OK:
        return code, 0, 0, 0, 0
    state, ttl = _ttl(q, cap, instrument, account, group)
    if state == 2:
        return QUOTE_BUSY, 0, 0, 0, 0
    if quote_expired(pushed, age, ttl, now):
        return QUOTE_EXPIRED, flags, mark, bid, ask
    return QUOTE_OK, flags, mark, bid, ask


@njit(cache=True)
def quote_for(view, instrument, account, group, resolution, now):  # type: ignore[no-untyped-def]
    """``quote_for_at`` on the table the request view names (none: QUOTE_EMPTY)."""
    addr = view[V_QUOTES_ADDR]
    if addr == 0:
        return QUOTE_EMPTY, 0, 0, 0, 0
    return quote_for_at(
        addr_ptr(addr), view[V_QUOTES_CAP], instrument, account, group, resolution, now
    )


@njit(cache=True)
def quote_for_arr(table, cap, instrument, account, group, resolution, now):  # type: ignore[no-untyped-def]
    """``quote_for_at`` on a table array (Python-side checks and tests)."""
    return quote_for_at(
        addr_ptr(table.ctypes.data), cap, instrument, account, group, resolution, now
    )


@njit(cache=True)
def qt_put_arr(table, cap, kind, instrument, key, flags, mark, bid, ask, pushed_ns, age_ns):  # type: ignore[no-untyped-def]
    """``qt_put`` on a table array (the host's writer)."""
    return qt_put(
        addr_ptr(table.ctypes.data), cap, kind, instrument, key, flags, mark, bid, ask,
        pushed_ns, age_ns,
    )  # fmt: skip


@njit(cache=True)
def qt_find_arr(table, cap, kind, instrument, key):  # type: ignore[no-untyped-def]
    return qt_find(addr_ptr(table.ctypes.data), cap, kind, instrument, key)
