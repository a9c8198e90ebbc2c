"""Order size limit (openpit ``OrderSizeLimitPolicy``): start stage, stateless, exact.

Caps are optional per barrier (``CAP_QTY`` / ``CAP_NOTIONAL`` flags):

* quantity chain: (account, underlying) then (underlying); notional chain:
  (account, settlement) then (settlement). In each chain the first barrier
  that matches **and carries that metric** wins; one without it is skipped;
* the broker caps apply on top of both chains, checked only if the chains
  pass;
* breach is strict ``value > cap`` (a cap of 0 admits exactly 0).

Metrics: quantity = the order's quantity, or ``volume / |price|`` (0 when the
price is 0); notional = the order's volume, or ``|price| * quantity``. A
metric is needed only if some applicable cap uses it; a needed metric without
a price is ``OrderValueCalculationFailed``. Comparisons are cross-multiplied
in i128 (``kernels.fixed.mul_cmp``), so ``volume / |price| > cap`` is decided
exactly, with no rounded intermediate and no possible overflow; only
``|price|`` of ``int64.min`` cannot be formed and fails closed as an overflow.

One reject, order scope: ``OrderQtyExceedsLimit`` / ``OrderNotionalExceedsLimit``
/ ``OrderExceedsLimit`` (both metrics on the same level), with the order's
amount and price and both caps in the detail words (``kernels.codes``).
Fields (openpit's order of reads): the instrument first when asset-keyed
barriers exist; the account when account+asset barriers exist (whether or
not one matches); the trade amount only once some applicable cap needs a
metric, and before the price.
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    CODE_MISSING_REQUIRED_FIELD,
    CODE_ORDER_EXCEEDS_LIMIT,
    CODE_ORDER_NOTIONAL_EXCEEDS_LIMIT,
    CODE_ORDER_QTY_EXCEEDS_LIMIT,
    CODE_ORDER_VALUE_CALCULATION_FAILED,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
)
from openpit_shm.layout.state import (
    A_OSL_FLAGS,
    A_OSL_NOTIONAL,
    A_OSL_QTY,
    A_OSL_SCALES,
    AA_OSL_FLAGS,
    AA_OSL_GEN,
    AA_OSL_NOTIONAL,
    AA_OSL_QTY,
    AA_OSL_SCALES,
    CAP_NOTIONAL,
    CAP_QTY,
    H_ASSET_BASE,
    H_ASSET_CAP,
    H_OSL_AA_GEN,
    H_OSL_BROKER_FLAGS,
    H_OSL_BROKER_NOTIONAL,
    H_OSL_BROKER_QTY,
    H_OSL_BROKER_SCALES,
    H_OSL_N_AA,
    H_OSL_N_ASSET,
    H_POW10,
    H_T_AA,
    SCALE_SHIFT,
    W_ASSET,
)
from openpit_shm.layout.view import (
    V_ACCOUNT,
    V_AMOUNT,
    V_FLAGS,
    V_PRICE,
    V_SETTLEMENT,
    V_UNDERLYING,
)

from .codes import (
    FIELD_ACCOUNT,
    FIELD_INSTRUMENT,
    FIELD_TRADE_AMOUNT,
    OSL_ASSET_BITS,
    OSL_ASSET_MASK,
    OSL_NSCALE_SHIFT,
    OSL_PRICE_BIT,
    OSL_QSCALE_SHIFT,
    OSL_VOLUME_BIT,
    RSN_MISSING_FIELD,
    RSN_OSL_BOTH,
    RSN_OSL_BOTH_BROKER,
    RSN_OSL_NO_PRICE,
    RSN_OSL_NOTIONAL,
    RSN_OSL_NOTIONAL_BROKER,
    RSN_OSL_OVERFLOW,
    RSN_OSL_QTY,
    RSN_OSL_QTY_BROKER,
)
from .fields import has_account, has_amount, has_instrument
from .fixed import I64_MIN, mul_cmp
from .hashtable import tbl_find
from .jit import njit
from .results import write_reject

__all__ = ["notional_exceeds", "osl_check", "qty_exceeds"]

_SCALE_MASK = (1 << SCALE_SHIFT) - 1


@njit(cache=True, inline='always')
def qty_exceeds(is_volume, amount, abs_price, cap, pow10):  # type: ignore[no-untyped-def]
    """Order quantity > cap (a volume order's quantity is ``volume / |price|``, 0 at price 0)."""
    if not is_volume:
        return amount > cap
    if abs_price == 0:
        return cap < 0
    # volume / price > cap  <=>  volume * 10**s > cap * price   (all fixed point, price > 0)
    return mul_cmp(amount, pow10, cap, abs_price) > 0


@njit(cache=True, inline='always')
def notional_exceeds(is_volume, amount, abs_price, cap, pow10):  # type: ignore[no-untyped-def]
    """Order notional > cap (a quantity order's notional is ``|price| * quantity``)."""
    if is_volume:
        return amount > cap
    return mul_cmp(abs_price, amount, cap, pow10) > 0


@njit(cache=True, inline='always')
def _detail(underlying, settlement, qscale, nscale, flags):  # type: ignore[no-untyped-def]
    d = (underlying & OSL_ASSET_MASK) | ((settlement & OSL_ASSET_MASK) << OSL_ASSET_BITS)
    d |= (qscale & _SCALE_MASK) << OSL_QSCALE_SHIFT
    d |= (nscale & _SCALE_MASK) << OSL_NSCALE_SHIFT
    if flags & ORDER_VOLUME:
        d |= 1 << OSL_VOLUME_BIT
    if flags & ORDER_HAS_PRICE:
        d |= 1 << OSL_PRICE_BIT
    return d


@njit(cache=True)
def osl_check(state, out, n, pol, account, underlying, settlement, flags, price, amount):  # type: ignore[no-untyped-def]
    """Run the order size limit for one order; append its reject (if any) at ``out[n]``."""
    bflags = state[H_OSL_BROKER_FLAGS]
    n_asset = state[H_OSL_N_ASSET]
    n_aa = state[H_OSL_N_AA]
    if bflags == 0 and n_asset == 0 and n_aa == 0:
        return n
    if not has_instrument(flags):
        field = FIELD_INSTRUMENT if n_asset > 0 or n_aa > 0 else FIELD_TRADE_AMOUNT
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0, field, 0, 0, 0, 0
        )
    if n_aa > 0 and not has_account(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_ACCOUNT, 0, 0, 0, 0,
        )
    # ---- resolve the two chains ----
    q_on = False
    q_cap = 0
    q_scale = 0
    n_on = False
    n_cap = 0
    n_scale = 0
    if n_aa > 0:
        gen = state[H_OSL_AA_GEN]
        t = state[H_T_AA]
        r = tbl_find(state, t, account, underlying)
        if r != 0 and state[r + AA_OSL_GEN] == gen and state[r + AA_OSL_FLAGS] & CAP_QTY:
            q_on = True
            q_cap = state[r + AA_OSL_QTY]
            q_scale = state[r + AA_OSL_SCALES] & _SCALE_MASK
        r = tbl_find(state, t, account, settlement)
        if r != 0 and state[r + AA_OSL_GEN] == gen and state[r + AA_OSL_FLAGS] & CAP_NOTIONAL:
            n_on = True
            n_cap = state[r + AA_OSL_NOTIONAL]
            n_scale = (state[r + AA_OSL_SCALES] >> SCALE_SHIFT) & _SCALE_MASK
    if n_asset > 0:
        base = state[H_ASSET_BASE]
        cap_assets = state[H_ASSET_CAP]
        if not q_on and 0 <= underlying < cap_assets:
            a = base + underlying * W_ASSET
            if state[a + A_OSL_FLAGS] & CAP_QTY:
                q_on = True
                q_cap = state[a + A_OSL_QTY]
                q_scale = state[a + A_OSL_SCALES] & _SCALE_MASK
        if not n_on and 0 <= settlement < cap_assets:
            a = base + settlement * W_ASSET
            if state[a + A_OSL_FLAGS] & CAP_NOTIONAL:
                n_on = True
                n_cap = state[a + A_OSL_NOTIONAL]
                n_scale = (state[a + A_OSL_SCALES] >> SCALE_SHIFT) & _SCALE_MASK
    bq_on = bflags & CAP_QTY != 0
    bn_on = bflags & CAP_NOTIONAL != 0
    need_q = q_on or bq_on
    need_n = n_on or bn_on
    if not need_q and not need_n:
        return n
    if not has_amount(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_TRADE_AMOUNT, 0, 0, 0, 0,
        )
    is_volume = flags & ORDER_VOLUME != 0
    has_price = flags & ORDER_HAS_PRICE != 0
    if ((need_q and is_volume) or (need_n and not is_volume)) and not has_price:
        return write_reject(
            out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol, RSN_OSL_NO_PRICE, 0,
            amount, price, 0, 0, _detail(underlying, settlement, 0, 0, flags),
        )
    if has_price and price == I64_MIN:
        return write_reject(
            out, n, CODE_ORDER_VALUE_CALCULATION_FAILED, pol, RSN_OSL_OVERFLOW, 0,
            amount, price, 0, 0, _detail(underlying, settlement, 0, 0, flags),
        )
    abs_price = -price if price < 0 else price
    p10 = state[H_POW10]
    q_bad = q_on and qty_exceeds(is_volume, amount, abs_price, q_cap, p10)
    n_bad = n_on and notional_exceeds(is_volume, amount, abs_price, n_cap, p10)
    if q_bad or n_bad:
        if q_bad and n_bad:
            code = CODE_ORDER_EXCEEDS_LIMIT
            rsn = RSN_OSL_BOTH
        elif q_bad:
            code = CODE_ORDER_QTY_EXCEEDS_LIMIT
            rsn = RSN_OSL_QTY
        else:
            code = CODE_ORDER_NOTIONAL_EXCEEDS_LIMIT
            rsn = RSN_OSL_NOTIONAL
        return write_reject(
            out, n, code, pol, rsn, 0, amount, price, q_cap, n_cap,
            _detail(underlying, settlement, q_scale, n_scale, flags),
        )
    bs = state[H_OSL_BROKER_SCALES]
    bq = state[H_OSL_BROKER_QTY]
    bn = state[H_OSL_BROKER_NOTIONAL]
    q_bad = bq_on and qty_exceeds(is_volume, amount, abs_price, bq, p10)
    n_bad = bn_on and notional_exceeds(is_volume, amount, abs_price, bn, p10)
    if not q_bad and not n_bad:
        return n
    if q_bad and n_bad:
        code = CODE_ORDER_EXCEEDS_LIMIT
        rsn = RSN_OSL_BOTH_BROKER
    elif q_bad:
        code = CODE_ORDER_QTY_EXCEEDS_LIMIT
        rsn = RSN_OSL_QTY_BROKER
    else:
        code = CODE_ORDER_NOTIONAL_EXCEEDS_LIMIT
        rsn = RSN_OSL_NOTIONAL_BROKER
    return write_reject(
        out, n, code, pol, rsn, 0, amount, price, bq, bn,
        _detail(underlying, settlement, bs & _SCALE_MASK, (bs >> SCALE_SHIFT) & _SCALE_MASK, flags),
    )


# ---- lifecycle (``kernels.dispatch`` calls these by ``KIND``) ------------------------------
KIND = 2  #: this builtin's kind id (< MAX_KINDS; ``dispatch.KIND_MODULES`` lists it)
MAIN_STAGE = False  #: its main stage is a no-op (``dispatch.MAIN_STAGE_KINDS``)


@njit(cache=True, inline='always')
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Start stage of the order size limit over the request view; returns the record count."""
    return osl_check(
        state, out, n, pol, view[V_ACCOUNT], view[V_UNDERLYING], view[V_SETTLEMENT], view[V_FLAGS],
        view[V_PRICE], view[V_AMOUNT]
    )  # fmt: skip


@njit(cache=True, inline='always')
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Main stage: the order size limit decides everything at start and holds nothing."""
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
