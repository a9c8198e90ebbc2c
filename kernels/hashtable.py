"""Open-addressing hash tables inside the state arena: keys -> fixed-width row offsets.

One table maps a key of one word (account id; group id) or two words
((account, asset id)) to the arena offset of a fixed-width row. Rows are
allocated from the arena when a key is first inserted, start zeroed, and never
move, so kernels can keep a row offset for the duration of a call and the
table itself stores only ``[key0, (key1), row]`` per slot (``row == 0`` is an
empty slot; row offsets are never 0 because the arena header sits there).

Probing is linear over a power-of-two capacity with a 64-bit finalizer hash
(MurmurHash3 ``fmix64``), so clustered account ids (1, 2, 3, ...) spread out.
Keys are never deleted: accounts and (account, asset) pairs keep their state
(latched blocks, P&L accumulators, rate-limit logs) for the engine's life.

Growth is incremental, never stop-the-world: when an insert would push the
load above 3/4, a region twice the size is allocated (zero, so nothing is
written up front) and becomes the *current* region; the old one is then
migrated ``MIGRATE_STEP`` slots per insert. Until it is drained, lookups that
miss the current region also probe the old one (which is read-only, so its
probe chains stay valid). Migration finishes long before the new region can
fill (a region of ``cap`` slots drains in ``cap / MIGRATE_STEP`` inserts, while
the next growth needs ``3 * cap / 4`` more). The retired region becomes the
arena's scrap region, from which later rows are carved (``kernels.arena``).
The worst pause of one insert is therefore ``MIGRATE_STEP`` slot copies plus
the allocation (a pointer bump).
"""

from __future__ import annotations

import numpy as np

from openpit_shm.layout.state import (
    TB_CAP,
    TB_COUNT,
    TB_KEYW,
    TB_MIGRATE,
    TB_OLD_CAP,
    TB_OLD_SLOTS,
    TB_ROWW,
    TB_SIZE,
    TB_SLOTS,
)

from .arena import arena_alloc, arena_alloc_row, arena_retire
from .jit import njit
from .ptr import prefetch

__all__ = [
    "GOLDEN",
    "MIGRATE_STEP",
    "fmix64",
    "tbl_create",
    "tbl_find",
    "tbl_get_or_insert",
    "tbl_need",
    "tbl_prefetch",
]

MIGRATE_STEP = 8

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S33 = np.uint64(33)


@njit(cache=True, inline='always')
def fmix64(h):  # type: ignore[no-untyped-def]
    """MurmurHash3's 64-bit finalizer (table slots here, quote keys in ``kernels.market_data``)."""
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


@njit(cache=True, inline='always')
def _hash(k0, k1):  # type: ignore[no-untyped-def]
    return fmix64(np.uint64(k0) ^ fmix64(np.uint64(k1) + GOLDEN))


@njit(cache=True)
def tbl_create(state, keyw, cap, roww):  # type: ignore[no-untyped-def]
    """A new empty table (header + ``cap`` slots, ``cap`` a power of two); -1 if no space."""
    t = arena_alloc(state, TB_SIZE + cap * (keyw + 1))
    if t < 0:
        return -1
    state[t + TB_KEYW] = keyw
    state[t + TB_CAP] = cap
    state[t + TB_SLOTS] = t + TB_SIZE
    state[t + TB_ROWW] = roww
    return t


@njit(cache=True, inline='always')
def _probe(state, slots, cap, keyw, k0, k1, h):  # type: ignore[no-untyped-def]
    """Slot offset holding the key, or (negated - 1) offset of the empty slot ending the chain."""
    slotw = keyw + 1
    mask = cap - 1
    i = np.int64(h & np.uint64(mask))
    while True:
        s = slots + i * slotw
        if state[s + keyw] == 0:
            return -s - 1
        if state[s] == k0 and (keyw == 1 or state[s + 1] == k1):
            return s
        i = (i + 1) & mask


