"""Which fields an order or report row carries: the flag tests every builtin kernel shares.

openpit accepts an order without an operation, and an operation without an
account id, a trade amount or a side; each builtin then reads the fields it
needs, in its own order, and rejects with ``MissingRequiredField`` for the
first one that is missing. Rows say what is absent with flags
(``layout.records``): ``ORDER_HAS_OPERATION`` clear = no operation at all;
inside an operation ``ORDER_NO_ACCOUNT`` / ``ORDER_NO_AMOUNT`` /
``ORDER_NO_SIDE``. The instrument is part of every operation (openpit's
``OrderOperation`` requires it).

Instrument ids mean something only to the engine that numbered them, so the
records that carry one also carry that engine's record tag in ``ref``
(``layout.records``); ``foreign_tag`` is the one test every door applies.
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    MSG_DROP_COPY,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_REPORT,
    MSG_START,
    ORDER_HAS_OPERATION,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    RECORD_TAG_SHIFT,
)

from .jit import njit

__all__ = ["foreign_tag", "has_account", "has_amount", "has_instrument"]

_ACCOUNT_MASK = ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT
_AMOUNT_MASK = ORDER_HAS_OPERATION | ORDER_NO_AMOUNT


@njit(cache=True, inline='always')
def has_instrument(flags):  # type: ignore[no-untyped-def]
    """The row has an operation, hence an instrument."""
    return flags & ORDER_HAS_OPERATION != 0


@njit(cache=True, inline='always')
def has_account(flags):  # type: ignore[no-untyped-def]
    """The row has an operation with an account id."""
    return flags & _ACCOUNT_MASK == ORDER_HAS_OPERATION


@njit(cache=True, inline='always')
def has_amount(flags):  # type: ignore[no-untyped-def]
    """The row has an operation with a trade amount."""
    return flags & _AMOUNT_MASK == ORDER_HAS_OPERATION


@njit(cache=True, inline='always')
def foreign_tag(tag, kind, ref):  # type: ignore[no-untyped-def]
    """True when a record of ``kind`` does not carry the engine's record ``tag`` in ``ref``.

    The tag sits above ``RECORD_TAG_SHIFT``; the low bits are the decimal scales
    the values were written with (orders and reports alike). Finalizations
    (``ref`` is a handle) and unknown kinds are not tagged. Callable from Python
    too (the record door's path).
    """
    if kind in (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER, MSG_DROP_COPY, MSG_REPORT):
        return ref >> RECORD_TAG_SHIFT != tag
    return False
