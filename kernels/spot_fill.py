"""Spot Funds post-trade: one execution report's fill, fee and final release (openpit semantics).

openpit ties a report to the held funds only through the report itself: the
account, instrument and side of its operation and the **lock price** it
carries (copied by the caller from the reservation). Balances are per
(account, asset), never per reservation, so this kernel reads the rows of
``kernels.spot_funds`` and moves them; it never touches a reservation slot.

Inputs ``p`` (int64, ``P_*``) and outputs ``o`` (int64, ``O_*``): per leg
(underlying, settlement, a fee in a third asset) the deltas and absolutes of
available/held/incoming, the position P&L outcome and average entry price; the
account P&L outcome. Returns 0, or ``ST_OVERFLOW`` (nothing useful written;
openpit's ArithmeticOverflow account block).

Steps (openpit ``apply_execution_report_impl``):

* a trade ``q @ p_t`` with lock ``p_l``: per leg ``held -= consume``,
  ``available += consume + flow``, ``incoming -= incoming_consume`` where a BUY
  consumes settlement held ``max(0, p_l*q)`` with flow ``-p_t*q`` (the price
  improvement ``(p_l - p_t)*q`` comes back) and underlying incoming ``q`` with
  flow ``+q``; a SELL the mirror (settlement incoming ``max(0, p_l*q)``);
* the underlying leg realizes P&L (``kernels.spot_pnl``) in the account
  currency, with halts picked by openpit's priority;
* a fee debits (or a negative fee credits) the fee currency's available and
  folds into the position's realized P&L;
* a final report releases ``remaining`` at the lock price.

``available`` is ``total - held`` in the rows: a change of available by ``a``
and of held by ``h`` moves total by ``a + h``.
"""

from __future__ import annotations

from openpit_shm.layout.state import H_POW10, RES_HELD, RS_GEN_STATE, RS_N_LEGS, RS_STATE_MASK

from .fixed import add_checked, mul_div_floor
from .jit import njit
from .redo import redo_apply, redo_put
from .reservations import res_release_redo
from .spot_funds import FX_NONE, SF_HELD, SF_INCOMING, SF_TOTAL, fx_convert, fx_rate, sf_row
from .spot_pnl import (
    NO_REASON,
    RSN_MISSING_ACCOUNT_CURRENCY,
    RSN_MISSING_FX,
    RSN_MISSING_INITIAL_PNL,
    account_halt,
    account_pnl_add,
    account_reason,
    fold_fee,
    halt_position,
    leg_pnl_realize,
    leg_pnl_unpriced,
    position_reason,
    realizing,
    select,
)

__all__ = ["O_WORDS", "P_WORDS", "execution_report", "retire_committed"]

# ---- inputs ---------------------------------------------------------------------------------
P_ACCOUNT = 0
P_UNDERLYING = 1  #: asset id
P_SETTLEMENT = 2  #: asset id
P_BUY = 3  #: 1 buy, 0 sell
P_HAS_TRADE = 4
P_PRICE = 5  #: trade price
P_QTY = 6  #: trade quantity
P_HAS_FEE = 7
P_FEE_ASSET = 8
P_FEE = 9  #: fee amount (a positive fee is a debit)
P_REMAINING = 10  #: remaining reserved quantity (released when final)
P_FINAL = 11
P_LOCK = 12  #: the lock price of this policy's group
P_CCY = 13  #: account currency asset id, -1: none
P_QUOTES_ADDR = 14  #: the engine's quote table (0: none; FX reads marks there)
P_QUOTES_CAP = 15  #: its slot count
P_NOW = 16  #: the clock (ns) for the quote reads
P_WORDS = 20

