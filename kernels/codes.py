"""Numeric codes the builtin kernels write into result records, beyond ``layout.records``.

``layout.records`` fixes the record shapes and the reject-code numbers. This
module fixes what the builtin kernels put in the *reason* byte (``rsn``) and
the detail words (``d0..d4``) of their records, so every door (objects,
NumPy batches, shared memory) and every process can turn a record back into
openpit's exact texts (``openpit_shm.builtins.describe``).

``rsn`` values are unique across builtins, so a record is self-describing:
``(policy kind, rsn)`` selects the text template and the meaning of ``d0..d4``.

Kernel status codes (``ST_*``) are return values of kernels, never stored.
"""

from __future__ import annotations

# ---- reason variants (RESULT_DTYPE.reason) ---------------------------------------------------
RSN_NONE = 0
#: MissingRequiredField from any builtin; d0 = FIELD_*.
RSN_MISSING_FIELD = 1
#: Order validation (InvalidFieldValue); no detail words.
RSN_OV_ZERO_QTY = 2
RSN_OV_ZERO_VOLUME = 3
#: Rate limit (RateLimitExceeded): d0 = count, d1 = max (u64 bits), d2 = window ns (u64 bits).
RSN_RL_BROKER = 10
RSN_RL_ASSET = 11
RSN_RL_ACCOUNT = 12
RSN_RL_ACCOUNT_ASSET = 13
# 14 retired: "a shared window's lock timed out" (the fixed windows are lock-free since
# state version 4; the rate limit never answers SystemUnavailable).
#: Order size: d0 = amount, d1 = price, d2 = quantity cap, d3 = notional cap,
#: d4 = underlying | settlement << 20 | qty-cap scale << 40 | notional-cap scale << 48
#:      | ORDER_VOLUME-is-set << 56 | has-price << 57.
RSN_OSL_QTY = 20
RSN_OSL_NOTIONAL = 21
RSN_OSL_BOTH = 22
RSN_OSL_QTY_BROKER = 23
RSN_OSL_NOTIONAL_BROKER = 24
RSN_OSL_BOTH_BROKER = 25
RSN_OSL_NO_PRICE = 26  #: OrderValueCalculationFailed: a needed price is missing
RSN_OSL_OVERFLOW = 27  #: OrderValueCalculationFailed: the value does not fit
#: P&L start-stage reject (PnlKillSwitchTriggered, account scope):
#: d0 = accumulated P&L, d1 = lower, d2 = upper, d3 = settlement asset,
#: d4 = acc scale | lower scale << 8 | upper scale << 16 | bound flags << 24 | breach flags << 28.
RSN_PNL_BROKER = 30
RSN_PNL_ACCOUNT = 31
#: P&L post-trade block (PnlKillSwitchTriggered): d0 = P&L, d3 = asset, d4 = acc scale.
RSN_PNL_POST = 32
#: P&L accumulation overflow (OrderValueCalculationFailed):
#: d0 = previous P&L, d1 = pnl, d2 = fee, d3 = asset, d4 = acc | pnl << 8 | fee << 16 scales.
RSN_PNL_ACC_OVERFLOW = 33
RSN_PNL_SUM_OVERFLOW = 34  #: ``pnl - fee`` itself overflowed (same words)
#: Engine gate (policy = POLICY_ENGINE, account scope unless noted).
RSN_GATE_ACCOUNT = 40  #: a block recorded from Python; d0 = account
RSN_GATE_GROUP = 41  #: the account's group is blocked; d0 = account, d1 = group
RSN_GATE_ENGINE = 42  #: engine-wide block recorded from Python
RSN_GATE_ENGINE_KILL_SWITCH = 43  #: engine-wide block latched by a report with no account
RSN_GATE_NO_ACCOUNT = 44  #: blocks exist and the order has no account (order scope)
#: Malformed requests (STATUS_ERROR).
RSN_BAD_KIND = 50
RSN_BAD_INSTRUMENT = 51  #: UnknownInstrument; d0 = instrument id
RSN_BAD_SIDE = 52  #: InvalidFieldValue; d0 = side byte
RSN_BAD_AMOUNT = 53  #: InvalidFieldValue; d0 = amount
RSN_BAD_FLAGS = 54  #: InvalidFieldFormat; d0 = flags
RSN_BAD_HANDLE = 55  #: Other; d0 = the handle (unknown, stale, or already finalized)
RSN_RES_FULL = 56  #: SystemUnavailable: the reservation table is full
RSN_NO_SPACE = 57  #: SystemUnavailable: the state arena is full (shared-memory mode)
RSN_WRONG_SHARD = 58  #: InvalidFieldValue; d0 = account, d1 = its shard, d2 = this shard
RSN_WRONG_ENGINE = 59  #: InvalidFieldValue; d0 = the record's tag, d1 = this engine's tag
#: Sharded engines: answers the supervisor writes for a worker that is not running.
RSN_SHARD_DOWN = 60  #: SystemUnavailable (STATUS_REJECTED): never evaluated; d0 = shard
#: Other (STATUS_ERROR): the worker died while deciding this request; it may or may not have
#: been applied. d0 = shard.
RSN_OUTCOME_UNKNOWN = 61
#: Other (STATUS_ERROR): a producer's request-ring cursor is impossible (``head - tail`` is
#: negative or above the capacity); its ring is detached. d0 = head, d1 = tail, d2 = shard.
RSN_BAD_CURSOR = 62
#: Handles (``layout.handles``) that may not be used here; nothing is changed (Other).
RSN_HANDLE_WRONG_SHARD = 63  #: d0 = the handle, d1 = the shard it names, d2 = this shard
RSN_HANDLE_NOT_OWNER = 64  #: d0 = the handle, d1 = the client slot that sent it (not its owner)
#: The handle's reservation lived in a worker that has restarted since (custom policies keep
#: reservations in the worker's memory): d0 = the handle, d1 = its worker generation, d2 = now
RSN_HANDLE_LOST = 65
#: Other (STATUS_ERROR): a holding kind's ``fill`` hook refused a ``MSG_FILL``; nothing was
#: applied. d0 = the handle, d1 = the hook's code, d2 = the kind.
RSN_FILL_REFUSED = 66
#: MissingRequiredField (order scope): a ``MSG_DROP_COPY`` without an account (openpit's
#: "drop-copy requires a readable account ID").
RSN_DROP_COPY_NO_ACCOUNT = 67

