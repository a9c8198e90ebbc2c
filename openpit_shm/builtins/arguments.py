"""What every builtin's spec parser is made of: :class:`BuiltinSpec` and openpit's argument checks.

openpit's builders (``pretrade.policies``) call
``builder._add_builtin_<kind>(**kwargs)``; each builtin's policy module
parses those keyword arguments (its ``parse_spec``) with the checks here,
which raise exactly what openpit's native side raises at build time (same
exception types, same texts). ``specs.make_spec`` then wraps the parsed
configuration in a :class:`BuiltinSpec` named after the builtin's registry
row (``kinds``).

Accounts are u64 ``AccountId.value`` ints; decimals keep their own scale for
texts.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from openpit_shm.param import AccountId
from openpit_shm.param.asset import asset_string

from .numbers import as_decimal

__all__ = [
    "BuiltinSpec",
    "account_of",
    "check_account_value",
    "check_asset",
    "check_group_id",
    "check_max_orders",
    "check_window_ns",
    "decimal_or_none",
    "typed",
    "window_ns_from_timedelta",
]

_U16_MAX = (1 << 16) - 1
_WINDOW_ERROR = "rate limit window must be positive and fit in u64 nanoseconds, got {}"


@dataclass(frozen=True)
class BuiltinSpec:
    """One builtin policy as registered: kind, fixed name, group id and its configuration."""

    kind: str
    name: str
    policy_group_id: int
    config: dict[str, Any] = field(default_factory=dict)


def _int_like(value: Any) -> int:
    if isinstance(value, int):
        return int(value)
    index = getattr(type(value), "__index__", None)
    if index is None:
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    return int(index(value))


def _unsigned(value: Any, bits: int) -> int:
    v = _int_like(value)
    if v < 0:
        raise OverflowError("can't convert negative int to unsigned")
    if v >= 1 << bits:
        raise OverflowError("int too big to convert")
    return v


def check_group_id(value: Any) -> int:
    """A builtin's ``policy_group_id`` (u16; OverflowError out of range, like openpit)."""
    v = _int_like(value)
    if not 0 <= v <= _U16_MAX:
        raise OverflowError("out of range integral type conversion attempted")
    return v


def check_asset(value: Any) -> str:
    """A non-blank asset string (``Asset`` or ``str``), checked as PyO3 extracts a ``String``."""
    return asset_string(value)


def typed(value: Any, cls: type, name: str) -> Any:
    """``value`` if it is a ``cls`` (openpit: ``expected openpit.pretrade.policies.<name>``)."""
    if not isinstance(value, cls):
        raise TypeError(f"expected openpit.pretrade.policies.{name}")
    return value


def account_of(value: Any) -> int:
    """The u64 value of an ``AccountId`` (openpit's builders require the type)."""
    if not isinstance(value, AccountId):
        raise TypeError("account_id must be openpit.param.AccountId")
    return int(value.value)


def check_account_value(value: Any) -> int:
    """An ``AccountId.value`` (u64)."""
    return _unsigned(value, 64)


def check_max_orders(value: Any) -> int:
    """A rate limit's ``max_orders`` (u64; 0 is allowed and rejects every order)."""
    return _unsigned(value, 64)


def check_window_ns(value: Any) -> int:
    """A rate-limit window in ns as the builders pass it (u64, positive)."""
    ns = _unsigned(value, 64)
    if ns == 0:
        raise ValueError(_WINDOW_ERROR.format("0ns"))
    return ns


def window_ns_from_timedelta(window: datetime.timedelta) -> int:
    """The builders' conversion: whole microseconds (truncated) times 1000."""
    return (window // datetime.timedelta(microseconds=1)) * 1000


def decimal_or_none(value: Any) -> decimal.Decimal | None:
    """``None``, or the value as an exact Decimal (``numbers.as_decimal``)."""
    return None if value is None else as_decimal(value)
