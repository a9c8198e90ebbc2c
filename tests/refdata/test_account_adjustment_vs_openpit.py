"""Differential tests: openpit_shm.account_adjustment against openpit 0.10's.

Every construction runs on both sides and must return the same repr and
property values or raise the same exception type and message. The malformed
table crosses every argument of every model with wrong types, None, NaN,
infinities, negatives, huge values and bad strings.
"""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from tests.refdata._sides import OURS, THEIRS, Case, public_properties, same


def _instrument(m: SimpleNamespace) -> Any:
    return m.core.Instrument("AAPL", "USD")


def _delta(m: SimpleNamespace, v: Any = "1.50") -> Any:
    return m.param.AdjustmentAmount.delta(m.param.PositionSize(v))


def _absolute(m: SimpleNamespace, v: Any = "-3") -> Any:
    return m.param.AdjustmentAmount.absolute(m.param.PositionSize(v))


def _position(m: SimpleNamespace, **kw: Any) -> Any:
    fields: dict[str, Any] = {
        "instrument": _instrument(m),
        "collateral_asset": m.param.Asset("USD"),
        "average_entry_price": m.param.Price("100.5"),
        "mode": m.param.PositionMode.NETTING,
    }
    fields.update({k: (v(m) if callable(v) else v) for k, v in kw.items()})
    return m.aa.PositionOperation(**fields)


VALID: dict[str, Case] = {
    "amount-empty": lambda m: m.aa.Amount(),
    "amount-balance": lambda m: m.aa.Amount(balance=_delta(m)),
    "amount-all": lambda m: m.aa.Amount(
        balance=_delta(m), held=_absolute(m), incoming=_delta(m, 0)
    ),
    "amount-none": lambda m: m.aa.Amount(balance=None, held=None, incoming=None),
    "balance-asset": lambda m: m.aa.BalanceOperation(asset=m.param.Asset("USD")),
    "balance-str": lambda m: m.aa.BalanceOperation(asset="USD"),
    "balance-none": lambda m: m.aa.BalanceOperation(asset=None),
    "balance-escapes": lambda m: m.aa.BalanceOperation(asset='U"S\\D\n\x1c'),
    "balance-full": lambda m: m.aa.BalanceOperation(
        asset="USD", average_entry_price=m.param.Price("1.5"), realized_pnl=m.param.Pnl(-3)
    ),
    "balance-halt": lambda m: m.aa.BalanceOperation(
        asset="USD", realized_pnl=m.pretrade.PnlHaltReason.MISSING_FX
    ),
    "balance-coerce": lambda m: m.aa.BalanceOperation(
        asset="EUR", average_entry_price=Decimal("1.50"), realized_pnl="-2.25"
    ),
    "balance-int-float": lambda m: m.aa.BalanceOperation(
        asset="EUR", average_entry_price=-1, realized_pnl=2.5
    ),
    "position": _position,
    "position-hedged-lev": lambda m: _position(
        m, mode=lambda m: m.param.PositionMode.HEDGED, leverage=lambda m: m.param.Leverage(10)
    ),
    "position-lev-int": lambda m: _position(m, leverage=10),
    "position-lev-float": lambda m: _position(m, leverage=2.5),
    "position-lev-tenth": lambda m: _position(m, leverage=1.1),
    "position-mode-str": lambda m: _position(m, mode="netting"),
    "position-mode-upper": lambda m: _position(m, mode="  HEDGED\t"),
    "position-mode-none": lambda m: _position(m, mode=None),
    "position-optional-none": lambda m: _position(
        m, collateral_asset=None, average_entry_price=None
    ),
    "position-str-price": lambda m: _position(m, collateral_asset="EUR", average_entry_price="7"),
    "pnl-value": lambda m: m.aa.AccountPnlOperation(state=m.param.Pnl("5.00")),
    "pnl-halt": lambda m: m.aa.AccountPnlOperation(
        state=m.pretrade.PnlHaltReason.ARITHMETIC_OVERFLOW
    ),
    "pnl-int": lambda m: m.aa.AccountPnlOperation(state=5),
    "pnl-str": lambda m: m.aa.AccountPnlOperation(state="-0.001"),
    "bounds-empty": lambda m: m.aa.Bounds(),
    "bounds-all": lambda m: m.aa.Bounds(
        balance_upper=m.param.PositionSize(1),
        balance_lower=m.param.PositionSize(-1),
        held_upper=m.param.PositionSize("2.50"),
        held_lower=0,
        incoming_upper="3",
        incoming_lower=4.5,
    ),
    "adjustment-empty": lambda m: m.aa.Adjustment(),
    "adjustment-balance": lambda m: m.aa.Adjustment(
        operation=m.aa.BalanceOperation(asset="USD"),
        amount=m.aa.Amount(balance=_delta(m, 100)),
        bounds=m.aa.Bounds(balance_lower=m.param.PositionSize(0)),
    ),
    "adjustment-pnl": lambda m: m.aa.Adjustment(
        operation=m.aa.AccountPnlOperation(state=m.param.Pnl(5))
    ),
    "adjustment-position": lambda m: m.aa.Adjustment(operation=_position(m)),
    "adjustment-halt": lambda m: m.aa.Adjustment(
        operation=m.aa.BalanceOperation(
            asset="BTC", realized_pnl=m.pretrade.PnlHaltReason.MISSING_COST_BASIS
        ),
        amount=m.aa.Amount(held=_absolute(m), incoming=_delta(m)),
    ),
    "top-level-names": lambda m: m.top.AccountAdjustment(
        operation=m.top.AccountAdjustmentBalanceOperation(asset="USD"),
        amount=m.top.AccountAdjustmentAmount(balance=_delta(m)),
        bounds=m.top.AccountAdjustmentBounds(held_upper=1),
    ),
    "core-names": lambda m: m.core.AccountAdjustment(
        operation=m.core.AccountAdjustmentAccountPnlOperation(state=1),
    ),
    "core-position-name": lambda m: m.core.AccountAdjustmentPositionOperation(
        instrument=_instrument(m), collateral_asset="USD", average_entry_price=1, mode="hedged"
    ),
}


