"""Python handles for a shared-memory SPSC ring: create/attach, producer end, consumer end.

::

    ring = Ring.create(4096)                    # this process owns the name
    with Ring.attach(ring.name) as r:           # another process
        p = r.producer()                        # at most one producer per ring
        p.push((seq, account, instr, kind, side, flags, price, amount, 0, 0, 0))
        p.push_batch(orders)                    # ORDER_DTYPE array: Numba copy, one publish
    c = ring.consumer()                         # at most one consumer per ring
    rec = c.pop(timeout=1.0)                    # one record (np.void), or RingTimeoutError
    n = c.pop_batch(out, timeout=0.0)           # up to len(out) records, 0 if none

Per-record push is **one structured setitem plus one release store**: the
record is written into its slot with a single NumPy structured assignment
(never field by field), then ``ring_publish`` (a direct call of the compiled
Numba entry point, about 80 ns) release-stores ``head``, fences and wakes the
consumer only if it parks. Batches go through the Numba kernels of
``openpit_shm.kernels.ring``.

Waits are bounded: a producer facing a full ring for longer than its timeout
raises ``RingFullError`` (a ``ShardUnavailableError`` and a ``TimeoutError``);
``pop`` raises ``RingTimeoutError`` (a ``TimeoutError``). Waiting uses the
handle's idle strategy (default: spin, yield, then park on the futex).
"""

from __future__ import annotations

import logging
import os
from types import TracebackType
from typing import Any

import numpy as np

from openpit_shm.errors import ShardUnavailableError
from openpit_shm.kernels.entries import RING_PUBLISH, RING_READABLE, RING_RELEASE, RING_WRITABLE
from openpit_shm.kernels.ring import (
    idle_backoff,
    ring_pop_wait,
    ring_push_wait,
    ring_wait_readable,
    ring_wait_writable,
)
from openpit_shm.layout.records import FIXED_SCALE_DEFAULT, ORDER_DTYPE, RECORD_BYTES
from openpit_shm.layout.ring import (
    RING_CTRL_WORDS,
    RING_SLOT_WORDS,
    RING_SLOTS_OFFSET,
    RING_W_CONSUMER_PARKS,
    RING_W_CONSUMER_PID,
    RING_W_CONSUMER_WAKES,
    RING_W_HEAD,
    RING_W_PRODUCER_PARKS,
    RING_W_PRODUCER_PID,
    RING_W_PRODUCER_WAKES,
    RING_W_TAIL,
    ring_capacity_check,
    ring_segment_bytes,
)
from openpit_shm.layout.segment import SEGMENT_KIND_RING
from openpit_shm.shm.segment import Segment

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Ring",
    "RingConsumer",
    "RingFullError",
    "RingProducer",
    "RingTimeoutError",
]

log = logging.getLogger(__name__)

#: Default bound on a blocking push/pop, in seconds.
DEFAULT_TIMEOUT_S = 5.0


class RingFullError(ShardUnavailableError, TimeoutError):
    """A ring stayed full for the whole timeout (the consumer is slow, stuck or dead).

    ``pushed`` says how many records of the call made it into the ring.
    """

    def __init__(self, message: str, pushed: int = 0) -> None:
        super().__init__(message)
        self.pushed = pushed


class RingTimeoutError(TimeoutError):
    """No record arrived within the timeout."""


# Calling the compiled entry points skips the dispatcher's type resolution (about 80 ns instead
# of about 150-200 ns per call); the handles only pass arrays of exactly these types.
_publish = RING_PUBLISH.compile()
_release = RING_RELEASE.compile()
_writable = RING_WRITABLE.compile()
_readable = RING_READABLE.compile()


def _timeout_ns(timeout: float | None, default: float) -> int:
    t = default if timeout is None else timeout
    return -1 if t == float("inf") or t < 0 else int(t * 1e9)


