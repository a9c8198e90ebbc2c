"""``MarketDataService``: registered instruments, quote buckets and the 8-tier TTL cascade.

Semantics (openpit 0.10, probed on the real package):

* **Registry.** ``register``/``register_with_ttl`` take the next free automatic
  id (0, 1, 2, ..., skipping ids taken explicitly); ``register_with_id*`` take
  the caller's id. ``resolve(instrument)`` gives the id or None.
* **Buckets.** Each instrument has per-account and per-group quote buckets; the
  bucket of ``AccountGroupId.DEFAULT`` is the default ("everyone-else") one.
  ``push`` writes the default bucket, ``push_by_instrument`` does too after
  registering the instrument if needed, ``push_for`` writes the listed
  accounts' and groups' buckets. A push **replaces** the bucket's quote.
  ``clear(id)`` empties every bucket of the instrument.
* **Reads.** ``get(id, account_id, account_info, resolution)``: the account's
  bucket, then (``ACCOUNT_THEN_GROUP``) the bucket of
  ``account_info.account_group``, then (``..._THEN_DEFAULT``) the default
  bucket. ``account_info.account_group`` is read at most once per call, and
  only when a step needs it.
* **Age and expiry.** A quote's age is the time since its push (by the
  service's clock) plus the ``source_age`` given with it (negative: 0). It has
  expired when ``age >= ttl`` (so a zero TTL expires at once). ``get`` then
  raises ``QuoteExpired`` carrying the stale quote; ``get_optional`` returns
  None for every ``MarketDataError``.
* **TTL cascade.** The most specific tier that is set wins (not the minimum):
  1. (instrument, account) 2. (instrument, account's group)
  3. (instrument, DEFAULT group) 4. account 5. account's group 6. DEFAULT group
  7. instrument (``register_with_ttl``, ``set_instrument_ttl``)
  8. the builder's default TTL. An infinite TTL at a tier stops the cascade.

The clock is the engine's injectable one: ``clock() -> int`` nanoseconds,
monotonic (``time.monotonic_ns`` by default, the clock Rust's ``Instant``
reads on Linux). In ``full_sync`` mode one re-entrant lock serializes every
call; ``no_sync`` takes none (one thread only, as openpit documents).
"""

from __future__ import annotations

import datetime
import inspect
import operator
import threading
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from typing import Any

from ..core import InstrumentId
from ..param._compat import downcast_error, missing_attribute
from ..param._native import native_signature
from ..param.ids import AccountGroupId, AccountId
from ..reference_book import instrument_key
from .errors import (
    MarketDataError,
    QuoteUnavailable,
    UnknownInstrument,
    already_registered,
    duplicate_id,
    duplicate_instrument,
    quote_expired,
    unknown_instrument_id,
)
from .values import Quote, QuoteResolution, QuoteTtl, argument_error, timedelta_ns

__all__ = [
    "BUCKET_ACCOUNT",
    "BUCKET_DEFAULT",
    "BUCKET_GROUP",
    "UNSET",
    "MarketDataService",
    "new_service",
]

#: Bucket kinds as a mirror (``table.QuoteTableMirror``) sees them: (instrument, kind, key).
BUCKET_DEFAULT, BUCKET_ACCOUNT, BUCKET_GROUP = 0, 1, 2

_onew = object.__new__
_set = object.__setattr__
_U32_MAX = (1 << 32) - 1
_DEFAULT_GROUP = 0
_GROUP_TEXT = "account_group_id must be an AccountGroupId or integer in range 1..=4294967295"
_ACCOUNT_ONLY, _ACCOUNT_THEN_GROUP = 0, 1


# ----------------------------------------------------------------------------- argument checks


def _instrument_id(value: Any, name: str = "instrument_id") -> int:
    if type(value) is not InstrumentId:
        raise argument_error(downcast_error(value, "InstrumentId"), name)
    return value._value


def _ttl(value: Any, name: str = "ttl") -> int | None:
    if type(value) is not QuoteTtl:
        raise argument_error(downcast_error(value, "QuoteTtl"), name)
    return value._ns


def _quote(value: Any) -> Quote:
    if type(value) is not Quote:
        raise argument_error(downcast_error(value, "Quote"), "quote")
    return value


def _resolution(value: Any) -> int:
    if type(value) is not QuoteResolution:
        raise argument_error(downcast_error(value, "QuoteResolution"), "resolution")
    return value._value


