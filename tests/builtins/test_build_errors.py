"""Build-time validation of the builtin builders: same exception types and texts as openpit."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import openpit
import pytest

import openpit_shm

td = datetime.timedelta
HOUR = td(hours=1)


def _outcome(pkg: Any, make: Callable[[Any], Any]) -> tuple[str, str]:
    try:
        b = pkg.Engine.builder().no_sync().builtin(make(pkg))
        b.build()
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return ("ok", "")


def _rl(**kw: Any) -> Callable[[Any], Any]:
    def make(pkg: Any) -> Any:
        P = pkg.pretrade.policies
        acc = pkg.param.AccountId.from_int
        b = P.build_rate_limit()
        if "group" in kw:
            b = b.with_policy_group_id(kw["group"])
        if "broker" in kw:
            b = b.broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(*kw["broker"])))
        if "assets" in kw:
            b = b.asset_barriers(*[P.RateLimitAssetBarrier(P.RateLimit(m, w), a)
                                   for a, m, w in kw["assets"]])
        if "accounts" in kw:
            b = b.account_barriers(*[P.RateLimitAccountBarrier(P.RateLimit(m, w), acc(a))
                                     for a, m, w in kw["accounts"]])
        return b

    return make


def _osl(**kw: Any) -> Callable[[Any], Any]:
    def make(pkg: Any) -> Any:
        P = pkg.pretrade.policies
        acc = pkg.param.AccountId.from_int

        def lim(caps: Any) -> Any:
            return caps if isinstance(caps, str) else P.OrderSizeLimit(**caps)

        b = P.build_order_size_limit()
        if "group" in kw:
            b = b.with_policy_group_id(kw["group"])
        b = b.asset_barriers(*[P.OrderSizeAssetBarrier(lim(c), a) for c, a in kw.get("assets", [])])
        if "broker" in kw:
            b = b.broker_barrier(P.OrderSizeBrokerBarrier(lim(kw["broker"])))
        return b.account_asset_barriers(
            *[P.OrderSizeAccountAssetBarrier(lim(c), acc(a), s) for c, a, s in kw.get("pairs", [])]
        )

    return make


def _pnl(broker: Any = (), accounts: Any = ()) -> Callable[[Any], Any]:
    def make(pkg: Any) -> Any:
        P = pkg.pretrade.policies
        acc = pkg.param.AccountId.from_int
        return (
            P.build_pnl_bounds_killswitch()
            .broker_barriers(*[P.PnlBoundsBrokerBarrier(*b) for b in broker])
            .account_barriers(
                *[P.PnlBoundsAccountAssetBarrier(P.PnlBoundsBrokerBarrier(*b), acc(a), init)
                  for b, a, init in accounts]
            )
        )

    return make


CASES: dict[str, Callable[[Any], Any]] = {
    "rl zero window": _rl(broker=(1, td(0))),
    "rl sub-microsecond window": _rl(broker=(1, td(microseconds=0.4))),
    "rl negative window": _rl(broker=(1, td(seconds=-1))),
    "rl negative max": _rl(broker=(-1, HOUR)),
    "rl max above u64": _rl(broker=(2**64, HOUR)),
    "rl max at u64": _rl(broker=(2**64 - 1, HOUR)),
    "rl float max": _rl(assets=[("USD", 1.5, HOUR)]),
    "rl window above u64 ns": _rl(broker=(1, td(days=999_999_999))),
    "rl empty asset": _rl(assets=[("", 1, HOUR)]),
    "rl int asset": _rl(assets=[(5, 1, HOUR)]),
    "rl duplicate accounts": _rl(accounts=[(1, 1, HOUR), (1, 3, HOUR)]),
    "rl group above u16": _rl(group=70_000, broker=(1, HOUR)),
    "rl negative group": _rl(group=-1, broker=(1, HOUR)),
    "rl str group": _rl(group="x", broker=(1, HOUR)),
    "osl empty broker": _osl(broker={}),
    "osl empty asset limit": _osl(assets=[({}, "AAPL")]),
    "osl duplicate asset": _osl(
        assets=[({"max_quantity": 1}, "AAPL"), ({"max_quantity": 2}, "AAPL")]
    ),
    "osl duplicate pair": _osl(
        pairs=[({"max_quantity": 1}, 1, "A"), ({"max_notional": 2}, 1, "A")]
    ),
    "osl same pair other account": _osl(
        pairs=[({"max_quantity": 1}, 1, "A"), ({"max_notional": 2}, 2, "A")]
    ),
    "osl empty asset name": _osl(assets=[({"max_quantity": 1}, "")]),
    "osl int asset": _osl(assets=[({"max_quantity": 1}, 5)]),
    "osl limit of wrong type": _osl(assets=[("x", "A")]),
    "osl empty policy": _osl(),
    "osl group above u16": _osl(group=70_000),
    "pnl no barrier": _pnl(),
    "pnl broker without bound": _pnl(broker=[("USD",)]),
    "pnl account without bound": _pnl(accounts=[(("EUR",), 1, 0)]),
    "pnl duplicate broker": _pnl(broker=[("USD", -1), ("USD", None, 5)]),
    "pnl int bound": _pnl(broker=[("USD", -1)]),
    "pnl inverted bounds": _pnl(broker=[("USD", 1, -1)]),
    "pnl empty asset": _pnl(broker=[("", -1)]),
    "pnl None initial": _pnl(accounts=[(("EUR", -1), 1, None)]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_should_fail_or_pass_the_build_exactly_like_openpit(case: str) -> None:
    make = CASES[case]
    assert _outcome(openpit_shm, make) == _outcome(openpit, make)


@pytest.mark.parametrize("value", [5, "5", 1.5, "0.1"])
def test_should_accept_the_cap_types_openpits_order_size_limit_accepts(value: Any) -> None:
    limit = openpit_shm.pretrade.policies.OrderSizeLimit(max_quantity=value)
    with pytest.raises(AttributeError):
        limit.max_quantity  # noqa: B018 - opaque, like openpit's native class


@pytest.mark.parametrize(
    ("kwargs", "exc", "text"),
    [
        ({"max_quantity": True}, ValueError, "Quantity must be a Decimal, str, int, or float"),
        ({"max_notional": object()}, ValueError, "Volume must be a Decimal, str, int, or float"),
        ({"max_quantity": "x"}, ValueError, "invalid format for Quantity"),
    ],
)
def test_should_reject_caps_of_other_types(kwargs: dict, exc: type, text: str) -> None:
    with pytest.raises(exc, match=text):
        openpit_shm.pretrade.policies.OrderSizeLimit(**kwargs)
    with pytest.raises(exc, match=text):
        openpit.pretrade.policies.OrderSizeLimit(**kwargs)
    volume = {"max_quantity": openpit_shm.param.Volume(5)}
    with pytest.raises(TypeError, match="Quantity must be a Decimal, str, int, or float"):
        openpit_shm.pretrade.policies.OrderSizeLimit(**volume)


def test_should_refuse_a_cap_not_representable_in_fixed_point() -> None:
    P = openpit_shm.pretrade.policies
    limit = P.OrderSizeLimit(max_quantity=openpit_shm.param.Quantity("1.123456789"))
    builder = P.build_order_size_limit().broker_barrier(P.OrderSizeBrokerBarrier(limit))
    with pytest.raises(ValueError, match=r"1\.123456789 is not representable .*scale 8"):
        openpit_shm.Engine.builder().no_sync().builtin(builder).build()


def test_should_expose_openpits_fixed_registration_names() -> None:
    P = openpit_shm.pretrade.policies
    assert P.RateLimitBuilder.NAME == "RateLimitPolicy"
    assert P.OrderSizeLimitBuilder.NAME == "OrderSizeLimitPolicy"
    assert P.PnlBoundsKillswitchBuilder.NAME == "PnlBoundsKillSwitchPolicy"
    assert not hasattr(P.OrderValidationBuilder, "NAME")
    assert hasattr(P, "build_spot_funds")  # Spot Funds is built now (issue 11)


def test_should_require_an_axis_before_the_rate_limit_builder_can_register() -> None:
    entry = openpit_shm.pretrade.policies.build_rate_limit()
    with pytest.raises(AttributeError, match="_build"):
        openpit_shm.Engine.builder().no_sync().builtin(entry)
