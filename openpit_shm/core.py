"""Order and execution-report models: openpit.core's classes, keyword-only and type-checked.

All groups are plain Python objects with ``__slots__`` (plus a ``__dict__`` so
users can hang extra attributes on them, as openpit allows) and read-only
properties. ``Order`` and ``ExecutionReport`` can be subclassed; the engine
passes the very object a caller built to custom policies.

Private slots the engine reads directly (all set by the constructors, never
missing):

* ``Instrument._key``: ``(underlying, settlement)``, two plain ``str``.
* ``Order._operation`` / ``._position`` / ``._margin``: the groups or ``None``.
* ``OrderOperation._instrument`` (Instrument), ``._side`` (``Side`` or None),
  ``._trade_amount`` (TradeAmount or None; its ``_quantity``/``_volume``),
  ``._account_id`` (AccountId or None), ``._price`` (Price or None).
* ``OrderPosition._position_side`` (PositionSide or None), ``._reduce_only``,
  ``._close_position`` (bool).
* ``OrderMargin._leverage`` (Leverage or None), ``._collateral_asset`` (str or
  None), ``._auto_borrow`` (bool).
* ``ExecutionReport._operation`` / ``._financial_impact`` / ``._fill`` /
  ``._position_impact``: the groups or ``None``.
* ``ExecutionReportOperation._instrument`` / ``._side`` / ``._account_id``.
* ``FinancialImpact._pnl`` (Pnl), ``._fee`` (Fee).
* ``ExecutionReportFillDetails._last_trade`` (Trade or None), ``._fee``
  (MonetaryAmount or None), ``._remaining_reserved_quantity`` (Quantity or
  None), ``._lock`` (``openpit_shm.pretrade.Lock``), ``._is_final`` (bool or None).
* ``ExecutionReportPositionImpact._position_effect`` / ``._position_side``.

Error types and texts are openpit's, including the ones that name
``openpit.*`` classes. One deliberate difference: openpit lets callers assign
``OrderOperation.underlying_asset``/``settlement_asset`` (which silently
diverges the engine's snapshot from ``.instrument``); here they are read-only
views of the instrument.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from .instrument import Instrument, InstrumentId, _check_instrument, _py_opt
from .param import (
    AccountId,
    Asset,
    Fee,
    Leverage,
    MonetaryAmount,
    Pnl,
    PositionEffect,
    PositionSide,
    Price,
    Quantity,
    Side,
    Trade,
    TradeAmount,
)
from .param._compat import (
    downcast_error,
    is_numpy_bool,
    pyo3_kwonly,
    reduce_slots,
    rust_debug_str,
)
from .param.asset import asset_text
from .param.leverage import value_text
from .param.lock import Lock
from .param.values import coerce

__all__ = [
    "Asset",
    "ExecutionReport",
    "ExecutionReportFillDetails",
    "ExecutionReportOperation",
    "ExecutionReportPositionImpact",
    "FinancialImpact",
    "Instrument",
    "InstrumentId",
    "Mutation",
    "Order",
    "OrderMargin",
    "OrderOperation",
    "OrderPosition",
]

_onew = object.__new__


# ----------------------------------------------------------------------------- helpers


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
# Exact-case spellings first, so the common "BUY"/"SELL" never calls lower().
_SIDE_TEXT = {"BUY": Side.BUY, "SELL": Side.SELL, "buy": Side.BUY, "sell": Side.SELL}
_POSITION_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT}
_EFFECTS = {"open": PositionEffect.OPEN, "close": PositionEffect.CLOSE}


def _enum_arg(
    value: Any, table: dict[str, Any], field: str, what: str, expected: str, cls: str
) -> Any:
    """A ``str``-or-enum argument as the enum member, with openpit's (doubly wrapped) errors."""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str or openpit.{cls}")
    key = value.lower()
    member = table.get(key)
    if member is None:
        raise TypeError(f'ValueError: invalid {what} "{key}"; expected {expected}')
    return member