@njit(cache=True, inline='always')
def tbl_find(state, t, k0, k1):  # type: ignore[no-untyped-def]
    """Row offset of the key, or 0 if absent. ``k1`` is ignored by one-word tables."""
    keyw = state[t + TB_KEYW]
    h = _hash(k0, k1 if keyw == 2 else 0)
    s = _probe(state, state[t + TB_SLOTS], state[t + TB_CAP], keyw, k0, k1, h)
    if s >= 0:
        return state[s + keyw]
    old_cap = state[t + TB_OLD_CAP]
    if old_cap != 0:
        s = _probe(state, state[t + TB_OLD_SLOTS], old_cap, keyw, k0, k1, h)
        if s >= 0:
            return state[s + keyw]
    return 0


@njit(cache=True, inline='always')
def tbl_prefetch(state, t, k0, k1):  # type: ignore[no-untyped-def]
    """Start fetching the slot where a lookup of the key begins (a hint; never faults)."""
    keyw = state[t + TB_KEYW]
    h = _hash(k0, k1 if keyw == 2 else 0)
    i = np.int64(h & np.uint64(state[t + TB_CAP] - 1))
    prefetch(state, state[t + TB_SLOTS] + i * (keyw + 1))


@njit(cache=True)
def _place(state, t, k0, k1, row):  # type: ignore[no-untyped-def]
    """Store a key known to be absent from the current region."""
    keyw = state[t + TB_KEYW]
    h = _hash(k0, k1 if keyw == 2 else 0)
    s = -_probe(state, state[t + TB_SLOTS], state[t + TB_CAP], keyw, k0, k1, h) - 1
    state[s] = k0
    if keyw == 2:
        state[s + 1] = k1
    state[s + keyw] = row


@njit(cache=True)
def _migrate(state, t, steps):  # type: ignore[no-untyped-def]
    """Move up to ``steps`` old slots into the current region; retire the old one when done."""
    old_cap = state[t + TB_OLD_CAP]
    if old_cap == 0:
        return
    keyw = state[t + TB_KEYW]
    slotw = keyw + 1
    old = state[t + TB_OLD_SLOTS]
    pos = state[t + TB_MIGRATE]
    end = min(pos + steps, old_cap)
    while pos < end:
        s = old + pos * slotw
        row = state[s + keyw]
        if row != 0:
            _place(state, t, state[s], state[s + 1] if keyw == 2 else 0, row)
        pos += 1
    state[t + TB_MIGRATE] = pos
    if pos >= old_cap:
        state[t + TB_OLD_CAP] = 0
        state[t + TB_OLD_SLOTS] = 0
        state[t + TB_MIGRATE] = 0
        arena_retire(state, old, old_cap * slotw)


@njit(cache=True, inline='always')
def tbl_need(state, t):  # type: ignore[no-untyped-def]
    """Most words the next ``tbl_get_or_insert`` on ``t`` can allocate."""
    cap = state[t + TB_CAP]
    need = state[t + TB_ROWW]
    if (state[t + TB_COUNT] + 1) * 4 > cap * 3:
        need += 2 * cap * (state[t + TB_KEYW] + 1)
    return need


@njit(cache=True)
def tbl_get_or_insert(state, t, k0, k1):  # type: ignore[no-untyped-def]
    """Row offset of the key, inserting a zeroed row if absent; -1 if the arena is short."""
    row = tbl_find(state, t, k0, k1)
    if row != 0:
        return row
    keyw = state[t + TB_KEYW]
    cap = state[t + TB_CAP]
    if (state[t + TB_COUNT] + 1) * 4 > cap * 3:
        if state[t + TB_OLD_CAP] != 0:  # never expected (see module doc); drain it first
            _migrate(state, t, state[t + TB_OLD_CAP])
        region = arena_alloc(state, 2 * cap * (keyw + 1))
        if region < 0:
            return -1
        state[t + TB_OLD_CAP] = cap
        state[t + TB_OLD_SLOTS] = state[t + TB_SLOTS]
        state[t + TB_MIGRATE] = 0
        state[t + TB_SLOTS] = region
        state[t + TB_CAP] = 2 * cap
    row = arena_alloc_row(state, state[t + TB_ROWW])
    if row < 0:
        return -1
    _place(state, t, k0, k1, row)
    state[t + TB_COUNT] += 1
    _migrate(state, t, MIGRATE_STEP)
    return row
