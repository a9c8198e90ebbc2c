"""The two 64-byte records every door speaks: an order (request) and a result.

The NumPy batch API, the shared-memory rings and the C header all use these
exact dtypes. All integers are little-endian; money and quantities are int64
fixed point at the engine's decimal scale (``FIXED_SCALE_DEFAULT`` unless the
engine was built with another one; every segment header records it).

Order record (``ORDER_DTYPE``), one per request::

     0       8      16     20   21   22     24      32      40      48      56     64
     +-------+-------+------+----+----+------+-------+-------+-------+-------+------+
     |  seq  |account|instr |kind|side|flags | price |amount |  pnl  |  fee  | ref  |
     | i64   |  u64  | i32  | u8 | u8 | u16  |  i64  |  i64  |  i64  |  i64  | i64  |
     +-------+-------+------+----+----+------+-------+-------+-------+-------+------+

Word 2 (``instr | kind << 32 | side << 40 | flags << 48``) is packed and unpacked
by ``pack_word2`` / ``word2_*`` below (and their ``_nb`` twins for kernels); the C
header's ``opshm_word2`` is generated from the same shifts.

Words 5..7 mean different things per kind (one 64-byte record for every kind)::

     kind            word 1   word 2 instr  word 3     word 4   word 5        word 6    word 7
     ORDER/START/DRY account  instrument    price      amount   lock price    slippage  tag << 16
     DROP_COPY
     REPORT          account  instrument    (unused)   (unused) pnl           fee       tag|scales
     EXECUTE/COMMIT/ (unused) (unused)      (unused)   (unused) (unused)      (unused)  handle
     ROLLBACK
     FILL            (unused) fee asset id  fill price fill qty remaining qty fee       handle

* Orders: ``lock price`` (``ORDER_HAS_LOCK_PRICE``) is the price a market order is
  held at (openpit's lock price); ``slippage`` (``ORDER_HAS_SLIPPAGE``) a fixed-point
  fraction a price-source price is widened by; the price source itself is 2 bits of
  ``flags`` (``ORDER_PRICE_SOURCE_*`` at ``ORDER_PRICE_SOURCE_SHIFT``: limit price,
  mark price, book top).
* ``MSG_FILL``: one execution of a reservation whose accept took holds (the handle in
  ``ref``, routed and owner-checked like a commit). ``fill qty`` at ``fill price``
  reconciles the holds at the lock price (``kernels.holds``); ``remaining qty``
  (``FILL_HAS_REMAINING``) is the venue's leaves quantity; ``FILL_FINAL`` marks the
  last fill: the remainder of every hold is released and the handle retired; a fee
  (``FILL_HAS_FEE``) is ``fee amount`` of asset ``fee asset id``. A fill carries no
  record tag: its handle binds it to the engine, shard and client slot already.

* ``MSG_DROP_COPY``: an order that already happened elsewhere (openpit's
  ``apply_drop_copy``), laid out as ``MSG_ORDER``. It needs an account
  (``ORDER_HAS_OPERATION`` without ``ORDER_NO_ACCOUNT``; otherwise one
  ``MissingRequiredField`` reject, ``RSN_DROP_COPY_NO_ACCOUNT``); no block gate runs;
  every builtin runs both stages (rate-limit attempts are spent) and its rejects do
  not enforce. The answer (``STATUS_OK``) is one record: ``count == 0`` when the
  operation requested no account block, else ``count == 1`` and the record is that
  block (the first account-scope reject, code ``AccountBlocked``; ``RESULT_BLOCK_LATCHED``
  when this operation recorded it); ``RESULT_ACCOUNT_BLOCKED`` says the account was
  blocked when the answer was written, and ``reservation`` is the operation's handle
  (``MSG_COMMIT``/``MSG_ROLLBACK``; 0 when there is nothing to finalize or
  ``ORDER_AUTO_COMMIT`` committed it). A builtin reject flagged
  ``RESULT_ABORTS_DROP_COPY`` (an evaluation failure the builtin cannot record
  through, e.g. Spot Funds without a limit price) aborts it instead:
  ``STATUS_REJECTED`` with those rejects only, nothing latched or held.

  ``LAYOUT_VERSION`` did not change for it, nor for the order scales in ``ref``
  (below): both are additive. No record, word or bit changed meaning: a C
  producer built against the older header never sends kind 10 or scale bits,
  and its records are answered exactly as before; a producer that sends kind 10
  to an older worker gets the ordinary ``RSN_BAD_KIND`` error record, never a
  misread. A version bump would only refuse those still-correct producers.

* ``seq``: the caller's correlation number, echoed in every result record.
* ``account``: ``AccountId.value`` (u64; FNV-1a-64 for string ids).
* ``instr``: the engine's instrument id (see ``Engine.register_instrument``).
* ``kind``: ``MSG_*`` below. ``side``: ``SIDE_*``. ``flags``: ``ORDER_*`` bits.
* ``price`` (when ``ORDER_HAS_PRICE``), ``amount`` (quantity, or volume when
  ``ORDER_VOLUME``): fixed point.
* ``pnl``/``fee``: ``MSG_REPORT`` only (``REPORT_HAS_FINANCIAL`` in flags).
* ``ref``: the handle for ``MSG_EXECUTE``/``MSG_COMMIT``/``MSG_ROLLBACK``: the
  ``reservation`` word of the accepted ``MSG_START``/``MSG_ORDER`` result. A
  handle names its shard, its client slot and its generation
  (``layout.handles``): route the record to the shard it names
  (``opshm_record_shard``), from the client slot that got it.
  Records that name an instrument (``MSG_ORDER``, ``MSG_START``,
  ``MSG_DRY_START``, ``MSG_DRY_ORDER``, ``MSG_REPORT``) carry the engine's
  **record tag** in bits 16..62 (``tag << RECORD_TAG_SHIFT``)::

      63 62                                     16 15              0
      +--+----------------------------------------+----------------+
      |0 |  record tag (RECORD_TAG_BITS, != 0)    | low 16 bits    |
      +--+----------------------------------------+----------------+

  Instrument ids are numbered per engine, so every engine draws a random
  tag when it is built (``engine.record_tag``; ``external_client()`` gives
  it to C producers) and answers a record with another tag ``STATUS_ERROR``
  (``InvalidFieldValue``, reason ``RSN_WRONG_ENGINE``): a record built for
  one engine is never checked against whatever instrument another engine
  numbers the same. For order kinds the low 16 bits may hold the decimal scales the
  order's ``price`` and ``amount`` were written with, packed ``price_scale |
  amount_scale << REPORT_SCALE_SHIFT`` (``order_ref(tag, scales)``; the sharded
  engine's object client sends them): the kernels ignore them, but an engine with
  custom policies rebuilds the ``Order`` its hooks see from the record, and openpit's
  ``Price("0.00")`` prints (and locks) as "0.00", not "0". 0 (what C producers and
  ``openpit_shm.batch`` send), or anything that is not such a pair, means "not known":
  each value then takes its shortest exact form.
  For ``MSG_REPORT`` the low 16 bits hold the decimal scales of ``pnl`` and ``fee`` as the
  report wrote them (rust_decimal's scale: ``-2101.00`` has 2), packed
  ``pnl_scale | fee_scale << REPORT_SCALE_SHIFT``, each 0..``REPORT_SCALE_MAX``.
  openpit prints the accumulated P&L in its texts at the scale its decimal
  arithmetic leaves it with ("realized pnl -2101.00"), which the fixed-point
  values alone cannot tell. 0, or anything that is not such a pair, means "not known":
  each value then counts with its shortest exact form ("-2101"); a scale
  smaller than the value needs is raised to it.

Result record (``RESULT_DTYPE``), one per reject (``count`` of them), or one
for an accepted request (``count == 0``)::

     0       8       16   18  19  20  21  22  23  24    32    40    48    56    64
     +-------+-------+----+---+---+---+---+---+----+-----+-----+-----+-----+-----+
     |  seq  |reserv.|code|pol|rsn|sta|flg|cnt|idx | d0  | d1  | d2  | d3  | d4  |
     |  i64  |  i64  |u16 |u8 |u8 |u8 |u8 |u8 | u8 | i64 | i64 | i64 | i64 | i64 |
     +-------+-------+----+---+---+---+---+---+----+-----+-----+-----+-----+-----+

* ``code``: 0 when accepted, else the 1-based index of the reject code in
  ``REJECT_CODES``.
* ``pol``: the registration index of the rejecting policy, ``POLICY_ENGINE``
  for the engine itself (block gate, malformed input, unavailable shard).
* ``rsn``: a policy-specific reason variant (which barrier, which bound).
* ``sta``: ``STATUS_*``. ``flg``: ``RESULT_*`` bits.
* ``cnt``/``idx``: how many reject records this request produced and which
  one this is; the last record of a request has ``idx + 1 == cnt`` (or
  ``cnt == 0`` for an accepted request).
* ``reserv.``: the request's handle (see above), in its first record only; 0 in the others.
* ``d0..d4``: numeric details; their meaning depends on ``(pol kind, code, rsn)``
  and is decoded by ``openpit_shm.engine.rejects``.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass

import numpy as np
from numba import njit

RECORD_BYTES = 64

#: Default decimal scale of every fixed-point field: value = int / 10**scale.
FIXED_SCALE_DEFAULT = 8

ORDER_DTYPE = np.dtype(
    {
        "names": [
            "seq",
            "account",
            "instrument",
            "kind",
            "side",
            "flags",
            "price",
            "amount",
            "pnl",
            "fee",
            "ref",
        ],
        "formats": ["<i8", "<u8", "<i4", "u1", "u1", "<u2", "<i8", "<i8", "<i8", "<i8", "<i8"],
        "offsets": [0, 8, 16, 20, 21, 22, 24, 32, 40, 48, 56],
        "itemsize": RECORD_BYTES,
        "aligned": True,
    }
)

#: One ``ORDER_DTYPE`` record field by field, for Python writers of single records (the
#: object door's request view): ``ORDER_STRUCT.pack_into(buffer, 0, seq, account,
#: instrument, kind, side, flags, price, amount, pnl, fee, ref)``.
ORDER_STRUCT = struct.Struct("<qqiBBHqqqqq")
assert ORDER_STRUCT.size == RECORD_BYTES

RESULT_DTYPE = np.dtype(
    {
        "names": [
            "seq",
            "reservation",
            "code",
            "policy",
            "reason",
            "status",
            "flags",
            "count",
            "index",
            "d0",
            "d1",
            "d2",
            "d3",
            "d4",
        ],
        "formats": [
            "<i8",
            "<i8",
            "<u2",
            "u1",
            "u1",
            "u1",
            "u1",
            "u1",
            "u1",
            "<i8",
            "<i8",
            "<i8",
            "<i8",
            "<i8",
        ],
        "offsets": [0, 8, 16, 18, 19, 20, 21, 22, 23, 24, 32, 40, 48, 56],
        "itemsize": RECORD_BYTES,
        "aligned": True,
    }
)

# Words of a record viewed as int64[8] (kernels read records this way).
ORDER_W_SEQ, ORDER_W_ACCOUNT, ORDER_W_INSTR_KIND = 0, 1, 2
ORDER_W_PRICE, ORDER_W_AMOUNT, ORDER_W_PNL, ORDER_W_FEE, ORDER_W_REF = 3, 4, 5, 6, 7
RESULT_W_SEQ, RESULT_W_RESERVATION, RESULT_W_HEAD = 0, 1, 2
RESULT_W_D0 = 3

# ---- message kinds (ORDER_DTYPE.kind) -------------------------------------------------------
MSG_ORDER = 1  #: start + main stage (``execute_pre_trade``)
MSG_START = 2  #: start stage only (``start_pre_trade``)
MSG_EXECUTE = 3  #: main stage of a started request (``request.execute()``)
MSG_COMMIT = 4  #: commit the reservation in ``ref``
MSG_ROLLBACK = 5  #: roll back the reservation in ``ref``
MSG_REPORT = 6  #: post-trade execution report (``apply_execution_report``)
MSG_DRY_START = 7  #: ``start_pre_trade_dry_run``
MSG_DRY_ORDER = 8  #: ``execute_pre_trade_dry_run``
MSG_FILL = 9  #: one fill of the reservation in ``ref`` (its holds are reconciled)
MSG_DROP_COPY = 10  #: record an order executed elsewhere (``apply_drop_copy``; see above)
MSG_KIND_MAX = 10
#: Kinds that carry a handle in ``ref`` instead of an account and a tag: routed by the handle.
MSG_HANDLE_KINDS = (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK, MSG_FILL)

# ---- sides ---------------------------------------------------------------------------------
SIDE_NONE = 0
SIDE_BUY = 1
SIDE_SELL = 2

# ---- order flags ---------------------------------------------------------------------------
ORDER_HAS_OPERATION = 1 << 0  #: the order has an operation group (account, instrument, side...)
ORDER_HAS_PRICE = 1 << 1  #: ``price`` is set (a limit order); clear for a market order
ORDER_VOLUME = 1 << 2  #: ``amount`` is a volume (notional), not a quantity
ORDER_AUTO_COMMIT = 1 << 3  #: commit the reservation as soon as the order is accepted
REPORT_HAS_OPERATION = 1 << 0  #: a report has an operation group (same bit as orders)
REPORT_HAS_FINANCIAL = 1 << 4  #: ``pnl`` and ``fee`` carry a financial impact
#: ``MSG_REPORT`` ``ref`` = pnl scale | fee scale << REPORT_SCALE_SHIFT (decimals, for texts).
REPORT_SCALE_SHIFT = 8
REPORT_SCALE_MAX = 28  #: the largest decimal scale (rust_decimal's)
# Fields missing *inside* an operation (openpit accepts ``OrderOperation(account_id=None,
# trade_amount=None, side=None)``; its builtins then reject with MissingRequiredField for
# the field they read). Only meaningful with ORDER_HAS_OPERATION; the word they name is ignored.
ORDER_NO_ACCOUNT = 1 << 5  #: the operation has no account id (``account`` is ignored)
ORDER_NO_AMOUNT = 1 << 6  #: the operation has no trade amount (``amount``, ORDER_VOLUME ignored)
ORDER_NO_SIDE = 1 << 7  #: the operation has no side (``side`` is ignored; no builtin reads it)
ORDER_HAS_LOCK_PRICE = 1 << 8  #: word 5 is the lock price (market orders held at it)
ORDER_HAS_SLIPPAGE = 1 << 9  #: word 6 is the slippage fraction applied to the price source
ORDER_PRICE_SOURCE_SHIFT = 10  #: 2 bits of flags: where a price-less order's price comes from
ORDER_PRICE_SOURCE_MASK = 3 << ORDER_PRICE_SOURCE_SHIFT
PRICE_SOURCE_LIMIT = 0  #: the order's own price (``ORDER_HAS_PRICE``)
PRICE_SOURCE_MARK = 1  #: the instrument's mark price
PRICE_SOURCE_BOOK_TOP = 2  #: the best price on the side the order takes
# ``MSG_FILL`` flags (a fill is its own kind, so its bits may reuse order bits' positions).
FILL_FINAL = 1 << 8  #: the last fill: release what the reservation still holds
FILL_HAS_FEE = 1 << 9  #: word 6 is a fee of asset ``instr`` (word 2's low 32 bits)
FILL_HAS_REMAINING = 1 << 10  #: word 5 is the venue's remaining (leaves) quantity
FILL_FLAGS_KNOWN = FILL_FINAL | FILL_HAS_FEE | FILL_HAS_REMAINING
REPORT_NO_ACCOUNT = ORDER_NO_ACCOUNT  #: a report's operation has no account id
REPORT_NO_SIDE = ORDER_NO_SIDE  #: a report's operation has no side
ORDER_FLAGS_KNOWN = (
    ORDER_HAS_OPERATION | ORDER_HAS_PRICE | ORDER_VOLUME | ORDER_AUTO_COMMIT | REPORT_HAS_FINANCIAL
    | ORDER_NO_ACCOUNT | ORDER_NO_AMOUNT | ORDER_NO_SIDE | ORDER_HAS_LOCK_PRICE
    | ORDER_HAS_SLIPPAGE | ORDER_PRICE_SOURCE_MASK
)  # fmt: skip
#: The bits a ``MSG_REPORT`` may carry; any other bit (order-only ones included) is an error.
REPORT_FLAGS_KNOWN = (
    REPORT_HAS_OPERATION | REPORT_HAS_FINANCIAL | REPORT_NO_ACCOUNT | REPORT_NO_SIDE
)

# ---- the engine's record tag in ``ref`` (see the module docstring) --------------------------
RECORD_TAG_SHIFT = 16  #: ``ref = tag << RECORD_TAG_SHIFT | low bits`` for tagged kinds
RECORD_TAG_BITS = 47  #: tags are 1..2**47-1, so ``ref`` stays non-negative
RECORD_REF_LOW_MASK = (1 << RECORD_TAG_SHIFT) - 1  #: a report's scales; 0 for order kinds

# ---- result status (RESULT_DTYPE.status) ---------------------------------------------------
STATUS_OK = 0  #: accepted (no reject records follow)
STATUS_REJECTED = 1  #: a business reject; ``code`` says which
STATUS_ERROR = 2  #: the request itself was malformed or refers to nothing (``code`` says why)
#: Sharded engines only, and only to client slots that asked for texts: a chunk of the
#: pickled texts (custom rejects, block causes) of the request just answered; ``count``
#: chunks, ``reservation`` = total bytes, 40 payload bytes in ``d0..d4``.
STATUS_TEXT = 3

# ---- result flags --------------------------------------------------------------------------
RESULT_SCOPE_ACCOUNT = 1 << 0  #: the reject has account scope
RESULT_BLOCK_LATCHED = 1 << 1  #: this request latched an account block (first account reject)
RESULT_COMMITTED = 1 << 2  #: the accepted order's reservation was committed (auto-commit)
RESULT_DRY_RUN = 1 << 3  #: a dry run: nothing was changed
RESULT_TEXTS = 1 << 4  #: ``STATUS_TEXT`` records follow this request's last record
#: ``MSG_DROP_COPY`` answers: the account was blocked when the operation was applied
#: (``DropCopyOperation.is_account_blocked``).
RESULT_ACCOUNT_BLOCKED = 1 << 5
#: Set by a builtin kernel on a reject that aborts a drop copy (``view[V_KIND] ==
#: MSG_DROP_COPY``); every other builtin reject of a drop copy does not enforce.
RESULT_ABORTS_DROP_COPY = 1 << 6

#: ``RESULT_DTYPE.policy`` value for rejects produced by the engine itself.
POLICY_ENGINE = 255

#: The 44 openpit reject codes, in ``RejectCode`` order. ``code`` in a result
#: record is ``REJECT_CODES.index(name) + 1``; 0 means "no reject".
REJECT_CODES: tuple[str, ...] = (
    "MissingRequiredField",
    "InvalidFieldFormat",
    "InvalidFieldValue",
    "UnsupportedOrderType",
    "UnsupportedTimeInForce",
    "UnsupportedOrderAttribute",
    "DuplicateClientOrderId",
    "TooLateToEnter",
    "ExchangeClosed",
    "UnknownInstrument",
    "UnknownAccount",
    "UnknownVenue",
    "UnknownClearingAccount",
    "UnknownCollateralAsset",
    "InsufficientFunds",
    "InsufficientMargin",
    "InsufficientPosition",
    "CreditLimitExceeded",
    "RiskLimitExceeded",
    "OrderExceedsLimit",
    "OrderQtyExceedsLimit",
    "OrderNotionalExceedsLimit",
    "PositionLimitExceeded",
    "ConcentrationLimitExceeded",
    "LeverageLimitExceeded",
    "RateLimitExceeded",
    "PnlKillSwitchTriggered",
    "AccountBlocked",
    "AccountNotAuthorized",
    "ComplianceRestriction",
    "InstrumentRestricted",
    "JurisdictionRestriction",
    "WashTradePrevention",
    "SelfMatchPrevention",
    "ShortSaleRestriction",
    "RiskConfigurationMissing",
    "ReferenceDataUnavailable",
    "OrderValueCalculationFailed",
    "SystemUnavailable",
    "MarkPriceUnavailable",
    "AccountAdjustmentBoundsExceeded",
    "ArithmeticOverflow",
    "Custom",
    "Other",
)

CODE_NUMBER: dict[str, int] = {name: i + 1 for i, name in enumerate(REJECT_CODES)}

# Numeric constants for kernels (Numba sees module-level ints as compile-time constants).
CODE_MISSING_REQUIRED_FIELD = CODE_NUMBER["MissingRequiredField"]
CODE_INVALID_FIELD_FORMAT = CODE_NUMBER["InvalidFieldFormat"]
CODE_INVALID_FIELD_VALUE = CODE_NUMBER["InvalidFieldValue"]
CODE_UNKNOWN_INSTRUMENT = CODE_NUMBER["UnknownInstrument"]
CODE_ORDER_EXCEEDS_LIMIT = CODE_NUMBER["OrderExceedsLimit"]
CODE_ORDER_QTY_EXCEEDS_LIMIT = CODE_NUMBER["OrderQtyExceedsLimit"]
CODE_ORDER_NOTIONAL_EXCEEDS_LIMIT = CODE_NUMBER["OrderNotionalExceedsLimit"]
CODE_RATE_LIMIT_EXCEEDED = CODE_NUMBER["RateLimitExceeded"]
CODE_PNL_KILL_SWITCH_TRIGGERED = CODE_NUMBER["PnlKillSwitchTriggered"]
CODE_ACCOUNT_BLOCKED = CODE_NUMBER["AccountBlocked"]
CODE_ORDER_VALUE_CALCULATION_FAILED = CODE_NUMBER["OrderValueCalculationFailed"]
CODE_SYSTEM_UNAVAILABLE = CODE_NUMBER["SystemUnavailable"]
CODE_ARITHMETIC_OVERFLOW = CODE_NUMBER["ArithmeticOverflow"]
CODE_OTHER = CODE_NUMBER["Other"]


@dataclass(frozen=True)
class RecordFormat:
    """What one engine's records must say: the fixed-point ``scale`` of amounts, its ``tag``.

    ``engine.record_format`` (in-process or sharded) gives it; ``openpit_shm.batch``
    builds records from it, and C producers get both from ``external_client()``.
    """

    scale: int
    tag: int

    @property
    def order_ref(self) -> int:
        """``ref`` of this engine's order-kind records."""
        return order_ref(self.tag)


