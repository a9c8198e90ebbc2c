"""Spot Funds P&L: average entry price, realized P&L per position, the account accumulator.

Row words (``kernels.spot_funds``): ``SF_AVG`` (average entry price, valid when
``AVG_SET`` is set in ``SF_HALT``), ``SF_PNL`` (realized P&L, account currency)
and ``SF_HALT``::

    SF_HALT  bits 0..7: P&L state (0 untracked, 1 tracked, 2 + reason: halted)
             bit 8    : AVG_SET (the position has an average entry price)

Account row: ``SFA_PNL`` (the account's P&L) and ``SFA_HALT`` (0, else reason + 1).

Reasons are numbered in openpit's halt priority (``select`` keeps the most
urgent): ARITHMETIC_OVERFLOW 0 > MISSING_ACCOUNT_CURRENCY 1 > MISSING_FX 2 >
MISSING_COST_BASIS 3 > MISSING_INITIAL_PNL 4.

Outcomes go to the underlying leg of ``kernels.spot_fill``'s output
(``OL_PNL_*``, ``OL_AVG*``), merged as openpit's ``record_position_pnl_operation``.
Products of two fixed-point numbers are exact then truncated to the scale; the
weighted average truncates twice (at most 2 units of the last digit; openpit
keeps 28 significant digits).
"""

from __future__ import annotations

from openpit_shm.layout.state import H_POW10

from .fixed import add_checked, mul_div, sub_checked
from .hashtable import tbl_get_or_insert
from .jit import njit
from .spot_funds import (
    SF_AVG,
    SF_HALT,
    SF_HELD,
    SF_INCOMING,
    SF_PNL,
    SF_TOTAL,
    SFA_HALT,
    SFA_PNL,
    SFB_ACC_T,
    sf_word,
)

RSN_ARITHMETIC_OVERFLOW = 0
RSN_MISSING_ACCOUNT_CURRENCY = 1
RSN_MISSING_FX = 2
RSN_MISSING_COST_BASIS = 3
RSN_MISSING_INITIAL_PNL = 4
NO_REASON = 99

PNL_UNTRACKED = 0
PNL_TRACKED = 1
PNL_HALTED = 2
AVG_SET = 1 << 8
_STATE_MASK = 0xFF

# row words (kept equal to kernels.spot_funds; imported there would be a cycle)

# output words (kernels.spot_fill's underlying leg = leg 0; account at O_ACCOUNT)
OL_TOUCHED = 0
OL_AVAIL = 5
OL_HELD = 6
OL_INC = 7
OL_PNL_KIND = 8
OL_PNL_D = 9
OL_PNL_ABS = 10
OL_PNL_REASON = 11
OL_AVG_SET = 12
OL_AVG = 13
O_ACCOUNT = 48


@njit(cache=True, inline='always')
def select(current, candidate):  # type: ignore[no-untyped-def]
    """The more urgent of two halt reasons (openpit's priority)."""
    return candidate if candidate < current else current


@njit(cache=True, inline='always')
def realizing(owned, flow):  # type: ignore[no-untyped-def]
    """A fill realizes when it reduces, closes or reverses what is owned."""
    return owned != 0 and flow != 0 and (owned > 0) != (flow > 0)


@njit(cache=True, inline='always')
def position_reason(state, row):  # type: ignore[no-untyped-def]
    s = state[row + SF_HALT] & _STATE_MASK
    return s - PNL_HALTED if s >= PNL_HALTED else NO_REASON


@njit(cache=True)
def account_reason(state, account):  # type: ignore[no-untyped-def]
    a = tbl_get_or_insert(state, state[sf_word(state, SFB_ACC_T)], account, 0)
    h = state[a + SFA_HALT]
    return h - 1 if h != 0 else NO_REASON


@njit(cache=True, inline='always')
def _set_state(state, row, pnl_state, avg_set, avg):  # type: ignore[no-untyped-def]
    state[row + SF_HALT] = pnl_state | (AVG_SET if avg_set else 0)
    state[row + SF_AVG] = avg if avg_set else 0


@njit(cache=True, inline='always')
def _touch(state, o, row):  # type: ignore[no-untyped-def]
    o[OL_TOUCHED] = 1
    o[OL_AVAIL] = state[row + SF_TOTAL] - state[row + SF_HELD]
    o[OL_HELD] = state[row + SF_HELD]
    o[OL_INC] = state[row + SF_INCOMING]