# ---- outputs --------------------------------------------------------------------------------
LEG_UNDERLYING = 0
LEG_SETTLEMENT = 1
LEG_FEE = 2
O_LEG = 16  #: words per leg
OL_TOUCHED = 0
OL_ASSET = 1
OL_BAL_D = 2
OL_HELD_D = 3
OL_INC_D = 4
OL_AVAIL = 5
OL_HELD = 6
OL_INC = 7
OL_PNL_KIND = 8  #: 0 none, 1 amount, 2 halt
OL_PNL_D = 9
OL_PNL_ABS = 10
OL_PNL_REASON = 11
OL_AVG_SET = 12
OL_AVG = 13
O_ACCOUNT = 48  #: +0 kind (0 none, 1 amount, 2 halt), +1 delta, +2 absolute, +3 reason
O_WORDS = 64

ST_OVERFLOW = 1


@njit(cache=True, inline='always')
def _leg_move(state, o, leg, row, asset, d_avail, d_held, d_inc):  # type: ignore[no-untyped-def]
    """Move one row by (available, held, incoming) deltas and accumulate the leg's outcome."""
    total, ok1 = add_checked(state[row + SF_TOTAL], d_avail + d_held)
    held, ok2 = add_checked(state[row + SF_HELD], d_held)
    inc, ok3 = add_checked(state[row + SF_INCOMING], d_inc)
    if not (ok1 and ok2 and ok3):
        return False
    state[row + SF_TOTAL] = total
    state[row + SF_HELD] = held
    state[row + SF_INCOMING] = inc
    g = leg * O_LEG
    o[g + OL_TOUCHED] = 1
    o[g + OL_ASSET] = asset
    o[g + OL_BAL_D] += d_avail
    o[g + OL_HELD_D] += d_held
    o[g + OL_INC_D] += d_inc
    o[g + OL_AVAIL] = total - held
    o[g + OL_HELD] = held
    o[g + OL_INC] = inc
    return True


@njit(cache=True, inline='always')
def _fee_leg(p, asset):  # type: ignore[no-untyped-def]
    if asset == p[P_UNDERLYING]:
        return LEG_UNDERLYING
    if asset == p[P_SETTLEMENT]:
        return LEG_SETTLEMENT
    return LEG_FEE


@njit(cache=True)
def fx_to_ccy(state, p, source, value):  # type: ignore[no-untyped-def]
    """``value`` of asset ``source`` in the account currency: (converted, found, ok).

    The same asset is itself; otherwise the mark of (source, ccy), else 1 / the mark
    of (ccy, source) (``spot_funds.fx_rate``; stale quotes count, as in openpit).
    """
    how, mark = fx_rate(state, p[P_QUOTES_ADDR], p[P_QUOTES_CAP], p[P_ACCOUNT], source,
                        p[P_CCY], p[P_NOW])  # fmt: skip
    if how == FX_NONE:
        return 0, False, True
    v, ok = fx_convert(state, value, how, mark)
    return v, True, ok


@njit(cache=True)
def _fee_pnl(state, p):  # type: ignore[no-untyped-def]
    """(fee P&L in the account currency (a fee costs), reason): reason NO_REASON if priced."""
    v, found, ok = fx_to_ccy(state, p, p[P_FEE_ASSET], -p[P_FEE])
    if not found:
        return 0, RSN_MISSING_FX
    if not ok:
        return 0, 0  # ARITHMETIC_OVERFLOW (reason 0)
    return v, NO_REASON