def _rows(records: np.ndarray) -> np.ndarray:
    """View 64-byte records (a structured array or ``int64[n, 8]``) as ``int64[n, 8]``."""
    a = np.asarray(records)
    if a.dtype == np.int64 and a.ndim == 2 and a.shape[1] == RING_SLOT_WORDS:
        rows = a
    elif a.dtype.itemsize == RECORD_BYTES and a.ndim == 1:
        rows = np.ascontiguousarray(a).view(np.int64).reshape(-1, RING_SLOT_WORDS)
    else:
        raise TypeError(
            f"expected 64-byte records (1-d ORDER_DTYPE/RESULT_DTYPE) or int64[n, 8], got "
            f"{a.dtype} with shape {a.shape}"
        )
    return np.ascontiguousarray(rows)


class Ring:
    """One ring segment mapped in this process.

    ``ctrl`` (``int64[512]``) and ``slots`` (``int64[capacity, 8]``) are the two
    arrays every kernel of ``openpit_shm.kernels.ring`` takes; ``records`` is
    the same slots as a structured array of ``dtype``.
    """

    def __init__(self, segment: Segment, dtype: np.dtype) -> None:
        if np.dtype(dtype).itemsize != RECORD_BYTES:
            raise ValueError(f"ring records are {RECORD_BYTES} bytes, {dtype} is not")
        self.segment = segment
        self.name = segment.name
        self.capacity = segment.header.capacity
        self.dtype = np.dtype(dtype)
        words = segment.words
        self.ctrl: np.ndarray = words[:RING_CTRL_WORDS]
        first = RING_SLOTS_OFFSET // 8
        self.slots: np.ndarray = words[first : first + self.capacity * RING_SLOT_WORDS].reshape(
            self.capacity, RING_SLOT_WORDS
        )
        self.records: np.ndarray = self.slots.view(self.dtype).reshape(self.capacity)

    @classmethod
    def create(
        cls,
        capacity: int,
        *,
        dtype: np.dtype = ORDER_DTYPE,
        shard_id: int = 0,
        shard_count: int = 1,
        fixed_scale: int = FIXED_SCALE_DEFAULT,
        tag: str = "",
        unnamed: bool = False,
    ) -> Ring:
        """Create a new ring segment (this process owns and eventually unlinks the name).

        ``unnamed``: a memfd segment, reached only through its descriptor
        (``ring.segment.fileno()``, which ``attach`` takes).
        """
        cap = ring_capacity_check(capacity)
        seg = Segment.create(
            SEGMENT_KIND_RING,
            ring_segment_bytes(cap),
            capacity=cap,
            record_bytes=RECORD_BYTES,
            shard_id=shard_id,
            shard_count=shard_count,
            fixed_scale=fixed_scale,
            data_offset=RING_SLOTS_OFFSET,
            tag=tag,
            unnamed=unnamed,
        )
        return cls(seg, dtype)

    @classmethod
    def attach(
        cls,
        source: str | int,
        *,
        dtype: np.dtype = ORDER_DTYPE,
        capacity: int | None = None,
        shard_id: int | None = None,
        shard_count: int | None = None,
        fixed_scale: int | None = None,
    ) -> Ring:
        """Attach to an existing ring: a name, or an unnamed ring's descriptor (taken over, as
        by ``Segment.attach``); any mismatch raises ``SegmentHeaderError``."""
        seg = Segment.attach(
            source,
            kind=SEGMENT_KIND_RING,
            capacity=capacity,
            record_bytes=RECORD_BYTES,
            shard_id=shard_id,
            shard_count=shard_count,
            fixed_scale=fixed_scale,
        )
        return cls._checked(seg, dtype)

    @classmethod
    def _checked(cls, seg: Segment, dtype: np.dtype) -> Ring:
        """The ring over an attached ``seg`` if its capacity is valid and fits; else closed."""
        try:
            ring_capacity_check(seg.header.capacity)
            if seg.size < ring_segment_bytes(seg.header.capacity):
                raise ValueError(f"ring segment {seg.name!r} is too small for its capacity")
        except ValueError:
            seg.close()
            raise
        return cls(seg, dtype)

    def producer(
        self, *, idle: np.ndarray | None = None, timeout: float = DEFAULT_TIMEOUT_S
    ) -> RingProducer:
        """The producer end (use at most one producer per ring at a time)."""
        return RingProducer(self, idle, timeout)

    def consumer(
        self, *, idle: np.ndarray | None = None, timeout: float = DEFAULT_TIMEOUT_S
    ) -> RingConsumer:
        """The consumer end (use at most one consumer per ring at a time)."""
        return RingConsumer(self, idle, timeout)

    def stats(self) -> dict[str, int]:
        """Cursors, depth and wake/park counters (a racy snapshot, for monitoring)."""
        c = self.ctrl
        head, tail = int(c[RING_W_HEAD]), int(c[RING_W_TAIL])
        return {
            "capacity": self.capacity,
            "head": head,
            "tail": tail,
            "depth": head - tail,
            "producer_pid": int(c[RING_W_PRODUCER_PID]),
            "consumer_pid": int(c[RING_W_CONSUMER_PID]),
            "producer_wakes": int(c[RING_W_PRODUCER_WAKES]),
            "producer_parks": int(c[RING_W_PRODUCER_PARKS]),
            "consumer_wakes": int(c[RING_W_CONSUMER_WAKES]),
            "consumer_parks": int(c[RING_W_CONSUMER_PARKS]),
        }

    def close(self) -> None:
        """Drop the views and close the segment (unlinking it if this process created it)."""
        empty = np.empty(0, dtype=np.int64)
        self.ctrl = empty
        self.slots = empty.reshape(0, RING_SLOT_WORDS)
        self.records = np.empty(0, dtype=self.dtype)
        self.segment.close()

    @property
    def closed(self) -> bool:
        return self.segment.closed

    def __enter__(self) -> Ring:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ring {self.name} capacity={self.capacity}>"


