"""The client side of a sharded engine in Numba: batch pumping, one-order exchange, notify.

Every message a client slot sends to a shard carries its own sequence number
(``seq``), unique and increasing on that ring pair (the caller keeps the
counter; see ``sharded.link``), never the caller's own ``seq``. A result
record answers a request only if it carries that request's number: an
answer for a request the client gave up on (a timeout) arrives late with an
older number, and is never taken for the answer of a newer request.

``pump_batch`` sends a NumPy batch to every shard and collects one answer per
record, keeping every ring busy at once: per shard it pushes what fits, then
drains what arrived, until every record is answered, a shard makes no
progress for the timeout, or the client is closing. Shard ``k``'s records
are numbered ``seqs[k] + j`` in the order they are sent, so answer ``seq``
lands in place (``out[order[starts[k] + seq - seqs[k]]]``) whatever order
the shards answer in. Only a request's first result record is kept
(``count`` says how many rejects it got); ``STATUS_TEXT`` records are skipped
(batch callers read numbers).

``exchange`` is one synchronous request: push, wait, copy its answer out. It
reads everything from the link's descriptor (``layout.link``): Python writes the
request record there with one ``ORDER_STRUCT.pack_into`` and passes one address.

Both hand *stale* answers (anything not answering the current call) that
need the client's attention to the caller (``needs_settling``): an accepted
reservation nobody will finalize (the request was abandoned) and a
finalization a dead shard did not apply. Other stale answers are dropped.

``notify`` is the client's half of the control handshake: publish the new
``control_seq``, fence, and wake the worker only if it parks.
"""

from __future__ import annotations

import numpy as np
from numba import carray

from openpit_shm.layout.link import (
    LINK_W_CANCEL,
    LINK_W_CAPACITY,
    LINK_W_IDLE,
    LINK_W_OUT,
    LINK_W_OUT_ROWS,
    LINK_W_RECORD,
    LINK_W_TIMEOUT_NS,
    RINGS_W_REQ_CTRL,
    RINGS_W_REQ_SLOTS,
    RINGS_W_RES_CTRL,
    RINGS_W_RES_SLOTS,
)
from openpit_shm.layout.records import (
    ORDER_W_SEQ,
    POLICY_ENGINE,
    RESULT_TEXTS,
    RESULT_W_HEAD,
    RESULT_W_RESERVATION,
    STATUS_OK,
    STATUS_TEXT,
)
from openpit_shm.layout.ring import RING_CTRL_WORDS
from openpit_shm.layout.shard import record_shard_nb

from .atomics import (
    cpu_relax,
    fence_seqcst,
    load_relaxed,
    store_relaxed,
    store_release,
)
from .codes import RSN_OUTCOME_UNKNOWN, RSN_SHARD_DOWN
from .futex import futex_wake, monotonic_ns, sched_yield
from .jit import njit
from .ptr import addr_ptr
from .results import head_index, head_policy, head_reason, head_status
from .ring import (
    ring_head,
    ring_publish,
    ring_readable,
    ring_release,
    ring_tail,
    ring_wait_readable,
    ring_writable,
)

__all__ = [
    "EXCHANGE_CLOSED",
    "EXCHANGE_PUSH",
    "EXCHANGE_PUSH_WAIT",
    "EXCHANGE_RING_FULL",
    "EXCHANGE_STALE_FULL",
    "EXCHANGE_STALLED",
    "EXCHANGE_WAIT",
    "PUMP_CLOSED",
    "PUMP_DONE",
    "PUMP_STALE_FULL",
    "PUMP_STALLED",
    "UNANSWERED",
    "exchange",
    "group_by_shard",
    "needs_settling",
    "notify",
    "pump_batch",
]

#: ``out[i, 2]`` (the head word) before record ``i`` is answered; the caller fills it.
_UNANSWERED = -1
UNANSWERED = _UNANSWERED
_SPINS = 2000  # ~50 us of polling before yielding the CPU to the workers
_WAIT_SLICE_NS = 5_000_000  # re-check the stall bound and the close flag this often

