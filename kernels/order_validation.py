"""Order validation (openpit ``OrderValidationPolicy``): start stage, stateless.

* no trade amount (no operation, or ``ORDER_NO_AMOUNT``) -> ``MissingRequiredField``
  (field ``trade amount``);
* a zero quantity or a zero volume -> ``InvalidFieldValue`` (order scope).

The price is not checked (market orders are fine), nor is anything else.
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    CODE_INVALID_FIELD_VALUE,
    CODE_MISSING_REQUIRED_FIELD,
    ORDER_VOLUME,
)
from openpit_shm.layout.view import (
    V_AMOUNT,
    V_FLAGS,
)

from .codes import FIELD_TRADE_AMOUNT, RSN_MISSING_FIELD, RSN_OV_ZERO_QTY, RSN_OV_ZERO_VOLUME
from .fields import has_amount
from .jit import njit
from .results import write_reject

__all__ = ["ov_check"]


@njit(cache=True, inline='always')
def ov_check(out, n, pol, flags, amount):  # type: ignore[no-untyped-def]
    """Validate one order; append its reject (if any) at ``out[n]`` and return the new count."""
    if not has_amount(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_TRADE_AMOUNT, 0, 0, 0, 0,
        )
    if amount == 0:
        rsn = RSN_OV_ZERO_VOLUME if flags & ORDER_VOLUME else RSN_OV_ZERO_QTY
        return write_reject(out, n, CODE_INVALID_FIELD_VALUE, pol, rsn, 0, 0, 0, 0, 0, 0)
    return n


# ---- lifecycle (``kernels.dispatch`` calls these by ``KIND``) ------------------------------
KIND = 0  #: this builtin's kind id (< MAX_KINDS; ``dispatch.KIND_MODULES`` lists it)
MAIN_STAGE = False  #: its main stage is a no-op (``dispatch.MAIN_STAGE_KINDS``)


@njit(cache=True, inline='always')
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Start stage of the order validation over the request view; returns the record count."""
    return ov_check(out, n, pol, view[V_FLAGS], view[V_AMOUNT])


@njit(cache=True, inline='always')
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Main stage: the order validation decides everything at start and holds nothing."""
    return n


@njit(cache=True, inline='always')
def report(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Post-trade: nothing to do."""
    return n


@njit(cache=True, inline='always')
def finalize(state, hold, commit):  # type: ignore[no-untyped-def]
    """Settle (commit) or release (rollback) this kind's legs of reservation slot ``hold``."""
    return 0


@njit(cache=True, inline='always')
def fill(state, shared, hold, view):  # type: ignore[no-untyped-def]
    """A fill of reservation slot ``hold``: this kind holds nothing to split (0: go on)."""
    return 0