def _account(value: Any) -> int:
    if type(value) is not AccountId:
        raise TypeError("account_id must be openpit.param.AccountId")
    return value._value


def _group(value: Any) -> int:
    """An ``AccountGroupId`` (DEFAULT included) or an integer 1..=u32::MAX."""
    if type(value) is AccountGroupId:
        return value._value
    try:
        i = operator.index(value)
    except TypeError:
        raise ValueError(_GROUP_TEXT) from None
    if i == 0:
        raise ValueError("account group id must not equal the reserved default group")
    if not 0 < i <= _U32_MAX:
        raise ValueError(_GROUP_TEXT)
    return i


def _source_age(value: Any) -> int:
    if not isinstance(value, datetime.timedelta):
        raise TypeError("source_age must be datetime.timedelta")
    return max(timedelta_ns(value), 0)


def _info_group(account_info: Any) -> int | None:
    try:
        group = account_info.account_group
    except AttributeError:
        tp = type(account_info)
        if getattr(tp, "_OPENPIT_NAME", None) and not hasattr(tp, "account_group"):
            # one of our emulated native objects: CPython names openpit's by full name
            raise missing_attribute(account_info, "account_group") from None
        raise
    if group is None:
        return None
    if type(group) is not AccountGroupId:
        raise TypeError(
            "account_info.account_group must be AccountGroupId or None, got: "
            + str(downcast_error(group, "AccountGroupId"))
        )
    return group._value


class _Group:
    """``account_info.account_group``, read once per call and only when needed."""

    __slots__ = ("_info", "_read", "_value")

    def __init__(self, account_info: Any) -> None:
        self._info = account_info
        self._read = False
        self._value: int | None = None

    def get(self) -> int | None:
        if not self._read:
            self._value = _info_group(self._info)
            self._read = True
        return self._value


# ----------------------------------------------------------------------------- per-instrument state


class _Slot:
    """One instrument: its quote buckets and its instrument-scoped TTL tiers.

    A bucket holds ``(quote, pushed_at_ns, source_age_ns)``.
    """

    __slots__ = ("account_quotes", "account_ttls", "group_quotes", "group_ttls", "ttl")

    def __init__(self, ttl: Any) -> None:
        self.account_quotes: dict[int, tuple[Quote, int, int]] = {}
        self.group_quotes: dict[int, tuple[Quote, int, int]] = {}
        self.account_ttls: dict[int, int | None] = {}
        self.group_ttls: dict[int, int | None] = {}
        #: Tier 7: ``_UNSET`` (inherit the default) or ns / None (infinite).
        self.ttl = ttl


_UNSET: Any = object()
#: A TTL tier that is not set (a mirror's ``on_config`` gets it for a cleared tier).
UNSET: Any = _UNSET

# Configuration keys as a mirror sees them (``layout.quotes.QK_*``).
_QK_INSTRUMENT, _QK_TTL_INSTRUMENT_ACCOUNT, _QK_TTL_INSTRUMENT_GROUP = 3, 4, 5
_QK_TTL_ACCOUNT, _QK_TTL_GROUP = 6, 7


def _sig(stub: Callable[..., Any]) -> Callable[[Any], Any]:
    return native_signature(stub)


def _too_many(name: str, takes: int, extra: tuple[Any, ...]) -> None:
    if extra:
        from ..param._compat import pyo3_too_many

        raise pyo3_too_many(f"MarketDataService.{name}", takes, takes + len(extra))


def new_service(
    default_ttl: QuoteTtl, full_sync: bool, clock: Callable[[], int]
) -> MarketDataService:
    """A service (``MarketDataBuilder.build()`` calls this; the class has no constructor)."""
    svc = _onew(MarketDataService)
    _set(svc, "_default_ttl", default_ttl._ns)
    _set(svc, "_full_sync", full_sync)
    _set(svc, "_clock", clock)
    _set(svc, "_lock", threading.RLock() if full_sync else nullcontext())
    _set(svc, "_by_instrument", {})
    _set(svc, "_slots", {})
    _set(svc, "_next_auto_id", 0)
    _set(svc, "_account_ttls", {})
    _set(svc, "_group_ttls", {})
    _set(svc, "_mirror", None)
    return svc