@pytest.mark.parametrize("name", VALID)
def test_should_build_the_same_model_as_openpit(name: str) -> None:
    same(VALID[name])
    same(VALID[name], compare=public_properties)


# ----------------------------------------------------------------------------- malformed inputs

# Values that are not of the module under test; module-specific ones are functions of the side.
BAD_VALUES: dict[str, Any] = {
    "none": None,
    "int": 1,
    "negative": -1,
    "float": 1.5,
    "nan": float("nan"),
    "inf": float("inf"),
    "-inf": float("-inf"),
    "true": True,
    "huge-int": 10**40,
    "u64-max+1": 2**64,
    "decimal-tiny": Decimal("1e-30"),
    "decimal-nan": Decimal("NaN"),
    "empty-str": "",
    "blank-str": " \t",
    "bad-str": "abc",
    "exp-str": "1e3",
    "bytes": b"USD",
    "list": [],
    "object": object,
    "pnl": lambda m: m.param.Pnl(1),
    "price": lambda m: m.param.Price(1),
    "position-size": lambda m: m.param.PositionSize(1),
    "adjustment-amount": lambda m: _delta(m),
    "halt": lambda m: m.pretrade.PnlHaltReason.MISSING_FX,
    "instrument": _instrument,
    "leverage": lambda m: m.param.Leverage(3),
    "mode-bad": "sideways",
    "mode-nbsp": "\xa0hedged\u3000",
    "mode-info-separator": "\x1cnetting",
    "mode-non-ascii-upper": "NETT\u0130NG",
    "mode-quote": 'net"ting',
    "mode-enum-other": lambda m: m.param.Side.BUY,
    "balance-op": lambda m: m.aa.BalanceOperation(asset="USD"),
    "amount": lambda m: m.aa.Amount(),
    "bounds": lambda m: m.aa.Bounds(),
}

