"""ReferenceBook and settlement schemes: openpit.core's standalone instrument registry.

``ReferenceBook`` maps instruments to ``InstrumentId`` values and keeps an
optional ``SettlementScheme`` per id::

    book.register(instrument)             -> next free auto id (0, 1, 2, ... skipping taken ids)
    book.register_with_id(instrument, id) -> id (caller-assigned, any u64)
    book.resolve(instrument)              -> id | None
    book.set_settlement_scheme(id, scheme) / clear_settlement_scheme(id) / settlement_scheme(id)

A duplicate instrument (checked first) or id raises
``ReferenceBookRegistrationError`` (``.instrument`` / ``.instrument_id``, the
other None); a scheme call on an unregistered id raises
``UnknownReferenceBookInstrumentId`` (``.instrument_id``). Nothing in the
engine reads the book in openpit 0.10 either; to share ids with market data,
register the same explicit ``InstrumentId`` in both.

Every text, repr and operator error is openpit's. Deliberate differences: the
values and the book pickle (openpit's refuse to), and a registration error's
``.instrument`` is an ``openpit_shm.core.Instrument`` equal to the registered
one (openpit hands back a bare native instrument that equals nothing).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, TypeVar

from .instrument import Instrument, InstrumentId
from .param._compat import (
    downcast_error,
    extract_u64,
    pyo3_kwonly,
    pyo3_too_many,
    rust_debug_str,
)
from .param._native import (
    EqOnly,
    Native,
    SimpleEnum,
    bare_instance,
    native_signature,
    positional_signature,
)
from .param.asset import asset_text

__all__ = [
    "ReferenceBook",
    "ReferenceBookRegistrationError",
    "SettlementLag",
    "SettlementScheme",
    "SettlementUnit",
    "UnknownReferenceBookInstrumentId",
]

_set = object.__setattr__
_E = TypeVar("_E", bound=Exception)


# ----------------------------------------------------------------------------- errors


class ReferenceBookRegistrationError(Exception):
    """Reference-book registration conflicts with existing state.

    ``instrument`` is set for a duplicate instrument, ``instrument_id`` for a
    duplicate id; the other is None.
    """

    instrument: Instrument | None
    instrument_id: InstrumentId | None


class UnknownReferenceBookInstrumentId(Exception):
    """Instrument id is unknown to the reference book (``instrument_id`` says which)."""

    instrument_id: InstrumentId


def already_registered_text(key: tuple[str, str]) -> str:
    """openpit's text for registering an instrument twice (market data says the same)."""
    u, s = key
    return (
        f"instrument Instrument {{ underlying_asset: Asset({rust_debug_str(u)}), "
        f"settlement_asset: Asset({rust_debug_str(s)}) }} is already registered"
    )


def instrument_conflict(cls: type[_E], key: tuple[str, str]) -> _E:
    """A ``cls`` registration error for a duplicate instrument (``.instrument_id`` None)."""
    err = cls(already_registered_text(key))
    err.instrument = Instrument(*key)  # type: ignore[attr-defined]
    err.instrument_id = None  # type: ignore[attr-defined]
    return err


def id_conflict(cls: type[_E], value: int) -> _E:
    """A ``cls`` registration error for a duplicate instrument id (``.instrument`` None)."""
    err = cls(f"instrument id {value} is already registered")
    err.instrument = None  # type: ignore[attr-defined]
    err.instrument_id = InstrumentId(value)  # type: ignore[attr-defined]
    return err


def _unknown_id(value: int) -> UnknownReferenceBookInstrumentId:
    err = UnknownReferenceBookInstrumentId(f"unknown reference-book instrument id: {value}")
    err.instrument_id = InstrumentId(value)
    return err


# ----------------------------------------------------------------------------- settlement


class SettlementUnit(SimpleEnum):
    """Unit used to express a settlement delay: ``BUSINESS_DAYS`` (0) or ``CALENDAR_DAYS`` (1).

    Like openpit's, members compare equal to their integer value (bools
    included), convert with ``int()``, cannot be ordered and are unhashable.
    Unlike openpit's, they pickle (by name).
    """

    __slots__ = ()
    _OPENPIT_NAME = "openpit.core.SettlementUnit"
    _PICKLE_BY_NAME = True

    BUSINESS_DAYS: ClassVar[SettlementUnit]
    CALENDAR_DAYS: ClassVar[SettlementUnit]