@njit(cache=True)
def _record(o, kind, delta, absolute, reason, avg_set, avg):  # type: ignore[no-untyped-def]
    """Merge one P&L operation's outcome into the underlying leg (openpit's rules)."""
    cur = o[OL_PNL_KIND]
    if kind == 2:
        o[OL_PNL_KIND] = 2
        o[OL_PNL_REASON] = reason
    elif kind == 1:
        if cur == 0:
            o[OL_PNL_KIND] = 1
            o[OL_PNL_D] = delta
            o[OL_PNL_ABS] = absolute
        elif cur == 1:
            s, ok = add_checked(o[OL_PNL_D], delta)
            if not ok:
                o[OL_PNL_KIND] = 2
                o[OL_PNL_REASON] = RSN_ARITHMETIC_OVERFLOW
            elif s == 0:
                o[OL_PNL_KIND] = 0
            else:
                o[OL_PNL_D] = s
                o[OL_PNL_ABS] = absolute
    if avg_set:
        o[OL_AVG_SET] = 1
        o[OL_AVG] = avg


@njit(cache=True)
def _account_delta(state, row, flow, price, priced):  # type: ignore[no-untyped-def]
    """openpit's ``account_position_pnl_delta`` on the row before the fill: (delta, reason)."""
    owned = state[row + SF_TOTAL]
    if not realizing(owned, flow):
        return 0, NO_REASON
    if not priced:
        return 0, RSN_MISSING_FX
    if state[row + SF_HALT] & AVG_SET == 0:
        return 0, RSN_MISSING_COST_BASIS
    closing = -flow if abs(flow) <= abs(owned) else owned
    diff, ok = sub_checked(price, state[row + SF_AVG])
    v, ok2 = mul_div(diff, closing, state[H_POW10])
    if not (ok and ok2):
        return 0, RSN_ARITHMETIC_OVERFLOW
    return v, NO_REASON


@njit(cache=True)
def leg_pnl_realize(state, o, row, flow, price, priced):  # type: ignore[no-untyped-def]
    """The underlying leg of a fill: realize at ``price`` (account currency) when ``priced``.

    Unpriced and not halted: the average is dropped (openpit ``with_avg_entry_price(None)``).
    Returns the account's contribution ``(delta, reason)``.
    """
    acc = _account_delta(state, row, flow, price, priced)
    pow10 = state[H_POW10]
    word = state[row + SF_HALT]
    pnl_state = word & _STATE_MASK
    has_avg = word & AVG_SET != 0
    avg = state[row + SF_AVG]
    if not priced:
        _set_state(state, row, pnl_state, False, 0)
        return acc
    owned = state[row + SF_TOTAL]
    new_owned = owned + flow
    realized = 0
    closes = realizing(owned, flow)
    if owned == 0:
        new_has, new_avg = flow != 0, price
    elif not has_avg:
        # openpit 0.10 (probed): a non-flat position without a cost basis halts
        # MISSING_COST_BASIS whichever way the fill goes (an adjustment-seeded balance)
        if pnl_state < PNL_HALTED:
            _set_state(state, row, PNL_HALTED + RSN_MISSING_COST_BASIS, False, 0)
            _touch(state, o, row)
            _record(o, 2, 0, 0, RSN_MISSING_COST_BASIS, False, 0)
        return acc
    elif not closes:
        if has_avg:
            a, ok1 = mul_div(owned, avg, new_owned)
            b, ok2 = mul_div(flow, price, new_owned)
            s, ok3 = add_checked(a, b)
            if not (ok1 and ok2 and ok3):
                return _overflow(state, o, row, acc)
            new_has, new_avg = True, s
        else:
            new_has, new_avg = False, 0
    else:
        if not has_avg:
            if pnl_state < PNL_HALTED:
                _set_state(state, row, PNL_HALTED + RSN_MISSING_COST_BASIS, False, 0)
                _touch(state, o, row)
                _record(o, 2, 0, 0, RSN_MISSING_COST_BASIS, False, 0)
            return acc
        diff, ok = sub_checked(price, avg)
        if abs(flow) <= abs(owned):
            realized, ok2 = mul_div(diff, -flow, pow10)
            new_has, new_avg = new_owned != 0, avg
        else:
            realized, ok2 = mul_div(diff, owned, pow10)
            new_has, new_avg = True, price
        if not (ok and ok2):
            return _overflow(state, o, row, acc)
    if pnl_state == PNL_TRACKED:
        absolute, ok = add_checked(state[row + SF_PNL], realized)
        if not ok:
            return _overflow(state, o, row, acc)
        state[row + SF_PNL] = absolute
        _set_state(state, row, PNL_TRACKED, new_has, new_avg)
        _touch(state, o, row)
        # openpit 0.10 reports every realizing fill (probed: a zero realization too)
        _record(o, 1 if (closes or realized != 0) else 0, realized, absolute, 0, new_has, new_avg)
    elif pnl_state == PNL_UNTRACKED and owned == 0:
        state[row + SF_PNL] = realized
        _set_state(state, row, PNL_TRACKED, new_has, new_avg)
        _touch(state, o, row)
        _record(o, 0, 0, 0, 0, new_has, new_avg)
    elif pnl_state == PNL_UNTRACKED:
        _set_state(state, row, PNL_HALTED + RSN_MISSING_INITIAL_PNL, new_has, new_avg)
        _touch(state, o, row)
        _record(o, 2, 0, 0, RSN_MISSING_INITIAL_PNL, new_has, new_avg)
    else:  # halted: sticky, the average still follows the fills
        _set_state(state, row, pnl_state, new_has, new_avg)
        _touch(state, o, row)
        _record(o, 0, 0, 0, 0, new_has, new_avg)
    return acc


