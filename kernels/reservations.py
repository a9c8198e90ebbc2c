"""Reservation and request handles for the batch and shared-memory doors.

An accepted ``MSG_ORDER`` (without auto-commit) gets a reservation handle, a
``MSG_START`` a request handle; ``MSG_EXECUTE`` turns a request into a
reservation, ``MSG_COMMIT``/``MSG_ROLLBACK`` finalize one. Each is single
use: a stale, unknown or already finalized handle is an error result, never
a second effect, and only the client slot that created a handle may use it.

Handles are ``layout.handles`` words: (shard, client, generation, index).
A slot starts with two words (``RS_GEN_STATE = generation << 8 | client << 3 | state``,
``RS_LINK`` = the account while live, the next free slot + 1 while free); the
generation goes up each time a slot is reused, so an old handle never matches
a new owner, and the owning client is part of the word a handle must match,
so a handle forged with another client's number matches nothing. Free slots
form a LIFO list (``H_RES_FREE``, slot + 1; 0 = empty); fresh slots are taken
in order (``H_RES_FRESH``); a full table doubles (a copy of ``2 * cap`` words,
as rare as the table's growth), up to ``HANDLE_INDEX_LIMIT`` slots.

The table lives in the arena, so a restarted shard worker finalizes the
handles its predecessor gave out, each exactly once.

The rest of a slot carries its holds (``kernels.holds``): a reservation whose
accept took none is retired by its commit or rollback, one with holds lives on
(``RES_HELD``) after commit until its final fill.
"""

from __future__ import annotations

from openpit_shm.layout.handles import (
    HANDLE_GEN_BITS,
    HANDLE_INDEX_LIMIT,
    handle_client_nb,
    handle_generation_nb,
    handle_index_nb,
    handle_shard_nb,
    make_handle_nb,
)
from openpit_shm.layout.state import (
    H_RES_BASE,
    H_RES_CAP,
    H_RES_FREE,
    H_RES_FRESH,
    H_RES_LIVE,
    H_SHARD_ID,
    RES_FREE,
    RS_GEN_SHIFT,
    RS_GEN_STATE,
    RS_LINK,
    RS_N_LEGS,
    RS_OWNER_SHIFT,
    RS_STATE_MASK,
    W_RES,
)

from .arena import arena_alloc, arena_retire
from .codes import RSN_BAD_HANDLE, RSN_HANDLE_NOT_OWNER, RSN_HANDLE_WRONG_SHARD
from .jit import njit
from .redo import redo_put

__all__ = [
    "res_account",
    "res_alloc",
    "res_lookup",
    "res_need",
    "res_refusal",
    "res_release",
    "res_release_redo",
    "res_set_state",
    "res_state",
]

_GEN_MAX = (1 << HANDLE_GEN_BITS) - 1


@njit(cache=True, inline='always')
def res_need(state):  # type: ignore[no-untyped-def]
    """Most arena words the next ``res_alloc`` can allocate."""
    if state[H_RES_FREE] == 0 and state[H_RES_FRESH] >= state[H_RES_CAP]:
        return 2 * state[H_RES_CAP] * W_RES
    return 0


@njit(cache=True)
def res_alloc(state, account, st, client):  # type: ignore[no-untyped-def]
    """A new handle in state ``st`` for ``account``, owned by ``client``; 0 if there is no room.

    No room: the arena is short, or the table already holds ``HANDLE_INDEX_LIMIT`` slots.
    """
    free = state[H_RES_FREE]
    base = state[H_RES_BASE]
    if free != 0:
        i = free - 1
        state[H_RES_FREE] = state[base + i * W_RES + RS_LINK]
    else:
        cap = state[H_RES_CAP]
        if state[H_RES_FRESH] >= cap:
            if 2 * cap > HANDLE_INDEX_LIMIT:
                return 0
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
    gen = (state[s + RS_GEN_STATE] >> RS_GEN_SHIFT) + 1
    if gen > _GEN_MAX:
        gen = 1
    state[s + RS_GEN_STATE] = (gen << RS_GEN_SHIFT) | (client << RS_OWNER_SHIFT) | st
    state[s + RS_LINK] = account
    state[s + RS_N_LEGS] = 0  # (a retired slot's legs are already 0; a leaked one's are not)
    state[H_RES_LIVE] += 1
    return make_handle_nb(state[H_SHARD_ID], client, gen, i)


@njit(cache=True)
def res_refusal(state, handle, client):  # type: ignore[no-untyped-def]
    """Why ``client`` may not use ``handle`` here: ``(RSN_*, d1, d2)``, or ``(0, 0, 0)``.

    ``(0, 0, 0)`` means the handle may be looked up. A handle naming another
    shard (d1 = that shard, d2 = this one) or another client (d1 = the
    sender) is refused before the table is read, so a foreign handle cannot
    even probe whether it is live. The record door of custom-policy engines
    applies the same checks.
    """
    if handle <= 0:
        return RSN_BAD_HANDLE, 0, 0
    if handle_shard_nb(handle) != state[H_SHARD_ID]:
        return RSN_HANDLE_WRONG_SHARD, handle_shard_nb(handle), state[H_SHARD_ID]
    if handle_client_nb(handle) != client:
        return RSN_HANDLE_NOT_OWNER, client, 0
    return 0, 0, 0


@njit(cache=True)
def res_lookup(state, handle, st, client):  # type: ignore[no-untyped-def]
    """Slot offset of ``client``'s live handle in state ``st``, or -1."""
    i = handle_index_nb(handle)
    if i >= state[H_RES_FRESH]:
        return -1
    s = state[H_RES_BASE] + i * W_RES
    want = (handle_generation_nb(handle) << RS_GEN_SHIFT) | (client << RS_OWNER_SHIFT) | st
    if state[s + RS_GEN_STATE] != want:
        return -1
    return s


@njit(cache=True)
def res_account(state, s):  # type: ignore[no-untyped-def]
    return state[s + RS_LINK]


@njit(cache=True)
def res_set_state(state, s, st):  # type: ignore[no-untyped-def]
    state[s + RS_GEN_STATE] = (state[s + RS_GEN_STATE] & ~RS_STATE_MASK) | st


@njit(cache=True)
def res_release(state, s):  # type: ignore[no-untyped-def]
    """Retire a live handle's slot (its generation stays, so the handle never matches again)."""
    i = (s - state[H_RES_BASE]) // W_RES
    state[s + RS_GEN_STATE] = (state[s + RS_GEN_STATE] & ~RS_STATE_MASK) | RES_FREE
    state[s + RS_LINK] = state[H_RES_FREE]
    state[H_RES_FREE] = i + 1
    state[H_RES_LIVE] -= 1


@njit(cache=True, inline='always')
def res_state(state, s):  # type: ignore[no-untyped-def]
    """The ``RES_*`` state of slot ``s``."""
    return state[s + RS_GEN_STATE] & RS_STATE_MASK


@njit(cache=True)
def res_release_redo(state, s, k):  # type: ignore[no-untyped-def]
    """``res_release`` as redo entries ``k..``; returns the next entry (``kernels.redo``).

    The words are absolute values computed now, so retiring the slot is part of
    one journaled hold transition.
    """
    i = (s - state[H_RES_BASE]) // W_RES
    k = redo_put(state, k, s + RS_GEN_STATE, (state[s + RS_GEN_STATE] & ~RS_STATE_MASK) | RES_FREE)
    k = redo_put(state, k, s + RS_LINK, state[H_RES_FREE])
    k = redo_put(state, k, H_RES_FREE, i + 1)
    return redo_put(state, k, H_RES_LIVE, state[H_RES_LIVE] - 1)
