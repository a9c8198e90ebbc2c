"""``_to_fixed``: the exact int64 fixed-point door the kernels use."""

from __future__ import annotations

import pytest

from openpit_shm.param import FixedPointError, Pnl, Price, Quantity, Volume


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (Price("101.25"), 8, 10125000000),
        (Price("-101.25"), 2, -10125),
        (Quantity("12"), 0, 12),
        (Quantity("10.50"), 1, 105),
        (Pnl("0.00000001"), 8, 1),
        (Volume("0.000"), 8, 0),
        (Price("92233720368.54775807"), 8, 2**63 - 1),
        (Price("-92233720368.54775808"), 8, -(2**63)),
    ],
)
def test_should_scale_exactly(value: object, scale: int, expected: int) -> None:
    assert value._to_fixed(scale) == expected  # type: ignore[attr-defined]


def test_should_reject_values_with_more_places_than_the_scale() -> None:
    with pytest.raises(FixedPointError) as info:
        Quantity("0.000000001")._to_fixed(8)
    assert (
        str(info.value) == "Quantity 0.000000001 is not representable in fixed point with scale 8"
    )
    assert isinstance(info.value, ValueError)


def test_should_reject_values_outside_int64() -> None:
    with pytest.raises(FixedPointError) as info:
        Price("92233720368.54775808")._to_fixed(8)
    assert (
        str(info.value)
        == "Price 92233720368.54775808 does not fit in int64 fixed point with scale 8"
    )
    with pytest.raises(FixedPointError, match="does not fit in int64"):
        Price("-92233720368.54775809")._to_fixed(8)


def test_should_accept_trailing_zeros_beyond_the_scale() -> None:
    assert Price("1.5000000000")._to_fixed(2) == 150


def test_should_cache_the_last_conversion() -> None:
    p = Price("1.25")
    assert p._fx is None
    assert p._to_fixed(4) == 12500
    assert p._fx == (4, 12500)
    assert p._to_fixed(2) == 125
    assert p._fx == (2, 125)


def test_should_return_the_cached_integer_for_the_same_scale() -> None:
    p = Price("1.25")
    p._to_fixed(4)
    p._fx = (4, 99)  # a poisoned cache proves the second call does not recompute
    assert p._to_fixed(4) == 99
