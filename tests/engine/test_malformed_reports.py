"""Malformed report records get ``STATUS_ERROR`` on every door, like malformed orders.

A ``MSG_REPORT`` record whose side is neither BUY nor SELL (without
``REPORT_NO_SIDE``), or whose flags carry a bit a report does not define, must
not move anyone's P&L: it is answered ``STATUS_ERROR`` with the engine's
``InvalidFieldValue`` / ``InvalidFieldFormat`` and the reason number saying
which field. The doors: the in-process batch (kernels), the in-process batch
of an engine with a custom policy (the record door), and a one-worker sharded
engine with and without a custom policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.kernels.codes import RSN_BAD_FLAGS, RSN_BAD_SIDE
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_REPORT,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    ORDER_VOLUME,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    REPORT_NO_SIDE,
    SIDE_BUY,
    SIDE_SELL,
    STATUS_ERROR,
    STATUS_OK,
)
from tests.records import stamped

pol = op.pretrade.policies
P = op.param
REPORT = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
LOSS = -500 * 10**8  # beyond the -100 lower bound: a well-formed report blocks the account

# (side, flags, expected (status, code name, reason) or None = a well-formed report)
CASES: list[tuple[int, int, tuple[int, str, int] | None]] = [
    (SIDE_BUY, REPORT, None),
    (SIDE_SELL, REPORT, None),
    (0, REPORT | REPORT_NO_SIDE, None),  # an operation without a side (openpit allows it)
    (9, REPORT | REPORT_NO_SIDE, None),  # a field flagged absent is not read
    (SIDE_SELL, REPORT | ORDER_NO_ACCOUNT, None),  # no account: openpit allows it
    *[(side, REPORT, (STATUS_ERROR, "InvalidFieldValue", RSN_BAD_SIDE)) for side in (0, 3, 9, 255)],
    *[
        (SIDE_BUY, REPORT | bit, (STATUS_ERROR, "InvalidFieldFormat", RSN_BAD_FLAGS))
        for bit in (
            1 << 8,
            1 << 12,
            0x8000,
            ORDER_HAS_PRICE,
            ORDER_VOLUME,
            ORDER_AUTO_COMMIT,
            ORDER_NO_AMOUNT,
        )
    ],
    (SIDE_BUY, 0x8000, (STATUS_ERROR, "InvalidFieldFormat", RSN_BAD_FLAGS)),  # no operation
    (SIDE_BUY, REPORT_HAS_FINANCIAL | 0x8000, (STATUS_ERROR, "InvalidFieldFormat", RSN_BAD_FLAGS)),
]


class Quiet(op.pretrade.Policy):
    """A custom policy that decides nothing: its presence sends records through the record door."""

    @property
    def name(self) -> str:
        return "Quiet"

    def apply_execution_report(self, ctx: Any, report: Any) -> Any:
        return None


def _builder(custom: bool) -> Any:
    kill_switch = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", P.Pnl(-100), P.Pnl(10**6))
    )
    builder = op.Engine.builder().account_sync().builtin(kill_switch)
    return builder.pre_trade(Quiet()) if custom else builder


def _records(instrument: int) -> np.ndarray:
    rec = np.zeros(len(CASES), dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(len(CASES)) + 1
    rec["account"] = np.arange(len(CASES)) + 100  # one account each: blocks stay apart
    rec["instrument"] = instrument
    rec["kind"] = MSG_REPORT
    rec["side"] = [side for side, _, _ in CASES]
    rec["flags"] = [flags for _, flags, _ in CASES]
    rec["pnl"] = LOSS
    return rec


def _check(engine: Any) -> None:
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    got = engine.execute_batch(stamped(_records(iid), engine))
    assert got["seq"].tolist() == list(range(1, len(CASES) + 1))
    for i, (side, flags, expected) in enumerate(CASES):
        actual = (int(got["status"][i]), int(got["code"][i]), int(got["reason"][i]))
        case = f"side {side} flags {flags:#x}: {actual}"
        if expected is None:
            assert actual[0] == STATUS_OK, case
            if not flags & ORDER_NO_ACCOUNT:  # the loss is applied and trips the kill switch
                assert actual[1] == CODE_NUMBER["PnlKillSwitchTriggered"], case
            continue
        status, code, reason = expected
        assert actual == (status, CODE_NUMBER[code], reason), case
        assert got["policy"][i] == POLICY_ENGINE and got["count"][i] == 1, case
        assert got["d0"][i] == (side if reason == RSN_BAD_SIDE else flags), case
    # Nothing of a refused report was applied: its account can still trade.
    order = op.Order(
        operation=op.OrderOperation(
            instrument=op.Instrument("AAPL", "USD"),
            account_id=P.AccountId.from_int(100 + next(i for i, c in enumerate(CASES) if c[2])),
            side=P.Side.BUY,
            trade_amount=P.TradeAmount.quantity("1"),
            price=P.Price("1"),
        )
    )
    engine.accounts().unblock_all()  # the report without an account blocked the engine
    assert engine.execute_pre_trade(order).ok


@pytest.fixture(params=["builtin", "custom"])
def custom(request: pytest.FixtureRequest) -> bool:
    return request.param == "custom"


def test_should_refuse_malformed_reports_in_process(custom: bool) -> None:
    _check(_builder(custom).build())


def _sharded(custom: bool) -> Iterator[Any]:
    engine = _builder(custom).sharded(workers=1, timeout=10.0).build()
    with engine:
        yield engine


@pytest.mark.parametrize("custom_policy", [False, True], ids=["builtin", "custom"])
def test_should_refuse_malformed_reports_in_a_sharded_engine(custom_policy: bool) -> None:
    for engine in _sharded(custom_policy):
        _check(engine)


def test_should_match_the_in_process_answers_field_by_field() -> None:
    results: list[np.ndarray] = []
    for custom_policy in (False, True):
        engine = _builder(custom_policy).build()
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        results.append(engine.execute_batch(_records(iid)))
    kernel, door = results
    assert kernel["status"].tolist() == door["status"].tolist()
    refused = [i for i, case in enumerate(CASES) if case[2] is not None]
    for field in ("code", "policy", "reason", "count", "d0"):
        assert kernel[field][refused].tolist() == door[field][refused].tolist(), field
