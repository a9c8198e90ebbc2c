"""Builtin policy builders and barrier types, as ``openpit.pretrade.policies`` has them.

Same classes, names, ``NAME`` attributes, entry/ready builder split and
``_build(builder)`` hooks calling ``builder._add_builtin_<kind>(...)`` with
**the same keyword arguments** openpit's builders pass, so code written for
openpit (and openpit's own builders) register on an openpit_shm engine
unchanged. The engine builder validates those arguments
(``openpit_shm.builtins.specs``) with openpit's errors.

The builder and dataclass code follows openpit 0.10.0's
``openpit/pretrade/policies.py`` (Apache-2.0) closely on purpose; only
:class:`OrderSizeLimit` is ours (openpit's is native).

Spot Funds builders are out of scope for now and are not exported.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import typing

from ..param import Quantity as _Quantity
from ..param import Volume as _Volume

if typing.TYPE_CHECKING:
    from .. import param
    from ..instrument import Instrument

DEFAULT_POLICY_GROUP_ID = 0

def _coerce_cap(value: typing.Any, cls: type) -> typing.Any:
    """``Quantity``/``Volume`` from what openpit's native ``OrderSizeLimit`` accepts.

    Conversion (and its errors) is the param type's own constructor, as in openpit.
    """
    if value is None or isinstance(value, cls):
        return value
    return cls(value)


class OrderSizeLimit:
    """Optional quantity and notional caps for one order.

    Args:
        max_quantity: Maximum quantity, resolved by underlying asset. ``None``
            does not constrain quantity.
        max_notional: Maximum notional, resolved by settlement asset. ``None``
            does not constrain notional.

    Each metric resolves its own account-and-asset, then asset chain. A matching
    barrier that does not carry that metric is skipped within that chain. The broker
    barrier applies each cap it carries to every order in addition to both asset
    chains. A cap rejects an order whose metric value is above it; a cap of zero
    rejects positive metric values and admits a value of exactly zero. At least one
    cap must be set; building the engine fails otherwise.

    Like openpit's native class it is opaque: the caps are not readable
    attributes, and equality is identity.
    """

    __slots__ = ("_max_notional", "_max_quantity")

    def __init__(
        self,
        *,
        max_quantity: param.Quantity | decimal.Decimal | str | int | float | None = None,
        max_notional: param.Volume | decimal.Decimal | str | int | float | None = None,
    ) -> None:
        self._max_quantity = _coerce_cap(max_quantity, _Quantity)
        self._max_notional = _coerce_cap(max_notional, _Volume)

    def __repr__(self) -> str:
        return f"<openpit.pretrade.policies.OrderSizeLimit object at {id(self):#x}>"


# ---------------------------------------------------------------------------
# Spot Funds (build_spot_funds; the P&L-bounds preset is not built yet)
# ---------------------------------------------------------------------------


class SpotFundsPricingSource(enum.StrEnum):
    """Market-data quote field used for market-order pricing."""

    MARK = "Mark"
    BOOK_TOP = "BookTop"


class SpotFundsLimitMode(enum.StrEnum):
    """ENFORCE rejects an order exceeding available funds; TRACK_ONLY records it anyway."""

    ENFORCE = "Enforce"
    TRACK_ONLY = "TrackOnly"


@dataclasses.dataclass(frozen=True)
class SpotFundsLimitModeAccountEntry:
    """An account's limit-mode pin (``mode=None`` clears it)."""

    account_id: typing.Any
    mode: SpotFundsLimitMode | None


@dataclasses.dataclass(frozen=True)
class SpotFundsLimitModeAccountGroupEntry:
    """An account group's limit-mode pin (``mode=None`` clears it)."""

    account_group_id: typing.Any
    mode: SpotFundsLimitMode | None


@dataclasses.dataclass(frozen=True)
class SpotFundsPositionLimitEntry:
    """Inclusive worst-case position bound of (account, asset); ``limit=None`` clears it."""

    account_id: typing.Any
    asset: typing.Any
    limit: typing.Any