def new_record_tag() -> int:
    """A fresh random record tag (non-zero, ``RECORD_TAG_BITS`` bits) for a new engine."""
    return 1 + secrets.randbelow((1 << RECORD_TAG_BITS) - 1)


def order_ref(tag: int, scales: int = 0) -> int:
    """The ``ref`` word of an order-kind record: the tag and the order's packed scales."""
    return tag << RECORD_TAG_SHIFT | (scales & RECORD_REF_LOW_MASK)


def ref_scales(ref: int) -> tuple[int, int]:
    """The two decimal scales packed in a tagged record's ``ref`` (-1 each when not known)."""
    low = ref & RECORD_REF_LOW_MASK
    first, second = low & 0xFF, low >> REPORT_SCALE_SHIFT
    if ref < 0 or first > REPORT_SCALE_MAX or second > REPORT_SCALE_MAX:
        return -1, -1
    return first, second


def report_ref(tag: int, scales: int = 0) -> int:
    """The ``ref`` word of a ``MSG_REPORT`` record: the tag and the report's packed scales."""
    return tag << RECORD_TAG_SHIFT | (scales & RECORD_REF_LOW_MASK)


# ---- word 2 of an order record: instrument | kind << 32 | side << 40 | flags << 48 ----------
W2_KIND_SHIFT = 32
W2_SIDE_SHIFT = 40
W2_FLAGS_SHIFT = 48


