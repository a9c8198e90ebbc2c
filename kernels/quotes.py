"""Quote table kernels: seqlocked writes and torn-read-free reads of 64-byte quote rows.

Layout and protocol: ``openpit_shm.layout.quotes``. ``table`` is the
``int64[capacity, 8]`` array (any C-contiguous view, a shared segment's
included); ``slot`` is a row index (not bounds-checked: the caller owns the
index space). Every function returns an integer code, never raises.

=============================================================  ==================================
``quote_write(table, slot, flags, mark, bid, ask,``             QUOTE_OK, or QUOTE_BUSY when
``            pushed_ns, age_ns, instrument) -> code``           another writer kept the row
``quote_clear(table, slot, instrument) -> code``                write "no quote" (flags 0)
``quote_read(table, slot, out) -> code``                        copy the row into ``out``
                                                                (``int64[8]``): QUOTE_OK,
                                                                QUOTE_EMPTY or QUOTE_BUSY
``quote_read_fresh(table, slot, ttl_ns, now, out) -> code``     ``quote_read`` + expiry:
                                                                QUOTE_EXPIRED leaves the stale
                                                                quote in ``out``
``quote_age(pushed_ns, age_ns, now) -> ns``                     saturating age at ``now``
``quote_expired(pushed_ns, age_ns, ttl_ns, now) -> bool``       ``age >= ttl`` (ttl >= 0)
=============================================================  ==================================

Why every payload word is an atomic access: a plain load may be merged,
hoisted or torn by the compiler, and a read racing a write is only harmless
when both sides use atomics. On x86-64 the acquire loads and release stores
are plain ``mov`` instructions; the compare-and-swap is one ``lock cmpxchg``.
"""

from __future__ import annotations

import numpy as np

from openpit_shm.kernels.atomics import cpu_relax
from openpit_shm.kernels.jit import njit
from openpit_shm.kernels.ptr import as_ptr, p_cas, p_load_acquire, p_load_relaxed, p_store_release
from openpit_shm.layout.quotes import (
    QUOTE_BUSY,
    QUOTE_EMPTY,
    QUOTE_EXPIRED,
    QUOTE_OK,
    QUOTE_READ_SPINS,
    QUOTE_ROW_WORDS,
    QUOTE_W_AGE_NS,
    QUOTE_W_ASK,
    QUOTE_W_BID,
    QUOTE_W_FLAGS,
    QUOTE_W_INSTRUMENT,
    QUOTE_W_MARK,
    QUOTE_W_PUSHED_NS,
    QUOTE_W_SEQ,
    QUOTE_WRITE_SPINS,
)

__all__ = [
    "quote_age",
    "quote_clear",
    "quote_expired",
    "quote_read",
    "quote_read_fresh",
    "quote_write",
    "row_read_p",
    "row_write_p",
]

_I64_MAX = (1 << 63) - 1


@njit(cache=True, inline="always")
def quote_age(pushed_ns, age_ns, now):  # type: ignore[no-untyped-def]
    """``max(now - pushed_ns, 0) + age_ns``, saturating at int64 max (never wraps)."""
    if now <= pushed_ns:
        since = 0
    elif pushed_ns < 0 and now > _I64_MAX + pushed_ns:
        return _I64_MAX
    else:
        since = now - pushed_ns
    if age_ns > _I64_MAX - since:
        return _I64_MAX
    return since + age_ns


@njit(cache=True, inline="always")
def quote_expired(pushed_ns, age_ns, ttl_ns, now):  # type: ignore[no-untyped-def]
    """Whether a quote has aged past ``ttl_ns`` (negative: infinite, never)."""
    return ttl_ns >= 0 and quote_age(pushed_ns, age_ns, now) >= ttl_ns


@njit(cache=True, inline="always")
def row_write_p(p, base, flags, mark, bid, ask, pushed_ns, age_ns, instrument):  # type: ignore[no-untyped-def]
    """Replace the row at word ``base`` of pointer ``p`` under its seqlock (the writer side)."""
    seq_at = base + QUOTE_W_SEQ
    for _ in range(QUOTE_WRITE_SPINS):
        seq = p_load_relaxed(p, seq_at)
        # The CAS (acq_rel) both claims the row and keeps the payload stores below it.
        if seq & 1 == 0 and p_cas(p, seq_at, seq, seq + 1) == seq:
            p_store_release(p, base + QUOTE_W_FLAGS, flags)
            p_store_release(p, base + QUOTE_W_MARK, mark)
            p_store_release(p, base + QUOTE_W_BID, bid)
            p_store_release(p, base + QUOTE_W_ASK, ask)
            p_store_release(p, base + QUOTE_W_PUSHED_NS, pushed_ns)
            p_store_release(p, base + QUOTE_W_AGE_NS, age_ns)
            p_store_release(p, base + QUOTE_W_INSTRUMENT, instrument)
            p_store_release(p, seq_at, seq + 2)
            return QUOTE_OK
        cpu_relax()
    return QUOTE_BUSY


