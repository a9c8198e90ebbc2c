"""Reservation and request handles for the batch and shared-memory doors.

An accepted ``MSG_ORDER`` (without auto-commit) gets a reservation handle, a
``MSG_START`` a request handle; ``MSG_EXECUTE`` turns a request into a
reservation, ``MSG_COMMIT``/``MSG_ROLLBACK`` finalize one. Each is single
use: a stale, unknown or already finalized handle is an error result, never
a second effect.

Handles are ``generation << 32 | slot``. A slot is two words
(``RS_GEN_STATE = generation << 2 | state``, ``RS_LINK`` = the account while
live, the next free slot + 1 while free); the generation goes up each time a
slot is reused, so an old handle never matches a new owner. Free slots form
a LIFO list (``H_RES_FREE``, slot + 1; 0 = empty); fresh slots are taken in
order (``H_RES_FRESH``); a full table doubles (a copy of ``2 * cap`` words, as
rare as the table's growth).

The builtin policies hold nothing in a reservation (they act in the start
stage and post-trade), so finalizing only retires the handle; policies that
hold funds would keep their amounts in the slot.
"""

from __future__ import annotations

from openpit_shm.layout.state import (
    H_RES_BASE,
    H_RES_CAP,
    H_RES_FREE,
    H_RES_FRESH,
    H_RES_LIVE,
    RES_FREE,
    RS_GEN_STATE,
    RS_LINK,
    W_RES,
)

from .arena import arena_alloc, arena_retire
from .jit import njit

__all__ = ["res_account", "res_alloc", "res_lookup", "res_need", "res_release", "res_set_state"]

_LOW32 = 0xFFFFFFFF
_GEN_MAX = (1 << 30) - 1


@njit(cache=True, inline='always')
def res_need(state):  # type: ignore[no-untyped-def]
    """Most arena words the next ``res_alloc`` can allocate."""
    if state[H_RES_FREE] == 0 and state[H_RES_FRESH] >= state[H_RES_CAP]:
        return 2 * state[H_RES_CAP] * W_RES
    return 0


@njit(cache=True)
def res_alloc(state, account, st):  # type: ignore[no-untyped-def]
    """A new handle in state ``st`` for ``account``; 0 if the arena is short."""
    free = state[H_RES_FREE]
    base = state[H_RES_BASE]
    if free != 0:
        i = free - 1
        state[H_RES_FREE] = state[base + i * W_RES + RS_LINK]
    else:
        cap = state[H_RES_CAP]
        if state[H_RES_FRESH] >= cap:
            region = arena_alloc(state, 2 * cap * W_RES)
            if region < 0:
                return 0
            for k in range(cap * W_RES):
                state[region + k] = state[base + k]
            arena_retire(state, base, cap * W_RES)
            base = region
            state[H_RES_BASE] = region
            state[H_RES_CAP] = 2 * cap
        i = state[H_RES_FRESH]
        state[H_RES_FRESH] = i + 1
    s = base + i * W_RES
    gen = (state[s + RS_GEN_STATE] >> 2) + 1
    if gen > _GEN_MAX:
        gen = 1
    state[s + RS_GEN_STATE] = (gen << 2) | st
    state[s + RS_LINK] = account
    state[H_RES_LIVE] += 1
    return (gen << 32) | i


@njit(cache=True)
def res_lookup(state, handle, st):  # type: ignore[no-untyped-def]
    """Slot offset of a live handle in state ``st``, or -1."""
    if handle <= 0:
        return -1
    i = handle & _LOW32
    gen = handle >> 32
    if i >= state[H_RES_FRESH]:
        return -1
    s = state[H_RES_BASE] + i * W_RES
    if state[s + RS_GEN_STATE] != ((gen << 2) | st):
        return -1
    return s


@njit(cache=True)
def res_account(state, s):  # type: ignore[no-untyped-def]
    return state[s + RS_LINK]


@njit(cache=True)
def res_set_state(state, s, st):  # type: ignore[no-untyped-def]
    state[s + RS_GEN_STATE] = (state[s + RS_GEN_STATE] & ~3) | st


@njit(cache=True)
def res_release(state, s):  # type: ignore[no-untyped-def]
    """Retire a live handle's slot (its generation stays, so the handle never matches again)."""
    i = (s - state[H_RES_BASE]) // W_RES
    state[s + RS_GEN_STATE] = (state[s + RS_GEN_STATE] & ~3) | RES_FREE
    state[s + RS_LINK] = state[H_RES_FREE]
    state[H_RES_FREE] = i + 1
    state[H_RES_LIVE] -= 1
