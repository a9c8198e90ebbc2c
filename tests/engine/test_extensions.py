"""openpit_shm's own additions: an injectable clock, the fixed-point scale, the batch door."""

from __future__ import annotations

import datetime
import functools
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import finalize_records, order_records, report_records
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_DRY_ORDER,
    MSG_START,
    RESULT_COMMITTED,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from tests.engine.conftest import Recorder, make_order, reject

pol = op.pretrade.policies


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def _rate_limited(clock: Any, limit: int = 2, window_s: int = 1) -> Any:
    return (
        op.Engine.builder()
        .with_clock(clock)
        .no_sync()
        .builtin(
            pol.build_rate_limit().broker_barrier(
                pol.RateLimitBrokerBarrier(
                    pol.RateLimit(limit, datetime.timedelta(seconds=window_s))
                )
            )
        )
        .build()
    )


def test_should_let_an_injected_clock_decide_the_rate_window() -> None:
    clock = FakeClock()
    engine = _rate_limited(clock)
    assert [engine.start_pre_trade(make_order(op)).ok for _ in range(3)] == [True, True, False]
    clock.now += 999_999_999  # still inside the 1 s fixed window
    assert not engine.start_pre_trade(make_order(op)).ok
    clock.now += 1  # the window restarts exactly at start + window
    assert engine.start_pre_trade(make_order(op)).ok


def test_should_reject_values_the_fixed_point_scale_cannot_hold_before_any_state_change() -> None:
    clock = FakeClock()
    engine = (
        op.Engine.builder()
        .with_fixed_point_scale(2)
        .with_clock(clock)
        .no_sync()
        .builtin(
            pol.build_rate_limit().broker_barrier(
                pol.RateLimitBrokerBarrier(pol.RateLimit(1, datetime.timedelta(hours=1)))
            )
        )
        .build()
    )
    with pytest.raises(op.param.FixedPointError, match="0.001.*scale 2"):
        engine.execute_pre_trade(make_order(op, qty="0.001"))
    assert engine.execute_pre_trade(make_order(op, qty="0.01")).ok, "no budget was spent"


@pytest.mark.parametrize("bad", [-1, 19, "8", True])
def test_should_validate_the_fixed_point_scale(bad: Any) -> None:
    with pytest.raises(ValueError, match="fixed-point scale"):
        op.Engine.builder().with_fixed_point_scale(bad)


def test_should_refuse_a_clock_that_is_not_callable() -> None:
    with pytest.raises(TypeError, match="clock must be a callable"):
        op.Engine.builder().with_clock(5)


def _custom_engine() -> tuple[Any, list]:
    log: list = []
    gate = Recorder(op, "Gate", log, start=[])

    class QtyGate(Recorder):
        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            qty = order.operation.trade_amount.as_quantity
            return [reject(op, "RiskLimitExceeded")] if qty > op.param.Quantity(50) else []

    engine = (
        op.Engine.builder()
        .no_sync()
        .builtin(pol.build_order_validation())
        .pre_trade(gate)
        .pre_trade(QtyGate(op, "QtyGate", log))
        .build()
    )
    return engine, log


def test_should_run_batches_through_custom_policies_on_the_object_path() -> None:
    engine, log = _custom_engine()
    ids = [engine.register_instrument(op.Instrument("AAPL", "USD"))]
    orders = order_records(
        engine,
        account=[1, 2, 3, 4],
        instrument=ids[0],
        side=["BUY", "SELL", "BUY", "BUY"],
        quantity=[10.0, 60.0, 0.0, 5.5],
        price=[100.0, 100.0, 100.0, 99.25],
        units="decimal",
        auto_commit=True,
    )
    orders["seq"] = [11, 12, 13, 14]
    results = engine.execute_batch(orders)
    assert list(results["seq"]) == [11, 12, 13, 14]
    assert list(results["status"]) == [STATUS_OK, STATUS_REJECTED, STATUS_REJECTED, STATUS_OK]
    assert results["code"][1] == CODE_NUMBER["RiskLimitExceeded"]
    assert results["policy"][1] == 2  # QtyGate's registration index
    assert results["code"][2] == CODE_NUMBER["InvalidFieldValue"] and results["policy"][2] == 0
    assert results["flags"][0] & RESULT_COMMITTED
    assert ("start", "Gate") in log