class _End:
    """State shared by both ends: the ring's arrays, idle strategy and timeout."""

    __slots__ = (
        "_cap",
        "_ctrl",
        "_limit",
        "_mask",
        "_records",
        "_slots",
        "idle",
        "ring",
        "timeout",
    )

    def __init__(self, ring: Ring, idle: np.ndarray | None, timeout: float) -> None:
        self.ring = ring
        self.idle = idle_backoff() if idle is None else np.ascontiguousarray(idle, np.int64)
        self.timeout = timeout
        self._ctrl = ring.ctrl
        self._slots = ring.slots
        self._records = ring.records
        self._cap = ring.capacity
        self._mask = ring.capacity - 1


class RingProducer(_End):
    """The producer end of a ring."""

    __slots__ = ("_head",)

    def __init__(self, ring: Ring, idle: np.ndarray | None, timeout: float) -> None:
        super().__init__(ring, idle, timeout)
        self._ctrl[RING_W_PRODUCER_PID] = os.getpid()
        self._head = int(self._ctrl[RING_W_HEAD])  # we are the only writer of head
        self._limit = self._head  # pushes below this cursor have a known-free slot

    def _room(self, timeout: float | None) -> None:
        """Make room for one record or raise ``RingFullError``."""
        free = _writable(self._ctrl, self._slots, 1)
        if free < 1:
            tmo = _timeout_ns(timeout, self.timeout)
            free = ring_wait_writable(self._ctrl, self._slots, 1, self.idle, tmo)
            if free < 1:
                if tmo != 0:  # (try_push asks without waiting: a full ring is its answer)
                    log.warning("ring %s stayed full for %g s", self.ring.name, tmo / 1e9)
                raise RingFullError(
                    f"ring {self.ring.name} stayed full for {tmo / 1e9:g} s "
                    f"(capacity {self._cap}; consumer slow, stuck or dead)"
                )
        self._limit = self._head + free

    def push(self, record: Any, timeout: float | None = None) -> None:
        """Push one record: a tuple in dtype field order or a structured scalar of the dtype.

        Waits up to ``timeout`` seconds (default: the handle's) while the ring is full.
        """
        head = self._head
        if head >= self._limit:
            self._room(timeout)
        self._records[head & self._mask] = record  # one structured setitem
        head += 1
        self._head = head
        _publish(self._ctrl, head)  # one release store (+ fence, wake only a sleeper)

    def try_push(self, record: Any) -> bool:
        """Push one record if there is room now; False when the ring is full."""
        try:
            self.push(record, timeout=0.0)
        except RingFullError:
            return False
        return True

    def push_batch(self, records: np.ndarray, timeout: float | None = None) -> int:
        """Push every record (structured array or ``int64[n, 8]``), publishing once per chunk.

        Raises ``RingFullError`` (with ``.pushed``) if the ring stays full longer than
        ``timeout`` seconds; ``timeout=0`` pushes what fits and returns that count.
        """
        rows = _rows(records)
        n = rows.shape[0]
        tmo = _timeout_ns(timeout, self.timeout)
        done = ring_push_wait(self._ctrl, self._slots, rows, 0, n, self.idle, tmo)
        self._head += done
        self._limit = self._head
        if done < n and tmo != 0:
            log.warning("ring %s stayed full for %g s: pushed %d of %d", self.ring.name,
                        tmo / 1e9, done, n)  # fmt: skip
            raise RingFullError(
                f"ring {self.ring.name} stayed full for {tmo / 1e9:g} s: pushed {done} of {n}",
                pushed=done,
            )
        return done


