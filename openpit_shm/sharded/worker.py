"""A shard worker process: attach the shard, become its ``account_sync`` engine, serve rings.

Started by the supervisor (``multiprocessing`` spawn context, so the parent's
threads and locks never leak into it; the Numba cache makes the start cheap).
Lifecycle, as seen in the shard's control block:

1. ``STARTING``: attach the control, shared and state segments and the ring
   pairs (the unnamed ones by the descriptors that follow the spec on the
   pipe, the external slots' rings by name); rebuild the Book over the
   surviving arena; build the engine.
2. ``READY``: apply the control requests the supervisor replays (what the
   shard missed while it was down), until it hands over the rings (``owner``).
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
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

from ..layout.control import (
    CTL_S_CONTROL_ACK,
    CTL_S_CONTROL_SEQ,
    CTL_S_GENERATION,
    CTL_S_OWNER,
    CTL_S_PID,
    CTL_S_STATE,
    CTL_S_STATS,
    OWNER_WORKER,
    STAT_BATCHES,
    STAT_CONTROL,
    STAT_RECORDS,
    WORKER_READY,
    WORKER_RUNNING,
    WORKER_STARTING,
    WORKER_STOPPED,
    WORKER_STOPPING,
    shard_word,
)
from ..layout.records import ORDER_DTYPE, RESULT_DTYPE, RESULT_TEXTS
from ..layout.ring import RING_W_HEAD, RING_W_TAIL
from ..layout.segment import (
    SEGMENT_KIND_CONTROL,
    SEGMENT_KIND_QUOTES,
    SEGMENT_KIND_SHARED,
    SEGMENT_KIND_STATE,
)
from ..shm.handoff import recv_fds
from .topology import SHARD_FDS, TopologyNames, shard_fd_count

if TYPE_CHECKING:
    from ..engine.record_door import Answer, RecordDoor

__all__ = ["ANSWER_ROWS_MAX", "WorkerSpec", "answer_scratch_rows", "worker_main"]

#: Most result records one request can need on the object path: up to 255 rejects (the
#: ``count`` byte) and 255 ``STATUS_TEXT`` chunks (``texts.encode_texts``).
ANSWER_ROWS_MAX = 2 * 255


def answer_scratch_rows(batch: int, n_policies: int) -> int:
    """Result records in each shard's answer scratch: the answers of a kernel batch
    (``batch`` requests, ``n_policies + 2`` records each at most, bounded by the result
    ring's room), and always room for one object-path answer of any size."""
    return batch + max(n_policies + 2, ANSWER_ROWS_MAX)


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

    def __init__(self, spec: WorkerSpec, fds: list[int]) -> None:
        """``fds``: the shard's unnamed segments, in ``topology.SHARD_FDS`` order (taken over)."""
        from ..kernels.agent import rings_table
        from ..shm.ring import Ring
        from ..shm.segment import Segment

        names, k = spec.names, spec.shard
        control_fd, shared_fd, state_fd, request_fd, result_fd = fds[: len(SHARD_FDS)]
        self.spec = spec
        self.control = Segment.attach(control_fd, kind=SEGMENT_KIND_CONTROL)
        self.ctl = self.control.words
        self.base = shard_word(k, 0)
        self.ctl[self.base + CTL_S_PID] = os.getpid()
        self.ctl[self.base + CTL_S_STATE] = WORKER_STARTING
        self.shared_seg = Segment.attach(shared_fd, kind=SEGMENT_KIND_SHARED)
        self.state_seg = Segment.attach(
            state_fd, kind=SEGMENT_KIND_STATE, shard_id=k, shard_count=names.n_shards
        )
        # Slot 0 (the engine's own client) by descriptor, external slots by name.
        self.requests = [
            Ring.attach(names.request[s][k] if s else request_fd, dtype=ORDER_DTYPE, shard_id=k)
            for s in range(names.n_slots)
        ]
        self.results = [
            Ring.attach(names.result[s][k] if s else result_fd, dtype=RESULT_DTYPE, shard_id=k)
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
        # The engine's quote table: the host writes it, the kernels here only read it.
        from .topology import quote_words

        source = names.quotes or fds[len(SHARD_FDS)]
        self.quotes_seg = Segment.attach(source, kind=SEGMENT_KIND_QUOTES)
        self.quotes = quote_words(self.quotes_seg, names.quote_slots)
        self.book.set_quote_table(self.quotes)
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
        from .topology import answer_scratch

        #: Where answers are decided before they are published (it outlives this process).
        self.scratch = answer_scratch(self.control, k)
        #: The object path's record door (custom policies), made on first use and kept
        #: across control requests: it holds the open reservations.
        self.door: Any = None

    def set_state(self, state: int) -> None:
        from ..kernels.atomics import store_word_release

        store_word_release(self.ctl, self.base + CTL_S_STATE, np.int64(state))

    def close(self) -> None:
        for ring in self.requests + self.results:
            ring.close()
        for seg in (self.quotes_seg, self.state_seg, self.shared_seg, self.control):
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
            shard.waiters, shard.scratch, shard.quotes,
        )  # fmt: skip
        if why != AGENT_NEED_SPACE:
            return why
        book.grow()  # the arena is full: grow it in place (same segment, ftruncate)


def _serve_objects(shard: _Shard) -> int:
    """The custom-policy duty cycle: records through the object pipeline, idling in Numba."""
    from ..engine.record_door import RecordDoor
    from ..kernels.agent import AGENT_STOP, agent_wait

    # Reservations live in this process: the incarnation in their handles tells a
    # restarted worker's handles from its predecessor's (which died with it). One door
    # per incarnation: this loop returns for every control request, and a new door
    # would forget every open reservation and reuse its handles.
    door = shard.door
    if door is None:
        generation = int(shard.ctl[shard.base + CTL_S_GENERATION])
        door = shard.door = RecordDoor(shard.engine, generation=generation)
    cap = shard.spec.names.capacity
    while True:
        why = agent_wait(shard.ctl, shard.base, shard.rings, cap, shard.idle, shard.waiters)
        if why != 0:
            return why
        for slot in range(len(shard.requests)):
            if shard.rings[slot, 0] and not _answer_objects(shard, door, slot):
                return AGENT_STOP


def _answer_objects(shard: _Shard, door: RecordDoor, slot: int) -> bool:
    """Answer up to ``batch`` requests of one client slot on the object path.

    Answers are written to the answer scratch under the journal, then
    published; the requests are released only once their answers are on the
    result ring, so a worker that dies here strands nothing (the supervisor
    finishes the journal). False when a stop was requested while waiting for
    the client to read its results.
    """
    from ..kernels.agent import admit
    from ..kernels.journal import journal_close, journal_mark, journal_open

    req, res = shard.requests[slot], shard.results[slot]
    ctl, base = shard.ctl, shard.base
    avail = int(admit(shard.rings, slot, req.capacity, ctl, base, shard.spec.shard))
    if avail <= 0:  # nothing to do, or a producer cursor no real push can make (refused)
        return True
    stats = base + CTL_S_STATS
    mask = req.capacity - 1
    scratch = shard.scratch
    wants_texts = slot in shard.spec.text_slots
    first = int(req.ctrl[RING_W_TAIL])
    journal_open(ctl, base, slot, first, int(res.ctrl[RING_W_HEAD]))
    written = decided = 0
    n = min(avail, shard.spec.batch)
    for _ in range(n):
        if scratch.shape[0] - written < ANSWER_ROWS_MAX:  # publish what is decided so far
            if not _publish(shard, slot, written, first + decided):
                return False
            first += decided
            journal_open(ctl, base, slot, first, int(res.ctrl[RING_W_HEAD]))
            written = decided = 0
        record = req.records[(first + decided) & mask].copy()
        journal_mark(ctl, base, written, decided, 1)
        answer = door.answer(record, slot)
        written = _write_answer(answer, int(record["seq"]), wants_texts, scratch, written)
        decided += 1
        journal_mark(ctl, base, written, decided, 0)
    if not _publish(shard, slot, written, first + decided):
        return False
    journal_close(ctl, base)
    ctl[stats + STAT_BATCHES] += 1
    ctl[stats + STAT_RECORDS] += n
    return True


def _write_answer(answer: Answer, seq: int, wants_texts: bool, scratch: np.ndarray, at: int
                  ) -> int:  # fmt: skip
    """Write one request's result records (and its texts) to ``scratch[at:]``; the new end."""
    from .texts import encode_texts

    rows = answer.rows
    payload: tuple | None = None
    if wants_texts and answer.error is not None:
        payload = ("error", answer.error)
    elif wants_texts and any(t is not None for t in answer.texts):
        payload = ("texts", answer.texts)
        if answer.reserved is not None:  # a drop copy's block texts and its lock
            payload = (*payload, *answer.reserved)
    elif wants_texts and answer.reserved is not None:
        payload = ("reserved", *answer.reserved)
    if payload is not None:
        last = list(rows[-1])
        last[6] |= RESULT_TEXTS
        rows = [*rows[:-1], tuple(last)]
    results = scratch.view(RESULT_DTYPE).reshape(-1)
    for row in rows:
        results[at] = row
        at += 1
    if payload is not None:
        chunks = encode_texts(seq, payload)
        scratch[at : at + chunks.shape[0]] = chunks
        at += chunks.shape[0]
    return at


def _publish(shard: _Shard, slot: int, count: int, release_to: int) -> bool:
    """Push ``scratch[:count]`` to the slot's result ring (waiting for the client to make
    room), then release its requests up to cursor ``release_to``. False if a stop was
    requested while waiting."""
    from ..kernels.counters import count_answers
    from ..kernels.ring import ring_push_batch, ring_release, ring_wait_writable

    req, res = shard.requests[slot], shard.results[slot]
    # Counted before they are published: a client that sees its answers sees them counted.
    count_answers(shard.ctl, shard.base, shard.scratch, count)
    pushed = 0
    while pushed < count:
        pushed += ring_push_batch(res.ctrl, res.slots, shard.scratch, pushed, count - pushed)
        if pushed < count:
            ring_wait_writable(res.ctrl, res.slots, 1, shard.idle, _ROOM_WAIT_NS)
            if int(shard.ctl[shard.base + CTL_S_STATE]) == WORKER_STOPPING:
                return False
    ring_release(req.ctrl, release_to)
    return True


_ROOM_WAIT_NS = 10_000_000  # re-check for a stop request this often while the client lags


def _control(shard: _Shard, conn: Connection) -> bool:
    """Apply every queued control request; False once a stop was requested."""
    from ..kernels.atomics import load_word_acquire
    from .control import apply_control

    seq = int(load_word_acquire(shard.ctl, shard.base + CTL_S_CONTROL_SEQ))
    running = True
    while conn.poll():
        number, op, args = conn.recv()
        try:
            value = apply_control(shard, op, args)
            conn.send((number, True, value))
        except Exception as exc:  # reported to the caller, who raises it
            conn.send((number, False, exc))
        shard.ctl[shard.base + CTL_S_STATS + STAT_CONTROL] += 1
        if op == "stop":
            running = False
    shard.ctl[shard.base + CTL_S_CONTROL_ACK] = seq
    return running


#: How often the host watch re-checks the parent pid (the pipe wakes it at once anyway).
_HOST_POLL_S = 0.25


def _die_with_host() -> None:
    """Exit as soon as the host process (the engine's supervisor) is gone.

    Not ``PR_SET_PDEATHSIG``: Linux sends that signal when the *thread* that
    spawned the worker exits, so an engine built in a short-lived thread would
    lose every worker with that thread. Instead a daemon thread waits on
    multiprocessing's parent sentinel, a pipe whose write end the host keeps
    open as long as it holds the worker's ``Process`` object (the engine's
    lifetime) and the kernel closes when the host dies; as a backstop it
    checks the worker has not been re-parented (a host that forked keeps the
    pipe open in its child). The thread needs the GIL only when it wakes up:
    the kernels' duty cycle releases it.
    """
    import multiprocessing
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    assert parent is not None, "a shard worker is spawned by its host"
    host, sentinel = parent.pid, parent.sentinel

    def watch() -> None:
        while not wait([sentinel], timeout=_HOST_POLL_S) and os.getppid() == host:
            pass
        os._exit(1)  # the host is gone: nobody to serve, and its segments are the sweep's

    threading.Thread(target=watch, name="openpit_shm-host-watch", daemon=True).start()


def worker_main(conn: Connection) -> None:
    """Process entry point (``multiprocessing`` spawn target); its ``WorkerSpec`` comes on ``conn``.

    The spec (all the builtins' barriers: megabytes for a million accounts)
    is not a spawn argument: CPython writes those into a pipe the parent
    itself keeps open for reading, so a child that dies while starting (a
    script without its ``__main__`` guard) would leave the parent blocked in
    that write forever. Sent on ``conn``, a dead child's pipe breaks instead.
    """
    from ..kernels.agent import AGENT_STOP

    _die_with_host()
    shard = None
    try:
        spec: WorkerSpec = conn.recv()
        shard = _Shard(spec, recv_fds(conn, shard_fd_count(spec.names)))
        _compile_serving(shard)
        shard.set_state(WORKER_READY)
        # The supervisor answers the last requests itself meanwhile, and first sends the
        # control requests (configuration, instruments) this shard missed while it was down.
        while int(shard.ctl[shard.base + CTL_S_OWNER]) != OWNER_WORKER:
            if int(shard.ctl[shard.base + CTL_S_STATE]) == WORKER_STOPPING:
                return
            if conn.poll(0.0005) and not _control(shard, conn):
                return
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
