"""Dispatch by builtin kind: start, main, report, finalize and fill of every builtin.

Each builtin's kernel module defines its kind id (``KIND``: an int, distinct,
``< layout.state.MAX_KINDS``) and its lifecycle (``LIFECYCLE``), all ``@njit``::

    start(state, shared, view, out, n, pol) -> n        start stage (may append rejects)
    main(state, shared, view, out, n, pol) -> n         main stage (may propose holds:
                                                        ``kernels.holds.propose_leg``)
    report(state, shared, view, out, n, pol) -> n       post-trade (-1: the arena is short)
    finalize(state, hold, commit) -> 0                  settle / release its legs of a slot
    fill(state, shared, hold, view) -> code             a fill of slot ``hold`` (``MSG_FILL``
                                                        fields in the view), before the generic
                                                        reconcile: it may stage counter deltas
                                                        (``kernels.holds.propose_fill_delta``),
                                                        e.g. consumed at the lock price vs
                                                        released (price improvement); a non-zero
                                                        code refuses the fill (nothing applied)

``state``/``shared``/``out``/``view`` are ``kernels.ptr`` pointers; ``view`` is the
request view (``layout.view``); ``n`` is the number of result records written so
far and ``pol`` the builtin's registration index (the ``policy`` byte of its rejects).

Adding a builtin's kernels = its kernel module + its module in ``KIND_MODULES`` + one
branch in each ``*_kind`` function below (``tests/kernels/test_kind_modules.py`` checks
all three). Nothing else in the kernels, the entry catalogue, warmup's compile step, the
arena header or the C header (``OPSHM_KIND_*``) names a kind.
"""

from __future__ import annotations

from . import (
    order_size,
    order_validation,
    pnl_bounds,
    rate_limit,
    restricted_instruments,
    spot_funds,
)
from .jit import njit

__all__ = [
    "KIND_MODULES", "LIFECYCLE", "MAIN_STAGE_KINDS", "fill_kind", "finalize_kind", "main_kind",
    "report_kind",
    "start_kind",
]  # fmt: skip

#: Every builtin kernel module, by kind id order (``KIND`` of each; at most MAX_KINDS).
KIND_MODULES = (
    order_validation, rate_limit, order_size, pnl_bounds, spot_funds, restricted_instruments,
)
#: Kinds whose ``main`` stage may reject or hold. A module whose main stage does nothing says
#: ``MAIN_STAGE = False``; a module that says nothing is assumed to have one (never skipped).
MAIN_STAGE_KINDS = sum(1 << m.KIND for m in KIND_MODULES if getattr(m, "MAIN_STAGE", True))
#: What every module in ``KIND_MODULES`` defines besides ``KIND`` (each dispatched below).
LIFECYCLE = ("start", "main", "report", "finalize", "fill")


@njit(cache=True, inline='always')
def start_kind(kind, state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    if kind == order_validation.KIND:
        return order_validation.start(state, shared, view, out, n, pol)
    if kind == rate_limit.KIND:
        return rate_limit.start(state, shared, view, out, n, pol)
    if kind == order_size.KIND:
        return order_size.start(state, shared, view, out, n, pol)
    if kind == pnl_bounds.KIND:
        return pnl_bounds.start(state, shared, view, out, n, pol)
    if kind == restricted_instruments.KIND:
        return restricted_instruments.start(state, shared, view, out, n, pol)
    if kind == spot_funds.KIND:
        return spot_funds.start(state, shared, view, out, n, pol)
    return n


@njit(cache=True, inline='always')
def main_kind(kind, state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    if kind == order_validation.KIND:
        return order_validation.main(state, shared, view, out, n, pol)
    if kind == rate_limit.KIND:
        return rate_limit.main(state, shared, view, out, n, pol)
    if kind == order_size.KIND:
        return order_size.main(state, shared, view, out, n, pol)
    if kind == pnl_bounds.KIND:
        return pnl_bounds.main(state, shared, view, out, n, pol)
    if kind == restricted_instruments.KIND:
        return restricted_instruments.main(state, shared, view, out, n, pol)
    if kind == spot_funds.KIND:
        return spot_funds.main(state, shared, view, out, n, pol)
    return n


@njit(cache=True, inline='always')
def report_kind(kind, state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    if kind == order_validation.KIND:
        return order_validation.report(state, shared, view, out, n, pol)
    if kind == rate_limit.KIND:
        return rate_limit.report(state, shared, view, out, n, pol)
    if kind == order_size.KIND:
        return order_size.report(state, shared, view, out, n, pol)
    if kind == pnl_bounds.KIND:
        return pnl_bounds.report(state, shared, view, out, n, pol)
    if kind == restricted_instruments.KIND:
        return restricted_instruments.report(state, shared, view, out, n, pol)
    if kind == spot_funds.KIND:
        return spot_funds.report(state, shared, view, out, n, pol)
    return n


@njit(cache=True)
def finalize_kind(kind, state, hold, commit):  # type: ignore[no-untyped-def]
    if kind == order_validation.KIND:
        return order_validation.finalize(state, hold, commit)
    if kind == rate_limit.KIND:
        return rate_limit.finalize(state, hold, commit)
    if kind == order_size.KIND:
        return order_size.finalize(state, hold, commit)
    if kind == pnl_bounds.KIND:
        return pnl_bounds.finalize(state, hold, commit)
    if kind == restricted_instruments.KIND:
        return restricted_instruments.finalize(state, hold, commit)
    if kind == spot_funds.KIND:
        return spot_funds.finalize(state, hold, commit)
    return 0


@njit(cache=True)
def fill_kind(kind, state, shared, hold, view):  # type: ignore[no-untyped-def]
    if kind == order_validation.KIND:
        return order_validation.fill(state, shared, hold, view)
    if kind == rate_limit.KIND:
        return rate_limit.fill(state, shared, hold, view)
    if kind == order_size.KIND:
        return order_size.fill(state, shared, hold, view)
    if kind == pnl_bounds.KIND:
        return pnl_bounds.fill(state, shared, hold, view)
    if kind == restricted_instruments.KIND:
        return restricted_instruments.fill(state, shared, hold, view)
    if kind == spot_funds.KIND:
        return spot_funds.fill(state, shared, hold, view)
    return 0
