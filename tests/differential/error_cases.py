"""The table of malformed inputs that ``test_error_parity`` feeds to openpit and openpit_shm.

A case is a name and a call ``call(mod) -> Any`` written once against either
package's API (``mod`` is ``openpit`` or ``openpit_shm``). Most cases come from
``vary``: one public constructor or method, valid arguments for every
parameter but one, and that one drawn from a list of bad values. To cover
another method, add a ``vary(...)`` line below; to try another bad value, add
it to ``BAD`` (every family picks it up).

Values are built per package (``Value``: ``mod -> value``), so that an
``AccountId`` handed to openpit_shm is openpit_shm's own.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Value = Callable[[Any], Any]
Call = Callable[[Any], Any]


@dataclass(frozen=True)
class Case:
    name: str
    call: Call


def _const(value: Any) -> Value:
    return lambda mod: value


def _object(mod: Any) -> Any:
    return _Opaque()


class _Opaque:
    """An argument of no expected type whose repr carries no address."""

    def __repr__(self) -> str:
        return "<opaque>"


# Bad values every family tries, by label. Plain Python values are shared; the
# package's own objects of the wrong kind are built per package.
BAD: dict[str, Value] = {
    "None": _const(None),
    "True": _const(True),
    "0": _const(0),
    "-1": _const(-1),
    "2**64": _const(2**64),
    "1.5": _const(1.5),
    "nan": _const(float("nan")),
    "inf": _const(float("inf")),
    "-inf": _const(float("-inf")),
    "''": _const(""),
    "' '": _const(" "),
    "'x'": _const("x"),
    "'-1'": _const("-1"),
    "b'1'": _const(b"1"),
    "[]": _const([]),
    "{}": _const({}),
    "object": _object,
    "'1e30'": _const("1e30"),
    "2**96": _const(2**96),
    "1e-30": _const(1e-30),
    "Price(1)": lambda mod: mod.param.Price("1"),
    "Side.BUY": lambda mod: mod.param.Side.BUY,
    "AccountId(1)": lambda mod: mod.param.AccountId.from_int(1),
}

# Smaller lists for parameters whose bad values are mostly caught by the same check.
NUMBERS = ("None", "True", "0", "-1", "2**64", "1.5", "nan", "inf", "-inf", "'x'", "'-1'", "object")
DECIMALS = (*NUMBERS, "'1e30'", "2**96", "1e-30", "''", "Price(1)")
TEXTS = ("None", "True", "0", "1.5", "''", "' '", "b'1'", "[]", "object", "Price(1)")
OBJECTS = (
    "None",
    "True",
    "0",
    "1.5",
    "'x'",
    "[]",
    "object",
    "Price(1)",
    "Side.BUY",
    "AccountId(1)",
)


def vary(
    name: str,
    call: Callable[..., Any],
    valid: Callable[[Any], dict[str, Any]],
    params: dict[str, tuple[str, ...] | None],
) -> Iterator[Case]:
    """Cases for ``call(mod, **kwargs)``: each of ``params`` in turn takes each bad value.

    ``valid(mod)``: the keyword arguments of a call that succeeds.
    ``params``: parameter name -> labels of ``BAD`` to try (None: all of them).
    """
    for param, labels in params.items():
        for label in labels or tuple(BAD):
            make = BAD[label]

            def run(mod: Any, param: str = param, make: Value = make) -> Any:
                kwargs = valid(mod)
                kwargs[param] = make(mod)
                return call(mod, **kwargs)

            yield Case(f"{name}[{param}={label}]", run)


def _positional(method: Callable[..., Any], order: tuple[str, ...]) -> Callable[..., Any]:
    """Call ``method(mod)(*args)`` with the keyword arguments in ``order`` as positionals."""

    def call(mod: Any, **kwargs: Any) -> Any:
        return method(mod)(*(kwargs[k] for k in order))

    return call


def no_args(mod: Any) -> dict[str, Any]:
    """``valid`` for a call whose only argument is the varied one."""
    return {}


# ---- shared builders ---------------------------------------------------------------------------

HOUR = datetime.timedelta(hours=1)


def account(mod: Any, n: int = 1) -> Any:
    return mod.param.AccountId.from_int(n)


def engine(mod: Any) -> Any:
    """An engine with every configurable builtin under its default name."""
    pol = mod.pretrade.policies
    p = mod.param
    return (
        mod.Engine.builder()
        .no_sync()
        .builtin(pol.build_order_validation())
        .builtin(
            pol.build_rate_limit().broker_barrier(
                pol.RateLimitBrokerBarrier(pol.RateLimit(10, HOUR))
            )
        )
        .builtin(
            pol.build_order_size_limit().broker_barrier(
                pol.OrderSizeBrokerBarrier(pol.OrderSizeLimit(max_quantity=p.Quantity("5")))
            )
        )
        .builtin(
            pol.build_pnl_bounds_killswitch().broker_barriers(
                pol.PnlBoundsBrokerBarrier("USD", p.Pnl("-10"), p.Pnl("10"))
            )
        )
        .build()
    )


def order(mod: Any, **fields: Any) -> Any:
    p = mod.param
    kwargs = {
        "instrument": mod.Instrument("AAPL", "USD"),
        "account_id": account(mod),
        "side": p.Side.BUY,
        "trade_amount": p.TradeAmount.quantity("1"),
        "price": p.Price("10"),
    }
    kwargs.update(fields)
    return mod.Order(operation=mod.OrderOperation(**kwargs))


def _reject_kwargs(mod: Any) -> dict[str, Any]:
    return {"code": mod.pretrade.RejectCode.OTHER, "reason": "r", "details": "d"}


def _rejecting_engine(mod: Any, reject: Any) -> Any:
    """An engine whose one custom policy returns ``reject`` from its start stage."""
    P = mod.pretrade

    class Rejecting(P.Policy):
        @property
        def name(self) -> str:
            return "Rejecting"

        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            return [reject]

    return mod.Engine.builder().no_sync().pre_trade(Rejecting()).build()


def _hooked_engine(mod: Any, **behaviour: Any) -> Any:
    """An engine with one custom policy whose name, group and hook results are ``behaviour``."""
    P = mod.pretrade

    class Hooked(P.Policy):
        @property
        def name(self) -> Any:
            return behaviour.get("name", "Hooked")

        @property
        def policy_group_id(self) -> Any:
            return behaviour.get("policy_group_id", 0)

        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            return behaviour.get("main")

        def apply_execution_report(self, ctx: Any, report: Any) -> Any:
            return behaviour.get("post_trade")

    return mod.Engine.builder().no_sync().pre_trade(Hooked()).build()


def report(mod: Any) -> Any:
    p = mod.param
    return mod.ExecutionReport(
        operation=mod.ExecutionReportOperation(
            instrument=mod.Instrument("AAPL", "USD"), account_id=account(mod), side=p.Side.BUY
        ),
        financial_impact=mod.FinancialImpact(pnl=p.Pnl("-1"), fee=p.Fee("0")),
    )


def _main_result(mod: Any, **fields: Any) -> Any:
    """What the engine makes of a main-stage ``PolicyPreTradeResult(**fields)``."""
    result = mod.pretrade.PolicyPreTradeResult(**fields)
    executed = _hooked_engine(mod, main=result).execute_pre_trade(order(mod))
    return executed.rejects if not executed.ok else executed.reservation.lock


def _reject_through_engine(mod: Any, **kwargs: Any) -> Any:
    """A ``PolicyReject`` is validated when the engine reads it, not when it is made."""
    reject = mod.pretrade.PolicyReject(**kwargs)
    return _rejecting_engine(mod, reject).execute_pre_trade(order(mod)).rejects


def built(builder: str, mod: Any, **calls: Any) -> Any:
    """Build an engine with one builtin, whose ``build_<builder>()`` got ``calls`` (method -> arg).

    Builder arguments are checked when the engine is built.
    """
    b = getattr(mod.pretrade.policies, f"build_{builder}")()
    for method, arg in calls.items():
        b = getattr(b, method)(arg)
    return mod.Engine.builder().no_sync().builtin(b).build()


def _policies(mod: Any) -> Any:
    return mod.pretrade.policies


#: Limit and barrier constructors: name -> (valid keyword arguments, bad values per parameter).
BARRIERS: dict[str, tuple[Callable[[Any], dict[str, Any]], dict[str, tuple[str, ...]]]] = {
    "RateLimit": (
        lambda m: {"max_orders": 5, "window": HOUR},
        {"max_orders": NUMBERS, "window": OBJECTS},
    ),
    "RateLimitAssetBarrier": (
        lambda m: {"limit": _policies(m).RateLimit(5, HOUR), "settlement_asset": "USD"},
        {"limit": OBJECTS, "settlement_asset": TEXTS},
    ),
    "RateLimitAccountBarrier": (
        lambda m: {"limit": _policies(m).RateLimit(5, HOUR), "account_id": account(m)},
        {"limit": OBJECTS, "account_id": OBJECTS},
    ),
    "RateLimitAccountAssetBarrier": (
        lambda m: {
            "limit": _policies(m).RateLimit(5, HOUR),
            "account_id": account(m),
            "settlement_asset": "USD",
        },
        {"limit": OBJECTS, "account_id": OBJECTS, "settlement_asset": TEXTS},
    ),
    "OrderSizeLimit": (
        lambda m: {"max_quantity": m.param.Quantity("1"), "max_notional": m.param.Volume("1")},
        {"max_quantity": DECIMALS, "max_notional": DECIMALS},
    ),
    "OrderSizeAssetBarrier": (
        lambda m: {
            "limit": _policies(m).OrderSizeLimit(max_quantity=m.param.Quantity("1")),
            "asset": "USD",
        },
        {"limit": OBJECTS, "asset": TEXTS},
    ),
    "OrderSizeAccountAssetBarrier": (
        lambda m: {
            "limit": _policies(m).OrderSizeLimit(max_quantity=m.param.Quantity("1")),
            "account_id": account(m),
            "asset": "USD",
        },
        {"limit": OBJECTS, "account_id": OBJECTS, "asset": TEXTS},
    ),
    "PnlBoundsBrokerBarrier": (
        lambda m: {
            "settlement_asset": "USD",
            "lower_bound": m.param.Pnl("-1"),
            "upper_bound": m.param.Pnl("1"),
        },
        {"settlement_asset": TEXTS, "lower_bound": OBJECTS, "upper_bound": OBJECTS},
    ),
    "PnlBoundsAccountAssetBarrier": (
        lambda m: {
            "barrier": _policies(m).PnlBoundsBrokerBarrier("USD", m.param.Pnl("-1")),
            "account_id": account(m),
            "initial_pnl": m.param.Pnl("0"),
        },
        {"barrier": OBJECTS, "account_id": OBJECTS, "initial_pnl": OBJECTS},
    ),
    "PnlBoundsAccountAssetBarrierUpdate": (
        lambda m: {
            "barrier": _policies(m).PnlBoundsBrokerBarrier("USD", m.param.Pnl("-1")),
            "account_id": account(m),
        },
        {"barrier": OBJECTS, "account_id": OBJECTS},
    ),
}


def _broker(barrier: str) -> Callable[[Any, Any], Any]:
    """Wrap a limit into its broker barrier (``RateLimit`` -> ``RateLimitBrokerBarrier``)."""
    return lambda m, limit: getattr(_policies(m), barrier)(limit)


def _configured(method: str, name: str, keyword: str, wrap: Any = None) -> Callable[..., Any]:
    """``use`` for ``barrier_cases``: hand the barrier to ``configure().<method>`` (a list,
    or wrapped into a broker barrier)."""

    def use(mod: Any, barrier: Any) -> Any:
        value = [barrier] if wrap is None else wrap(mod, barrier)
        return getattr(engine(mod).configure(), method)(name, **{keyword: value})

    return use


def _at_build(builder: str, method: str, wrap: Any = None) -> Callable[..., Any]:
    """``use`` for ``barrier_cases``: hand the barrier to a builder method, then build."""

    def use(mod: Any, barrier: Any) -> Any:
        value = barrier if wrap is None else wrap(mod, barrier)
        return built(builder, mod, **{method: value})

    return use


#: Where each constructor's product goes: (case label, barrier, use(mod, barrier)).
BARRIER_USES: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    *(("new", b, lambda m, barrier: barrier) for b in ("RateLimit", "OrderSizeLimit")),
    ("new", "PnlBoundsBrokerBarrier", lambda m, barrier: barrier),
    ("rate_limit", "RateLimit", _at_build("rate_limit", "broker_barrier",
                                           _broker("RateLimitBrokerBarrier"))),
    ("rate_limit", "RateLimitAssetBarrier", _at_build("rate_limit", "asset_barriers")),
    ("rate_limit", "RateLimitAccountBarrier", _at_build("rate_limit", "account_barriers")),
    ("rate_limit", "RateLimitAccountAssetBarrier",
     _at_build("rate_limit", "account_asset_barriers")),
    ("order_size_limit", "OrderSizeLimit",
     _at_build("order_size_limit", "broker_barrier", _broker("OrderSizeBrokerBarrier"))),
    ("order_size_limit", "OrderSizeAssetBarrier",
     _at_build("order_size_limit", "asset_barriers")),
    ("order_size_limit", "OrderSizeAccountAssetBarrier",
     _at_build("order_size_limit", "account_asset_barriers")),
    ("pnl_bounds_killswitch", "PnlBoundsBrokerBarrier",
     _at_build("pnl_bounds_killswitch", "broker_barriers")),
    ("pnl_bounds_killswitch", "PnlBoundsAccountAssetBarrier",
     _at_build("pnl_bounds_killswitch", "account_barriers")),
    ("configure.rate_limit", "RateLimit", _configured(
        "rate_limit", "RateLimitPolicy", "broker", _broker("RateLimitBrokerBarrier"))),
    ("configure.rate_limit", "RateLimitAssetBarrier",
     _configured("rate_limit", "RateLimitPolicy", "asset_barriers")),
    ("configure.rate_limit", "RateLimitAccountBarrier",
     _configured("rate_limit", "RateLimitPolicy", "account_barriers")),
    ("configure.rate_limit", "RateLimitAccountAssetBarrier",
     _configured("rate_limit", "RateLimitPolicy", "account_asset_barriers")),
    ("configure.order_size_limit", "OrderSizeLimit", _configured(
        "order_size_limit", "OrderSizeLimitPolicy", "broker", _broker("OrderSizeBrokerBarrier"))),
    ("configure.order_size_limit", "OrderSizeAssetBarrier",
     _configured("order_size_limit", "OrderSizeLimitPolicy", "asset_barriers")),
    ("configure.order_size_limit", "OrderSizeAccountAssetBarrier",
     _configured("order_size_limit", "OrderSizeLimitPolicy", "account_asset_barriers")),
    ("configure.pnl_bounds_killswitch", "PnlBoundsBrokerBarrier",
     _configured("pnl_bounds_killswitch", "PnlBoundsKillSwitchPolicy", "broker_barriers")),
    ("configure.pnl_bounds_killswitch", "PnlBoundsAccountAssetBarrierUpdate",
     _configured("pnl_bounds_killswitch", "PnlBoundsKillSwitchPolicy", "account_barriers")),
)  # fmt: skip


def barrier_cases() -> Iterator[Case]:
    """Every ``BARRIERS`` constructor, varied, its product handed to each of its uses."""
    for label, barrier, use in BARRIER_USES:
        valid, params = BARRIERS[barrier]

        # (the defaults' names must not be a constructor's keyword: ``barrier`` is one)
        def call(mod: Any, _name: str = barrier, _use: Any = use, **kwargs: Any) -> Any:
            return _use(mod, getattr(_policies(mod), _name)(**kwargs))

        yield from vary(f"{label}({barrier})", call, valid, params)


# ---- the table ---------------------------------------------------------------------------------


def _param_cases() -> Iterator[Case]:
    p = lambda mod: mod.param  # noqa: E731
    yield from vary("Leverage", lambda m, x: p(m).Leverage(x), no_args, {"x": NUMBERS})
    yield from vary(
        "Leverage(multiplier=)",
        lambda m, **kw: p(m).Leverage(**kw),
        no_args,
        {"multiplier": NUMBERS},
    )
    yield from vary(
        "Leverage.from_int",
        lambda m, **kw: p(m).Leverage.from_int(**kw),
        no_args,
        {"multiplier": NUMBERS},
    )
    yield from vary(
        "Leverage.from_float",
        lambda m, **kw: p(m).Leverage.from_float(**kw),
        no_args,
        {"multiplier": NUMBERS},
    )
    for value in (1, 10, 3000, 3001, 0.5, 1.05, 100.1):
        yield Case(f"Leverage({value!r})", lambda m, v=value: p(m).Leverage(v))
    yield Case("Leverage(value=10)", lambda m: p(m).Leverage(value=10))
    yield from vary(
        "AccountId.from_int", lambda m, x: p(m).AccountId.from_int(x), no_args, {"x": NUMBERS}
    )
    yield from vary(
        "AccountId.from_string", lambda m, x: p(m).AccountId.from_string(x), no_args, {"x": TEXTS}
    )
    yield from vary("Asset", lambda m, x: p(m).Asset(x), no_args, {"x": TEXTS})
    yield from vary(
        "TradeAmount.quantity", lambda m, x: p(m).TradeAmount.quantity(x), no_args, {"x": DECIMALS}
    )
    yield from vary(
        "TradeAmount.volume", lambda m, x: p(m).TradeAmount.volume(x), no_args, {"x": DECIMALS}
    )
    for value_type in ("Price", "Quantity", "Volume", "Pnl", "Fee"):
        yield from vary(
            value_type, lambda m, x, t=value_type: getattr(p(m), t)(x), no_args, {"x": DECIMALS}
        )
    yield from vary(
        "AccountGroupId.from_int",
        lambda m, x: p(m).AccountGroupId.from_int(x),
        no_args,
        {"x": NUMBERS},
    )


def _core_cases() -> Iterator[Case]:
    def operation(mod: Any) -> dict[str, Any]:
        p = mod.param
        return {
            "instrument": mod.Instrument("AAPL", "USD"),
            "account_id": account(mod),
            "side": p.Side.BUY,
            "trade_amount": p.TradeAmount.quantity("1"),
            "price": p.Price("10"),
        }

    yield from vary(
        "Instrument",
        lambda m, **kw: m.Instrument(**kw),
        lambda m: {"underlying_asset": "AAPL", "settlement_asset": "USD"},
        {"underlying_asset": TEXTS, "settlement_asset": TEXTS},
    )
    yield from vary(
        "OrderOperation",
        lambda m, **kw: m.OrderOperation(**kw),
        operation,
        {
            "instrument": OBJECTS,
            "account_id": OBJECTS,
            "side": OBJECTS,
            "trade_amount": OBJECTS,
            "price": OBJECTS,
        },
    )
    yield from vary("Order", lambda m, **kw: m.Order(**kw), no_args, {"operation": OBJECTS})
    yield from vary(
        "ExecutionReportOperation",
        lambda m, **kw: m.ExecutionReportOperation(**kw),
        lambda m: {
            "instrument": m.Instrument("AAPL", "USD"),
            "account_id": account(m),
            "side": m.param.Side.SELL,
        },
        {"instrument": OBJECTS, "account_id": OBJECTS, "side": OBJECTS},
    )
    yield from vary(
        "FinancialImpact",
        lambda m, **kw: m.FinancialImpact(**kw),
        lambda m: {"pnl": m.param.Pnl("1"), "fee": m.param.Fee("0")},
        {"pnl": OBJECTS, "fee": OBJECTS},
    )
    yield from vary(
        "ExecutionReport",
        lambda m, **kw: m.ExecutionReport(**kw),
        no_args,
        {"operation": OBJECTS, "financial_impact": OBJECTS},
    )


def _pretrade_cases() -> Iterator[Case]:
    reject_params: dict[str, tuple[str, ...] | None] = {
        "code": OBJECTS,
        "reason": TEXTS,
        "details": TEXTS,
        "scope": OBJECTS,
        "user_data": NUMBERS,
    }
    yield from vary("PolicyReject->engine", _reject_through_engine, _reject_kwargs, reject_params)
    yield from vary("RejectScope", lambda m, x: m.pretrade.RejectScope(x), no_args, {"x": TEXTS})
    yield from vary(
        "Lock.push",
        _positional(lambda m: m.pretrade.Lock().push, ("policy_group_id", "price")),
        lambda m: {"policy_group_id": 1, "price": m.param.Price("1")},
        {"policy_group_id": NUMBERS, "price": DECIMALS},
    )
    yield from vary(
        "custom policy",
        lambda m, **kw: _hooked_engine(m, **kw),
        no_args,
        {"name": TEXTS, "policy_group_id": NUMBERS},
    )
    yield from vary(
        "PolicyPreTradeResult->engine",
        _main_result,
        no_args,
        {"rejects": OBJECTS, "mutations": OBJECTS, "lock_prices": OBJECTS},
    )
    yield from vary(
        "main stage returns",
        lambda m, x: _hooked_engine(m, main=x).execute_pre_trade(order(m)).ok,
        no_args,
        {"x": OBJECTS},
    )
    yield from vary(
        "post-trade hook returns",
        lambda m, x: _hooked_engine(m, post_trade=x).apply_execution_report(report(m)),
        no_args,
        {"x": OBJECTS},
    )
    yield from vary(
        "Mutation",
        lambda m, **kw: m.Mutation(**kw),
        lambda m: {"commit": lambda: None, "rollback": lambda: None},
        {"commit": ("None", "0", "'x'"), "rollback": ("None", "0", "'x'")},
    )


def _policy_cases() -> Iterator[Case]:
    yield from barrier_cases()
    for method in ("broker_barriers", "account_barriers"):
        yield from vary(
            f"pnl_bounds_killswitch.{method}",
            lambda m, x, k=method: built("pnl_bounds_killswitch", m, **{k: x}),
            no_args,
            {"x": OBJECTS},
        )
    for builder in ("pnl_bounds_killswitch", "rate_limit", "order_size_limit"):
        yield from vary(
            f"{builder}.with_policy_group_id",
            lambda m, x, b=builder: built(b, m, with_policy_group_id=x),
            no_args,
            {"x": NUMBERS},
        )
    for builder in ("rate_limit", "order_size_limit"):
        yield from vary(
            f"{builder}.broker_barrier",
            lambda m, x, b=builder: built(b, m, broker_barrier=x),
            no_args,
            {"x": OBJECTS},
        )
    for window in (
        datetime.timedelta(0),
        datetime.timedelta(microseconds=-1),
        datetime.timedelta(days=10**6),
    ):
        yield Case(
            f"rate_limit(RateLimit(window={window!r}))",
            lambda m, w=window: built(
                "rate_limit",
                m,
                broker_barrier=_policies(m).RateLimitBrokerBarrier(_policies(m).RateLimit(5, w)),
            ),
        )


def _engine_cases() -> Iterator[Case]:
    yield Case("Engine.builder().build()", lambda m: m.Engine.builder().build())
    yield Case("Engine.builder(1)", lambda m: m.Engine.builder(1))
    yield Case("Engine.builder(x=1)", lambda m: m.Engine.builder(x=1))
    for sync in ("no_sync", "full_sync", "account_sync"):
        yield Case(f"{sync}(1)", lambda m, k=sync: getattr(m.Engine.builder(), k)(1))
        yield Case(f"{sync}(x=1)", lambda m, k=sync: getattr(m.Engine.builder(), k)(x=1))
    stages: dict[str, Call] = {
        "EngineBuilder": lambda m: m.Engine.builder(),
        "SyncedEngineBuilder": lambda m: m.Engine.builder().no_sync(),
        "ReadyEngineBuilder": lambda m: (
            m.Engine.builder().no_sync().builtin(m.pretrade.policies.build_order_validation())
        ),
        "Accounts": lambda m: engine(m).accounts(),
        "Configurator": lambda m: engine(m).configure(),
    }
    for stage, make in stages.items():
        yield Case(f"{stage}.missing", lambda m, make=make: make(m).missing)
    yield Case(
        "ReadyEngineBuilder.build() twice",
        lambda m: [b.build() for b in [stages["ReadyEngineBuilder"](m)] * 2],
    )
    yield Case("no_sync().build()", lambda m: m.Engine.builder().no_sync().build())
    yield from vary(
        "no_sync().pre_trade",
        lambda m, x: m.Engine.builder().no_sync().pre_trade(x),
        no_args,
        {"x": OBJECTS},
    )
    yield from vary(
        "no_sync().builtin",
        lambda m, x: m.Engine.builder().no_sync().builtin(x),
        no_args,
        {"x": OBJECTS},
    )
    for method in (
        "execute_pre_trade",
        "start_pre_trade",
        "execute_pre_trade_dry_run",
        "start_pre_trade_dry_run",
        "apply_execution_report",
    ):
        yield from vary(
            f"engine.{method}",
            lambda m, x, k=method: getattr(engine(m), k)(x),
            no_args,
            {"x": OBJECTS},
        )


def _block_cause(mod: Any) -> Any:
    return mod.pretrade.AccountBlock(
        policy="P", code=mod.pretrade.RejectCode.OTHER, reason="r", details="d"
    )


#: ``Accounts`` methods: name -> (parameter, a valid value, the bad values to try), in order.
ACCOUNTS_METHODS: dict[str, tuple[tuple[str, Value, tuple[str, ...]], ...]] = {
    "block": (("account", account, OBJECTS), ("reason", _const("r"), TEXTS)),
    "unblock": (("account", account, OBJECTS),),
    "group_of": (("account", account, OBJECTS),),
    "clear_currency": (("account", account, OBJECTS),),
    "unblock_group": (("group", _const(7), NUMBERS),),
    "clear_group_currency": (("group", _const(7), NUMBERS),),
    "register_group": (
        ("accounts", lambda m: [account(m)], OBJECTS),
        ("group", _const(7), NUMBERS),
    ),
    "unregister_group": (
        ("accounts", lambda m: [account(m)], OBJECTS),
        ("group", _const(7), NUMBERS),
    ),
    "set_currency": (("account", account, OBJECTS), ("asset", _const("USD"), TEXTS)),
    "set_group_currency": (("group", _const(7), NUMBERS), ("asset", _const("USD"), TEXTS)),
    "block_group": (("group", _const(7), NUMBERS), ("reason", _const("r"), TEXTS)),
    "replace_block_reason": (("account", account, OBJECTS), ("reason", _const("r"), TEXTS)),
    "replace_group_block_reason": (("group", _const(7), NUMBERS), ("reason", _const("r"), TEXTS)),
    "block_with_cause": (("account", account, OBJECTS), ("cause", _block_cause, OBJECTS)),
}


def _accounts_cases() -> Iterator[Case]:
    for method, params in ACCOUNTS_METHODS.items():
        names = tuple(name for name, _, _ in params)

        def valid(mod: Any, params: Any = params) -> dict[str, Any]:
            return {name: make(mod) for name, make, _ in params}

        call = _positional(lambda m, k=method: getattr(engine(m).accounts(), k), names)
        yield from vary(f"accounts.{method}", call, valid, {n: bad for n, _, bad in params})
    yield from vary(
        "AccountBlock",
        lambda m, **kw: m.pretrade.AccountBlock(**kw),
        lambda m: {
            "policy": "P",
            "code": m.pretrade.RejectCode.OTHER,
            "reason": "r",
            "details": "d",
            "user_data": 0,
        },
        {
            "policy": TEXTS,
            "code": OBJECTS,
            "reason": TEXTS,
            "details": TEXTS,
            "user_data": NUMBERS,
        },
    )


def _configure_cases() -> Iterator[Case]:
    def configure(mod: Any) -> Any:
        return engine(mod).configure()

    yield from vary(
        "configure.rate_limit(name)",
        lambda m, x: configure(m).rate_limit(x),
        no_args,
        {"x": OBJECTS},
    )
    yield from vary(
        "configure.rate_limit",
        lambda m, **kw: configure(m).rate_limit("RateLimitPolicy", **kw),
        no_args,
        {
            "broker": OBJECTS,
            "asset_barriers": OBJECTS,
            "account_barriers": OBJECTS,
            "account_asset_barriers": OBJECTS,
        },
    )
    yield from vary(
        "configure.order_size_limit",
        lambda m, **kw: configure(m).order_size_limit("OrderSizeLimitPolicy", **kw),
        no_args,
        {"broker": OBJECTS, "asset_barriers": OBJECTS, "account_asset_barriers": OBJECTS},
    )
    yield from vary(
        "configure.pnl_bounds_killswitch",
        lambda m, **kw: configure(m).pnl_bounds_killswitch("PnlBoundsKillSwitchPolicy", **kw),
        no_args,
        {"broker_barriers": OBJECTS, "account_barriers": OBJECTS},
    )
    yield from vary(
        "configure.set_account_pnl",
        lambda m, **kw: configure(m).set_account_pnl("PnlBoundsKillSwitchPolicy", **kw),
        lambda m: {"account": account(m), "settlement_asset": "USD", "pnl": m.param.Pnl("1")},
        {"account": OBJECTS, "settlement_asset": TEXTS, "pnl": OBJECTS},
    )
    for method in ("order_size_limit", "pnl_bounds_killswitch", "set_account_pnl"):
        yield from vary(
            f"configure.{method}(name)",
            lambda m, x, k=method: getattr(configure(m), k)(x),
            no_args,
            {"x": ("None", "0", "[]", "Price(1)", "''")},
        )
    for method, name in (
        ("rate_limit", "RateLimitPolicy"),
        ("order_size_limit", "OrderSizeLimitPolicy"),
    ):
        yield from vary(
            f"configure.{method}[clear_broker]",
            lambda m, x, k=method, n=name: getattr(configure(m), k)(n, clear_broker=x),
            no_args,
            {"x": OBJECTS},
        )
        yield Case(
            f"configure.{method}(name, extra)",
            lambda m, k=method, n=name: getattr(configure(m), k)(n, None),
        )
    yield Case(
        "configure.pnl_bounds_killswitch(name, extra)",
        lambda m: configure(m).pnl_bounds_killswitch("PnlBoundsKillSwitchPolicy", []),
    )
    yield Case(
        "configure.set_account_pnl(pnl missing)",
        lambda m: configure(m).set_account_pnl(
            "PnlBoundsKillSwitchPolicy", account=account(m), settlement_asset="USD"
        ),
    )
    yield Case(
        "configure.set_account_pnl(two missing)",
        lambda m: configure(m).set_account_pnl("PnlBoundsKillSwitchPolicy", account=account(m)),
    )
    yield Case(
        "configure.set_account_pnl()",
        lambda m: configure(m).set_account_pnl("PnlBoundsKillSwitchPolicy"),
    )
    yield Case(
        "configure.set_account_pnl(positional)",
        lambda m: configure(m).set_account_pnl(
            "PnlBoundsKillSwitchPolicy", account(m), "USD", m.param.Pnl("1")
        ),
    )


def _known_difference_cases() -> Iterator[Case]:
    """Calls whose outcome differs on purpose or at a cost not worth paying (``KNOWN``)."""
    yield Case("Engine.missing", lambda m: engine(m).missing)
    yield Case(
        "engine.execute_pre_trade(order, extra)",
        lambda m: engine(m).execute_pre_trade(order(m), None),
    )
    yield Case(
        "accounts.block(account, reason, extra)",
        lambda m: engine(m).accounts().block(account(m), "r", None),
    )


#: Case name -> why openpit_shm answers differently (the test requires the difference).
KNOWN: dict[str, str] = {
    **{
        f"{where}[{field}=2**64]": "amounts beyond the int64 fixed point are refused (README)"
        for where in (
            "order_size_limit(OrderSizeLimit)",
            "configure.order_size_limit(OrderSizeLimit)",
        )
        for field in ("max_quantity", "max_notional")
    },
    "Engine.missing": "CPython names openpit's native Engine 'openpit.Engine'; a __getattr__ "
    "on Engine would slow every attribute lookup of the per-order path",
    "engine.execute_pre_trade(order, extra)": "PyO3 counts positional arguments without self; "
    "a *args check would cost the per-order path a frame",
    "accounts.block(account, reason, extra)": "PyO3 counts positional arguments without self; "
    "not emulated for Accounts methods",
}


def all_cases() -> list[Case]:
    families = (
        _param_cases,
        _core_cases,
        _pretrade_cases,
        _policy_cases,
        _engine_cases,
        _accounts_cases,
        _configure_cases,
        _known_difference_cases,
    )
    cases = [case for family in families for case in family()]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names are unique"
    assert set(KNOWN) <= set(names), "every known difference is a case"
    return cases
