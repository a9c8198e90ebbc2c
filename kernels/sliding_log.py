"""Bounded sliding-window logs for the rate limit's account and account+asset axes.

openpit keeps, per key, a deque of the timestamps of every attempt and drops
entries with ``now - ts >= window`` before each push; the count is the deque's
length. Under flood semantics (rejected attempts count too) that deque grows
without bound. This log keeps the same answers in bounded memory:

* a **ring** of the newest ``R`` timestamps, ``R = next_pow2(max_orders + 1)``
  when that is at most the engine's cap (``H_LOG_CAP``, default 64), else 0;
* a **summary** of timestamps pushed out of the ring: ``LOG_SLOTS`` counters
  over time slots of ``d = ceil(window / LOG_S)`` ns, plus the newest
  summarized timestamp.

``count = live ring entries + summary count``, where the summary counts
nothing once its newest entry has expired and otherwise counts every slot
that may still hold a live entry.

Guarantees (with a non-decreasing clock, as openpit's ``Instant``):

1. **Exact while the window's entries fit** (at most ``R`` live entries): the
   summary is then provably empty-or-expired (everything in it is older than
   ``R`` newer live entries), so the count equals openpit's deque length.
2. **Exact decisions whenever ``R >= max_orders + 1``**: if the summary
   contributes, more than ``R > max_orders`` entries are live, so both
   answers are "reject". Only the count printed in the reject text may then
   exceed openpit's.
3. **Never under-counts** (fail closed): the summary may count entries of
   its oldest slot that already expired, at most one slot's worth (the
   attempts of ``window / LOG_S`` ns), never fewer than are live.

A barrier with ``max_orders >= cap`` keeps no ring (``R = 0``, 11 words per
key): its decisions follow guarantee 3 only (a key can be rejected while up
to one slot's attempts beyond ``max_orders`` have in fact expired).

Without a ring the head word caches the last push's count, so a push at the
same instant as the previous one (all orders of one batch share ``now``)
costs one increment.

A window change (retune) re-buckets the summary conservatively into the slot
of its newest entry; a ``max_orders`` change resizes the ring on the next
touch (``log_ensure_class``), pushing surplus old entries into the summary.
Windows are u64 nanoseconds; one of 2**63 ns or more never expires.
"""

from __future__ import annotations

from openpit_shm.layout.state import (
    LG_C0,
    LG_META,
    LG_NEWEST,
    LG_R,
    LG_RING,
    LG_TOP,
    LG_TOP_START,
    LG_TOTAL,
    LG_W,
    LOG_CLASSES,
    LOG_S,
    LOG_SLOTS,
)

from .arena import log_alloc, log_release
from .fixed import I64_MAX, I64_MIN
from .jit import njit

__all__ = [
    "log_class_for",
    "log_count",
    "log_ensure_class",
    "log_push",
    "ring_of",
    "window_eff",
]

_LOW32 = 0xFFFFFFFF
EMPTY = I64_MIN  # LG_NEWEST of a summary holding nothing


@njit(cache=True, inline='always')
def window_eff(window):  # type: ignore[no-untyped-def]
    """A u64 window (stored as int64 bits) as a positive int64; huge windows saturate."""
    return I64_MAX if window < 0 else window


def log_class_for(max_orders: int, cap: int) -> int:
    """Size class for a barrier (Python, at configuration): 0 = summary only, k = ring 2**(k-1).

    The ring holds ``next_pow2(max_orders + 1)`` entries when that is at most
    ``cap``; a larger barrier keeps the summary only (see the module doc).
    """
    if max_orders + 1 > cap:
        return 0
    cls = 1
    r = 1
    while r < max_orders + 1:
        r <<= 1
        cls += 1
    return cls


@njit(cache=True, inline='always')
def ring_of(cls):  # type: ignore[no-untyped-def]
    """Ring capacity of size class ``cls``."""
    return 0 if cls == 0 else 1 << (cls - 1)


@njit(cache=True)
def _class_of(r):  # type: ignore[no-untyped-def]
    if r == 0:
        return 0
    cls = 1
    while (1 << (cls - 1)) < r:
        cls += 1
    return cls