# ``pump_batch`` outcomes.
PUMP_DONE = 0  #: every record answered
PUMP_STALE_FULL = 1  #: ``stale`` is full: settle its rows, reset ``counters[1]``, call again
PUMP_STALLED = 2  #: a shard with records outstanding made no progress for the timeout
PUMP_CLOSED = 3  #: the client is closing (``cancel[0] != 0``)

# ``exchange`` modes.
EXCHANGE_WAIT = 0  #: only wait for the answer (after ``EXCHANGE_STALE_FULL``)
EXCHANGE_PUSH_WAIT = 1  #: push the descriptor's record, then wait for its answer
EXCHANGE_PUSH = 2  #: push the descriptor's record and return (its answer is read later)

# ``exchange`` outcomes (>= 1: the answer is complete, that many records copied).
EXCHANGE_RING_FULL = -1  #: the request ring stayed full (the request was not sent)
EXCHANGE_STALLED = -2  #: no progress for the timeout (the request is abandoned)
EXCHANGE_CLOSED = -4  #: the client is closing (the request, if sent, is abandoned)
#: ``out`` filled up with stale records to settle before the answer came: the return value
#: is ``EXCHANGE_STALE_FULL - copied``; settle them and call again with ``EXCHANGE_WAIT``.
EXCHANGE_STALE_FULL = -16
#: ``out`` rows an exchange keeps free for the answer itself: 255 records and 255 text chunks.
_ANSWER_ROOM = 512


@njit(cache=True, inline="always")
def needs_settling(slots, s):  # type: ignore[no-untyped-def]
    """Whether stale result record ``slots[s]`` needs the client: the first record of an
    accepted request carrying a reservation (nobody will finalize it), or of a request a
    dead shard did not apply or may have half applied (a finalization to send again)."""
    head = slots[s, RESULT_W_HEAD]
    status = head_status(head)
    if status == STATUS_TEXT or head_index(head) != 0:
        return False
    if status == STATUS_OK:
        return slots[s, RESULT_W_RESERVATION] != 0
    return head_policy(head) == POLICY_ENGINE and head_reason(head) in (
        RSN_SHARD_DOWN,
        RSN_OUTCOME_UNKNOWN,
    )


@njit(cache=True)
def notify(ctl, seq_index, sleeping_index, seq):  # type: ignore[no-untyped-def]
    """Publish ``control_seq = seq``; wake the worker if (and only if) it parks."""
    store_release(ctl, seq_index, seq)
    fence_seqcst()
    if load_relaxed(ctl, sleeping_index) != 0:
        store_relaxed(ctl, sleeping_index, 0)
        futex_wake(ctl, sleeping_index, 1)
        return 1
    return 0


