"""Multi-process stress: Python, Numba and C producers each send >= 1,000,000 records.

Every record carries (producer, sequence) and six more words derived from them,
so a torn or partially written record is caught as well as a lost, duplicated
or reordered one. Each producer runs in its own process, the consumer (a
Numba kernel) in another; producer on CPU 0, consumer on CPU 1, both with the
spin-then-park idle strategy. A producer SIGKILLed mid-stream must leave the
consumer healthy: it keeps every record published so far, in order, and goes
on with a replacement producer.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from numba import njit

from openpit_shm.kernels.futex import futex_wait
from openpit_shm.kernels.ring import idle_backoff, ring_pop_wait, ring_push_wait
from openpit_shm.layout.records import ORDER_DTYPE
from openpit_shm.layout.ring import RING_OFF, RING_SLOTS_OFFSET, RING_W_HEAD
from openpit_shm.shm.ring import Ring

pytestmark = pytest.mark.slow

N_RECORDS = 1_000_000
CAPACITY = 4096
CTX = mp.get_context("fork")

CHECK_OK, CHECK_TIMEOUT, CHECK_BAD_SEQ, CHECK_BAD_PRODUCER, CHECK_TORN = 0, 1, 2, 3, 4


def _pin(cpu: int) -> None:
    if cpu < os.cpu_count():
        os.sched_setaffinity(0, {cpu})


@njit(cache=True)
def _fill(rows, k, producer, seq):
    """Record k of a batch: (producer, seq) plus words derived from both (see _check)."""
    rows[k, 0] = seq
    rows[k, 1] = producer
    rows[k, 2] = producer | (1 << 32) | (1 << 40)  # instrument=producer, kind=1, side=1, flags=0
    rows[k, 3] = seq * 7 + 1
    rows[k, 4] = seq ^ 0x5555
    rows[k, 5] = -seq
    rows[k, 6] = seq + producer
    rows[k, 7] = seq * 31 + producer


def _py_record(producer: int, seq: int) -> tuple:
    """The same record as ``_fill``, as an ORDER_DTYPE tuple."""
    return (seq, producer, producer, 1, 1, 0, seq * 7 + 1, seq ^ 0x5555, -seq, seq + producer,
            seq * 31 + producer)  # fmt: skip


@njit(cache=True, nogil=True)
def _consume_check(ctrl, slots, producer, start, total, idle, timeout_ns):
    """Pop until ``total`` records arrived; check each. Returns (next expected seq, code)."""
    buf = np.zeros((256, 8), np.int64)
    expected = start
    end = start + total
    want = 1
    while expected < end:
        want = want % 256 + 1  # vary the batch size 1..256
        n = ring_pop_wait(ctrl, slots, buf, 0, want, idle, timeout_ns)
        if n == 0:
            return expected, CHECK_TIMEOUT
        for k in range(n):
            s = buf[k, 0]
            if buf[k, 1] != producer:
                return expected, CHECK_BAD_PRODUCER
            if s != expected:
                return expected, CHECK_BAD_SEQ
            if (
                buf[k, 2] != (producer | (1 << 32) | (1 << 40))
                or buf[k, 3] != s * 7 + 1
                or buf[k, 4] != (s ^ 0x5555)
                or buf[k, 5] != -s
                or buf[k, 6] != s + producer
                or buf[k, 7] != s * 31 + producer
            ):
                return expected, CHECK_TORN
            expected += 1
    return expected, CHECK_OK


@njit(cache=True, nogil=True)
def _produce(ctrl, slots, producer, start, total, idle, timeout_ns, pace_ns):
    """Push ``total`` records from ``start`` in batches of 1..64; optionally nap every 4096."""
    buf = np.zeros((64, 8), np.int64)
    nap = np.zeros(1, np.int64)
    seq = start
    end = start + total
    b = 0
    while seq < end:
        b = b % 64 + 1
        n = min(b, end - seq)
        for k in range(n):
            _fill(buf, k, producer, seq + k)
        if ring_push_wait(ctrl, slots, buf, 0, n, idle, timeout_ns) != n:
            return seq - start
        seq += n
        if pace_ns > 0 and (seq // 4096) != ((seq - n) // 4096):
            futex_wait(nap, 0, 0, pace_ns)  # a sleep that Numba can call
    return total


def _warm() -> None:
    """Compile in the parent so forked children start at once."""
    with Ring.create(16) as r:
        idle = idle_backoff()
        _produce(r.ctrl, r.slots, 0, 0, 3, idle, 10**9, 0)
        _consume_check(r.ctrl, r.slots, 0, 0, 3, idle, 10**9)


def _consumer_proc(name: str, producer: int, start: int, total: int, q) -> None:
    _pin(1)
    r = Ring.attach(name)
    t0 = time.perf_counter()
    got, code = _consume_check(r.ctrl, r.slots, producer, start, total, idle_backoff(), 20 * 10**9)
    q.put((int(got), int(code), time.perf_counter() - t0))
    r.close()


def _numba_producer_proc(name: str, producer: int, start: int, total: int, pace_ns: int) -> None:
    _pin(0)
    r = Ring.attach(name)
    done = _produce(r.ctrl, r.slots, producer, start, total, idle_backoff(), 20 * 10**9, pace_ns)
    r.close()
    os._exit(0 if done == total else 3)


def _python_producer_proc(name: str, producer: int, start: int, total: int, pace_ns: int) -> None:
    _pin(0)
    r = Ring.attach(name)
    push = r.producer(timeout=20).push
    for seq in range(start, start + total):
        push(_py_record(producer, seq))  # one structured setitem + one release store each
    r.close()
    os._exit(0)


_C_PRODUCER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "openpit_shm.h"

/* The layout as Python sees it (passed with -D by the test): compiling fails on any drift. */
_Static_assert(sizeof(opshm_order) == PY_ORDER_BYTES, "order size differs from Python");
_Static_assert(offsetof(opshm_order, seq) == PY_OFF_seq, "seq");
_Static_assert(offsetof(opshm_order, account) == PY_OFF_account, "account");
_Static_assert(offsetof(opshm_order, instrument) == PY_OFF_instrument, "instrument");
_Static_assert(offsetof(opshm_order, kind) == PY_OFF_kind, "kind");
_Static_assert(offsetof(opshm_order, side) == PY_OFF_side, "side");
_Static_assert(offsetof(opshm_order, flags) == PY_OFF_flags, "flags");
_Static_assert(offsetof(opshm_order, price) == PY_OFF_price, "price");
_Static_assert(offsetof(opshm_order, amount) == PY_OFF_amount, "amount");
_Static_assert(offsetof(opshm_order, pnl) == PY_OFF_pnl, "pnl");
_Static_assert(offsetof(opshm_order, fee) == PY_OFF_fee, "fee");
_Static_assert(offsetof(opshm_order, ref) == PY_OFF_ref, "ref");
_Static_assert(offsetof(opshm_ring_ctrl, head) == PY_RING_head, "head");
_Static_assert(offsetof(opshm_ring_ctrl, tail) == PY_RING_tail, "tail");
_Static_assert(offsetof(opshm_ring_ctrl, consumer_sleeping) == PY_RING_consumer_sleeping, "cs");
_Static_assert(offsetof(opshm_ring_ctrl, producer_sleeping) == PY_RING_producer_sleeping, "ps");
_Static_assert(OPSHM_RING_SLOTS_OFFSET == PY_SLOTS_OFFSET, "slots offset");

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: name producer start total pace_us\n"); return 2; }
    opshm_ring r;
    int err = opshm_ring_attach(argv[1], 0, -1, 0, &r);
    if (err != OPSHM_OK) { fprintf(stderr, "attach: %s\n", opshm_strerror(err)); return 1; }
    int64_t producer = atoll(argv[2]), seq = atoll(argv[3]), end = seq + atoll(argv[4]);
    long pace_us = atol(argv[5]);
    opshm_order batch[64];
    for (int64_t b = 1; seq < end; b = b % 64 + 1) {
        int64_t n = end - seq < b ? end - seq : b;
        for (int64_t k = 0; k < n; k++) {
            int64_t s = seq + k;
            opshm_order *o = &batch[k];
            o->seq = s; o->account = (uint64_t)producer; o->instrument = (int32_t)producer;
            o->kind = OPSHM_MSG_ORDER; o->side = OPSHM_SIDE_BUY; o->flags = 0;
            o->price = s * 7 + 1; o->amount = s ^ 0x5555; o->pnl = -s; o->fee = s + producer;
            o->ref = s * 31 + producer;
        }
        int64_t done = 0;
        while (done < n) {
            done += opshm_ring_push_batch(&r, batch + done, n - done);
            if (done < n && opshm_ring_wait_writable(&r, 1, OPSHM_IDLE_DEFAULT, 20000000000LL) < 1)
                return 3;
        }
        seq += n;
        if (pace_us > 0 && seq / 4096 != (seq - n) / 4096) {
            struct timespec ts = {0, pace_us * 1000L};
            nanosleep(&ts, NULL);
        }
    }
    opshm_ring_detach(&r);
    return 0;
}
"""


