"""Account-adjustment models: openpit.account_adjustment's keyword-only, type-checked value types.

An adjustment is a non-trading change to an account (a deposit, a balance
correction, a force-set of the cost basis or of the realized P&L). It carries up
to three groups, all optional::

    Adjustment(operation=BalanceOperation | PositionOperation | AccountPnlOperation,
               amount=Amount(balance, held, incoming),      # each an AdjustmentAmount
               bounds=Bounds(balance_upper, ..., incoming_lower))  # PositionSize each

``openpit_shm`` and ``openpit_shm.core`` expose the same classes under the
``AccountAdjustment*`` names. ``Engine.apply_account_adjustment`` is not here:
these are the models it takes.

Behaviour follows openpit 0.10 (texts of every argument error, reprs, the
read-only properties, identity equality, extra attributes allowed). Two
openpit quirks are kept on purpose: ``BalanceOperation(asset=None)`` and
``PositionOperation(..., collateral_asset=None, average_entry_price=None,
mode=None)`` are accepted (the native fields are optional), and
``PositionOperation.underlying_asset``/``settlement_asset`` stay assignable.
One deliberate difference: the objects pickle (openpit's do not), so the
sharded engine can ship them to the worker owning the account.
"""

from __future__ import annotations

from typing import Any

from .instrument import Instrument, _check_instrument, _py_opt
from .param import AdjustmentAmount, Asset, Leverage, Pnl, PositionMode, PositionSize, Price
from .param._compat import pyo3_kwonly, reduce_slots, rust_debug_str
from .param.asset import asset_text
from .param.halt import PnlHaltReason
from .param.leverage import value_text
from .param.values import coerce

__all__ = [
    "AccountPnlOperation",
    "Adjustment",
    "Amount",
    "BalanceOperation",
    "Bounds",
    "PositionOperation",
]

_onew = object.__new__


# ----------------------------------------------------------------------------- argument parsing


def _adjustment_amount(value: Any) -> AdjustmentAmount | None:
    """An ``AdjustmentAmount`` (or None) as a plain ``AdjustmentAmount``; subclasses are copied."""
    if value is None or value.__class__ is AdjustmentAmount:
        return value
    if not isinstance(value, AdjustmentAmount):
        raise TypeError("value must be openpit.param.AdjustmentAmount")
    if value._delta is not None:
        return AdjustmentAmount.delta(value._delta)
    return AdjustmentAmount.absolute(value._absolute)


def _optional(cls: type, value: Any) -> Any:
    return None if value is None else coerce(cls, value)


def _optional_asset(value: Any) -> str | None:
    return None if value is None else asset_text(value)


def _pnl_state(value: Any) -> Pnl | PnlHaltReason:
    """A realized/account P&L replacement: a ``Pnl`` (or anything Pnl takes) or a halt reason."""
    if isinstance(value, PnlHaltReason):
        return value
    return coerce(Pnl, value)


# Rust's str::trim() (Unicode White_Space), which unlike str.strip() keeps U+001C..U+001F.
_RUST_SPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f"
)
_MODES = {"netting": PositionMode.NETTING, "hedged": PositionMode.HEDGED}


def _position_mode(value: Any) -> PositionMode | None:
    """openpit's mode parsing: any ``str`` (members included), trimmed, ASCII-case-insensitive."""
    if value is None or value.__class__ is PositionMode:
        return value
    if not isinstance(value, str):
        raise TypeError("mode must be a str or openpit.param.PositionMode")
    key = str.__str__(value).strip(_RUST_SPACE)
    key = "".join(c.lower() if c.isascii() else c for c in key)
    mode = _MODES.get(key)
    if mode is None:
        # The native parser raises ValueError; the binding re-raises it as a TypeError.
        raise TypeError(
            f"ValueError: invalid position mode {rust_debug_str(key)}; "
            "expected 'netting' or 'hedged'"
        )
    return mode


def _some(text: str | None) -> str:
    """Rust's ``{:?}`` of an ``Option<String>``."""
    return "None" if text is None else f"Some({rust_debug_str(text)})"


def _some_str(value: object) -> str:
    """``Some("<str(value)>")`` or ``None``: how the reprs show decimals."""
    return "None" if value is None else _some(str(value))