class MarketDataService:
    """Thread-shareable live market-data service (see the module docstring)."""

    __slots__ = (
        "_account_ttls",
        "_by_instrument",
        "_clock",
        "_default_ttl",
        "_full_sync",
        "_group_ttls",
        "_lock",
        "_mirror",
        "_next_auto_id",
        "_slots",
    )
    _OPENPIT_NAME = "openpit.marketdata.MarketDataService"

    _default_ttl: int | None
    _full_sync: bool
    _clock: Callable[[], int]
    _lock: Any
    _by_instrument: dict[tuple[str, str], int]
    _slots: dict[int, _Slot]
    _next_auto_id: int
    _account_ttls: dict[int, int | None]
    _group_ttls: dict[int, int | None]
    #: A ``table.QuoteTableMirror`` the pushes and clears are written through to, or None.
    _mirror: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> MarketDataService:
        raise TypeError("cannot create 'openpit.marketdata.MarketDataService' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(
            "type 'openpit.marketdata.MarketDataService' is not an acceptable base type"
        )

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'{self._OPENPIT_NAME}' object has no attribute '{name}'")

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle 'openpit.marketdata.MarketDataService' object")

    def __repr__(self) -> str:
        return f"<{self._OPENPIT_NAME} object at {id(self):#x}>"

    # ------------------------------------------------------------------ registration

    def _config(self, kind: int, instrument: int, key: int, ttl: Any) -> None:
        """Write a registration or TTL tier through to the mirror (before the service changes:
        a mirror that cannot take it raises and nothing changes)."""
        if self._mirror is not None:
            self._mirror.on_config(kind, instrument, key, ttl)

    def _add(self, key: tuple[str, str], value: int, ttl: Any) -> InstrumentId:
        self._config(_QK_INSTRUMENT, value, 0, ttl)
        self._by_instrument[key] = value
        self._slots[value] = _Slot(ttl)
        if self._mirror is not None:  # who maps instruments to ids (Spot Funds) learns it once
            self._mirror.on_register(key, value)
        if self._next_auto_id == value:
            _set(self, "_next_auto_id", value + 1)
        return InstrumentId(value)

    def _next_free_id(self) -> int:
        candidate = self._next_auto_id
        while candidate in self._slots:
            candidate += 1
        return candidate

    def _register_auto(self, key: tuple[str, str], ttl: Any) -> InstrumentId:
        candidate = self._next_free_id()
        _set(self, "_next_auto_id", candidate)
        return self._add(key, candidate, ttl)

    @_sig(lambda self, /, instrument: None)
    def register(self, instrument: Any, *extra: Any) -> InstrumentId:
        """Register ``instrument`` under the next free automatic id."""
        _too_many("register", 1, extra)
        key = instrument_key(instrument)
        with self._lock:
            if key in self._by_instrument:
                raise already_registered(key)
            return self._register_auto(key, _UNSET)

    @_sig(lambda self, /, instrument, ttl: None)
    def register_with_ttl(self, instrument: Any, ttl: QuoteTtl, *extra: Any) -> InstrumentId:
        """Register ``instrument`` (automatic id) with an instrument-level TTL (tier 7)."""
        _too_many("register_with_ttl", 2, extra)
        ns = _ttl(ttl)
        key = instrument_key(instrument)
        with self._lock:
            if key in self._by_instrument:
                raise already_registered(key)
            return self._register_auto(key, ns)

    def _register_with_id(self, instrument: Any, value: int, ttl: Any) -> InstrumentId:
        key = instrument_key(instrument)
        with self._lock:
            if key in self._by_instrument:
                raise duplicate_instrument(key)
            if value in self._slots:
                raise duplicate_id(value)
            return self._add(key, value, ttl)

    @_sig(lambda self, /, instrument, id: None)
    def register_with_id(self, instrument: Any, id: InstrumentId, *extra: Any) -> InstrumentId:
        """Register ``instrument`` under the caller-assigned ``id``."""
        _too_many("register_with_id", 2, extra)
        return self._register_with_id(instrument, _instrument_id(id, "id"), _UNSET)

    @_sig(lambda self, /, instrument, id, ttl: None)
    def register_with_id_and_ttl(
        self,
        instrument: Any,
        id: InstrumentId,
        ttl: QuoteTtl,
        *extra: Any,
    ) -> InstrumentId:
        """Register ``instrument`` under ``id`` with an instrument-level TTL (tier 7)."""
        _too_many("register_with_id_and_ttl", 3, extra)
        value = _instrument_id(id, "id")
        ns = _ttl(ttl)
        return self._register_with_id(instrument, value, ns)

    @_sig(lambda self, /, instrument: None)
    def resolve(self, instrument: Any, *extra: Any) -> InstrumentId | None:
        """The id ``instrument`` is registered under, or None."""
        _too_many("resolve", 1, extra)
        key = instrument_key(instrument)
        with self._lock:
            value = self._by_instrument.get(key)
        return None if value is None else InstrumentId(value)

    # ------------------------------------------------------------ TTL tiers 4-6 (service-wide)

    @_sig(lambda self, /, account_id, ttl: None)
    def set_account_ttl(self, account_id: AccountId, ttl: QuoteTtl, *extra: Any) -> None:
        """Tier 4: the TTL of every quote read by ``account_id``."""
        _too_many("set_account_ttl", 2, extra)
        ns = _ttl(ttl)
        acct = _account(account_id)
        with self._lock:
            self._config(_QK_TTL_ACCOUNT, 0, acct, ns)
            self._account_ttls[acct] = ns

    @_sig(lambda self, /, account_id: None)
    def clear_account_ttl(self, account_id: AccountId, *extra: Any) -> None:
        """Remove the tier-4 TTL of ``account_id`` (a no-op when none is set)."""
        _too_many("clear_account_ttl", 1, extra)
        acct = _account(account_id)
        with self._lock:
            self._config(_QK_TTL_ACCOUNT, 0, acct, _UNSET)
            self._account_ttls.pop(acct, None)

    @_sig(lambda self, /, account_group_id, ttl: None)
    def set_account_group_ttl(self, account_group_id: Any, ttl: QuoteTtl, *extra: Any) -> None:
        """Tier 5 (a group) or, with ``AccountGroupId.DEFAULT``, tier 6 ("everyone else")."""
        _too_many("set_account_group_ttl", 2, extra)
        ns = _ttl(ttl)
        group = _group(account_group_id)
        with self._lock:
            self._config(_QK_TTL_GROUP, 0, group, ns)
            self._group_ttls[group] = ns

    @_sig(lambda self, /, account_group_id: None)
    def clear_account_group_ttl(self, account_group_id: Any, *extra: Any) -> None:
        """Remove a tier-5/6 TTL (a no-op when none is set)."""
        _too_many("clear_account_group_ttl", 1, extra)
        group = _group(account_group_id)
        with self._lock:
            self._config(_QK_TTL_GROUP, 0, group, _UNSET)
            self._group_ttls.pop(group, None)

    # ------------------------------------------------------------ TTL tiers 1-3, 7 (per instrument)

    def _slot(self, value: int) -> _Slot:
        slot = self._slots.get(value)
        if slot is None:
            raise unknown_instrument_id(value)
        return slot

    @_sig(lambda self, /, instrument_id, ttl: None)
    def set_instrument_ttl(self, instrument_id: InstrumentId, ttl: QuoteTtl, *extra: Any) -> None:
        """Tier 7: the instrument's own TTL."""
        _too_many("set_instrument_ttl", 2, extra)
        value, ns = _instrument_id(instrument_id), _ttl(ttl)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_INSTRUMENT, value, 0, ns)
            slot.ttl = ns

    @_sig(lambda self, /, instrument_id: None)
    def clear_instrument_ttl(self, instrument_id: InstrumentId, *extra: Any) -> None:
        """Remove the tier-7 TTL (the builder's default applies again)."""
        _too_many("clear_instrument_ttl", 1, extra)
        value = _instrument_id(instrument_id)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_INSTRUMENT, value, 0, _UNSET)
            slot.ttl = _UNSET

    @_sig(lambda self, /, instrument_id, account_id, ttl: None)
    def set_instrument_account_ttl(
        self, instrument_id: InstrumentId, account_id: AccountId, ttl: QuoteTtl, *extra: Any
    ) -> None:
        """Tier 1: the TTL of this instrument's quotes read by ``account_id``."""
        _too_many("set_instrument_account_ttl", 3, extra)
        value, ns = _instrument_id(instrument_id), _ttl(ttl)
        acct = _account(account_id)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_TTL_INSTRUMENT_ACCOUNT, value, acct, ns)
            slot.account_ttls[acct] = ns

    @_sig(lambda self, /, instrument_id, account_id: None)
    def clear_instrument_account_ttl(
        self, instrument_id: InstrumentId, account_id: AccountId, *extra: Any
    ) -> None:
        """Remove a tier-1 TTL."""
        _too_many("clear_instrument_account_ttl", 2, extra)
        value = _instrument_id(instrument_id)
        acct = _account(account_id)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_TTL_INSTRUMENT_ACCOUNT, value, acct, _UNSET)
            slot.account_ttls.pop(acct, None)

    @_sig(lambda self, /, instrument_id, account_group_id, ttl: None)
    def set_instrument_account_group_ttl(
        self, instrument_id: InstrumentId, account_group_id: Any, ttl: QuoteTtl, *extra: Any
    ) -> None:
        """Tier 2 (a group) or, with ``AccountGroupId.DEFAULT``, tier 3."""
        _too_many("set_instrument_account_group_ttl", 3, extra)
        value, ns = _instrument_id(instrument_id), _ttl(ttl)
        group = _group(account_group_id)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_TTL_INSTRUMENT_GROUP, value, group, ns)
            slot.group_ttls[group] = ns

    @_sig(lambda self, /, instrument_id, account_group_id: None)
    def clear_instrument_account_group_ttl(
        self, instrument_id: InstrumentId, account_group_id: Any, *extra: Any
    ) -> None:
        """Remove a tier-2/3 TTL."""
        _too_many("clear_instrument_account_group_ttl", 2, extra)
        value = _instrument_id(instrument_id)
        group = _group(account_group_id)
        with self._lock:
            slot = self._slot(value)
            self._config(_QK_TTL_INSTRUMENT_GROUP, value, group, _UNSET)
            slot.group_ttls.pop(group, None)

    # ------------------------------------------------------------------ quotes

    @_sig(lambda self, /, instrument_id: None)
    def clear(self, instrument_id: InstrumentId, *extra: Any) -> None:
        """Drop every bucket's quote of the instrument (an unknown id is a no-op)."""
        _too_many("clear", 1, extra)
        value = _instrument_id(instrument_id)
        with self._lock:
            slot = self._slots.get(value)
            if slot is not None:
                slot.account_quotes.clear()
                slot.group_quotes.clear()
                if self._mirror is not None:
                    self._mirror.on_clear(value)

    @_sig(lambda self, /, instrument_id, quote, source_age: None)
    def push(self, instrument_id: InstrumentId, quote: Quote, source_age: Any, *extra: Any) -> None:
        """Replace the default bucket's quote; ``source_age`` is how old it already is."""
        _too_many("push", 3, extra)
        value, q = _instrument_id(instrument_id), _quote(quote)
        age = _source_age(source_age)
        with self._lock:
            slot = self._slot(value)
            self._store(slot, value, [], [_DEFAULT_GROUP], q, age)

    @_sig(lambda self, /, instrument, quote, source_age: None)
    def push_by_instrument(
        self, instrument: Any, quote: Quote, source_age: Any, *extra: Any
    ) -> InstrumentId:
        """``push`` by instrument, registering it (automatic id) when it is new."""
        _too_many("push_by_instrument", 3, extra)
        q = _quote(quote)
        key = instrument_key(instrument)
        age = _source_age(source_age)
        with self._lock:
            value = self._by_instrument.get(key)
            if value is None:
                nid = self._next_free_id()
                self._check_mirror([(nid, BUCKET_DEFAULT, 0), (nid, _QK_INSTRUMENT, 0)], q)
            iid = InstrumentId(value) if value is not None else self._register_auto(key, _UNSET)
            self._store(self._slots[iid._value], iid._value, [], [_DEFAULT_GROUP], q, age)
            return iid

    @_sig(lambda self, /, instrument_id, quote, source_age, account_ids, account_group_ids: None)
    def push_for(
        self,
        instrument_id: InstrumentId,
        quote: Quote,
        source_age: Any,
        account_ids: Iterable[AccountId],
        account_group_ids: Iterable[Any],
        *extra: Any,
    ) -> None:
        """Replace the quote of each listed account's and group's bucket (DEFAULT: default)."""
        _too_many("push_for", 5, extra)
        value, q = _instrument_id(instrument_id), _quote(quote)
        age = _source_age(source_age)
        accounts = [_account(a) for a in account_ids]
        groups = [_group(g) for g in account_group_ids]
        if not accounts and not groups:
            raise ValueError("push_for requires at least one account or group target")
        with self._lock:
            self._store(self._slot(value), value, accounts, groups, q, age)

    def _check_mirror(self, targets: list[tuple[int, int, int]], q: Quote) -> Any:
        return None if self._mirror is None else self._mirror.prepare(targets, q)

    def _store(
        self, slot: _Slot, value: int, accounts: list[int], groups: list[int], q: Quote, age: int
    ) -> None:
        """Replace the quote of each bucket (and its mirrored row) with ``q``, pushed now."""
        mirror = self._mirror
        if mirror is not None:
            targets = [(value, BUCKET_ACCOUNT, a) for a in accounts] + [
                (value, BUCKET_DEFAULT, 0) if g == _DEFAULT_GROUP else (value, BUCKET_GROUP, g)
                for g in groups
            ]
            encoded = mirror.prepare(targets, q)  # fails closed before anything changes
        state = (q, self._clock(), age)
        for acct in accounts:
            slot.account_quotes[acct] = state
        for group in groups:
            slot.group_quotes[group] = state
        if mirror is not None:
            mirror.on_push(targets, encoded, state[1], age)

    # ------------------------------------------------------------------ reads

    def _select(
        self, slot: _Slot, acct: int, group: _Group, resolution: int
    ) -> tuple[Quote, int, int] | None:
        state = slot.account_quotes.get(acct)
        if state is not None or resolution == _ACCOUNT_ONLY:
            return state
        g = group.get()
        if g is not None:
            state = slot.group_quotes.get(g)
            if state is not None or resolution == _ACCOUNT_THEN_GROUP:
                return state
        elif resolution == _ACCOUNT_THEN_GROUP:
            return None
        return slot.group_quotes.get(_DEFAULT_GROUP)

    def _effective_ttl(self, slot: _Slot, acct: int, group: _Group) -> int | None:
        """The 8-tier cascade: the first tier that is set decides."""
        if acct in slot.account_ttls:
            return slot.account_ttls[acct]
        g = group.get()
        if g is not None and g in slot.group_ttls:
            return slot.group_ttls[g]
        if _DEFAULT_GROUP in slot.group_ttls:
            return slot.group_ttls[_DEFAULT_GROUP]
        if acct in self._account_ttls:
            return self._account_ttls[acct]
        if g is not None and g in self._group_ttls:
            return self._group_ttls[g]
        if _DEFAULT_GROUP in self._group_ttls:
            return self._group_ttls[_DEFAULT_GROUP]
        if slot.ttl is not _UNSET:
            return slot.ttl  # type: ignore[no-any-return]
        return self._default_ttl

    def _get(
        self, instrument_id: Any, account_id: Any, account_info: Any, resolution: Any
    ) -> Quote:
        value, res = _instrument_id(instrument_id), _resolution(resolution)
        acct = _account(account_id)
        with self._lock:
            slot = self._slots.get(value)
            if slot is None:
                raise UnknownInstrument("unknown instrument")
            group = _Group(account_info)
            state = self._select(slot, acct, group, res)
            if state is None:
                raise QuoteUnavailable("quote unavailable")
            ttl = self._effective_ttl(slot, acct, group)
            quote, pushed_at, age = state
            if ttl is not None and max(self._clock() - pushed_at, 0) + age >= ttl:
                raise quote_expired(quote)
            return quote

    @_sig(lambda self, /, instrument_id, account_id, account_info, resolution: None)
    def get(
        self,
        instrument_id: InstrumentId,
        account_id: AccountId,
        account_info: Any,
        resolution: QuoteResolution,
        *extra: Any,
    ) -> Quote:
        """The quote ``account_id`` sees; raises ``UnknownInstrument``, ``QuoteUnavailable``
        or ``QuoteExpired`` (whose ``.quote`` is the stale quote).

        ``account_info`` is any object with an ``account_group`` property
        (``AccountGroupId`` or None); engine contexts qualify.
        """
        _too_many("get", 4, extra)
        return self._get(instrument_id, account_id, account_info, resolution)

    @_sig(lambda self, /, instrument_id, account_id, account_info, resolution: None)
    def get_optional(
        self,
        instrument_id: InstrumentId,
        account_id: AccountId,
        account_info: Any,
        resolution: QuoteResolution,
        *extra: Any,
    ) -> Quote | None:
        """``get``, but None instead of any ``MarketDataError``."""
        _too_many("get_optional", 4, extra)
        try:
            return self._get(instrument_id, account_id, account_info, resolution)
        except MarketDataError:
            return None


MarketDataService.__module__ = "openpit_shm.marketdata"
MarketDataService.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