def pack_word2(instrument: int, kind: int, side: int, flags: int) -> int:
    """Word 2 of an order record as the int64 kernels read (instrument is an i32)."""
    w = (
        (instrument & 0xFFFFFFFF)
        | (kind & 0xFF) << W2_KIND_SHIFT
        | (side & 0xFF) << W2_SIDE_SHIFT
        | (flags & 0xFFFF) << W2_FLAGS_SHIFT
    )
    return w - (1 << 64) if w >= 1 << 63 else w


def word2_instrument(w: int) -> int:
    """The signed 32-bit instrument field (a negative id is malformed, not huge)."""
    i = w & 0xFFFFFFFF
    return i - (1 << 32) if i >= 1 << 31 else i


def word2_kind(w: int) -> int:
    return (w >> W2_KIND_SHIFT) & 0xFF


def word2_side(w: int) -> int:
    return (w >> W2_SIDE_SHIFT) & 0xFF


def word2_flags(w: int) -> int:
    return (w >> W2_FLAGS_SHIFT) & 0xFFFF


# ---- the head word of a result record (word 2) ------------------------------------------------
#: bits 0..15 code, 16..23 policy, 24..31 reason, 32..39 status, 40..47 flags,
#: 48..55 count, 56..63 index (the byte fields of ``RESULT_DTYPE``).
HEAD_POLICY_SHIFT = 16
HEAD_REASON_SHIFT = 24
HEAD_STATUS_SHIFT = 32
HEAD_FLAGS_SHIFT = 40
HEAD_COUNT_SHIFT = 48
HEAD_INDEX_SHIFT = 56


