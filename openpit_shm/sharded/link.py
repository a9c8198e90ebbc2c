"""One client slot's ring pair to one shard: send a request, read back its records.

Requests are answered in order on an SPSC pair, so a synchronous caller reads
result records until the ones carrying its ``seq`` are complete. Records for
other sequence numbers are answers to fire-and-forget messages (commits and
rollbacks, which the link sends without waiting) or a second answer to a
request a dying worker published just before the supervisor answered it too;
the link settles or drops them as it goes.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..builtins.record import Record
from ..errors import ShardUnavailableError
from ..kernels.ring import ring_release, ring_wait_readable
from ..layout.records import RESULT_TEXTS, STATUS_TEXT
from ..layout.ring import RING_W_HEAD, RING_W_TAIL
from ..shm.ring import Ring
from .texts import decode_texts

__all__ = ["ShardLink"]

_SLICE_NS = 20_000_000  # re-check the overall deadline this often while waiting


class ShardLink:
    """The engine's own slot (0) to one shard."""

    def __init__(self, request: Ring, result: Ring, idle: np.ndarray, timeout: float) -> None:
        self.producer = request.producer(idle=idle, timeout=timeout)
        self.request_ring = request
        self.ctrl = result.ctrl
        self.slots = result.slots
        self.mask = result.capacity - 1
        self.tail = int(result.ctrl[RING_W_TAIL])
        self.limit = self.tail  # records below this cursor are known to be published
        self.idle = idle
        self.timeout = timeout
        self.lock = threading.Lock()
        #: seq -> (handle, commit) of finalizations sent without waiting for their answers.
        self.unsettled: dict[int, tuple[int, bool]] = {}
        self.retry: list[tuple[int, bool]] = []  # finalizations a dead shard answered: resend

    def send(self, record: tuple) -> None:
        """Push one request (a tuple in ``ORDER_DTYPE`` field order)."""
        self.producer.push(record)

    def _next(self, deadline_ns: int) -> Record:
        """The next result record (waits, bounded)."""
        import time

        while self.tail >= self.limit:
            # Hand the records read so far back to the worker, then wait for more: the
            # ring's own tail is what its readable count is measured from.
            ring_release(self.ctrl, self.tail)
            avail = ring_wait_readable(self.ctrl, self.slots, 1, self.idle, _SLICE_NS)
            if avail > 0:
                self.limit = self.tail + avail
            elif time.monotonic_ns() > deadline_ns:
                raise ShardUnavailableError(
                    "no answer from the shard in time (the worker is stuck or the host is "
                    "overloaded)"
                )
        rec = Record.at(self.slots, self.tail & self.mask)
        self.tail += 1
        return rec

    def receive(self, seq: int) -> tuple[list[Record], Any]:
        """The records answering request ``seq``, and the texts payload that followed them."""
        import time

        deadline = time.monotonic_ns() + int(self.timeout * 1e9)
        rows: list[Record] = []
        payload = None
        try:
            while True:
                rec = self._next(deadline)
                if rec.seq != seq:
                    self._settle(rec)
                    continue
                if rec.status == STATUS_TEXT:
                    continue  # text chunks of an earlier answer to this seq
                rows.append(rec)
                if rec.count <= 1 or rec.index + 1 >= rec.count:
                    break
            if rows[-1].flags & RESULT_TEXTS:
                chunks = [self._next(deadline)]
                while len(chunks) < chunks[0].count:
                    chunks.append(self._next(deadline))
                payload = decode_texts([np.array((*c[:2], 0, *c[9:]), np.int64) for c in chunks])
        finally:
            ring_release(self.ctrl, self.tail)
        return rows, payload

    def _settle(self, rec: Record) -> None:
        """An answer to something sent earlier without waiting."""
        pending = self.unsettled.pop(rec.seq, None)
        if pending is not None and rec.code != 0 and rec.reason == _shard_down():
            self.retry.append(pending)  # the shard was down: finalize again once it is back

    def drain(self) -> None:
        """Settle every answer already readable (keeps the result ring from filling)."""
        from ..kernels.ring import ring_readable

        ring_release(self.ctrl, self.tail)
        avail = ring_readable(self.ctrl, self.slots, 1)
        if avail <= 0:
            return
        for _ in range(avail):
            self._settle(Record.at(self.slots, self.tail & self.mask))
            self.tail += 1
        self.limit = self.tail
        ring_release(self.ctrl, self.tail)

    def resync(self) -> None:
        """Re-read both cursors after the batch pump pushed and popped on this ring pair."""
        self.tail = self.limit = int(self.ctrl[RING_W_TAIL])
        producer = self.producer
        producer._head = producer._limit = int(self.request_ring.ctrl[RING_W_HEAD])


def _shard_down() -> int:
    from .supervisor import RSN_SHARD_DOWN

    return RSN_SHARD_DOWN
