"""Helpers shared by the param and core tests: outcome capture and hypothesis strategies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

VALUE_TYPES = ("Quantity", "Price", "Volume", "Notional", "Pnl", "Fee", "CashFlow", "PositionSize")
SIGNED = ("Price", "Pnl", "Fee", "CashFlow", "PositionSize")
UNSIGNED = ("Quantity", "Volume", "Notional")
STRATEGIES = ("MidpointNearestEven", "MidpointAwayFromZero", "Up", "Down")
MAX = (1 << 96) - 1

_ADDR = re.compile(r"0x[0-9a-f]+")


def describe(result: Any) -> Any:
    """A comparable description of a returned value (type name + repr; floats bit-exact)."""
    if isinstance(result, tuple):
        return tuple(describe(x) for x in result)
    if isinstance(result, float):
        return ("float", result.hex() if result == result else "nan")
    return (type(result).__name__, _ADDR.sub("0x?", repr(result)))


def outcome(fn: Callable[[], Any], relax_names: bool = False) -> Any:
    """What calling ``fn`` does: ``("return", description)`` or ``("raise", type, message)``.

    ``relax_names`` drops the ``openpit.param.`` / ``openpit.core.`` prefixes that
    only CPython's own operator errors print (they name the class's tp_name).
    """
    try:
        result = fn()
    except Exception as exc:
        message = str(exc)
        if relax_names:
            message = message.replace("openpit.param.", "").replace("openpit.core.", "")
        return ("raise", type(exc).__name__, message)
    return ("return", describe(result))


def decimal_text(max_digits: int = 31) -> st.SearchStrategy[str]:
    """Plausible decimal literals: sign, digits, point, underscores, a few exponents."""
    digits = st.text("0123456789", min_size=0, max_size=max_digits)
    plain = st.builds(
        lambda sign, a, point, b: sign + a + point + b,
        st.sampled_from(["", "", "", "-", "+"]),
        digits,
        st.sampled_from(["", ".", "."]),
        digits,
    )
    noisy = st.text("0123456789._+-eE", min_size=0, max_size=14)
    return st.one_of(plain, plain, noisy)


def valid_text(signed: bool, max_digits: int = 29) -> st.SearchStrategy[str]:
    """Decimal strings within 96 bits and 28 places (they construct successfully)."""

    def build(mantissa: int, scale: int, negative: bool) -> str:
        digits = str(mantissa).rjust(scale + 1, "0")
        text = digits[: len(digits) - scale] + (
            "." + digits[len(digits) - scale :] if scale else ""
        )
        return ("-" + text) if (negative and signed) else text

    mantissa = st.one_of(
        st.integers(0, MAX),
        st.integers(0, 10**12),
        st.integers(0, 2**32),
        st.sampled_from([0, 1, 5, 10, 25, 2**32 - 1, 2**32, 10**28, MAX, MAX - 1]),
    )
    return st.builds(build, mantissa, st.integers(0, 28), st.booleans())


def scalars() -> st.SearchStrategy[Any]:
    """Operands for ``*``, ``/`` and ``%``: ints across the i64/u64 edges, floats, specials."""
    return st.one_of(
        st.integers(-10, 10),
        st.integers(-(2**65), 2**65),
        st.integers(1, 10**9),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-1e6, max_value=1e6),
        st.sampled_from([3, 7, 9, 1024, 0.1, 0.3, -0.0, 1e-28, 1e-30, 2.5]),
    )


def exact(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern matching exactly ``message``."""
    return "^" + re.escape(message) + "$"