@njit(cache=True, inline="always")
def row_read_p(p, base):  # type: ignore[no-untyped-def]
    """The row at word ``base`` of ``p``, copied only if no write overlapped the copy:
    ``(code, seq, flags, mark, bid, ask, pushed_ns, age_ns, instrument)``, code
    QUOTE_OK, QUOTE_EMPTY (flags 0) or QUOTE_BUSY (the other words then 0)."""
    for _ in range(QUOTE_READ_SPINS):
        before = p_load_acquire(p, base + QUOTE_W_SEQ)
        if before & 1:
            cpu_relax()
            continue
        # Acquire loads: the second sequence load below cannot move above any of them.
        flags = p_load_acquire(p, base + QUOTE_W_FLAGS)
        mark = p_load_acquire(p, base + QUOTE_W_MARK)
        bid = p_load_acquire(p, base + QUOTE_W_BID)
        ask = p_load_acquire(p, base + QUOTE_W_ASK)
        pushed_ns = p_load_acquire(p, base + QUOTE_W_PUSHED_NS)
        age_ns = p_load_acquire(p, base + QUOTE_W_AGE_NS)
        instrument = p_load_acquire(p, base + QUOTE_W_INSTRUMENT)
        if p_load_relaxed(p, base + QUOTE_W_SEQ) != before:
            cpu_relax()
            continue
        code = QUOTE_EMPTY if flags == 0 else QUOTE_OK
        return code, before, flags, mark, bid, ask, pushed_ns, age_ns, instrument
    z = np.int64(0)
    return QUOTE_BUSY, z, z, z, z, z, z, z, z


@njit(cache=True)
def quote_write(table, slot, flags, mark, bid, ask, pushed_ns, age_ns, instrument):  # type: ignore[no-untyped-def]
    """Replace row ``slot`` under its seqlock; QUOTE_BUSY if another writer kept it."""
    return row_write_p(
        as_ptr(table), slot * QUOTE_ROW_WORDS, flags, mark, bid, ask, pushed_ns, age_ns, instrument
    )


@njit(cache=True)
def quote_clear(table, slot, instrument):  # type: ignore[no-untyped-def]
    """Write "no quote" into row ``slot`` (readers then see QUOTE_EMPTY)."""
    return quote_write(table, slot, 0, 0, 0, 0, 0, 0, instrument)


@njit(cache=True)
def quote_read(table, slot, out):  # type: ignore[no-untyped-def]
    """Copy row ``slot`` into ``out`` (int64[8]) only if no write overlapped the copy."""
    code, seq, flags, mark, bid, ask, pushed_ns, age_ns, instrument = row_read_p(
        as_ptr(table), slot * QUOTE_ROW_WORDS
    )
    if code == QUOTE_BUSY:
        return code
    out[QUOTE_W_SEQ] = seq
    out[QUOTE_W_FLAGS] = flags
    out[QUOTE_W_MARK] = mark
    out[QUOTE_W_BID] = bid
    out[QUOTE_W_ASK] = ask
    out[QUOTE_W_PUSHED_NS] = pushed_ns
    out[QUOTE_W_AGE_NS] = age_ns
    out[QUOTE_W_INSTRUMENT] = instrument
    return code


@njit(cache=True)
def quote_read_fresh(table, slot, ttl_ns, now, out):  # type: ignore[no-untyped-def]
    """``quote_read``, then QUOTE_EXPIRED when the quote aged past ``ttl_ns`` at ``now``."""
    code = quote_read(table, slot, out)
    if code != QUOTE_OK:
        return code
    if quote_expired(out[QUOTE_W_PUSHED_NS], out[QUOTE_W_AGE_NS], ttl_ns, now):
        return QUOTE_EXPIRED
    return QUOTE_OK
