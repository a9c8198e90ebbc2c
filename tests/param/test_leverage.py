"""Leverage: 0.1 grid from 1 to 3000, float32 value, no equality."""

from __future__ import annotations

import struct
from decimal import Decimal

import numpy as np
import pytest

from openpit_shm.param import Leverage, Notional, Volume
from tests.param._support import exact


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1, "1.0"),
        (3000, "3000.0"),
        (1.1, "1.1"),
        (2999.9, "2999.9"),
        (Leverage(5), "5.0"),
        (np.int64(5), "5.0"),
        (np.float32(2.5), "2.5"),
        (1.00000000001, "1.0"),
    ],
)
def test_should_accept_grid_values(value: object, shown: str) -> None:
    assert repr(Leverage(value)) == f"Leverage(value={shown})"  # type: ignore[arg-type]
    assert str(Leverage(value)) == f"Leverage(value={shown})"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        0,
        3001,
        -1,
        2**70,
        0.9,
        1.05,
        2.55,
        3000.04,
        1.0000001,
        1 + 1e-9,
        float("nan"),
        float("inf"),
        -0.0,
        65536.0,
    ],
)
def test_should_reject_values_off_the_grid_or_out_of_range(value: object) -> None:
    with pytest.raises(ValueError, match=exact("invalid leverage value")):
        Leverage(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, "3", Decimal(3), None, b"3"])
def test_should_reject_other_types(value: object) -> None:
    with pytest.raises(
        ValueError, match=exact("leverage must be openpit.param.Leverage, int, or float")
    ):
        Leverage(value)  # type: ignore[arg-type]


def test_should_expose_the_float32_multiplier_for_every_grid_point() -> None:
    for raw in range(10, 30001):
        expected = float(np.float32(raw) / np.float32(10))
        got = Leverage(raw // 10).value if raw % 10 == 0 else Leverage.from_float(raw / 10).value
        assert got == expected, raw
    assert Leverage(10.1).value == 10.100000381469727


def test_should_offer_int_and_float_constructors_with_pyo3_errors() -> None:
    assert repr(Leverage.from_int(True)) == "Leverage(value=1.0)"
    with pytest.raises(
        TypeError, match=exact("'float' object cannot be interpreted as an integer")
    ):
        Leverage.from_int(5.0)  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match=exact("Python int too large to convert to C long")):
        Leverage.from_int(2**64)
    with pytest.raises(ValueError, match=exact("invalid leverage value")):
        Leverage.from_int(2**32)
    assert repr(Leverage.from_float(5)) == "Leverage(value=5.0)"
    with pytest.raises(TypeError, match=exact("must be real number, not str")):
        Leverage.from_float("5")  # type: ignore[arg-type]


def test_should_have_openpits_constants() -> None:
    assert (Leverage.SCALE, Leverage.MIN, Leverage.MAX) == (10, 1, 3000)
    assert struct.unpack("<f", struct.pack("<f", 0.1))[0] == Leverage.STEP


def test_should_have_identity_semantics_only() -> None:
    a, b = Leverage(1), Leverage(1)
    assert a != b
    assert a == a
    with pytest.raises(TypeError):
        a < b  # type: ignore[operator]  # noqa: B015
    with pytest.raises(AttributeError):
        a.x = 1  # type: ignore[attr-defined]
    with pytest.raises(
        TypeError, match=exact("type 'openpit.param.Leverage' is not an acceptable base type")
    ):
        type("L2", (Leverage,), {})


def test_should_compute_margin_from_any_notional_input() -> None:
    assert str(Leverage(4).calculate_margin_required(Notional(100))) == "25"
    assert str(Leverage(4).calculate_margin_required("100.50")) == "25.1250"
    assert str(Leverage(4).calculate_margin_required(Decimal("100.50"))) == "25.1250"
    assert str(Leverage(4).calculate_margin_required(1.5)) == "0.375"
    with pytest.raises(TypeError, match=exact("Notional must be a Decimal, str, int, or float")):
        Leverage(4).calculate_margin_required(Volume(100))
    with pytest.raises(ValueError, match=exact("Notional must be a Decimal, str, int, or float")):
        Leverage(4).calculate_margin_required(True)
