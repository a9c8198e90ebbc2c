"""Live market data (``openpit.marketdata``): quotes, TTLs and the market-data service.

Names: ``MarketDataBuilder``, ``MarketDataService``, ``Quote``, ``QuoteTtl``,
``QuoteResolution``, ``InstrumentId`` and the errors ``MarketDataError``,
``UnknownInstrument``, ``QuoteUnavailable``, ``QuoteExpired``,
``AlreadyRegistered``, ``RegistrationError``, ``UnknownInstrumentId``.
Semantics: ``service`` (buckets, resolution tiers, the 8-tier TTL cascade,
expiry), ``values`` (the value types), ``errors``; ``table`` is the
shared-memory quote table (seqlocked rows, ``layout.quotes`` /
``kernels.quotes``) the sharded engine's workers read.

Wiring into the engine builder (``engine/builder.py``), on ``SyncedEngineBuilder``
and ``ReadyEngineBuilder``::

    def market_data(self, default_ttl):
        from ..marketdata.builder import market_data_builder
        return market_data_builder(
            default_ttl,
            full_sync=self._settings.sync != SYNC_NONE,   # full_sync / account_sync lock
            clock=self._settings.clock,                   # with_clock(...) applies to expiry
        )

and, where a builtin receives a service (Spot Funds), at ``build()``::

    from ..marketdata.builder import NO_SYNC_SERVICE_IN_THREADED_ENGINE, is_full_sync
    if settings.sync != SYNC_NONE and not is_full_sync(service):
        raise ValueError(NO_SYNC_SERVICE_IN_THREADED_ENGINE)
"""

from __future__ import annotations

from ..core import InstrumentId
from .builder import MarketDataBuilder
from .errors import (
    AlreadyRegistered,
    MarketDataError,
    QuoteExpired,
    QuoteUnavailable,
    RegistrationError,
    UnknownInstrument,
    UnknownInstrumentId,
)
from .service import MarketDataService
from .values import Quote, QuoteResolution, QuoteTtl

__all__ = [
    "AlreadyRegistered",
    "InstrumentId",
    "MarketDataBuilder",
    "MarketDataError",
    "MarketDataService",
    "Quote",
    "QuoteExpired",
    "QuoteResolution",
    "QuoteTtl",
    "QuoteUnavailable",
    "RegistrationError",
    "UnknownInstrument",
    "UnknownInstrumentId",
]
