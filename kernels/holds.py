"""Holds: what an accepted order keeps reserved until commit, rollback or its last fill.

A builtin's main stage proposes hold legs into the request view
(``propose_leg``: kind, the arena word of the held counter, amount, basis); if the
whole order is accepted, ``holds_take`` moves them into the order's reservation
slot and adds each amount to its counter. From then on the kernels own the
lifecycle, one journaled transition each (``kernels.redo``: exactly once):

* commit (``holds_commit``): each holding kind's ``finalize(..., commit=True)``
  settles, then the slot stays live as ``RES_HELD`` until its final fill;
* rollback (``holds_release``): every leg's amount goes back, the slot is retired;
* a fill (``holds_fill``): first each holding kind's ``fill`` hook sees it
  (``fill_hooks``) and may stage counter deltas of its own into the view
  (``propose_fill_delta``: e.g. Spot Funds takes what was consumed at the lock
  price off the balance, so the price improvement is released); then each leg
  gives up what the fill consumed (its basis: the quantity, or the quantity at the
  group's lock price), and the hooks' deltas are applied in the same journaled
  transition; the final fill (or a fill leaving no remaining quantity) releases the
  remainder and retires the slot.

A slot without legs never reaches these: commit and rollback just retire it.
"""

from __future__ import annotations

from openpit_shm.layout.records import FILL_FINAL, FILL_HAS_REMAINING
from openpit_shm.layout.state import (
    H_POW10,
    H_REDO,
    RES_HELD,
    RS_GEN_STATE,
    RS_LEG_MAX,
    RS_LEGS,
    RS_LOCK_PRICE,
    RS_N_LEGS,
    RS_STATE_MASK,
)
from openpit_shm.layout.view import (
    HOLD_BASIS_NOTIONAL,
    LEG_AMOUNT,
    LEG_AT,
    LEG_BASIS,
    LEG_KIND,
    LEG_WORDS,
    V_FILL_QTY,
    V_FLAGS,
    V_LEG_MAX,
    V_LEGS,
    V_LOCK_PRICE,
    V_N_LEGS,
    V_REMAINING,
)

from .dispatch import fill_kind, finalize_kind
from .fixed import mul_div
from .jit import njit
from .legs import propose_fill_delta, propose_leg
from .redo import redo_apply, redo_put
from .reservations import res_release_redo

__all__ = [
    "fill_hooks",
    "holds_commit",
    "holds_fill",
    "holds_release",
    "holds_take",
    "propose_fill_delta",
    "propose_leg",
    "view_legs",
]

assert RS_LEG_MAX == V_LEG_MAX


@njit(cache=True, inline='always')
def view_legs(view):  # type: ignore[no-untyped-def]
    return view[V_N_LEGS]


@njit(cache=True, inline='always')
def _staged(state, k, word):  # type: ignore[no-untyped-def]
    """The value ``word`` will have after the ``k`` entries staged so far."""
    j = k - 1
    while j >= 0:
        if state[H_REDO + 2 * j] == word:
            return state[H_REDO + 2 * j + 1]
        j -= 1
    return state[word]


@njit(cache=True, inline='always')
def _add(state, k, word, delta):  # type: ignore[no-untyped-def]
    return redo_put(state, k, word, _staged(state, k, word) + delta)


@njit(cache=True)
def holds_take(state, view, s):  # type: ignore[no-untyped-def]
    """Move the view's proposed legs into slot ``s`` and add them to their counters."""
    n = view[V_N_LEGS]
    # The fresh slot is nobody's until its handle is answered: its legs need no journal,
    # only the counters (and the leg count that says they are live) do.
    state[s + RS_LOCK_PRICE] = view[V_LOCK_PRICE]
    k = 0
    for i in range(n):
        g = V_LEGS + i * LEG_WORDS
        d = s + RS_LEGS + i * LEG_WORDS
        for w in range(LEG_WORDS):
            state[d + w] = view[g + w]
        k = _add(state, k, view[g + LEG_AT], view[g + LEG_AMOUNT])
    k = redo_put(state, k, s + RS_N_LEGS, n)
    redo_apply(state, k)


@njit(cache=True)
def _release_all(state, s, k):  # type: ignore[no-untyped-def]
    """Stage: every leg's remaining amount back to its counter, and the slot retired."""
    for i in range(state[s + RS_N_LEGS]):
        d = s + RS_LEGS + i * LEG_WORDS
        k = _add(state, k, state[d + LEG_AT], -state[d + LEG_AMOUNT])
        k = redo_put(state, k, d + LEG_AMOUNT, 0)
    k = redo_put(state, k, s + RS_N_LEGS, 0)
    return res_release_redo(state, s, k)


