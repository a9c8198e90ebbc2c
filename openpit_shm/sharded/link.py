"""One client slot's ring pair to one shard: send a request, read back its records.

Requests are answered in order on an SPSC pair, so a synchronous caller reads
result records until the ones carrying its ``seq`` are complete. Records for
other sequence numbers are answers to fire-and-forget messages (commits and
rollbacks, which the link sends without waiting) or a second answer to a
request a dying worker published just before the supervisor answered it too;
the link settles or drops them as it goes.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from ..builtins.record import Record
from ..errors import ShardUnavailableError
from ..kernels.entries import EXCHANGE
from ..kernels.ring import ring_release, ring_wait_readable
from ..layout.records import RESULT_TEXTS, STATUS_TEXT
from ..layout.ring import RING_W_HEAD, RING_W_TAIL
from ..shm.ring import Ring
from .texts import decode_texts

__all__ = ["ShardLink"]

log = logging.getLogger(__name__)

_SLICE_NS = 20_000_000  # re-check the overall deadline this often while waiting


_OUT_ROWS = 512  # a request's records plus stale answers and texts read in one exchange


class ShardLink:
    """The engine's own slot (0) to one shard."""

    def __init__(self, request: Ring, result: Ring, idle: np.ndarray, timeout: float) -> None:
        self.producer = request.producer(idle=idle, timeout=timeout)
        self.shard = int(request.segment.header.shard_id)
        self.request_ring = request
        self.ctrl = result.ctrl
        self.slots = result.slots
        self.mask = result.capacity - 1
        self.tail = int(result.ctrl[RING_W_TAIL])
        self.limit = self.tail  # records below this cursor are known to be published
        self.stale = False
        self.idle = idle
        self.timeout = timeout
        self.lock = threading.Lock()
        #: seq -> (handle, commit) of finalizations sent without waiting for their answers.
        self.unsettled: dict[int, tuple[int, bool]] = {}
        self.retry: list[tuple[int, bool]] = []  # finalizations a dead shard answered: resend
        self.out = np.zeros((_OUT_ROWS, 8), dtype=np.int64)
        self._exchange = EXCHANGE.compile()
        self._addrs = (
            request.ctrl.ctypes.data,
            request.slots.ctypes.data,
            result.ctrl.ctypes.data,
            result.slots.ctypes.data,
            result.capacity,
        )
        self._out_addr = self.out.ctypes.data
        self._idle_addr = idle.ctypes.data
        self._timeout_ns = int(timeout * 1e9)

    def exchange(self, seq: int, w1: int, w2: int, w3: int, w4: int, w5: int, w6: int, w7: int
                 ) -> tuple[list[Record], Any]:  # fmt: skip
        """Send request ``seq`` (its other 7 words) and return its records and texts payload.

        One compiled call pushes, waits and copies; answers to earlier messages
        that arrive first are settled here.
        """
        req_ctrl, req_slots, res_ctrl, res_slots, cap = self._addrs
        n = self._exchange(
            req_ctrl, req_slots, res_ctrl, res_slots, cap, seq, w1, w2, w3, w4, w5, w6, w7,
            self._out_addr, _OUT_ROWS, self._idle_addr, self._timeout_ns,
        )  # fmt: skip
        self.stale = True  # the ring cursors moved under the Python-side ends
        if n == 1:  # the usual answer: one record, ours, no texts
            rec = Record.at(self.out, 0)
            if rec[0] == seq and rec[5] != STATUS_TEXT and not rec[6] & RESULT_TEXTS:
                return [rec], None
        if n < 0:
            why = "its request ring stayed full" if n == -1 else "no answer in time"
            log.warning("shard %d: %s (%g s)", self.shard, why, self.timeout)
            raise ShardUnavailableError(f"shard unavailable: {why} (stuck worker, busy host)")
        out = self.out
        rows: list[Record] = []
        texts: list[Record] = []
        for i in range(n):
            rec = Record.at(out, i)
            if rec.seq != seq:
                self._settle(rec)
            elif rec.status == STATUS_TEXT:
                texts.append(rec)
            else:
                rows.append(rec)
        payload = None
        if texts and rows[-1].flags & RESULT_TEXTS:
            payload = decode_texts([np.array((*c[:2], 0, *c[9:]), np.int64) for c in texts])
        return rows, payload

    def send(self, record: tuple) -> None:
        """Push one request (a tuple in ``ORDER_DTYPE`` field order) without waiting."""
        if self.stale:
            self.resync()
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
                log.warning("shard %d: no answer in time (%g s)", self.shard, self.timeout)
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

        if self.stale:
            self.resync()
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

        if self.stale:
            self.resync()
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
        """Re-read both cursors after a kernel (exchange, batch pump) used this ring pair."""
        self.stale = False
        self.tail = self.limit = int(self.ctrl[RING_W_TAIL])
        producer = self.producer
        producer._head = producer._limit = int(self.request_ring.ctrl[RING_W_HEAD])


def _shard_down() -> int:
    from .supervisor import RSN_SHARD_DOWN

    return RSN_SHARD_DOWN