def pack_head(code: int, policy: int, reason: int, status: int, flags: int, count: int,
              index: int) -> int:  # fmt: skip
    """The head word of a result record (as an int64)."""
    w = (
        (code & 0xFFFF)
        | (policy & 0xFF) << HEAD_POLICY_SHIFT
        | (reason & 0xFF) << HEAD_REASON_SHIFT
        | (status & 0xFF) << HEAD_STATUS_SHIFT
        | (flags & 0xFF) << HEAD_FLAGS_SHIFT
        | (count & 0xFF) << HEAD_COUNT_SHIFT
        | (index & 0xFF) << HEAD_INDEX_SHIFT
    )
    return w - (1 << 64) if w >= 1 << 63 else w


def head_code(head: int) -> int:
    return head & 0xFFFF


def head_policy(head: int) -> int:
    return (head >> HEAD_POLICY_SHIFT) & 0xFF


def head_reason(head: int) -> int:
    return (head >> HEAD_REASON_SHIFT) & 0xFF


def head_status(head: int) -> int:
    return (head >> HEAD_STATUS_SHIFT) & 0xFF


def head_flags(head: int) -> int:
    return (head >> HEAD_FLAGS_SHIFT) & 0xFF


def head_count(head: int) -> int:
    return (head >> HEAD_COUNT_SHIFT) & 0xFF


