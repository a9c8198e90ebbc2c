"""The ring segment: one lock-free single-producer/single-consumer ring of 64-byte records.

One posix_ipc segment holds one ring (``SEGMENT_KIND_RING``)::

    byte    0  segment header (128 B, layout.segment)     written once, then read-only
    byte  128  (reserved)
    byte  256  head               records published       producer writes, consumer reads
    byte  384  tail               records consumed        consumer writes, producer reads
    byte  512  consumer_sleeping  futex word              consumer sets 1, producer clears
    byte  640  producer_sleeping  futex word              producer sets 1, consumer clears
    byte  768  producer line      tail_cache, producer_pid, producer_wakes, producer_parks
                                                          producer only
    byte  896  consumer line      head_cache, consumer_pid, consumer_wakes, consumer_parks
                                                          consumer only
    byte 1024  (reserved, zero, up to 4096)
    byte 4096  slots[capacity]    64-byte records (ORDER_DTYPE / RESULT_DTYPE), 64-byte aligned

Every word is a little-endian int64. Each shared hot word sits alone in its
own 128-byte block, because adjacent-line prefetchers move cache lines in
pairs: the producer's writes never invalidate the consumer's line and back.

* ``head`` and ``tail`` are **free-running** counters (never reset, never
  wrapped: 2**63 records at 10**9/s take 292 years); the slot of cursor ``c``
  is ``c & (capacity - 1)``; ``head - tail`` records are readable and
  ``capacity - (head - tail)`` slots are free. ``capacity`` is a power of two.
* Publish: plain stores of the records, then a *release* store of ``head``.
  Consume: an *acquire* load of ``head``, plain loads of the records, then a
  release store of ``tail``. A partially written record is invisible until
  ``head`` moves past it.
* Each side caches the other side's cursor on its own private line
  (``tail_cache``, ``head_cache``) and re-reads the shared cursor only when
  the cached value says the ring is too full or too empty. The caches live in
  the segment so that the Numba kernels, the C header and the Python handle
  share them statelessly; only one producer and one consumer use a ring at a
  time, and a stale cache is always safe (cursors only grow).
* Parking (spin, then ``futex`` sleep) is gated by the ``*_sleeping`` words
  in a Dekker handshake: the sleeper stores 1, runs a full fence and re-checks
  the cursor before it sleeps; the other side publishes its cursor, runs a
  full fence and only calls ``FUTEX_WAKE`` when it sees 1. A side that never
  parks costs the other no syscall.
* ``wakes`` counts the ``FUTEX_WAKE`` calls a side made, ``parks`` the times it
  slept (statistics; plain increments on the side's own line).
"""

from __future__ import annotations

import numpy as np

from openpit_shm.layout.records import RECORD_BYTES
from openpit_shm.layout.segment import SEGMENT_HEADER_BYTES, SEGMENT_HEADER_DTYPE

__all__ = [
    "RING_CAPACITY_MAX",
    "RING_CAPACITY_MIN",
    "RING_CTRL_BYTES",
    "RING_CTRL_DTYPE",
    "RING_CTRL_WORDS",
    "RING_OFF",
    "RING_SLOTS_OFFSET",
    "RING_SLOT_WORDS",
    "RING_W_CONSUMER_PARKS",
    "RING_W_CONSUMER_PID",
    "RING_W_CONSUMER_SLEEPING",
    "RING_W_CONSUMER_WAKES",
    "RING_W_HEAD",
    "RING_W_HEAD_CACHE",
    "RING_W_PRODUCER_PARKS",
    "RING_W_PRODUCER_PID",
    "RING_W_PRODUCER_SLEEPING",
    "RING_W_PRODUCER_WAKES",
    "RING_W_TAIL",
    "RING_W_TAIL_CACHE",
    "ring_capacity_check",
    "ring_segment_bytes",
]

#: The control page (header + cursors + private lines) is exactly one 4 KiB page.
RING_CTRL_BYTES = 4096
RING_CTRL_WORDS = RING_CTRL_BYTES // 8
#: Slots start on the page after the control page.
RING_SLOTS_OFFSET = RING_CTRL_BYTES
#: A record viewed as int64 words (kernels see slots as ``int64[capacity, 8]``).
RING_SLOT_WORDS = RECORD_BYTES // 8
RING_CAPACITY_MIN = 2
RING_CAPACITY_MAX = 1 << 24  # 1 GiB of slots

#: Byte offset of every named ring field (the header is at 0).
RING_OFF: dict[str, int] = {
    "head": 256,
    "tail": 384,
    "consumer_sleeping": 512,
    "producer_sleeping": 640,
    "tail_cache": 768,
    "producer_pid": 776,
    "producer_wakes": 784,
    "producer_parks": 792,
    "head_cache": 896,
    "consumer_pid": 904,
    "consumer_wakes": 912,
    "consumer_parks": 920,
}

RING_W_HEAD = RING_OFF["head"] // 8
RING_W_TAIL = RING_OFF["tail"] // 8
RING_W_CONSUMER_SLEEPING = RING_OFF["consumer_sleeping"] // 8
RING_W_PRODUCER_SLEEPING = RING_OFF["producer_sleeping"] // 8
RING_W_TAIL_CACHE = RING_OFF["tail_cache"] // 8
RING_W_PRODUCER_PID = RING_OFF["producer_pid"] // 8
RING_W_PRODUCER_WAKES = RING_OFF["producer_wakes"] // 8
RING_W_PRODUCER_PARKS = RING_OFF["producer_parks"] // 8
RING_W_HEAD_CACHE = RING_OFF["head_cache"] // 8
RING_W_CONSUMER_PID = RING_OFF["consumer_pid"] // 8
RING_W_CONSUMER_WAKES = RING_OFF["consumer_wakes"] // 8
RING_W_CONSUMER_PARKS = RING_OFF["consumer_parks"] // 8

#: The control page as a structured dtype (for inspection and the offset tests).
RING_CTRL_DTYPE = np.dtype(
    {
        "names": ["header", *RING_OFF],
        "formats": [SEGMENT_HEADER_DTYPE] + ["<i8"] * len(RING_OFF),
        "offsets": [0, *RING_OFF.values()],
        "itemsize": RING_CTRL_BYTES,
        "aligned": True,
    }
)

assert RING_OFF["head"] >= SEGMENT_HEADER_BYTES
assert RING_OFF["tail"] - RING_OFF["head"] >= 128


def ring_capacity_check(capacity: int) -> int:
    """Return ``capacity`` if it is a power of two in range, else raise ``ValueError``."""
    cap = int(capacity)
    if cap < RING_CAPACITY_MIN or cap > RING_CAPACITY_MAX or cap & (cap - 1):
        raise ValueError(
            f"ring capacity must be a power of two in {RING_CAPACITY_MIN}..{RING_CAPACITY_MAX}, "
            f"got {capacity}"
        )
    return cap


def ring_segment_bytes(capacity: int) -> int:
    """Size of a ring segment holding ``capacity`` 64-byte records."""
    return RING_SLOTS_OFFSET + ring_capacity_check(capacity) * RECORD_BYTES
