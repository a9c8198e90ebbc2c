"""How the supervisor answers for a dead worker, step by step (issue 9, defects 2 and 11).

Deterministic counterparts of ``test_death_answers``: the worker is stopped,
its answer journal written as if it had got so far, then it is killed, and
each answer is checked. A report to a shard that is down raises instead of
returning a made-up account block.
"""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.kernels.codes import RSN_OUTCOME_UNKNOWN, RSN_SHARD_DOWN
from openpit_shm.layout.records import STATUS_ERROR, STATUS_OK
from tests.engine.conftest import make_order, make_report
from tests.sharded.faults import (
    UNAVAILABLE,
    UNIT,
    accounts_of,
    counting_builder,
    orders,
    pnl_of,
    wait_serving,
    wait_until,
)


def test_should_raise_for_a_report_sent_to_a_dead_shard() -> None:
    engine = counting_builder().sharded(workers=2).build()
    with engine:
        engine.register_instrument(op.Instrument("AAPL", "USD"))
        account = int(accounts_of(0, 2, 1)[0])
        pid = engine.workers[0]
        supervisor = engine._supervisor
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: 0 in supervisor.down)
        report = make_report(op, account=account, pnl="-5", fee="0")
        with (
            supervisor._lock,  # hold the restart back: the shard stays down meanwhile
            pytest.raises(op.errors.ShardUnavailableError, match="not applied"),
        ):
            engine.apply_execution_report(report)
        wait_serving(engine, 0, pid)
        assert pnl_of(engine, account) == 0, "the report was not applied"


def _journal(engine: op.Engine, shard: int, slot: int, progress: int) -> None:
    """Write shard ``shard``'s answer journal as if its worker had opened a batch of ``slot``
    at the current cursors and got as far as ``progress`` (the worker must be stopped)."""
    from openpit_shm.layout.control import (
        CTL_S_JOURNAL,
        JOURNAL_FIRST,
        JOURNAL_PROGRESS,
        JOURNAL_RESULT,
        JOURNAL_SLOT,
        shard_word,
    )
    from openpit_shm.layout.ring import RING_W_HEAD, RING_W_TAIL

    topology = engine._topology
    ctl = topology.control.words
    j = shard_word(shard, CTL_S_JOURNAL)
    ctl[j + JOURNAL_FIRST] = topology.request[slot][shard].ctrl[RING_W_TAIL]
    ctl[j + JOURNAL_RESULT] = topology.result[slot][shard].ctrl[RING_W_HEAD]
    ctl[j + JOURNAL_PROGRESS] = progress
    ctl[j + JOURNAL_SLOT] = slot + 1


def test_should_publish_what_a_dead_worker_decided_and_call_the_one_in_flight_unknown() -> None:
    """The supervisor finishes the journal: decided, unknown, then never touched."""
    from openpit_shm.kernels.journal import journal_word
    from openpit_shm.layout.records import ORDER_DTYPE, RESULT_COMMITTED, RESULT_DTYPE
    from openpit_shm.sharded.topology import answer_scratch
    from openpit_shm.shm.ring import Ring

    engine = counting_builder().sharded(workers=1).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        names = engine.external_client(1)
        pid = engine.workers[0]
        os.kill(pid, signal.SIGSTOP)
        with (
            Ring.attach(names["request"][0], dtype=ORDER_DTYPE) as req,
            Ring.attach(names["result"][0], dtype=RESULT_DTYPE) as res,
        ):
            requests = orders(engine, [1, 2, 3], iid, UNIT)
            requests["seq"] = [11, 12, 13]
            req.producer().push_batch(requests)
            # As if the worker had decided #11 (its answer still in the scratch) and begun #12.
            decided = np.zeros(1, dtype=RESULT_DTYPE)
            decided[["seq", "flags"]] = (11, RESULT_COMMITTED)
            answer_scratch(engine._topology.control, 0)[0] = decided.view(np.int64)
            _journal(engine, 0, 1, journal_word(1, 1, 1))
            os.kill(pid, signal.SIGKILL)
            consumer = res.consumer(timeout=60)
            got = [consumer.pop() for _ in range(3)]
        assert [int(r["seq"]) for r in got] == [11, 12, 13]
        assert (got[0]["status"], got[0]["flags"]) == (STATUS_OK, RESULT_COMMITTED)
        assert (got[1]["status"], got[1]["reason"]) == (STATUS_ERROR, RSN_OUTCOME_UNKNOWN)
        assert (got[2]["code"], got[2]["reason"]) == (UNAVAILABLE, RSN_SHARD_DOWN)
        wait_serving(engine, 0, pid)
        assert engine.stats()[0]["errors"] == 1


@pytest.mark.parametrize("call", ["order", "report"])
def test_should_raise_outcome_unknown_for_a_request_a_worker_died_deciding(call: str) -> None:
    from openpit_shm.kernels.journal import journal_word
    from openpit_shm.layout.ring import RING_W_HEAD, RING_W_TAIL

    engine = counting_builder().sharded(workers=1).build()
    with engine:
        engine.register_instrument(op.Instrument("AAPL", "USD"))
        pid = engine.workers[0]
        os.kill(pid, signal.SIGSTOP)
        ring = engine._topology.request[0][0]
        outcome: list[BaseException | object] = []

        def run() -> None:
            try:
                if call == "order":
                    outcome.append(engine.execute_pre_trade(make_order(op)))
                else:
                    outcome.append(engine.apply_execution_report(make_report(op)))
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=run, daemon=True)
        caller.start()
        wait_until(lambda: ring.ctrl[RING_W_HEAD] - ring.ctrl[RING_W_TAIL] == 1)
        _journal(engine, 0, 0, journal_word(0, 0, 1))
        os.kill(pid, signal.SIGKILL)
        caller.join(60)
        (exc,) = outcome
        assert isinstance(exc, op.errors.ShardUnavailableError), exc
        assert "outcome is unknown" in str(exc)
        wait_serving(engine, 0, pid)
