"""An engine compiles the per-order kernel on its first per-order decision, not at build."""

from __future__ import annotations

import numpy as np

import openpit_shm as op
from openpit_shm.kernels.entries import START_AT
from openpit_shm.layout.records import MSG_ORDER, ORDER_HAS_OPERATION, SIDE_BUY, STATUS_OK
from openpit_shm.pretrade.policies import build_order_validation
from tests.engine.conftest import make_order


def _engine() -> op.Engine:
    return op.Engine.builder().no_sync().builtin(build_order_validation()).build()


def test_should_not_touch_the_per_order_kernel_on_the_batch_door() -> None:
    engine = _engine()
    records = np.zeros(3, dtype=op.ORDER_DTYPE)
    records["account"], records["kind"], records["side"] = 1, MSG_ORDER, SIDE_BUY
    records["instrument"] = engine.register_instrument(op.Instrument("AAPL", "USD"))
    records["flags"], records["amount"] = ORDER_HAS_OPERATION, 10**8
    records["ref"] = engine.record_format.order_ref  # this engine's records
    assert (engine.execute_batch(records)["status"] == STATUS_OK).all()
    assert engine._start_at is not START_AT.compile()  # still the stand-in


def test_should_swap_in_the_kernel_on_the_first_decision() -> None:
    engine = _engine()
    assert engine._start_at is not START_AT.compile()
    assert engine.execute_pre_trade(make_order(op)).ok
    assert engine._start_at is START_AT.compile()  # later calls go straight to the kernel
    assert engine.execute_pre_trade(make_order(op)).ok
