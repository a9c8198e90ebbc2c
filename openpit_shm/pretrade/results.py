"""Result objects of the pre-trade and post-trade calls, and the outcome value types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..param import Pnl, PositionSize
from ..param.halt import PnlHaltReason
from .rejects import AccountBlock, Reject

if TYPE_CHECKING:
    from ..param import AccountId, Price
    from ..param.lock import Lock
    from .request import Request, Reservation

__all__ = [
    "AccountAdjustmentOutcome",
    "AccountOutcomeEntry",
    "AccountPnlOutcome",
    "DryRunReport",
    "ExecuteResult",
    "OutcomeAmount",
    "PnlHaltReason",
    "PnlOutcome",
    "PnlOutcomeAmount",
    "PostTradeResult",
    "StartResult",
]

_new = object.__new__


def _no_public_constructor(cls: type) -> None:
    raise TypeError(f"cannot create 'openpit.pretrade.{cls.__name__}' instances")


class StartResult:
    """Result of ``start_pre_trade``: a single-use ``request`` on success, else ``rejects``."""

    __slots__ = ("_ok", "_rejects", "_request")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def request(self) -> Request | None:
        return self._request

    @property
    def rejects(self) -> list[Reject]:
        return self._rejects

    def __bool__(self) -> bool:
        return self._ok

    def __repr__(self) -> str:
        if self._ok:
            return "StartResult(ok=True)"
        return f"StartResult(ok=False, rejects={len(self._rejects)})"


def start_result(request: Request | None, rejects: list[Reject]) -> StartResult:
    r = _new(StartResult)
    r._ok = request is not None
    r._request = request
    r._rejects = rejects
    return r


class ExecuteResult:
    """Result of ``request.execute()`` / ``execute_pre_trade``: a ``reservation`` or ``rejects``."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(ExecuteResult)

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def reservation(self) -> Reservation | None:
        return self._reservation

    @property
    def rejects(self) -> list[Reject]:
        return self._rejects

    def __bool__(self) -> bool:
        return self._ok

    def __repr__(self) -> str:
        if self._ok:
            return "ExecuteResult(ok=True)"
        return f"ExecuteResult(ok=False, rejects={len(self._rejects)})"


class _ExecuteResult(ExecuteResult):
    __slots__ = ("_ok", "_rejects", "_reservation")


def execute_result(reservation: Reservation | None, rejects: list[Reject]) -> ExecuteResult:
    r = _new(_ExecuteResult)
    r._ok = reservation is not None
    r._reservation = reservation
    r._rejects = rejects
    return r


class DryRunReport:
    """What a real pre-trade call would produce, computed with no state change."""

    __slots__ = ("_account_adjustments", "_account_block", "_lock", "_rejects")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    @property
    def is_pass(self) -> bool:
        return self._rejects is None

    @property
    def rejects(self) -> list[Reject] | None:
        return self._rejects

    @property
    def lock(self) -> Lock:
        return self._lock

    @property
    def account_adjustments(self) -> list[Any]:
        return list(self._account_adjustments)

    @property
    def account_block(self) -> AccountBlock | None:
        return self._account_block

    def __bool__(self) -> bool:
        return self._rejects is None

    def __repr__(self) -> str:
        if self._rejects is None:
            return "DryRunReport(pass)"
        return f"DryRunReport(reject, rejects={len(self._rejects)})"


def dry_run_report(
    rejects: list[Reject] | None,
    lock: Lock,
    account_adjustments: list[Any],
    account_block: AccountBlock | None,
) -> DryRunReport:
    r = _new(DryRunReport)
    r._rejects = rejects or None
    r._lock = lock
    r._account_adjustments = account_adjustments
    r._account_block = account_block
    return r


def _typed_list(items: Iterable[Any] | None, attr: str) -> list[Any]:
    if items is None:
        return []
    out = list(items)
    for item in out:
        getattr(item, attr)  # openpit reads the items: a wrong type fails with AttributeError
    return out


