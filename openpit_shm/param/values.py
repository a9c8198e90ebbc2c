"""Decimal value types: Quantity, Price, Volume, Notional, Pnl, Fee, CashFlow, PositionSize.

Each value is an immutable ``(mantissa, scale)`` pair with rust_decimal
semantics (see ``_decimal``): ``Quantity('10.50')`` keeps two places, equality
and hashing ignore trailing zeros, arithmetic only between values of the same
type, scalars (``int``/``float``) only for ``*``, ``/`` and ``%``. Errors are
openpit's exception types with openpit's texts.

Layout (read directly by the engine; treat as private elsewhere):

* ``_m``: signed int mantissa, ``|_m| < 2**96``;
* ``_s``: scale, ``0..=28`` (value is ``_m / 10**_s``);
* ``_fx``: ``None`` or the cached ``(scale, int)`` of the last ``_to_fixed``;
* ``_nz``: set (True) only on a negative zero, which rust_decimal can produce
  (``Volume(0).to_cash_flow_outflow()`` prints ``-0``); unset otherwise.

``value._to_fixed(scale)`` is the kernels' door: the exact int64 fixed-point
integer ``value * 10**scale`` or ``FixedPointError``.
"""

from __future__ import annotations

import operator
import types
from decimal import Decimal
from typing import Any, ClassVar

from . import _decimal as D
from ._compat import as_double, downcast_error, extract_u32, is_numpy_bool
from .errors import FixedPointError, ParamError
from .leverage import leverage_raw, use_margin_rule

__all__ = [
    "CashFlow",
    "Fee",
    "Notional",
    "Pnl",
    "PositionSize",
    "Price",
    "Quantity",
    "Volume",
]

_MAX = D.MAX
_P10 = D.P10
_I128_MIN = -(1 << 127)
_I128_LIMIT = 1 << 127
_I64_MIN = -(1 << 63)
_I64_LIMIT = 1 << 63
_U64_LIMIT = 1 << 64
_onew = object.__new__
_P5 = tuple(5**j for j in range(22))
_E15 = 10**15

_STRATEGIES = {
    "midpointnearesteven": D.NEAREST_EVEN,
    "midpointawayfromzero": D.AWAY_FROM_ZERO,
    "up": D.UP,
    "down": D.DOWN,
}
_HEAPTYPE = 1 << 9


def _strategy(strategy: str) -> str:
    key = strategy.lower()
    try:
        return _STRATEGIES[key]
    except KeyError:
        raise ValueError(
            f'invalid rounding strategy "{key}"; expected '
            "'MidpointNearestEven', 'MidpointAwayFromZero', 'Up', or 'Down'"
        ) from None


def _type_name(obj: object) -> str:
    """The name CPython's operator errors print for ``type(obj)`` under openpit."""
    tp = type(obj)
    if isinstance(obj, _Value):
        return "openpit.param." + tp._KIND  # type: ignore[attr-defined]
    name = getattr(tp, "_OPENPIT_NAME", None)
    if name is not None:
        return name
    if tp.__flags__ & _HEAPTYPE or tp.__module__ == "builtins":
        return tp.__name__
    return f"{tp.__module__}.{tp.__qualname__}"


# Operand types whose own reflected operator can never accept a value type: for
# them we raise at once, which is what Python would end up doing anyway, with
# openpit's type names in the message. Unknown types get NotImplemented so their
# reflected operators still run.
_KNOWN_MODULES = frozenset(("builtins", "decimal", "fractions"))
# Types a scalar operator (``*``, ``/``, ``%``) rejects even though some have ``__float__``.
_NON_SCALARS = (bool, str, bytes, bytearray, Decimal, type(None), list, tuple, dict)
_SEQUENCES = (str, bytes, bytearray, list, tuple)


def _unsupported(op: str, left: object, right: object) -> TypeError:
    return TypeError(
        f"unsupported operand type(s) for {op}: '{_type_name(left)}' and '{_type_name(right)}'"
    )


def _is_known(obj: object) -> bool:
    tp = type(obj)
    return (
        isinstance(obj, _Value)
        or tp.__module__ in _KNOWN_MODULES
        or getattr(tp, "_OPENPIT_NAME", None) is not None
    )


