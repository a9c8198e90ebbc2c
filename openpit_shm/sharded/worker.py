"""A shard worker process: attach the shard, become its ``account_sync`` engine, serve rings.

Started by the supervisor (``multiprocessing`` spawn context, so the parent's
threads and locks never leak into it; the Numba cache makes the start cheap).
Lifecycle, as seen in the shard's control block:

1. ``STARTING``: attach the control, shared and state segments and the ring
   pairs; rebuild the Book over the surviving arena; build the engine.
2. ``READY``: wait until the supervisor hands over the rings (``owner``).
3. ``RUNNING``: the duty cycle. Engines whose policies are all builtin run
   ``kernels.agent.agent_run`` (everything in Numba); engines with custom
   Python policies decide each record through the object pipeline
   (``RecordDoor``) and idle in ``agent_wait``. Control requests (a pipe plus
   the ``control_seq`` word) are applied between batches.
4. ``STOPPED`` after a stop request.
"""

from __future__ import annotations

import os
import pickle
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from ..layout.control import (
    CTL_S_CONTROL_ACK,
    CTL_S_CONTROL_SEQ,
    CTL_S_OWNER,
    CTL_S_PID,
    CTL_S_STATE,
    CTL_S_STATS,
    OWNER_WORKER,
    STAT_NAMES,
    WORKER_READY,
    WORKER_RUNNING,
    WORKER_STARTING,
    WORKER_STOPPED,
    WORKER_STOPPING,
    shard_word,
)
from ..layout.records import ORDER_DTYPE, RESULT_DTYPE, RESULT_TEXTS
from ..layout.segment import SEGMENT_KIND_CONTROL, SEGMENT_KIND_SHARED, SEGMENT_KIND_STATE
from .topology import TopologyNames

__all__ = ["WorkerSpec", "worker_main"]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a (re)started worker needs; picklable."""

    shard: int
    names: TopologyNames
    registrations: bytes  #: pickled list of engine registrations (custom policies included)
    book: bytes  #: pickled Book description (``Book.description()``) to re-attach the arena
    idle: tuple[int, int, int, int]  #: ``kernels.ring`` idle strategy
    batch: int  #: most records taken from one ring per duty cycle
    text_slots: tuple[int, ...]  #: client slots that read ``STATUS_TEXT`` records
    #: pickled (causes, group_reasons, engine_cause, group_of) the client recorded: the texts
    #: of Python-held blocks, which the arena keeps only as flags
    accounts: bytes = b""


class _Shard:
    """The worker's view of its shard: segments, rings, Book and engine."""

    def __init__(self, spec: WorkerSpec) -> None:
        from ..kernels.agent import rings_table
        from ..shm.ring import Ring
        from ..shm.segment import Segment

        names, k = spec.names, spec.shard
        self.spec = spec
        self.control = Segment.attach(names.control, kind=SEGMENT_KIND_CONTROL)
        self.ctl = self.control.words
        self.base = shard_word(k, 0)
        self.ctl[self.base + CTL_S_PID] = os.getpid()
        self.ctl[self.base + CTL_S_STATE] = WORKER_STARTING
        self.shared_seg = Segment.attach(names.shared, kind=SEGMENT_KIND_SHARED)
        self.state_seg = Segment.attach(
            names.state[k], kind=SEGMENT_KIND_STATE, shard_id=k, shard_count=names.n_shards
        )
        self.requests = [
            Ring.attach(names.request[s][k], dtype=ORDER_DTYPE, shard_id=k)
            for s in range(names.n_slots)
        ]
        self.results = [
            Ring.attach(names.result[s][k], dtype=RESULT_DTYPE, shard_id=k)
            for s in range(names.n_slots)
        ]
        self.rings = rings_table(names.n_slots)
        for s in range(names.n_slots):
            req, res = self.requests[s], self.results[s]
            self.rings[s] = (
                1,
                req.ctrl.ctypes.data,
                req.slots.ctypes.data,
                res.ctrl.ctypes.data,
                res.slots.ctypes.data,
            )
        registrations = pickle.loads(spec.registrations)
        from .book_io import attach_book

        self.book = attach_book(spec, self.state_seg, self.shared_seg, registrations)
        from ..engine.engine import build_engine_over

        self.engine = build_engine_over(registrations, self.book)
        if spec.accounts:
            st = self.engine._accounts
            causes, reasons, engine_cause, group_of = pickle.loads(spec.accounts)
            st.causes.update(causes)
            st.group_reasons.update(reasons)
            st.engine_cause = engine_cause
            st.group_of.update(group_of)
        self.idle = np.array(spec.idle, dtype=np.int64)
        self.waiters = np.zeros(3 * (2 * names.n_slots + 1), dtype=np.int64)
        self.room = len(registrations) + 2
        self.scratch = np.zeros((spec.batch + self.room, 8), dtype=np.int64)

    def set_state(self, state: int) -> None:
        from ..kernels.atomics import store_word_release

        store_word_release(self.ctl, self.base + CTL_S_STATE, np.int64(state))

    def close(self) -> None:
        for ring in self.requests + self.results:
            ring.close()
        for seg in (self.state_seg, self.shared_seg, self.control):
            seg.close()