# ---- fields named by MissingRequiredField (d0) -------------------------------------------------
FIELD_TRADE_AMOUNT = 1
FIELD_INSTRUMENT = 2
FIELD_ACCOUNT = 3
FIELD_PNL = 4

# ---- kernel status codes ---------------------------------------------------------------------
ST_OK = 0
ST_NEED_SPACE = -2  #: the arena cannot hold what this call may allocate: grow, then retry

# ---- OSL detail packing ----------------------------------------------------------------------
OSL_ASSET_BITS = 20
OSL_ASSET_MASK = (1 << OSL_ASSET_BITS) - 1
OSL_QSCALE_SHIFT = 40
OSL_NSCALE_SHIFT = 48
OSL_VOLUME_BIT = 56
OSL_PRICE_BIT = 57

# ---- P&L detail packing ----------------------------------------------------------------------
PNL_LOWER_SCALE_SHIFT = 8
PNL_UPPER_SCALE_SHIFT = 16
PNL_BOUNDS_SHIFT = 24
PNL_BREACH_SHIFT = 28
PNL_FEE_SCALE_SHIFT = 16


def reason_name(reason: int) -> str:
    """The ``RSN_*`` name of a reason byte without its prefix ("BAD_SIDE"), or "reason N"."""
    return _REASON_NAMES.get(reason, f"reason {reason}")


# Filled last, from this module's own constants, so a new RSN_* needs no second entry.
_REASON_NAMES: dict[int, str] = {
    value: name[4:]
    for name, value in list(globals().items())
    if name.startswith("RSN_") and isinstance(value, int)
}