def _fail(op: str, left: object, right: object, other: object) -> Any:
    """Raise openpit's TypeError for ``left op right`` when ``other`` is a known type."""
    if not _is_known(other):
        return NotImplemented
    if op == "*" and isinstance(other, _SEQUENCES):
        value = right if other is left else left
        raise TypeError(f"can't multiply sequence by non-int of type '{_type_name(value)}'")
    if op == "+" and other is left and isinstance(other, _SEQUENCES):
        # CPython falls back to the left sequence's concatenation, which words it so.
        name = _type_name(right)
        if isinstance(other, (bytes, bytearray)):
            raise TypeError(f"can't concat {name} to {type(other).__name__}")
        seq = type(other).__name__
        raise TypeError(f'can only concatenate {seq} (not "{name}") to {seq}')
    raise _unsupported(op, left, right)


def _make(cls: type, m: int, s: int, nz: bool = False) -> Any:
    o = _onew(cls)
    o._m = m
    o._s = s
    o._fx = None
    if nz and m == 0:
        o._nz = True
    return o


def _neg0(v: Any) -> bool:
    return v._m == 0 and getattr(v, "_nz", False)


def _from_decimal(kind: str, d: Decimal) -> tuple[int, int]:
    if not d.is_finite():
        raise ParamError(f"{kind} decimal {d} is not finite")
    r = D.from_py_decimal(d)
    if isinstance(r, str):
        suffix = f": {r}" if r else ""
        raise ParamError(f"{kind} decimal {d} exceeds the core decimal range{suffix}")
    return r


def _from_int(kind: str, i: int) -> tuple[int, int]:
    if -_MAX <= i <= _MAX:
        return i, 0
    if _I128_MIN <= i < _I128_LIMIT:
        raise ParamError(f"invalid format for {kind}: '{i}'")
    raise ParamError(f"{kind} integer is outside the core decimal range")


def _from_str(kind: str, s: str) -> tuple[int, int]:
    r = D.parse_exact(s)
    if r is None:
        raise ParamError(f"invalid format for {kind}: '{str.__str__(s)}'")
    return r


def _from_float_text(kind: str, f: float) -> tuple[int, int]:
    text = D.f64_display(f)
    r = D.parse_exact(text)
    if r is None:
        raise ParamError(f"invalid format for {kind}: '{text}'")
    return r


def _from_number(kind: str, value: Any) -> tuple[int, int]:
    """Ints (anything with a working ``__index__``) first, then floats (``__float__``)."""
    tp = type(value)
    if tp is int:
        return _from_int(kind, value)
    if tp is float:
        return _from_float_text(kind, value)
    if hasattr(tp, "__index__"):
        try:
            i = operator.index(value)
        except TypeError:
            pass
        else:
            return _from_int(kind, i)
    if hasattr(tp, "__float__"):
        return _from_float_text(kind, float(value))
    raise ValueError(f"{kind} must be a Decimal, str, int, or float")


def _convert(cls: type, value: Any) -> tuple[int, int, bool]:
    """Any accepted constructor input as ``(m, s, negative_zero)``; raises openpit's errors."""
    kind = cls._KIND  # type: ignore[attr-defined]
    tp = type(value)
    if tp is bool or is_numpy_bool(value):
        raise ValueError(f"{kind} must be a Decimal, str, int, or float")
    if isinstance(value, _Value):
        if tp is cls:
            return value._m, value._s, _neg0(value)
        raise TypeError(f"{kind} must be a Decimal, str, int, or float")
    if isinstance(value, Decimal):
        m, s = _from_decimal(kind, value)
    elif isinstance(value, str):
        m, s = _from_str(kind, value)
    else:
        m, s = _from_number(kind, value)
    if m < 0 and cls._UNSIGNED:  # type: ignore[attr-defined]
        raise ParamError(f"value must be non-negative for {kind}")
    return m, s, False


def coerce(cls: type, value: Any) -> Any:
    """``value`` as a ``cls`` instance: the object itself when it already is one."""
    if type(value) is cls:
        return value
    m, s, nz = _convert(cls, value)
    return _make(cls, m, s, nz)


