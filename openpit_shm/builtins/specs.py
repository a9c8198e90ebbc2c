"""Validated builtin specs, built from the ``_add_builtin_*`` hook arguments.

openpit's builders (``pretrade.policies``) call
``builder._add_builtin_<kind>(**kwargs)``; the engine builder hands those
keyword arguments to :func:`make_spec`, which validates them exactly as
openpit's native side does at build time (same exception types, same texts)
and returns a :class:`BuiltinSpec`: the policy's kind, fixed registration
name, group id and a normalized, immutable configuration:

* rate limit: ``broker`` ``(max, window_ns)`` or None; ``assets``
  ``{asset: (max, ns)}``; ``accounts`` ``{account: (max, ns)}``;
  ``account_assets`` ``{(account, asset): (max, ns)}``;
* order size: ``broker`` :class:`Caps` or None; ``assets`` ``{asset: Caps}``;
  ``account_assets`` ``{(account, asset): Caps}``;
* P&L kill switch: ``broker`` ``{asset: Bounds}``; ``accounts``
  ``{(account, asset): (Bounds, initial_pnl)}``.

Accounts are u64 ``AccountId.value`` ints; decimals keep their own scale for
texts. Later duplicates replace earlier ones (openpit keeps barriers in maps),
except where openpit rejects duplicate keys (order size).
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from openpit_shm.param._compat import downcast_error

from .numbers import as_decimal

__all__ = [
    "KIND_NAMES",
    "POLICY_NAMES",
    "Bounds",
    "BuiltinSpec",
    "Caps",
    "account_of",
    "check_account_value",
    "check_asset",
    "check_max_orders",
    "check_window_ns",
    "make_spec",
    "typed",
    "window_ns_from_timedelta",
]

#: Fixed registration names (openpit's).
POLICY_NAMES = {
    "order_validation": "OrderValidationPolicy",
    "rate_limit": "RateLimitPolicy",
    "order_size_limit": "OrderSizeLimitPolicy",
    "pnl_bounds_killswitch": "PnlBoundsKillSwitchPolicy",
}
KIND_NAMES = tuple(POLICY_NAMES)

_U16_MAX = (1 << 16) - 1
_U64_MAX = (1 << 64) - 1
_WINDOW_ERROR = "rate limit window must be positive and fit in u64 nanoseconds, got {}"


@dataclass(frozen=True)
class Caps:
    """Order size caps; ``None`` means that metric is not capped by this barrier."""

    max_quantity: decimal.Decimal | None
    max_notional: decimal.Decimal | None


@dataclass(frozen=True)
class Bounds:
    """P&L bounds (strict); ``None`` means that side is open."""

    lower: decimal.Decimal | None
    upper: decimal.Decimal | None


@dataclass(frozen=True)
class BuiltinSpec:
    """One builtin policy as registered: kind, fixed name, group id and its configuration."""

    kind: str
    name: str
    policy_group_id: int
    config: dict[str, Any] = field(default_factory=dict)


# ---- scalar checks (openpit's PyO3 conversions) --------------------------------------------------


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
    from openpit_shm.param.asset import asset_string

    return asset_string(value)


def typed(value: Any, cls: type, name: str) -> Any:
    """``value`` if it is a ``cls`` (openpit: ``expected openpit.pretrade.policies.<name>``)."""
    if not isinstance(value, cls):
        raise TypeError(f"expected openpit.pretrade.policies.{name}")
    return value


def account_of(value: Any) -> int:
    """The u64 value of an ``AccountId`` (openpit's builders require the type)."""
    from openpit_shm.param import AccountId

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


def _decimal_or_none(value: Any) -> decimal.Decimal | None:
    return None if value is None else as_decimal(value)


# ---- per-kind specs ------------------------------------------------------------------------------


def _spec_order_validation(*, policy_group_id: Any = 0) -> BuiltinSpec:
    return BuiltinSpec(
        "order_validation", POLICY_NAMES["order_validation"], check_group_id(policy_group_id)
    )


def _rate(max_orders: Any, window: Any) -> tuple[int, int]:
    return check_max_orders(max_orders), check_window_ns(window)


def _spec_rate_limit(
    *,
    policy_group_id: Any = 0,
    broker: Any = None,
    asset_barriers: Any = (),
    account_barriers: Any = (),
    account_asset_barriers: Any = (),
) -> BuiltinSpec:
    gid = check_group_id(policy_group_id)
    broker_rate = None if broker is None else _rate(*broker)
    assets: dict[str, tuple[int, int]] = {}
    for asset, max_orders, ns in asset_barriers:
        assets[check_asset(asset)] = _rate(max_orders, ns)
    accounts: dict[int, tuple[int, int]] = {}
    for account, max_orders, ns in account_barriers:
        accounts[check_account_value(account)] = _rate(max_orders, ns)
    pairs: dict[tuple[int, str], tuple[int, int]] = {}
    for account, asset, max_orders, ns in account_asset_barriers:
        pairs[(check_account_value(account), check_asset(asset))] = _rate(max_orders, ns)
    config = {
        "broker": broker_rate,
        "assets": assets,
        "accounts": accounts,
        "account_assets": pairs,
    }
    return BuiltinSpec("rate_limit", POLICY_NAMES["rate_limit"], gid, config)


def caps_of(limit: Any) -> Caps:
    """The caps of an ``OrderSizeLimit`` (type-checked; at least one cap)."""
    from openpit_shm.pretrade.policies import OrderSizeLimit

    if not isinstance(limit, OrderSizeLimit):
        raise downcast_error(limit, "OrderSizeLimit")
    q = _decimal_or_none(limit._max_quantity)
    n = _decimal_or_none(limit._max_notional)
    if q is None and n is None:
        raise ValueError("at least one of max_quantity or max_notional must be configured")
    return Caps(q, n)


def order_size_axes(
    broker: Any, asset_barriers: Any, account_asset_barriers: Any
) -> tuple[Caps | None, dict[str, Caps], dict[tuple[int, str], Caps]]:
    """Validated order-size axes; duplicate keys are errors (openpit's texts)."""
    broker_caps = None if broker is None else caps_of(broker)
    assets: dict[str, Caps] = {}
    for limit, asset in asset_barriers:
        caps = caps_of(limit)
        key = check_asset(asset)
        if key in assets:
            raise ValueError(f"duplicate asset barrier for asset {key}")
        assets[key] = caps
    pairs: dict[tuple[int, str], Caps] = {}
    for limit, account, asset in account_asset_barriers:
        caps = caps_of(limit)
        pair = (check_account_value(account), check_asset(asset))
        if pair in pairs:
            raise ValueError(f"duplicate account+asset barrier for asset {pair[1]}")
        pairs[pair] = caps
    return broker_caps, assets, pairs


def _spec_order_size_limit(
    *,
    policy_group_id: Any = 0,
    broker: Any = None,
    asset_barriers: Any = (),
    account_asset_barriers: Any = (),
) -> BuiltinSpec:
    gid = check_group_id(policy_group_id)
    broker_caps, assets, pairs = order_size_axes(broker, asset_barriers, account_asset_barriers)
    config = {"broker": broker_caps, "assets": assets, "account_assets": pairs}
    return BuiltinSpec("order_size_limit", POLICY_NAMES["order_size_limit"], gid, config)


def pnl(value: Any) -> decimal.Decimal:
    """A P&L value (Pnl, or anything ``Pnl(...)`` accepts) as a Decimal."""
    from openpit_shm.param import Pnl

    if not isinstance(value, Pnl):
        value = Pnl(value)
    return as_decimal(value)


def bounds_of(barrier: Any) -> tuple[str, Bounds]:
    """(settlement asset, bounds) of a ``PnlBoundsBrokerBarrier`` (at least one bound)."""
    from openpit_shm.param.asset import asset_text
    from openpit_shm.pretrade.policies import PnlBoundsBrokerBarrier

    typed(barrier, PnlBoundsBrokerBarrier, "PnlBoundsBrokerBarrier")
    asset = asset_text(barrier.settlement_asset)
    lower = None if barrier.lower_bound is None else pnl(barrier.lower_bound)
    upper = None if barrier.upper_bound is None else pnl(barrier.upper_bound)
    if lower is None and upper is None:
        raise ValueError(
            "at least one of lower_bound or upper_bound must be configured "
            f"for settlement asset {asset}"
        )
    return asset, Bounds(lower, upper)


def _spec_pnl_bounds_killswitch(
    *, policy_group_id: Any = 0, broker_barriers: Any = (), account_barriers: Any = ()
) -> BuiltinSpec:
    from openpit_shm.pretrade.policies import PnlBoundsAccountAssetBarrier

    gid = check_group_id(policy_group_id)
    broker: dict[str, Bounds] = {}
    for barrier in broker_barriers:
        asset, bounds = bounds_of(barrier)
        broker[asset] = bounds
    accounts: dict[tuple[int, str], tuple[Bounds, decimal.Decimal]] = {}
    for entry in account_barriers:
        typed(entry, PnlBoundsAccountAssetBarrier, "PnlBoundsAccountAssetBarrier")
        asset, bounds = bounds_of(entry.barrier)
        account = account_of(entry.account_id)
        accounts[(account, asset)] = (bounds, pnl(entry.initial_pnl))
    if not broker and not accounts:
        raise ValueError("at least one broker or account+asset barrier must be configured")
    config = {"broker": broker, "accounts": accounts}
    return BuiltinSpec("pnl_bounds_killswitch", POLICY_NAMES["pnl_bounds_killswitch"], gid, config)


_MAKERS = {
    "order_validation": _spec_order_validation,
    "rate_limit": _spec_rate_limit,
    "order_size_limit": _spec_order_size_limit,
    "pnl_bounds_killswitch": _spec_pnl_bounds_killswitch,
}


def make_spec(kind: str, **params: Any) -> BuiltinSpec:
    """Validate the keyword arguments of ``_add_builtin_<kind>`` into a :class:`BuiltinSpec`."""
    try:
        maker = _MAKERS[kind]
    except KeyError:
        raise ValueError(f"unknown builtin policy kind {kind!r}") from None
    return maker(**params)
