"""kernels.ring: one test per ring edge case, on a real shared-memory ring."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator

import numpy as np
import pytest

from openpit_shm.kernels.ring import (
    idle_backoff,
    idle_busy_spin,
    ring_head,
    ring_pop_batch,
    ring_pop_wait,
    ring_publish,
    ring_push_batch,
    ring_push_wait,
    ring_readable,
    ring_release,
    ring_tail,
    ring_wait_readable,
    ring_writable,
)
from openpit_shm.layout.ring import (
    RING_W_CONSUMER_PARKS,
    RING_W_HEAD,
    RING_W_HEAD_CACHE,
    RING_W_PRODUCER_PARKS,
    RING_W_PRODUCER_WAKES,
    RING_W_TAIL,
    RING_W_TAIL_CACHE,
)
from openpit_shm.shm.ring import Ring

CAP = 8


@pytest.fixture
def ring() -> Iterator[Ring]:
    with Ring.create(CAP) as r:
        yield r


def rows(start: int, n: int) -> np.ndarray:
    """n records whose 8 words are all derived from their sequence number."""
    s = np.arange(start, start + n, dtype=np.int64)
    return np.stack([s, s * 3, s + 7, -s, s ^ 0x5A5A, s * s, s - 1, s << 8], axis=1).copy()


def pop_all(r: Ring, max_n: int = 1 << 20) -> np.ndarray:
    out = np.zeros((max_n, 8), np.int64)
    n = ring_pop_batch(r.ctrl, r.slots, out, 0, max_n)
    return out[:n]


def test_should_pop_nothing_from_an_empty_ring(ring):
    out = np.zeros((4, 8), np.int64)
    assert ring_pop_batch(ring.ctrl, ring.slots, out, 0, 4) == 0
    assert ring_readable(ring.ctrl, ring.slots, 1) == 0
    assert ring_tail(ring.ctrl) == 0 and not out.any()


def test_should_push_and_pop_in_order(ring):
    assert ring_push_batch(ring.ctrl, ring.slots, rows(0, 5), 0, 5) == 5
    np.testing.assert_array_equal(pop_all(ring), rows(0, 5))
    assert ring_head(ring.ctrl) == ring_tail(ring.ctrl) == 5


def test_should_wrap_around_the_end_of_the_slots(ring):
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 6), 0, 6)
    pop_all(ring)
    # head = tail = 6: the next 7 records occupy slots 6, 7, 0, 1, ...
    assert ring_push_batch(ring.ctrl, ring.slots, rows(6, 7), 0, 7) == 7
    np.testing.assert_array_equal(ring.slots[6], rows(6, 1)[0])
    np.testing.assert_array_equal(ring.slots[0], rows(8, 1)[0])
    np.testing.assert_array_equal(pop_all(ring), rows(6, 7))


def test_should_refuse_a_push_into_a_full_ring(ring):
    assert ring_push_batch(ring.ctrl, ring.slots, rows(0, CAP), 0, CAP) == CAP
    assert ring_writable(ring.ctrl, ring.slots, 1) == 0
    assert ring_push_batch(ring.ctrl, ring.slots, rows(CAP, 1), 0, 1) == 0
    assert ring_head(ring.ctrl) == CAP
    np.testing.assert_array_equal(pop_all(ring), rows(0, CAP))  # nothing overwritten


def test_should_push_only_what_fits_when_a_batch_is_larger_than_the_free_space(ring):
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 5), 0, 5)
    assert ring_push_batch(ring.ctrl, ring.slots, rows(5, 10), 0, 10) == 3
    np.testing.assert_array_equal(pop_all(ring), rows(0, 8))


def test_should_push_and_pop_the_largest_batch_in_one_call(ring):
    # A full-capacity batch, starting mid-ring so that it also wraps.
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 3), 0, 3)
    pop_all(ring)
    assert ring_push_batch(ring.ctrl, ring.slots, rows(3, CAP), 0, CAP) == CAP
    out = np.zeros((CAP, 8), np.int64)
    assert ring_pop_batch(ring.ctrl, ring.slots, out, 0, CAP) == CAP
    np.testing.assert_array_equal(out, rows(3, CAP))


def test_should_treat_a_zero_length_batch_as_a_no_op(ring):
    ring.ctrl[RING_W_HEAD_CACHE] = 0
    assert ring_push_batch(ring.ctrl, ring.slots, rows(0, 1), 0, 0) == 0
    assert ring_head(ring.ctrl) == 0
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 2), 0, 2)
    assert ring_pop_batch(ring.ctrl, ring.slots, np.zeros((0, 8), np.int64), 0, 0) == 0
    assert ring_tail(ring.ctrl) == 0


def test_should_keep_a_partially_written_record_invisible_until_published(ring):
    head = ring_head(ring.ctrl)
    slot = ring.slots[head & (CAP - 1)]
    slot[:4] = [11, 22, 33, 44]  # half a record, no publish
    assert ring_readable(ring.ctrl, ring.slots, 1) == 0
    assert len(pop_all(ring)) == 0
    slot[4:] = [55, 66, 77, 88]
    assert len(pop_all(ring)) == 0  # complete but still unpublished
    ring_publish(ring.ctrl, head + 1)
    np.testing.assert_array_equal(pop_all(ring), [[11, 22, 33, 44, 55, 66, 77, 88]])


def test_should_copy_from_and_to_an_offset_in_the_batch_arrays(ring):
    src = rows(0, 6)
    assert ring_push_batch(ring.ctrl, ring.slots, src, 2, 3) == 3
    out = np.zeros((5, 8), np.int64)
    assert ring_pop_batch(ring.ctrl, ring.slots, out, 1, 4) == 3
    np.testing.assert_array_equal(out[1:4], src[2:5])
    assert not out[0].any() and not out[4].any()


def test_should_allow_zero_copy_consumption_and_release(ring):
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 4), 0, 4)
    tail = ring_tail(ring.ctrl)
    n = ring_readable(ring.ctrl, ring.slots, 4)
    assert n == 4
    np.testing.assert_array_equal(ring.slots[tail : tail + n], rows(0, 4))
    ring_release(ring.ctrl, tail + n)
    assert ring_writable(ring.ctrl, ring.slots, CAP) == CAP


def test_should_keep_working_with_free_running_cursors_far_past_the_capacity(ring):
    start = (1 << 40) + 5
    for w in (RING_W_HEAD, RING_W_TAIL, RING_W_HEAD_CACHE, RING_W_TAIL_CACHE):
        ring.ctrl[w] = start
    for k in range(5):
        assert ring_push_batch(ring.ctrl, ring.slots, rows(k * 6, 6), 0, 6) == 6
        np.testing.assert_array_equal(pop_all(ring), rows(k * 6, 6))
    assert ring_head(ring.ctrl) == start + 30


def test_should_read_the_other_cursor_only_when_the_cache_runs_out(ring):
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 3), 0, 3)
    ring.ctrl[RING_W_TAIL] = 3  # the consumer frees everything, behind the producer's back
    assert ring.ctrl[RING_W_TAIL_CACHE] == 0
    ring_push_batch(ring.ctrl, ring.slots, rows(3, 5), 0, 5)  # 5 fit by the cached tail: no re-read
    assert ring.ctrl[RING_W_TAIL_CACHE] == 0
    ring_push_batch(ring.ctrl, ring.slots, rows(8, 1), 0, 1)  # the cache says full: re-read
    assert ring.ctrl[RING_W_TAIL_CACHE] == 3


def test_should_time_out_a_push_wait_on_a_full_ring(ring):
    ring_push_batch(ring.ctrl, ring.slots, rows(0, CAP), 0, CAP)
    for idle in (idle_busy_spin(), idle_backoff(spins=10, yields=2, park_ns=5_000_000)):
        t0 = time.monotonic()
        assert ring_push_wait(ring.ctrl, ring.slots, rows(0, 3), 0, 3, idle, 50_000_000) == 0
        assert 0.04 < time.monotonic() - t0 < 2.0
    assert ring.ctrl[RING_W_PRODUCER_PARKS] >= 1  # the backoff strategy parked


def test_should_time_out_a_pop_wait_on_an_empty_ring(ring):
    out = np.zeros((4, 8), np.int64)
    for idle in (idle_busy_spin(), idle_backoff(spins=10, yields=2, park_ns=5_000_000)):
        t0 = time.monotonic()
        assert ring_pop_wait(ring.ctrl, ring.slots, out, 0, 4, idle, 50_000_000) == 0
        assert 0.04 < time.monotonic() - t0 < 2.0
    assert ring.ctrl[RING_W_CONSUMER_PARKS] >= 1


def test_should_return_at_once_from_a_zero_timeout_wait(ring):
    t0 = time.monotonic()
    assert ring_wait_readable(ring.ctrl, ring.slots, 1, idle_backoff(), 0) == 0
    assert time.monotonic() - t0 < 0.5


def test_should_not_wake_anyone_when_the_consumer_is_not_parked(ring):
    for k in range(50):
        ring_push_batch(ring.ctrl, ring.slots, rows(k, 1), 0, 1)
        pop_all(ring)
    assert ring.ctrl[RING_W_PRODUCER_WAKES] == 0


def _parked_consumer(name: str, q) -> None:
    r = Ring.attach(name)
    out = np.zeros((4, 8), np.int64)
    idle = idle_backoff(spins=10, yields=2, park_ns=5_000_000_000)  # park long: only a wake helps
    t0 = time.monotonic()
    n = ring_pop_wait(r.ctrl, r.slots, out, 0, 4, idle, 20_000_000_000)
    q.put((n, out[:n].tolist(), time.monotonic() - t0, int(r.ctrl[RING_W_CONSUMER_PARKS])))
    r.close()


def test_should_wake_a_parked_consumer_in_another_process(ring):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_parked_consumer, args=(ring.name, q))
    p.start()
    deadline = time.monotonic() + 10
    while ring.ctrl[RING_W_CONSUMER_PARKS] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    ring_push_batch(ring.ctrl, ring.slots, rows(0, 2), 0, 2)
    n, got, waited, parks = q.get(timeout=30)
    p.join(10)
    assert n == 2 and got == rows(0, 2).tolist()
    assert parks >= 1 and ring.ctrl[RING_W_PRODUCER_WAKES] >= 1
    assert waited < 4.0  # woken, not rescued by its 5 s park slice


def _slow_consumer(name: str, total: int, q) -> None:
    r = Ring.attach(name)
    out = np.zeros((3, 8), np.int64)
    got = []
    idle = idle_backoff(spins=10, yields=2, park_ns=1_000_000)
    while len(got) < total:
        time.sleep(0.002)
        n = ring_pop_wait(r.ctrl, r.slots, out, 0, 3, idle, 10_000_000_000)
        got.extend(out[:n, 0].tolist())
    q.put(got)
    r.close()


def test_should_let_a_producer_wait_for_room_on_a_full_ring(ring):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_slow_consumer, args=(ring.name, 40, q))
    p.start()
    idle = idle_backoff(spins=10, yields=2, park_ns=5_000_000_000)
    src = rows(0, 40)
    assert ring_push_wait(ring.ctrl, ring.slots, src, 0, 40, idle, 20_000_000_000) == 40
    assert q.get(timeout=30) == list(range(40))
    p.join(10)
    assert ring.ctrl[RING_W_PRODUCER_PARKS] >= 1  # it did have to sleep on the full ring


def test_should_spin_only_while_every_busy_side_has_a_cpu_of_its_own() -> None:
    from openpit_shm.kernels.ring import (
        IDLE_BACKOFF,
        IDLE_DEFAULT_SPINS,
        IDLE_DEFAULT_YIELDS,
        IDLE_SPINS,
        IDLE_YIELDS,
        idle_backoff_for,
    )

    roomy = idle_backoff_for(2, cpus=2)  # one worker and its client on 2 CPUs
    crowded = idle_backoff_for(3, cpus=2)  # two workers and a client on 2 CPUs
    assert roomy[0] == crowded[0] == IDLE_BACKOFF
    assert roomy[IDLE_SPINS] == IDLE_DEFAULT_SPINS > 0
    assert crowded[IDLE_SPINS] == 0  # a pause-spin would hold a CPU the busy side needs
    assert roomy[IDLE_YIELDS] == crowded[IDLE_YIELDS] == IDLE_DEFAULT_YIELDS


def test_should_give_a_sharded_backoff_engine_the_strategy_for_its_process_count() -> None:
    import os

    from openpit_shm.kernels.ring import idle_backoff_for
    from openpit_shm.sharded.builder import ShardedSettings

    for workers in (1, 2, 4):
        settings = ShardedSettings.of(
            workers=workers, idle="backoff", ring_capacity=1024, batch=256, external_clients=0,
            timeout=1.0, start_timeout=1.0,
        )  # fmt: skip
        want = idle_backoff_for(workers + 1, cpus=len(os.sched_getaffinity(0)))
        assert settings.idle == tuple(int(x) for x in want)
