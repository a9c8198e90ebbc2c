"""Validated builtin specs, built from the ``_add_builtin_*`` hook arguments.

openpit's builders (``pretrade.policies``) call
``builder._add_builtin_<kind>(**kwargs)``; the engine builder hands those
keyword arguments to :func:`make_spec`, which finds the builtin's row in the
registry (``kinds.KINDS``), checks ``policy_group_id`` and lets the row's
spec parser validate the rest exactly as openpit's native side does at build
time (same exception types, same texts). The result is a
:class:`BuiltinSpec`: the policy's kind, fixed registration name, group id
and a normalized, immutable configuration, whose shape each builtin's
policy module documents on its ``parse_spec`` (for example
``rate_limit.parse_spec``).

Later duplicates replace earlier ones (openpit keeps barriers in maps),
except where openpit rejects duplicate keys (order size).
"""

from __future__ import annotations

from typing import Any

from . import kinds
from .arguments import (
    BuiltinSpec,
    account_of,
    check_account_value,
    check_asset,
    check_group_id,
    check_max_orders,
    check_window_ns,
    typed,
    window_ns_from_timedelta,
)
from .order_size import Caps, caps_of, order_size_axes
from .pnl_bounds import Bounds, bounds_of, pnl

__all__ = [
    "KIND_NAMES",
    "POLICY_NAMES",
    "Bounds",
    "BuiltinSpec",
    "Caps",
    "account_of",
    "bounds_of",
    "caps_of",
    "check_account_value",
    "check_asset",
    "check_group_id",
    "check_max_orders",
    "check_window_ns",
    "make_spec",
    "order_size_axes",
    "pnl",
    "typed",
    "window_ns_from_timedelta",
]

#: Fixed registration names (openpit's), by kind (from the registry).
POLICY_NAMES = kinds.KINDS.policy_names()
KIND_NAMES = tuple(POLICY_NAMES)


def make_spec(kind: str, **params: Any) -> BuiltinSpec:
    """Validate the keyword arguments of ``_add_builtin_<kind>`` into a :class:`BuiltinSpec`."""
    row = kinds.KINDS.get(kind)
    if row is None:
        raise ValueError(f"unknown builtin policy kind {kind!r}")
    group = check_group_id(params.pop("policy_group_id", 0))
    return BuiltinSpec(row.name, row.policy_name, group, row.parse_spec(**params))
