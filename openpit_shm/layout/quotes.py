"""The quote table: one seqlocked 64-byte row per (instrument, bucket), read by every worker.

The table is ``int64[capacity, 8]`` (C-contiguous, 64-byte aligned rows), in
a shared segment or any buffer. Row layout::

    byte  0  seq          seqlock sequence: odd while a writer is inside the row
    byte  8  flags        QUOTE_PRESENT | QUOTE_HAS_MARK | QUOTE_HAS_BID | QUOTE_HAS_ASK
                          (0: no quote; PRESENT alone: a quote with no prices)
    byte 16  mark         fixed point at the engine's scale (valid if its flag is set)
    byte 24  bid          fixed point
    byte 32  ask          fixed point
    byte 40  pushed_ns    the writer's clock at the push (engine clock, monotonic ns)
    byte 48  age_ns       source_age at the push (>= 0, saturated to int64 max)
    byte 56  instrument   the InstrumentId value (u64 bit pattern), so a reader can
                          check the row is the one it resolved

Protocol (``kernels.quotes``):

* **Write.** Compare-and-swap ``seq`` from an even ``s`` to ``s + 1`` (this
  also excludes a second writer), store the payload words with release
  ordering, then release-store ``s + 2``. A writer that finds ``seq`` odd
  waits a bounded number of spins and then answers ``QUOTE_BUSY``.
* **Read.** Acquire-load ``seq``; if odd, retry. Acquire-load each payload
  word (so no later load moves above them), then load ``seq`` again: the copy
  is used only if both loads saw the same even value. After
  ``QUOTE_READ_SPINS`` failed tries the answer is ``QUOTE_BUSY``, never a
  torn quote (a writer killed inside a row leaves it odd: readers fail closed).
* **Age.** ``age = max(now - pushed_ns, 0) + age_ns`` (saturating); a quote
  has expired when ``ttl_ns >= 0`` and ``age >= ttl_ns``; ``QUOTE_TTL_INFINITE``
  (-1) never expires. Durations at or beyond 2**63 ns (292 years) saturate.

The keyed table (``kernels.market_data``)
-----------------------------------------

An engine's quote table is one int64 region: a header, an open-addressing
index of ``capacity`` keys (a power of two) and ``capacity`` rows; index
entry ``i`` names row ``i``::

    word 0              QT_CAPACITY      slots (power of two, >= 2)
    word 1              QT_USED          slots claimed (atomic add; <= 3/4 of capacity)
    word 2              QT_DEFAULT_TTL   tier 8, the service's default TTL (ns, -1 infinite)
    word 3              QT_KINDS_USED    bit (1 << kind) once any key of that kind exists
    word 4              QT_SCALE         fixed-point scale of mark/bid/ask
    word 5              QT_VERSION       QUOTE_TABLE_VERSION
    words 6-7           reserved
    word 8 + 4*i        index entry i: state (0 empty, 1 claiming, 2 ready), kind,
                        instrument (u64 bits), key (account or group id, 0 for none)
    word 8 + 4*cap + 8*i  row i (the seqlocked row above)

A key is ``(kind, instrument, key)``. Kinds 0-2 are quote buckets (the
service's ``BUCKET_*``: the default bucket, an account's, a group's). The
others are configuration rows, written under the same seqlock with
``flags`` = ``QT_CFG_SET`` (and ``QT_CFG_REGISTERED`` for an instrument) and
the TTL in the ``mark`` word: the instrument (registered, tier 7),
(instrument, account) tier 1, (instrument, group) tiers 2-3, account
(instrument 0) tier 4, group (instrument 0) tiers 5-6. Keys are never
removed: a cleared quote or TTL rewrites its row with flags 0.

Inserting (any writer, host or C producer): probe from ``hash & (cap - 1)``;
an empty entry is claimed by CAS 0 -> 1, its key words stored, then state 2
is release-stored; a claiming entry is waited for (bounded: ``QUOTE_BUSY``).
Readers take only ready entries and stop at an empty one, so an entry being
claimed reads as "not there yet": the same as a push that has not happened.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "QK_ACCOUNT",
    "QK_DEFAULT",
    "QK_GROUP",
    "QK_INSTRUMENT",
    "QK_TTL_ACCOUNT",
    "QK_TTL_GROUP",
    "QK_TTL_INSTRUMENT_ACCOUNT",
    "QK_TTL_INSTRUMENT_GROUP",
    "QR_ACCOUNT_ONLY",
    "QR_ACCOUNT_THEN_GROUP",
    "QR_ACCOUNT_THEN_GROUP_THEN_DEFAULT",
    "QT_CAPACITY",
    "QT_CFG_REGISTERED",
    "QT_CFG_SET",
    "QT_DEFAULT_TTL",
    "QT_ENTRY_CLAIMING",
    "QT_ENTRY_EMPTY",
    "QT_ENTRY_READY",
    "QT_HEADER_WORDS",
    "QT_INDEX_WORDS",
    "QT_I_INSTRUMENT",
    "QT_I_KEY",
    "QT_I_KIND",
    "QT_I_STATE",
    "QT_KINDS_USED",
    "QT_NO_GROUP",
    "QT_SCALE",
    "QT_USED",
    "QT_VERSION",
    "QUOTE_BUSY",
    "QUOTE_DTYPE",
    "QUOTE_EMPTY",
    "QUOTE_EXPIRED",
    "QUOTE_FULL",
    "QUOTE_HAS_ASK",
    "QUOTE_HAS_BID",
    "QUOTE_HAS_MARK",
    "QUOTE_OK",
    "QUOTE_PRESENT",
    "QUOTE_READ_SPINS",
    "QUOTE_ROW_BYTES",
    "QUOTE_ROW_WORDS",
    "QUOTE_TABLE_VERSION",
    "QUOTE_TTL_INFINITE",
    "QUOTE_UNKNOWN_INSTRUMENT",
    "QUOTE_WRITE_SPINS",
    "QUOTE_W_AGE_NS",
    "QUOTE_W_ASK",
    "QUOTE_W_BID",
    "QUOTE_W_FLAGS",
    "QUOTE_W_INSTRUMENT",
    "QUOTE_W_MARK",
    "QUOTE_W_PUSHED_NS",
    "QUOTE_W_SEQ",
    "quote_table_bytes",
    "quote_table_max_keys",
    "quote_table_rows_at",
    "quote_table_slots",
    "quote_table_words",
]

QUOTE_ROW_WORDS = 8
QUOTE_ROW_BYTES = QUOTE_ROW_WORDS * 8

# Word offsets inside a row.
QUOTE_W_SEQ = 0
QUOTE_W_FLAGS = 1
QUOTE_W_MARK = 2
QUOTE_W_BID = 3
QUOTE_W_ASK = 4
QUOTE_W_PUSHED_NS = 5
QUOTE_W_AGE_NS = 6
QUOTE_W_INSTRUMENT = 7

# ``flags`` bits: which prices the quote has.
QUOTE_HAS_MARK = 1
QUOTE_HAS_BID = 2
QUOTE_HAS_ASK = 4
#: Set on every written quote, so a quote without prices is not mistaken for "no quote".
QUOTE_PRESENT = 8

#: ``ttl_ns`` meaning "never expires".
QUOTE_TTL_INFINITE = -1

# Kernel result codes.
QUOTE_OK = 0
QUOTE_EMPTY = 1  # the row holds no quote (never pushed, or cleared)
QUOTE_BUSY = 2  # a writer held the row for every try: nothing was read / written
QUOTE_EXPIRED = 3  # read fine, but aged past the TTL (the stale quote is in ``out``)

#: Tries a reader makes before answering QUOTE_BUSY (each ~ a cache miss).
QUOTE_READ_SPINS = 1 << 16
#: Spins a writer waits for another writer to leave the row.
QUOTE_WRITE_SPINS = 1 << 16

#: The keyed table's code for a read of an instrument nobody registered.
QUOTE_UNKNOWN_INSTRUMENT = 4
#: A writer found no free slot (the table holds 3/4 of ``capacity`` keys).
QUOTE_FULL = 5

# ---- the keyed table (see the module docstring) ----
QUOTE_TABLE_VERSION = 1
QT_CAPACITY = 0
QT_USED = 1
QT_DEFAULT_TTL = 2
QT_KINDS_USED = 3
QT_SCALE = 4
QT_VERSION = 5
QT_HEADER_WORDS = 8
QT_INDEX_WORDS = 4  #: per index entry
QT_I_STATE = 0
QT_I_KIND = 1
QT_I_INSTRUMENT = 2
QT_I_KEY = 3
QT_ENTRY_EMPTY = 0
QT_ENTRY_CLAIMING = 1
QT_ENTRY_READY = 2

# Key kinds. 0-2 are the service's quote buckets (``marketdata.service.BUCKET_*``).
QK_DEFAULT = 0  #: the default ("everyone else") bucket of an instrument, key 0
QK_ACCOUNT = 1  #: an account's bucket, key = account id
QK_GROUP = 2  #: a group's bucket, key = group id (>= 1)
QK_INSTRUMENT = 3  #: registration + tier 7 TTL, key 0
QK_TTL_INSTRUMENT_ACCOUNT = 4  #: tier 1, key = account id
QK_TTL_INSTRUMENT_GROUP = 5  #: tier 2 (key = group) and tier 3 (key 0, the DEFAULT group)
QK_TTL_ACCOUNT = 6  #: tier 4, instrument 0, key = account id
QK_TTL_GROUP = 7  #: tier 5 (key = group) and tier 6 (key 0), instrument 0

# Configuration-row flags (kinds 3..7).
QT_CFG_SET = 1  #: the row's TTL (``mark`` word) is set
QT_CFG_REGISTERED = 2  #: QK_INSTRUMENT: the instrument is registered

# Resolution tiers (``QuoteResolution`` values).
QR_ACCOUNT_ONLY = 0
QR_ACCOUNT_THEN_GROUP = 1
QR_ACCOUNT_THEN_GROUP_THEN_DEFAULT = 2

#: ``group`` argument of ``quote_for`` for an account in no group (``account_group`` None).
QT_NO_GROUP = -1


def quote_table_words(capacity: int) -> int:
    """int64 words of a keyed table of ``capacity`` slots (header, index, rows)."""
    if capacity < 2 or capacity & (capacity - 1):
        raise ValueError("quote table capacity must be a power of two >= 2")
    return QT_HEADER_WORDS + capacity * (QT_INDEX_WORDS + QUOTE_ROW_WORDS)


def quote_table_slots(words: int) -> int:
    """Slots of a keyed table of ``words`` int64 (0 for an empty array: no table)."""
    if words < QT_HEADER_WORDS:
        return 0
    return (words - QT_HEADER_WORDS) // (QT_INDEX_WORDS + QUOTE_ROW_WORDS)


def quote_table_rows_at(capacity: int) -> int:
    """Word offset of row 0 in a keyed table."""
    return QT_HEADER_WORDS + capacity * QT_INDEX_WORDS


def quote_table_max_keys(capacity: int) -> int:
    """Keys a table of ``capacity`` slots accepts (3/4 load keeps probe chains short)."""
    return capacity - capacity // 4


QUOTE_DTYPE = np.dtype(
    {
        "names": ["seq", "flags", "mark", "bid", "ask", "pushed_ns", "age_ns", "instrument"],
        "formats": ["<i8"] * 8,
        "offsets": [w * 8 for w in range(8)],
        "itemsize": QUOTE_ROW_BYTES,
    },
    align=True,
)


def quote_table_bytes(capacity: int) -> int:
    """Bytes a table of ``capacity`` rows needs."""
    if capacity <= 0:
        raise ValueError("quote table capacity must be positive")
    return capacity * QUOTE_ROW_BYTES
