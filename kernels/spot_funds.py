"""Spot Funds (openpit ``SpotFundsPolicy``): per-(account, asset) solvency on spot holdings.

State (``SF_*`` rows of this module's own tables, created by the policy's
``install``; their roots are header words 8..11, see ``layout.state``)::

    (account, asset) row, W_SF = 8 words:
      0 total (= available + held)  1 held  2 incoming  3 average entry price (0: none)
      4 realized P&L (account currency)  5 P&L state + AVG_SET bit (``kernels.spot_pnl``)
      6 position limit set (0/1)  7 position limit (inclusive, on the worst-case position)
    account row, W_SFA = 4 words:
      0 limit-mode pin (MODE_*, 0: none)  1 account P&L  2 account P&L halt (0, else
      reason + 1, ``kernels.spot_pnl``)  3 unused
    group row, W_SFG = 2 words: 0 limit-mode pin

``available`` is not stored: it is ``total - held``. That is what lets the
generic hold machinery (``kernels.holds``) do Spot Funds' reservation with
plain counter legs: a hold is ``held += x`` (available drops by x), a release
``held -= x`` (available comes back), and a fill's hook only moves ``total``
(what really left or arrived), e.g. a buy filled at ``p_t`` below the lock
price ``p_l``: the leg releases ``p_l*q`` of held while total drops by
``p_t*q``, so ``p_l*q - p_t*q`` is credited back to available.

* **Main stage** (``main``): the order's price (the limit price; a market order
  asks ``market_price``: the engine's quote table, MARK or BOOK_TOP, the slippage
  cascade of the block's override tables), the legs
  (BUY: settlement held ``p*q`` or the volume, underlying incoming ``q`` or
  ``v/|p|``; SELL: underlying held ``q`` or ``v/|p|``, settlement incoming
  ``p*q``), the limit mode (account pin -> group pin -> global), the funds
  gate ``available >= requested`` (ENFORCE), then the position limit of the
  side the order moves toward. Rejects carry the asset id and raw amounts.
* **Fill** (``fill``): stages the total deltas of a ``MSG_FILL`` of slot ``hold``
  (trade and fee); the generic reconcile releases held/incoming at the lock price.
  openpit's own post-trade path (an execution report carrying the lock, balances
  per (account, asset)) is ``kernels.spot_fill`` with ``kernels.spot_pnl``.
* **Finalize**: nothing of its own (the generic release does it).
"""

from __future__ import annotations

from openpit_shm.layout.quotes import (
    QR_ACCOUNT_THEN_GROUP_THEN_DEFAULT,
    QUOTE_EXPIRED,
    QUOTE_HAS_ASK,
    QUOTE_HAS_BID,
    QUOTE_HAS_MARK,
    QUOTE_OK,
)
from openpit_shm.layout.records import (
    CODE_ARITHMETIC_OVERFLOW,
    CODE_MISSING_REQUIRED_FIELD,
    CODE_NUMBER,
    CODE_ORDER_VALUE_CALCULATION_FAILED,
    FILL_HAS_FEE,
    ORDER_HAS_PRICE,
    ORDER_NO_SIDE,
    ORDER_VOLUME,
    SIDE_BUY,
)
from openpit_shm.layout.state import AC_BLOCK, GROUP_SHIFT, H_KIND_ROOT, H_POW10, H_T_ACC, RS_LEGS
from openpit_shm.layout.view import (
    HOLD_BASIS_NOTIONAL,
    HOLD_BASIS_QUANTITY,
    LEG_AT,
    LEG_BASIS,
    LEG_WORDS,
    V_ACCOUNT,
    V_AMOUNT,
    V_DRY,
    V_FEE_AMOUNT,
    V_FILL_PRICE,
    V_FILL_QTY,
    V_FLAGS,
    V_INSTRUMENT,
    V_LOCK_PRICE,
    V_NOW,
    V_PRICE,
    V_SETTLEMENT,
    V_SIDE,
    V_UNDERLYING,
)

from .codes import FIELD_ACCOUNT, FIELD_INSTRUMENT, FIELD_TRADE_AMOUNT, RSN_MISSING_FIELD
from .fields import has_account, has_amount, has_instrument
from .fixed import add_checked, mul_div, mul_div_ceil, mul_div_floor, sub_checked
from .hashtable import tbl_find, tbl_get_or_insert
from .jit import njit
from .legs import propose_fill_delta, propose_leg
from .market_data import quote_for, quote_for_at
from .ptr import addr_ptr
from .results import write_reject

