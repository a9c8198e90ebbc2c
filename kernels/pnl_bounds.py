"""P&L bounds kill switch (openpit ``PnlBoundsKillSwitchPolicy``).

State: a realized-P&L accumulator per (account, settlement asset) in the
account+asset row (``AA_PNL``, plus its decimal scale for texts); a missing
row counts as 0. Bounds: a broker barrier per settlement asset (asset row
``A_PNL_*``) and account+asset barriers (``AA_PNL_*``, live while their
generation matches). Bounds are strict: a value equal to a bound is fine.

* **Post-trade** (``pnl_report``): every report accumulates ``pnl - fee``
  (whether or not a barrier exists); while the new value is outside the broker
  or the account+asset barrier of that asset the report returns a
  ``PnlKillSwitchTriggered`` block (on every such report; the engine keeps
  the first cause). Missing fields give ``MissingRequiredField`` blocks
  (instrument, account, then P&L); a sum that does not fit int64 gives an
  ``OrderValueCalculationFailed`` block and leaves the accumulator unchanged.
* **Start stage** (``pnl_check``): the accumulator of (account, settlement)
  against the broker barrier first, then the account+asset barrier; one
  ``PnlKillSwitchTriggered`` reject with **account scope** (so the engine
  latches an ``AccountBlocked`` block covering the whole account). It reads
  the instrument and the account (``MissingRequiredField``, order scope,
  when either is missing).
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    CODE_MISSING_REQUIRED_FIELD,
    CODE_ORDER_VALUE_CALCULATION_FAILED,
    CODE_PNL_KILL_SWITCH_TRIGGERED,
    REPORT_HAS_FINANCIAL,
    RESULT_SCOPE_ACCOUNT,
)
from openpit_shm.layout.state import (
    A_PNL_FLAGS,
    A_PNL_LOWER,
    A_PNL_SCALES,
    A_PNL_UPPER,
    AA_PNL,
    AA_PNL_FLAGS,
    AA_PNL_GEN,
    AA_PNL_LOWER,
    AA_PNL_SCALE,
    AA_PNL_SCALES,
    AA_PNL_UPPER,
    BOUND_LOWER,
    BOUND_UPPER,
    H_ASSET_BASE,
    H_ASSET_CAP,
    H_PNL_AA_GEN,
    H_T_AA,
    SCALE_SHIFT,
    TB_COUNT,
    W_ASSET,
)
from openpit_shm.layout.view import (
    V_ACCOUNT,
    V_FEE,
    V_FLAGS,
    V_PNL,
    V_SCALES,
    V_SETTLEMENT,
)

from .codes import (
    FIELD_ACCOUNT,
    FIELD_INSTRUMENT,
    FIELD_PNL,
    PNL_BOUNDS_SHIFT,
    PNL_BREACH_SHIFT,
    PNL_FEE_SCALE_SHIFT,
    PNL_LOWER_SCALE_SHIFT,
    PNL_UPPER_SCALE_SHIFT,
    RSN_MISSING_FIELD,
    RSN_PNL_ACC_OVERFLOW,
    RSN_PNL_ACCOUNT,
    RSN_PNL_BROKER,
    RSN_PNL_POST,
    RSN_PNL_SUM_OVERFLOW,
)
from .fields import has_account, has_instrument
from .fixed import add_checked, sub_checked
from .hashtable import tbl_find, tbl_get_or_insert
from .jit import njit
from .results import write_reject

__all__ = ["breach", "pnl_check", "pnl_report", "sum_scale"]

_SCALE_MASK = (1 << SCALE_SHIFT) - 1


@njit(cache=True, inline='always')
def sum_scale(a, a_scale, b, b_scale):  # type: ignore[no-untyped-def]
    """The decimal scale rust_decimal gives ``a + b`` and ``a - b`` (for texts).

    A zero operand returns the other one unchanged, its scale included
    (``-2101 - 0.000`` is ``-2101``, ``0.00 + -2101`` is ``-2101``);
    otherwise both are rescaled to the larger scale, which the result keeps
    (``1.0 - 1.00`` is ``0.00``).
    """
    if a == 0:
        return b_scale
    if b == 0:
        return a_scale
    return max(a_scale, b_scale)


@njit(cache=True, inline='always')
def breach(value, bflags, lower, upper):  # type: ignore[no-untyped-def]
    """Breach flags (BOUND_LOWER / BOUND_UPPER) of ``value`` against strict bounds."""
    b = 0
    if bflags & BOUND_LOWER and value < lower:
        b |= BOUND_LOWER
    if bflags & BOUND_UPPER and value > upper:
        b |= BOUND_UPPER
    return b


@njit(cache=True, inline='always')
def _broker_row(state, settlement):  # type: ignore[no-untyped-def]
    if 0 <= settlement < state[H_ASSET_CAP]:
        return state[H_ASSET_BASE] + settlement * W_ASSET
    return 0


@njit(cache=True)
def pnl_check(state, out, n, pol, account, settlement, flags):  # type: ignore[no-untyped-def]
    """Start stage: reject (account scope) an order whose (account, asset) P&L is out of bounds."""
    if not has_instrument(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_INSTRUMENT, 0, 0, 0, 0,
        )
    if not has_account(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_ACCOUNT, 0, 0, 0, 0,
        )
    t = state[H_T_AA]
    row = 0 if state[t + TB_COUNT] == 0 else tbl_find(state, t, account, settlement)
    acc = 0
    acc_scale = 0
    if row != 0:
        acc = state[row + AA_PNL]
        acc_scale = state[row + AA_PNL_SCALE]
    rsn = 0
    bflags = 0
    lower = 0
    upper = 0
    scales = 0
    b = 0
    a = _broker_row(state, settlement)
    if a != 0 and state[a + A_PNL_FLAGS] != 0:
        bflags = state[a + A_PNL_FLAGS]
        lower = state[a + A_PNL_LOWER]
        upper = state[a + A_PNL_UPPER]
        b = breach(acc, bflags, lower, upper)
        if b != 0:
            rsn = RSN_PNL_BROKER
            scales = state[a + A_PNL_SCALES]
    if rsn == 0 and row != 0 and state[row + AA_PNL_GEN] == state[H_PNL_AA_GEN]:
        bflags = state[row + AA_PNL_FLAGS]
        if bflags != 0:
            lower = state[row + AA_PNL_LOWER]
            upper = state[row + AA_PNL_UPPER]
            b = breach(acc, bflags, lower, upper)
            if b != 0:
                rsn = RSN_PNL_ACCOUNT
                scales = state[row + AA_PNL_SCALES]
    if rsn == 0:
        return n
    d4 = (
        (acc_scale & _SCALE_MASK)
        | ((scales & _SCALE_MASK) << PNL_LOWER_SCALE_SHIFT)
        | (((scales >> SCALE_SHIFT) & _SCALE_MASK) << PNL_UPPER_SCALE_SHIFT)
        | (bflags << PNL_BOUNDS_SHIFT)
        | (b << PNL_BREACH_SHIFT)
    )
    return write_reject(
        out, n, CODE_PNL_KILL_SWITCH_TRIGGERED, pol, rsn, RESULT_SCOPE_ACCOUNT,
        acc, lower, upper, settlement, d4,
    )


@njit(cache=True)
def pnl_report(state, out, n, pol, account, settlement, flags, pnl, fee, scales):  # type: ignore[no-untyped-def]
    """Post-trade: accumulate ``pnl - fee``; append a block record while out of bounds.

    ``scales`` packs the decimal scales of the report's pnl and fee
    (``pnl | fee << 8``) so texts print the accumulator as openpit does.
    Returns the new record count, or -1 if the arena is short.
    """
    if not has_instrument(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, RESULT_SCOPE_ACCOUNT,
            FIELD_INSTRUMENT, 0, 0, 0, 0,
        )
    if not has_account(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, RESULT_SCOPE_ACCOUNT,
            FIELD_ACCOUNT, 0, 0, 0, 0,
        )
    if flags & REPORT_HAS_FINANCIAL == 0:
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, RESULT_SCOPE_ACCOUNT,
            FIELD_PNL, 0, 0, 0, 0,
        )
    pnl_scale = scales & _SCALE_MASK
    fee_scale = (scales >> SCALE_SHIFT) & _SCALE_MASK
    inc, ok = sub_checked(pnl, fee)
    if not ok:
        packed = (pnl_scale << PNL_LOWER_SCALE_SHIFT) | (fee_scale << PNL_FEE_SCALE_SHIFT)
        return write_reject(
            out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol, RSN_PNL_SUM_OVERFLOW,
            RESULT_SCOPE_ACCOUNT, 0, pnl, fee, settlement, packed,
        )
    row = tbl_get_or_insert(state, state[H_T_AA], account, settlement)
    if row < 0:
        return -1
    acc = state[row + AA_PNL]
    acc_scale = state[row + AA_PNL_SCALE]
    packed = acc_scale | (pnl_scale << PNL_LOWER_SCALE_SHIFT) | (fee_scale << PNL_FEE_SCALE_SHIFT)
    total, ok = add_checked(acc, inc)
    if not ok:
        return write_reject(
            out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol, RSN_PNL_ACC_OVERFLOW,
            RESULT_SCOPE_ACCOUNT, acc, pnl, fee, settlement, packed,
        )
    state[row + AA_PNL] = total
    # The accumulator prints at the scale openpit's Decimal arithmetic leaves it with.
    acc_scale = sum_scale(acc, acc_scale, inc, sum_scale(pnl, pnl_scale, fee, fee_scale))
    state[row + AA_PNL_SCALE] = acc_scale
    hit = False
    a = _broker_row(state, settlement)
    if a != 0 and state[a + A_PNL_FLAGS] != 0:
        lower = state[a + A_PNL_LOWER]
        hit = breach(total, state[a + A_PNL_FLAGS], lower, state[a + A_PNL_UPPER]) != 0
    if not hit and state[row + AA_PNL_GEN] == state[H_PNL_AA_GEN]:
        bflags = state[row + AA_PNL_FLAGS]
        lower = state[row + AA_PNL_LOWER]
        hit = breach(total, bflags, lower, state[row + AA_PNL_UPPER]) != 0
    if not hit:
        return n
    return write_reject(
        out, n, CODE_PNL_KILL_SWITCH_TRIGGERED, pol, RSN_PNL_POST, RESULT_SCOPE_ACCOUNT,
        total, 0, 0, settlement, acc_scale,
    )


# ---- lifecycle (``kernels.dispatch`` calls these by ``KIND``) ------------------------------
KIND = 3  #: this builtin's kind id (< MAX_KINDS; ``dispatch.KIND_MODULES`` lists it)
MAIN_STAGE = False  #: its main stage is a no-op (``dispatch.MAIN_STAGE_KINDS``)


@njit(cache=True, inline='always')
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Start stage of the P&L kill switch over the request view; returns the record count."""
    return pnl_check(state, out, n, pol, view[V_ACCOUNT], view[V_SETTLEMENT], view[V_FLAGS])


@njit(cache=True, inline='always')
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Main stage: the P&L kill switch decides everything at start and holds nothing."""
    return n


@njit(cache=True, inline='always')
def report(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Post-trade: accumulate the report (-1: the arena is short)."""
    return pnl_report(
        state, out, n, pol, view[V_ACCOUNT], view[V_SETTLEMENT], view[V_FLAGS], view[V_PNL],
        view[V_FEE], view[V_SCALES]
    )  # fmt: skip


@njit(cache=True, inline='always')
def finalize(state, hold, commit):  # type: ignore[no-untyped-def]
    """Settle (commit) or release (rollback) this kind's legs of reservation slot ``hold``."""
    return 0


@njit(cache=True, inline='always')
def fill(state, shared, hold, view):  # type: ignore[no-untyped-def]
    """A fill of reservation slot ``hold``: this kind holds nothing to split (0: go on)."""
    return 0
