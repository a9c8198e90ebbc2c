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
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..builtins.record import Record
from ..errors import EngineClosedError, ShardUnavailableError
from ..kernels.client import (
    EXCHANGE_CLOSED,
    EXCHANGE_RING_FULL,
    EXCHANGE_STALE_FULL,
)
from ..kernels.codes import RSN_OUTCOME_UNKNOWN, RSN_SHARD_DOWN
from ..layout.records import (
    MSG_COMMIT,
    MSG_ROLLBACK,
    POLICY_ENGINE,
    RESULT_TEXTS,
    STATUS_OK,
    STATUS_TEXT,
)
from ..layout.ring import RING_W_HEAD
from ..shm.ring import Ring
from .texts import decode_texts

__all__ = ["ShardLink", "closed_error"]

_EXCHANGE: Any = None
#: ``out`` rows of one exchange: the answer (at most 255 records and 255 text chunks) and
#: stale records to settle that arrived before it.
_OUT_ROWS = 1024


def _exchange_entry() -> Any:
    """The compiled entry point of ``kernels.client.exchange`` (all-int64 arguments)."""
    global _EXCHANGE
    if _EXCHANGE is None:
        from numba import types

        from ..kernels.client import exchange

        sig = (types.int64,) * 19
        exchange.compile(sig)
        _EXCHANGE = exchange.overloads[sig].entry_point
    return _EXCHANGE


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
        self.producer = request.producer(idle=idle, timeout=timeout)
        self.request_ring = request
        self.timeout = timeout
        self.lock = threading.Lock()
        self.seq = 1  #: the number of the next message
        self.stale = False  # a kernel moved the request cursor under ``producer``
        #: seq -> (handle, commit) of finalizations sent without waiting for their answers.
        self.unsettled: dict[int, tuple[int, bool]] = {}
        #: finalizations to send ahead of the next message: (handle, commit)
        self.retry: list[tuple[int, bool]] = []
        self.rolled_back = 0  #: reservations of abandoned requests rolled back
        self.out = np.zeros((_OUT_ROWS, 8), dtype=np.int64)
        self._exchange = _exchange_entry()
        self._addrs = (
            request.ctrl.ctypes.data,
            request.slots.ctypes.data,
            result.ctrl.ctypes.data,
            result.slots.ctypes.data,
            result.capacity,
        )
        self._out_addr = self.out.ctypes.data
        self._idle_addr = idle.ctypes.data
        self._cancel_addr = cancel.ctypes.data
        self._timeout_ns = int(timeout * 1e9)

    def next_seqs(self, count: int) -> int:
        """Reserve ``count`` sequence numbers (a batch's records); the first one."""
        first = self.seq
        self.seq = first + count
        return first

    def exchange(self, w1: int, w2: int, w3: int, w4: int, w5: int, w6: int, w7: int
                 ) -> tuple[list[Record], Any]:  # fmt: skip
        """Send one request (its words after ``seq``) and return its records and texts payload.

        One compiled call pushes, waits and copies; stale answers that arrive
        first are settled here.
        """
        seq = self.seq
        self.seq = seq + 1
        req_ctrl, req_slots, res_ctrl, res_slots, cap = self._addrs
        push = 1
        while True:
            n = self._exchange(
                req_ctrl, req_slots, res_ctrl, res_slots, cap, seq, w1, w2, w3, w4, w5, w6, w7,
                self._out_addr, _OUT_ROWS, self._idle_addr, self._timeout_ns, push,
                self._cancel_addr,
            )  # fmt: skip
            self.stale = True  # the request cursor moved under the Python producer
            if n > 0:
                break
            if n > EXCHANGE_STALE_FULL:
                raise self._failure(n)
            for i in range(EXCHANGE_STALE_FULL - n):
                self.settle(Record.at(self.out, i))
            push = 0
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
        return ShardUnavailableError(f"shard unavailable: {why} (stuck worker, busy host)")

    def send_finalization(self, handle: int, commit: bool) -> None:
        """Commit or roll back ``handle`` without waiting for the answer."""
        seq = self.seq
        self.seq = seq + 1
        self.unsettled[seq] = (handle, commit)
        if self.stale:
            self.resync()
        kind = MSG_COMMIT if commit else MSG_ROLLBACK
        self.producer.push((seq, 0, 0, kind, 0, 0, 0, 0, 0, 0, handle))

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

    def resync(self) -> None:
        """Re-read the request cursor after a kernel (exchange, batch pump) pushed on it."""
        self.stale = False
        producer = self.producer
        producer._head = producer._limit = int(self.request_ring.ctrl[RING_W_HEAD])
