"""The client side of a sharded engine in Numba: batch pumping and control notification.

``pump_batch`` sends a NumPy batch to every shard and collects one answer per
record, keeping every ring busy at once: per shard it pushes what fits, then
drains what arrived, until every record is answered or the deadline passes.
Each record travels with its position in the batch as ``seq``, so answers land
in place (``out[seq]``) whatever order shards answer in. Only a request's
first result record is kept (``count`` says how many rejects it got);
``STATUS_TEXT`` records are skipped (batch callers read numbers).

``notify`` is the client's half of the control handshake: publish the new
``control_seq``, fence, and wake the worker only if it parks.
"""

from __future__ import annotations

import numpy as np
from numba import carray

from openpit_shm.kernels.atomics import (
    cpu_relax,
    fence_seqcst,
    load_relaxed,
    store_relaxed,
    store_release,
)
from openpit_shm.kernels.futex import futex_wake, monotonic_ns, sched_yield
from openpit_shm.kernels.ptr import addr_ptr
from openpit_shm.kernels.ring import (
    ring_head,
    ring_publish,
    ring_readable,
    ring_release,
    ring_tail,
    ring_wait_readable,
    ring_writable,
)
from openpit_shm.layout.ring import RING_CTRL_WORDS
from openpit_shm.layout.shard import shard_of_nb

from .jit import njit

__all__ = ["UNANSWERED", "exchange", "group_by_shard", "notify", "pump_batch"]

_REQ_CTRL, _REQ_SLOTS, _RES_CTRL, _RES_SLOTS = 1, 2, 3, 4
_STATUS_TEXT = 3
_RESULT_TEXTS = 1 << 4
#: ``out[i, 2]`` (the head word) before record ``i`` is answered; the caller fills it.
_UNANSWERED = -1
UNANSWERED = _UNANSWERED
_SPINS = 2000  # ~50 us of polling before yielding the CPU to the workers


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
def pump_batch(rings, cap, records, order, starts, out, timeout_ns):  # type: ignore[no-untyped-def]
    """Send ``records`` (``int64[n, 8]``) to their shards; write each first answer to ``out``.

    ``rings``: ``int64[n_shards, 5]`` ring addresses of this client's slot (see
    ``kernels.agent``); ``order``: record indexes grouped by shard, shard ``k``
    owning ``order[starts[k]:starts[k + 1]]``; ``out``: ``int64[n, 8]`` with every
    head word (column 2) set to -1 (unanswered).
    Returns how many records were answered (``n`` unless the deadline passed).
    """
    n_shards = rings.shape[0]
    total = records.shape[0]
    mask = cap - 1
    sent = starts[:n_shards].copy()
    answered = 0
    deadline = monotonic_ns() + timeout_ns
    polls = 0
    while answered < total:
        progressed = False
        for k in range(n_shards):
            req_ctrl = carray(addr_ptr(rings[k, _REQ_CTRL]), (RING_CTRL_WORDS,))
            req_slots = carray(addr_ptr(rings[k, _REQ_SLOTS]), (cap, 8))
            left = starts[k + 1] - sent[k]
            if left > 0:
                free = ring_writable(req_ctrl, req_slots, left)
                m = left if left < free else free
                if m > 0:
                    head = ring_head(req_ctrl)
                    for j in range(m):
                        i = order[sent[k] + j]
                        slot = (head + j) & mask
                        req_slots[slot, 0] = i  # the position in the batch is the seq
                        for w in range(1, 8):
                            req_slots[slot, w] = records[i, w]
                    ring_publish(req_ctrl, head + m)
                    sent[k] += m
                    progressed = True
            res_ctrl = carray(addr_ptr(rings[k, _RES_CTRL]), (RING_CTRL_WORDS,))
            res_slots = carray(addr_ptr(rings[k, _RES_SLOTS]), (cap, 8))
            avail = ring_readable(res_ctrl, res_slots, 1)
            if avail > 0:
                tail = ring_tail(res_ctrl)
                for j in range(avail):
                    slot = (tail + j) & mask
                    head_word = res_slots[slot, 2]
                    status = (head_word >> 32) & 0xFF
                    index = (head_word >> 56) & 0xFF
                    if status == _STATUS_TEXT or index != 0:
                        continue
                    seq = res_slots[slot, 0]
                    # A record answered twice (a worker that died between publishing
                    # and releasing, then the supervisor's SystemUnavailable) counts once.
                    if 0 <= seq < total and out[seq, 2] == _UNANSWERED:
                        for w in range(8):
                            out[seq, w] = res_slots[slot, w]
                        answered += 1
                ring_release(res_ctrl, tail + avail)
                progressed = True
        if progressed:
            polls = 0
            continue
        polls += 1
        if polls < _SPINS:
            cpu_relax()
        else:
            sched_yield()
            if monotonic_ns() > deadline:
                return answered
    return answered