@dataclasses.dataclass(frozen=True)
class SpotFundsOverrideTargetInstrument:
    instrument: typing.Any


@dataclasses.dataclass(frozen=True)
class SpotFundsOverrideTargetInstrumentAccount:
    instrument: typing.Any
    account_id: typing.Any


@dataclasses.dataclass(frozen=True)
class SpotFundsOverrideTargetInstrumentAccountGroup:
    instrument: typing.Any
    account_group_id: typing.Any


SpotFundsOverrideTarget = (
    SpotFundsOverrideTargetInstrument
    | SpotFundsOverrideTargetInstrumentAccount
    | SpotFundsOverrideTargetInstrumentAccountGroup
)


@dataclasses.dataclass(frozen=True)
class SpotFundsOverride:
    slippage_bps: int | None = None


@dataclasses.dataclass(frozen=True)
class SpotFundsOverrideEntry:
    target: typing.Any
    override: SpotFundsOverride


class SpotFundsReadyBuilder:
    """A configured Spot Funds builder: pass it to ``builtin()``."""

    def __init__(self) -> None:
        self._market_data: typing.Any = None
        self._global_slippage_bps: int | None = None
        self._pricing_source = SpotFundsPricingSource.MARK
        self._overrides: tuple[typing.Any, ...] = ()
        self._policy_group_id = 0

    def with_policy_group_id(self, policy_group_id: int) -> SpotFundsReadyBuilder:
        self._policy_group_id = policy_group_id
        return self

    def market_data(self, service: typing.Any, global_slippage_bps: int,
                    pricing_source: SpotFundsPricingSource = SpotFundsPricingSource.MARK,
                    overrides: typing.Any = ()) -> SpotFundsReadyBuilder:  # fmt: skip
        """Market orders priced from ``service`` (slippage checked when the engine builds)."""
        self._market_data = service
        self._global_slippage_bps = global_slippage_bps
        self._pricing_source = SpotFundsPricingSource(pricing_source)
        self._overrides = tuple(overrides)
        return self

    def _build(self, builder: typing.Any) -> None:
        builder._add_builtin_spot_funds(
            policy_group_id=self._policy_group_id,
            market_data=self._market_data,
            global_slippage_bps=self._global_slippage_bps,
            pricing_source=None if self._market_data is None else self._pricing_source.value,
            overrides=self._overrides,
        )


class SpotFundsBuilder:
    """Entry point of Spot Funds: limit orders only until ``market_data`` is given."""

    NAME: str = "SpotFundsPolicy"

    def __init__(self) -> None:
        self._ready = SpotFundsReadyBuilder()

    def with_policy_group_id(self, policy_group_id: int) -> SpotFundsBuilder:
        self._ready.with_policy_group_id(policy_group_id)
        return self

    def market_data(self, service: typing.Any, global_slippage_bps: int,
                    pricing_source: SpotFundsPricingSource = SpotFundsPricingSource.MARK,
                    overrides: typing.Any = ()) -> SpotFundsReadyBuilder:  # fmt: skip
        return self._ready.market_data(service, global_slippage_bps, pricing_source, overrides)

    def _build(self, builder: typing.Any) -> None:
        self._ready._build(builder)


def build_spot_funds() -> SpotFundsBuilder:
    """Spot Funds (``SpotFundsPolicy``): holds available funds of each order's legs."""
    return SpotFundsBuilder()

# ---------------------------------------------------------------------------
# Rate limit
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """Maximum orders within a time window.

    Broker and asset barriers count orders with an approximate fixed-window
    counter: at a window boundary the observed burst can briefly reach up to
    ``2 * max_orders``. Account and account+asset barriers count them with a
    precise sliding-window log.

    Args:
        max_orders: Maximum number of orders accepted within *window*.
        window: Length of the time window.
    """

    max_orders: int
    window: datetime.timedelta