def _pnl_state_text(value: Pnl | PnlHaltReason) -> str:
    if isinstance(value, PnlHaltReason):
        return repr(value)
    return f"Pnl(Decimal('{value}'))"


# ----------------------------------------------------------------------------- groups


class Amount:
    """Grouped balance/held/incoming adjustment payload (each an ``AdjustmentAmount`` or None)."""

    __slots__ = ("__dict__", "__weakref__", "_balance", "_held", "_incoming")

    _balance: AdjustmentAmount | None
    _held: AdjustmentAmount | None
    _incoming: AdjustmentAmount | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Amount:
        return _onew(cls)

    def __init__(
        self,
        *,
        balance: AdjustmentAmount | None = None,
        held: AdjustmentAmount | None = None,
        incoming: AdjustmentAmount | None = None,
    ) -> None:
        self._balance = _adjustment_amount(balance)
        self._held = _adjustment_amount(held)
        self._incoming = _adjustment_amount(incoming)

    @property
    def balance(self) -> AdjustmentAmount | None:
        """Actual resulting balance/position value."""
        return self._balance

    @property
    def held(self) -> AdjustmentAmount | None:
        """Amount earmarked for outgoing settlement.

        Unavailable for immediate use.
        """
        return self._held

    @property
    def incoming(self) -> AdjustmentAmount | None:
        """Amount in-flight for incoming acquisition and not yet finalized."""
        return self._incoming

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_balance", "_held", "_incoming"))

    def __repr__(self) -> str:
        parts = (_some(None if v is None else repr(v)) for v in self._fields())
        return "AccountAdjustmentAmount(balance={}, held={}, incoming={})".format(*parts)

    def _fields(self) -> tuple[AdjustmentAmount | None, ...]:
        return (self._balance, self._held, self._incoming)


class BalanceOperation:
    """Direct physical balance adjustment of one asset.

    ``average_entry_price`` and ``realized_pnl`` optionally force-set the
    asset's cost basis and realized P&L (account currency, no FX applied);
    ``realized_pnl`` may also be a ``PnlHaltReason`` to halt it explicitly.
    """

    __slots__ = ("__dict__", "__weakref__", "_asset", "_average_entry_price", "_realized_pnl")

    _asset: str | None
    _average_entry_price: Price | None
    _realized_pnl: Pnl | PnlHaltReason | None

    def __new__(cls, *args: Any, **kwargs: Any) -> BalanceOperation:
        return _onew(cls)

    def __init__(
        self,
        *,
        asset: Asset,
        average_entry_price: Price | None = None,
        realized_pnl: Pnl | PnlHaltReason | None = None,
    ) -> None:
        self._asset = _optional_asset(asset)
        self._average_entry_price = _optional(Price, average_entry_price)
        self._realized_pnl = None if realized_pnl is None else _pnl_state(realized_pnl)

    @property
    def asset(self) -> Asset:
        """Adjusted balance asset."""
        return self._asset  # type: ignore[return-value]

    @property
    def average_entry_price(self) -> Price | None:
        """Optional account-currency cost basis force-set.

        The value is caller supplied; no FX is applied.
        """
        return self._average_entry_price

    @property
    def realized_pnl(self) -> Pnl | PnlHaltReason | None:
        """Optional account-currency realized PnL replacement or explicit halt."""
        return self._realized_pnl

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_asset", "_average_entry_price", "_realized_pnl"))

    def __repr__(self) -> str:
        pnl = self._realized_pnl
        return (
            f"AccountAdjustmentBalanceOperation(asset={_some(self._asset)}, "
            f"average_entry_price={_some_str(self._average_entry_price)}, "
            f"realized_pnl={_some(None if pnl is None else _pnl_state_text(pnl))})"
        )


