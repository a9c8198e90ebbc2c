"""The custom policy API: the Policy base class and the values its hooks return."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core import Mutation
from ._enum import RejectScope
from .context import Context, PostTradeContext

if TYPE_CHECKING:
    from ..core import ExecutionReport, Order
    from ..param import AccountId, Price
    from .rejects import AccountBlock
    from .results import AccountOutcomeEntry, PostTradeResult

__all__ = [
    "Policy",
    "PolicyAccountAdjustmentResult",
    "PolicyDecision",
    "PolicyPreTradeResult",
    "PolicyReject",
]


@dataclasses.dataclass(frozen=True)
class PolicyReject:
    """A business reject returned by a custom policy (return it; do not raise).

    ``code`` is a ``RejectCode`` string, ``scope`` must be a ``RejectScope``;
    an account-scope reject in a pre-trade stage latches an account block.
    The engine validates ``code`` and ``user_data`` (u64) when it reads the reject.
    """

    code: str
    reason: str
    details: str
    scope: RejectScope = RejectScope.ORDER
    user_data: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.scope, RejectScope):
            raise TypeError("scope must be openpit.pretrade.RejectScope")


@dataclasses.dataclass(frozen=True)
class PolicyDecision:
    """The older, smaller main-stage result: rejects and mutations."""

    rejects: tuple[PolicyReject, ...] = ()
    mutations: tuple[Mutation, ...] = ()

    @classmethod
    def accept(cls, mutations: Iterable[Mutation] = ()) -> PolicyDecision:
        return cls(rejects=(), mutations=tuple(mutations))

    @classmethod
    def reject(
        cls, rejects: Iterable[PolicyReject], mutations: Iterable[Mutation] = ()
    ) -> PolicyDecision:
        return cls(rejects=tuple(rejects), mutations=tuple(mutations))


@dataclasses.dataclass(frozen=True)
class PolicyPreTradeResult:
    """Main-stage result: rejects, mutations, account-adjustment outcomes and lock prices.

    Mutations returned alongside rejects are rolled back by the engine.
    """

    rejects: tuple[PolicyReject, ...] = ()
    mutations: tuple[Mutation, ...] = ()
    account_adjustments: tuple[AccountOutcomeEntry, ...] = ()
    lock_prices: tuple[Price, ...] = ()

    @classmethod
    def accept(
        cls,
        mutations: Iterable[Mutation] = (),
        account_adjustments: Iterable[AccountOutcomeEntry] = (),
        lock_prices: Iterable[Price] = (),
    ) -> PolicyPreTradeResult:
        return cls(
            rejects=(),
            mutations=tuple(mutations),
            account_adjustments=tuple(account_adjustments),
            lock_prices=tuple(lock_prices),
        )

    @classmethod
    def reject(
        cls,
        rejects: Iterable[PolicyReject],
        mutations: Iterable[Mutation] = (),
        account_adjustments: Iterable[AccountOutcomeEntry] = (),
        lock_prices: Iterable[Price] = (),
    ) -> PolicyPreTradeResult:
        return cls(
            rejects=tuple(rejects),
            mutations=tuple(mutations),
            account_adjustments=tuple(account_adjustments),
            lock_prices=tuple(lock_prices),
        )


@dataclasses.dataclass(frozen=True)
class PolicyAccountAdjustmentResult:
    """Result of ``Policy.apply_account_adjustment`` (kept for API compatibility)."""

    rejects: tuple[PolicyReject, ...] = ()
    mutations: tuple[Mutation, ...] = ()
    account_adjustments: tuple[AccountOutcomeEntry, ...] = ()
    account_blocks: tuple[AccountBlock, ...] = ()


class Policy(abc.ABC):
    """Base class of custom policies; override only the hooks you need.

    * ``check_pre_trade_start(ctx, order)`` -> iterable of ``PolicyReject`` (start stage)
    * ``perform_pre_trade_check(ctx, order)`` -> ``PolicyPreTradeResult`` (main stage)
    * ``apply_execution_report(ctx, report)`` -> ``PostTradeResult`` | None | False
    * optional ``check_pre_trade_start_dry_run`` / ``perform_pre_trade_check_dry_run``

    Every registered policy runs in every stage, in registration order. Raise
    only for programming errors: the first exception of a stage propagates after
    its sibling callbacks have run.
    """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A stable name, unique within one engine."""
        raise NotImplementedError("name is not implemented")

    @property
    def policy_group_id(self) -> int:
        """Group tag for lock prices and outcomes (0 = default group)."""
        return 0

    def check_pre_trade_start(self, ctx: Context, order: Order) -> Iterable[PolicyReject]:
        return ()

    def perform_pre_trade_check(self, ctx: Context, order: Order) -> PolicyPreTradeResult:
        return PolicyPreTradeResult.accept()

    def apply_execution_report(
        self, ctx: PostTradeContext, report: ExecutionReport
    ) -> PostTradeResult | None:
        return None

    def apply_account_adjustment(
        self, ctx: Any, account_id: AccountId, adjustment: Any
    ) -> PolicyAccountAdjustmentResult:
        return PolicyAccountAdjustmentResult()