# (model, required arguments, every argument)
MODELS: dict[str, tuple[Any, dict[str, Any], tuple[str, ...]]] = {
    "Amount": (lambda m: m.aa.Amount, {}, ("balance", "held", "incoming")),
    "BalanceOperation": (
        lambda m: m.aa.BalanceOperation,
        {"asset": "USD"},
        ("asset", "average_entry_price", "realized_pnl"),
    ),
    "PositionOperation": (
        lambda m: m.aa.PositionOperation,
        {
            "instrument": _instrument,
            "collateral_asset": "USD",
            "average_entry_price": 1,
            "mode": "netting",
        },
        ("instrument", "collateral_asset", "average_entry_price", "mode", "leverage"),
    ),
    "AccountPnlOperation": (lambda m: m.aa.AccountPnlOperation, {"state": 1}, ("state",)),
    "Bounds": (
        lambda m: m.aa.Bounds,
        {},
        (
            "balance_upper",
            "balance_lower",
            "held_upper",
            "held_lower",
            "incoming_upper",
            "incoming_lower",
        ),
    ),
    "Adjustment": (lambda m: m.aa.Adjustment, {}, ("operation", "amount", "bounds")),
}


def _value(v: Any, m: SimpleNamespace) -> Any:
    if v is object:
        return object()
    return v(m) if callable(v) else v


def _malformed_case(model: str, field: str, bad: str) -> Case:
    cls_of, required, _ = MODELS[model]

    def build(m: SimpleNamespace) -> Any:
        kwargs = {k: _value(v, m) for k, v in required.items()}
        kwargs[field] = _value(BAD_VALUES[bad], m)
        return cls_of(m)(**kwargs)

    return build


MALFORMED = [
    pytest.param(model, field, bad, id=f"{model}.{field}={bad}")
    for model, (_, _, fields) in MODELS.items()
    for field in fields
    for bad in BAD_VALUES
]


@pytest.mark.parametrize(("model", "field", "bad"), MALFORMED)
def test_should_accept_or_refuse_each_argument_value_as_openpit_does(
    model: str, field: str, bad: str
) -> None:
    same(_malformed_case(model, field, bad))


CALL_ERRORS: dict[str, Case] = {
    "amount-positional": lambda m: m.aa.Amount(1),
    "amount-unknown-kw": lambda m: m.aa.Amount(foo=1),
    "balance-missing": lambda m: m.aa.BalanceOperation(),
    "balance-positional": lambda m: m.aa.BalanceOperation("USD"),
    "balance-unknown-kw": lambda m: m.aa.BalanceOperation(asset="USD", x=1),
    "position-missing-all": lambda m: m.aa.PositionOperation(),
    "position-missing-one": lambda m: m.aa.PositionOperation(
        collateral_asset="USD", average_entry_price=1, mode="netting"
    ),
    "pnl-missing": lambda m: m.aa.AccountPnlOperation(),
    "pnl-positional": lambda m: m.aa.AccountPnlOperation(1),
    "pnl-unknown-kw": lambda m: m.aa.AccountPnlOperation(state=1, x=1),
    "pnl-two-positional": lambda m: m.aa.AccountPnlOperation(1, 2),
    "bounds-positional": lambda m: m.aa.Bounds(1),
    "bounds-unknown-kw": lambda m: m.aa.Bounds(upper=1),
    "adjustment-positional": lambda m: m.aa.Adjustment(1),
    "adjustment-unknown-kw": lambda m: m.aa.Adjustment(x=1),
}


@pytest.mark.parametrize("name", CALL_ERRORS)
def test_should_refuse_a_malformed_call_with_openpits_text(name: str) -> None:
    same(CALL_ERRORS[name])


# ----------------------------------------------------------------------------- object behaviour

ASSIGNMENTS = [
    ("Amount", "balance", None),
    ("BalanceOperation", "asset", "EUR"),
    ("BalanceOperation", "realized_pnl", None),
    ("PositionOperation", "instrument", None),
    ("PositionOperation", "mode", None),
    ("PositionOperation", "leverage", None),
    ("AccountPnlOperation", "state", 1),
    ("Bounds", "held_upper", None),
    ("Adjustment", "amount", None),
    ("Adjustment", "operation", None),
    ("Adjustment", "extra_attribute", 5),
    ("PositionOperation", "underlying_asset", "MSFT"),
    ("PositionOperation", "settlement_asset", None),
    ("PositionOperation", "settlement_asset", ""),
    ("PositionOperation", "underlying_asset", 5),
]


