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
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "QUOTE_BUSY",
    "QUOTE_DTYPE",
    "QUOTE_EMPTY",
    "QUOTE_EXPIRED",
    "QUOTE_HAS_ASK",
    "QUOTE_HAS_BID",
    "QUOTE_HAS_MARK",
    "QUOTE_OK",
    "QUOTE_PRESENT",
    "QUOTE_READ_SPINS",
    "QUOTE_ROW_BYTES",
    "QUOTE_ROW_WORDS",
    "QUOTE_TTL_INFINITE",
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