@njit(cache=True)
def holds_release(state, s):  # type: ignore[no-untyped-def]
    """Rollback (or cancel of what is left): release every leg, retire the slot."""
    redo_apply(state, _release_all(state, s, 0))


@njit(cache=True)
def holds_commit(state, s):  # type: ignore[no-untyped-def]
    """Commit: each holding kind settles (once per kind), then the slot waits for fills."""
    seen = 0
    for i in range(state[s + RS_N_LEGS]):
        kind = state[s + RS_LEGS + i * LEG_WORDS + LEG_KIND]
        if seen & (1 << kind) == 0:
            seen |= 1 << kind
            finalize_kind(kind, state, s, True)
    # One word: the slot is RES_HELD or it is not (no partial state to journal).
    state[s + RS_GEN_STATE] = (state[s + RS_GEN_STATE] & ~RS_STATE_MASK) | RES_HELD


@njit(cache=True)
def holds_rollback(state, s):  # type: ignore[no-untyped-def]
    """Rollback: each holding kind is told (once per kind), then every leg is released."""
    seen = 0
    for i in range(state[s + RS_N_LEGS]):
        kind = state[s + RS_LEGS + i * LEG_WORDS + LEG_KIND]
        if seen & (1 << kind) == 0:
            seen |= 1 << kind
            finalize_kind(kind, state, s, False)
    holds_release(state, s)


@njit(cache=True)
def fill_hooks(state, shared, view, s):  # type: ignore[no-untyped-def]
    """Every kind holding legs of slot ``s`` sees the fill once; ``(code, kind)``.

    The first non-zero code wins (with the kind that gave it); a refused fill leaves
    nothing staged (the view's deltas are dropped). ``(0, -1)``: go on.
    """
    view[V_N_LEGS] = 0
    seen = 0
    for i in range(state[s + RS_N_LEGS]):
        kind = state[s + RS_LEGS + i * LEG_WORDS + LEG_KIND]
        if seen & (1 << kind) == 0:
            seen |= 1 << kind
            code = fill_kind(kind, state, shared, s, view)
            if code != 0:
                view[V_N_LEGS] = 0
                return code, kind
    return 0, -1


@njit(cache=True)
def holds_fill(state, view, s):  # type: ignore[no-untyped-def]
    """Reconcile one fill against slot ``s``; returns 1 if it was the last (slot retired).

    The view's leg area holds the fill hooks' deltas (``fill_hooks``); they are applied
    in the same redo transition as the legs' reconciliation (exactly once).

    A leg gives up ``min(amount, consumed)``: the fill quantity (``HOLD_BASIS_QUANTITY``)
    or the fill quantity at the slot's lock price (``HOLD_BASIS_NOTIONAL``, rounded
    down; the final fill releases any rounding remainder).
    """
    qty = view[V_FILL_QTY]
    if qty < 0:
        qty = 0
    final = view[V_FLAGS] & FILL_FINAL != 0 or (
        view[V_FLAGS] & FILL_HAS_REMAINING != 0 and view[V_REMAINING] <= 0
    )
    k = 0
    for i in range(state[s + RS_N_LEGS]):
        d = s + RS_LEGS + i * LEG_WORDS
        left = state[d + LEG_AMOUNT]
        used = qty
        if state[d + LEG_BASIS] == HOLD_BASIS_NOTIONAL:
            used, ok = mul_div(qty, state[s + RS_LOCK_PRICE], state[H_POW10])
            if not ok:
                used = left
        if used > left:
            used = left
        if used < 0:
            used = 0
        if final:
            used = left  # the fill's share and the remainder both go
        k = _add(state, k, state[d + LEG_AT], -used)
        k = redo_put(state, k, d + LEG_AMOUNT, left - used)
    for i in range(view[V_N_LEGS]):  # the fill hooks' own deltas, in the same transition
        g = V_LEGS + i * LEG_WORDS
        k = _add(state, k, view[g + LEG_AT], view[g + LEG_AMOUNT])
    view[V_N_LEGS] = 0
    if final:
        k = redo_put(state, k, s + RS_N_LEGS, 0)
        k = res_release_redo(state, s, k)
    redo_apply(state, k)
    return 1 if final else 0
