"""A shard worker's duty cycle, entirely in Numba: drain rings, decide, answer, idle.

``agent_run`` loops until something needs Python:

1. for every attached client slot: take up to ``batch`` request records that
   sit contiguously in its request ring, run them through
   ``pipeline.process`` straight from the ring slots into the shard's answer
   scratch, publish the answers and release the requests once per batch,
   under the answer journal (``kernels.journal``); a producer cursor no real
   push can make is refused (``admit``), never served;
2. note the heartbeat and the stats in the control block;
3. when no slot had work: the idle strategy (``kernels.ring`` idle arrays):
   spin with ``pause``, then ``sched_yield``, then park on *every* inbound
   ring's futex word, the result rings it waits for room in, and the control
   word at once (``futex_waitv``), after the Dekker handshake (set each
   sleeping flag, fence, re-check), so a client only pays a ``FUTEX_WAKE``
   when the worker really sleeps.

It returns an ``AGENT_*`` code: control traffic is pending (``control_seq``
moved), the arena must grow (``ST_NEED_SPACE``), or the shard is stopping.

``rings`` is a rings table (``layout.link``), one row per client slot:
``active`` 0 (no ring), ``SLOT_SERVED`` or ``SLOT_REFUSED``, then the addresses
of the slot's two ring segments; the caller keeps the segments mapped for the
whole call.
"""

from __future__ import annotations

import numpy as np
from numba import carray

from openpit_shm.layout.control import (
    ANS_DEPTH,
    CTL_S_ANSWERS,
    CTL_S_CONTROL_ACK,
    CTL_S_CONTROL_SEQ,
    CTL_S_HEARTBEAT,
    CTL_S_JOURNAL,
    CTL_S_SLEEPING,
    CTL_S_STATE,
    CTL_S_STATS,
    JOURNAL_PROGRESS,
    STAT_BATCHES,
    STAT_DEPTH_MAX,
    STAT_MAX_BATCH,
    STAT_PARKS,
    STAT_RECORDS,
    STAT_WAKEUPS,
    WORKER_STOPPING,
)
from openpit_shm.layout.link import (
    RINGS_COLUMNS,
    RINGS_W_ACTIVE,
    RINGS_W_REQ_CTRL,
    RINGS_W_REQ_SLOTS,
    RINGS_W_RES_CTRL,
    RINGS_W_RES_SLOTS,
)
from openpit_shm.layout.records import CODE_OTHER, POLICY_ENGINE, STATUS_ERROR
from openpit_shm.layout.ring import (
    RING_CTRL_WORDS,
    RING_W_CONSUMER_SLEEPING,
    RING_W_HEAD,
    RING_W_HEAD_CACHE,
    RING_W_PRODUCER_SLEEPING,
)
from openpit_shm.layout.state import H_SHARD_ID

from .atomics import (
    cpu_relax,
    fence_seqcst,
    load_acquire,
    load_relaxed,
    store_relaxed,
    store_release,
)
from .codes import RSN_BAD_CURSOR, ST_NEED_SPACE
from .counters import count_answers, count_error
from .futex import futex_waiter, futex_waitv, monotonic_ns, sched_yield
from .jit import njit
from .journal import journal_close, journal_open
from .pipeline import process
from .ptr import addr_ptr
from .results import pack_head
from .ring import (
    IDLE_BUSY_SPIN,
    IDLE_KIND,
    IDLE_PARK_NS,
    IDLE_SPINS,
    IDLE_YIELDS,
    ring_head,
    ring_publish,
    ring_push_batch,
    ring_readable,
    ring_release,
    ring_tail,
    ring_writable,
)

__all__ = [
    "AGENT_CONTROL",
    "AGENT_NEED_SPACE",
    "AGENT_STOP",
    "SLOT_REFUSED",
    "SLOT_SERVED",
    "admit",
    "agent_run",
    "agent_wait",
    "refuse_cursor",
    "rings_table",
]

AGENT_CONTROL = 1  #: control requests are waiting (``control_seq != control_ack``)
AGENT_NEED_SPACE = 2  #: the state arena must grow before the next record
AGENT_STOP = 3  #: the shard's state says STOPPING

SLOT_SERVED = 1  #: ``rings[slot, 0]``: the slot's requests are served
SLOT_REFUSED = 2  #: its producer's cursor is impossible: nothing is served until it is not