__all__ = ["KIND", "fill", "finalize", "fx_convert", "fx_rate", "main", "market_price", "report",
           "start"]

KIND = 5

CODE_INSUFFICIENT_FUNDS = CODE_NUMBER["InsufficientFunds"]
CODE_POSITION_LIMIT_EXCEEDED = CODE_NUMBER["PositionLimitExceeded"]
CODE_UNSUPPORTED_ORDER_TYPE = CODE_NUMBER["UnsupportedOrderType"]
CODE_MARK_PRICE_UNAVAILABLE = CODE_NUMBER["MarkPriceUnavailable"]

# ---- its block (``state[H_KIND_ROOT + KIND]``, see ``layout.state``) -----------------------
# Its own block in the arena, at ``state[H_KIND_ROOT + KIND]`` (written at install):
SFB_T = 0  #: (account, asset) -> SF row table
SFB_ACC_T = 1  #: account -> SFA row table
SFB_GRP_T = 2  #: group -> SFG row table
SFB_MODE = 3  #: the global limit mode (MODE_*)
SFB_SOURCE = 4  #: market-order pricing source (SRC_*; SRC_NONE: built without market data)
SFB_SLIP = 5  #: global slippage, bps
SFB_MD_T = 6  #: (underlying asset, settlement asset) -> market-data InstrumentId (row word 0 + 1)
SFB_OVR_ACC_T = 7  #: (md instrument, account) -> slippage override row (OVR_*)
SFB_OVR_GRP_T = 8  #: (md instrument, group) -> slippage override row
SFB_OVR_INS_T = 9  #: (md instrument, 0) -> slippage override row
W_SFB = 10

SRC_NONE = 0
SRC_MARK = 1
SRC_BOOK_TOP = 2
OVR_SET = 0  #: override row: 1 set, 0 cleared
OVR_BPS = 1
W_OVR = 2
W_MD = 1  #: md map row: InstrumentId value + 1 (0: not registered)

# ---- rows -------------------------------------------------------------------------------------
SF_TOTAL = 0
SF_HELD = 1
SF_INCOMING = 2
SF_AVG = 3
SF_PNL = 4
SF_HALT = 5
SF_POS_SET = 6
SF_POS_LIMIT = 7
W_SF = 8
SFA_MODE = 0
SFA_PNL = 1
SFA_HALT = 2
W_SFA = 4
SFG_MODE = 0
W_SFG = 2


@njit(cache=True, inline='always')
def sf_word(state, w):  # type: ignore[no-untyped-def]
    """The arena index of word ``w`` (``SFB_*``) of Spot Funds' own block."""
    return state[H_KIND_ROOT + KIND] + w

MODE_ENFORCE = 1
MODE_TRACK_ONLY = 2

# ---- reasons (d0..d4 per reason, read by ``builtins.spot_funds.describe``) ---------------------
RSN_SF_INSUFFICIENT = 90  #: d0 asset, d1 available, d2 requested
RSN_SF_POSITION = 91  #: d0 asset, d1 side (1 long / 2 short), d2 projected, d3 limit
RSN_SF_MARKET = 92  #: market order, no price: UnsupportedOrderType
RSN_SF_VALUE = 93  #: OrderValueCalculationFailed
RSN_SF_HOLD_OVERFLOW = 94  #: d0 asset, d1 requested
RSN_SF_INCOMING_OVERFLOW = 95  #: d0 asset, d1 requested
RSN_SF_MARK_UNAVAILABLE = 96  #: market order, no usable quote: MarkPriceUnavailable
RSN_SF_PRICE_CALC = 97  #: market order, price <= 0 or overflow: OrderValueCalculationFailed

# ``market_price`` answers
PRICE_OK = 0
PRICE_UNSUPPORTED = 1  #: no market data: UnsupportedOrderType
PRICE_UNAVAILABLE = 2  #: MarkPriceUnavailable
PRICE_CALC_FAILED = 3  #: OrderValueCalculationFailed "price calculation failed"
BPS_ONE = 10_000
FIELD_SIDE = 5


@njit(cache=True)
def account_group(state, account):  # type: ignore[no-untyped-def]
    """The account's group for quote reads: -1 when in none (the default group)."""
    ac = tbl_find(state, state[H_T_ACC], account, 0)
    if ac == 0:
        return -1
    group = state[ac + AC_BLOCK] >> GROUP_SHIFT
    return group if group != 0 else -1


