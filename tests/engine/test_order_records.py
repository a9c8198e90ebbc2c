"""order_records / report_records convert exactly or raise: units are explicit, nothing coerced.

Issue 9, defect 18: an int quantity used to be taken as raw fixed point and a
float as units (1000 shares passed a 500-share cap), out-of-range ids wrapped
(account -5 became 2**64 - 5, side 257 became 1), fractions truncated
(instrument 1.7 became 1, side 2.7 became SELL), floats changed value
(88161617.6 became 88161617.59999999) and a tiny scalar raised IndexError.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records, report_records
from openpit_shm.columns import fixed_column
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_DRY_ORDER,
    MSG_REPORT,
    ORDER_VOLUME,
    STATUS_OK,
    STATUS_REJECTED,
    RecordFormat,
)
from openpit_shm.param import FixedPointError

pol = op.pretrade.policies
QTY_CAP = "500"


def _capped(scale: int = 8) -> tuple[Any, int]:
    """An engine with a 500-share cap, and its AAPL/USD instrument id."""
    limit = pol.OrderSizeLimit(max_quantity=op.param.Quantity(QTY_CAP))
    engine = (
        op.Engine.builder().no_sync().with_fixed_point_scale(scale)
        .builtin(pol.build_order_size_limit().broker_barrier(pol.OrderSizeBrokerBarrier(limit)))
        .build()
    )  # fmt: skip
    return engine, engine.register_instrument(op.Instrument("AAPL", "USD"))


@pytest.mark.parametrize("scale", [8, 6, 2])
@pytest.mark.parametrize(
    ("quantity", "units"),
    [(1000, "decimal"), (1000.0, "decimal"), ("1000", "decimal"), (Decimal("1000.00"), "decimal"),
     ([1000], "decimal"), (np.array([1000], dtype=np.uint32), "decimal"), ("fixed", "fixed")],
)  # fmt: skip
def test_should_reject_1000_shares_against_a_500_cap_whatever_the_units(
    scale: int, quantity: Any, units: str
) -> None:
    engine, iid = _capped(scale)
    if units == "fixed":
        quantity = 1000 * 10**scale  # raw fixed point at the engine's scale
    orders = order_records(engine, account=7, instrument=iid, side="BUY", quantity=quantity,
                           price=10, units=units)  # fmt: skip
    assert int(orders["amount"][0]) == 1000 * 10**scale
    result = engine.execute_batch(orders)
    assert result["status"][0] == STATUS_REJECTED
    assert result["code"][0] == CODE_NUMBER["OrderQtyExceedsLimit"]
    within = order_records(engine, account=7, instrument=iid, side="BUY", quantity=500, price=10,
                           units="decimal")  # fmt: skip
    assert engine.execute_batch(within)["status"][0] == STATUS_OK


def test_should_require_units_and_refuse_floats_as_raw_fixed_point() -> None:
    engine, iid = _capped()
    with pytest.raises(TypeError, match="units"):
        order_records(engine, account=1, instrument=iid, side=1, quantity=1000)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="units must be"):
        order_records(engine, account=1, instrument=iid, side=1, quantity=1, units="shares")
    with pytest.raises(TypeError, match="units='fixed' takes integers"):
        order_records(engine, account=1, instrument=iid, side=1, quantity=1000.0, units="fixed")
    with pytest.raises(TypeError, match="units='fixed' takes integers"):
        order_records(engine, account=1, instrument=iid, side=1, quantity=1, price=10.5,
                      units="fixed")  # fmt: skip
    with pytest.raises(TypeError, match="engine"):
        order_records(account=1, instrument=iid, side=1, quantity=1, units="decimal")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="built for one engine"):
        order_records(8, account=1, instrument=iid, side=1, quantity=1, units="decimal")


# (field overrides, exception, message fragment)
REFUSED: list[tuple[dict, type[Exception], str]] = [
    ({"account": -5}, ValueError, "account -5 is out of range"),
    ({"account": 2**64}, ValueError, "out of range"),
    ({"account": [1, -1]}, ValueError, "out of range"),
    ({"account": np.array([-5], dtype=np.int64)}, ValueError, "out of range"),
    ({"account": 1.0}, TypeError, "account must be integers"),
    ({"account": True}, TypeError, "account must be integers"),
    ({"account": "7"}, TypeError, "account must be integers"),
    ({"instrument": 1.7}, TypeError, "instrument must be integers"),
    ({"instrument": np.array([0.0, 1.0])}, TypeError, "instrument must be integers"),
    ({"instrument": -1}, ValueError, "out of range"),
    ({"instrument": 2**31}, ValueError, "out of range"),
    ({"side": 257}, ValueError, "side 257 is out of range"),
    ({"side": 0}, ValueError, "out of range"),
    ({"side": 3}, ValueError, "out of range"),
    ({"side": np.array([1, 2, 258], dtype=np.int64)}, ValueError, "out of range"),
    ({"side": 2.7}, TypeError, "side must be integers"),
    ({"side": 2.0}, TypeError, "side must be integers"),
    ({"side": "buy"}, ValueError, "'buy' is neither"),
    ({"side": ["BUY", "sell"]}, ValueError, "'sell' is neither"),
    ({"side": True}, TypeError, "side must be integers"),
    ({"side": ["BUY", 2]}, TypeError, "side must be integers"),
    ({"quantity": -1}, ValueError, "quantity must not be negative"),
    ({"quantity": 1e-9}, FixedPointError, "more than 8 decimals"),  # was an IndexError
    ({"quantity": [1.0, 1e-9]}, FixedPointError, "more than 8 decimals"),
    ({"quantity": 0.123456789}, FixedPointError, "more than 8 decimals"),
    ({"quantity": "0.000000001"}, FixedPointError, "more than 8 decimals"),
    ({"quantity": Decimal("1.0000000000000000000000000001")}, FixedPointError, "decimals"),
    ({"quantity": float("nan")}, FixedPointError, "not a finite number"),
    ({"quantity": float("inf")}, FixedPointError, "not a finite number"),
    ({"quantity": "NaN"}, FixedPointError, "not a finite number"),
    ({"quantity": "ten"}, ValueError, "not a decimal number"),
    ({"quantity": 10**11}, FixedPointError, "does not fit int64"),
    ({"quantity": 1e11}, FixedPointError, "does not fit int64"),
    ({"quantity": "1E+30"}, FixedPointError, "does not fit int64"),
    ({"quantity": True}, TypeError, "boolean"),
    ({"price": 92233720368.54775807}, FixedPointError, "does not fit int64"),
    ({"price": -1e-9}, FixedPointError, "more than 8 decimals"),
    ({"seq": 1.5}, TypeError, "seq must be integers"),
    ({"seq": 2**63}, ValueError, "out of range"),
    ({"kind": MSG_REPORT}, ValueError, "kind must be one of"),
    ({"account": [1, 2], "side": [1, 2, 1]}, ValueError, "shape"),
    ({"account": [[1, 2]]}, ValueError, "1-d"),
]


@pytest.mark.parametrize(("fields", "error", "match"), REFUSED)
def test_should_refuse_what_does_not_convert_exactly(
    fields: dict, error: type[Exception], match: str
) -> None:
    engine, iid = _capped()
    args: dict[str, Any] = {"account": 7, "instrument": iid, "side": 1, "quantity": 1,
                            "price": 10, "units": "decimal", **fields}  # fmt: skip
    with pytest.raises(error, match=match):
        order_records(engine, **args)


def test_should_keep_u64_accounts_and_every_field_exact() -> None:
    engine, iid = _capped()
    recs = order_records(
        engine, account=[2**64 - 1, 0, 2**63], instrument=iid,
        side=["BUY", "SELL", op.param.Side.BUY],
        volume=88161617.6, price=["185.25", Decimal("0.00000001"), 1], units="decimal",
        kind=MSG_DRY_ORDER, seq=[-1, 0, 2**63 - 1],
    )  # fmt: skip
    assert recs["account"].tolist() == [2**64 - 1, 0, 2**63]
    assert recs["side"].tolist() == [1, 2, 1]
    assert recs["amount"].tolist() == [8816161760000000] * 3  # not ...759999999
    assert recs["price"].tolist() == [18525000000, 1, 10**8]
    assert recs["seq"].tolist() == [-1, 0, 2**63 - 1]
    assert (recs["flags"] & ORDER_VOLUME).all() and (recs["kind"] == MSG_DRY_ORDER).all()


def test_should_give_report_amounts_their_units_too() -> None:
    engine, iid = _capped()
    rep = report_records(engine, account=5, instrument=iid, side=1, pnl=-2101.5, fee="0.25",
                         units="decimal")  # fmt: skip
    assert (int(rep["pnl"][0]), int(rep["fee"][0])) == (-210150000000, 25000000)
    raw = report_records(engine, account=5, instrument=iid, side=1, pnl=-210150000000, fee=0,
                         units="fixed")  # fmt: skip
    assert int(raw["pnl"][0]) == -210150000000
    with pytest.raises(FixedPointError, match="pnl"):
        report_records(engine, account=5, instrument=iid, side=1, pnl=-0.000000001, fee=0,
                       units="decimal")  # fmt: skip
    with pytest.raises(TypeError, match="units='fixed' takes integers"):
        report_records(engine, account=5, instrument=iid, side=1, pnl=-1.5, fee=0, units="fixed")


@pytest.mark.parametrize("magnitude", [1e2, 1e6, 1e8, 1e9, 1e10])
def test_should_read_two_decimal_floats_exactly_at_every_magnitude(magnitude: float) -> None:
    """5,000 two-decimal floats (the issue saw 382 / 590 change value at 1e8 / 1e9)."""
    rng = random.Random(int(magnitude))
    values = [round(rng.uniform(0, magnitude), 2) for _ in range(5000)]
    want = [int(Decimal(repr(v)) * 10**8) for v in values]
    assert fixed_column(np.array(values), 8, "decimal").tolist() == want
    assert fixed_column(values, 8, "decimal").tolist() == want  # a list takes the same path


@pytest.mark.parametrize("scale", [0, 2, 6, 8, 12, 18])
def test_should_agree_with_the_shortest_repr_for_random_floats(scale: int) -> None:
    """The vectorized float path equals Decimal(repr(x)), value by value, accepted or refused."""
    rng = random.Random(scale)
    values = []
    for _ in range(4000):
        digits = rng.randint(0, scale + 3)
        whole = rng.choice([0, 1, 9, 10 ** rng.randint(0, 19 - scale)])
        x = round(rng.uniform(-1, 1) * whole + rng.random(), digits)
        values.append(x)
        values.append(np.nextafter(x, np.inf))  # a neighbour: usually a long repr
    for x in values:
        exact = Decimal(repr(float(x))).scaleb(scale)
        fits = exact == exact.to_integral_value() and abs(exact) < 2**63
        try:
            got = int(fixed_column(np.array([x]), scale, "decimal")[0])
        except FixedPointError:
            assert not fits, f"{x!r} at scale {scale} was refused"
        else:
            assert fits and got == int(exact), f"{x!r} at scale {scale}: {got}"


def test_should_convert_a_million_rows_with_array_operations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Integer columns, and floats below 2**51 fixed-point steps, never go value by value."""
    from openpit_shm import columns

    def one_by_one(*args: Any) -> int:
        raise AssertionError("a NumPy column went through the per-value path")

    monkeypatch.setattr(columns, "_decimal_fixed", one_by_one)
    rng = np.random.default_rng(1)
    n = 1_000_000
    qty, cents = rng.integers(1, 1001, n), rng.integers(1000, 50001, n)
    recs = order_records(RecordFormat(8, 1), account=rng.integers(0, 2**40, n),
                         instrument=rng.integers(0, 99, n), side=rng.integers(1, 3, n),
                         quantity=qty, price=cents / 100, units="decimal")  # fmt: skip
    assert np.array_equal(recs["amount"], qty * 10**8)
    assert np.array_equal(recs["price"], cents * 10**6)
