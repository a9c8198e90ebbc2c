"""One client slot's ring pair to one shard: numbered requests, each answer matched to its own.

Every message the link sends carries its own sequence number (``seq``),
unique and increasing on this ring pair; the caller's ``seq`` never travels.
An answer is taken only by the request carrying its number. A call that
gives up (no progress for the timeout, the engine closing) abandons what it
sent: those requests may still be decided, and their answers arrive later
as *stale* records, never taken for a newer request's. The kernels drop
stale records unless they need settling (``kernels.client.needs_settling``):

* an accepted reservation of an abandoned request: nobody holds it, so the
  link rolls it back, ahead of its next message to this shard;
* the answer to a finalization sent without waiting (``send_finalization``,
  a garbage-collected reservation): sent again if a dead shard did not
  apply it or may have half applied it (a handle finalizes at most once, so
  a repeat is refused, never applied twice).

Answers come back in the order requests went out, so once request ``seq``
is answered every message numbered below it has been too
(``answered_below``).

Every message goes out through the link's descriptor (``layout.link``): one
``ORDER_STRUCT.pack_into`` writes the record, and one ``kernels.client.exchange``
call on the descriptor's address pushes it (waiting, bounded, while the ring is
full) and, for a request, waits for and copies its answer.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

from ..builtins.record import Record
from ..errors import EngineClosedError, ShardUnavailableError
from ..kernels.client import (
    EXCHANGE_CLOSED,
    EXCHANGE_PUSH,
    EXCHANGE_PUSH_WAIT,
    EXCHANGE_RING_FULL,
    EXCHANGE_STALE_FULL,
    EXCHANGE_WAIT,
)
from ..kernels.codes import RSN_OUTCOME_UNKNOWN, RSN_SHARD_DOWN
from ..kernels.entries import EXCHANGE
from ..layout.link import (
    LINK_RECORD_OFFSET,
    LINK_W_CANCEL,
    LINK_W_CAPACITY,
    LINK_W_IDLE,
    LINK_W_OUT,
    LINK_W_OUT_ROWS,
    LINK_W_TIMEOUT_NS,
    LINK_WORDS,
    RINGS_W_REQ_CTRL,
    RINGS_W_REQ_SLOTS,
    RINGS_W_RES_CTRL,
    RINGS_W_RES_SLOTS,
)
from ..layout.records import (
    MSG_COMMIT,
    MSG_ROLLBACK,
    ORDER_STRUCT,
    POLICY_ENGINE,
    RESULT_TEXTS,
    STATUS_OK,
    STATUS_TEXT,
)
from ..layout.ring import RING_W_PRODUCER_PID
from ..shm.ring import Ring
from .texts import decode_texts

__all__ = ["ShardLink", "closed_error"]

log = logging.getLogger(__name__)

#: ``out`` rows of one exchange: the answer (at most 255 records and 255 text chunks) and
#: stale records to settle that arrived before it.
_OUT_ROWS = 1024
_pack = ORDER_STRUCT.pack_into  # one record into the descriptor, at byte _AT
_AT = LINK_RECORD_OFFSET


def closed_error() -> EngineClosedError:
    return EngineClosedError("the engine is closed")


class ShardLink:
    """The engine's own slot (0) to one shard.

    ``cancel`` is the engine's close flag (``int64[1]``): the kernels waiting
    on this link give up as soon as it is set.
    """

    def __init__(
        self, request: Ring, result: Ring, idle: np.ndarray, timeout: float, cancel: np.ndarray
    ) -> None:
        self.shard = int(request.segment.header.shard_id)
        self.timeout = timeout
        self.lock = threading.Lock()
        self.seq = 1  #: the number of the next message
        #: seq -> (handle, commit) of finalizations sent without waiting for their answers.
        self.unsettled: dict[int, tuple[int, bool]] = {}
        #: finalizations to send ahead of the next message: (handle, commit)
        self.retry: list[tuple[int, bool]] = []
        self.rolled_back = 0  #: reservations of abandoned requests rolled back
        self.out = np.zeros((_OUT_ROWS, 8), dtype=np.int64)
        # Every kernel pushing on the request ring (this link's exchange, the batch
        # pump) reads the cursors from the ring itself: no Python producer caches them.
        request.ctrl[RING_W_PRODUCER_PID] = os.getpid()
        #: The link descriptor (``layout.link``); the arrays it points at live as long.
        self.desc = desc = np.zeros(LINK_WORDS, dtype=np.int64)
        desc[RINGS_W_REQ_CTRL] = request.ctrl.ctypes.data
        desc[RINGS_W_REQ_SLOTS] = request.slots.ctypes.data
        desc[RINGS_W_RES_CTRL] = result.ctrl.ctypes.data
        desc[RINGS_W_RES_SLOTS] = result.slots.ctypes.data
        desc[LINK_W_CAPACITY] = result.capacity
        desc[LINK_W_OUT] = self.out.ctypes.data
        desc[LINK_W_OUT_ROWS] = _OUT_ROWS
        desc[LINK_W_IDLE] = idle.ctypes.data
        desc[LINK_W_CANCEL] = cancel.ctypes.data
        desc[LINK_W_TIMEOUT_NS] = int(timeout * 1e9)
        self._keep = (idle, cancel)  # (the descriptor holds their addresses)
        self._record = memoryview(desc).cast("B")  # ``_pack(self._record, _AT, ...)``
        self._desc_addr = desc.ctypes.data
        self._exchange = EXCHANGE.compile()

    def next_seqs(self, count: int) -> int:
        """Reserve ``count`` sequence numbers (a batch's records); the first one."""
        first = self.seq
        self.seq = first + count
        return first

    def exchange(
        self, account: int, instrument: int, kind: int, side: int, flags: int, price: int,
        amount: int, pnl: int, fee: int, ref: int,
    ) -> tuple[list[Record], Any]:  # fmt: skip
        """Send one request (``ORDER_DTYPE`` fields after ``seq``, ``account`` as an int64)
        and return its records and texts payload.

        The record is written into the link's descriptor; one compiled call
        pushes it, waits and copies the answer; stale answers that arrive first
        are settled here.
        """
        seq = self.seq
        self.seq = seq + 1
        _pack(self._record, _AT, seq, account, instrument, kind, side, flags, price, amount,
              pnl, fee, ref)  # fmt: skip
        mode = EXCHANGE_PUSH_WAIT
        while True:
            n = self._exchange(self._desc_addr, mode)
            if n > 0:
                break
            if n > EXCHANGE_STALE_FULL:
                raise self._failure(n)
            for i in range(EXCHANGE_STALE_FULL - n):
                self.settle(Record.at(self.out, i))
            mode = EXCHANGE_WAIT
        if n == 1:  # the usual answer: one record, ours, no texts
            rec = Record.at(self.out, 0)
            if rec[0] == seq and rec[5] != STATUS_TEXT and not rec[6] & RESULT_TEXTS:
                if self.unsettled:
                    self.answered_below(seq)
                return [rec], None
        rows: list[Record] = []
        texts: list[Record] = []
        for i in range(n):
            rec = Record.at(self.out, i)
            if rec.seq != seq:
                self.settle(rec)
            elif rec.status == STATUS_TEXT:
                texts.append(rec)
            else:
                rows.append(rec)
        self.answered_below(seq)
        payload = None
        if texts and rows[-1].flags & RESULT_TEXTS:
            payload = decode_texts([np.array((*c[:2], 0, *c[9:]), np.int64) for c in texts])
        return rows, payload

    def _failure(self, code: int) -> Exception:
        if code == EXCHANGE_CLOSED:
            return closed_error()
        if code == EXCHANGE_RING_FULL:
            why = f"its request ring stayed full for {self.timeout:g} s"
        else:
            why = f"no answer and no progress for {self.timeout:g} s"
        log.warning("shard %d: %s", self.shard, why)
        return ShardUnavailableError(f"shard unavailable: {why} (stuck worker, busy host)")

    def send_finalization(self, handle: int, commit: bool) -> None:
        """Commit or roll back ``handle`` without waiting for the answer.

        If it cannot be sent (the request ring stayed full, the engine is closing)
        it stays queued for the next message, and the failure is raised.
        """
        seq = self.seq
        self.seq = seq + 1
        kind = MSG_COMMIT if commit else MSG_ROLLBACK
        _pack(self._record, _AT, seq, 0, 0, kind, 0, 0, 0, 0, 0, 0, handle)
        code = self._exchange(self._desc_addr, EXCHANGE_PUSH)
        if code != 0:
            self.retry.append((handle, commit))
            raise self._failure(code)
        self.unsettled[seq] = (handle, commit)

    def send_retries(self) -> None:
        """Send the finalizations queued to go out ahead of the next message."""
        while self.retry:
            handle, commit = self.retry.pop()
            self.send_finalization(handle, commit)

    def settle(self, rec: Record) -> None:
        """A stale answer that needs settling (see the module docstring)."""
        pending = self.unsettled.pop(rec.seq, None)
        if pending is not None:
            if rec.policy == POLICY_ENGINE and rec.reason in (RSN_SHARD_DOWN, RSN_OUTCOME_UNKNOWN):
                self.retry.append(pending)  # the shard may not have applied it: again
            return
        if rec.status == STATUS_OK and rec.reservation != 0 and rec.index == 0:
            self.retry.append((rec.reservation, False))  # abandoned: nobody will finalize it
            self.rolled_back += 1

    def answered_below(self, seq: int) -> None:
        """Every message numbered below ``seq`` has been answered: forget their finalizations
        (the ones that needed settling were settled on the way)."""
        for s in [s for s in self.unsettled if s < seq]:
            del self.unsettled[s]
