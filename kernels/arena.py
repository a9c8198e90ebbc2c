"""Bump allocation inside the state arena, plus size-class free lists for sliding-window logs.

The arena (``layout.state``) is one int64 array; its header word ``H_TOP`` is
the bump pointer and ``H_CAP`` its length. Regions handed out are zero:
fresh arena words were never written (the Book zero-fills when it grows the
arena) and recycled words are cleared on reuse.

Rows never move and are never freed. Two things are recycled:

* a hash-table region retired by incremental growth becomes the **scrap**
  region: small allocations (rows, log blocks) are carved from it (and
  zeroed) before the bump pointer moves, so growth does not leave dead
  memory behind (what cannot be reused is counted in ``H_RETIRED``);
* sliding-window log blocks, whose size depends on a barrier's
  ``max_orders`` and changes when the barrier is retuned, go to one free list
  per size class.

Allocation never fails silently: ``arena_alloc`` returns -1 when the arena is
short, and every mutating entry point asks ``arena_free`` first (see
``kernels.pipeline``) so it can report ``ST_NEED_SPACE`` *before* changing
anything; the Book then grows the arena and retries.
"""

from __future__ import annotations

from openpit_shm.layout.state import (
    H_CAP,
    H_LOG_FREE,
    H_RETIRED,
    H_SCRAP,
    H_SCRAP_END,
    H_TOP,
    LG_RING,
    ROW_ALIGN,
)

from .jit import njit

__all__ = [
    "arena_alloc",
    "arena_alloc_row",
    "arena_alloc_small",
    "arena_free",
    "arena_retire",
    "log_alloc",
    "log_block_words",
    "log_release",
]


@njit(cache=True, inline='always')
def arena_free(state):  # type: ignore[no-untyped-def]
    """Words still available for bump allocation."""
    return state[H_CAP] - state[H_TOP]


@njit(cache=True)
def arena_alloc(state, n):  # type: ignore[no-untyped-def]
    """Offset of ``n`` fresh (zero) words, or -1 if the arena is short."""
    top = state[H_TOP]
    if top + n > state[H_CAP]:
        return -1
    state[H_TOP] = top + n
    return top


@njit(cache=True)
def arena_alloc_small(state, n):  # type: ignore[no-untyped-def]
    """Offset of ``n`` zero words, carved from the scrap region when it has room; -1 if short."""
    off = state[H_SCRAP]
    if state[H_SCRAP_END] - off >= n:
        for i in range(n):
            state[off + i] = 0
        state[H_SCRAP] = off + n
        return off
    return arena_alloc(state, n)


@njit(cache=True)
def arena_alloc_row(state, n):  # type: ignore[no-untyped-def]
    """Like ``arena_alloc_small``, starting a row of >= ROW_ALIGN words on a 64-byte line.

    Rows are multiples of 8 words, so aligned rows pack without gaps; only the
    padding in front of the first aligned row of a region is lost.
    """
    if n >= ROW_ALIGN:
        off = state[H_SCRAP]
        pad = (-off) % ROW_ALIGN
        if state[H_SCRAP_END] - off >= n + pad:
            state[H_SCRAP] = off + pad
            state[H_RETIRED] += pad
        else:
            top = state[H_TOP]
            pad = (-top) % ROW_ALIGN
            if top + pad + n > state[H_CAP]:
                return -1
            state[H_TOP] = top + pad
            state[H_RETIRED] += pad
    return arena_alloc_small(state, n)


@njit(cache=True)
def arena_retire(state, off, n):  # type: ignore[no-untyped-def]
    """Hand a region nobody references any more to the scrap allocator."""
    left = state[H_SCRAP_END] - state[H_SCRAP]
    if n > left:
        state[H_RETIRED] += left
        state[H_SCRAP] = off
        state[H_SCRAP_END] = off + n
    else:
        state[H_RETIRED] += n


@njit(cache=True)
def log_block_words(cls):  # type: ignore[no-untyped-def]
    """Words of a sliding-log block of size class ``cls`` (ring of 0, 1, 2, 4, ... entries)."""
    if cls == 0:
        return LG_RING
    return LG_RING + (1 << (cls - 1))


@njit(cache=True)
def log_alloc(state, cls):  # type: ignore[no-untyped-def]
    """A zeroed log block of class ``cls`` (recycled first), or -1 if the arena is short."""
    head = state[H_LOG_FREE + cls]
    n = log_block_words(cls)
    if head != 0:
        state[H_LOG_FREE + cls] = state[head]
        for i in range(n):
            state[head + i] = 0
        return head
    return arena_alloc_small(state, n)


@njit(cache=True)
def log_release(state, off, cls):  # type: ignore[no-untyped-def]
    """Return a log block to its class's free list (its word 0 becomes the link)."""
    state[off] = state[H_LOG_FREE + cls]
    state[H_LOG_FREE + cls] = off
