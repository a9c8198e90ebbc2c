"""ExecutionReport and its groups."""

from __future__ import annotations

import re

import numpy as np
import pytest

from openpit_shm.core import (
    ExecutionReport,
    ExecutionReportFillDetails,
    ExecutionReportOperation,
    ExecutionReportPositionImpact,
    FinancialImpact,
    Instrument,
)
from openpit_shm.param import (
    AccountId,
    Fee,
    MonetaryAmount,
    ParamError,
    Pnl,
    PositionEffect,
    PositionSide,
    Price,
    Quantity,
    Side,
    Trade,
)
from tests.param._support import exact

I = Instrument("S001", "USD")  # noqa: E741
A = AccountId.from_int(5)


def test_should_build_report_operations() -> None:
    o = ExecutionReportOperation(instrument=I, side="sell", account_id=A)
    assert (o._instrument, o._side, o._account_id) == (I, Side.SELL, A)
    assert o.side is Side.SELL
    assert ExecutionReportOperation(instrument=I, side=None, account_id=None).account_id is None
    shown = re.sub(
        r"0x[0-9a-f]+",
        "0x?",
        repr(ExecutionReportOperation(instrument=I, side=Side.BUY, account_id=A)),
    )
    assert shown == (
        'ExecutionReportOperation(underlying_asset=Some("S001"), settlement_asset=Some("USD"), '
        "account_id=Some(5), side=Ok(Some(Py(0x?))))"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"instrument": 1, "side": "BUY", "account_id": A},
            TypeError,
            "instrument must be openpit.core.Instrument",
        ),
        (
            {"instrument": I, "side": "x", "account_id": A},
            TypeError,
            "ValueError: invalid side \"x\"; expected 'buy' or 'sell'",
        ),
        (
            {"instrument": I, "side": 1, "account_id": A},
            TypeError,
            "side must be a str or openpit.Side",
        ),
        (
            {"instrument": I, "side": "BUY", "account_id": 1},
            TypeError,
            "account_id must be openpit.param.AccountId",
        ),
        (
            {"instrument": I},
            TypeError,
            "ExecutionReportOperation.__init__() missing 2 required keyword-only arguments: "
            "'side' and 'account_id'",
        ),
    ],
)
def test_should_type_check_report_operations(
    kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=exact(message)):
        ExecutionReportOperation(**kwargs)  # type: ignore[arg-type]


def test_should_build_financial_impacts_from_values_and_literals() -> None:
    p = Pnl("1.5")
    f = FinancialImpact(pnl=p, fee="0.1")
    assert f._pnl is p and f.pnl is p
    assert type(f._fee) is Fee and str(f.fee) == "0.1"
    assert repr(f) == 'FinancialImpact(pnl="1.5", fee="0.1")'


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: FinancialImpact(pnl=Price(1), fee=Fee(1)),
            TypeError,
            "Pnl must be a Decimal, str, int, or float",
        ),
        (
            lambda: FinancialImpact(pnl=None, fee=Fee(1)),
            ValueError,
            "Pnl must be a Decimal, str, int, or float",
        ),
        (lambda: FinancialImpact(pnl=Pnl(1), fee="x"), ParamError, "invalid format for Fee: 'x'"),
        (
            lambda: FinancialImpact(pnl=Pnl(1)),
            TypeError,
            "FinancialImpact.__new__() missing 1 required keyword argument: 'fee'",
        ),
        (
            lambda: FinancialImpact(),
            TypeError,
            "FinancialImpact.__new__() missing 2 required keyword arguments: 'pnl' and 'fee'",
        ),
        (
            lambda: FinancialImpact(Pnl(1), Fee(1)),
            TypeError,
            "FinancialImpact.__new__() takes 0 positional arguments but 2 were given",
        ),
        (
            lambda: FinancialImpact(pnl=Pnl(1), fee=Fee(1), x=1),
            TypeError,
            "FinancialImpact.__new__() got an unexpected keyword argument 'x'",
        ),
    ],
)
def test_should_validate_financial_impacts(call: object, error: type, message: str) -> None:
    with pytest.raises(error, match=exact(message)):
        call()  # type: ignore[operator]


def test_should_build_fill_details_around_a_lock(lock_cls: type) -> None:
    lock = lock_cls()
    trade = Trade(price=Price(1), quantity=Quantity(2))
    fee = MonetaryAmount(Fee(1), "USD")
    fill = ExecutionReportFillDetails(
        last_trade=trade, fee=fee, remaining_reserved_quantity="3", lock=lock, is_final=True
    )
    assert fill._lock is lock and fill.lock is lock
    assert fill.last_trade is trade and fill.fee is fee and fill.is_final is True
    assert type(fill.remaining_reserved_quantity) is Quantity
    assert ExecutionReportFillDetails(lock=lock, is_final=np.bool_(False)).is_final is False
    assert repr(fill) == (
        'ExecutionReportFillDetails(last_trade=Some("Trade(price=\\"1\\", quantity=\\"2\\")"), '
        'fee=Some(MonetaryAmount { amount: Fee(1), currency: Asset("USD") }), '
        f'remaining_reserved_quantity=Some("3"), lock={_debug(repr(lock))}, is_final=Some(true))'
    )


