"""Restricted-instrument list (``RestrictedInstrumentsPolicy``): start stage, one table lookup.

An order whose instrument is on the list is rejected with ``InstrumentRestricted``
(order scope, no account block). An order without an operation carries no
instrument: that is the order validation's business, not this policy's (accept).

The list is kept per (underlying asset id, settlement asset id), not per
instrument id: asset ids live in the arena for the engine's life, while
instrument ids are numbered per engine (and an instrument may be registered
after it was restricted). State, all of it this kind's own (``KIND``)::

    arena header word H_KIND_ROOT + KIND -> config block (bump-allocated by the policy's
                                            ``install``; 0 = not installed)
    config block (RI_*, W_RI words)
      0 pair table (``kernels.hashtable``, 2-word keys (underlying id, settlement id),
        W_RR-word rows)              1 restricted pairs (0: the kernel reads nothing else)
    pair row (RR_*, W_RR words)
      0 restricted (1) or allowed again (0): keys are never deleted, a row is reused

Reject record: ``d0`` = underlying asset id, ``d1`` = settlement asset id (the
texts name the instrument from them, on every door alike).
"""

from __future__ import annotations

from openpit_shm.layout.records import CODE_NUMBER
from openpit_shm.layout.state import H_KIND_ROOT
from openpit_shm.layout.view import V_FLAGS, V_SETTLEMENT, V_UNDERLYING

from .fields import has_instrument
from .hashtable import tbl_find
from .jit import njit
from .results import write_reject

__all__ = [
    "CODE_INSTRUMENT_RESTRICTED",
    "KIND",
    "RI_LIVE",
    "RI_TABLE",
    "RR_RESTRICTED",
    "W_RI",
    "W_RR",
    "ri_check",
]

# ---- lifecycle (``kernels.dispatch`` calls these by ``KIND``) ------------------------------
KIND = 7  #: this builtin's kind id (< MAX_KINDS; ``dispatch.KIND_MODULES`` lists it)
MAIN_STAGE = False  #: its main stage is a no-op (``dispatch.MAIN_STAGE_KINDS``)

CODE_INSTRUMENT_RESTRICTED = CODE_NUMBER["InstrumentRestricted"]

# ---- state words (this kind's own; see the module docstring) -------------------------------
RI_TABLE = 0
RI_LIVE = 1
W_RI = 2
RR_RESTRICTED = 0
W_RR = 1


@njit(cache=True, inline='always')
def ri_check(state, out, n, pol, flags, underlying, settlement):  # type: ignore[no-untyped-def]
    """Reject the order (append at ``out[n]``) if its instrument is restricted; the new count."""
    block = state[H_KIND_ROOT + KIND]
    if block == 0 or state[block + RI_LIVE] == 0 or not has_instrument(flags):
        return n
    row = tbl_find(state, state[block + RI_TABLE], underlying, settlement)
    if row == 0 or state[row + RR_RESTRICTED] == 0:
        return n
    return write_reject(
        out, n, CODE_INSTRUMENT_RESTRICTED, pol, 0, 0,
        underlying, settlement, 0, 0, 0,
    )  # fmt: skip


@njit(cache=True, inline='always')
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Start stage of the restricted-instrument list over the request view; the record count."""
    return ri_check(state, out, n, pol, view[V_FLAGS], view[V_UNDERLYING], view[V_SETTLEMENT])


@njit(cache=True, inline='always')
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Main stage: the list decides everything at start and holds nothing."""
    return n


@njit(cache=True, inline='always')
def report(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Post-trade: nothing to do."""
    return n


@njit(cache=True, inline='always')
def finalize(state, hold, commit):  # type: ignore[no-untyped-def]
    """Settle (commit) or release (rollback) this kind's legs of reservation slot ``hold``."""
    return 0


@njit(cache=True, inline='always')
def fill(state, shared, hold, view):  # type: ignore[no-untyped-def]
    """A fill of reservation slot ``hold``: this kind holds nothing to split (0: go on)."""
    return 0