@njit(cache=True)
def group_by_shard(records, n_shards, order, starts):  # type: ignore[no-untyped-def]
    """Counting sort of record indexes by the shard of their account (word 1 of each record).

    Fills ``order`` (``int64[n]``) so that shard ``k`` owns
    ``order[starts[k]:starts[k + 1]]`` (``starts``: ``int64[n_shards + 1]``),
    keeping each shard's records in batch order.
    """
    n = records.shape[0]
    counts = np.zeros(n_shards + 1, dtype=np.int64)
    shards = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = shard_of_nb(records[i, 1], n_shards)
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
def exchange(  # type: ignore[no-untyped-def]
    req_ctrl_addr, req_slots_addr, res_ctrl_addr, res_slots_addr, cap,
    w0, w1, w2, w3, w4, w5, w6, w7, out_addr, out_cap, idle_addr, timeout_ns,
):  # fmt: skip
    """One synchronous request: push one record, wait, copy its answer out; all in one call.

    The request is the 8 words ``w0..w7`` (``w0`` its seq). Result records are
    copied to ``out`` (``int64[out_cap, 8]`` at ``out_addr``) in ring order, up
    to and including the last record answering ``w0`` (``index + 1 == count``,
    or ``count == 0``) and the ``STATUS_TEXT`` records that follow it when it is
    flagged ``RESULT_TEXTS``. Records of earlier requests (answers to messages
    sent without waiting) come first and are copied too, for the caller to
    settle. Python pays one call per order instead of a push, a wait and a
    release. Returns the number of records copied; ``-1`` if the request ring
    stayed full, ``-2`` on timeout, ``-3`` if ``out`` filled up first.
    """
    req_ctrl = carray(addr_ptr(req_ctrl_addr), (RING_CTRL_WORDS,))
    req_slots = carray(addr_ptr(req_slots_addr), (cap, 8))
    res_ctrl = carray(addr_ptr(res_ctrl_addr), (RING_CTRL_WORDS,))
    res_slots = carray(addr_ptr(res_slots_addr), (cap, 8))
    out = carray(addr_ptr(out_addr), (out_cap, 8))
    idle = carray(addr_ptr(idle_addr), (4,))
    deadline = monotonic_ns() + timeout_ns
    polls = 0
    while ring_writable(req_ctrl, req_slots, 1) < 1:
        polls += 1
        if polls % 64 == 0 and monotonic_ns() > deadline:
            return -1
        sched_yield()
    head = ring_head(req_ctrl)
    slot = head & (cap - 1)
    req_slots[slot, 0] = w0
    req_slots[slot, 1] = w1
    req_slots[slot, 2] = w2
    req_slots[slot, 3] = w3
    req_slots[slot, 4] = w4
    req_slots[slot, 5] = w5
    req_slots[slot, 6] = w6
    req_slots[slot, 7] = w7
    ring_publish(req_ctrl, head + 1)
    n = 0
    texts = False  # reading the text records that follow the answer
    texts_left = 0
    while True:
        avail = ring_wait_readable(res_ctrl, res_slots, 1, idle, 5_000_000)
        if avail <= 0:
            if monotonic_ns() > deadline:
                return -2
            continue
        tail = ring_tail(res_ctrl)
        for j in range(avail):
            if n >= out_cap:
                ring_release(res_ctrl, tail + j)
                return -3
            s = (tail + j) & (cap - 1)
            for w in range(8):
                out[n, w] = res_slots[s, w]
            n += 1
            head_word = res_slots[s, 2]
            count = (head_word >> 48) & 0xFF
            if texts:
                if texts_left == 0:
                    texts_left = count
                texts_left -= 1
                if texts_left == 0:
                    ring_release(res_ctrl, tail + j + 1)
                    return n
                continue
            if res_slots[s, 0] != w0 or (head_word >> 32) & 0xFF == _STATUS_TEXT:
                continue  # an earlier request's answer, or the texts of one
            index = (head_word >> 56) & 0xFF
            if count <= 1 or index + 1 >= count:
                if (head_word >> 40) & _RESULT_TEXTS:
                    texts = True
                    continue
                ring_release(res_ctrl, tail + j + 1)
                return n
        ring_release(res_ctrl, tail + avail)
