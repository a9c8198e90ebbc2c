"""Running custom Python policies through one stage, with openpit's error rules.

Every policy of a stage runs, in registration order, even after a reject or an
exception; the first exception is raised by the caller once the stage is done.
These functions only collect; the engine decides what to latch, roll back or raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..param import Price
from ..param._compat import downcast_error
from ..pretrade._enum import KNOWN_CODES, RejectScope
from ..pretrade.rejects import AccountBlock, Reject, make_reject
from ..pretrade.results import AccountAdjustmentOutcome
from .registry import CustomEntry

__all__ = [
    "MainOutcome",
    "PostTradeOutcome",
    "custom_main",
    "custom_post_trade",
    "custom_start",
    "run_finalizers",
    "to_reject",
]

_U64_MAX = (1 << 64) - 1
_TRUE_MESSAGE = (
    "apply_execution_report must return PostTradeResult or None; "
    "bool True no longer maps to a synthetic account block"
)


def _text_field(pr: Any, field: str) -> str:
    value = getattr(pr, field)
    if not isinstance(value, str):
        raise ValueError(f"reject.{field} must be a string")
    return str(value)


def to_reject(policy: str, pr: Any) -> Reject:
    """Validate a policy's ``PolicyReject`` (duck-typed) and turn it into a ``Reject``.

    openpit's order and texts: code (a string, then a known one), reason,
    details, then ``user_data`` (a u64, 0 when absent; a bool counts as an int, as in
    Python).
    """
    code = _text_field(pr, "code")
    if code not in KNOWN_CODES:
        raise ValueError(f'unsupported reject code "{code}"')
    reason = _text_field(pr, "reason")
    details = _text_field(pr, "details")
    user_data = pr.user_data if hasattr(pr, "user_data") else 0  # openpit's default
    if not isinstance(user_data, int) or not 0 <= user_data <= _U64_MAX:
        raise ValueError("reject.user_data must be an integer token (default 0)")
    scope = RejectScope(pr.scope)
    return make_reject(policy, code, reason, details, str(scope), int(user_data))


def custom_start(
    entries: Sequence[CustomEntry], ctx: Any, order: Any, dry: bool
) -> tuple[list[tuple[int, Reject]], BaseException | None]:
    """Start stage of every custom policy: (index, reject) pairs and the first exception."""
    rejects: list[tuple[int, Reject]] = []
    first: BaseException | None = None
    for entry in entries:
        try:
            produced = (entry.dry_start if dry else entry.start)(ctx, order)
            if produced is not None:
                for pr in produced:
                    rejects.append((entry.index, to_reject(entry.name, pr)))
        except Exception as exc:
            if first is None:
                first = exc
    return rejects, first


class MainOutcome:
    """What the custom main stage produced."""

    __slots__ = ("adjustments", "error", "lock_entries", "mutations", "rejects")

    def __init__(self) -> None:
        self.rejects: list[tuple[int, Reject]] = []
        self.mutations: list[Any] = []
        self.lock_entries: list[tuple[int, Any]] = []
        self.adjustments: list[AccountAdjustmentOutcome] = []
        self.error: BaseException | None = None


def custom_main(entries: Sequence[CustomEntry], ctx: Any, order: Any, dry: bool) -> MainOutcome:
    """Main stage of every custom policy. Results are read duck-typed, as openpit reads them."""
    out = MainOutcome()
    for entry in entries:
        try:
            result = (entry.dry_main if dry else entry.main)(ctx, order)
            if result is None:
                continue
            mutations = list(getattr(result, "mutations", ()))
            for m in mutations:
                m.commit  # noqa: B018 (a mutation without hooks fails here, like openpit)
                m.rollback  # noqa: B018
            out.mutations.extend(mutations)
            for pr in getattr(result, "rejects", ()):
                out.rejects.append((entry.index, to_reject(entry.name, pr)))
            gid = entry.policy_group_id
            for p in getattr(result, "lock_prices", ()):  # openpit iterates it, even None
                out.lock_entries.append((gid, p if isinstance(p, Price) else Price(p)))
            for adj in getattr(result, "account_adjustments", ()):
                out.adjustments.append(
                    AccountAdjustmentOutcome(policy_group_id=entry.policy_group_id, entry=adj)
                )
        except Exception as exc:
            if out.error is None:
                out.error = exc
    return out


def run_finalizers(mutations: Sequence[Any], commit: bool) -> BaseException | None:
    """Commit forward or roll back in reverse; every callback runs; return the first error."""
    first: BaseException | None = None
    for m in mutations if commit else reversed(mutations):
        try:
            (m.commit if commit else m.rollback)()
        except Exception as exc:
            if first is None:
                first = exc
    return first


class PostTradeOutcome:
    """What the custom post-trade hooks produced."""

    __slots__ = ("adjustments", "blocks", "error", "pnls")

    def __init__(self) -> None:
        self.blocks: list[tuple[int, AccountBlock]] = []
        self.pnls: list[tuple[int, Any]] = []
        self.adjustments: list[tuple[int, Any]] = []
        self.error: BaseException | None = None


def custom_post_trade(entries: Sequence[CustomEntry], ctx: Any, report: Any) -> PostTradeOutcome:
    """Post-trade hook of every custom policy (called with keywords, as openpit does)."""
    out = PostTradeOutcome()
    for entry in entries:
        try:
            result = entry.post_trade(ctx=ctx, report=report)
            if result is None or result is False:
                continue
            if result is True:
                raise TypeError(_TRUE_MESSAGE)
            blocks = result.account_blocks
            pnls = result.account_pnls
            adjustments = result.account_adjustments
            for b in blocks:
                if not isinstance(b, AccountBlock):
                    raise downcast_error(b, "AccountBlock")
                out.blocks.append((entry.index, b))
            out.pnls.extend((entry.index, p) for p in pnls)
            out.adjustments.extend((entry.index, a) for a in adjustments)
        except Exception as exc:
            if out.error is None:
                out.error = exc
    return out
