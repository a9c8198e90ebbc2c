"""Python-callable control operations on the kernel state (arrays in, ints out).

The kernels themselves work on raw pointers (``kernels.ptr``); these thin
entry points take the Book's NumPy arrays, so configuration, blocks and
introspection from Python reuse exactly the kernels' own code. They are not
on the order path (each call costs a Numba dispatch, ~0.5 µs).
"""

from __future__ import annotations

from . import blocks as _blocks
from .arena import arena_free
from .hashtable import tbl_create, tbl_find, tbl_get_or_insert, tbl_need
from .jit import njit
from .pipeline import space_needed
from .ptr import as_ptr
from .rate_limit import fw_reset
from .sliding_log import log_count

__all__ = [
    "ctl_arena_free",
    "ctl_block_external",
    "ctl_block_group",
    "ctl_engine_block",
    "ctl_fw_reset",
    "ctl_is_blocked",
    "ctl_log_count",
    "ctl_set_group",
    "ctl_space_needed",
    "ctl_tbl_create",
    "ctl_tbl_find",
    "ctl_tbl_get_or_insert",
    "ctl_tbl_get_or_insert_many",
    "ctl_tbl_need",
    "ctl_unblock",
]


@njit(cache=True)
def ctl_arena_free(state):  # type: ignore[no-untyped-def]
    return arena_free(as_ptr(state))


@njit(cache=True)
def ctl_space_needed(state):  # type: ignore[no-untyped-def]
    return space_needed(as_ptr(state))


@njit(cache=True)
def ctl_tbl_create(state, keyw, cap, roww):  # type: ignore[no-untyped-def]
    return tbl_create(as_ptr(state), keyw, cap, roww)


@njit(cache=True)
def ctl_tbl_find(state, t, k0, k1):  # type: ignore[no-untyped-def]
    return tbl_find(as_ptr(state), t, k0, k1)


@njit(cache=True)
def ctl_tbl_need(state, t):  # type: ignore[no-untyped-def]
    return tbl_need(as_ptr(state), t)


@njit(cache=True)
def ctl_tbl_get_or_insert(state, t, k0, k1):  # type: ignore[no-untyped-def]
    return tbl_get_or_insert(as_ptr(state), t, k0, k1)


@njit(cache=True)
def ctl_tbl_get_or_insert_many(state, table_word, k0, k1, start, rows):  # type: ignore[no-untyped-def]
    """``rows[i]``: the row of key ``(k0[i], k1[i])`` for ``i >= start``, inserted if absent.

    The table is the one whose header offset is ``state[table_word]``. Returns
    the first ``i`` not done: ``len(k0)``, or earlier when the arena ran short
    (grow it, then call again from there). One dispatch for a whole builder's
    keys instead of one per key (a million account barriers: seconds saved).
    """
    p = as_ptr(state)
    for i in range(start, k0.shape[0]):
        t = p[table_word]
        if arena_free(p) < tbl_need(p, t):
            return i
        row = tbl_get_or_insert(p, t, k0[i], k1[i])
        if row <= 0:
            return i
        rows[i] = row
    return k0.shape[0]


@njit(cache=True)
def ctl_block_external(state, shared, account, replace):  # type: ignore[no-untyped-def]
    return _blocks.block_external(as_ptr(state), as_ptr(shared), account, replace)


@njit(cache=True)
def ctl_unblock(state, shared, account):  # type: ignore[no-untyped-def]
    _blocks.unblock(as_ptr(state), as_ptr(shared), account)


@njit(cache=True)
def ctl_is_blocked(state, account):  # type: ignore[no-untyped-def]
    return _blocks.is_blocked(as_ptr(state), account)


@njit(cache=True)
def ctl_set_group(state, account, group):  # type: ignore[no-untyped-def]
    return _blocks.set_group(as_ptr(state), account, group)


@njit(cache=True)
def ctl_block_group(state, shared, group, on):  # type: ignore[no-untyped-def]
    return _blocks.block_group(as_ptr(state), as_ptr(shared), group, on)


@njit(cache=True)
def ctl_engine_block(shared, kind):  # type: ignore[no-untyped-def]
    """Set (first cause wins) or clear the engine-wide block; 1 if it changed, else 0."""
    return _blocks.engine_block(as_ptr(shared), kind)


@njit(cache=True)
def ctl_log_count(state, off, now, window):  # type: ignore[no-untyped-def]
    """What a dry run at ``now`` would count on the sliding log at ``off``."""
    return log_count(as_ptr(state), off, now, window)


@njit(cache=True)
def ctl_fw_reset(shared, row):  # type: ignore[no-untyped-def]
    """Forget the fixed window at ``shared[row:]`` atomically (shards may be pushing on it)."""
    fw_reset(as_ptr(shared), row)
