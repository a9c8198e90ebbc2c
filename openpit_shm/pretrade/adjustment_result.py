"""AccountAdjustmentBatchResult: the result of ``Engine.apply_account_adjustment``.

``ok`` (no rejects; also ``bool(result)``), ``failed_index`` (the first
rejected item, None on success), ``rejects`` (for the failed item),
``outcomes`` (``AccountAdjustmentOutcome`` list, empty on rejection) and
``account_blocks`` (blocks recorded after the commit, empty on rejection).
Each list property returns a fresh copy, as openpit's does. Only the engine
builds one, with ``batch_result``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .rejects import AccountBlock, Reject
    from .results import AccountAdjustmentOutcome

__all__ = ["AccountAdjustmentBatchResult", "batch_result"]

_NAME = "openpit.pretrade.AccountAdjustmentBatchResult"
_READ_ONLY = frozenset(("ok", "failed_index", "rejects", "outcomes", "account_blocks"))


class AccountAdjustmentBatchResult:
    """Result of ``Engine.apply_account_adjustment`` (not constructible by users)."""

    __slots__ = ("_account_blocks", "_failed_index", "_outcomes", "_rejects")
    _OPENPIT_NAME = _NAME

    _failed_index: int | None
    _rejects: list[Reject]
    _outcomes: list[AccountAdjustmentOutcome]
    _account_blocks: list[AccountBlock]

    def __new__(cls, *args: Any, **kwargs: Any) -> AccountAdjustmentBatchResult:
        raise TypeError(f"cannot create '{_NAME}' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"type '{_NAME}' is not an acceptable base type")

    @property
    def ok(self) -> bool:
        """Whether the full batch passed."""
        return not self._rejects

    @property
    def failed_index(self) -> int | None:
        """Zero-based index of the failing adjustment."""
        return self._failed_index

    @property
    def rejects(self) -> list[Reject]:
        """Reject list when validation fails."""
        return list(self._rejects)

    @property
    def outcomes(self) -> list[AccountAdjustmentOutcome]:
        """Account position outcomes returned on success."""
        return list(self._outcomes)

    @property
    def account_blocks(self) -> list[AccountBlock]:
        """Committed blocks on success; empty when the batch is rejected."""
        return list(self._account_blocks)

    def __bool__(self) -> bool:
        return not self._rejects

    def __repr__(self) -> str:
        if self._failed_index is None:
            return "AccountAdjustmentBatchResult(ok=True)"
        return (
            f"AccountAdjustmentBatchResult(ok=False, failed_index={self._failed_index}, "
            f"rejects={len(self._rejects)})"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _READ_ONLY:
            raise AttributeError(f"attribute '{name}' of '{_NAME}' objects is not writable")
        raise AttributeError(f"'{_NAME}' object has no attribute '{name}'")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle '{_NAME}' object")


def batch_result(
    failed_index: int | None,
    rejects: list[Reject],
    outcomes: list[AccountAdjustmentOutcome],
    account_blocks: list[AccountBlock],
) -> AccountAdjustmentBatchResult:
    """The engine's constructor: ``failed_index``/``rejects`` on failure, the rest on success."""
    r = object.__new__(AccountAdjustmentBatchResult)
    for name, value in (
        ("_failed_index", failed_index),
        ("_rejects", rejects),
        ("_outcomes", outcomes),
        ("_account_blocks", account_blocks),
    ):
        object.__setattr__(r, name, value)
    return r
