"""Market-data value types: ``Quote``, ``QuoteTtl`` and ``QuoteResolution`` (openpit 0.10 shapes).

* ``Quote(*, mark=None, bid=None, ask=None)``: optional prices (Price, Decimal,
  str, int or float; negatives allowed), ``==`` only, unhashable, immutable.
* ``QuoteTtl.infinite()`` / ``QuoteTtl.within(timedelta)``: a lifetime. Like
  openpit's, TTLs compare by identity and hash; the repr prints the duration
  as Rust's ``Duration`` Debug does (``5s``, ``200ms``, ``1.5ms``, ``0ns``).
* ``QuoteResolution.ACCOUNT_ONLY`` (0), ``ACCOUNT_THEN_GROUP`` (1),
  ``ACCOUNT_THEN_GROUP_THEN_DEFAULT`` (2): which buckets a read falls through to.

Durations are kept as integer nanoseconds (``timedelta_ns``): a ``timedelta``
has microsecond resolution, so the conversion is exact.
"""

from __future__ import annotations

import datetime
import inspect
from typing import Any, ClassVar

from ..param._compat import downcast_error, pyo3_kwonly, pyo3_too_many
from ..param._native import EqOnly, SimpleEnum, Unordered, pickle_refused, positional_signature
from ..param.values import Price, coerce

__all__ = [
    "Quote",
    "QuoteResolution",
    "QuoteTtl",
    "argument_error",
    "duration_debug",
    "timedelta_ns",
]

_onew = object.__new__
_set = object.__setattr__
_NS_PER_S = 1_000_000_000


def argument_error(err: BaseException, name: str) -> BaseException:
    """openpit (PyO3) notes which argument failed to convert."""
    err.add_note(f"while processing '{name}'")
    return err