@njit(cache=True, inline='always')
def _slot_width(w):  # type: ignore[no-untyped-def]
    return (w + LOG_S - 1) // LOG_S


@njit(cache=True, inline='always')
def _summary_clear(state, off):  # type: ignore[no-untyped-def]
    for j in range(LOG_SLOTS):
        state[off + LG_C0 + j] = 0
    state[off + LG_TOTAL] = 0
    state[off + LG_NEWEST] = EMPTY


@njit(cache=True, inline='always')
def _summary_count(state, off, now, w):  # type: ignore[no-untyped-def]
    """Upper bound of the live summarized entries (exact 0 once the newest expired).

    Starts from the running total and subtracts only the oldest slots that have
    expired, so the usual case (nothing expired) reads no counter at all.
    """
    newest = state[off + LG_NEWEST]
    if newest == EMPTY or now - newest >= w:
        return 0
    count = state[off + LG_TOTAL]
    if state[off + LG_W] != w:
        return count  # bucketed by another window: count it all
    d = _slot_width(w)
    top = state[off + LG_TOP]
    floor = now - w + 1  # the oldest timestamp still live
    # slot top - j spans [start - j*d, start - (j-1)*d); walk from the oldest kept one
    end = state[off + LG_TOP_START] - (LOG_S - 1) * d
    for j in range(LOG_S, 0, -1):
        if end > floor:  # this slot may hold live entries, and so may every newer one
            break
        count -= state[off + LG_C0 + (top - j) % LOG_SLOTS]
        end += d
    return count


@njit(cache=True, inline='always')
def _zero_slot(state, off, j):  # type: ignore[no-untyped-def]
    c = off + LG_C0 + j % LOG_SLOTS
    state[off + LG_TOTAL] -= state[c]
    state[c] = 0


@njit(cache=True, inline='always')
def _summary_add(state, off, ts, now, w):  # type: ignore[no-untyped-def]
    """Account one timestamp pushed out of the ring (or any push when the ring is 0).

    Divides only when the summary moves to a new slot (at most once per slot
    width) or is re-bucketed, never for a timestamp inside the top slot.
    """
    newest = state[off + LG_NEWEST]
    if newest != EMPTY and now - newest >= w:
        _summary_clear(state, off)  # everything summarized has expired
        newest = EMPTY
    d = _slot_width(w)
    if state[off + LG_W] != w:
        if newest != EMPTY:  # re-bucket under the new window: all in the newest entry's slot
            total = state[off + LG_TOTAL]
            _summary_clear(state, off)
            state[off + LG_NEWEST] = newest
            top = newest // d
            state[off + LG_TOP] = top
            state[off + LG_TOP_START] = top * d
            state[off + LG_C0 + top % LOG_SLOTS] = total
            state[off + LG_TOTAL] = total
        state[off + LG_W] = w
    if newest == EMPTY:
        k = ts // d
        state[off + LG_TOP] = k
        state[off + LG_TOP_START] = k * d
        state[off + LG_NEWEST] = ts
    else:
        top = state[off + LG_TOP]
        delta = ts - state[off + LG_TOP_START]
        if 0 <= delta < d:
            k = top
        elif delta >= d:
            k = ts // d
            if k - top >= LOG_SLOTS:
                for j in range(LOG_SLOTS):
                    state[off + LG_C0 + j] = 0
                state[off + LG_TOTAL] = 0
            else:
                for j in range(top + 1, k + 1):
                    _zero_slot(state, off, j)
            state[off + LG_TOP] = k
            state[off + LG_TOP_START] = k * d
        else:
            k = ts // d
            if k < top - LOG_S:
                k = top - LOG_S  # older than the summary reaches (clock went back): keep it longer
        if ts > newest:
            state[off + LG_NEWEST] = ts
    state[off + LG_C0 + k % LOG_SLOTS] += 1
    state[off + LG_TOTAL] += 1