@pytest.fixture(scope="module")
def c_producer(c_build):  # type: ignore[no-untyped-def]
    defs = [f"-DPY_ORDER_BYTES={ORDER_DTYPE.itemsize}", f"-DPY_SLOTS_OFFSET={RING_SLOTS_OFFSET}"]
    defs += [f"-DPY_OFF_{name}={off}" for name, (_, off) in ORDER_DTYPE.fields.items()]
    defs += [f"-DPY_RING_{name}={off}" for name, off in RING_OFF.items()]
    return c_build("c_producer", _C_PRODUCER, *defs)


def _start_producer(kind: str, name: str, producer: int, start: int, total: int, pace_ns: int,
                    c_exe=None):  # fmt: skip
    """Start a producer process; returns an object with .pid, .kill() and a wait->exitcode."""
    if kind == "c":
        p = subprocess.Popen(
            [str(c_exe), name, str(producer), str(start), str(total), str(pace_ns // 1000)],
            preexec_fn=lambda: _pin(0),
        )
        return p, p.wait
    target = {"numba": _numba_producer_proc, "python": _python_producer_proc}[kind]
    p = CTX.Process(target=target, args=(name, producer, start, total, pace_ns))
    p.start()

    def wait(timeout=None):
        p.join(timeout)
        return p.exitcode

    return p, wait


@pytest.mark.parametrize(("kind", "producer"), [("python", 1), ("numba", 2), ("c", 3)])
def test_should_deliver_a_million_records_in_order_from_each_kind_of_producer(
    kind, producer, c_producer
):
    _warm()
    with Ring.create(CAPACITY) as ring:
        q = CTX.Queue()
        consumer = CTX.Process(target=_consumer_proc, args=(ring.name, producer, 0, N_RECORDS, q))
        consumer.start()
        _, wait = _start_producer(kind, ring.name, producer, 0, N_RECORDS, 0, c_producer)
        assert wait(120) == 0
        got, code, _ = q.get(timeout=120)
        consumer.join(30)
        assert (got, code) == (N_RECORDS, CHECK_OK)
        assert consumer.exitcode == 0
        assert ring.stats()["head"] == ring.stats()["tail"] == N_RECORDS


@pytest.mark.parametrize(("kind", "producer"), [("numba", 4), ("c", 5)])
def test_should_keep_the_consumer_healthy_when_a_producer_is_killed_mid_stream(
    kind, producer, c_producer
):
    _warm()
    with Ring.create(CAPACITY) as ring:
        q = CTX.Queue()
        consumer = CTX.Process(target=_consumer_proc, args=(ring.name, producer, 0, N_RECORDS, q))
        consumer.start()
        # A paced producer (a 1 ms nap every 4096 records) that would run far past N_RECORDS.
        victim, wait = _start_producer(kind, ring.name, producer, 0, 10**12, 1_000_000, c_producer)
        deadline = time.monotonic() + 60
        while ring.ctrl[RING_W_HEAD] < 100_000 and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(victim.pid, signal.SIGKILL)
        assert wait(30) in (-signal.SIGKILL, -9)
        killed_at = int(ring.ctrl[RING_W_HEAD])  # what the victim published before dying
        assert 100_000 <= killed_at < N_RECORDS
        assert consumer.is_alive()
        # A replacement producer attaches and continues the sequence from the ring's head.
        _, wait2 = _start_producer(
            kind, ring.name, producer, killed_at, N_RECORDS - killed_at, 0, c_producer
        )
        assert wait2(120) == 0
        got, code, _ = q.get(timeout=120)
        consumer.join(30)
        assert (got, code) == (N_RECORDS, CHECK_OK)
        assert consumer.exitcode == 0