def _compile_serving(shard: _Shard) -> None:
    """Compile (or load) what the duty cycle calls before reporting READY.

    On a cold cache the workers, which start together, take turns: the first
    compiles, the others then load its cache files (``kernels.entries``).
    """
    from ..kernels.entries import WORKER_KERNELS, WORKER_OBJECTS, compile_all, compile_lock

    entries = WORKER_OBJECTS if shard.engine._customs else WORKER_KERNELS
    if all(entry.cached() for entry in entries):
        compile_all(entries)
        return
    with compile_lock():
        compile_all(entries)


def _serve_kernels(shard: _Shard) -> int:
    """The all-builtin duty cycle: Numba end to end; returns why Python is needed."""
    from ..kernels.agent import AGENT_NEED_SPACE, agent_run

    while True:
        book = shard.book
        why = agent_run(
            shard.ctl, shard.base, book.state, book.shared, shard.rings,
            shard.spec.names.capacity, shard.spec.batch, shard.room, shard.idle,
            shard.waiters, shard.scratch,
        )  # fmt: skip
        if why != AGENT_NEED_SPACE:
            return why
        book.grow()  # the arena is full: grow it in place (same segment, ftruncate)


def _serve_objects(shard: _Shard) -> int:
    """The custom-policy duty cycle: records through the object pipeline, idling in Numba."""
    from ..engine.record_door import RecordDoor
    from ..kernels.agent import agent_wait
    from ..kernels.ring import ring_pop_batch
    from .texts import encode_texts

    door = RecordDoor(shard.engine)
    cap = shard.spec.names.capacity
    batch = shard.scratch[: shard.spec.batch]
    records = batch.view(ORDER_DTYPE).reshape(-1)
    producers = [r.producer(idle=shard.idle, timeout=3600.0) for r in shard.results]
    stats = shard.base + CTL_S_STATS
    while True:
        why = agent_wait(shard.ctl, shard.base, shard.rings, cap, shard.idle, shard.waiters)
        if why != 0:
            return why
        for slot, req in enumerate(shard.requests):
            n = ring_pop_batch(req.ctrl, req.slots, batch, 0, batch.shape[0])
            if n == 0:
                continue
            shard.ctl[stats + STAT_NAMES.index("batches")] += 1
            shard.ctl[stats + STAT_NAMES.index("records")] += n
            wants_texts = slot in shard.spec.text_slots
            for i in range(n):
                answer = door.answer(records[i])
                rows = answer.rows
                payload = None
                if wants_texts and answer.error is not None:
                    payload = ("error", answer.error)
                elif wants_texts and any(t is not None for t in answer.texts):
                    payload = ("texts", answer.texts)
                elif wants_texts and answer.reserved is not None:
                    payload = ("reserved", *answer.reserved)
                if payload is not None:
                    last = list(rows[-1])
                    last[6] |= RESULT_TEXTS
                    rows = [*rows[:-1], tuple(last)]
                for row in rows:
                    producers[slot].push(row)
                if payload is not None:
                    producers[slot].push_batch(encode_texts(int(records[i]["seq"]), payload))


def _control(shard: _Shard, conn: Connection) -> bool:
    """Apply every queued control request; False once a stop was requested."""
    from ..kernels.atomics import load_word_acquire
    from .control import apply_control

    seq = int(load_word_acquire(shard.ctl, shard.base + CTL_S_CONTROL_SEQ))
    running = True
    while conn.poll():
        op, args = conn.recv()
        try:
            value = apply_control(shard, op, args)
            conn.send((True, value))
        except Exception as exc:  # reported to the caller, who raises it
            conn.send((False, exc))
        shard.ctl[shard.base + CTL_S_STATS + STAT_NAMES.index("control")] += 1
        if op == "stop":
            running = False
    shard.ctl[shard.base + CTL_S_CONTROL_ACK] = seq
    return running


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this worker when its supervisor dies (Linux ``prctl``)."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the supervisor died before the prctl: nobody to serve
        os._exit(1)


def worker_main(conn: Connection) -> None:
    """Process entry point (``multiprocessing`` spawn target); its ``WorkerSpec`` comes on ``conn``.

    The spec (all the builtins' barriers: megabytes for a million accounts)
    is not a spawn argument: CPython writes those into a pipe the parent
    itself keeps open for reading, so a child that dies while starting (a
    script without its ``__main__`` guard) would leave the parent blocked in
    that write forever. Sent on ``conn``, a dead child's pipe breaks instead.
    """
    from ..kernels.agent import AGENT_STOP

    _die_with_parent()
    shard = None
    try:
        spec: WorkerSpec = conn.recv()
        shard = _Shard(spec)
        _compile_serving(shard)
        shard.set_state(WORKER_READY)
        while int(shard.ctl[shard.base + CTL_S_OWNER]) != OWNER_WORKER:
            if int(shard.ctl[shard.base + CTL_S_STATE]) == WORKER_STOPPING:
                return
            time.sleep(0.0005)  # the supervisor is answering the last requests itself
        shard.set_state(WORKER_RUNNING)
        serve = _serve_objects if shard.engine._customs else _serve_kernels
        running = True
        while running:
            why = serve(shard)
            if why == AGENT_STOP:
                break
            running = _control(shard, conn)
    except BaseException:
        traceback.print_exc()
        raise
    finally:
        if shard is not None:
            shard.set_state(WORKER_STOPPED)
            shard.close()
