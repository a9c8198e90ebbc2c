"""Small harnesses for kernel tests: bare arenas and njit loops over pointer kernels."""

from __future__ import annotations

import numpy as np
from numba import njit

from openpit_shm.kernels.hashtable import tbl_create, tbl_find, tbl_get_or_insert
from openpit_shm.kernels.ptr import as_ptr
from openpit_shm.layout.state import H_CAP, H_SIZE, H_TOP, TB_MIGRATE, TB_OLD_CAP


def bare_arena(words: int) -> np.ndarray:
    """An arena with only the allocator words of the header set."""
    st = np.zeros(words, dtype=np.int64)
    st[H_TOP] = H_SIZE
    st[H_CAP] = words
    return st


@njit(cache=True)
def new_table(state, keyw, cap, roww):  # type: ignore[no-untyped-def]
    return tbl_create(as_ptr(state), keyw, cap, roww)


@njit(cache=True)
def insert_all(state, t, k0s, k1s, steps):  # type: ignore[no-untyped-def]
    """Insert keys, writing k0 into each row; ``steps[i]`` = old slots migrated by insert i.

    Returns the index of the first insert that ran out of space, or -1.
    """
    p = as_ptr(state)
    for i in range(k0s.shape[0]):
        before_cap = p[t + TB_OLD_CAP]
        before = p[t + TB_MIGRATE]
        row = tbl_get_or_insert(p, t, k0s[i], k1s[i])
        if row < 0:
            return i
        p[row] = k0s[i]
        p[row + 1] = k1s[i]
        after = p[t + TB_MIGRATE] if p[t + TB_OLD_CAP] != 0 else before_cap
        steps[i] = after - before if before_cap != 0 or p[t + TB_OLD_CAP] != 0 else 0
    return -1


@njit(cache=True)
def find_all(state, t, k0s, k1s, rows):  # type: ignore[no-untyped-def]
    p = as_ptr(state)
    for i in range(k0s.shape[0]):
        rows[i] = tbl_find(p, t, k0s[i], k1s[i])


from openpit_shm.kernels.sliding_log import log_count, log_ensure_class, log_push  # noqa: E402


@njit(cache=True)
def log_new(state, cls):  # type: ignore[no-untyped-def]
    return log_ensure_class(as_ptr(state), 0, cls, 0, 1, 0)


@njit(cache=True)
def log_run(state, off, times, windows, dry, counts):  # type: ignore[no-untyped-def]
    """Push (or peek, where ``dry[i]``) each timestamp; record the count each reports."""
    p = as_ptr(state)
    for i in range(times.shape[0]):
        if dry[i]:
            counts[i] = log_count(p, off, times[i], windows[i])
        else:
            counts[i] = log_push(p, off, times[i], windows[i])


@njit(cache=True)
def log_resize(state, off, cls, now, window, inline=0):  # type: ignore[no-untyped-def]
    return log_ensure_class(as_ptr(state), off, cls, now, window, inline)