@njit(cache=True)
def md_instrument(state, underlying, settlement):  # type: ignore[no-untyped-def]
    """The market-data InstrumentId of (underlying, settlement) asset ids, -1 if unregistered.

    Resolved once per registration (``builtins.spot_funds.InstrumentMap`` writes the
    map when the service registers an instrument), never per order in Python.
    """
    if underlying < 0 or settlement < 0:
        return -1
    r = tbl_find(state, state[sf_word(state, SFB_MD_T)], underlying, settlement)
    if r == 0 or state[r] == 0:
        return -1
    return state[r] - 1


@njit(cache=True)
def slippage_bps(state, instrument, account, group):  # type: ignore[no-untyped-def]
    """openpit's slippage cascade: (instrument, account) -> (instrument, group) -> instrument
    -> global."""
    r = tbl_find(state, state[sf_word(state, SFB_OVR_ACC_T)], instrument, account)
    if r != 0 and state[r + OVR_SET] != 0:
        return state[r + OVR_BPS]
    if group > 0:
        r = tbl_find(state, state[sf_word(state, SFB_OVR_GRP_T)], instrument, group)
        if r != 0 and state[r + OVR_SET] != 0:
            return state[r + OVR_BPS]
    r = tbl_find(state, state[sf_word(state, SFB_OVR_INS_T)], instrument, 0)
    if r != 0 and state[r + OVR_SET] != 0:
        return state[r + OVR_BPS]
    return state[sf_word(state, SFB_SLIP)]


@njit(cache=True)
def slipped_price(base, bps, buy):  # type: ignore[no-untyped-def]
    """``base * (1 +- bps/1e4)``: (price, ok). A buy needs ``base > 0``, a sell a result > 0.

    Rounded against the account when the scale cannot hold the product: a buy's
    price up (a larger hold), a sell's down.
    """
    if buy:
        if base <= 0:
            return 0, False
        return mul_div_ceil(base, BPS_ONE + bps, BPS_ONE)
    price, ok = mul_div_floor(base, BPS_ONE - bps, BPS_ONE)
    return price, ok and price > 0


@njit(cache=True)
def market_price(state, shared, view):  # type: ignore[no-untyped-def]
    """The price of a market order (no limit price): ``(price, PRICE_*)``.

    openpit's ``compute_{buy,sell}_with_md``: no market data -> unsupported; the
    instrument unregistered, no quote (account, group, default buckets), an expired
    one or the source's field missing -> unavailable (MARK reads the mark, BOOK_TOP
    the ask for a buy and the bid for a sell, no fallback); then the slippage cascade.
    """
    source = state[sf_word(state, SFB_SOURCE)]
    if source == SRC_NONE:
        return 0, PRICE_UNSUPPORTED
    instrument = md_instrument(state, view[V_UNDERLYING], view[V_SETTLEMENT])
    if instrument < 0:
        return 0, PRICE_UNAVAILABLE
    account = view[V_ACCOUNT]
    group = account_group(state, account)
    code, flags, mark, bid, ask = quote_for(view, instrument, account, group,
                                            QR_ACCOUNT_THEN_GROUP_THEN_DEFAULT, view[V_NOW])
    if code != QUOTE_OK:
        return 0, PRICE_UNAVAILABLE
    buy = view[V_SIDE] == SIDE_BUY
    if source == SRC_MARK:
        base, has = mark, flags & QUOTE_HAS_MARK != 0
    elif buy:
        base, has = ask, flags & QUOTE_HAS_ASK != 0
    else:
        base, has = bid, flags & QUOTE_HAS_BID != 0
    if not has:
        return 0, PRICE_UNAVAILABLE
    price, ok = slipped_price(base, slippage_bps(state, instrument, account, group), buy)
    if not ok:
        return 0, PRICE_CALC_FAILED
    return price, PRICE_OK