def _side_arg(value: Any) -> Side | None:
    if value is None or value.__class__ is Side:
        return value
    if value.__class__ is str:
        member = _SIDE_TEXT.get(value)
        if member is not None:
            return member
    return _enum_arg(value, _SIDES, "side", "side", "'buy' or 'sell'", "Side")


def _position_side_arg(value: Any) -> PositionSide | None:
    if value is None or value.__class__ is PositionSide:
        return value
    return _enum_arg(
        value,
        _POSITION_SIDES,
        "position_side",
        "position side",
        "'long' or 'short'",
        "PositionSide",
    )


def _bool_arg(value: Any) -> bool:
    if value is True or value is False:
        return value
    if is_numpy_bool(value):
        return bool(value)
    raise downcast_error(value, "bool")


def _require(value: Any, cls: type, message: str) -> None:
    if value is not None and not isinstance(value, cls):
        raise TypeError(message)


def _some(text: str | None) -> str:
    """Rust's ``{:?}`` of an ``Option<String>``."""
    return "None" if text is None else f"Some({rust_debug_str(text)})"


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


@dataclasses.dataclass(frozen=True)
class Mutation:
    """Commit/rollback action pair registered by a policy.

    Apply the tentative state before registering the pair; exactly one of the
    two callables runs when the reservation (or drop copy) is finalized.
    Neither may fail: a raising callable is re-raised to the caller of
    ``commit()``/``rollback()`` after the batch, and the engine blocks every
    account (the next pre-trade call is rejected with ``SystemUnavailable``).
    """

    commit: typing.Callable[[], None]
    rollback: typing.Callable[[], None]


# ----------------------------------------------------------------------------- orders


class OrderOperation:
    """Main order parameters: instrument, side, amount, account and (optional) limit price."""

    __slots__ = ("__dict__", "_account_id", "_instrument", "_price", "_side", "_trade_amount")

    _instrument: Instrument
    _side: Side | None
    _trade_amount: TradeAmount | None
    _account_id: AccountId | None
    _price: Price | None

    def __init__(
        self,
        *,
        instrument: Instrument,
        side: Side | str,
        trade_amount: TradeAmount,
        account_id: AccountId,
        price: Price | str | int | float | None = None,
    ) -> None:
        if instrument.__class__ is not Instrument:
            _check_instrument(instrument)
        if account_id.__class__ is not AccountId and account_id is not None:
            raise TypeError("account_id must be openpit.param.AccountId")
        if side.__class__ is not Side:
            side = _side_arg(side)
        if trade_amount.__class__ is not TradeAmount and trade_amount is not None:
            _require(trade_amount, TradeAmount, "trade_amount must be openpit.param.TradeAmount")
        if price.__class__ is not Price and price is not None:
            price = Price(price)
        self._instrument = instrument
        self._side = side
        self._trade_amount = trade_amount
        self._account_id = account_id
        self._price = price

    @property
    def instrument(self) -> Instrument:
        """Traded instrument."""
        return self._instrument

    @property
    def underlying_asset(self) -> str:
        """The instrument's underlying asset (read-only here; see the module docstring)."""
        return self._instrument._key[0]

    @property
    def settlement_asset(self) -> str:
        """The instrument's settlement asset (read-only here; see the module docstring)."""
        return self._instrument._key[1]

    @property
    def account_id(self) -> AccountId | None:
        """Account identifier associated with the order."""
        return self._account_id

    @property
    def side(self) -> Side | None:
        """Order side."""
        return self._side

    @property
    def trade_amount(self) -> TradeAmount | None:
        """Requested trade amount (quantity or volume)."""
        return self._trade_amount

    @property
    def price(self) -> Price | None:
        """Worst acceptable execution price; ``None`` means a market order."""
        return self._price

    def __repr__(self) -> str:
        u, s = self._instrument._key
        ta = None if self._trade_amount is None else repr(self._trade_amount)
        price = None if self._price is None else str(self._price)
        return (
            f"OrderOperation(underlying_asset={_some(u)}, settlement_asset={_some(s)}, "
            f"side={_py_opt(self._side)}, trade_amount={_some(ta)}, price={_some(price)})"
        )


