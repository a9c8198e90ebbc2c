"""Small emulations of the Rust/PyO3 behaviour openpit's messages come from.

* ``is_blank``: Rust's ``str::trim().is_empty()`` (Unicode White_Space, which
  differs from ``str.isspace`` on U+001C..U+001F).
* ``downcast_error``: PyO3's "'int' object is not an instance of 'str'" text.
* ``extract_u32`` / ``extract_u64``: PyO3's integer extraction and its errors.
* ``as_double``: ``PyFloat_AsDouble`` (accepts ``__float__``/``__index__``, never str).
* ``is_numpy_bool``: PyO3 treats ``numpy.bool_`` as a ``bool``.
* ``pyo3_kwonly``: PyO3's argument errors for keyword-only native constructors.
* ``reduce_slots`` / ``restore_slots``: pickling for objects whose constructor
  cannot take their own state back.
"""

from __future__ import annotations

import operator
from typing import Any

__all__ = [
    "as_double",
    "downcast_error",
    "extract_u32",
    "extract_u64",
    "is_blank",
    "is_numpy_bool",
    "pyo3_kwonly",
    "reduce_slots",
    "restore_slots",
    "rust_debug_str",
]

# Python's isspace() also accepts the four ASCII information separators; Rust does not.
_NOT_RUST_SPACE = frozenset("\x1c\x1d\x1e\x1f")


def is_blank(s: str) -> bool:
    """True when ``s`` is empty or only Rust whitespace."""
    if not s:
        return True
    if not s.isspace():
        return False
    return not any(c in _NOT_RUST_SPACE for c in s)


def downcast_error(value: object, target: str) -> TypeError:
    """PyO3's failed-downcast ``TypeError`` (``None`` is named without "object")."""
    if value is None:
        return TypeError(f"'None' is not an instance of '{target}'")
    return TypeError(f"'{type(value).__name__}' object is not an instance of '{target}'")


_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1


def _extract_c_long(value: Any) -> int:
    i = operator.index(value)  # TypeError "'float' object cannot be interpreted as an integer"
    if not _I64_MIN <= i <= _I64_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return i


def extract_u32(value: Any) -> int:
    """PyO3 ``u32`` extraction: C long first, then a checked narrowing."""
    i = _extract_c_long(value)
    if not 0 <= i < (1 << 32):
        raise OverflowError("out of range integral type conversion attempted")
    return i


def extract_u64(value: Any) -> int:
    """PyO3 ``u64`` extraction (CPython's unsigned conversion messages)."""
    i = operator.index(value)
    if i < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if i >= 1 << 64:
        raise OverflowError("int too big to convert")
    return i


def as_double(value: Any) -> float:
    """``PyFloat_AsDouble``: floats, ``__float__`` or ``__index__`` objects; never strings."""
    if type(value) is float:
        return value
    tp = type(value)
    if hasattr(tp, "__float__"):
        return float(value)
    if hasattr(tp, "__index__"):
        return float(operator.index(value))
    raise TypeError(f"must be real number, not {tp.__name__}")


def is_numpy_bool(value: object) -> bool:
    tp = type(value)
    return tp.__module__ == "numpy" and tp.__name__ in ("bool", "bool_")


def rust_debug_str(s: str) -> str:
    """Rust's ``{:?}`` of a string: double quotes, escapes for quotes, backslashes and controls."""
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\0":
            out.append("\\0")
        elif c.isprintable() or c == " ":
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    out.append('"')
    return "".join(out)


def _name_list(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def pyo3_kwonly(
    qualname: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> None:
    """Raise PyO3's ``TypeError`` texts for a keyword-only native ``__new__`` called wrongly."""
    if args:
        raise TypeError(
            f"{qualname}() takes 0 positional arguments but {len(args)} "
            f"{'was' if len(args) == 1 else 'were'} given"
        )
    for key in kwargs:
        if key not in required and key not in optional:
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{key}'")
    missing = [n for n in required if n not in kwargs]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise TypeError(
            f"{qualname}() missing {len(missing)} required keyword argument{plural}: "
            f"{_name_list(missing)}"
        )


def restore_slots(cls: type, fields: dict[str, Any], extra: dict[str, Any] | None) -> Any:
    """Rebuild an object from its slot values (and ``__dict__``) without its constructor."""
    o = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(o, name, value)
    if extra:
        o.__dict__.update(extra)
    return o


def reduce_slots(obj: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    """``__reduce__`` value that pickles ``names`` and any extra attributes."""
    fields = {name: getattr(obj, name) for name in names}
    return (restore_slots, (type(obj), fields, getattr(obj, "__dict__", None) or None))
