"""The arena's redo log: a multi-word change applied exactly once, even across a crash.

A hold transition changes several words (held counters, leg amounts, the slot's
state and the free list). It is first written as absolute ``(word, new value)``
pairs into the header's redo area (``H_REDO``), then published by setting the
entry count (``H_REDO_N``), applied, and cleared::

    redo_put(state, 0, w0, v0) ... redo_put(state, k - 1, ...)   nothing visible yet
    redo_apply(state, k)          H_REDO_N = k | apply pairs | H_REDO_N = 0

A process that dies before the count is set changed nothing; one that dies after
it left a log that ``redo_recover`` (run by every mutating entry before it reads
the arena) applies again: each pair writes the same absolute value, so applying
twice equals applying once. One arena has one writer (the Book's owner or the
shard's worker), so one log per arena is enough.
"""

from __future__ import annotations

from openpit_shm.layout.state import H_REDO, H_REDO_N, REDO_MAX

from .atomics import compiler_fence
from .jit import njit

__all__ = ["REDO_MAX", "redo_apply", "redo_put", "redo_recover"]


@njit(cache=True, inline='always')
def redo_put(state, k, word, value):  # type: ignore[no-untyped-def]
    """Stage entry ``k``: ``state[word] = value``; returns ``k + 1``."""
    state[H_REDO + 2 * k] = word
    state[H_REDO + 2 * k + 1] = value
    return k + 1


@njit(cache=True, inline='always')
def _replay(state, k):  # type: ignore[no-untyped-def]
    for j in range(k):
        state[state[H_REDO + 2 * j]] = state[H_REDO + 2 * j + 1]


@njit(cache=True)
def redo_apply(state, k):  # type: ignore[no-untyped-def]
    """Publish the ``k`` staged entries, apply them, clear the log."""
    compiler_fence()  # the pairs are in memory before the count that makes them live
    state[H_REDO_N] = k
    compiler_fence()
    _replay(state, k)
    compiler_fence()
    state[H_REDO_N] = 0


@njit(cache=True, inline='always')
def redo_recover(state):  # type: ignore[no-untyped-def]
    """Finish a transition a dead writer published but may not have applied; 1 if it did."""
    k = state[H_REDO_N]
    if k == 0:
        return 0
    _replay(state, k)
    compiler_fence()
    state[H_REDO_N] = 0
    return 1
