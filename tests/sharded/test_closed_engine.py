"""After ``close()`` every call raises one clear error at once (issue 9, defect 13).

Calls in flight while the engine closes end with the same error, not with
an ``IndexError`` from unmapped rings after the whole timeout.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from tests.engine.conftest import make_order, make_report
from tests.sharded.faults import UNIT, counting_builder, orders, signal_pid

CLOSED = "engine is closed"


def _closed_error() -> type[Exception]:
    return op.errors.ShardUnavailableError


def _calls(engine: Any, iid: int) -> dict[str, Any]:
    account = op.param.AccountId.from_int(1)
    return {
        "execute_pre_trade": lambda: engine.execute_pre_trade(make_order(op)),
        "start_pre_trade": lambda: engine.start_pre_trade(make_order(op)),
        "dry_run": lambda: engine.execute_pre_trade_dry_run(make_order(op)),
        "start_dry_run": lambda: engine.start_pre_trade_dry_run(make_order(op)),
        "report": lambda: engine.apply_execution_report(make_report(op)),
        "execute_batch": lambda: engine.execute_batch(orders(engine, [1, 2], iid, UNIT)),
        "block": lambda: engine.accounts().block(account, "halt"),
        "register_instrument": lambda: engine.register_instrument(op.Instrument("AAPL", "USD")),
        "configure": lambda: engine.configure(),
        "stats": lambda: engine.stats(),
        "external_client": lambda: engine.external_client(),
    }


def test_should_raise_engine_closed_for_every_call_after_close() -> None:
    engine = counting_builder().sharded(workers=2, timeout=30).build()
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    started = engine.start_pre_trade(make_order(op, account=2)).request
    engine.close()
    engine.close()  # idempotent
    failures = {}
    for name, call in _calls(engine, iid).items():
        try:
            call()
            failures[name] = "returned"
        except _closed_error() as exc:
            if CLOSED not in str(exc):
                failures[name] = repr(exc)
        except Exception as exc:
            failures[name] = repr(exc)
    try:
        started.execute()
        failures["request.execute"] = "returned"
    except _closed_error() as exc:
        if CLOSED not in str(exc):
            failures["request.execute"] = repr(exc)
    assert not failures


@pytest.mark.parametrize("call", ["batch", "order"])
def test_should_end_a_call_in_flight_with_engine_closed(call: str) -> None:
    engine = counting_builder().sharded(workers=1, timeout=20).build()
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    outcome: list[BaseException | str] = []
    pid = engine.workers[0]
    os.kill(pid, signal.SIGSTOP)  # the call waits for a worker that does not answer

    def run() -> None:
        try:
            if call == "batch":
                engine.execute_batch(orders(engine, np.ones(5000, dtype=np.int64), iid, UNIT))
            else:
                engine.execute_pre_trade(make_order(op))
            outcome.append("returned")
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    try:
        caller.start()
        caller.join(0.3)
        assert caller.is_alive(), "the call is waiting for the stopped worker"
        closer = threading.Thread(target=engine.close, daemon=True)
        closer.start()
        caller.join(60)
        closer.join(60)
        assert not caller.is_alive() and not closer.is_alive()
    finally:
        signal_pid(pid, signal.SIGCONT)
        engine.close()
    (exc,) = outcome
    assert isinstance(exc, _closed_error()) and CLOSED in str(exc), repr(exc)
