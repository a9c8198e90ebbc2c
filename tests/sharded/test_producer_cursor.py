"""A producer's impossible ring cursor is refused, not served (issue 9, defect 14).

``head - tail`` outside ``[0, capacity]`` would make the worker decide old
slots nobody sent (eating rate-limit budget). The worker answers that
producer once with ``STATUS_ERROR`` / ``RSN_BAD_CURSOR``, serves nothing of
its ring until the cursor is back in step, and keeps serving everyone else.
"""

from __future__ import annotations

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.kernels.codes import RSN_BAD_CURSOR
from openpit_shm.layout.records import (
    ORDER_DTYPE,
    POLICY_ENGINE,
    RESULT_DTYPE,
    STATUS_ERROR,
    STATUS_OK,
)
from openpit_shm.layout.ring import RING_W_HEAD, RING_W_TAIL
from openpit_shm.shm.ring import Ring
from tests.engine.conftest import make_order
from tests.sharded.faults import UNIT, broker_count, counting_builder, orders, wait_until

CAPACITY = 1024


@pytest.mark.parametrize("skew", [CAPACITY + 1019, -3])
def test_should_refuse_a_producer_cursor_outside_the_ring(skew: int) -> None:
    engine = counting_builder().sharded(workers=1, ring_capacity=CAPACITY).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        names = engine.external_client(1)
        with (
            Ring.attach(names["request"][0], dtype=ORDER_DTYPE) as req,
            Ring.attach(names["result"][0], dtype=RESULT_DTYPE) as res,
        ):
            producer, consumer = req.producer(), res.consumer(timeout=30)
            # Fill every slot once, legitimately, and read the answers.
            producer.push_batch(orders(engine, np.arange(1, CAPACITY + 1), iid, UNIT))
            answers = np.empty(CAPACITY, dtype=RESULT_DTYPE)
            got = 0
            while got < CAPACITY:
                got += consumer.pop_batch(answers[got:], timeout=30)
            counted = broker_count(engine)
            pid = engine.workers[0]
            # Now claim records that were never written.
            wait_until(lambda: int(req.ctrl[RING_W_TAIL]) == int(req.ctrl[RING_W_HEAD]))
            req.ctrl[RING_W_HEAD] = int(req.ctrl[RING_W_TAIL]) + skew
            refusal = consumer.pop(timeout=30)
            assert refusal["status"] == STATUS_ERROR
            assert refusal["policy"] == POLICY_ENGINE
            assert refusal["reason"] == RSN_BAD_CURSOR
            # Nothing was decided for it; the worker lives on and serves the engine itself.
            assert engine.execute_pre_trade(make_order(op, account=7)).ok
            assert broker_count(engine) == counted + 1
            assert engine.workers[0] == pid
            assert engine.stats()[0]["restarts"] == 0
            assert consumer.try_pop() is None, "refused once"
            # Back in step: served again.
            req.ctrl[RING_W_HEAD] = req.ctrl[RING_W_TAIL]
            producer = req.producer()
            producer.push(orders(engine, [9], iid, UNIT)[0])
            assert consumer.pop()["status"] == STATUS_OK
            assert broker_count(engine) == counted + 2