class OrderPosition:
    """Position management parameters (hedge-mode leg, reduce-only, close-position)."""

    __slots__ = ("__dict__", "_close_position", "_position_side", "_reduce_only")

    _position_side: PositionSide | None
    _reduce_only: bool
    _close_position: bool

    def __init__(
        self,
        *,
        position_side: PositionSide | str | None = None,
        reduce_only: bool = False,
        close_position: bool = False,
    ) -> None:
        self._position_side = _position_side_arg(position_side)
        self._reduce_only = _bool_arg(reduce_only)
        self._close_position = _bool_arg(close_position)

    @property
    def position_side(self) -> PositionSide | None:
        """Hedge-mode leg targeted by the order; ``None`` means one-way mode."""
        return self._position_side

    @property
    def reduce_only(self) -> bool:
        """Restricts the order to exposure-reducing execution only."""
        return self._reduce_only

    @property
    def close_position(self) -> bool:
        """Intent to close the entire open position for the targeted leg."""
        return self._close_position

    def __repr__(self) -> str:
        return (
            f"OrderPosition(position_side={_py_opt(self._position_side)}, "
            f"reduce_only={_bool_text(self._reduce_only)}, "
            f"close_position={_bool_text(self._close_position)})"
        )


class OrderMargin:
    """Margin parameters (leverage override, collateral asset, auto-borrow)."""

    __slots__ = ("__dict__", "_auto_borrow", "_collateral_asset", "_leverage")

    _leverage: Leverage | None
    _collateral_asset: str | None
    _auto_borrow: bool

    def __init__(
        self,
        *,
        leverage: Leverage | int | float | None = None,
        collateral_asset: str | None = None,
        auto_borrow: bool = False,
    ) -> None:
        if leverage is not None and leverage.__class__ is not Leverage:
            leverage = Leverage(leverage)
        self._leverage = leverage
        self._collateral_asset = None if collateral_asset is None else asset_text(collateral_asset)
        self._auto_borrow = _bool_arg(auto_borrow)

    @property
    def leverage(self) -> Leverage | None:
        """Per-order leverage; ``None`` means the account's default."""
        return self._leverage

    @property
    def collateral_asset(self) -> str | None:
        """Collateral currency for this order; ``None`` means the integration's default."""
        return self._collateral_asset

    @property
    def auto_borrow(self) -> bool:
        """Whether a temporary collateral shortage may be covered by auto-borrow."""
        return self._auto_borrow

    def __repr__(self) -> str:
        lev = "None" if self._leverage is None else f"Some({value_text(self._leverage._raw)})"
        return (
            f"OrderMargin(leverage={lev}, collateral_asset={_some(self._collateral_asset)}, "
            f"auto_borrow={_bool_text(self._auto_borrow)})"
        )


class Order:
    """Extensible order model accepted by ``Engine.start_pre_trade``.

    All groups are optional; builtin policies reject an order that lacks a
    group they need. Subclasses may add attributes: the engine hands the same
    object to custom policies.
    """

    __slots__ = ("__dict__", "__weakref__", "_margin", "_operation", "_position")

    _operation: OrderOperation | None
    _position: OrderPosition | None
    _margin: OrderMargin | None

    def __init__(
        self,
        *,
        operation: OrderOperation | None = None,
        position: OrderPosition | None = None,
        margin: OrderMargin | None = None,
    ) -> None:
        if operation.__class__ is not OrderOperation:
            _require(operation, OrderOperation, "operation must be openpit.core.OrderOperation")
        if position is not None:
            _require(position, OrderPosition, "position must be openpit.core.OrderPosition")
        if margin is not None:
            _require(margin, OrderMargin, "margin must be openpit.core.OrderMargin")
        self._operation = operation
        self._position = position
        self._margin = margin

    @property
    def operation(self) -> OrderOperation | None:
        """Main operation parameters group."""
        return self._operation

    @property
    def position(self) -> OrderPosition | None:
        """Position management parameters group."""
        return self._position

    @property
    def margin(self) -> OrderMargin | None:
        """Margin configuration parameters group."""
        return self._margin

    def __repr__(self) -> str:
        return (
            f"Order(operation={_some(_opt_repr(self._operation))}, "
            f"position={_some(_opt_repr(self._position))}, margin={_some(_opt_repr(self._margin))})"
        )