@njit(cache=True)
def fx_mark(state, quotes, cap, account, underlying, settlement, now):  # type: ignore[no-untyped-def]
    """The accounting mark of (underlying, settlement): (mark, found). Expired quotes count
    (openpit's ``accounting_quote``: ``Ok(q) | Err(QuoteExpired(q))``)."""
    instrument = md_instrument(state, underlying, settlement)
    if instrument < 0 or quotes == 0:
        return 0, False
    code, flags, mark, _, _ = quote_for_at(addr_ptr(quotes), cap, instrument, account,
                                           account_group(state, account),
                                           QR_ACCOUNT_THEN_GROUP_THEN_DEFAULT, now)  # fmt: skip
    usable = code in (QUOTE_OK, QUOTE_EXPIRED)
    if usable and flags & QUOTE_HAS_MARK != 0:
        return mark, True
    return 0, False


FX_NONE = 0
FX_IDENTITY = 1
FX_DIRECT = 2  #: value * mark
FX_INVERSE = 3  #: value / mark


@njit(cache=True)
def fx_rate(state, quotes, cap, account, source, target, now):  # type: ignore[no-untyped-def]
    """How to convert ``source`` amounts into ``target`` (the account currency):
    ``(FX_*, mark)``; openpit's ``account_currency_factor``: the direct pair's mark, else
    1 / the inverse pair's mark, else none."""
    if source == target:
        return FX_IDENTITY, 0
    mark, found = fx_mark(state, quotes, cap, account, source, target, now)
    if found:
        return FX_DIRECT, mark
    mark, found = fx_mark(state, quotes, cap, account, target, source, now)
    if found and mark != 0:
        return FX_INVERSE, mark
    return FX_NONE, 0


@njit(cache=True)
def fx_convert(state, value, how, mark):  # type: ignore[no-untyped-def]
    """``value`` in the account currency: (converted, ok); truncated toward zero (an inverse
    rate is one division, so no 1/mark rounding enters)."""
    if how == FX_IDENTITY:
        return value, True
    if how == FX_DIRECT:
        return mul_div(value, mark, state[H_POW10])
    return mul_div(value, state[H_POW10], mark)


@njit(cache=True, inline='always')
def sf_row(state, account, asset):  # type: ignore[no-untyped-def]
    """The (account, asset) row, created if absent."""
    return tbl_get_or_insert(state, state[sf_word(state, SFB_T)], account, asset)


@njit(cache=True, inline='always')
def _find(state, account, asset):  # type: ignore[no-untyped-def]
    return tbl_find(state, state[sf_word(state, SFB_T)], account, asset)


@njit(cache=True)
def limit_mode(state, account):  # type: ignore[no-untyped-def]
    """The effective limit mode: account pin, then group pin, then global."""
    a = tbl_find(state, state[sf_word(state, SFB_ACC_T)], account, 0)
    if a != 0 and state[a + SFA_MODE] != 0:
        return state[a + SFA_MODE]
    ac = tbl_find(state, state[H_T_ACC], account, 0)
    if ac != 0:
        group = state[ac + AC_BLOCK] >> GROUP_SHIFT
        if group != 0:
            g = tbl_find(state, state[sf_word(state, SFB_GRP_T)], group, 0)
            if g != 0 and state[g + SFG_MODE] != 0:
                return state[g + SFG_MODE]
    return state[sf_word(state, SFB_MODE)]


@njit(cache=True)
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    return n


@njit(cache=True, inline='always')
def _missing(out, n, pol, field):  # type: ignore[no-untyped-def]
    return write_reject(out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
                        field, 0, 0, 0, 0)  # fmt: skip


@njit(cache=True)
def _gate_step(state, out, n, pol, row, asset, held, mode):  # type: ignore[no-untyped-def]
    """The funds gate of one held step: ``n`` unchanged if it passes."""
    if held == 0:
        return n
    avail, ok = sub_checked(state[row + SF_TOTAL], state[row + SF_HELD])
    _, ok2 = add_checked(state[row + SF_HELD], held)
    if not ok or not ok2:
        return write_reject(out, n, CODE_ARITHMETIC_OVERFLOW, pol, RSN_SF_HOLD_OVERFLOW, 0,
                            asset, held, 0, 0, 0)  # fmt: skip
    if mode != MODE_TRACK_ONLY and avail < held:
        return write_reject(out, n, CODE_INSUFFICIENT_FUNDS, pol, RSN_SF_INSUFFICIENT, 0,
                            asset, avail, held, 0, 0)  # fmt: skip
    return n