@njit(cache=True)
def _overflow(state, o, row, acc):  # type: ignore[no-untyped-def]
    if (state[row + SF_HALT] & _STATE_MASK) < PNL_HALTED:
        _set_state(state, row, PNL_HALTED + RSN_ARITHMETIC_OVERFLOW, False, 0)
        _touch(state, o, row)
        _record(o, 2, 0, 0, RSN_ARITHMETIC_OVERFLOW, False, 0)
    return acc


@njit(cache=True)
def leg_pnl_unpriced(state, o, row, flow, reason):  # type: ignore[no-untyped-def]
    """openpit's ``halt_realized_pnl_for_unpriced_fill``: halt (sticky), keep a reduce's average."""
    acc = _account_delta(state, row, flow, 0, False)
    owned = state[row + SF_TOTAL]
    new_owned = owned + flow
    word = state[row + SF_HALT]
    has_avg = word & AVG_SET != 0
    avg = state[row + SF_AVG]
    if flow != 0 and (owned == 0 or (owned > 0) == (flow > 0) or abs(flow) > abs(owned)
                      or new_owned == 0):  # fmt: skip
        has_avg = False
    pnl_state = word & _STATE_MASK
    if pnl_state >= PNL_HALTED:
        _set_state(state, row, pnl_state, has_avg, avg)
        _touch(state, o, row)
        _record(o, 0, 0, 0, 0, has_avg, avg)
    else:
        _set_state(state, row, PNL_HALTED + reason, has_avg, avg)
        _touch(state, o, row)
        _record(o, 2, 0, 0, reason, has_avg, avg)
    return acc


@njit(cache=True)
def halt_position(state, o, row, reason):  # type: ignore[no-untyped-def]
    """Halt the position's P&L keeping its average (no-op when already halted)."""
    word = state[row + SF_HALT]
    if word & _STATE_MASK >= PNL_HALTED:
        return
    state[row + SF_HALT] = (PNL_HALTED + reason) | (word & AVG_SET)
    _touch(state, o, row)
    _record(o, 2, 0, 0, reason, False, 0)


@njit(cache=True)
def fold_fee(state, o, row, fee_pnl):  # type: ignore[no-untyped-def]
    """Accrue an account-currency fee into a tracked position's realized P&L."""
    if fee_pnl == 0 or state[row + SF_HALT] & _STATE_MASK != PNL_TRACKED:
        return
    absolute, ok = add_checked(state[row + SF_PNL], fee_pnl)
    if not ok:
        state[row + SF_HALT] = (PNL_HALTED + RSN_ARITHMETIC_OVERFLOW) | (state[row + SF_HALT]
                                                                          & AVG_SET)
        _touch(state, o, row)
        _record(o, 2, 0, 0, RSN_ARITHMETIC_OVERFLOW, False, 0)
        return
    state[row + SF_PNL] = absolute
    _touch(state, o, row)
    _record(o, 1, fee_pnl, absolute, 0, False, 0)


@njit(cache=True)
def account_halt(state, o, account, reason):  # type: ignore[no-untyped-def]
    a = tbl_get_or_insert(state, state[sf_word(state, SFB_ACC_T)], account, 0)
    if state[a + SFA_HALT] == 0:
        state[a + SFA_HALT] = reason + 1
    o[O_ACCOUNT] = 2
    o[O_ACCOUNT + 3] = state[a + SFA_HALT] - 1


@njit(cache=True)
def account_pnl_add(state, o, account, delta):  # type: ignore[no-untyped-def]
    a = tbl_get_or_insert(state, state[sf_word(state, SFB_ACC_T)], account, 0)
    if state[a + SFA_HALT] != 0:
        o[O_ACCOUNT] = 2
        o[O_ACCOUNT + 3] = state[a + SFA_HALT] - 1
        return
    absolute, ok = add_checked(state[a + SFA_PNL], delta)
    if not ok:
        state[a + SFA_HALT] = RSN_ARITHMETIC_OVERFLOW + 1
        o[O_ACCOUNT] = 2
        o[O_ACCOUNT + 3] = RSN_ARITHMETIC_OVERFLOW
        return
    state[a + SFA_PNL] = absolute
    o[O_ACCOUNT] = 1
    o[O_ACCOUNT + 1] = delta
    o[O_ACCOUNT + 2] = absolute
