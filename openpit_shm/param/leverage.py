"""Leverage: a multiplier on a 0.1 grid from 1 to 3000, stored as an integer count of tenths.

Like openpit's, it has no value equality (``Leverage(1) == Leverage(1)`` is
False), no ordering, and ``.value`` is the float32 of the multiplier.
Private layout: ``_raw`` = multiplier * 10 (10..=30000).
"""

from __future__ import annotations

import math
import operator
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from ._compat import as_double, is_numpy_bool, pyo3_too_many
from ._native import positional_signature

__all__ = ["Leverage", "leverage_raw", "use_margin_rule", "value_text"]

SCALE = 10
_RAW_MIN = 10
_RAW_MAX = 30000
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_onew = object.__new__

_TYPE_MSG = "leverage must be openpit.param.Leverage, int, or float"
_INVALID_MSG = "invalid leverage value"


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _raw_from_int(i: int) -> int:
    if 1 <= i <= 3000:
        return i * SCALE
    raise ValueError(_INVALID_MSG)


def _raw_from_float(f: float) -> int:
    # openpit accepts a float when it is within 1e-9 (in tenths) of the 0.1 grid.
    if not math.isfinite(f):
        raise ValueError(_INVALID_MSG)
    scaled = f * SCALE
    if not math.isfinite(scaled):
        raise ValueError(_INVALID_MSG)
    whole = math.trunc(scaled)
    if abs(scaled - whole) >= 0.5:
        whole += 1 if scaled > 0 else -1
    if abs(scaled - whole) > 1e-9 or not _RAW_MIN <= whole <= _RAW_MAX:
        raise ValueError(_INVALID_MSG)
    return int(whole)


def leverage_raw(value: Any) -> int:
    """Tenths of a ``Leverage | int | float`` argument, with openpit's errors."""
    if type(value) is Leverage:
        return value._raw
    tp = type(value)
    if tp is bool or is_numpy_bool(value) or isinstance(value, (str, bytes, Decimal)):
        raise ValueError(_TYPE_MSG)
    if isinstance(value, Leverage):
        return value._raw
    if tp is int or hasattr(tp, "__index__"):
        return _raw_from_int(operator.index(value))
    if tp is float or hasattr(tp, "__float__"):
        return _raw_from_float(float(value))
    raise ValueError(_TYPE_MSG)


def value_text(raw: int) -> str:
    """Rust's ``{:?}`` of the f32 multiplier: every 0.1-grid value prints as its decimal."""
    whole, tenth = divmod(raw, SCALE)
    return f"{whole}.{tenth}"


def _margin_rule_missing(notional: Any, raw: int) -> Any:
    raise RuntimeError("param.values did not install the margin rule")  # pragma: no cover


#: ``(notional argument, tenths) -> Notional``. ``values`` installs it (``use_margin_rule``):
#: Notional lives there and ``values`` already imports this module (``leverage_raw``), so
#: importing ``values`` from here would be a cycle. The ``param`` package imports both.
_margin_rule: Callable[[Any, int], Any] = _margin_rule_missing


def use_margin_rule(rule: Callable[[Any, int], Any]) -> None:
    """Install ``Leverage.calculate_margin_required``'s arithmetic (called by ``values``)."""
    global _margin_rule
    _margin_rule = rule


def _from_raw(raw: int) -> Leverage:
    o = _onew(Leverage)
    o._raw = raw
    return o


class Leverage:
    """Per-order leverage multiplier with ``0.1`` step and range ``1..=3000``."""

    __slots__ = ("_raw",)
    _OPENPIT_NAME = "openpit.param.Leverage"

    SCALE: ClassVar[int] = SCALE
    MIN: ClassVar[int] = 1
    MAX: ClassVar[int] = 3000
    STEP: ClassVar[float] = _f32(0.1)

    _raw: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("type 'openpit.param.Leverage' is not an acceptable base type")

    def __new__(cls, multiplier: Leverage | int | float, *extra: Any) -> Leverage:
        if extra:
            raise pyo3_too_many("Leverage.__new__", 1, 1 + len(extra))
        return _from_raw(leverage_raw(multiplier))

    @staticmethod
    def from_int(multiplier: int, *extra: Any) -> Leverage:
        if extra:
            raise pyo3_too_many("Leverage.from_int", 1, 1 + len(extra))
        i = operator.index(multiplier)
        if not _I64_MIN <= i <= _I64_MAX:
            raise OverflowError("Python int too large to convert to C long")
        return _from_raw(_raw_from_int(i))

    @staticmethod
    def from_float(multiplier: float, *extra: Any) -> Leverage:
        if extra:
            raise pyo3_too_many("Leverage.from_float", 1, 1 + len(extra))
        return _from_raw(_raw_from_float(as_double(multiplier)))

    def __reduce__(self) -> tuple[Any, ...]:
        # __new__ needs the multiplier, so rebuild from the stored tenths.
        return (_from_raw, (self._raw,))

    @property
    def value(self) -> float:
        return _f32(self._raw / SCALE)

    def calculate_margin_required(self, notional: Any) -> Any:
        return _margin_rule(notional, self._raw)

    def __repr__(self) -> str:
        return f"Leverage(value={value_text(self._raw)})"

    __str__ = __repr__


Leverage.__module__ = "openpit_shm.param"
# What inspect reports is openpit's signature: ``*extra`` only raises PyO3's texts.
Leverage.__signature__ = positional_signature("multiplier")  # type: ignore[attr-defined]
Leverage.from_int.__signature__ = positional_signature("multiplier")  # type: ignore[attr-defined]
Leverage.from_float.__signature__ = positional_signature("multiplier")  # type: ignore[attr-defined]