class PostTradeResult:
    """Result of ``apply_execution_report`` (also what custom post-trade hooks may return).

    Post-trade processing is not atomic: outcomes reflect state already applied.
    """

    __slots__ = ("_account_adjustments", "_account_blocks", "_account_pnls")

    def __init__(
        self,
        *,
        account_blocks: Iterable[AccountBlock] | None = None,
        account_pnls: Iterable[AccountPnlOutcome] | None = None,
        account_adjustments: Iterable[AccountAdjustmentOutcome] | None = None,
    ) -> None:
        self._account_blocks = _typed_list(account_blocks, "code")
        self._account_pnls = _typed_list(account_pnls, "account_id")
        self._account_adjustments = _typed_list(account_adjustments, "entry")

    @property
    def account_blocks(self) -> list[AccountBlock]:
        return list(self._account_blocks)

    @property
    def account_pnls(self) -> list[AccountPnlOutcome]:
        return list(self._account_pnls)

    @property
    def account_adjustments(self) -> list[AccountAdjustmentOutcome]:
        return list(self._account_adjustments)

    def __repr__(self) -> str:
        return (
            f"PostTradeResult(account_blocks={len(self._account_blocks)}, "
            f"account_pnls={len(self._account_pnls)}, "
            f"account_adjustments={len(self._account_adjustments)})"
        )


def post_trade_result(blocks: list[AccountBlock], pnls: list[Any], adjustments: list[Any]):
    r = _new(PostTradeResult)
    r._account_blocks = blocks
    r._account_pnls = pnls
    r._account_adjustments = adjustments
    return r


# ---- outcome value types (constructible by custom policies) ---------------------------------


class OutcomeAmount:
    """Delta and absolute value of one account position field."""

    __slots__ = ("_absolute", "_delta")

    def __init__(self, *, delta: PositionSize, absolute: PositionSize) -> None:
        for v in (delta, absolute):
            if not isinstance(v, PositionSize):
                raise TypeError("argument must be openpit.param.PositionSize")
        self._delta = delta
        self._absolute = absolute

    @property
    def delta(self) -> PositionSize:
        return self._delta

    @property
    def absolute(self) -> PositionSize:
        return self._absolute

    def __repr__(self) -> str:
        return f"OutcomeAmount(delta={self._delta}, absolute={self._absolute})"


class PnlOutcomeAmount:
    """Account-currency delta and absolute realized P&L."""

    __slots__ = ("_absolute", "_delta")

    def __init__(self, *, delta: Pnl, absolute: Pnl) -> None:
        for v in (delta, absolute):
            if not isinstance(v, Pnl):
                raise TypeError("argument must be openpit.param.Pnl")
        self._delta = delta
        self._absolute = absolute

    @property
    def delta(self) -> Pnl:
        return self._delta

    @property
    def absolute(self) -> Pnl:
        return self._absolute

    def __repr__(self) -> str:
        return f"PnlOutcomeAmount(delta={self._delta}, absolute={self._absolute})"


def _exactly_one(pnl: object, halt_reason: object) -> None:
    if (pnl is None) == (halt_reason is None):
        raise ValueError("PnL outcome requires exactly one of pnl or halt_reason")
    if pnl is not None and not isinstance(pnl, PnlOutcomeAmount):
        raise TypeError("pnl must be openpit.pretrade.PnlOutcomeAmount")
    if halt_reason is not None and not isinstance(halt_reason, PnlHaltReason):
        raise TypeError("halt_reason must be openpit.pretrade.PnlHaltReason")


class PnlOutcome:
    """A realized-P&L result: exactly one of an amount or a halt reason."""

    __slots__ = ("_halt_reason", "_pnl")

    def __init__(
        self, *, pnl: PnlOutcomeAmount | None = None, halt_reason: PnlHaltReason | None = None
    ) -> None:
        _exactly_one(pnl, halt_reason)
        self._pnl = pnl
        self._halt_reason = halt_reason

    @property
    def pnl(self) -> PnlOutcomeAmount | None:
        return self._pnl

    @property
    def halt_reason(self) -> PnlHaltReason | None:
        return self._halt_reason

    def __repr__(self) -> str:
        return f"PnlOutcome(pnl={self._pnl!r}, halt_reason={self._halt_reason!r})"