class PositionOperation:
    """Direct derivatives-like position adjustment (no builtin policy consumes it in 0.10)."""

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_average_entry_price",
        "_collateral_asset",
        "_instrument",
        "_leverage",
        "_mode",
        "_settlement_asset",
        "_underlying_asset",
    )

    _instrument: Instrument
    _underlying_asset: str | None
    _settlement_asset: str | None
    _collateral_asset: str | None
    _average_entry_price: Price | None
    _mode: PositionMode | None
    _leverage: Leverage | None

    def __new__(cls, *args: Any, **kwargs: Any) -> PositionOperation:
        return _onew(cls)

    def __init__(
        self,
        *,
        instrument: Instrument,
        collateral_asset: Asset,
        average_entry_price: Price,
        mode: PositionMode,
        leverage: Leverage | int | float | None = None,
    ) -> None:
        if instrument.__class__ is not Instrument:
            _check_instrument(instrument)
        self._underlying_asset, self._settlement_asset = instrument._key
        self._collateral_asset = _optional_asset(collateral_asset)
        self._average_entry_price = _optional(Price, average_entry_price)
        self._mode = _position_mode(mode)
        if leverage is not None and leverage.__class__ is not Leverage:
            leverage = Leverage(leverage)
        self._leverage = leverage
        self._instrument = instrument

    @property
    def instrument(self) -> Instrument:
        """Adjusted position instrument."""
        return self._instrument

    @property
    def underlying_asset(self) -> Asset | None:
        """The underlying asset (assignable, as in openpit; ``instrument`` is unchanged)."""
        return self._underlying_asset  # type: ignore[return-value]

    @underlying_asset.setter
    def underlying_asset(self, value: Asset | None) -> None:
        self._underlying_asset = _optional_asset(value)

    @property
    def settlement_asset(self) -> Asset | None:
        """The settlement asset (assignable, as in openpit; ``instrument`` is unchanged)."""
        return self._settlement_asset  # type: ignore[return-value]

    @settlement_asset.setter
    def settlement_asset(self, value: Asset | None) -> None:
        self._settlement_asset = _optional_asset(value)

    @property
    def collateral_asset(self) -> Asset:
        """Collateral asset used by the adjusted position."""
        return self._collateral_asset  # type: ignore[return-value]

    @property
    def average_entry_price(self) -> Price:
        """Account-currency average entry price for the adjusted position state.

        The value is caller supplied; no FX is applied.
        """
        return self._average_entry_price  # type: ignore[return-value]

    @property
    def mode(self) -> PositionMode:
        """Netting vs hedged position representation."""
        return self._mode  # type: ignore[return-value]

    @property
    def leverage(self) -> Leverage | None:
        """Optional leverage snapshot/setting carried with the position adjustment."""
        return self._leverage

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, PositionOperation.__slots__[2:])

    def __repr__(self) -> str:
        lev = self._leverage
        return (
            f"AccountAdjustmentPositionOperation(underlying_asset={_some(self._underlying_asset)}, "
            f"settlement_asset={_some(self._settlement_asset)}, "
            f"collateral_asset={_some(self._collateral_asset)}, "
            f"average_entry_price={_some_str(self._average_entry_price)}, "
            f"mode={_py_opt(self._mode)}, "
            f"leverage={'None' if lev is None else f'Some({value_text(lev._raw)})'})"
        )


class AccountPnlOperation:
    """Direct account-wide P&L state adjustment: a replacement ``Pnl`` or a ``PnlHaltReason``."""

    __slots__ = ("__dict__", "__weakref__", "_state")

    _state: Pnl | PnlHaltReason

    def __new__(cls, *args: Any, **kwargs: Any) -> AccountPnlOperation:
        # openpit hands the arguments to its native constructor, whose texts these are.
        if args or len(kwargs) != 1 or "state" not in kwargs:
            pyo3_kwonly("AccountAdjustmentAccountPnlOperation.__new__", args, kwargs, ("state",))
        self = _onew(cls)
        self._state = _pnl_state(kwargs["state"])
        return self

    def __init__(self, *, state: Pnl | PnlHaltReason) -> None:
        self._state = _pnl_state(state)

    @property
    def state(self) -> Pnl | PnlHaltReason:
        """Replacement account PnL value or explicit halt reason."""
        return self._state

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_state",))

    def __repr__(self) -> str:
        return f"AccountAdjustmentAccountPnlOperation(state={_pnl_state_text(self._state)})"


_BOUND_NAMES = (
    "balance_upper",
    "balance_lower",
    "held_upper",
    "held_lower",
    "incoming_upper",
    "incoming_lower",
)