def head_index(head: int) -> int:
    return (head >> HEAD_INDEX_SHIFT) & 0xFF


@njit(cache=True, inline="always")
def pack_word2_nb(instrument, kind, side, flags):  # type: ignore[no-untyped-def]
    """``pack_word2`` for kernels (int64 wrap-around is Numba's own)."""
    return (
        (instrument & 0xFFFFFFFF)
        | (kind & 0xFF) << W2_KIND_SHIFT
        | (side & 0xFF) << W2_SIDE_SHIFT
        | (flags & 0xFFFF) << W2_FLAGS_SHIFT
    )


@njit(cache=True, inline="always")
def word2_instrument_nb(w):  # type: ignore[no-untyped-def]
    return np.int64(np.int32(w & 0xFFFFFFFF))


@njit(cache=True, inline="always")
def pack_head_nb(code, policy, reason, status, flags, count, index):  # type: ignore[no-untyped-def]
    """``pack_head`` for kernels."""
    return (
        (code & 0xFFFF)
        | (policy & 0xFF) << HEAD_POLICY_SHIFT
        | (reason & 0xFF) << HEAD_REASON_SHIFT
        | (status & 0xFF) << HEAD_STATUS_SHIFT
        | (flags & 0xFF) << HEAD_FLAGS_SHIFT
        | (count & 0xFF) << HEAD_COUNT_SHIFT
        | (index & 0xFF) << HEAD_INDEX_SHIFT
    )


# Pure shift-and-mask readers: one definition, compiled for kernels as is.
word2_kind_nb = njit(cache=True, inline="always")(word2_kind)
word2_side_nb = njit(cache=True, inline="always")(word2_side)
word2_flags_nb = njit(cache=True, inline="always")(word2_flags)
head_code_nb = njit(cache=True, inline="always")(head_code)
head_policy_nb = njit(cache=True, inline="always")(head_policy)
head_reason_nb = njit(cache=True, inline="always")(head_reason)
head_status_nb = njit(cache=True, inline="always")(head_status)
head_flags_nb = njit(cache=True, inline="always")(head_flags)
head_count_nb = njit(cache=True, inline="always")(head_count)
head_index_nb = njit(cache=True, inline="always")(head_index)


assert ORDER_DTYPE.itemsize == RECORD_BYTES
assert RESULT_DTYPE.itemsize == RECORD_BYTES
assert len(REJECT_CODES) == 44