@dataclasses.dataclass(frozen=True)
class RateLimitBrokerBarrier:
    """Rate limit applied across the entire broker.

    Args:
        limit: The rate limit definition.
    """

    limit: RateLimit


@dataclasses.dataclass(frozen=True)
class RateLimitAssetBarrier:
    """Rate limit applied per settlement asset.

    Args:
        limit: The rate limit definition.
        settlement_asset: Settlement asset symbol this barrier tracks.
    """

    limit: RateLimit
    settlement_asset: param.Asset


@dataclasses.dataclass(frozen=True)
class RateLimitAccountBarrier:
    """Rate limit applied per account.

    Args:
        limit: The rate limit definition.
        account_id: Account this barrier applies to.
    """

    limit: RateLimit
    account_id: param.AccountId


@dataclasses.dataclass(frozen=True)
class RateLimitAccountAssetBarrier:
    """Rate limit applied per (account, settlement asset) pair.

    Args:
        limit: The rate limit definition.
        account_id: Account this barrier applies to.
        settlement_asset: Settlement asset symbol this barrier tracks.
    """

    limit: RateLimit
    account_id: param.AccountId
    settlement_asset: param.Asset


class RateLimitReadyBuilder:
    """Fully-configured rate-limit policy builder.

    Obtain an instance via :func:`build_rate_limit` and one of its axis
    methods.  All axis methods return ``self`` so they can be chained.
    Pass to ``SyncedEngineBuilder.builtin()`` or
    ``ReadyEngineBuilder.builtin()`` to register on an engine.
    """

    def __init__(self) -> None:
        self._broker: RateLimitBrokerBarrier | None = None
        self._asset: list[RateLimitAssetBarrier] = []
        self._account: list[RateLimitAccountBarrier] = []
        self._account_asset: list[RateLimitAccountAssetBarrier] = []
        self._policy_group_id = DEFAULT_POLICY_GROUP_ID

    def with_policy_group_id(self, policy_group_id: int) -> RateLimitReadyBuilder:
        """Assign the policy group tag."""
        self._policy_group_id = policy_group_id
        return self

    def broker_barrier(self, barrier: RateLimitBrokerBarrier) -> RateLimitReadyBuilder:
        """Set or replace the broker-wide rate limit."""
        self._broker = barrier
        return self

    def asset_barriers(self, *barriers: RateLimitAssetBarrier) -> RateLimitReadyBuilder:
        """Append per-settlement-asset rate-limit barriers."""
        self._asset.extend(barriers)
        return self

    def account_barriers(
        self, *barriers: RateLimitAccountBarrier
    ) -> RateLimitReadyBuilder:
        """Append per-account rate-limit barriers."""
        self._account.extend(barriers)
        return self

    def account_asset_barriers(
        self, *barriers: RateLimitAccountAssetBarrier
    ) -> RateLimitReadyBuilder:
        """Append per-(account, settlement-asset) rate-limit barriers."""
        self._account_asset.extend(barriers)
        return self

    def _build(self, builder: typing.Any) -> None:
        """Contract hook invoked by ``builtin()`` to register this policy."""

        def _nanos(limit: RateLimit) -> int:
            micros = limit.window // datetime.timedelta(microseconds=1)
            return micros * 1_000

        broker = None
        if self._broker is not None:
            b = self._broker
            broker = (
                b.limit.max_orders,
                _nanos(b.limit),
            )

        builder._add_builtin_rate_limit(
            policy_group_id=self._policy_group_id,
            broker=broker,
            asset_barriers=[
                (
                    b.settlement_asset,
                    b.limit.max_orders,
                    _nanos(b.limit),
                )
                for b in self._asset
            ],
            account_barriers=[
                (
                    b.account_id.value,
                    b.limit.max_orders,
                    _nanos(b.limit),
                )
                for b in self._account
            ],
            account_asset_barriers=[
                (
                    b.account_id.value,
                    b.settlement_asset,
                    b.limit.max_orders,
                    _nanos(b.limit),
                )
                for b in self._account_asset
            ],
        )


