"""``MarketDataBuilder``: the market-data service's builder, obtained from an engine builder.

openpit obtains it with ``engine_builder.market_data(default_ttl)`` on the
second and third builder stages; constructing it directly raises TypeError.
Its sync mode starts as the engine builder's (``no_sync`` -> no lock,
``full_sync``/``account_sync`` -> a real lock); ``.no_sync()`` and
``.full_sync()`` override it and return the builder; ``.build()`` may be
called again for another, independent service.

The engine builder calls :func:`market_data_builder` (see the package
docstring for the exact lines).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..param._compat import check_no_arguments, downcast_error, missing_attribute
from ..param._native import method_signature
from .service import MarketDataService, new_service
from .values import QuoteTtl, argument_error

__all__ = ["NO_SYNC_SERVICE_IN_THREADED_ENGINE", "MarketDataBuilder", "market_data_builder"]

_set = object.__setattr__

#: openpit's ``build()`` error when a no-sync service is handed to a full/account-sync engine.
NO_SYNC_SERVICE_IN_THREADED_ENGINE = (
    "market data service is in no-sync mode but the engine is multi-threaded; "
    "call .full_sync() on the market-data builder before .build()"
)


def market_data_builder(
    default_ttl: Any, *, full_sync: bool, clock: Callable[[], int] = time.monotonic_ns
) -> MarketDataBuilder:
    """``engine_builder.market_data(default_ttl)``: checks ``default_ttl`` as openpit does.

    ``full_sync``: True for a ``full_sync`` or ``account_sync`` engine builder.
    ``clock``: the engine builder's injectable clock (``with_clock``).
    """
    if type(default_ttl) is not QuoteTtl:
        raise argument_error(downcast_error(default_ttl, "QuoteTtl"), "default_ttl")
    b = object.__new__(MarketDataBuilder)
    _set(b, "_default_ttl", default_ttl)
    _set(b, "_full_sync", bool(full_sync))
    _set(b, "_clock", clock)
    return b


class MarketDataBuilder:
    """Builder for a market-data service (obtain it from an engine builder's ``market_data``)."""

    __slots__ = ("_clock", "_default_ttl", "_full_sync")
    _OPENPIT_NAME = "openpit.marketdata.MarketDataBuilder"

    _default_ttl: QuoteTtl
    _full_sync: bool
    _clock: Callable[[], int]

    def __new__(cls, *args: Any, **kwargs: Any) -> MarketDataBuilder:
        raise TypeError("cannot create 'openpit.marketdata.MarketDataBuilder' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(
            "type 'openpit.marketdata.MarketDataBuilder' is not an acceptable base type"
        )

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'{self._OPENPIT_NAME}' object has no attribute '{name}'")

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle 'openpit.marketdata.MarketDataBuilder' object")

    def __repr__(self) -> str:
        return f"<{self._OPENPIT_NAME} object at {id(self):#x}>"

    def no_sync(self, *args: Any, **kwargs: Any) -> MarketDataBuilder:
        """No lock: the service is used from one thread only. Returns ``self``."""
        check_no_arguments("MarketDataBuilder.no_sync", args, kwargs)
        _set(self, "_full_sync", False)
        return self

    def full_sync(self, *args: Any, **kwargs: Any) -> MarketDataBuilder:
        """One lock serializes every call: safe for a concurrent feed. Returns ``self``."""
        check_no_arguments("MarketDataBuilder.full_sync", args, kwargs)
        _set(self, "_full_sync", True)
        return self

    def build(self, *args: Any, **kwargs: Any) -> MarketDataService:
        """A new, empty service (each call gives an independent one)."""
        check_no_arguments("MarketDataBuilder.build", args, kwargs)
        return new_service(self._default_ttl, self._full_sync, self._clock)


# inspect reports openpit's ``(self, /)``; the catch-alls only raise CPython's no-argument errors.
for _name in ("no_sync", "full_sync", "build"):
    getattr(MarketDataBuilder, _name).__signature__ = method_signature()
del _name

def is_full_sync(service: MarketDataService) -> bool:
    """Whether ``service`` locks (the engine's ``build()`` refuses a no-sync one when threaded)."""
    return bool(service._full_sync)


MarketDataBuilder.__module__ = "openpit_shm.marketdata"