def _debug(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {},
            TypeError,
            "ExecutionReportFillDetails.__new__() missing 1 required keyword argument: 'lock'",
        ),
        ({"fee": 5}, TypeError, "fee must be openpit.param.MonetaryAmount"),
        ({"lock": None}, TypeError, "'None' is not an instance of 'Lock'"),
        ({"lock": [(0, 1)]}, TypeError, "'list' object is not an instance of 'Lock'"),
        ({"last_trade": 5, "lock": None}, TypeError, "'int' object is not an instance of 'Trade'"),
        (
            {"remaining_reserved_quantity": True, "lock": None},
            ValueError,
            "Quantity must be a Decimal, str, int, or float",
        ),
        (
            {"remaining_reserved_quantity": Price(3), "lock": None},
            TypeError,
            "Quantity must be a Decimal, str, int, or float",
        ),
        (
            {"remaining_reserved_quantity": "-1", "lock": None},
            ParamError,
            "value must be non-negative for Quantity",
        ),
        ({"is_final": 1, "lock": None}, TypeError, "'int' object is not an instance of 'bool'"),
        (
            {"lock": None, "x": 1},
            TypeError,
            "ExecutionReportFillDetails.__new__() got an unexpected keyword argument 'x'",
        ),
    ],
)
def test_should_validate_fill_details_in_openpits_order(
    lock_cls: type, kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=exact(message)):
        ExecutionReportFillDetails(**kwargs)  # type: ignore[arg-type]


def test_should_reject_positional_fill_details(lock_cls: type) -> None:
    with pytest.raises(
        TypeError,
        match=exact(
            "ExecutionReportFillDetails.__new__() takes 0 positional arguments but 1 was given"
        ),
    ):
        ExecutionReportFillDetails(lock_cls())  # type: ignore[misc]


def test_should_build_position_impacts() -> None:
    p = ExecutionReportPositionImpact(position_effect="open", position_side="SHORT")
    assert p.position_effect is PositionEffect.OPEN and p._position_side is PositionSide.SHORT
    assert ExecutionReportPositionImpact().position_effect is None
    shown = re.sub(r"0x[0-9a-f]+", "0x?", repr(p))
    assert shown == (
        "ExecutionReportPositionImpact(position_effect=Ok(Some(Py(0x?))), "
        "position_side=Ok(Some(Py(0x?))))"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"position_effect": "x"},
            "ValueError: invalid position effect \"x\"; expected 'open' or 'close'",
        ),
        ({"position_effect": 1}, "position_effect must be a str or openpit.PositionEffect"),
        (
            {"position_side": "x"},
            "ValueError: invalid position side \"x\"; expected 'long' or 'short'",
        ),
        ({"position_side": 1}, "position_side must be a str or openpit.PositionSide"),
    ],
)
def test_should_type_check_position_impacts(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=exact(message)):
        ExecutionReportPositionImpact(**kwargs)  # type: ignore[arg-type]


def test_should_build_reports_from_optional_groups() -> None:
    fin = FinancialImpact(pnl=Pnl(1), fee=Fee(0))
    r = ExecutionReport(financial_impact=fin)
    assert r._financial_impact is fin and r.financial_impact is fin
    assert (r._operation, r._fill, r._position_impact) == (None, None, None)
    assert repr(r) == (
        "ExecutionReport(operation=None, "
        'financial_impact=Some("FinancialImpact(pnl=\\"1\\", fee=\\"0\\")"), '
        "fill=None, position_impact=None)"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operation": 5}, "operation must be openpit.core.ExecutionReportOperation"),
        ({"financial_impact": 5}, "financial_impact must be openpit.core.FinancialImpact"),
        ({"fill": 5}, "fill must be openpit.core.ExecutionReportFillDetails"),
        (
            {"position_impact": 5},
            "position_impact must be openpit.core.ExecutionReportPositionImpact",
        ),
    ],
)
def test_should_type_check_report_groups(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=exact(message)):
        ExecutionReport(**kwargs)  # type: ignore[arg-type]


def test_should_keep_a_subclassed_report_and_its_extra_attributes() -> None:
    class VenueReport(ExecutionReport):
        pass

    r = VenueReport(operation=ExecutionReportOperation(instrument=I, side="BUY", account_id=A))
    r.exec_id = "e-1"  # type: ignore[attr-defined]
    assert r.exec_id == "e-1"  # type: ignore[attr-defined]
    assert r.operation.side is Side.BUY  # type: ignore[union-attr]