def _opt_repr(value: object) -> str | None:
    return None if value is None else repr(value)


# ----------------------------------------------------------------------------- execution reports


class ExecutionReportOperation:
    """Instrument, side and account of a reported execution."""

    __slots__ = ("__dict__", "_account_id", "_instrument", "_side")

    _instrument: Instrument
    _side: Side | None
    _account_id: AccountId | None

    def __init__(self, *, instrument: Instrument, side: Side | str, account_id: AccountId) -> None:
        if instrument.__class__ is not Instrument:
            _check_instrument(instrument)
        if account_id.__class__ is not AccountId and account_id is not None:
            raise TypeError("account_id must be openpit.param.AccountId")
        if side.__class__ is not Side:
            side = _side_arg(side)
        self._instrument = instrument
        self._side = side
        self._account_id = account_id

    @property
    def instrument(self) -> Instrument:
        """Traded instrument."""
        return self._instrument

    @property
    def underlying_asset(self) -> str:
        """The instrument's underlying asset (read-only here; see the module docstring)."""
        return self._instrument._key[0]

    @property
    def settlement_asset(self) -> str:
        """The instrument's settlement asset (read-only here; see the module docstring)."""
        return self._instrument._key[1]

    @property
    def account_id(self) -> AccountId | None:
        """Account identifier associated with the execution report."""
        return self._account_id

    @property
    def side(self) -> Side | None:
        """Economic direction of the reported execution."""
        return self._side

    def __repr__(self) -> str:
        u, s = self._instrument._key
        acct = "None" if self._account_id is None else f"Some({self._account_id.value})"
        return (
            f"ExecutionReportOperation(underlying_asset={_some(u)}, settlement_asset={_some(s)}, "
            f"account_id={acct}, side={_py_opt(self._side)})"
        )


class FinancialImpact:
    """Realized P&L and fee of a report (positive fee = cost)."""

    __slots__ = ("__dict__", "_fee", "_pnl")

    _pnl: Pnl
    _fee: Fee

    def __new__(cls, *args: Any, **kwargs: Any) -> FinancialImpact:
        if args or len(kwargs) != 2 or "pnl" not in kwargs or "fee" not in kwargs:
            pyo3_kwonly("FinancialImpact.__new__", args, kwargs, ("pnl", "fee"))
        self = _onew(cls)
        self._pnl = coerce(Pnl, kwargs["pnl"])
        self._fee = coerce(Fee, kwargs["fee"])
        return self

    def __init__(self, *, pnl: Pnl, fee: Fee) -> None:
        # Everything happened in __new__ (as in openpit, where it is native).
        pass

    @property
    def pnl(self) -> Pnl:
        """Realized trading result contributed by this report."""
        return self._pnl

    @property
    def fee(self) -> Fee:
        """Fee or rebate associated with this report."""
        return self._fee

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_pnl", "_fee"))

    def __repr__(self) -> str:
        return f'FinancialImpact(pnl="{self._pnl}", fee="{self._fee}")'


_FILL_FIELDS = ("last_trade", "fee", "remaining_reserved_quantity", "lock", "is_final")


