"""Base classes that make Python classes behave like openpit's PyO3 native classes.

openpit's classes are Rust types exposed through PyO3, and users can observe
how those behave: the class is final, attributes are fixed, ``<`` raises a
``TypeError`` naming ``openpit.…`` types, many values are unhashable, pickling
is refused. The value modules (``reference_book``, ``marketdata.values``)
subclass these instead of repeating that behaviour:

=================  ============================================================
``Native``         final class, read-only fields, ``<openpit.X object at 0x…>``
``Unordered``      ``<``/``<=``/``>``/``>=`` raise openpit's ``TypeError`` for a
                   same-type or builtin operand, else ``NotImplemented``
``EqOnly``         ``==``/``!=`` on ``_key()``, unhashable, ordering raises
                   ``"X supports only == and !="``
``SimpleEnum``     a PyO3 ``#[pyclass] enum``: members only (no constructor),
                   ``int()``, ``==`` by identity or against an int, unhashable,
                   repr ``Name.MEMBER``
=================  ============================================================

A concrete class names its openpit type in ``_OPENPIT_NAME``; that name is what
the error texts print.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ._compat import missing_attribute

__all__ = [
    "EqOnly",
    "Native",
    "SimpleEnum",
    "Unordered",
    "bare_instance",
    "is_builtin",
    "method_signature",
    "native_signature",
    "order_error",
    "pickle_refused",
    "positional_signature",
    "unhashable",
]

_T = TypeVar("_T")


def native_signature(stub: Callable[..., Any]) -> Callable[[Any], Any]:
    """Give a function the signature openpit's native method reports (our ``*extra`` is hidden)."""

    def apply(target: Any) -> Any:
        target.__signature__ = inspect.signature(stub)
        return target

    return apply


def positional_signature(*names: str) -> inspect.Signature:
    """The signature openpit reports for a native callable taking ``names``."""
    return inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )


def method_signature(*names: str) -> inspect.Signature:
    """The signature openpit reports for a native method: ``(self, /, *names)``."""
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    return positional_signature(*names).replace(
        parameters=[self_param, *positional_signature(*names).parameters.values()]
    )


def bare_instance(cls: type[_T], **slots: Any) -> _T:
    """An instance of ``cls`` with these slot values, bypassing its ``__new__``."""
    obj = object.__new__(cls)
    for name, value in slots.items():
        object.__setattr__(obj, name, value)
    return obj


def _type_name(obj: object) -> str:
    tp = type(obj)
    return getattr(tp, "_OPENPIT_NAME", None) or tp.__name__


def order_error(op: str, left: object, right: object) -> TypeError:
    """CPython's text for an unsupported ordering, with openpit's class names."""
    return TypeError(
        f"'{op}' not supported between instances of '{_type_name(left)}' and '{_type_name(right)}'"
    )


def unhashable(obj: object) -> TypeError:
    """CPython's text for a class whose ``__hash__`` is None, with openpit's class name.

    The emulating classes raise it themselves (they are unhashable all the same).
    """
    return TypeError(f"unhashable type: '{_type_name(obj)}'")


def pickle_refused(obj: object) -> TypeError:
    """CPython's text for pickling a native object that does not support it."""
    return TypeError(f"cannot pickle '{_type_name(obj)}' object")


def is_builtin(obj: object) -> bool:
    """Operands whose reflected comparison never accepts ours: raise now, with openpit's names."""
    return type(obj).__module__ == "builtins"


class Native:
    """Shared behaviour of the emulated native classes: final, fixed attributes, openpit's texts."""

    __slots__ = ()
    _OPENPIT_NAME: ClassVar[str] = ""
    _FIELDS: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            name = base.__dict__.get("_OPENPIT_NAME")
            if name:  # a concrete emulated class: final, as openpit's native classes are
                raise TypeError(f"type '{name}' is not an acceptable base type")

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIELDS:
            raise AttributeError(
                f"attribute '{name}' of '{self._OPENPIT_NAME}' objects is not writable"
            )
        raise AttributeError(f"'{self._OPENPIT_NAME}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<{self._OPENPIT_NAME} object at {id(self):#x}>"


class Unordered(Native):
    """Classes without ordering: PyO3 raises for its own type and builtins, defers otherwise."""

    __slots__ = ()

    def _order(self, op: str, other: object) -> bool:
        if isinstance(other, type(self)) or is_builtin(other):
            raise order_error(op, self, other)
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return self._order("<", other)

    def __le__(self, other: object) -> bool:
        return self._order("<=", other)

    def __gt__(self, other: object) -> bool:
        return self._order(">", other)

    def __ge__(self, other: object) -> bool:
        return self._order(">=", other)


class EqOnly(Unordered):
    """Value classes that support only ``==`` and ``!=`` (openpit raises for ordering)."""

    __slots__ = ()

    def __hash__(self) -> int:
        raise unhashable(self)

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() != other._key()  # type: ignore[attr-defined]

    def _order(self, op: str, other: object) -> bool:
        if type(other) is type(self):
            raise TypeError(f"{type(self).__name__} supports only == and !=")
        if is_builtin(other):
            raise order_error(op, self, other)
        return NotImplemented


class SimpleEnum(Unordered):
    """A PyO3 simple enum (``#[pyclass] enum``): a fixed set of named integer members.

    Members are created once by ``_define_members`` and are the only instances
    (the constructor is refused). Each equals itself and its integer value
    (bools included), converts with ``int()``, cannot be ordered and is
    unhashable; the repr is ``Name.MEMBER``. ``_PICKLE_BY_NAME`` says whether a
    member pickles (as ``getattr(cls, name)``) or refuses to, as openpit's do.
    """

    __slots__ = ("_name", "_value")
    _PICKLE_BY_NAME: ClassVar[bool] = False

    _name: str
    _value: int

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"cannot create '{cls._OPENPIT_NAME}' instances")

    @classmethod
    def _define_members(cls, members: dict[str, int]) -> None:
        """Create the members as class attributes; the class reports an empty signature."""
        for name, value in members.items():
            setattr(cls, name, bare_instance(cls, _name=name, _value=value))
        cls.__signature__ = inspect.Signature()  # type: ignore[attr-defined]

    def __int__(self) -> int:
        return self._value

    def __hash__(self) -> int:
        raise unhashable(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self is other
        if isinstance(other, int):
            return self._value == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self is not other
        if isinstance(other, int):
            return self._value != other
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self._name}"

    def __reduce__(self) -> tuple[Any, ...]:
        if not self._PICKLE_BY_NAME:
            raise pickle_refused(self)
        return (getattr, (type(self), self._name))