class Bounds:
    """Optional post-adjustment inclusive limits on balance, held and incoming (PositionSize)."""

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_balance_lower",
        "_balance_upper",
        "_held_lower",
        "_held_upper",
        "_incoming_lower",
        "_incoming_upper",
    )

    _balance_upper: PositionSize | None
    _balance_lower: PositionSize | None
    _held_upper: PositionSize | None
    _held_lower: PositionSize | None
    _incoming_upper: PositionSize | None
    _incoming_lower: PositionSize | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Bounds:
        return _onew(cls)

    def __init__(
        self,
        *,
        balance_upper: PositionSize | None = None,
        balance_lower: PositionSize | None = None,
        held_upper: PositionSize | None = None,
        held_lower: PositionSize | None = None,
        incoming_upper: PositionSize | None = None,
        incoming_lower: PositionSize | None = None,
    ) -> None:
        self._balance_upper = _optional(PositionSize, balance_upper)
        self._balance_lower = _optional(PositionSize, balance_lower)
        self._held_upper = _optional(PositionSize, held_upper)
        self._held_lower = _optional(PositionSize, held_lower)
        self._incoming_upper = _optional(PositionSize, incoming_upper)
        self._incoming_lower = _optional(PositionSize, incoming_lower)

    @property
    def balance_upper(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive upper bound for balance."""
        return self._balance_upper

    @property
    def balance_lower(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive lower bound for balance."""
        return self._balance_lower

    @property
    def held_upper(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive upper bound for held."""
        return self._held_upper

    @property
    def held_lower(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive lower bound for held."""
        return self._held_lower

    @property
    def incoming_upper(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive upper bound for incoming."""
        return self._incoming_upper

    @property
    def incoming_lower(self) -> PositionSize | None:
        """Allowed post-adjustment inclusive lower bound for incoming."""
        return self._incoming_lower

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, tuple("_" + n for n in _BOUND_NAMES))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={_some_str(getattr(self, '_' + n))}" for n in _BOUND_NAMES)
        return f"AccountAdjustmentBounds({fields})"


_OPERATIONS = (BalanceOperation, PositionOperation, AccountPnlOperation)


class Adjustment:
    """Extensible non-trading account-adjustment model.

    Snapshot semantics: on ``Engine.apply_account_adjustment(...)`` each item
    is snapshotted at submission for policy evaluation; mutating the objects
    afterwards does not affect the in-flight batch. Subclasses may add
    attributes (custom policies receive the very object).
    """

    __slots__ = ("__dict__", "__weakref__", "_amount", "_bounds", "_operation")

    _operation: BalanceOperation | PositionOperation | AccountPnlOperation | None
    _amount: Amount | None
    _bounds: Bounds | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Adjustment:
        return _onew(cls)

    def __init__(
        self,
        *,
        operation: BalanceOperation | PositionOperation | AccountPnlOperation | None = None,
        amount: Amount | None = None,
        bounds: Bounds | None = None,
    ) -> None:
        if operation is not None and not isinstance(operation, _OPERATIONS):
            raise TypeError(
                "operation must be "
                "openpit.account_adjustment.BalanceOperation, "
                "openpit.account_adjustment.PositionOperation, or "
                "openpit.account_adjustment.AccountPnlOperation"
            )
        if amount is not None and not isinstance(amount, Amount):
            raise TypeError("amount must be openpit.account_adjustment.Amount")
        if bounds is not None and not isinstance(bounds, Bounds):
            raise TypeError("bounds must be openpit.account_adjustment.Bounds")
        self._operation = operation
        self._amount = amount
        self._bounds = bounds

    @property
    def operation(self) -> BalanceOperation | PositionOperation | AccountPnlOperation | None:
        """Adjustment operation details group."""
        return self._operation

    @property
    def amount(self) -> Amount | None:
        """Adjustment amount deltas group."""
        return self._amount

    @property
    def bounds(self) -> Bounds | None:
        """Optional post-adjustment bounds group."""
        return self._bounds

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_slots(self, ("_operation", "_amount", "_bounds"))

    def __repr__(self) -> str:
        parts = (
            _some(None if g is None else _base_repr(g))
            for g in (self._operation, self._amount, self._bounds)
        )
        return "AccountAdjustment(operation={}, amount={}, bounds={})".format(*parts)


def _base_repr(group: object) -> str:
    """The group's repr as openpit's native class prints it (ignores a subclass's __repr__)."""
    for cls in type(group).__mro__:
        if cls in _GROUPS:
            return cls.__repr__(group)  # type: ignore[arg-type]
    return repr(group)


_GROUPS = (*_OPERATIONS, Amount, Bounds)