class RingConsumer(_End):
    """The consumer end of a ring."""

    __slots__ = ("_tail", "dtype")

    def __init__(self, ring: Ring, idle: np.ndarray | None, timeout: float) -> None:
        super().__init__(ring, idle, timeout)
        self._ctrl[RING_W_CONSUMER_PID] = os.getpid()
        self.dtype = ring.dtype
        self._tail = int(self._ctrl[RING_W_TAIL])  # we are the only writer of tail
        self._limit = self._tail  # records below this cursor are known to be published

    def try_pop(self) -> np.void | None:
        """Pop one record if one is readable now (a read-only copy), else None."""
        tail = self._tail
        if tail >= self._limit:
            avail = _readable(self._ctrl, self._slots, 1)
            if avail < 1:
                return None
            self._limit = tail + avail
        # Copy out before the slot is released. Via bytes: NumPy copies an aligned structured
        # scalar field by field (~2.4 us); tobytes + frombuffer costs ~0.4 us.
        rec = np.frombuffer(self._slots[tail & self._mask].tobytes(), self.dtype)[0]
        tail += 1
        self._tail = tail
        _release(self._ctrl, tail)
        return rec

    def pop(self, timeout: float | None = None) -> np.void:
        """Pop one record, waiting up to ``timeout`` seconds; raises ``RingTimeoutError``."""
        rec = self.try_pop()
        if rec is not None:
            return rec
        tmo = _timeout_ns(timeout, self.timeout)
        avail = ring_wait_readable(self._ctrl, self._slots, 1, self.idle, tmo)
        if avail < 1:
            raise RingTimeoutError(f"no record on ring {self.ring.name} within {tmo / 1e9:g} s")
        rec = self.try_pop()
        assert rec is not None
        return rec

    def pop_batch(self, out: np.ndarray, timeout: float = 0.0) -> int:
        """Pop up to ``len(out)`` records into ``out`` (structured array or ``int64[n, 8]``).

        Waits up to ``timeout`` seconds for the first record; returns how many
        were popped (0 when none arrived in time).
        """
        rows = _rows(out)
        if not np.shares_memory(rows, out):
            raise TypeError("pop_batch needs a C-contiguous output array")
        tmo = _timeout_ns(timeout, self.timeout)
        n = ring_pop_wait(self._ctrl, self._slots, rows, 0, rows.shape[0], self.idle, tmo)
        self._tail += n
        self._limit = self._tail
        return n