@njit(cache=True)
def _incoming_step(state, out, n, pol, row, asset, incoming):  # type: ignore[no-untyped-def]
    if incoming == 0:
        return n
    _, ok = add_checked(state[row + SF_INCOMING], incoming)
    if not ok:
        return write_reject(out, n, CODE_ARITHMETIC_OVERFLOW, pol, RSN_SF_INCOMING_OVERFLOW, 0,
                            asset, incoming, 0, 0, 0)  # fmt: skip
    return n


@njit(cache=True)
def _position_check(state, out, n, pol, row, asset, held, incoming):  # type: ignore[no-untyped-def]
    """The position limit of ``asset``: long if the order brings it in, short if it holds it."""
    if state[row + SF_POS_SET] == 0:
        return n
    limit = state[row + SF_POS_LIMIT]
    if incoming > 0:
        avail = state[row + SF_TOTAL] - state[row + SF_HELD]
        projected = avail + state[row + SF_HELD] + state[row + SF_INCOMING] + incoming
        if projected > limit:
            return write_reject(out, n, CODE_POSITION_LIMIT_EXCEEDED, pol, RSN_SF_POSITION, 0,
                                asset, 1, projected, limit, 0)  # fmt: skip
    if held > 0:
        projected = state[row + SF_HELD] + held
        if projected > limit:
            return write_reject(out, n, CODE_POSITION_LIMIT_EXCEEDED, pol, RSN_SF_POSITION, 0,
                                asset, 2, projected, limit, 0)  # fmt: skip
    return n


@njit(cache=True)
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """The main stage: price, legs, limit mode, funds gate, position limit; proposes holds."""
    flags = view[V_FLAGS]
    if not has_instrument(flags):
        return _missing(out, n, pol, FIELD_INSTRUMENT)
    if not has_account(flags):
        return _missing(out, n, pol, FIELD_ACCOUNT)
    if flags & ORDER_NO_SIDE:
        return _missing(out, n, pol, FIELD_SIDE)
    if not has_amount(flags):
        return _missing(out, n, pol, FIELD_TRADE_AMOUNT)
    account = view[V_ACCOUNT]
    pow10 = state[H_POW10]
    if flags & ORDER_HAS_PRICE:
        price = view[V_PRICE]
    else:
        price, answer = market_price(state, shared, view)
        if answer == PRICE_UNSUPPORTED:
            return write_reject(out, n, CODE_UNSUPPORTED_ORDER_TYPE, pol, RSN_SF_MARKET, 0,
                                0, 0, 0, 0, 0)  # fmt: skip
        if answer == PRICE_UNAVAILABLE:
            return write_reject(out, n, CODE_MARK_PRICE_UNAVAILABLE, pol,
                                RSN_SF_MARK_UNAVAILABLE, 0, 0, 0, 0, 0, 0)  # fmt: skip
        if answer != PRICE_OK:
            return write_reject(out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol,
                                RSN_SF_PRICE_CALC, 0, 0, 0, 0, 0, 0)  # fmt: skip
    amount = view[V_AMOUNT]
    volume = flags & ORDER_VOLUME != 0
    buy = view[V_SIDE] == SIDE_BUY
    # quantity of a volume order: v / |p| (0 at p = 0), truncated as rust_decimal rounds
    # quotients to 28 digits and the fixed point keeps H_SCALE of them (against the account:
    # a smaller projected quantity is the smaller hold/projection).
    qty = amount
    if volume:
        qty = 0
        if price != 0:
            qty, ok = mul_div(amount, pow10, price if price > 0 else -price)
            if not ok:
                return write_reject(out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol,
                                    RSN_SF_VALUE, 0, 0, 0, 0, 0, 0)  # fmt: skip
    if buy:
        if volume:
            settle_held = amount if price > 0 else 0
        else:
            notional, ok = mul_div_floor(price, qty, pow10)
            if not ok:
                return write_reject(out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol,
                                    RSN_SF_VALUE, 0, 0, 0, 0, 0, 0)  # fmt: skip
            settle_held = notional if notional > 0 else 0
        u_held, u_inc, s_held, s_inc = 0, qty, settle_held, 0
    else:
        notional, ok = mul_div_floor(price, qty, pow10)
        if not ok:
            return write_reject(out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol,
                                RSN_SF_VALUE, 0, 0, 0, 0, 0, 0)  # fmt: skip
        u_held, u_inc = qty, 0
        s_held = -notional if notional < 0 else 0
        s_inc = notional if notional > 0 else 0
    mode = limit_mode(state, account)
    underlying = view[V_UNDERLYING]
    settlement = view[V_SETTLEMENT]
    ur = sf_row(state, account, underlying)
    sr = sf_row(state, account, settlement)
    # openpit's steps: BUY [settlement, underlying], SELL [underlying, settlement]
    if buy:
        m = _gate_step(state, out, n, pol, sr, settlement, s_held, mode)
        if m == n:
            m = _incoming_step(state, out, n, pol, sr, settlement, s_inc)
        if m == n:
            m = _gate_step(state, out, n, pol, ur, underlying, u_held, mode)
        if m == n:
            m = _incoming_step(state, out, n, pol, ur, underlying, u_inc)
    else:
        m = _gate_step(state, out, n, pol, ur, underlying, u_held, mode)
        if m == n:
            m = _incoming_step(state, out, n, pol, ur, underlying, u_inc)
        if m == n:
            m = _gate_step(state, out, n, pol, sr, settlement, s_held, mode)
        if m == n:
            m = _incoming_step(state, out, n, pol, sr, settlement, s_inc)
    if m != n:
        return m
    if buy:
        m = _position_check(state, out, n, pol, sr, settlement, s_held, s_inc)
        if m == n:
            m = _position_check(state, out, n, pol, ur, underlying, u_held, u_inc)
    else:
        m = _position_check(state, out, n, pol, ur, underlying, u_held, u_inc)
        if m == n:
            m = _position_check(state, out, n, pol, sr, settlement, s_held, s_inc)
    if m != n:
        return m
    if view[V_DRY] != 0:
        return n
    view[V_LOCK_PRICE] = price
    # Two legs, always (a zero amount is a no-op counter move): the first one's basis
    # says the side to the fill hook. A SELL at a negative price owes settlement
    # (``s_held``, openpit holds it): a third leg, which only the fill hook ignores.
    if buy:
        propose_leg(view, KIND, sr + SF_HELD, s_held, HOLD_BASIS_NOTIONAL)
        propose_leg(view, KIND, ur + SF_INCOMING, u_inc, HOLD_BASIS_QUANTITY)
    else:
        propose_leg(view, KIND, ur + SF_HELD, u_held, HOLD_BASIS_QUANTITY)
        propose_leg(view, KIND, sr + SF_INCOMING, s_inc, HOLD_BASIS_NOTIONAL)
        if s_held != 0:
            propose_leg(view, KIND, sr + SF_HELD, s_held, HOLD_BASIS_NOTIONAL)
    return n


