"""Numbers at the builtins' Python boundary: decimals, their scales, fixed point, durations.

Kernel state holds int64 fixed point at the engine's scale; openpit's texts
print rust_decimal values *with their own scale* ("5000.0", "-105.50"). So
configuration keeps each value's decimal scale next to its fixed-point form,
and texts are rebuilt here from (fixed value, engine scale, display scale).
"""

from __future__ import annotations

import decimal
import functools
from typing import Any

from openpit_shm.layout.state import SCALE_SHIFT
from openpit_shm.param.fixed_point import FixedPointError, to_fixed

__all__ = [
    "FixedPointError",
    "as_decimal",
    "decimal_scale",
    "fixed_text",
    "fixed_to_decimal",
    "fmt_decimal",
    "fmt_duration",
    "pair_of",
    "pair_words",
    "to_fixed",
]

_CTX = decimal.Context(prec=80)  # exact for every product and sum of int64-sized values


def as_decimal(value: Any) -> decimal.Decimal:
    """The ``decimal.Decimal`` of a param value type (``.decimal``) or of a Decimal itself."""
    if isinstance(value, decimal.Decimal):
        return value
    d = getattr(value, "decimal", None)
    if isinstance(d, decimal.Decimal):
        return d
    return decimal.Decimal(value)


def decimal_scale(d: decimal.Decimal) -> int:
    """rust_decimal's scale of a value: its number of fractional digits (0 for ``1E+3``)."""
    exponent = d.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def fmt_decimal(d: decimal.Decimal) -> str:
    """rust_decimal ``Display``: plain digits, the value's own scale, no negative zero."""
    if d.is_zero():
        d = d.copy_abs()
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        d = d.quantize(decimal.Decimal(1), context=_CTX)
    return format(d, "f")


def fixed_to_decimal(raw: int, engine_scale: int, scale: int | None = None) -> decimal.Decimal:
    """The decimal of a fixed-point int, shown with ``scale`` fractional digits.

    ``scale=None`` gives the shortest exact form. A ``scale`` too small to show
    the value exactly is widened rather than rounded.
    """
    d = decimal.Decimal(int(raw)).scaleb(-engine_scale, context=_CTX)
    if scale is None:
        d = d.normalize(context=_CTX)
        return d.quantize(decimal.Decimal(1), context=_CTX) if decimal_scale(d) == 0 else d
    q = d.quantize(decimal.Decimal(1).scaleb(-scale), context=_CTX)
    return q if q == d else d


@functools.lru_cache(maxsize=1 << 12)
def fixed_text(raw: int, engine_scale: int, scale: int | None = None) -> str:
    """``fmt_decimal(fixed_to_decimal(raw, engine_scale, scale))``, memoized.

    Reject texts print configured caps and bounds again and again; a hit
    costs ~0.1 us where the Decimal round trip costs ~3 us.
    """
    return fmt_decimal(fixed_to_decimal(raw, engine_scale, scale))


@functools.lru_cache(maxsize=1 << 10)
def fmt_duration(ns: int) -> str:
    """Rust ``Duration``'s ``Debug`` form ("300ms", "1.5s", "3600s", "1µs")."""
    secs, nanos = divmod(int(ns), 1_000_000_000)
    if secs > 0:
        return _fmt_frac(secs, nanos, 9) + "s"
    if nanos >= 1_000_000:
        return _fmt_frac(nanos // 1_000_000, nanos % 1_000_000, 6) + "ms"
    if nanos >= 1_000:
        return _fmt_frac(nanos // 1_000, nanos % 1_000, 3) + "µs"
    return f"{nanos}ns"


def _fmt_frac(integer: int, frac: int, width: int) -> str:
    if frac == 0:
        return str(integer)
    digits = str(frac).rjust(width, "0").rstrip("0")
    return f"{integer}.{digits}"


def fixed(value: Any, scale: int, what: str) -> int:
    """A configuration value in fixed point at the engine scale (exact, or FixedPointError)."""
    return to_fixed(as_decimal(value), scale, what)


#: Flag bits of an optional pair of limits (order size: CAP_QTY / CAP_NOTIONAL; P&L
#: bounds: BOUND_LOWER / BOUND_UPPER): which of the two is set.
PAIR_FIRST, PAIR_SECOND = 1, 2
_SCALE_MASK = (1 << SCALE_SHIFT) - 1


def pair_words(first: Any, second: Any, scale: int, what: tuple[str, str]
               ) -> tuple[int, int, int, int]:  # fmt: skip
    """``(flags, first, second, scales)`` of two optional limits, in fixed point.

    ``scales`` keeps each value's decimal scale for its texts (the first in the
    low byte, the second ``SCALE_SHIFT`` bits up); ``what`` names them in a
    ``FixedPointError``.
    """
    flags = a = b = scales = 0
    if first is not None:
        flags |= PAIR_FIRST
        a = fixed(first, scale, what[0])
        scales |= decimal_scale(first)
    if second is not None:
        flags |= PAIR_SECOND
        b = fixed(second, scale, what[1])
        scales |= decimal_scale(second) << SCALE_SHIFT
    return flags, a, b, scales


def pair_of(flags: int, first: int, second: int, scales: int, engine_scale: int
            ) -> tuple[decimal.Decimal | None, decimal.Decimal | None] | None:  # fmt: skip
    """The two limits ``pair_words`` wrote (same values, same decimal scales), or None if unset."""
    if not flags & (PAIR_FIRST | PAIR_SECOND):
        return None
    a = fixed_to_decimal(first, engine_scale, scales & _SCALE_MASK) if flags & PAIR_FIRST else None
    b = (
        fixed_to_decimal(second, engine_scale, (scales >> SCALE_SHIFT) & _SCALE_MASK)
        if flags & PAIR_SECOND
        else None
    )
    return a, b