SettlementUnit._define_members({"BUSINESS_DAYS": 0, "CALENDAR_DAYS": 1})


def _settlement_lag(n: int, unit: SettlementUnit) -> SettlementLag:
    return bare_instance(SettlementLag, _n=n, _unit=unit)


class SettlementLag(EqOnly):
    """Settlement delay for one delivery or payment leg: ``n`` (u64) units of ``unit``."""

    __slots__ = ("_n", "_unit")
    _OPENPIT_NAME = "openpit.core.SettlementLag"
    _FIELDS = frozenset(("n", "unit"))

    _n: int
    _unit: SettlementUnit

    def __new__(cls, n: int, unit: SettlementUnit, *extra: Any) -> SettlementLag:
        if extra:
            raise pyo3_too_many("SettlementLag.__new__", 2, 2 + len(extra))
        n = extract_u64(n)
        if not isinstance(unit, SettlementUnit):
            raise downcast_error(unit, "SettlementUnit")
        return _settlement_lag(n, unit)

    @property
    def n(self) -> int:
        """Number of units."""
        return self._n

    @property
    def unit(self) -> SettlementUnit:
        """Business or calendar days."""
        return self._unit

    def _key(self) -> tuple[Any, ...]:
        return (self._n, self._unit._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_settlement_lag, (self._n, self._unit))


SettlementLag.__signature__ = positional_signature("n", "unit")  # type: ignore[attr-defined]


def _settlement_scheme(delivery: SettlementLag, payment: SettlementLag) -> SettlementScheme:
    return bare_instance(SettlementScheme, _delivery=delivery, _payment=payment)


class SettlementScheme(EqOnly):
    """Independent delivery and payment settlement delays."""

    __slots__ = ("_delivery", "_payment")
    _OPENPIT_NAME = "openpit.core.SettlementScheme"
    _FIELDS = frozenset(("delivery", "payment"))

    _delivery: SettlementLag
    _payment: SettlementLag

    def __new__(
        cls, delivery: SettlementLag, payment: SettlementLag, *extra: Any
    ) -> SettlementScheme:
        if extra:
            raise pyo3_too_many("SettlementScheme.__new__", 2, 2 + len(extra))
        if type(delivery) is not SettlementLag:
            raise downcast_error(delivery, "SettlementLag")
        if type(payment) is not SettlementLag:
            raise downcast_error(payment, "SettlementLag")
        return _settlement_scheme(delivery, payment)

    @staticmethod
    @native_signature(lambda n: None)
    def uniform(n: int, *extra: Any) -> SettlementScheme:
        """The same lag of ``n`` business days for delivery and payment."""
        if extra:
            raise pyo3_too_many("SettlementScheme.uniform", 1, 1 + len(extra))
        lag = _settlement_lag(extract_u64(n), SettlementUnit.BUSINESS_DAYS)
        return _settlement_scheme(lag, lag)

    @property
    def delivery(self) -> SettlementLag:
        """Delay of the delivery (asset) leg."""
        return self._delivery

    @property
    def payment(self) -> SettlementLag:
        """Delay of the payment (cash) leg."""
        return self._payment

    def _key(self) -> tuple[Any, ...]:
        return (self._delivery._key(), self._payment._key())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_settlement_scheme, (self._delivery, self._payment))


SettlementScheme.__signature__ = positional_signature(  # type: ignore[attr-defined]
    "delivery", "payment"
)


# ----------------------------------------------------------------------------- the book


def instrument_key(value: Any) -> tuple[str, str]:
    """openpit's instrument argument (an ``Instrument`` or any object with both asset fields).

    Market data's registrations read theirs the same way.
    """
    if isinstance(value, Instrument):
        return value._key
    try:
        underlying = value.underlying_asset
        settlement = value.settlement_asset
    except Exception:
        raise TypeError("instrument must be openpit.core.Instrument") from None
    return (asset_text(underlying), asset_text(settlement))


def _id_value(value: Any) -> int:
    if type(value) is not InstrumentId:
        raise downcast_error(value, "InstrumentId")
    return value._value