class AccountPnlOutcome:
    """Account-level realized-P&L outcome reported by one policy."""

    __slots__ = ("_account_id", "_halt_reason", "_pnl", "_policy_group_id")

    def __init__(
        self,
        *,
        policy_group_id: int,
        account_id: AccountId,
        pnl: PnlOutcomeAmount | None = None,
        halt_reason: PnlHaltReason | None = None,
    ) -> None:
        _exactly_one(pnl, halt_reason)
        self._policy_group_id = int(policy_group_id)
        self._account_id = account_id
        self._pnl = pnl
        self._halt_reason = halt_reason

    @property
    def policy_group_id(self) -> int:
        return self._policy_group_id

    @property
    def account_id(self) -> AccountId:
        return self._account_id

    @property
    def pnl(self) -> PnlOutcomeAmount | None:
        return self._pnl

    @property
    def halt_reason(self) -> PnlHaltReason | None:
        return self._halt_reason

    def __repr__(self) -> str:
        return (
            f"AccountPnlOutcome(policy_group_id={self._policy_group_id}, "
            f"account_id={self._account_id.value}, pnl={self._pnl!r}, "
            f"halt_reason={self._halt_reason!r})"
        )


def _some_text(v: object) -> str:
    return "None" if v is None else f'Some("{v}")'


class AccountOutcomeEntry:
    """Account position outcome for one asset."""

    __slots__ = (
        "_asset",
        "_average_entry_price",
        "_balance",
        "_held",
        "_incoming",
        "_realized_pnl",
    )

    def __init__(
        self,
        *,
        asset: str,
        balance: OutcomeAmount | None = None,
        held: OutcomeAmount | None = None,
        incoming: OutcomeAmount | None = None,
        realized_pnl: PnlOutcome | None = None,
        average_entry_price: Price | None = None,
    ) -> None:
        if not isinstance(asset, str):
            raise TypeError("asset must be a str")
        self._asset = asset
        self._balance = balance
        self._held = held
        self._incoming = incoming
        self._realized_pnl = realized_pnl
        self._average_entry_price = average_entry_price

    asset = property(lambda self: self._asset)
    balance = property(lambda self: self._balance)
    held = property(lambda self: self._held)
    incoming = property(lambda self: self._incoming)
    realized_pnl = property(lambda self: self._realized_pnl)
    average_entry_price = property(lambda self: self._average_entry_price)

    def __repr__(self) -> str:
        def some(v: object) -> str:
            return "None" if v is None else f'Some("{v!r}")'

        return (
            f'AccountOutcomeEntry(asset="{self._asset}", balance={some(self._balance)}, '
            f"held={some(self._held)}, incoming={some(self._incoming)}, "
            f"realized_pnl={some(self._realized_pnl)}, "
            # openpit prints the price as its decimal text: Some("110")
            f"average_entry_price={_some_text(self._average_entry_price)})"
        )


class AccountAdjustmentOutcome:
    """An account outcome entry tagged with the producing policy's group id."""

    __slots__ = ("_entry", "_policy_group_id")

    def __init__(self, *, policy_group_id: int, entry: AccountOutcomeEntry) -> None:
        self._policy_group_id = int(policy_group_id)
        self._entry = entry

    @property
    def policy_group_id(self) -> int:
        return self._policy_group_id

    @property
    def entry(self) -> AccountOutcomeEntry:
        return self._entry

    def __repr__(self) -> str:
        return (
            f"AccountAdjustmentOutcome(policy_group_id={self._policy_group_id}, "
            f"entry={self._entry!r})"
        )