@njit(cache=True, nogil=True)
def pump_batch(  # type: ignore[no-untyped-def]
    rings, cap, records, order, starts, seqs, sent, out, stale, stale_shard, counters, cancel,
    timeout_ns,
):  # fmt: skip
    """Send ``records`` (``int64[n, 8]``) to their shards; write each first answer to ``out``.

    ``rings``: a rings table (``layout.link``), one row per shard: this client
    slot's ring pairs; ``order``: record indexes grouped by shard, shard ``k``
    owning ``order[starts[k]:starts[k + 1]]``; ``seqs[k]``: the sequence number
    of shard ``k``'s first record; ``sent[k]``: how many of them were sent
    (0 at first); ``out``: ``int64[n, 8]`` with every head word (column 2) set
    to -1 (unanswered). ``stale`` (``int64[m, 8]``) and ``stale_shard``
    (``int64[m]``): stale records that need settling and the shard each came
    from; ``counters``: ``[answered, stale rows, stale dropped]``.
    ``cancel[0] != 0`` means the client is closing.

    ``timeout_ns`` bounds the time without progress (a record sent or an
    answer read), not the whole batch. Returns a ``PUMP_*`` outcome; the call
    can be repeated after ``PUMP_STALE_FULL`` (``sent`` and ``counters`` carry
    the state).
    """
    n_shards = rings.shape[0]
    total = records.shape[0]
    mask = cap - 1
    deadline = monotonic_ns() + timeout_ns
    polls = 0
    while counters[0] < total:
        if load_relaxed(cancel, 0) != 0:
            return PUMP_CLOSED
        progressed = False
        for k in range(n_shards):
            req_ctrl = carray(addr_ptr(rings[k, RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
            req_slots = carray(addr_ptr(rings[k, RINGS_W_REQ_SLOTS]), (cap, 8))
            first = starts[k]
            left = starts[k + 1] - first - sent[k]
            if left > 0:
                free = ring_writable(req_ctrl, req_slots, left)
                m = left if left < free else free
                if m > 0:
                    head = ring_head(req_ctrl)
                    for j in range(m):
                        i = order[first + sent[k] + j]
                        slot = (head + j) & mask
                        req_slots[slot, 0] = seqs[k] + sent[k] + j
                        for w in range(1, 8):
                            req_slots[slot, w] = records[i, w]
                    ring_publish(req_ctrl, head + m)
                    sent[k] += m
                    progressed = True
            res_ctrl = carray(addr_ptr(rings[k, RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
            res_slots = carray(addr_ptr(rings[k, RINGS_W_RES_SLOTS]), (cap, 8))
            avail = ring_readable(res_ctrl, res_slots, 1)
            if avail <= 0:
                continue
            progressed = True
            tail = ring_tail(res_ctrl)
            for j in range(avail):
                s = (tail + j) & mask
                nth = res_slots[s, 0] - seqs[k]  # which of shard k's records it answers
                if 0 <= nth < sent[k]:
                    head_word = res_slots[s, 2]
                    if head_status(head_word) == STATUS_TEXT or head_index(head_word) != 0:
                        continue
                    i = order[first + nth]
                    if out[i, 2] == _UNANSWERED:
                        for w in range(8):
                            out[i, w] = res_slots[s, w]
                        counters[0] += 1
                elif needs_settling(res_slots, s):
                    if counters[1] >= stale.shape[0]:
                        ring_release(res_ctrl, tail + j)
                        return PUMP_STALE_FULL
                    for w in range(8):
                        stale[counters[1], w] = res_slots[s, w]
                    stale_shard[counters[1]] = k
                    counters[1] += 1
                else:
                    counters[2] += 1
            ring_release(res_ctrl, tail + avail)
        if progressed:
            polls = 0
            deadline = monotonic_ns() + timeout_ns
            continue
        polls += 1
        if polls < _SPINS:
            cpu_relax()
        else:
            sched_yield()
            if monotonic_ns() > deadline:
                return PUMP_STALLED
    return PUMP_DONE


@njit(cache=True)
def group_by_shard(records, n_shards, order, starts):  # type: ignore[no-untyped-def]
    """Counting sort of record indexes by shard (``layout.shard.record_shard_nb``).

    Fills ``order`` (``int64[n]``) so that shard ``k`` owns
    ``order[starts[k]:starts[k + 1]]`` (``starts``: ``int64[n_shards + 1]``),
    keeping each shard's records in batch order.
    """
    n = records.shape[0]
    counts = np.zeros(n_shards + 1, dtype=np.int64)
    shards = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = record_shard_nb(records[i, 1], (records[i, 2] >> 32) & 0xFF, records[i, 7], n_shards)
        shards[i] = k
        counts[k + 1] += 1
    for k in range(n_shards):
        counts[k + 1] += counts[k]
    for k in range(n_shards + 1):
        starts[k] = counts[k]
    for i in range(n):
        k = shards[i]
        order[counts[k]] = i
        counts[k] += 1


@njit(cache=True, nogil=True)
def exchange(link_addr, mode):  # type: ignore[no-untyped-def]
    """One synchronous request: push the link's record, wait, copy its answer out; one call.

    ``link_addr``: the address of a link descriptor (``layout.link``): the ring
    pair, the ``out`` array (``int64[rows, 8]``, ``rows > 512``), the idle
    strategy, the close flag, the timeout, and the request record (its ``seq``
    unique on this ring pair). ``mode``:

    * ``EXCHANGE_PUSH_WAIT``: push the record, then wait for its answer;
    * ``EXCHANGE_WAIT``: only wait (a call after ``EXCHANGE_STALE_FULL``);
    * ``EXCHANGE_PUSH``: only push (a finalization whose answer is read later, as a
      stale record); returns 0 once it is on the ring.

    Result records are copied to ``out`` in ring order, up to and including the
    last record answering the record's ``seq`` (``index + 1 == count``, or
    ``count == 0``) and the ``STATUS_TEXT`` records that follow it when it is
    flagged ``RESULT_TEXTS``. Stale records that arrive first are copied too
    when they need settling (``needs_settling``), else dropped. Python pays one
    call per order instead of a push, a wait and a release.

    The timeout bounds the time without progress. Returns the number of
    records copied (>= 1), 0 after ``EXCHANGE_PUSH``, or an ``EXCHANGE_*`` outcome.
    """
    link = addr_ptr(link_addr)
    cap = link[LINK_W_CAPACITY]
    req_ctrl = carray(addr_ptr(link[RINGS_W_REQ_CTRL]), (RING_CTRL_WORDS,))
    req_slots = carray(addr_ptr(link[RINGS_W_REQ_SLOTS]), (cap, 8))
    res_ctrl = carray(addr_ptr(link[RINGS_W_RES_CTRL]), (RING_CTRL_WORDS,))
    res_slots = carray(addr_ptr(link[RINGS_W_RES_SLOTS]), (cap, 8))
    out_cap = link[LINK_W_OUT_ROWS]
    out = carray(addr_ptr(link[LINK_W_OUT]), (out_cap, 8))
    idle = carray(addr_ptr(link[LINK_W_IDLE]), (4,))
    cancel = carray(addr_ptr(link[LINK_W_CANCEL]), (1,))
    timeout_ns = link[LINK_W_TIMEOUT_NS]
    seq = link[LINK_W_RECORD + ORDER_W_SEQ]
    deadline = monotonic_ns() + timeout_ns
    if mode != EXCHANGE_WAIT:
        polls = 0
        while ring_writable(req_ctrl, req_slots, 1) < 1:
            polls += 1
            if polls % 64 == 0 and (monotonic_ns() > deadline or load_relaxed(cancel, 0) != 0):
                return EXCHANGE_RING_FULL if load_relaxed(cancel, 0) == 0 else EXCHANGE_CLOSED
            sched_yield()
        head = ring_head(req_ctrl)
        slot = head & (cap - 1)
        for w in range(8):
            req_slots[slot, w] = link[LINK_W_RECORD + w]
        ring_publish(req_ctrl, head + 1)
        if mode == EXCHANGE_PUSH:
            return 0
        deadline = monotonic_ns() + timeout_ns
    n = 0
    texts = False  # reading the text records that follow the answer
    texts_left = 0
    while True:
        avail = ring_wait_readable(res_ctrl, res_slots, 1, idle, _WAIT_SLICE_NS)
        if avail <= 0:
            if load_relaxed(cancel, 0) != 0:
                return EXCHANGE_CLOSED
            if monotonic_ns() > deadline:
                return EXCHANGE_STALLED
            continue
        deadline = monotonic_ns() + timeout_ns
        tail = ring_tail(res_ctrl)
        for j in range(avail):
            s = (tail + j) & (cap - 1)
            head_word = res_slots[s, 2]
            count = (head_word >> 48) & 0xFF
            if texts:
                for w in range(8):
                    out[n, w] = res_slots[s, w]
                n += 1
                if texts_left == 0:
                    texts_left = count
                texts_left -= 1
                if texts_left == 0:
                    ring_release(res_ctrl, tail + j + 1)
                    return n
                continue
            if res_slots[s, 0] != seq:  # stale: an earlier request's answer, or its texts
                if needs_settling(res_slots, s):
                    if n >= out_cap - _ANSWER_ROOM:
                        ring_release(res_ctrl, tail + j)
                        return EXCHANGE_STALE_FULL - n
                    for w in range(8):
                        out[n, w] = res_slots[s, w]
                    n += 1
                continue
            if head_status(head_word) == STATUS_TEXT:
                continue  # (seqs are unique: no other answer carries ours)
            for w in range(8):
                out[n, w] = res_slots[s, w]
            n += 1
            if count <= 1 or head_index(head_word) + 1 >= count:
                if (head_word >> 40) & RESULT_TEXTS:
                    texts = True
                    continue
                ring_release(res_ctrl, tail + j + 1)
                return n
        ring_release(res_ctrl, tail + avail)