class RateLimitBuilder:
    """Entry point for the rate-limit policy builder.

    Call :func:`build_rate_limit` to obtain an instance, then call one of
    the axis methods to obtain a :class:`RateLimitReadyBuilder`.
    """

    #: Registration name of the rate-limit policy. Pass to
    #: ``engine.configure().rate_limit`` to retune it at runtime.
    NAME: str = "RateLimitPolicy"

    def __init__(self) -> None:
        self._ready = RateLimitReadyBuilder()

    def with_policy_group_id(self, policy_group_id: int) -> RateLimitBuilder:
        """Assign the policy group tag."""
        self._ready.with_policy_group_id(policy_group_id)
        return self

    def broker_barrier(self, barrier: RateLimitBrokerBarrier) -> RateLimitReadyBuilder:
        """Set the broker-wide rate limit and return a ready builder."""
        return self._ready.broker_barrier(barrier)

    def asset_barriers(self, *barriers: RateLimitAssetBarrier) -> RateLimitReadyBuilder:
        """Add per-settlement-asset barriers and return a ready builder."""
        return self._ready.asset_barriers(*barriers)

    def account_barriers(
        self, *barriers: RateLimitAccountBarrier
    ) -> RateLimitReadyBuilder:
        """Add per-account barriers and return a ready builder."""
        return self._ready.account_barriers(*barriers)

    def account_asset_barriers(
        self, *barriers: RateLimitAccountAssetBarrier
    ) -> RateLimitReadyBuilder:
        """Add per-(account, settlement-asset) barriers and return a ready builder."""
        return self._ready.account_asset_barriers(*barriers)


def build_rate_limit() -> RateLimitBuilder:
    """Return a new rate-limit policy builder.

    Calling an axis method with no barriers, such as ``asset_barriers()``,
    returns a ready builder for registering an empty policy. It admits every
    order without reading order fields and can be configured later through
    the engine's configurator.
    """
    return RateLimitBuilder()


# ---------------------------------------------------------------------------
# Order size limit
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrderSizeBrokerBarrier:
    """Broker-wide quantity and notional caps applied to every order.

    Args:
        limit: Optional caps. An absent cap constrains nothing, while a cap set
            to zero rejects positive metric values and admits a value of exactly
            zero.

    Each cap applies in addition to that metric's account-and-asset then asset
    chain.
    """

    limit: OrderSizeLimit


@dataclasses.dataclass(frozen=True)
class OrderSizeAssetBarrier:
    """Quantity and notional caps keyed independently by asset.

    Args:
        limit: Optional caps. A missing metric is skipped during its lookup
            chain; a zero cap rejects positive metric values and admits a value
            of exactly zero.
        asset: Underlying key for quantity and settlement key for notional.
    """

    limit: OrderSizeLimit
    asset: param.Asset


@dataclasses.dataclass(frozen=True)
class OrderSizeAccountAssetBarrier:
    """Quantity and notional caps keyed independently by account and asset.

    Args:
        limit: Optional caps. A missing metric is skipped during its lookup
            chain; a zero cap rejects positive metric values and admits a value
            of exactly zero.
        account_id: Account this barrier applies to.
        asset: Underlying key for quantity and settlement key for notional.
    """

    limit: OrderSizeLimit
    account_id: param.AccountId
    asset: param.Asset