@njit(cache=True)
def _must_return(ctl, base):  # type: ignore[no-untyped-def]
    if load_relaxed(ctl, base + CTL_S_STATE) == WORKER_STOPPING:
        return AGENT_STOP
    if load_acquire(ctl, base + CTL_S_CONTROL_SEQ) != load_relaxed(ctl, base + CTL_S_CONTROL_ACK):
        return AGENT_CONTROL
    return 0


@njit(cache=True)
def _serve(state, shared, rings, slot, cap, batch, room, now, ctl, base, scratch, quotes):  # type: ignore[no-untyped-def]
    """One batch of one client slot: returns (records handled, status).

    Requests are decided in place in their ring slots (up to the wrap; the rest
    next cycle). Results go to ``scratch`` first (the shard's answer scratch in
    the control segment), bounded by the free room of the result ring, then
    into the ring in one wrap-aware copy and publish: a request's records
    never straddle the wrap and never overflow the ring. The answer journal
    (``kernels.journal``) follows every record, so if this process dies
    mid-batch its supervisor answers each request honestly.
    """
    avail = admit(rings, slot, cap, ctl, base, state[H_SHARD_ID])
    if avail <= 0:
        return 0, 0
    req_ctrl = carray(addr_ptr(rings[slot, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
    req_slots = carray(addr_ptr(rings[slot, RINGS_W_REQ_SLOTS]), (cap, 8))
    res_ctrl = carray(addr_ptr(rings[slot, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
    res_slots = carray(addr_ptr(rings[slot, RINGS_W_RES_SLOTS]), (cap, 8))
    # Ask for just enough room: the cached view of the client's cursor usually says
    # so without touching its cache line; a bigger batch then takes a second pass.
    free = ring_writable(res_ctrl, res_slots, room)
    if free < room:
        return 0, 0  # the client is not draining its results: backpressure, try later
    tail = ring_tail(req_ctrl)
    start = tail & (cap - 1)
    n = avail if avail < batch else batch
    if n > cap - start:
        n = cap - start
    limit = free if free < scratch.shape[0] else scratch.shape[0]
    journal_open(ctl, base, slot, tail, ring_head(res_ctrl))
    done, written, status = process(
        state, shared, req_slots[start : start + n], scratch[:limit], now, False, slot,
        ctl, base + CTL_S_JOURNAL + JOURNAL_PROGRESS, quotes,
    )  # fmt: skip
    # Counted before they are published: a client that sees its answers sees them counted.
    count_answers(ctl, base, scratch, written)
    ctl[base + CTL_S_ANSWERS + ANS_DEPTH] = avail
    if written > 0:
        ring_push_batch(res_ctrl, res_slots, scratch, 0, written)
    if done > 0:
        ring_release(req_ctrl, tail + done)
    journal_close(ctl, base)
    s = base + CTL_S_STATS
    ctl[s + STAT_BATCHES] += 1
    ctl[s + STAT_RECORDS] += done
    if done > ctl[s + STAT_MAX_BATCH]:
        ctl[s + STAT_MAX_BATCH] = done
    if avail > ctl[s + STAT_DEPTH_MAX]:
        ctl[s + STAT_DEPTH_MAX] = avail
    return done, status


@njit(cache=True)
def _queued(req_ctrl, req_slots):  # type: ignore[no-untyped-def]
    """``head - tail`` of a request ring, re-reading ``head`` when the cached one is impossible
    (so a producer that put its cursor back in step is seen)."""
    avail = ring_readable(req_ctrl, req_slots, 1)
    if avail < 0 or avail > req_slots.shape[0]:
        head = load_acquire(req_ctrl, RING_W_HEAD)
        req_ctrl[RING_W_HEAD_CACHE] = head
        avail = head - ring_tail(req_ctrl)
    return avail


@njit(cache=True)
def admit(rings, slot, cap, ctl, base, shard):  # type: ignore[no-untyped-def]
    """How many requests slot ``slot`` has to serve (0: none), or -1 while its producer's
    cursor is impossible (``head - tail`` outside ``[0, cap]``: slots nobody wrote).

    The first time, the producer is answered (``refuse_cursor``) and the slot is marked
    refused; it is served again once its cursor is back in step.
    """
    req_ctrl = carray(addr_ptr(rings[slot, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
    req_slots = carray(addr_ptr(rings[slot, RINGS_W_REQ_SLOTS]), (cap, 8))
    avail = _queued(req_ctrl, req_slots)
    if 0 <= avail <= cap:
        rings[slot, RINGS_W_ACTIVE] = SLOT_SERVED
        return avail
    if rings[slot, RINGS_W_ACTIVE] == SLOT_SERVED:
        res_ctrl = carray(addr_ptr(rings[slot, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
        res_slots = carray(addr_ptr(rings[slot, RINGS_W_RES_SLOTS]), (cap, 8))
        refuse_cursor(req_ctrl, res_ctrl, res_slots, shard)
        rings[slot, RINGS_W_ACTIVE] = SLOT_REFUSED
        count_error(ctl, base, RSN_BAD_CURSOR)
    return -1


@njit(cache=True)
def refuse_cursor(req_ctrl, res_ctrl, res_slots, shard):  # type: ignore[no-untyped-def]
    """Answer a producer whose request cursor is impossible (``head - tail`` outside
    ``[0, capacity]``): one ``STATUS_ERROR`` / ``RSN_BAD_CURSOR`` record (``seq`` -1, ``d0``
    head, ``d1`` tail, ``d2`` shard), if its result ring has room. The caller stops serving
    that ring. Returns 1 if the record was written."""
    if ring_writable(res_ctrl, res_slots, 1) < 1:
        return 0
    head = ring_head(res_ctrl)
    s = head & (res_slots.shape[0] - 1)
    res_slots[s, 0] = -1
    res_slots[s, 1] = 0
    res_slots[s, 2] = pack_head(CODE_OTHER, POLICY_ENGINE, RSN_BAD_CURSOR, STATUS_ERROR, 0, 1, 0)
    res_slots[s, 3] = load_acquire(req_ctrl, RING_W_HEAD)
    res_slots[s, 4] = ring_tail(req_ctrl)
    res_slots[s, 5] = shard
    res_slots[s, 6] = 0
    res_slots[s, 7] = 0
    ring_publish(res_ctrl, head + 1)
    return 1


@njit(cache=True)
def _readable(rings, slot, cap):  # type: ignore[no-untyped-def]
    """The slot has requests to serve, or an impossible cursor not yet refused."""
    req_ctrl = carray(addr_ptr(rings[slot, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
    req_slots = carray(addr_ptr(rings[slot, RINGS_W_REQ_SLOTS]), (cap, 8))
    avail = _queued(req_ctrl, req_slots)
    if rings[slot, RINGS_W_ACTIVE] == SLOT_REFUSED:
        return 0 < avail <= cap
    return avail != 0


@njit(cache=True)
def _has_room(rings, slot, cap, room):  # type: ignore[no-untyped-def]
    res_ctrl = carray(addr_ptr(rings[slot, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
    res_slots = carray(addr_ptr(rings[slot, RINGS_W_RES_SLOTS]), (cap, 8))
    return ring_writable(res_ctrl, res_slots, room) >= room


@njit(cache=True)
def _any_servable(rings, cap, room):  # type: ignore[no-untyped-def]
    """A slot has requests, and room for their results (``room`` 0: requests are enough)."""
    for slot in range(rings.shape[0]):
        if rings[slot, RINGS_W_ACTIVE] == 0:
            continue
        if _readable(rings, slot, cap) and (room == 0 or _has_room(rings, slot, cap, room)):
            return True
    return False


@njit(cache=True)
def _park(ctl, base, rings, cap, room, waiters, park_ns):  # type: ignore[no-untyped-def]
    """Sleep until a slot can be served or control traffic arrives; the Dekker handshake first.

    Wakers: a client publishing requests (each request ring's consumer flag), a
    client draining results that a slot is waiting for room in (that result
    ring's producer flag: requests there cannot be served until it reads), and
    the control word. A client that stops reading its results thus costs an
    idle worker nothing, instead of a spin over requests it cannot answer.
    """
    k = 0
    for slot in range(rings.shape[0]):
        if rings[slot, RINGS_W_ACTIVE] == 0:
            continue
        req_ctrl = carray(addr_ptr(rings[slot, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
        store_relaxed(req_ctrl, RING_W_CONSUMER_SLEEPING, 1)
        futex_waiter(waiters, k, req_ctrl, RING_W_CONSUMER_SLEEPING, 1)
        k += 1
        if room > 0 and _readable(rings, slot, cap):
            res_ctrl = carray(addr_ptr(rings[slot, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
            store_relaxed(res_ctrl, RING_W_PRODUCER_SLEEPING, 1)
            futex_waiter(waiters, k, res_ctrl, RING_W_PRODUCER_SLEEPING, 1)
            k += 1
    store_relaxed(ctl, base + CTL_S_SLEEPING, 1)
    futex_waiter(waiters, k, ctl, base + CTL_S_SLEEPING, 1)
    k += 1
    fence_seqcst()
    if not _any_servable(rings, cap, room) and _must_return(ctl, base) == 0:
        ctl[base + CTL_S_STATS + STAT_PARKS] += 1
        futex_waitv(waiters, k, monotonic_ns() + park_ns)
    store_relaxed(ctl, base + CTL_S_SLEEPING, 0)
    for slot in range(rings.shape[0]):
        if rings[slot, RINGS_W_ACTIVE] != 0:
            req_ctrl = carray(addr_ptr(rings[slot, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
            store_relaxed(req_ctrl, RING_W_CONSUMER_SLEEPING, 0)
            res_ctrl = carray(addr_ptr(rings[slot, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
            store_relaxed(res_ctrl, RING_W_PRODUCER_SLEEPING, 0)


@njit(cache=True)
def _idle(ctl, base, rings, cap, room, idle, waiters, polls):  # type: ignore[no-untyped-def]
    """One idle step after ``polls`` empty polls: spin, yield, or park; the new poll count."""
    polls += 1
    if idle[IDLE_KIND] == IDLE_BUSY_SPIN or polls <= idle[IDLE_SPINS]:
        cpu_relax()
        return polls
    if polls <= idle[IDLE_SPINS] + idle[IDLE_YIELDS]:
        sched_yield()
        return polls
    _park(ctl, base, rings, cap, room, waiters, idle[IDLE_PARK_NS])
    ctl[base + CTL_S_STATS + STAT_WAKEUPS] += 1
    return 0


@njit(cache=True, nogil=True)
def agent_run(ctl, base, state, shared, rings, cap, batch, room, idle, waiters, scratch, quotes):  # type: ignore[no-untyped-def]
    """Serve every slot until control traffic, arena growth or a stop needs Python.

    ``ctl``: the control segment's words; ``base``: this shard's block (word
    index); ``state``/``shared``: the Book's arrays; ``cap``: ring capacity;
    ``batch``: most records per ring per cycle; ``room``: result records one
    request may need (``n_policies + 2``); ``idle``: the idle strategy;
    ``waiters``: scratch ``int64[3 * (2 * n_slots + 1)]`` for ``futex_waitv``;
    ``scratch``: ``int64[batch + room, 8]`` for results on their way to a ring;
    ``quotes``: the engine's quote table (``kernels.market_data``), mapped read-mostly.
    """
    idle_polls = 0
    while True:
        why = _must_return(ctl, base)
        if why != 0:
            return why
        now = monotonic_ns()
        store_release(ctl, base + CTL_S_HEARTBEAT, now)
        worked = 0
        for slot in range(rings.shape[0]):
            if rings[slot, RINGS_W_ACTIVE] == 0:
                continue
            done, status = _serve(
                state, shared, rings, slot, cap, batch, room, now, ctl, base, scratch, quotes
            )
            worked += done
            if status == ST_NEED_SPACE:
                return AGENT_NEED_SPACE
        if worked > 0:
            idle_polls = 0
        else:
            idle_polls = _idle(ctl, base, rings, cap, room, idle, waiters, idle_polls)


def rings_table(n_slots: int) -> np.ndarray:
    """An empty ``rings`` table (every slot inactive)."""
    return np.zeros((n_slots, RINGS_COLUMNS), dtype=np.int64)


@njit(cache=True, nogil=True)
def agent_wait(ctl, base, rings, cap, idle, waiters):  # type: ignore[no-untyped-def]
    """Idle until a request is readable (returns 0), or control / stop needs Python.

    The same idle strategy as ``agent_run``, for workers that decide records in
    Python (engines with custom policies).
    """
    polls = 0
    while True:
        why = _must_return(ctl, base)
        if why != 0:
            return why
        store_release(ctl, base + CTL_S_HEARTBEAT, monotonic_ns())
        if _any_servable(rings, cap, 0):
            return 0
        polls = _idle(ctl, base, rings, cap, 0, idle, waiters, polls)