class ReferenceBook(Native):
    """Instrument registry and typed reference attributes.

    It is independent from ``openpit.marketdata``. To use the same identity in a
    market-data service, register a caller-assigned ``InstrumentId`` in both.
    """

    __slots__ = ("_by_id", "_by_instrument", "_next_auto_id")
    _OPENPIT_NAME = "openpit.core.ReferenceBook"

    _by_id: dict[int, SettlementScheme | None]
    _by_instrument: dict[tuple[str, str], int]
    _next_auto_id: int

    def __new__(cls, *args: Any, **kwargs: Any) -> ReferenceBook:
        if args or kwargs:
            pyo3_kwonly("ReferenceBook.__new__", args, kwargs, ())
        return bare_instance(cls, _by_id={}, _by_instrument={}, _next_auto_id=0)

    @native_signature(lambda self, /, instrument: None)
    def register(self, instrument: Any, *extra: Any) -> InstrumentId:
        """Register ``instrument`` under the next free automatic id."""
        if extra:
            raise pyo3_too_many("ReferenceBook.register", 1, 1 + len(extra))
        key = instrument_key(instrument)
        if key in self._by_instrument:
            raise instrument_conflict(ReferenceBookRegistrationError, key)
        by_id = self._by_id
        candidate = self._next_auto_id
        while candidate in by_id:
            candidate += 1
        _set(self, "_next_auto_id", candidate + 1)
        self._insert(key, candidate)
        return InstrumentId(candidate)

    @native_signature(lambda self, /, instrument, instrument_id: None)
    def register_with_id(
        self, instrument: Any, instrument_id: InstrumentId, *extra: Any
    ) -> InstrumentId:
        """Register ``instrument`` under the caller-assigned ``instrument_id``."""
        if extra:
            raise pyo3_too_many("ReferenceBook.register_with_id", 2, 2 + len(extra))
        value = _id_value(instrument_id)  # native argument parsing comes first
        key = instrument_key(instrument)
        if key in self._by_instrument:
            raise instrument_conflict(ReferenceBookRegistrationError, key)
        if value in self._by_id:
            raise id_conflict(ReferenceBookRegistrationError, value)
        self._insert(key, value)
        return InstrumentId(value)

    @native_signature(lambda self, /, instrument: None)
    def resolve(self, instrument: Any, *extra: Any) -> InstrumentId | None:
        """The id ``instrument`` is registered under, or None."""
        if extra:
            raise pyo3_too_many("ReferenceBook.resolve", 1, 1 + len(extra))
        value = self._by_instrument.get(instrument_key(instrument))
        return None if value is None else InstrumentId(value)

    @native_signature(lambda self, /, instrument_id, settlement_scheme: None)
    def set_settlement_scheme(
        self, instrument_id: InstrumentId, settlement_scheme: SettlementScheme, *extra: Any
    ) -> None:
        """Attach (or replace) the settlement scheme of a registered id."""
        if extra:
            raise pyo3_too_many("ReferenceBook.set_settlement_scheme", 2, 2 + len(extra))
        value = _id_value(instrument_id)
        if type(settlement_scheme) is not SettlementScheme:
            raise downcast_error(settlement_scheme, "SettlementScheme")
        if value not in self._by_id:
            raise _unknown_id(value)
        self._by_id[value] = settlement_scheme

    @native_signature(lambda self, /, instrument_id: None)
    def clear_settlement_scheme(self, instrument_id: InstrumentId, *extra: Any) -> None:
        """Remove the settlement scheme of a registered id (a no-op when none is set)."""
        if extra:
            raise pyo3_too_many("ReferenceBook.clear_settlement_scheme", 1, 1 + len(extra))
        value = _id_value(instrument_id)
        if value not in self._by_id:
            raise _unknown_id(value)
        self._by_id[value] = None

    @native_signature(lambda self, /, instrument_id: None)
    def settlement_scheme(
        self, instrument_id: InstrumentId, *extra: Any
    ) -> SettlementScheme | None:
        """The settlement scheme of a registered id, or None when none is set."""
        if extra:
            raise pyo3_too_many("ReferenceBook.settlement_scheme", 1, 1 + len(extra))
        value = _id_value(instrument_id)
        if value not in self._by_id:
            raise _unknown_id(value)
        return self._by_id[value]

    def _insert(self, key: tuple[str, str], value: int) -> None:
        self._by_instrument[key] = value
        self._by_id[value] = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_book, (dict(self._by_id), dict(self._by_instrument), self._next_auto_id))


def _restore_book(
    by_id: dict[int, SettlementScheme | None], by_instrument: dict[tuple[str, str], int], nxt: int
) -> ReferenceBook:
    book = ReferenceBook()
    book._by_id.update(by_id)
    book._by_instrument.update(by_instrument)
    _set(book, "_next_auto_id", nxt)
    return book


ReferenceBook.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