class OrderSizeLimitReadyBuilder:
    """Fully-configured order-size-limit policy builder.

    Obtain via :func:`build_order_size_limit` followed by any axis method. All
    axis methods return ``self`` for chaining. Quantity resolves by underlying
    asset and notional by settlement asset. Within its account-and-asset then
    asset chain, each metric skips a matching barrier that omits its cap. An
    absent cap constrains nothing, while a zero cap rejects positive metric
    values and admits a value of exactly zero. Pass to
    ``SyncedEngineBuilder.builtin()`` or ``ReadyEngineBuilder.builtin()``.
    """

    def __init__(self) -> None:
        self._broker: OrderSizeBrokerBarrier | None = None
        self._asset: list[OrderSizeAssetBarrier] = []
        self._account_asset: list[OrderSizeAccountAssetBarrier] = []
        self._policy_group_id = DEFAULT_POLICY_GROUP_ID

    def with_policy_group_id(self, policy_group_id: int) -> OrderSizeLimitReadyBuilder:
        """Assign the policy group tag."""
        self._policy_group_id = policy_group_id
        return self

    def broker_barrier(
        self, barrier: OrderSizeBrokerBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Set or replace the additive broker-wide caps.

        Each cap applies to every order in addition to both asset chains. An
        absent cap constrains nothing; a zero cap rejects positive metric
        values and admits a value of exactly zero.
        """
        self._broker = barrier
        return self

    def asset_barriers(
        self, *barriers: OrderSizeAssetBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Append barriers keyed by underlying or settlement asset.

        Quantity uses the underlying key, notional uses the settlement key,
        and each chain skips a matching barrier that omits its metric.
        """
        self._asset.extend(barriers)
        return self

    def account_asset_barriers(
        self, *barriers: OrderSizeAccountAssetBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Append barriers keyed independently by account and asset.

        Quantity uses ``(account, underlying)`` and notional uses ``(account,
        settlement)``. Each chain skips a matching barrier that omits its
        metric.
        """
        self._account_asset.extend(barriers)
        return self

    def _build(self, builder: typing.Any) -> None:
        """Contract hook invoked by ``builtin()`` to register this policy."""
        builder._add_builtin_order_size_limit(
            policy_group_id=self._policy_group_id,
            broker=self._broker.limit if self._broker is not None else None,
            asset_barriers=[(b.limit, b.asset) for b in self._asset],
            account_asset_barriers=[
                (b.limit, b.account_id.value, b.asset) for b in self._account_asset
            ],
        )


class OrderSizeLimitBuilder:
    """Entry point for the order-size-limit policy builder.

    Call :func:`build_order_size_limit` to obtain an instance, then call any
    axis method to obtain an :class:`OrderSizeLimitReadyBuilder`. Quantity caps
    resolve by underlying asset and notional caps by settlement asset. An
    absent cap constrains nothing. Within the account-and-asset then asset
    chain, matching barriers without that metric are skipped. A zero cap rejects
    positive metric values and admits a value of exactly zero.
    """

    #: Registration name of the order-size-limit policy. Pass to
    #: ``engine.configure().order_size_limit`` to retune it at runtime.
    NAME: str = "OrderSizeLimitPolicy"

    def __init__(self) -> None:
        self._ready = OrderSizeLimitReadyBuilder()

    def with_policy_group_id(self, policy_group_id: int) -> OrderSizeLimitBuilder:
        """Assign the policy group tag."""
        self._ready.with_policy_group_id(policy_group_id)
        return self

    def broker_barrier(
        self, barrier: OrderSizeBrokerBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Set additive broker-wide caps and return a ready builder.

        Each cap applies to every order in addition to both asset chains. An
        absent cap constrains nothing; a zero cap rejects positive metric
        values and admits a value of exactly zero.
        """
        return self._ready.broker_barrier(barrier)

    def asset_barriers(
        self, *barriers: OrderSizeAssetBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Add barriers keyed by underlying or settlement asset.

        Quantity uses the underlying key, notional uses the settlement key,
        and each chain skips a matching barrier that omits its metric.
        """
        return self._ready.asset_barriers(*barriers)

    def account_asset_barriers(
        self, *barriers: OrderSizeAccountAssetBarrier
    ) -> OrderSizeLimitReadyBuilder:
        """Add barriers keyed independently by account and asset.

        Quantity uses ``(account, underlying)`` and notional uses ``(account,
        settlement)``. Each chain skips a matching barrier that omits its
        metric.
        """
        return self._ready.account_asset_barriers(*barriers)


def build_order_size_limit() -> OrderSizeLimitBuilder:
    """Return a new order-size-limit policy builder.

    Calling an axis method with no barriers, such as ``asset_barriers()``,
    returns a ready builder for registering an empty policy. It admits every
    order without reading order fields and can be configured later through
    the engine's configurator.
    """
    return OrderSizeLimitBuilder()


# ---------------------------------------------------------------------------
# P&L bounds kill-switch
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PnlBoundsBrokerBarrier:
    """Broker-level P&L bounds barrier.

    Args:
        settlement_asset: Settlement asset tracked by this barrier.
        lower_bound: Optional lower P&L bound (typically a negative loss limit).
        upper_bound: Optional upper P&L bound (typically a positive profit limit).

    At least one of *lower_bound* or *upper_bound* must be provided.
    """

    settlement_asset: param.Asset
    lower_bound: param.Pnl | None = None
    upper_bound: param.Pnl | None = None


@dataclasses.dataclass(frozen=True)
class PnlBoundsAccountAssetBarrier:
    """Per-(account, settlement-asset) P&L bounds refinement.

    Pairs a :class:`PnlBoundsBrokerBarrier` (the settlement asset and bounds
    configuration) with an account identity and a starting P&L.

    Args:
        barrier: Settlement asset and bounds for this account+asset barrier.
        account_id: Account this barrier applies to.
        initial_pnl: Starting accumulated P&L, consumed at construction only.
            Seeds P&L accrued before the engine started.
    """

    barrier: PnlBoundsBrokerBarrier
    account_id: param.AccountId
    initial_pnl: param.Pnl


@dataclasses.dataclass(frozen=True)
class PnlBoundsAccountAssetBarrierUpdate:
    """Runtime replacement for a per-account P&L bounds barrier.

    Runtime updates preserve the live accumulated P&L and cannot seed or reset
    it.

    Args:
        barrier: Settlement asset and replacement bounds for this account.
        account_id: Account this replacement barrier applies to.
    """

    barrier: PnlBoundsBrokerBarrier
    account_id: param.AccountId


class PnlBoundsKillswitchReadyBuilder:
    """Fully-configured P&L bounds kill-switch policy builder.

    Obtain via :func:`build_pnl_bounds_killswitch` and one axis method.
    All axis methods return ``self`` for chaining.  Pass to
    ``SyncedEngineBuilder.builtin()`` or ``ReadyEngineBuilder.builtin()``.
    """

    def __init__(self) -> None:
        self._broker: list[PnlBoundsBrokerBarrier] = []
        self._account: list[PnlBoundsAccountAssetBarrier] = []
        self._policy_group_id = DEFAULT_POLICY_GROUP_ID

    def with_policy_group_id(
        self, policy_group_id: int
    ) -> PnlBoundsKillswitchReadyBuilder:
        """Assign the policy group tag."""
        self._policy_group_id = policy_group_id
        return self

    def broker_barriers(
        self, *barriers: PnlBoundsBrokerBarrier
    ) -> PnlBoundsKillswitchReadyBuilder:
        """Append broker-level P&L bounds barriers."""
        self._broker.extend(barriers)
        return self

    def account_barriers(
        self, *barriers: PnlBoundsAccountAssetBarrier
    ) -> PnlBoundsKillswitchReadyBuilder:
        """Append per-account P&L bounds barriers."""
        self._account.extend(barriers)
        return self

    def _build(self, builder: typing.Any) -> None:
        """Contract hook invoked by ``builtin()`` to register this policy."""
        builder._add_builtin_pnl_bounds_killswitch(
            policy_group_id=self._policy_group_id,
            broker_barriers=self._broker,
            account_barriers=self._account,
        )


class PnlBoundsKillswitchBuilder:
    """Entry point for the P&L bounds kill-switch policy builder.

    Call :func:`build_pnl_bounds_killswitch` to obtain an instance, then
    call one of the axis methods to obtain a
    :class:`PnlBoundsKillswitchReadyBuilder`.
    """

    #: Registration name of the P&L bounds kill-switch policy. Pass to
    #: ``engine.configure().pnl_bounds_killswitch`` (or ``set_account_pnl``)
    #: to retune it at runtime.
    NAME: str = "PnlBoundsKillSwitchPolicy"

    def __init__(self) -> None:
        self._ready = PnlBoundsKillswitchReadyBuilder()

    def with_policy_group_id(self, policy_group_id: int) -> PnlBoundsKillswitchBuilder:
        """Assign the policy group tag."""
        self._ready.with_policy_group_id(policy_group_id)
        return self

    def broker_barriers(
        self, *barriers: PnlBoundsBrokerBarrier
    ) -> PnlBoundsKillswitchReadyBuilder:
        """Add broker-level barriers and return a ready builder."""
        return self._ready.broker_barriers(*barriers)

    def account_barriers(
        self, *barriers: PnlBoundsAccountAssetBarrier
    ) -> PnlBoundsKillswitchReadyBuilder:
        """Add per-account barriers and return a ready builder."""
        return self._ready.account_barriers(*barriers)


def build_pnl_bounds_killswitch() -> PnlBoundsKillswitchBuilder:
    """Return a new P&L bounds kill-switch policy builder."""
    return PnlBoundsKillswitchBuilder()


# ---------------------------------------------------------------------------
# Order validation
# ---------------------------------------------------------------------------


class OrderValidationBuilder:
    """Order-validation policy builder.

    Pass to ``SyncedEngineBuilder.builtin()`` or
    ``ReadyEngineBuilder.builtin()`` to register on an engine.
    """

    def __init__(self) -> None:
        self._policy_group_id = DEFAULT_POLICY_GROUP_ID

    def with_policy_group_id(self, policy_group_id: int) -> OrderValidationBuilder:
        """Assign the policy group tag."""
        self._policy_group_id = policy_group_id
        return self

    def _build(self, builder: typing.Any) -> None:
        """Contract hook invoked by ``builtin()`` to register this policy."""
        builder._add_builtin_order_validation(policy_group_id=self._policy_group_id)


def build_order_validation() -> OrderValidationBuilder:
    """Return an order-validation policy builder."""
    return OrderValidationBuilder()


# ---------------------------------------------------------------------------
# Restricted-instrument list (ours: openpit 0.10 has no such builtin)
# ---------------------------------------------------------------------------


class RestrictedInstrumentsReadyBuilder:
    """Fully-configured restricted-instrument list builder.

    Obtain via :func:`build_restricted_instruments` followed by
    :meth:`restrict`. Every method returns ``self`` for chaining. Pass to
    ``SyncedEngineBuilder.builtin()`` or ``ReadyEngineBuilder.builtin()``.
    """

    def __init__(self) -> None:
        self._instruments: list[typing.Any] = []
        self._policy_group_id = DEFAULT_POLICY_GROUP_ID

    def with_policy_group_id(self, policy_group_id: int) -> RestrictedInstrumentsReadyBuilder:
        """Assign the policy group tag."""
        self._policy_group_id = policy_group_id
        return self

    def restrict(self, *instruments: Instrument) -> RestrictedInstrumentsReadyBuilder:
        """Append instruments to the list (duplicates are fine)."""
        self._instruments.extend(instruments)
        return self

    def _build(self, builder: typing.Any) -> None:
        """Contract hook invoked by ``builtin()`` to register this policy."""
        builder._add_builtin_restricted_instruments(
            policy_group_id=self._policy_group_id,
            instruments=list(self._instruments),
        )


class RestrictedInstrumentsBuilder:
    """Entry point for the restricted-instrument list builder.

    Call :func:`build_restricted_instruments` to obtain an instance, then
    :meth:`restrict` to obtain a :class:`RestrictedInstrumentsReadyBuilder`.
    """

    #: Registration name of the restricted-instrument list. Pass to
    #: ``engine.configure().restricted_instruments`` to change the list at runtime.
    NAME: str = "RestrictedInstrumentsPolicy"

    def __init__(self) -> None:
        self._ready = RestrictedInstrumentsReadyBuilder()

    def with_policy_group_id(self, policy_group_id: int) -> RestrictedInstrumentsBuilder:
        """Assign the policy group tag."""
        self._ready.with_policy_group_id(policy_group_id)
        return self

    def restrict(self, *instruments: Instrument) -> RestrictedInstrumentsReadyBuilder:
        """Add instruments to the list and return a ready builder."""
        return self._ready.restrict(*instruments)


def build_restricted_instruments() -> RestrictedInstrumentsBuilder:
    """Return a new restricted-instrument list builder.

    The policy (``RestrictedInstrumentsPolicy``, start stage) rejects every
    order whose instrument is on its list: code ``InstrumentRestricted``,
    order scope (the account is not blocked), reason "instrument restricted",
    details "instrument AAPL/USD is restricted". An order without an
    operation has no instrument and passes (order validation reports it).
    An instrument is its (underlying, settlement) asset pair, so the list
    applies whether or not (and however often) the instrument is registered.

    ``restrict(*instruments)`` takes ``openpit_shm.Instrument`` objects and
    returns the ready builder; ``restrict()`` with none registers an empty
    list. Anything else in the list raises ``TypeError`` when the ready
    builder is passed to ``builtin()`` (``'str' object is not an instance of
    'Instrument'``), like openpit's builders' argument errors.

    At runtime, ``engine.configure().restricted_instruments(NAME,
    restrict=[...], allow=[...])`` adds ``restrict`` to the list and removes
    ``allow`` (sequences of ``Instrument``; ``None`` changes nothing). One
    instrument in both raises ``PolicyConfigureError`` (VALIDATION) and
    changes nothing; a wrong type raises ``TypeError``. Sharded engines apply
    it on every shard, and a restarted worker keeps the list.
    """
    return RestrictedInstrumentsBuilder()


# ---------------------------------------------------------------------------

__all__ = [
    "OrderSizeAccountAssetBarrier",
    "OrderSizeAssetBarrier",
    "OrderSizeBrokerBarrier",
    "OrderSizeLimit",
    "OrderSizeLimitBuilder",
    "OrderSizeLimitReadyBuilder",
    "OrderValidationBuilder",
    "PnlBoundsAccountAssetBarrier",
    "PnlBoundsAccountAssetBarrierUpdate",
    "PnlBoundsBrokerBarrier",
    "PnlBoundsKillswitchBuilder",
    "PnlBoundsKillswitchReadyBuilder",
    "RateLimit",
    "RateLimitAccountAssetBarrier",
    "RateLimitAccountBarrier",
    "RateLimitAssetBarrier",
    "RateLimitBrokerBarrier",
    "RateLimitBuilder",
    "RateLimitReadyBuilder",
    "RestrictedInstrumentsBuilder",
    "RestrictedInstrumentsReadyBuilder",
    "SpotFundsBuilder",
    "SpotFundsLimitMode",
    "SpotFundsLimitModeAccountEntry",
    "SpotFundsLimitModeAccountGroupEntry",
    "SpotFundsOverride",
    "SpotFundsOverrideEntry",
    "SpotFundsOverrideTarget",
    "SpotFundsOverrideTargetInstrument",
    "SpotFundsOverrideTargetInstrumentAccount",
    "SpotFundsOverrideTargetInstrumentAccountGroup",
    "SpotFundsPositionLimitEntry",
    "SpotFundsPricingSource",
    "SpotFundsReadyBuilder",
    "build_order_size_limit",
    "build_order_validation",
    "build_pnl_bounds_killswitch",
    "build_rate_limit",
    "build_restricted_instruments",
    "build_spot_funds",
]