class ExecutionReportFillDetails:
    """Fill details: last trade, fee, the caller-computed reservation remainder, lock, finality."""

    __slots__ = (
        "__dict__",
        "_fee",
        "_is_final",
        "_last_trade",
        "_lock",
        "_remaining_reserved_quantity",
    )

    _last_trade: Trade | None
    _fee: MonetaryAmount | None
    _remaining_reserved_quantity: Quantity | None
    _lock: Lock
    _is_final: bool | None

    def __new__(cls, *args: Any, **kwargs: Any) -> ExecutionReportFillDetails:
        fee = kwargs.get("fee")
        if fee is not None and not isinstance(fee, MonetaryAmount):
            raise TypeError("fee must be openpit.param.MonetaryAmount")
        if args or "lock" not in kwargs or any(k not in _FILL_FIELDS for k in kwargs):
            pyo3_kwonly("ExecutionReportFillDetails.__new__", args, kwargs, ("lock",), _FILL_FIELDS)
        last_trade = kwargs.get("last_trade")
        if last_trade is not None and not isinstance(last_trade, Trade):
            raise downcast_error(last_trade, "Trade")
        rrq = kwargs.get("remaining_reserved_quantity")
        if rrq is not None:
            rrq = coerce(Quantity, rrq)
        is_final = kwargs.get("is_final")
        if is_final is not None:
            is_final = _bool_arg(is_final)
        lock = kwargs["lock"]
        if not isinstance(lock, Lock):
            raise downcast_error(lock, "Lock")
        self = _onew(cls)
        self._last_trade = last_trade
        self._fee = fee
        self._remaining_reserved_quantity = rrq
        self._lock = lock
        self._is_final = is_final
        return self

    def __init__(
        self,
        *,
        last_trade: Trade | None = None,
        fee: MonetaryAmount | None = None,
        remaining_reserved_quantity: Quantity | None = None,
        lock: Lock,
        is_final: bool | None = None,
    ) -> None:
        pass

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(
            self, ("_last_trade", "_fee", "_remaining_reserved_quantity", "_lock", "_is_final")
        )

    @property
    def last_trade(self) -> Trade | None:
        """Actual execution trade."""
        return self._last_trade

    @property
    def fee(self) -> MonetaryAmount | None:
        """Fee amount and currency reported for this fill."""
        return self._fee

    @property
    def remaining_reserved_quantity(self) -> Quantity | None:
        """Caller-computed open part of the pre-trade reservation, in underlying units.

        ``max(0, reserved - sum of fills so far including this one)``; for a
        volume-sized order the reserved quantity is ``volume / |lock price|``.
        The engine releases this remainder (at the lock price) on the final report.
        """
        return self._remaining_reserved_quantity

    @property
    def lock(self) -> Lock:
        """Order lock payload."""
        return self._lock

    @property
    def is_final(self) -> bool | None:
        """Whether this report closes the order's report stream."""
        return self._is_final

    def __repr__(self) -> str:
        lt = self._last_trade
        trade = None if lt is None else f'Trade(price="{lt.price}", quantity="{lt.quantity}")'
        fee = self._fee
        fee_text = (
            "None"
            if fee is None
            else f"Some(MonetaryAmount {{ amount: Fee({fee.amount}), "
            f"currency: Asset({rust_debug_str(str(fee.currency))}) }})"
        )
        rrq = self._remaining_reserved_quantity
        final = "None" if self._is_final is None else f"Some({_bool_text(self._is_final)})"
        return (
            f"ExecutionReportFillDetails(last_trade={_some(trade)}, fee={fee_text}, "
            f"remaining_reserved_quantity={_some(None if rrq is None else str(rrq))}, "
            f"lock={rust_debug_str(repr(self._lock))}, is_final={final})"
        )


class ExecutionReportPositionImpact:
    """Whether an execution opened or closed exposure, and on which leg (informational)."""

    __slots__ = ("__dict__", "_position_effect", "_position_side")

    _position_effect: PositionEffect | None
    _position_side: PositionSide | None

    def __init__(
        self,
        *,
        position_effect: PositionEffect | str | None = None,
        position_side: PositionSide | str | None = None,
    ) -> None:
        if position_effect is not None and position_effect.__class__ is not PositionEffect:
            position_effect = _enum_arg(
                position_effect,
                _EFFECTS,
                "position_effect",
                "position effect",
                "'open' or 'close'",
                "PositionEffect",
            )
        self._position_effect = position_effect
        self._position_side = _position_side_arg(position_side)

    @property
    def position_effect(self) -> PositionEffect | None:
        """Whether this execution opened or closed exposure."""
        return self._position_effect

    @property
    def position_side(self) -> PositionSide | None:
        """Hedge-mode leg affected by this execution."""
        return self._position_side

    def __repr__(self) -> str:
        return (
            f"ExecutionReportPositionImpact(position_effect={_py_opt(self._position_effect)}, "
            f"position_side={_py_opt(self._position_side)})"
        )


