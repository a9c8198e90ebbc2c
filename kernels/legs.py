"""Proposing hold legs and fill deltas into the request view (``kernels.holds`` applies them).

Separate from ``kernels.holds`` so a builtin's kernel module (imported by
``kernels.dispatch``, which ``holds`` imports) can propose legs without a cycle.
"""

from __future__ import annotations

from openpit_shm.layout.view import (
    LEG_AMOUNT,
    LEG_AT,
    LEG_BASIS,
    LEG_KIND,
    LEG_WORDS,
    V_LEG_MAX,
    V_LEGS,
    V_N_LEGS,
)

from .jit import njit

__all__ = ["propose_fill_delta", "propose_leg"]


@njit(cache=True, inline='always')
def propose_leg(view, kind, at, amount, basis):  # type: ignore[no-untyped-def]
    """A main stage's hold of ``amount`` on counter word ``at``; 0 if the view is full."""
    n = view[V_N_LEGS]
    if n >= V_LEG_MAX:
        return 0
    g = V_LEGS + n * LEG_WORDS
    view[g + LEG_KIND] = kind
    view[g + LEG_AT] = at
    view[g + LEG_AMOUNT] = amount
    view[g + LEG_BASIS] = basis
    view[V_N_LEGS] = n + 1
    return 1


@njit(cache=True, inline='always')
def propose_fill_delta(view, kind, at, delta):  # type: ignore[no-untyped-def]
    """A fill hook's change of counter word ``at`` by ``delta``, applied with the fill.

    During ``MSG_FILL`` the view's leg area holds these (``LEG_AMOUNT``: the delta;
    ``LEG_BASIS`` unused); 0 if the view is full.
    """
    return propose_leg(view, kind, at, delta, 0)
