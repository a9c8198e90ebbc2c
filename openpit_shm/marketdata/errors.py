"""Market-data errors, with openpit 0.10's classes, attributes and texts.

======================  ===================  ==============================================
class                   base                 raised by
======================  ===================  ==============================================
``MarketDataError``     Exception            (base of the three read errors)
``UnknownInstrument``   MarketDataError      ``get``: id not registered ("unknown instrument")
``QuoteUnavailable``    MarketDataError      ``get``: no quote in any bucket the resolution allows
``QuoteExpired``        MarketDataError      ``get``: the selected quote aged past its TTL;
                                             ``.quote`` is the stale quote
``AlreadyRegistered``   Exception            ``register``/``register_with_ttl``: duplicate
                                             instrument (``.instrument``)
``RegistrationError``   Exception            ``register_with_id*``: duplicate instrument
                                             (``.instrument``) or id (``.instrument_id``)
``UnknownInstrumentId`` Exception            pushes and TTL setters on an unknown id
======================  ===================  ==============================================
"""

from __future__ import annotations

from ..core import Instrument, InstrumentId
from ..reference_book import already_registered_text, id_conflict, instrument_conflict

__all__ = [
    "AlreadyRegistered",
    "MarketDataError",
    "QuoteExpired",
    "QuoteUnavailable",
    "RegistrationError",
    "UnknownInstrument",
    "UnknownInstrumentId",
]


class MarketDataError(Exception):
    """Base exception for market-data read failures."""


class UnknownInstrument(MarketDataError):
    """Raised when a market-data id is not registered."""


class QuoteUnavailable(MarketDataError):
    """Raised when no usable quote is available."""


class QuoteExpired(MarketDataError):
    """Raised when the selected quote aged past TTL.

    The stale quote selected before the TTL check is available as ``quote``.
    """

    quote: object


class AlreadyRegistered(Exception):
    """Raised when an instrument is already registered."""

    instrument: Instrument


class RegistrationError(Exception):
    """Raised when an explicit id registration conflicts."""

    instrument: Instrument | None
    instrument_id: InstrumentId | None


class UnknownInstrumentId(Exception):
    """Raised when an operation references an unknown id."""

    instrument_id: InstrumentId


for _cls in (
    MarketDataError,
    UnknownInstrument,
    QuoteUnavailable,
    QuoteExpired,
    AlreadyRegistered,
    RegistrationError,
    UnknownInstrumentId,
):
    _cls.__module__ = "openpit_shm"
del _cls


def already_registered(key: tuple[str, str]) -> AlreadyRegistered:
    err = AlreadyRegistered(already_registered_text(key))
    err.instrument = Instrument(*key)
    return err


def duplicate_instrument(key: tuple[str, str]) -> RegistrationError:
    return instrument_conflict(RegistrationError, key)


def duplicate_id(value: int) -> RegistrationError:
    return id_conflict(RegistrationError, value)


def unknown_instrument_id(value: int) -> UnknownInstrumentId:
    err = UnknownInstrumentId(f"unknown instrument id: {value}")
    err.instrument_id = InstrumentId(value)
    return err


def quote_expired(quote: object) -> QuoteExpired:
    err = QuoteExpired("quote expired")
    err.quote = quote
    return err