def timedelta_ns(value: datetime.timedelta) -> int:
    """A ``timedelta`` as exact integer nanoseconds (negative stays negative)."""
    return ((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) * 1_000


def _frac(whole: int, rest: int, digits: int) -> str:
    text = str(whole)
    if rest:
        text += "." + str(rest).rjust(digits, "0").rstrip("0")
    return text


def duration_debug(ns: int) -> str:
    """Rust's ``{:?}`` of a ``Duration`` of ``ns`` nanoseconds."""
    if ns >= _NS_PER_S:
        return _frac(ns // _NS_PER_S, ns % _NS_PER_S, 9) + "s"
    if ns >= 1_000_000:
        return _frac(ns // 1_000_000, ns % 1_000_000, 6) + "ms"
    if ns >= 1_000:
        return _frac(ns // 1_000, ns % 1_000, 3) + "µs"
    return f"{ns}ns"


# ----------------------------------------------------------------------------- Quote


def _price_arg(value: Any) -> Price | None:
    return None if value is None else coerce(Price, value)


def make_quote(mark: Price | None, bid: Price | None, ask: Price | None) -> Quote:
    """A ``Quote`` from already converted prices (no argument checks)."""
    q = _onew(Quote)
    _set(q, "_mark", mark)
    _set(q, "_bid", bid)
    _set(q, "_ask", ask)
    return q


def _some(p: Price | None) -> str:
    return "None" if p is None else f"Some(Price({p}))"


class Quote(EqOnly):
    """Market snapshot with optional mark, bid, and ask prices."""

    __slots__ = ("_ask", "_bid", "_mark")
    _OPENPIT_NAME = "openpit.marketdata.Quote"
    _FIELDS = frozenset({"mark", "bid", "ask"})

    _mark: Price | None
    _bid: Price | None
    _ask: Price | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Quote:
        if args or not kwargs.keys() <= {"mark", "bid", "ask"}:
            pyo3_kwonly("Quote.__new__", args, kwargs, (), ("mark", "bid", "ask"))
        return make_quote(
            _price_arg(kwargs.get("mark")),
            _price_arg(kwargs.get("bid")),
            _price_arg(kwargs.get("ask")),
        )

    @property
    def mark(self) -> Price | None:
        """Mark price, or None."""
        return self._mark

    @property
    def bid(self) -> Price | None:
        """Best-bid price, or None."""
        return self._bid

    @property
    def ask(self) -> Price | None:
        """Best-ask price, or None."""
        return self._ask

    def _key(self) -> tuple[Any, ...]:
        return (self._mark, self._bid, self._ask)

    def __repr__(self) -> str:
        return f"Quote(mark={_some(self._mark)}, bid={_some(self._bid)}, ask={_some(self._ask)})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise pickle_refused(self)


Quote.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None)
        for n in ("mark", "bid", "ask")
    ]
)


# ----------------------------------------------------------------------------- QuoteTtl


def make_ttl(ns: int | None) -> QuoteTtl:
    """A ``QuoteTtl`` of ``ns`` nanoseconds (``None``: infinite)."""
    t = _onew(QuoteTtl)
    _set(t, "_ns", ns)
    return t


class QuoteTtl(Unordered):
    """Quote lifetime policy: infinite or within a finite duration."""

    __slots__ = ("_ns",)
    _OPENPIT_NAME = "openpit.marketdata.QuoteTtl"

    #: The lifetime in nanoseconds; None means infinite.
    _ns: int | None

    def __new__(cls, *args: Any, **kwargs: Any) -> QuoteTtl:
        raise TypeError("cannot create 'openpit.marketdata.QuoteTtl' instances")

    @staticmethod
    def infinite(*args: Any, **kwargs: Any) -> QuoteTtl:
        """Quotes never expire on their own."""
        if kwargs:
            raise TypeError("QuoteTtl.infinite() takes no keyword arguments")
        if args:
            raise TypeError(f"QuoteTtl.infinite() takes no arguments ({len(args)} given)")
        return make_ttl(None)

    @staticmethod
    def within(duration: datetime.timedelta, *extra: Any) -> QuoteTtl:
        """Quotes expire once their age reaches ``duration`` (0 is allowed)."""
        if extra:
            raise pyo3_too_many("QuoteTtl.within", 1, 1 + len(extra))
        if not isinstance(duration, datetime.timedelta):
            raise argument_error(downcast_error(duration, "timedelta"), "duration")
        ns = timedelta_ns(duration)
        if ns < 0:
            raise argument_error(
                ValueError("It is not possible to convert a negative timedelta to a Rust Duration"),
                "duration",
            )
        return make_ttl(ns)

    def __repr__(self) -> str:
        if self._ns is None:
            return "QuoteTtl.infinite()"
        return f"QuoteTtl.within({duration_debug(self._ns)})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise pickle_refused(self)


QuoteTtl.infinite.__signature__ = positional_signature()  # type: ignore[attr-defined]
QuoteTtl.within.__signature__ = positional_signature("duration")  # type: ignore[attr-defined]
QuoteTtl.__signature__ = inspect.Signature()  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- QuoteResolution


class QuoteResolution(SimpleEnum):
    """Controls which quote buckets a read may fall through to.

    - ``ACCOUNT_ONLY``: only the per-account bucket.
    - ``ACCOUNT_THEN_GROUP``: per-account, then the account's group bucket.
    - ``ACCOUNT_THEN_GROUP_THEN_DEFAULT``: per-account, then group, then the
      default ("everyone-else") bucket.

    Members equal their integer value (0, 1, 2), convert with ``int()``, cannot
    be ordered, are unhashable and refuse to pickle, as openpit's do.
    """

    __slots__ = ()
    _OPENPIT_NAME = "openpit.marketdata.QuoteResolution"

    ACCOUNT_ONLY: ClassVar[QuoteResolution]
    ACCOUNT_THEN_GROUP: ClassVar[QuoteResolution]
    ACCOUNT_THEN_GROUP_THEN_DEFAULT: ClassVar[QuoteResolution]


#: Resolution values as the service (and kernels) use them.
RESOLUTION_ACCOUNT_ONLY = 0
RESOLUTION_ACCOUNT_THEN_GROUP = 1
RESOLUTION_ACCOUNT_THEN_GROUP_THEN_DEFAULT = 2

QuoteResolution._define_members(
    {
        "ACCOUNT_ONLY": RESOLUTION_ACCOUNT_ONLY,
        "ACCOUNT_THEN_GROUP": RESOLUTION_ACCOUNT_THEN_GROUP,
        "ACCOUNT_THEN_GROUP_THEN_DEFAULT": RESOLUTION_ACCOUNT_THEN_GROUP_THEN_DEFAULT,
    }
)

for _cls in (Quote, QuoteTtl, QuoteResolution):
    _cls.__module__ = "openpit_shm.marketdata"
del _cls
