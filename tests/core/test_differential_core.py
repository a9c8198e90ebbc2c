"""Differential tests: openpit_shm.core against the real openpit 0.10 (the oracle).

Group constructors get the same arguments in both packages (each side with
its own value objects) and must return the same repr or raise the same
exception type and message.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import openpit_shm.core as our_core
import openpit_shm.param as our_param
from tests.param._support import outcome

openpit_core = pytest.importorskip("openpit.core")
openpit_param = pytest.importorskip("openpit.param")
openpit_pretrade = pytest.importorskip("openpit.pretrade")

Build = Callable[[ModuleType, ModuleType], Any]


def same(build: Build) -> None:
    theirs = outcome(lambda: build(openpit_core, openpit_param))
    mine = outcome(lambda: build(our_core, our_param))
    assert mine == theirs


def _op(c: ModuleType, p: ModuleType, **kw: Any) -> Any:
    fields = {
        "instrument": c.Instrument("S001", "USD"),
        "side": p.Side.BUY,
        "trade_amount": p.TradeAmount.quantity(p.Quantity("12")),
        "account_id": p.AccountId.from_int(5),
        "price": p.Price("101.25"),
    }
    fields.update({k: (v(c, p) if callable(v) else v) for k, v in kw.items()})
    return c.OrderOperation(**fields)


OPERATION_CASES: list[dict[str, Any]] = [
    {},
    {"side": "buy"},
    {"side": "SELL"},
    {"side": "x"},
    {"side": 1},
    {"side": None},
    {"side": lambda c, p: p.PositionSide.LONG},
    {"price": "101.25"},
    {"price": 101},
    {"price": 101.5},
    {"price": Decimal("1.50")},
    {"price": "abc"},
    {"price": True},
    {"price": float("nan")},
    {"price": None},
    {"price": lambda c, p: p.Quantity(1)},
    {"trade_amount": "12"},
    {"trade_amount": None},
    {"trade_amount": lambda c, p: p.TradeAmount.volume("1.50")},
    {"account_id": 5},
    {"account_id": None},
    {"instrument": None},
    {"instrument": ("S", "U")},
    {"side": 1, "trade_amount": 1, "account_id": 1, "price": "x"},
    {"trade_amount": 1, "price": "x"},
]


@pytest.mark.parametrize("overrides", OPERATION_CASES)
def test_should_build_order_operations_like_openpit(overrides: dict[str, Any]) -> None:
    same(lambda c, p: _op(c, p, **overrides))
    same(
        lambda c, p: (lambda o: (o.side, o.price, o.account_id, o.trade_amount))(
            _op(c, p, **overrides)
        )
    )
    same(lambda c, p: c.Order(operation=_op(c, p, **overrides)))


GROUP_CASES: list[Build] = [
    lambda c, p: c.Order(),
    lambda c, p: c.Order(operation=5),
    lambda c, p: c.Order(position=5),
    lambda c, p: c.Order(margin=c.OrderPosition()),
    lambda c, p: c.Order(c.OrderPosition()),
    lambda c, p: c.Order(
        position=c.OrderPosition(position_side="LONG"), margin=c.OrderMargin(leverage=2)
    ),
    lambda c, p: c.OrderPosition(position_side="long", reduce_only=True),
    lambda c, p: c.OrderPosition(position_side="x"),
    lambda c, p: c.OrderPosition(position_side=1),
    lambda c, p: c.OrderPosition(reduce_only=1),
    lambda c, p: c.OrderPosition(close_position=None),
    lambda c, p: c.OrderPosition(x=1),
    lambda c, p: c.OrderMargin(leverage=2.5, collateral_asset="USD", auto_borrow=True),
    lambda c, p: c.OrderMargin(leverage=p.Leverage(1.3)),
    lambda c, p: c.OrderMargin(leverage=0),
    lambda c, p: c.OrderMargin(leverage="3"),
    lambda c, p: c.OrderMargin(collateral_asset=""),
    lambda c, p: c.OrderMargin(collateral_asset=1),
    lambda c, p: c.OrderMargin(auto_borrow=1),
    lambda c, p: c.ExecutionReportOperation(
        instrument=c.Instrument("S", "U"), side="sell", account_id=p.AccountId.from_int(1)
    ),
    lambda c, p: c.ExecutionReportOperation(
        instrument=c.Instrument("S", "U"), side=None, account_id=None
    ),
    lambda c, p: c.ExecutionReportOperation(instrument=None, side=None, account_id=None),
    lambda c, p: c.ExecutionReportOperation(
        instrument=c.Instrument("S", "U"), side="x", account_id=None
    ),
    lambda c, p: c.ExecutionReportOperation(instrument=c.Instrument("S", "U")),
    lambda c, p: c.FinancialImpact(pnl=p.Pnl("1.5"), fee=p.Fee("0.1")),
    lambda c, p: c.FinancialImpact(pnl="1.5", fee=1),
    lambda c, p: c.FinancialImpact(pnl=p.Price(1), fee=p.Fee(1)),
    lambda c, p: c.FinancialImpact(pnl=None, fee=p.Fee(1)),
    lambda c, p: c.FinancialImpact(pnl=p.Pnl(1)),
    lambda c, p: c.FinancialImpact(),
    lambda c, p: c.FinancialImpact(p.Pnl(1), p.Fee(1)),
    lambda c, p: c.FinancialImpact(pnl=p.Pnl(1), fee=p.Fee(1), x=1),
    lambda c, p: c.ExecutionReportPositionImpact(position_effect="OPEN", position_side="long"),
    lambda c, p: c.ExecutionReportPositionImpact(position_effect="x"),
    lambda c, p: c.ExecutionReportPositionImpact(position_effect=1),
    lambda c, p: c.ExecutionReportPositionImpact(position_side="x"),
    lambda c, p: c.ExecutionReport(),
    lambda c, p: c.ExecutionReport(financial_impact=c.FinancialImpact(pnl=p.Pnl(1), fee=p.Fee(0))),
    lambda c, p: c.ExecutionReport(operation=5),
    lambda c, p: c.ExecutionReport(fill=5),
    lambda c, p: c.ExecutionReport(position_impact=5),
    lambda c, p: c.InstrumentId(5),
    lambda c, p: c.InstrumentId(-1),
    lambda c, p: c.InstrumentId(2**64),
    lambda c, p: c.InstrumentId("5"),
    lambda c, p: c.InstrumentId(1) < c.InstrumentId(2),
    lambda c, p: (c.InstrumentId(5) == c.InstrumentId(5), c.InstrumentId(5) == 5),
]


@pytest.mark.parametrize("build", GROUP_CASES)
def test_should_build_groups_like_openpit(build: Build) -> None:
    same(build)


FILL_CASES: list[dict[str, Any]] = [
    {},
    {"last_trade": lambda c, p: p.Trade(price=p.Price(1), quantity=p.Quantity(2))},
    {"fee": lambda c, p: p.MonetaryAmount(p.Fee(1), "USD")},
    {"remaining_reserved_quantity": "3"},
    {"remaining_reserved_quantity": "-1"},
    {"remaining_reserved_quantity": True},
    {"is_final": True},
    {"is_final": 1},
    {"fee": 5},
    {"last_trade": 5},
    {"lock": None},
    {"lock": None, "is_final": 1},
    {"lock": None, "last_trade": 5},
    {"lock": None, "remaining_reserved_quantity": True},
    {"x": 1},
]


@pytest.mark.parametrize("overrides", FILL_CASES)
def test_should_build_fill_details_like_openpit(lock_cls: type, overrides: dict[str, Any]) -> None:
    def build(c: ModuleType, p: ModuleType) -> Any:
        lock = openpit_pretrade.Lock() if c is openpit_core else lock_cls()
        kwargs: dict[str, Any] = {"lock": lock}
        kwargs.update({k: (v(c, p) if callable(v) else v) for k, v in overrides.items()})
        fill = c.ExecutionReportFillDetails(**kwargs)
        # The lock's own repr belongs to the pretrade package; compare everything else.
        return (fill.last_trade, fill.fee, fill.remaining_reserved_quantity, fill.is_final)

    same(build)


text_chars = st.text(st.characters(max_codepoint=0x24F), max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # Rust's repr escapes by its own (newer) Unicode tables; the alphabet stays where
    # both agree: Latin, controls, quotes, backslashes and Rust's whitespace.
    st.one_of(text_chars, st.text(' \t\n\x1c\x85\xa0\u3000"\\x\x01é', max_size=4)),
    st.one_of(text_chars, st.sampled_from(["USD", "", " "])),
)
def test_should_build_instruments_like_openpit(underlying: str, settlement: str) -> None:
    same(lambda c, p: c.Instrument(underlying, settlement))
    same(
        lambda c, p: (lambda i: (i.underlying_asset, i.settlement_asset, hash(i)))(
            c.Instrument(underlying, settlement)
        )
    )


def test_should_export_openpits_model_names() -> None:
    names = [
        "Order",
        "OrderOperation",
        "OrderPosition",
        "OrderMargin",
        "Instrument",
        "ExecutionReport",
        "ExecutionReportOperation",
        "FinancialImpact",
        "ExecutionReportFillDetails",
        "ExecutionReportPositionImpact",
        "InstrumentId",
        "Mutation",
    ]
    for name in names:
        theirs, mine = getattr(openpit_core, name), getattr(our_core, name)
        public = {a for a in dir(theirs) if not a.startswith("_")}
        assert public <= set(dir(mine)), (name, public - set(dir(mine)))
