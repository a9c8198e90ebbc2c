"""shm.ring: the Python producer/consumer handles."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from openpit_shm.errors import ShardUnavailableError
from openpit_shm.layout.records import ORDER_DTYPE, RESULT_DTYPE, SIDE_BUY
from openpit_shm.layout.segment import SegmentHeaderError
from openpit_shm.shm.ring import Ring, RingFullError, RingTimeoutError


def order(seq: int) -> tuple:
    return (seq, 1000 + seq, 3, 1, SIDE_BUY, 2, 100 * seq, seq + 1, 0, 0, 0)


def test_should_push_one_record_and_pop_it_with_every_field():
    with Ring.create(16) as r:
        p, c = r.producer(), r.consumer()
        p.push(order(7))
        rec = c.pop(timeout=1)
        assert rec.dtype == ORDER_DTYPE and tuple(rec.tolist()) == order(7)
        assert c.try_pop() is None


def test_should_accept_a_structured_scalar():
    with Ring.create(16) as r:
        rec = np.zeros((), ORDER_DTYPE)
        rec["seq"], rec["account"] = 5, 2**64 - 1
        r.producer().push(rec[()])
        got = r.consumer().pop()
        assert got["seq"] == 5 and got["account"] == 2**64 - 1


def test_should_push_and_pop_batches_of_structured_records():
    with Ring.create(64) as r:
        src = np.zeros(50, ORDER_DTYPE)
        src["seq"] = np.arange(50)
        src["amount"] = np.arange(50) * 10
        assert r.producer().push_batch(src) == 50
        out = np.zeros(64, ORDER_DTYPE)
        c = r.consumer()
        assert c.pop_batch(out) == 50
        np.testing.assert_array_equal(out[:50], src)
        assert c.pop_batch(out, timeout=0.01) == 0


def test_should_mix_single_and_batch_pushes_in_order():
    with Ring.create(32) as r:
        p, c = r.producer(), r.consumer()
        p.push(order(0))
        batch = np.array([order(1), order(2)], dtype=ORDER_DTYPE)
        p.push_batch(batch)
        p.push(order(3))
        assert [int(c.pop()["seq"]) for _ in range(4)] == [0, 1, 2, 3]


def test_should_carry_result_records_too():
    with Ring.create(8, dtype=RESULT_DTYPE) as r:
        r.producer().push((9, 1, 28, 255, 0, 1, 0, 1, 0, 1, 2, 3, 4, 5))
        got = r.consumer().pop()
        assert got["seq"] == 9 and got["code"] == 28 and got["d4"] == 5


def test_should_raise_ring_full_error_when_the_ring_stays_full():
    with Ring.create(4) as r:
        p = r.producer(timeout=0.05)
        for k in range(4):
            p.push(order(k))
        assert not p.try_push(order(4))
        t0 = time.monotonic()
        with pytest.raises(RingFullError, match="stayed full") as ei:
            p.push(order(4))
        assert 0.04 < time.monotonic() - t0 < 2
        assert isinstance(ei.value, ShardUnavailableError) and isinstance(ei.value, TimeoutError)


def test_should_report_how_many_records_a_timed_out_batch_pushed():
    with Ring.create(4) as r:
        src = np.array([order(k) for k in range(6)], dtype=ORDER_DTYPE)
        with pytest.raises(RingFullError) as ei:
            r.producer().push_batch(src, timeout=0.02)
        assert ei.value.pushed == 4
        assert r.producer().push_batch(src, timeout=0) == 0  # timeout 0: push what fits


def test_should_raise_ring_timeout_error_when_nothing_arrives():
    with Ring.create(4) as r, pytest.raises(RingTimeoutError, match="no record"):
        r.consumer().pop(timeout=0.02)


def test_should_resume_a_producer_blocked_on_a_full_ring_when_a_thread_consumes():
    # The waiting kernels release the GIL: a thread can drain while the producer waits.
    with Ring.create(4) as r:
        p = r.producer(timeout=10)
        c = r.consumer()
        got: list[int] = []

        def drain() -> None:
            while len(got) < 20:
                rec = c.try_pop()
                if rec is None:
                    time.sleep(0.001)
                else:
                    got.append(int(rec["seq"]))

        t = threading.Thread(target=drain)
        t.start()
        for k in range(20):
            p.push(order(k))
        t.join(10)
        assert got == list(range(20))


def test_should_validate_capacity_and_shard_when_attaching():
    with Ring.create(16, shard_id=1, shard_count=2) as r:
        with Ring.attach(r.name, capacity=16, shard_id=1, shard_count=2) as a:
            assert a.capacity == 16
        with pytest.raises(SegmentHeaderError, match="capacity is 16, expected 32"):
            Ring.attach(r.name, capacity=32)
        with pytest.raises(SegmentHeaderError, match="shard id is 1, expected 0"):
            Ring.attach(r.name, shard_id=0)


def test_should_reject_records_of_the_wrong_size():
    with Ring.create(8) as r, pytest.raises(TypeError, match="64-byte records"):
        r.producer().push_batch(np.zeros(4, np.int64))


def test_should_expose_stats():
    with Ring.create(8) as r:
        r.producer().push(order(1))
        s = r.stats()
        assert s["head"] == 1 and s["tail"] == 0 and s["depth"] == 1 and s["capacity"] == 8