@njit(cache=True)
def report(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    return n


@njit(cache=True)
def finalize(state, hold, commit):  # type: ignore[no-untyped-def]
    return 0


@njit(cache=True)
def fill(state, shared, hold, view):  # type: ignore[no-untyped-def]
    """A fill of slot ``hold``: stage what really moved (``total`` of each asset, the fee).

    The first leg says the side: a BUY's first leg is the settlement held (notional
    basis, word ``SF_HELD``) or, for a zero-notional buy, its incoming underlying.
    """
    pow10 = state[H_POW10]
    qty = view[V_FILL_QTY]
    price = view[V_FILL_PRICE]
    first = hold + RS_LEGS
    at0 = state[first + LEG_AT]
    basis0 = state[first + LEG_BASIS]
    second = hold + RS_LEGS + LEG_WORDS
    at1 = state[second + LEG_AT]
    if qty > 0:
        traded, ok = mul_div_floor(price, qty, pow10)
        if not ok:
            return 1
        if basis0 == HOLD_BASIS_NOTIONAL:  # BUY: settlement held, underlying incoming
            settle_row = at0 - SF_HELD
            propose_fill_delta(view, KIND, settle_row + SF_TOTAL, -traded)
            propose_fill_delta(view, KIND, at1 - SF_INCOMING + SF_TOTAL, qty)
        else:  # SELL: underlying held, settlement incoming
            propose_fill_delta(view, KIND, at0 - SF_HELD + SF_TOTAL, -qty)
            propose_fill_delta(view, KIND, at1 - SF_INCOMING + SF_TOTAL, traded)
    if view[V_FLAGS] & FILL_HAS_FEE and view[V_FEE_AMOUNT] != 0:
        account = state[hold + 1]  # RS_LINK: the slot's account while live
        fr = sf_row(state, account, view[V_INSTRUMENT])
        propose_fill_delta(view, KIND, fr + SF_TOTAL, -view[V_FEE_AMOUNT])
    return 0