class _Value:
    """Shared behaviour of the decimal value types; not public, not subclassable outside."""

    __slots__ = ("_fx", "_m", "_nz", "_s")

    _KIND: ClassVar[str] = ""
    _UNSIGNED: ClassVar[bool] = False
    _FINAL: ClassVar[bool] = False

    _m: int
    _s: int
    _fx: tuple[int, int] | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            if base.__dict__.get("_FINAL"):
                raise TypeError(f"type 'openpit.param.{base._KIND}' is not an acceptable base type")

    def __init__(self, value: Decimal | str | int | float) -> None:
        # Hot path: plain digit strings and small ints never leave this method.
        tp = value.__class__
        if tp is str:
            if value.isascii() and len(value) <= 28:  # type: ignore[union-attr]
                if value.isdigit():  # type: ignore[union-attr]
                    self._m = int(value)
                    self._s = 0
                    self._fx = None
                    return
                a, dot, f = value.partition(".")  # type: ignore[union-attr]
                if dot and f.isdigit() and a.isdigit():
                    self._m = int(a + f)
                    self._s = len(f)
                    self._fx = None
                    return
        elif tp is int:
            if 0 <= value <= _MAX:  # type: ignore[operator]
                self._m = value
                self._s = 0
                self._fx = None
                return
        elif tp is float and -1e15 < value < 1e15:  # type: ignore[operator]  # no nan, no inf
            # A float whose exact binary value has at most 15 significant digits prints
            # (in Rust, as in Python) as exactly those digits, so no repr is needed:
            # x = num / 2**j = num * 5**j / 10**j. Everything else takes the general path.
            num, den = value.as_integer_ratio()  # type: ignore[union-attr]
            if den == 1:
                if num >= 0 or not self._UNSIGNED:
                    self._m = num
                    self._s = 0
                    self._fx = None
                    return
            else:
                j = den.bit_length() - 1
                if j <= 21:
                    m = num * _P5[j]
                    if -_E15 < m < _E15 and (m >= 0 or not self._UNSIGNED):
                        self._m = m
                        self._s = j
                        self._fx = None
                        return
        m, s, nz = _convert(type(self), value)
        self._m = m
        self._s = s
        self._fx = None
        if nz and m == 0:
            self._nz = True

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_decimal(cls, value: Decimal) -> Any:
        """Exactly the given ``decimal.Decimal`` (at most 28 places, 96-bit mantissa)."""
        if not isinstance(value, Decimal):
            raise TypeError(f"{cls._KIND}.from_decimal expects decimal.Decimal")
        return cls._checked(*_from_decimal(cls._KIND, value))

    @classmethod
    def from_string(cls, value: str) -> Any:
        """Parse ``value`` with the constructor's exact grammar (``str`` only)."""
        if not isinstance(value, str):
            raise downcast_error(value, "str")
        return cls._checked(*_from_str(cls._KIND, value))

    @classmethod
    def from_int(cls, value: int) -> Any:
        """Any integer (``__index__``) within 96 bits."""
        return cls._checked(*_from_int(cls._KIND, operator.index(value)))

    @classmethod
    def from_float(cls, value: float) -> Any:
        """rust_decimal's ``from_f64`` (about 15 significant digits; ``0.1 + 0.2`` gives 0.3)."""
        r = D.from_f64(as_double(value))
        if r is None:
            raise ParamError("invalid float value")
        return cls._checked(*r)

    @classmethod
    def from_string_rounded(cls, value: str, scale: int, strategy: str) -> Any:
        """Parse leniently (rounding long input, scientific notation) and round to ``scale``."""
        if not isinstance(value, str):
            raise downcast_error(value, "str")
        dp = extract_u32(scale)
        if not isinstance(strategy, str):
            raise downcast_error(strategy, "str")
        how = _strategy(strategy)
        r = D.parse_rounding(value)
        if r is None:
            raise ParamError(f"invalid format for {cls._KIND}: '{str.__str__(value)}'")
        return cls._checked(*D.round_dp(r[0], r[1], r[2], dp, how))

    @classmethod
    def from_float_rounded(cls, value: float, scale: int, strategy: str) -> Any:
        """``from_float`` then round to ``scale`` with ``strategy``; validation after rounding."""
        f = as_double(value)
        dp = extract_u32(scale)
        if not isinstance(strategy, str):
            raise downcast_error(strategy, "str")
        how = _strategy(strategy)
        r = D.from_f64(f)
        if r is None:
            raise ParamError("invalid float value")
        return cls._checked(*D.round_dp(r[0], r[1], r[2], dp, how))

    @classmethod
    def from_decimal_rounded(cls, value: Decimal, scale: int, strategy: str) -> Any:
        """``from_decimal`` then round to ``scale`` with ``strategy``; validation after rounding."""
        dp = extract_u32(scale)
        if not isinstance(strategy, str):
            raise downcast_error(strategy, "str")
        if not isinstance(value, Decimal):
            raise TypeError(f"{cls._KIND}.from_decimal expects decimal.Decimal")
        m, s = _from_decimal(cls._KIND, value)
        how = _strategy(strategy)
        return cls._checked(*D.round_dp(m, s, False, dp, how))

    @classmethod
    def _checked(cls, m: int, s: int, nz: bool = False) -> Any:
        if m < 0 and cls._UNSIGNED:
            raise ParamError(f"value must be non-negative for {cls._KIND}")
        return _make(cls, m, s, nz)

    # ------------------------------------------------------------------ accessors

    @property
    def decimal(self) -> Decimal:
        """The value as a new ``decimal.Decimal`` (same digits, same exponent)."""
        return Decimal(self.__str__())

    def to_json_value(self) -> str:
        """The canonical JSON text (the plain decimal string, scale kept)."""
        return self.__str__()

    def __str__(self) -> str:
        m = self._m
        if m:
            return D.to_str(m, self._s)
        return D.to_str(0, self._s, getattr(self, "_nz", False))

    def __repr__(self) -> str:
        return f"{self._KIND}(Decimal('{self.__str__()}'))"

    def __format__(self, spec: str) -> str:
        if spec:
            raise TypeError(
                f"unsupported format string passed to openpit.param.{self._KIND}.__format__"
            )
        return self.__str__()

    def __bool__(self) -> bool:
        return self._m != 0

    def __float__(self) -> float:
        return D.to_f64(self._m, self._s, _neg0(self))

    def __hash__(self) -> int:
        return hash(D.normalize(self._m, self._s))

    # ------------------------------------------------------------------ fixed point

    def _to_fixed(self, scale: int) -> int:
        """``self * 10**scale`` as an exact int64, cached; ``FixedPointError`` otherwise."""
        fx = self._fx
        if fx is not None and fx[0] == scale:
            return fx[1]
        shift = scale - self._s
        if shift >= 0:
            v = self._m * _P10[shift]
        else:
            v, r = divmod(self._m, _P10[-shift])
            if r:
                raise FixedPointError(
                    f"{self._KIND} {self} is not representable in fixed point with scale {scale}"
                )
        if not _I64_MIN <= v < _I64_LIMIT:
            raise FixedPointError(
                f"{self._KIND} {self} does not fit in int64 fixed point with scale {scale}"
            )
        self._fx = (scale, v)
        return v

    # ------------------------------------------------------------------ comparisons

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return D.cmp(self._m, self._s, other._m, other._s) == 0  # type: ignore[attr-defined]

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return D.cmp(self._m, self._s, other._m, other._s) < 0  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return D.cmp(self._m, self._s, other._m, other._s) <= 0  # type: ignore[attr-defined]

    def __gt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return D.cmp(self._m, self._s, other._m, other._s) > 0  # type: ignore[attr-defined]

    def __ge__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return D.cmp(self._m, self._s, other._m, other._s) >= 0  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ arithmetic

    def _addsub(self, other: Any, subtract: bool) -> Any:
        m1 = self._m
        m2 = other._m
        cls = type(self)
        if m1 == 0:
            if subtract and m2:
                m, s, nz = -m2, other._s, False
            else:
                m, s, nz = m2, other._s, _neg0(other)
        elif m2 == 0:
            m, s, nz = m1, self._s, False
        else:
            r = D.add(m1, self._s, False, m2, other._s, False, subtract)
            if r is None:
                raise ParamError(f"arithmetic overflow in {cls._KIND}")
            m, s, nz = r
        if m < 0 and cls._UNSIGNED:
            raise ParamError(f"arithmetic underflow in {cls._KIND}")
        return _make(cls, m, s, nz)

    def __add__(self, other: Any) -> Any:
        if type(other) is not type(self):
            return _fail("+", self, other, other)
        return self._addsub(other, False)

    def __sub__(self, other: Any) -> Any:
        if type(other) is not type(self):
            return _fail("-", self, other, other)
        return self._addsub(other, True)

    def __radd__(self, other: Any) -> Any:
        return _fail("+", other, self, other)

    def __rsub__(self, other: Any) -> Any:
        return _fail("-", other, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _fail("/", other, self, other)

    def __rmod__(self, other: Any) -> Any:
        return _fail("%", other, self, other)

    def _scalar(self, op: str, other: Any, reflected: bool) -> Any:
        """A scalar operand as ``(m, s, _)``; NotImplemented/TypeError when it is not one."""
        tp = type(other)
        if tp is int:
            i = other
        elif tp is float:
            r = D.from_f64(other)
            if r is None:
                raise ParamError("invalid float value")
            return r
        elif isinstance(other, (_Value, *_NON_SCALARS)) or getattr(tp, "_OPENPIT_NAME", None):
            return _fail(op, other, self, other) if reflected else _fail(op, self, other, other)
        elif hasattr(tp, "__index__") and not is_numpy_bool(other):
            i = operator.index(other)
        elif hasattr(tp, "__float__") and not is_numpy_bool(other):
            r = D.from_f64(float(other))
            if r is None:
                raise ParamError("invalid float value")
            return r
        else:
            return NotImplemented
        if not _I64_MIN <= i < _U64_LIMIT:
            raise ParamError("integer operand is out of range for i64/u64")
        return i, 0, False

    def __mul__(self, other: Any) -> Any:
        r = self._scalar("*", other, False)
        if r is NotImplemented:
            return r
        return self._mul(r[0], r[1])

    def __rmul__(self, other: Any) -> Any:
        r = self._scalar("*", other, True)
        if r is NotImplemented:
            return r
        return self._mul(r[0], r[1])

    def _mul(self, m: int, s: int) -> Any:
        cls = type(self)
        if m < 0 and cls._UNSIGNED:
            raise ParamError(f"value must be non-negative for {cls._KIND}")
        r = D.mul(self._m, self._s, m, s)
        if r is None:
            raise ParamError(f"arithmetic overflow in {cls._KIND}")
        return _make(cls, r[0], r[1], r[2])

    def __truediv__(self, other: Any) -> Any:
        r = self._scalar("/", other, False)
        if r is NotImplemented:
            return r
        cls = type(self)
        m, s, _ = r
        if m == 0:
            raise ParamError(f"division by zero in {cls._KIND}")
        if m < 0 and cls._UNSIGNED:
            raise ParamError(f"value must be non-negative for {cls._KIND}")
        q = D.div(self._m, self._s, m, s)
        if q is None:
            raise ParamError(f"arithmetic overflow in {cls._KIND}")
        return _make(cls, q[0], q[1])

    def __mod__(self, other: Any) -> Any:
        r = self._scalar("%", other, False)
        if r is NotImplemented:
            return r
        cls = type(self)
        m, s, _ = r
        if m == 0:
            raise ParamError(f"division by zero in {cls._KIND}")
        if m < 0 and cls._UNSIGNED:
            raise ParamError(f"value must be non-negative for {cls._KIND}")
        q = D.rem(self._m, self._s, m, s)
        return _make(cls, q[0], q[1])

    # helpers for the domain conversions
    def _flip(self, cls: type) -> Any:
        """rust_decimal's ``-x`` (the sign bit flips even on zero) as a ``cls`` value."""
        m = self._m
        if m:
            return _make(cls, -m, self._s)
        return _make(cls, 0, self._s, not _neg0(self))

    def _same(self, cls: type) -> Any:
        return _make(cls, self._m, self._s, _neg0(self))


class _Signed(_Value):
    __slots__ = ()

    def __neg__(self) -> Any:
        # openpit negates as ``ZERO - x``: a zero comes back unchanged, sign bit included.
        m = self._m
        if m:
            return _make(type(self), -m, self._s)
        return _make(type(self), 0, self._s, _neg0(self))


def _require(value: Any, cls: type) -> Any:
    if type(value) is not cls:
        raise downcast_error(value, cls._KIND)
    return value


def _side_sign(side: Any) -> int:
    if not isinstance(side, str):
        raise downcast_error(side, "str")
    key = side.lower()
    if key == "buy":
        return 1
    if key == "sell":
        return -1
    raise ValueError(f"invalid side \"{key}\"; expected 'buy' or 'sell'")


def _abs_mul(a: Any, b: Any, cls: type, kind: str, signed: bool = False) -> Any:
    """``|a| * |b|`` (or the signed product) as ``cls``, overflow reported against ``kind``."""
    m1, m2 = a._m, b._m
    if not signed:
        m1 = -m1 if m1 < 0 else m1
        m2 = -m2 if m2 < 0 else m2
    r = D.mul(m1, a._s, m2, b._s)
    if r is None:
        raise ParamError(f"arithmetic overflow in {kind}")
    return _make(cls, r[0], r[1], r[2])


def margin_required(notional: Notional, raw_leverage: int) -> Notional:
    """openpit's ``notional * 10 / stored_leverage`` (stored = leverage * 10)."""
    r = D.mul(notional._m, notional._s, 10, 0)
    if r is not None:
        r = D.div(r[0], r[1], raw_leverage, 0)  # type: ignore[assignment]
    if r is None:
        raise ParamError("arithmetic overflow in Notional")
    return _make(Notional, r[0], r[1])


class Quantity(_Value):
    """Unsigned order or fill size in instrument units."""

    __slots__ = ()
    _KIND = "Quantity"
    _UNSIGNED = True
    _FINAL = True
    ZERO: ClassVar[Quantity]

    def calculate_volume(self, price: Price) -> Volume:
        return _abs_mul(_require(price, Price), self, Volume, "Price")

    def to_position_size(self) -> PositionSize:
        return self._same(PositionSize)


class Price(_Signed):
    """Per-unit instrument price (may be negative)."""

    __slots__ = ()
    _KIND = "Price"
    _FINAL = True
    ZERO: ClassVar[Price]

    def calculate_volume(self, quantity: Quantity) -> Volume:
        return _abs_mul(self, _require(quantity, Quantity), Volume, "Price")

    def calculate_position_size(self, quantity: Quantity) -> PositionSize:
        return _abs_mul(self, _require(quantity, Quantity), PositionSize, "Price", signed=True)


class Volume(_Value):
    """Unsigned notional volume in the settlement currency."""

    __slots__ = ()
    _KIND = "Volume"
    _UNSIGNED = True
    _FINAL = True
    ZERO: ClassVar[Volume]

    def to_cash_flow_inflow(self) -> CashFlow:
        return self._same(CashFlow)

    def to_cash_flow_outflow(self) -> CashFlow:
        return self._flip(CashFlow)

    def calculate_quantity(self, price: Price) -> Quantity:
        _require(price, Price)
        if price._m == 0:
            return Quantity.ZERO
        pm = price._m
        r = D.div(self._m, self._s, -pm if pm < 0 else pm, price._s)
        if r is None:
            raise ParamError("arithmetic overflow in Volume")
        if r[0] < 0:
            raise ParamError("arithmetic underflow in Quantity")
        return _make(Quantity, r[0], r[1])

    def to_position_size(self) -> PositionSize:
        return self._same(PositionSize)


class Notional(_Value):
    """Monetary position exposure (``|price| * quantity``) in the settlement currency."""

    __slots__ = ()
    _KIND = "Notional"
    _UNSIGNED = True
    _FINAL = True
    ZERO: ClassVar[Notional]

    @staticmethod
    def from_price_quantity(price: Price, quantity: Quantity) -> Notional:
        _require(price, Price)
        _require(quantity, Quantity)
        pm = price._m
        r = D.mul(-pm if pm < 0 else pm, price._s, quantity._m, quantity._s)
        if r is None:
            raise ParamError("arithmetic overflow in Price")
        return _make(Notional, r[0], r[1])

    @staticmethod
    def from_volume(volume: Volume) -> Notional:
        return _require(volume, Volume)._same(Notional)

    def to_volume(self) -> Volume:
        return self._same(Volume)

    def calculate_margin_required(self, leverage: Any) -> Notional:
        return margin_required(self, leverage_raw(leverage))


class Pnl(_Signed):
    """Signed profit and loss in the settlement currency."""

    __slots__ = ()
    _KIND = "Pnl"
    _FINAL = True
    ZERO: ClassVar[Pnl]

    @staticmethod
    def from_fee(fee: Fee) -> Pnl:
        return _require(fee, Fee)._flip(Pnl)

    def to_cash_flow(self) -> CashFlow:
        return self._same(CashFlow)

    def to_position_size(self) -> PositionSize:
        return self._same(PositionSize)


class Fee(_Signed):
    """Execution fee (positive is a cost) or rebate (negative) in the settlement currency."""

    __slots__ = ()
    _KIND = "Fee"
    _FINAL = True
    ZERO: ClassVar[Fee]

    def to_pnl(self) -> Pnl:
        return self._flip(Pnl)

    def to_position_size(self) -> PositionSize:
        return self._flip(PositionSize)

    def to_cash_flow(self) -> CashFlow:
        return self._flip(CashFlow)


class CashFlow(_Signed):
    """Signed cash-flow contribution: positive is inflow, negative outflow."""

    __slots__ = ()
    _KIND = "CashFlow"
    _FINAL = True
    ZERO: ClassVar[CashFlow]

    @staticmethod
    def from_pnl(pnl: Pnl) -> CashFlow:
        return _require(pnl, Pnl)._same(CashFlow)

    @staticmethod
    def from_fee(fee: Fee) -> CashFlow:
        return _require(fee, Fee)._flip(CashFlow)

    @staticmethod
    def from_volume_inflow(volume: Volume) -> CashFlow:
        return _require(volume, Volume)._same(CashFlow)

    @staticmethod
    def from_volume_outflow(volume: Volume) -> CashFlow:
        return _require(volume, Volume)._flip(CashFlow)


class PositionSize(_Signed):
    """Signed position size in instrument units: long positive, short negative."""

    __slots__ = ()
    _KIND = "PositionSize"
    _FINAL = True
    ZERO: ClassVar[PositionSize]

    @staticmethod
    def from_quantity_and_side(quantity: Quantity, side: str) -> PositionSize:
        _require(quantity, Quantity)
        if _side_sign(side) > 0:
            return quantity._same(PositionSize)
        return quantity._flip(PositionSize)

    @staticmethod
    def from_pnl(pnl: Pnl) -> PositionSize:
        return _require(pnl, Pnl)._same(PositionSize)

    @staticmethod
    def from_fee(fee: Fee) -> PositionSize:
        return _require(fee, Fee)._flip(PositionSize)

    def to_open_quantity(self) -> tuple[Quantity, str]:
        m = self._m
        if m == 0:
            return Quantity.ZERO, "BUY"
        if m > 0:
            return _make(Quantity, m, self._s), "BUY"
        return _make(Quantity, -m, self._s), "SELL"

    def to_close_quantity(self) -> tuple[Quantity, str | None]:
        m = self._m
        if m == 0:
            return Quantity.ZERO, None
        if m > 0:
            return _make(Quantity, m, self._s), "SELL"
        return _make(Quantity, -m, self._s), "BUY"

    def checked_add_quantity(self, qty: Quantity, side: str) -> PositionSize:
        _require(qty, Quantity)
        sign = _side_sign(side)
        qm = qty._m
        if sign < 0:
            delta_m, delta_nz = -qm, qm == 0 and not _neg0(qty)
        else:
            delta_m, delta_nz = qm, _neg0(qty)
        r = D.add(self._m, self._s, _neg0(self), delta_m, qty._s, delta_nz, False)
        if r is None:
            raise ParamError("arithmetic overflow in PositionSize")
        return _make(PositionSize, r[0], r[1], r[2])


def _renamed(fn: Any, qualname: str) -> Any:
    code = fn.__code__.replace(co_qualname=qualname)
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__qualname__ = qualname
    new.__doc__ = fn.__doc__
    return new


# Argument errors ("X() missing 1 required positional argument") name the concrete
# class, as openpit's do: each class gets its own copy of the shared functions.
_CONSTRUCTORS = (
    "from_decimal",
    "from_string",
    "from_int",
    "from_float",
    "from_string_rounded",
    "from_float_rounded",
    "from_decimal_rounded",
)

for _cls in (Quantity, Price, Volume, Notional, Pnl, Fee, CashFlow, PositionSize):
    _cls.ZERO = _make(_cls, 0, 0)
    _cls.__module__ = "openpit_shm.param"
    _cls.__init__ = _renamed(_Value.__init__, f"{_cls._KIND}.__new__")  # type: ignore[misc]
    for _name in _CONSTRUCTORS:
        _fn = _Value.__dict__[_name].__func__
        setattr(_cls, _name, classmethod(_renamed(_fn, f"{_cls._KIND}.{_name}")))
del _cls, _name, _fn


use_margin_rule(lambda notional, raw: margin_required(coerce(Notional, notional), raw))