@pytest.mark.parametrize(("model", "field", "value"), ASSIGNMENTS)
def test_should_treat_attribute_assignment_as_openpit_does(
    model: str, field: str, value: Any
) -> None:
    cls_of, required, _ = MODELS[model]

    def assign(m: SimpleNamespace) -> Any:
        obj = cls_of(m)(**{k: _value(v, m) for k, v in required.items()})
        setattr(obj, field, value)
        return (repr(obj), getattr(obj, field))

    same(assign)


def test_should_compare_and_hash_by_identity_as_openpit_does() -> None:
    names = ("amount-all", "balance-full", "position", "pnl-value", "bounds-all", "adjustment-pnl")
    for name in names:
        same(lambda m, name=name: VALID[name](m) == VALID[name](m))
        same(lambda m, name=name: (lambda o: (o == o, o != o, hash(o) == hash(o)))(VALID[name](m)))


def test_should_return_the_given_groups_and_instrument_objects() -> None:
    for m in (THEIRS, OURS):
        op = m.aa.BalanceOperation(asset="USD")
        amount = m.aa.Amount(balance=_delta(m))
        bounds = m.aa.Bounds()
        adj = m.aa.Adjustment(operation=op, amount=amount, bounds=bounds)
        assert adj.operation is op and adj.amount is amount and adj.bounds is bounds
        instrument = _instrument(m)
        assert _position(m, instrument=lambda _, i=instrument: i).instrument is instrument


def test_should_reinitialise_in_place_as_openpit_does() -> None:
    def reinit(m: SimpleNamespace) -> Any:
        op = m.aa.BalanceOperation(asset="USD")
        op.__init__(asset="EUR", realized_pnl=2)
        pnl = m.aa.AccountPnlOperation(state=1)
        pnl.__init__(state=3)
        return (repr(op), repr(pnl))

    same(reinit)


def test_should_let_users_subclass_and_extend_the_models() -> None:
    def subclass(m: SimpleNamespace) -> Any:
        class Tagged(m.aa.Adjustment):
            def __init__(self, *, tag: str, **kw: Any) -> None:
                super().__init__(**kw)
                self.tag = tag

        class MyBalance(m.aa.BalanceOperation):
            def __repr__(self) -> str:
                return "mine"

        adj = Tagged(tag="t", operation=MyBalance(asset="USD"))
        return (repr(adj), adj.tag, isinstance(adj, m.aa.Adjustment), repr(adj.operation))

    same(subclass)


def test_should_copy_a_subclassed_adjustment_amount_into_a_plain_one() -> None:
    def sub_amount(m: SimpleNamespace) -> Any:
        class Mine(m.param.AdjustmentAmount):
            pass

        amount = m.aa.Amount(balance=Mine(_delta(m)))
        return (type(amount.balance).__name__, repr(amount.balance), repr(amount))

    same(sub_amount)


def test_should_pickle_the_models_unlike_openpit_deliberately() -> None:
    # openpit refuses; openpit_shm pickles so the sharded engine can ship adjustments to workers.
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(VALID["adjustment-balance"](THEIRS))
    for name, case in VALID.items():
        obj = case(OURS)
        for clone in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj)):
            assert type(clone) is type(obj), name
            assert repr(clone) == repr(obj) or "Py(0x" in repr(obj), name
            assert public_properties(clone).keys() == public_properties(obj).keys()


def test_should_show_the_mode_member_address_in_the_position_repr() -> None:
    # openpit prints the PositionMode object as Rust's Debug of a Py handle: its address.
    for m in (THEIRS, OURS):
        for mode in (m.param.PositionMode.NETTING, m.param.PositionMode.HEDGED):
            text = repr(_position(m, mode=mode))
            assert f"mode=Ok(Some(Py({id(mode):#x})))" in text
