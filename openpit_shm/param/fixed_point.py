"""Decimals to and from the engines' int64 fixed point, exactly or not at all.

``to_fixed(value, scale)`` gives ``value * 10**scale`` as an int64 or raises
``FixedPointError`` (never rounds); ``from_fixed(raw, scale)`` gives the exact
decimal back. Kernel state, records and the quote table hold these ints.
"""

from __future__ import annotations

import decimal
from typing import Any

from .errors import FixedPointError

__all__ = ["I64_MAX", "I64_MIN", "FixedPointError", "from_fixed", "pow10", "to_fixed"]

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)

_POW10 = tuple(10**i for i in range(19))


def pow10(scale: int) -> int:
    """``10**scale`` for the scales an int64 can carry (0..18)."""
    return _POW10[scale]


def to_fixed(value: Any, scale: int, what: str = "value") -> int:
    """``value * 10**scale`` as an int64, exactly, or :class:`FixedPointError`.

    ``value`` is a ``decimal.Decimal``, an ``int``, a ``str`` or anything with a
    ``.decimal`` property (the param value types). Rounding never happens: a
    value with more fractional digits than ``scale`` or outside int64 raises,
    naming ``what``, the value and the scale.
    """
    d = value.decimal if hasattr(value, "decimal") else value
    if not isinstance(d, decimal.Decimal):
        d = decimal.Decimal(d)
    if not d.is_finite():
        raise FixedPointError(f"{what} {d} is not finite and has no fixed-point form")
    sign, digits, exponent = d.as_tuple()
    mantissa = int("".join(map(str, digits))) if digits else 0
    shift = exponent + scale
    if shift >= 0:
        raw = mantissa * 10**shift
    else:
        div, rem = divmod(mantissa, 10**-shift)
        if rem:
            raise FixedPointError(
                f"{what} {d} is not representable at fixed-point scale {scale} "
                f"(more than {scale} fractional digits)"
            )
        raw = div
    if sign:
        raw = -raw
    if not I64_MIN <= raw <= I64_MAX:
        raise FixedPointError(
            f"{what} {d} is out of the int64 fixed-point range at scale {scale} "
            f"(|value| must be below {decimal.Decimal(I64_MAX).scaleb(-scale)})"
        )
    return raw


def from_fixed(raw: int, scale: int) -> decimal.Decimal:
    """The exact decimal of a fixed-point int (normalized: no trailing zeros)."""
    d = decimal.Decimal(int(raw)).scaleb(-scale)
    return d.normalize() if d else decimal.Decimal(0)
