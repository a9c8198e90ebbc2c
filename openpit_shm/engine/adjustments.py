"""Account-adjustment batches: the argument checks and the policy loop both engines run.

``Engine.apply_account_adjustment(account_id, adjustments)`` follows openpit 0.10:

* the arguments are checked first (the account, then every item), so a bad
  item anywhere runs no policy;
* items run in order; for each item every adjusting policy runs in
  registration order, until one rejects (or raises): the batch stops there;
* a policy result is read duck-typed, in openpit's order: ``rejects`` (each
  validated), ``mutations`` (registered as read, even next to rejects), then,
  only if nothing was rejected, ``account_adjustments`` and ``account_blocks``;
* on a reject or an exception every registered mutation rolls back in reverse;
  on success they commit forward and the reported blocks are latched afterwards
  (the engine applies both: ``Engine._settle_adjustments``). An account-scope
  reject latches nothing here.

The policies taking part are the registrations whose ``adjust`` hook is set, in
registration order (``adjusting_entries``): every custom policy, and each
builtin that reacts to adjustments (Spot Funds) once it sets
``BuiltinEntry.adjust``. A hook is called ``adjust(ctx, account_id, adjustment)``
and returns an object with the four fields of ``PolicyAccountAdjustmentResult``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..account_adjustment import Adjustment
from ..param import AccountId, Price
from ..param.asset import asset_text
from ..pretrade._enum import KNOWN_CODES
from ..pretrade.rejects import AccountBlock, Reject
from ..pretrade.results import AccountAdjustmentOutcome, AccountOutcomeEntry
from .registry import Registration
from .rows import account_key
from .stages import to_reject

__all__ = [
    "ACCOUNT_TYPE_ERROR",
    "ADJUSTMENT_TYPE_ERROR",
    "AdjustmentRun",
    "adjusting_entries",
    "check_adjustment_batch",
    "run_adjustments",
]

ACCOUNT_TYPE_ERROR = "account_id must be openpit.param.AccountId"
ADJUSTMENT_TYPE_ERROR = "adjustment must inherit from openpit.AccountAdjustment"
_U64_MAX = (1 << 64) - 1


def check_adjustment_batch(account_id: Any, adjustments: Any) -> tuple[int, list[Adjustment]]:
    """(account key, items) of a batch, or openpit's TypeError: the account first, then
    the items (any iterable; a non-iterable raises Python's own "not iterable")."""
    if not isinstance(account_id, AccountId):
        raise TypeError(ACCOUNT_TYPE_ERROR)
    items = []
    for item in adjustments:
        if not isinstance(item, Adjustment):
            raise TypeError(ADJUSTMENT_TYPE_ERROR)
        items.append(item)
    return account_key(account_id), items


def adjusting_entries(registrations: Sequence[Registration]) -> list[Registration]:
    """The registrations that take part in adjustment batches, in registration order."""
    return [e for e in registrations if e.adjust is not None]


class AdjustmentRun:
    """What one batch produced: the failing item and its rejects (or the exception that
    stopped it), the registered mutations, and on success the outcomes and blocks."""

    __slots__ = ("account_blocks", "error", "failed_index", "mutations", "outcomes", "rejects")

    def __init__(self) -> None:
        self.failed_index: int | None = None
        self.rejects: list[Reject] = []
        self.error: BaseException | None = None
        self.mutations: list[Any] = []
        self.outcomes: list[AccountAdjustmentOutcome] = []
        self.account_blocks: list[AccountBlock] = []

    @property
    def stopped(self) -> bool:
        """Whether the batch must roll back (a reject or an exception)."""
        return self.failed_index is not None or self.error is not None


def run_adjustments(
    entries: Sequence[Registration], ctx: Any, account_value: int, items: Sequence[Adjustment]
) -> AdjustmentRun:
    """Every item through every adjusting policy; stops at the first reject or exception.

    Only collects: the engine rolls back or commits ``run.mutations`` and latches
    ``run.account_blocks``.
    """
    run = AdjustmentRun()
    for index, adjustment in enumerate(items):
        for entry in entries:
            try:
                # openpit hands each call a fresh AccountId (equal to the caller's).
                result = entry.adjust(ctx, AccountId.from_int(account_value), adjustment)
                if not _read_result(run, entry, result):
                    run.failed_index = index
                    return run
            except Exception as exc:
                run.error = exc
                return run
    return run


def _read_result(run: AdjustmentRun, entry: Registration, result: Any) -> bool:
    """Read one policy result into ``run`` (openpit's order); False if it rejected."""
    rejects = [to_reject(entry.name, pr) for pr in result.rejects]
    for m in result.mutations:
        m.commit  # noqa: B018 (a mutation without hooks fails here, like openpit)
        m.rollback  # noqa: B018
        run.mutations.append(m)
    if rejects:
        run.rejects = rejects
        return False
    gid = entry.policy_group_id
    outcomes = [
        AccountAdjustmentOutcome(policy_group_id=gid, entry=_outcome_entry(e))
        for e in result.account_adjustments
    ]
    blocks = [_account_block(b) for b in result.account_blocks]
    run.outcomes.extend(outcomes)
    run.account_blocks.extend(blocks)
    return True


def _outcome_entry(value: Any) -> AccountOutcomeEntry:
    """An ``AccountOutcomeEntry``, or one read from a look-alike (openpit's attribute order)."""
    if isinstance(value, AccountOutcomeEntry):
        return value
    avg = value.average_entry_price
    if avg is not None and not isinstance(avg, Price):
        avg = Price(avg)
    return AccountOutcomeEntry(
        asset=asset_text(value.asset),
        balance=value.balance,
        held=value.held,
        incoming=value.incoming,
        realized_pnl=value.realized_pnl,
        average_entry_price=avg,
    )


def _block_text(value: Any, field: str) -> str:
    text = getattr(value, field)
    if not isinstance(text, str):
        raise ValueError(f"account_block.{field} must be a string")
    return str(text)


def _account_block(value: Any) -> AccountBlock:
    """An ``AccountBlock``, or one read from a look-alike with openpit's checks and texts."""
    if isinstance(value, AccountBlock):
        return value
    code = _block_text(value, "code")
    policy = _block_text(value, "policy")
    reason = _block_text(value, "reason")
    details = _block_text(value, "details")
    user_data = 0
    if hasattr(value, "user_data"):
        user_data = value.user_data
        if not isinstance(user_data, int) or not 0 <= user_data <= _U64_MAX:
            raise ValueError("account_block.user_data must be an integer token")
    if code not in KNOWN_CODES:
        raise ValueError(f'unsupported reject code "{code}"')
    return AccountBlock._trusted(policy, code, reason, details, int(user_data))
