"""Small emulations of the Rust/PyO3 behaviour openpit's messages come from.

* ``is_blank``: Rust's ``str::trim().is_empty()`` (Unicode White_Space, which
  differs from ``str.isspace`` on U+001C..U+001F).
* ``downcast_error``: PyO3's "'int' object is not an instance of 'str'" text.
* ``extract_u32`` / ``extract_u64``: PyO3's integer extraction and its errors.
* ``as_double``: ``PyFloat_AsDouble`` (accepts ``__float__``/``__index__``, never str).
* ``is_numpy_bool``: PyO3 treats ``numpy.bool_`` as a ``bool``.
* ``missing_attribute``: CPython's ``AttributeError`` text for a native class.
* ``pyo3_kwonly``: PyO3's argument errors for keyword-only native constructors;
  ``pyo3_check_call`` / ``REQUIRED`` the same for methods with a positional part;
  ``check_no_arguments`` for methods that take none.
* ``reduce_slots`` / ``restore_slots``: pickling for objects whose constructor
  cannot take their own state back.
"""

from __future__ import annotations

import operator
from typing import Any

__all__ = [
    "REQUIRED",
    "as_double",
    "check_no_arguments",
    "downcast_error",
    "extract_u32",
    "extract_u64",
    "is_blank",
    "is_numpy_bool",
    "missing_attribute",
    "pyo3_check_call",
    "pyo3_kwonly",
    "pyo3_too_many",
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


def missing_attribute(obj: object, name: str) -> AttributeError:
    """CPython's text for a missing attribute of one of openpit's native objects.

    CPython names a native class by its full name (``'openpit.Accounts' object
    has no attribute 'x'``); the emulating class says which in ``_OPENPIT_NAME``.
    For a class's ``__getattr__``: only where attribute access is not hot, since
    defining it slows every attribute lookup on the class.
    """
    return AttributeError(f"'{type(obj)._OPENPIT_NAME}' object has no attribute '{name}'")  # type: ignore[attr-defined]


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
    """PyO3's (and CPython's) list of names: "'a'", "'a' and 'b'", "'a', 'b', and 'c'"."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def pyo3_too_many(qualname: str, takes: int, given: int) -> TypeError:
    """PyO3's text for too many positional arguments ("arguments" even for one)."""
    return TypeError(
        f"{qualname}() takes {takes} positional arguments but {given} "
        f"{'was' if given == 1 else 'were'} given"
    )


def pyo3_check_call(
    qualname: str, takes: int, extra: tuple[Any, ...], keywords: dict[str, Any]
) -> None:
    """PyO3's errors for a native method called with more than ``takes`` positional
    arguments (``extra``: the ones beyond) or without a required keyword
    (``keywords``: name -> value, ``REQUIRED`` when not given). Python's own
    texts for the other mistakes already match PyO3's.
    """
    if extra:
        raise pyo3_too_many(qualname, takes, takes + len(extra))
    missing = [name for name, value in keywords.items() if value is REQUIRED]
    if missing:
        raise _missing_keywords(qualname, missing)


def check_no_arguments(qualname: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """CPython's errors for a native method that takes no arguments (``METH_NOARGS``)."""
    if kwargs:
        raise TypeError(f"{qualname}() takes no keyword arguments")
    if args:
        raise TypeError(f"{qualname}() takes no arguments ({len(args)} given)")


class _Required:
    """The default of a required keyword argument checked by ``pyo3_check_call``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()


def _missing_keywords(qualname: str, missing: list[str]) -> TypeError:
    plural = "s" if len(missing) > 1 else ""
    return TypeError(
        f"{qualname}() missing {len(missing)} required keyword argument{plural}: "
        f"{_name_list(missing)}"
    )


def pyo3_kwonly(
    qualname: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
) -> None:
    """Raise PyO3's ``TypeError`` texts for a keyword-only native ``__new__`` called wrongly."""
    if args:
        raise pyo3_too_many(qualname, 0, len(args))
    for key in kwargs:
        if key not in required and key not in optional:
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{key}'")
    missing = [n for n in required if n not in kwargs]
    if missing:
        raise _missing_keywords(qualname, missing)


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
