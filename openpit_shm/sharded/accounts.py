"""``engine.accounts()`` of a sharded engine: the same handle, routed to the workers.

Block state lives in each shard's kernel state, so every change goes to the
worker that owns the account (groups and engine-wide blocks to all of them)
over the control channel. The client keeps the texts of the blocks it
recorded, to format the gate's rejects, exactly as the in-process engine does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.accounts import AccountsState
from ..layout.shard import shard_of
from ..pretrade.rejects import AccountBlock

__all__ = ["RemoteAccountsState"]


class RemoteAccountsState(AccountsState):
    """AccountsState whose kernel side is the shard workers."""

    def __init__(self, n_shards: int, call: Callable[[int, str, Any], Any]) -> None:
        super().__init__(book=None)  # type: ignore[arg-type]
        self.n_shards = n_shards
        self.call = call  # (shard, op, args) -> reply

    def snapshot(self) -> bytes:
        """The texts this client recorded, for a restarted worker (pickled)."""
        import pickle

        return pickle.dumps(
            (dict(self.causes), dict(self.group_reasons), self.engine_cause, dict(self.group_of))
        )

    def _owner(self, account: int) -> int:
        return shard_of(account & ((1 << 64) - 1), self.n_shards)

    def _all(self, op: str, args: Any = ()) -> list[Any]:
        return [self.call(k, op, args) for k in range(self.n_shards)]

    def latch(self, account: int, cause: AccountBlock) -> bool:
        if not self.call(self._owner(account), "latch", (account, cause)):
            return False
        self.causes[account] = cause
        return True

    def unblock(self, account: int) -> None:
        self.call(self._owner(account), "unblock", account)
        self.causes.pop(account, None)

    def is_blocked(self, account: int) -> bool:
        return bool(self.call(self._owner(account), "is_blocked", account))

    def replace_reason(self, account: int, cause: AccountBlock) -> bool:
        if not self.call(self._owner(account), "replace_reason", (account, cause)):
            return False
        self.causes[account] = cause
        return True

    def block_engine(self, cause: AccountBlock) -> None:
        if self.engine_cause is None:
            self.engine_cause = cause
            self._all("block_engine", cause)

    def unblock_engine(self) -> None:
        self.engine_cause = None
        self._all("unblock_engine")

    def set_groups(self, accounts: list[int], group: int) -> None:
        by_shard: dict[int, list[int]] = {}
        for k in accounts:
            by_shard.setdefault(self._owner(k), []).append(k)
            if group:
                self.group_of[k] = group
            else:
                self.group_of.pop(k, None)
        for shard, keys in by_shard.items():
            self.call(shard, "set_groups", (keys, group))

    def block_group(self, group: int, reason: str) -> None:
        if group not in self.group_reasons:
            self.group_reasons[group] = reason
            self._all("block_group", (group, reason))

    def unblock_group(self, group: int) -> None:
        if self.group_reasons.pop(group, None) is not None:
            self._all("unblock_group", group)

    def replace_group_reason(self, group: int, reason: str) -> bool:
        if group not in self.group_reasons:
            return False
        self.group_reasons[group] = reason
        self._all("group_reason", (group, reason))
        return True