def test_should_hand_out_reservations_and_finalize_them_by_record() -> None:
    for engine in (
        _custom_engine()[0],
        op.Engine.builder().no_sync().builtin(pol.build_order_validation()).build(),
    ):
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        results = engine.execute_batch(
            order_records(
                engine,
                account=[1, 2],
                instrument=iid,
                side=[1, 2],
                quantity=[1.0, 2.0],
                price=10.0,
                units="decimal",
            )
        )
        handles = results["reservation"]
        assert np.all(handles != 0) and len(set(handles)) == 2
        done = engine.execute_batch(finalize_records(handles, commit=True))
        assert list(done["status"]) == [STATUS_OK, STATUS_OK]
        again = engine.execute_batch(finalize_records(handles, commit=False))
        assert list(again["status"]) == [STATUS_ERROR, STATUS_ERROR], "handles are single use"
        one = functools.partial(order_records, engine, account=1, instrument=iid, side=1,
                                price=1, units="decimal")  # fmt: skip
        started = engine.execute_batch(one(quantity=1, kind=MSG_START))
        assert started["reservation"][0] != 0
        dry = engine.execute_batch(one(quantity=0, kind=MSG_DRY_ORDER))
        assert dry["status"][0] == STATUS_REJECTED


def test_should_answer_malformed_records_with_errors_not_exceptions() -> None:
    for engine in (
        _custom_engine()[0],
        op.Engine.builder().no_sync().builtin(pol.build_order_validation()).build(),
    ):
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        recs = order_records(engine, account=[1, 1, 1, 1], instrument=iid, side=1, quantity=1,
                             price=1, units="decimal")  # fmt: skip
        recs["instrument"][0] = 999
        recs["side"][1] = 7
        recs["kind"][2] = 200
        recs["amount"][3] = -5
        results = engine.execute_batch(recs)
        assert list(results["status"]) == [STATUS_ERROR] * 4
        assert results["code"][0] == CODE_NUMBER["UnknownInstrument"]
        assert results["code"][1] == CODE_NUMBER["InvalidFieldValue"]


def test_should_apply_report_records_in_batches() -> None:
    engine = (
        op.Engine.builder()
        .no_sync()
        .builtin(
            pol.build_pnl_bounds_killswitch().broker_barriers(
                pol.PnlBoundsBrokerBarrier("USD", op.param.Pnl(-100), None)
            )
        )
        .build()
    )
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    post = engine.execute_batch(
        report_records(
            engine,
            account=[5, 5],
            instrument=iid,
            side=1,
            pnl=[-60.0, -50.0],
            fee=0.0,
            units="decimal",
        )
    )
    assert list(post["status"]) == [STATUS_OK, STATUS_OK], "reports are applied, not rejected"
    assert list(post["count"]) == [0, 1]
    assert post["code"][1] == CODE_NUMBER["PnlKillSwitchTriggered"]
    assert not engine.start_pre_trade(make_order(op, account=5)).ok


def test_should_refuse_arrays_of_another_dtype() -> None:
    engine = op.Engine.builder().no_sync().builtin(pol.build_order_validation()).build()
    with pytest.raises(TypeError, match="ORDER_DTYPE"):
        engine.execute_batch(np.zeros(3, dtype=np.int64))


def test_should_read_missing_field_flags_alike_on_the_object_path() -> None:
    from openpit_shm.layout.records import ORDER_NO_ACCOUNT, ORDER_NO_AMOUNT, ORDER_NO_SIDE

    def engine(with_custom: bool) -> Any:
        b = (
            op.Engine.builder()
            .no_sync()
            .builtin(pol.build_order_validation())
            .builtin(
                pol.build_rate_limit().account_barriers(
                    pol.RateLimitAccountBarrier(
                        pol.RateLimit(10, datetime.timedelta(hours=1)),
                        op.param.AccountId.from_int(1),
                    )
                )
            )
        )
        if with_custom:
            b = b.pre_trade(Recorder(op, "PassThrough", []))
        return b.build()

    answers = []
    for with_custom in (False, True):
        e = engine(with_custom)
        iid = e.register_instrument(op.Instrument("AAPL", "USD"))
        recs = order_records(e, account=[1, 1, 1, 1], instrument=iid, side=1, quantity=1,
                             price=1, units="decimal")  # fmt: skip
        recs["flags"][1] |= ORDER_NO_ACCOUNT
        recs["flags"][2] |= ORDER_NO_AMOUNT
        recs["flags"][3] |= ORDER_NO_SIDE
        recs["side"][3] = 0
        res = e.execute_batch(recs)
        answers.append(
            [(int(r["status"]), int(r["code"]), int(r["policy"]), int(r["count"])) for r in res]
        )
    assert answers[0] == answers[1]
    assert answers[0][1][1] == CODE_NUMBER["MissingRequiredField"]
    assert answers[0][2][1] == CODE_NUMBER["MissingRequiredField"]
    assert answers[0][3][0] == STATUS_OK