@njit(cache=True)
def execution_report(state, p, o):  # type: ignore[no-untyped-def]
    """Apply one report's fill, fee and final release; fill ``o``; 0 or ``ST_OVERFLOW``."""
    pow10 = state[H_POW10]
    account = p[P_ACCOUNT]
    under = p[P_UNDERLYING]
    settle = p[P_SETTLEMENT]
    buy = p[P_BUY] != 0
    lock = p[P_LOCK]
    has_ccy = p[P_CCY] >= 0
    fee_nz = p[P_HAS_FEE] != 0 and p[P_FEE] != 0
    for i in range(O_WORDS):
        o[i] = 0
    o[LEG_UNDERLYING * O_LEG + OL_ASSET] = under
    ur = sf_row(state, account, under)
    sr = sf_row(state, account, settle)
    acc_before = account_reason(state, account)
    pos_before = position_reason(state, ur)
    if p[P_HAS_TRADE] != 0:
        q = p[P_QTY]
        notional, ok = mul_div_floor(p[P_PRICE], q, pow10)
        at_lock, ok2 = mul_div_floor(lock, q, pow10)
        if not (ok and ok2):
            return ST_OVERFLOW
        flow = q if buy else -q
        touches = flow != 0
        engaged = touches or fee_nz
        owned = state[ur + SF_TOTAL]
        realizes = realizing(owned, flow)
        pos_halt = False
        pos_reason = NO_REASON
        acc_reason = NO_REASON
        if acc_before == NO_REASON and (fee_nz or realizes) and not has_ccy:
            acc_reason = select(acc_reason, RSN_MISSING_ACCOUNT_CURRENCY)
        if touches and not has_ccy:
            pos_halt = True
            if pos_before == NO_REASON:
                pos_reason = select(pos_reason, RSN_MISSING_ACCOUNT_CURRENCY)
        price_ccy = 0
        priced = False
        if touches and has_ccy:
            price_ccy, found, ok = fx_to_ccy(state, p, settle, p[P_PRICE])
            if found:
                priced = ok != 0
            elif realizes:
                pos_halt = True
                if pos_before == NO_REASON:
                    pos_reason = select(pos_reason, RSN_MISSING_FX)
                acc_reason = select(acc_reason, RSN_MISSING_FX)
        fee_pnl = 0
        fee_priced = False
        if has_ccy and fee_nz:
            fee_pnl, r = _fee_pnl(state, p)
            if r == NO_REASON:
                fee_priced = True
            else:
                pos_halt = True
                if pos_before == NO_REASON:
                    pos_reason = select(pos_reason, r)
                acc_reason = select(acc_reason, r)
        under_reason = pos_reason if pos_reason != NO_REASON else pos_before
        # legs in openpit's order: BUY settlement then underlying, SELL the reverse
        acc_pos_delta = 0
        acc_pos_reason = NO_REASON
        for step in range(2):
            settlement_leg = (step == 0) == buy
            if settlement_leg:
                if buy:
                    consume = at_lock if at_lock > 0 else 0
                    s_flow = -notional
                    inc_consume = 0
                else:
                    consume = -at_lock if at_lock < 0 else 0
                    s_flow = notional
                    inc_consume = at_lock if at_lock > 0 else 0
                credit = consume + s_flow
                if consume == 0 and credit == 0 and inc_consume == 0:
                    continue
                if not _leg_move(state, o, LEG_SETTLEMENT, sr, settle, credit, -consume,
                                 -inc_consume):  # fmt: skip
                    return ST_OVERFLOW
            else:
                consume = 0 if buy else q
                inc_consume = q if buy else 0
                credit = consume + flow
                if consume == 0 and credit == 0 and inc_consume == 0:
                    continue
                if priced:
                    acc_pos_delta, acc_pos_reason = leg_pnl_realize(
                        state, o, ur, flow, price_ccy, True)
                elif under_reason != NO_REASON and touches:
                    acc_pos_delta, acc_pos_reason = leg_pnl_unpriced(
                        state, o, ur, flow, under_reason)
                else:
                    acc_pos_delta, acc_pos_reason = leg_pnl_realize(
                        state, o, ur, flow, 0, False)
                if not _leg_move(state, o, LEG_UNDERLYING, ur, under, credit, -consume,
                                 -inc_consume):  # fmt: skip
                    return ST_OVERFLOW
        if fee_nz:
            fa = p[P_FEE_ASSET]
            fr = sf_row(state, account, fa)
            if not _leg_move(state, o, _fee_leg(p, fa), fr, fa, -p[P_FEE], 0, 0):
                return ST_OVERFLOW
        if pos_reason != NO_REASON and o[OL_PNL_KIND] != 2:
            halt_position(state, o, ur, pos_reason)
        delta = 0
        has_delta = False
        # openpit 0.10 leaves the account line alone for a fill that neither
        # realizes nor pays a fee (probed: opening buys emit no account outcome)
        if engaged and (realizes or fee_nz) and acc_before == NO_REASON \
                and acc_reason == NO_REASON:  # fmt: skip
            if acc_pos_reason != NO_REASON:
                acc_reason = select(acc_reason, acc_pos_reason)
            elif fee_nz and not fee_priced:
                acc_reason = select(acc_reason, RSN_MISSING_INITIAL_PNL)
            else:
                delta, ok = add_checked(acc_pos_delta, fee_pnl if fee_nz else 0)
                if ok:
                    has_delta = True
                else:
                    acc_reason = select(acc_reason, 0)
        if not pos_halt and fee_priced:
            fold_fee(state, o, ur, fee_pnl)
        if acc_reason != NO_REASON and engaged and acc_before == NO_REASON:
            account_halt(state, o, account, acc_reason)
        elif has_delta:
            account_pnl_add(state, o, account, delta)
    elif fee_nz:
        acc_reason = NO_REASON
        pos_reason = NO_REASON
        pos_halt = False
        fee_pnl = 0
        if has_ccy:
            fee_pnl, r = _fee_pnl(state, p)
            if r != NO_REASON:
                pos_halt = True
                if pos_before == NO_REASON:
                    pos_reason = r
                if acc_before == NO_REASON:
                    acc_reason = r
        else:
            pos_halt = True
            if pos_before == NO_REASON:
                pos_reason = RSN_MISSING_ACCOUNT_CURRENCY
            if acc_before == NO_REASON:
                acc_reason = RSN_MISSING_ACCOUNT_CURRENCY
        fa = p[P_FEE_ASSET]
        fr = sf_row(state, account, fa)
        if not _leg_move(state, o, _fee_leg(p, fa), fr, fa, -p[P_FEE], 0, 0):
            return ST_OVERFLOW
        if pos_reason != NO_REASON:
            halt_position(state, o, ur, pos_reason)
        if not pos_halt:
            fold_fee(state, o, ur, fee_pnl)
        if acc_reason != NO_REASON:
            account_halt(state, o, account, acc_reason)
        elif acc_before == NO_REASON:
            account_pnl_add(state, o, account, fee_pnl)
    if p[P_FINAL] != 0 and p[P_REMAINING] != 0:
        rem = p[P_REMAINING]
        at_lock, ok = mul_div_floor(lock, rem, pow10)
        if not ok:
            return ST_OVERFLOW
        if buy:
            s_held = at_lock if at_lock > 0 else 0
            s_inc = 0
            if not _leg_move(state, o, LEG_UNDERLYING, ur, under, 0, 0, -rem):
                return ST_OVERFLOW
        else:
            s_held = -at_lock if at_lock < 0 else 0
            s_inc = at_lock if at_lock > 0 else 0
            if not _leg_move(state, o, LEG_UNDERLYING, ur, under, rem, -rem, 0):
                return ST_OVERFLOW
        moves = s_held != 0 or s_inc != 0
        if moves and not _leg_move(state, o, LEG_SETTLEMENT, sr, settle, s_held, -s_held, -s_inc):
            return ST_OVERFLOW
    return 0


@njit(cache=True)
def retire_committed(state, s):  # type: ignore[no-untyped-def]
    """Retire committed slot ``s``, its counters staying held: 1, or 0 if not committed.

    openpit's object API reconciles fills through execution reports that carry
    the lock (``execution_report``), never a reservation: after a commit the
    object door has no use for the slot, and keeping it live would leak one slot
    per order. One journaled transition (``kernels.redo``), like every hold step.
    """
    if state[s + RS_GEN_STATE] & RS_STATE_MASK != RES_HELD:
        return 0
    k = redo_put(state, 0, s + RS_N_LEGS, 0)
    redo_apply(state, res_release_redo(state, s, k))
    return 1