class ExecutionReport:
    """Extensible execution-report model consumed by post-trade policies.

    All groups are optional. Subclasses may add attributes: the engine hands
    the same object to custom policies.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_fill",
        "_financial_impact",
        "_operation",
        "_position_impact",
    )

    _operation: ExecutionReportOperation | None
    _financial_impact: FinancialImpact | None
    _fill: ExecutionReportFillDetails | None
    _position_impact: ExecutionReportPositionImpact | None

    def __init__(
        self,
        *,
        operation: ExecutionReportOperation | None = None,
        financial_impact: FinancialImpact | None = None,
        fill: ExecutionReportFillDetails | None = None,
        position_impact: ExecutionReportPositionImpact | None = None,
    ) -> None:
        _require(
            operation,
            ExecutionReportOperation,
            "operation must be openpit.core.ExecutionReportOperation",
        )
        _require(
            financial_impact,
            FinancialImpact,
            "financial_impact must be openpit.core.FinancialImpact",
        )
        _require(
            fill, ExecutionReportFillDetails, "fill must be openpit.core.ExecutionReportFillDetails"
        )
        _require(
            position_impact,
            ExecutionReportPositionImpact,
            "position_impact must be openpit.core.ExecutionReportPositionImpact",
        )
        self._operation = operation
        self._financial_impact = financial_impact
        self._fill = fill
        self._position_impact = position_impact

    @property
    def operation(self) -> ExecutionReportOperation | None:
        """Main operation parameters group."""
        return self._operation

    @property
    def financial_impact(self) -> FinancialImpact | None:
        """Financial impact parameters group."""
        return self._financial_impact

    @property
    def fill(self) -> ExecutionReportFillDetails | None:
        """Fill details group."""
        return self._fill

    @property
    def position_impact(self) -> ExecutionReportPositionImpact | None:
        """Position impact data group."""
        return self._position_impact

    def __repr__(self) -> str:
        return (
            f"ExecutionReport(operation={_some(_opt_repr(self._operation))}, "
            f"financial_impact={_some(_opt_repr(self._financial_impact))}, "
            f"fill={_some(_opt_repr(self._fill))}, "
            f"position_impact={_some(_opt_repr(self._position_impact))})"
        )


# ----------------------------------------------------------------------------- re-exports
# ReferenceBook, the adjustment context and the AccountAdjustment* models live in
# their own modules (which import only what sits below this one); openpit.core
# names them too.

from .account_adjustment import AccountPnlOperation as AccountAdjustmentAccountPnlOperation  # noqa: E402
from .account_adjustment import Adjustment as AccountAdjustment  # noqa: E402
from .account_adjustment import Amount as AccountAdjustmentAmount  # noqa: E402
from .account_adjustment import BalanceOperation as AccountAdjustmentBalanceOperation  # noqa: E402
from .account_adjustment import Bounds as AccountAdjustmentBounds  # noqa: E402
from .account_adjustment import PositionOperation as AccountAdjustmentPositionOperation  # noqa: E402
from .adjustment_context import AccountAdjustmentContext  # noqa: E402
from .reference_book import (  # noqa: E402
    ReferenceBook,
    ReferenceBookRegistrationError,
    SettlementLag,
    SettlementScheme,
    SettlementUnit,
    UnknownReferenceBookInstrumentId,
)

__all__ += [
    "AccountAdjustment",
    "AccountAdjustmentAccountPnlOperation",
    "AccountAdjustmentAmount",
    "AccountAdjustmentBalanceOperation",
    "AccountAdjustmentBounds",
    "AccountAdjustmentContext",
    "AccountAdjustmentPositionOperation",
    "ReferenceBook",
    "ReferenceBookRegistrationError",
    "SettlementLag",
    "SettlementScheme",
    "SettlementUnit",
    "UnknownReferenceBookInstrumentId",
]
