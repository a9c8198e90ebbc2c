"""Exact conversion of caller columns into record fields: convert exactly, or raise.

A risk engine must never check an order it did not mean to check, so the
record builders (``openpit_shm.batch``) convert nothing by guesswork:

* integer fields (account, instrument, side, seq) take integers only (no
  floats, no booleans) inside the field's range; nothing wraps or truncates;
* amounts (quantity, volume, price, P&L, fee) say their units:

  - ``"fixed"``: raw fixed point at the engine's scale (``value * 10**scale``),
    integers only: a float is refused (``TypeError``) because a float is not
    raw fixed point, and guessing which one it is was the bug this replaced;
  - ``"decimal"``: values in units (shares, currency): integers, ``Decimal``,
    decimal strings, or floats. A float stands for its shortest ``repr``
    (``0.1`` is 0.1, ``88161617.6`` is 88161617.6), which must have at most
    ``scale`` decimals; ``float32`` values are read exactly as float64 holds
    them (so ``np.float32(0.1)`` is refused at any scale below 27).

  A value with more decimals than the scale, outside int64 after scaling, NaN
  or infinite raises ``FixedPointError`` (a ``ValueError``).

NumPy arrays convert with whole-array operations: integer columns in a few
passes, float columns too while ``|value| * 10**scale < 2**51`` (below that a
double's neighbours are more than one fixed-point step apart, so rounding the
scaled value and checking that it maps back to the same double is exactly the
shortest-repr rule; see ``_floats``). Larger floats, Python lists and objects
go one value at a time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from .param import FixedPointError

__all__ = ["UNITS", "as_column", "fixed_column", "integer_column", "side_column"]

#: The two units an amount column can be given in (see the module docstring).
UNITS = ("fixed", "decimal")

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
#: Below this many fixed-point steps the float fast path is exact (``_floats``).
_FLOAT_EXACT_LIMIT = float(1 << 51)


def as_column(values: Any) -> np.ndarray:
    """``values`` as an array whose dtype says what the caller gave, never a lossy guess.

    NumPy arrays and scalars pass through. Python scalars and lists become
    int64 / uint64 when every item is an integer, float64 when every item is
    a float, else an object array judged item by item (NumPy alone would turn
    ``[2**64 - 1, 5]`` into float64, and ``[1, 2.5]`` into floats).
    """
    if isinstance(values, np.ndarray | np.generic):
        return np.asarray(values)
    items = np.asarray(values, dtype=object)
    flat = items.ravel().tolist()
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in flat):
        ints = [int(v) for v in flat]
        if all(_I64_MIN <= v <= _I64_MAX for v in ints):
            return np.array(ints, dtype=np.int64).reshape(items.shape)
        if all(0 <= v < 1 << 64 for v in ints):
            return np.array(ints, dtype=np.uint64).reshape(items.shape)
    elif all(isinstance(v, float | np.floating) for v in flat):
        return np.array(flat, dtype=np.float64).reshape(items.shape)
    return items


def integer_column(values: Any, name: str, lo: int, hi: int, dtype: Any) -> np.ndarray:
    """An integer column with every value in ``lo..hi``, as ``dtype``.

    ``TypeError`` for anything but integers (floats, booleans, strings), ``ValueError``
    for a value out of range: nothing is truncated or wrapped.
    """
    arr = as_column(values)
    if arr.dtype.kind == "O":
        for v in arr.ravel().tolist():
            if not isinstance(v, int | np.integer) or isinstance(v, bool):
                raise TypeError(f"{name} must be integers, got {v!r}")
        # every item is an integer outside int64/uint64 (as_column kept the rest): out of range
        bad = next(int(v) for v in arr.ravel().tolist() if not lo <= int(v) <= hi)
        raise ValueError(f"{name} {bad} is out of range {lo}..{hi}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got a {arr.dtype} column")
    if arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < lo or high > hi:
            bad = low if low < lo else high
            raise ValueError(f"{name} {bad} is out of range {lo}..{hi}")
    return arr.astype(dtype, copy=False)


def side_column(values: Any) -> np.ndarray:
    """Sides as ``SIDE_BUY``/``SIDE_SELL`` bytes from 1/2 or ``"BUY"``/``"SELL"``; nothing else."""
    from .layout.records import SIDE_BUY, SIDE_SELL

    arr = as_column(values)
    if arr.dtype.kind == "O" and not all(isinstance(v, str) for v in arr.ravel().tolist()):
        raise TypeError(f"side must be integers (1 / 2) or strings ('BUY' / 'SELL'), got {arr!r}")
    if arr.dtype.kind in "OUS":
        text = arr.astype(str) if arr.dtype.kind != "O" else arr
        buy, sell = text == "BUY", text == "SELL"
        if not np.all(buy | sell):
            bad = arr.ravel()[np.argmin((buy | sell).ravel())]
            raise ValueError(f"side {bad!r} is neither 'BUY' nor 'SELL'")
        return np.where(buy, SIDE_BUY, SIDE_SELL).astype(np.uint8)
    side = integer_column(arr, "side", SIDE_BUY, SIDE_SELL, np.uint8)
    return side


def fixed_column(
    values: Any, scale: int, units: str, name: str = "value", *, nonnegative: bool = False
) -> np.ndarray:
    """An amount column as int64 fixed point at ``scale``, from ``units`` (module docstring).

    ``nonnegative``: refuse values below zero (``ValueError``): quantities and volumes.
    """
    if units not in UNITS:
        raise ValueError(f"units must be 'fixed' (raw fixed point) or 'decimal', got {units!r}")
    arr = as_column(values)
    if units == "fixed":
        if arr.dtype.kind == "f":
            raise TypeError(
                f"{name}: units='fixed' takes integers (value * 10**{scale}); "
                "give floats with units='decimal'"
            )
        out = _scaled_integers(arr, name, scale, 1)
    elif arr.dtype.kind in "iu":
        out = _scaled_integers(arr, name, scale, 10**scale)
    elif arr.dtype.kind == "f":
        out = _floats(arr, scale, name)
    elif arr.dtype.kind in "OUS":
        flat = [_decimal_fixed(v, scale, name) for v in arr.ravel().tolist()]
        out = np.array(flat, dtype=np.int64).reshape(arr.shape)
    else:
        raise TypeError(f"{name} must be numbers, got a {arr.dtype} column")
    if nonnegative and out.size and int(out.min()) < 0:
        raise ValueError(f"{name} must not be negative")
    return out


def _scaled_integers(arr: np.ndarray, name: str, scale: int, factor: int) -> np.ndarray:
    """Integers times ``factor`` as int64; ``FixedPointError`` when a product leaves int64."""
    limit = _I64_MAX // factor
    try:
        ints = integer_column(arr, name, -limit if factor > 1 else _I64_MIN, limit, np.int64)
    except ValueError as exc:  # (a TypeError, not integers at all, passes through)
        raise FixedPointError(f"{exc}: it does not fit int64 at scale {scale}") from None
    return ints * np.int64(factor) if factor > 1 else ints


def _floats(arr: np.ndarray, scale: int, name: str) -> np.ndarray:
    """Floats (in units) as fixed point: each one's shortest repr, which must fit ``scale``.

    Fast path, exact while ``N = |value| * 10**scale < 2**51``: the double
    ``x`` nearest ``N / 10**scale`` times ``10**scale`` lands within
    ``N * 2**-52 < 0.5`` of ``N``, so ``rint`` finds ``N``; and a double's
    rounding interval there is narrower than half a fixed-point step, so at
    most one ``N`` maps back to ``x``: if ``rint(x * 10**scale) / 10**scale``
    is ``x`` again, that ``N`` is the shortest repr's digits, and if it is
    not, the shortest repr has more than ``scale`` decimals. Larger values go
    through ``Decimal(repr(x))``.
    """
    x = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        bad = float(x.ravel()[np.argmin(np.isfinite(x).ravel())])
        raise FixedPointError(f"{name} {bad!r} is not a finite number")
    step = float(10**scale)  # exact: 10**scale < 2**53 * 2**scale for scale <= 22
    scaled = np.rint(x * step)
    fast = np.abs(scaled) < _FLOAT_EXACT_LIMIT
    inexact = fast & (scaled / step != x)
    if np.any(inexact):
        bad = float(x.ravel()[np.argmax(inexact.ravel())])
        raise FixedPointError(f"{name} {bad!r} has more than {scale} decimals")
    out = np.where(fast, scaled, 0.0).astype(np.int64)
    if not np.all(fast):
        slow = np.flatnonzero(~fast.ravel())
        flat = out.reshape(-1)
        for i in slow.tolist():
            flat[i] = _decimal_fixed(float(x.flat[i]), scale, name)
    return out


def _decimal_fixed(value: Any, scale: int, name: str) -> int:
    """One value in units as an exact int64 fixed-point integer, or raise."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a number, not a boolean")
    if isinstance(value, int | np.integer):
        d = Decimal(int(value))
    elif isinstance(value, float | np.floating):
        d = Decimal(repr(float(value)))  # the shortest repr: what the float was written as
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str):
        try:
            d = Decimal(value)
        except ArithmeticError:
            raise ValueError(f"{name} {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not d.is_finite():
        raise FixedPointError(f"{name} {value!r} is not a finite number")
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digits)))
    shift = exponent + scale  # fixed = coefficient * 10**shift
    if coefficient == 0:
        return 0
    if shift >= 0:
        if shift > 19:  # even a coefficient of 1 would not fit int64
            raise FixedPointError(f"{name} {value!r} does not fit int64 at scale {scale}")
        fixed = coefficient * 10**shift
    else:
        if -shift > len(digits):  # smaller than one fixed-point step
            raise FixedPointError(f"{name} {value!r} has more than {scale} decimals")
        fixed, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise FixedPointError(f"{name} {value!r} has more than {scale} decimals")
    fixed = -fixed if sign else fixed
    if not _I64_MIN <= fixed <= _I64_MAX:
        raise FixedPointError(f"{name} {value!r} does not fit int64 at scale {scale}")
    return fixed
