"""Fixed point: exact i128 products/quotients, checked narrowing, exact decimal conversion."""

from __future__ import annotations

import decimal

import pytest
from numba import njit

from openpit_shm.kernels.fixed import (
    I64_MAX,
    I64_MIN,
    add_checked,
    mul_checked,
    mul_cmp,
    mul_div,
    mul_div_ceil,
    mul_div_floor,
    sub_checked,
)
from openpit_shm.param.fixed_point import FixedPointError, from_fixed, to_fixed


@njit(cache=True)
def _cmp(a, b, c, d):  # type: ignore[no-untyped-def]
    return mul_cmp(a, b, c, d)


@njit(cache=True)
def _div(a, b, d):  # type: ignore[no-untyped-def]
    return mul_div(a, b, d), mul_div_floor(a, b, d), mul_div_ceil(a, b, d)


@njit(cache=True)
def _ops(a, b):  # type: ignore[no-untyped-def]
    return add_checked(a, b), sub_checked(a, b), mul_checked(a, b)


def test_should_compare_products_exactly_where_int64_would_wrap() -> None:
    big = 3_000_000_000_000  # big * big overflows int64 but not i128
    assert _cmp(big, big, big - 1, big + 2) == -1  # big^2 < big^2 + big - 2
    assert _cmp(big, big + 1, big, big) == 1
    assert _cmp(big, big, big, big) == 0
    assert _cmp(I64_MAX, I64_MAX, I64_MIN + 1, I64_MIN + 1) == 0  # (2^63-1)^2 both sides


def test_should_compare_at_the_limit_and_one_unit_above() -> None:
    # quantity 100 at price 50 against a notional cap of 5000 (scale 8)
    s = 10**8
    assert _cmp(50 * s, 100 * s, 5000 * s, s) == 0  # equal: not above the cap
    assert _cmp(50 * s, 100 * s + 1, 5000 * s, s) == 1  # one unit above


def test_should_divide_truncating_flooring_and_ceiling() -> None:
    assert _div(7, 3, 2) == ((10, 1), (10, 1), (11, 1))
    assert _div(-7, 3, 2) == ((-10, 1), (-11, 1), (-10, 1))
    assert _div(6, 2, 3) == ((4, 1), (4, 1), (4, 1))


def test_should_flag_a_quotient_that_does_not_fit_int64_instead_of_wrapping() -> None:
    (q, ok), _, _ = _div(I64_MAX, 4, 2)
    assert (q, ok) == (0, 0)
    (q, ok), _, _ = _div(I64_MAX, 4, 4)
    assert (q, ok) == (I64_MAX, 1)


def test_should_flag_division_by_zero() -> None:
    assert _div(5, 5, 0)[0] == (0, 0)


def test_should_flag_int64_overflow_of_sum_difference_and_product() -> None:
    (s, s_ok), (d, d_ok), (p, p_ok) = _ops(I64_MAX, 1)
    assert (s_ok, d_ok, p_ok) == (0, 1, 1)
    assert d == I64_MAX - 1 and p == I64_MAX and s == 0
    (_, s_ok), (_, d_ok), (_, p_ok) = _ops(I64_MIN, 1)
    assert (s_ok, d_ok) == (1, 0)
    assert _ops(1 << 31, 1 << 31)[2] == (1 << 62, 1)
    assert _ops(1 << 32, 1 << 32)[2][1] == 0


def test_should_convert_decimals_exactly_at_the_scale() -> None:
    assert to_fixed(decimal.Decimal("1.5"), 8) == 150_000_000
    assert to_fixed("-0.00000001", 8) == -1
    assert to_fixed(decimal.Decimal("1E+3"), 2) == 100_000
    assert to_fixed(7, 0) == 7
    assert to_fixed(decimal.Decimal("92233720368.54775807"), 8) == I64_MAX


def test_should_refuse_values_with_more_fractional_digits_than_the_scale() -> None:
    with pytest.raises(FixedPointError, match=r"1\.123456789 is not representable at .*scale 8"):
        to_fixed(decimal.Decimal("1.123456789"), 8, "value")
    assert issubclass(FixedPointError, ValueError)


def test_should_refuse_values_outside_the_int64_range_naming_the_limit() -> None:
    with pytest.raises(FixedPointError, match="out of the int64 fixed-point range at scale 8"):
        to_fixed(decimal.Decimal("92233720368.54775808"), 8, "price")


def test_should_refuse_non_finite_values() -> None:
    with pytest.raises(FixedPointError, match="not finite"):
        to_fixed(decimal.Decimal("NaN"), 8)


def test_should_round_trip_fixed_values_to_decimals() -> None:
    assert from_fixed(150_000_000, 8) == decimal.Decimal("1.5")
    assert from_fixed(-1, 8) == decimal.Decimal("-0.00000001")
    assert from_fixed(0, 8) == 0
