"""Which fields an order or report row carries: the flag tests every builtin kernel shares.

openpit accepts an order without an operation, and an operation without an
account id, a trade amount or a side; each builtin then reads the fields it
needs, in its own order, and rejects with ``MissingRequiredField`` for the
first one that is missing. Rows say what is absent with flags
(``layout.records``): ``ORDER_HAS_OPERATION`` clear = no operation at all;
inside an operation ``ORDER_NO_ACCOUNT`` / ``ORDER_NO_AMOUNT`` /
``ORDER_NO_SIDE``. The instrument is part of every operation (openpit's
``OrderOperation`` requires it).
"""

from __future__ import annotations

from openpit_shm.layout.records import ORDER_HAS_OPERATION, ORDER_NO_ACCOUNT, ORDER_NO_AMOUNT

from .jit import njit

__all__ = ["has_account", "has_amount", "has_instrument"]

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