@njit(cache=True, inline='always')
def log_count(state, off, now, window):  # type: ignore[no-untyped-def]
    """The count a push at ``now`` would report, without pushing (dry runs)."""
    w = window_eff(window)
    r = state[off + LG_R]
    if r == 0:
        return 1 + _summary_count(state, off, now, w)
    meta = state[off + LG_META]
    head = meta & _LOW32
    ln = meta >> 32
    mask = r - 1
    while ln > 0 and now - state[off + LG_RING + head] >= w:
        head = (head + 1) & mask
        ln -= 1
    return ln + 1 + _summary_count(state, off, now, w)


@njit(cache=True, inline='always')
def log_push(state, off, now, window):  # type: ignore[no-untyped-def]
    """Drop expired entries, record ``now``, return the count including it."""
    w = window_eff(window)
    r = state[off + LG_R]
    if r == 0:
        # Without a ring, LG_META caches the count of the last push. A push at the
        # same instant (every order of one batch shares ``now``) expires nothing, so
        # the count is that one plus this push: exactly what recomputing would give.
        if state[off + LG_NEWEST] == now and state[off + LG_W] == w:
            top = state[off + LG_TOP]
            state[off + LG_C0 + top % LOG_SLOTS] += 1
            state[off + LG_TOTAL] += 1
            count = state[off + LG_META] + 1
        else:
            _summary_add(state, off, now, now, w)
            count = _summary_count(state, off, now, w)
        state[off + LG_META] = count
        return count
    meta = state[off + LG_META]
    head = meta & _LOW32
    ln = meta >> 32
    mask = r - 1
    ring = off + LG_RING
    while ln > 0 and now - state[ring + head] >= w:
        head = (head + 1) & mask
        ln -= 1
    if ln == r:
        _summary_add(state, off, state[ring + head], now, w)
        head = (head + 1) & mask
        ln -= 1
    state[ring + ((head + ln) & mask)] = now
    ln += 1
    state[off + LG_META] = head | (ln << 32)
    return ln + _summary_count(state, off, now, w)


@njit(cache=True)
def log_ensure_class(state, off, cls, now, window, inline):  # type: ignore[no-untyped-def]
    """The offset of a log of class ``cls`` holding ``off``'s entries (``off`` 0: a new log).

    ``inline`` (> 0) is room inside the owner's row for a summary-only log (class
    0); it is used instead of a separate block and is never put on a free list.
    Returns ``off`` itself when it already has that class, the new log
    otherwise (a separate old block is recycled), or -1 if the arena is short.
    """
    if cls < 0 or cls >= LOG_CLASSES:
        cls = 0
    if off != 0 and state[off + LG_R] == ring_of(cls):
        return off
    if cls == 0 and inline > 0:
        new = inline
        for k in range(LG_RING):
            state[new + k] = 0
    else:
        new = log_alloc(state, cls)
        if new < 0:
            return -1
    r = ring_of(cls)
    state[new + LG_R] = r
    state[new + LG_NEWEST] = EMPTY
    if off == 0:
        return new
    # carry the summary over, then the ring, oldest first; surplus goes to the summary
    for k in range(LG_W, LG_RING):
        state[new + k] = state[off + k]
    w = window_eff(window)
    old_r = state[off + LG_R]
    meta = state[off + LG_META]
    head = meta & _LOW32
    ln = meta >> 32 if old_r != 0 else 0
    while ln > 0 and now - state[off + LG_RING + head] >= w:  # drop what has expired
        head = (head + 1) & (old_r - 1)
        ln -= 1
    keep = ln if ln < r else r
    for i in range(ln):
        ts = state[off + LG_RING + ((head + i) & (old_r - 1))]
        if i < ln - keep:
            _summary_add(state, new, ts, now, w)
        else:
            state[new + LG_RING + (i - (ln - keep))] = ts
    state[new + LG_META] = keep << 32
    if r == 0:  # the head word caches the count for the same-instant fast path
        state[new + LG_META] = _summary_count(state, new, now, w)
    if off != inline:
        log_release(state, off, _class_of(old_r))
    return new
