"""Result records -> Reject / AccountBlock objects, and the engine's own reject texts.

Builtin records are described by the Book (``Book.describe``); gate records
that point at a block cause recorded from Python (admin reason, custom
policy's latch, restored cause, engine-wide block) are filled in here from
the engine's ``AccountsState``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..builtins.texts import Record
from ..kernels.codes import RSN_GATE_ACCOUNT, RSN_GATE_ENGINE, RSN_GATE_GROUP
from ..layout.records import POLICY_ENGINE, RESULT_BLOCK_LATCHED
from ..pretrade.rejects import AccountBlock, Reject, make_reject

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "FINALIZER_ENGINE_CAUSE",
    "KILL_SWITCH_ENGINE_CAUSE",
    "RecordReader",
]

ENGINE = "Engine"
SCOPE_ACCOUNT = "account"

#: The engine-wide block set when a mutation finalizer fails.
FINALIZER_ENGINE_CAUSE = AccountBlock._trusted(
    ENGINE,
    "SystemUnavailable",
    "mutation finalizer failed",
    "a mutation commit or rollback callback failed; engine state may be inconsistent",
)
#: The engine-wide block set when a post-trade block names no readable account.
KILL_SWITCH_ENGINE_CAUSE = AccountBlock._trusted(
    ENGINE,
    "AccountBlocked",
    "account is blocked due to kill-switch",
    "kill-switch was previously triggered for this account",
)


def _cause_reject(cause: AccountBlock) -> Reject:
    return make_reject(
        cause._policy, cause._code, cause._reason, cause._details, SCOPE_ACCOUNT, cause._user_data
    )


class RecordReader:
    """Reads the records a kernel call left in the engine's ``out`` array."""

    __slots__ = ("_engine", "latched")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.latched = False

    def _gate(self, rec: Record) -> Reject:
        accounts = self._engine._accounts
        if rec.reason == RSN_GATE_ACCOUNT:
            cause = accounts.causes.get(rec.d[0])
            if cause is not None:
                return _cause_reject(cause)
        elif rec.reason == RSN_GATE_GROUP:
            reason = accounts.group_reasons.get(rec.d[1])
            if reason is not None:
                return make_reject(ENGINE, "AccountBlocked", reason, reason, SCOPE_ACCOUNT)
        elif rec.reason == RSN_GATE_ENGINE and accounts.engine_cause is not None:
            return _cause_reject(accounts.engine_cause)
        # Blocked in the kernel state, but this process never learned the cause (a shard
        # worker restarted over its state): still a block, with a generic text.
        return make_reject(
            ENGINE, "AccountBlocked", "account is blocked", "the cause of this block was not kept",
            SCOPE_ACCOUNT,
        )  # fmt: skip

    def rejects(self, n: int, subject: Any) -> list[tuple[int, Reject]]:
        """(registration index, Reject) for the first ``n`` records; sets ``latched``."""
        engine = self._engine
        out = engine._out
        describe = engine._book.describe
        if n == 1:  # the common case, without the loop's bookkeeping
            rec = Record.at(out, 0)  # unpacks the fields straight from the buffer
            self.latched = rec.flags & RESULT_BLOCK_LATCHED != 0
            described = describe(rec, subject)
            if described is None:
                return [(-1, self._gate(rec))]
            index = rec.policy
            return [(-1 if index == POLICY_ENGINE else index, make_reject(*described))]
        at = Record.at
        result: list[tuple[int, Reject]] = []
        latched = False
        for i in range(n):
            rec = at(out, i)
            if rec.flags & RESULT_BLOCK_LATCHED:
                latched = True
            described = describe(rec, subject)
            if described is None:
                result.append((-1, self._gate(rec)))
                continue
            index = rec.policy
            result.append((-1 if index == POLICY_ENGINE else index, make_reject(*described)))
        self.latched = latched
        return result

    def blocks(self, n: int, subject: Any) -> list[tuple[int, AccountBlock]]:
        """(registration index, AccountBlock) for the first ``n`` post-trade block records."""
        return [
            (index, AccountBlock._trusted(r._policy, r._code, r._reason, r._details, r._user_data))
            for index, r in self.rejects(n, subject)
        ]
