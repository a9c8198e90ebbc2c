"""Result records (and the texts that travel with them) -> Reject / AccountBlock objects.

One reader for both engines: the in-process engine reads the records a kernel
call left in its ``out`` array (``RecordReader.rejects``); the sharded client
reads the records a worker answered, with the texts the worker sent when a
record cannot carry them (``RecordReader.answered``: custom rejects, a hook's
exception, a cause recorded in the worker). Builtin records are described by
the Book (``Book.describe``, the client's replica for sharded); gate records
that point at a block cause recorded from Python (admin reason, custom
policy's latch, restored cause, engine-wide block) are filled in from the
engine's ``AccountsState``. The engine-level causes and texts both engines
set or show are here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..builtins.texts import Record
from ..errors import ShardUnavailableError
from ..kernels.codes import (
    RSN_GATE_ACCOUNT,
    RSN_GATE_ENGINE,
    RSN_GATE_GROUP,
    RSN_OUTCOME_UNKNOWN,
    RSN_SHARD_DOWN,
)
from ..layout.records import POLICY_ENGINE, RESULT_BLOCK_LATCHED
from ..pretrade.rejects import AccountBlock, Reject, make_reject

__all__ = [
    "FINALIZER_ENGINE_CAUSE",
    "KILL_SWITCH_ENGINE_CAUSE",
    "RecordReader",
    "is_engine_record",
    "latched_cause",
    "outcome_unknown",
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


def latched_cause(reject: Reject) -> AccountBlock:
    """The ``AccountBlocked`` block an account-scope reject latches (same texts)."""
    return AccountBlock._trusted(
        reject._policy, "AccountBlocked", reject._reason, reject._details, reject._user_data
    )


def is_engine_record(rec: Record, reason: int) -> bool:
    """Whether ``rec`` is the engine's own record with reason ``reason``."""
    return rec.policy == POLICY_ENGINE and rec.reason == reason


def outcome_unknown(shard: int) -> ShardUnavailableError:
    """The error for a request whose worker died while deciding it."""
    return ShardUnavailableError(
        f"the worker of shard {shard} died while deciding this request: its outcome is "
        "unknown (it may or may not have been applied)"
    )


def _shard_down_reject(shard: int) -> Reject:
    return make_reject(
        ENGINE,
        "SystemUnavailable",
        "shard worker unavailable",
        f"the worker of shard {shard} is not running; the request was not evaluated",
        "order",
    )


def _cause_reject(cause: AccountBlock) -> Reject:
    return make_reject(
        cause._policy, cause._code, cause._reason, cause._details, SCOPE_ACCOUNT, cause._user_data
    )


class RecordReader:
    """Turns result records into Reject / AccountBlock objects for one engine.

    ``accounts``: the engine's ``AccountsState`` (block causes); ``describe``:
    its Book's ``describe`` (builtin texts); ``out``: the results array its
    kernel calls write (in process; None for the sharded client).
    """

    __slots__ = ("_accounts", "_describe", "_out", "latched")

    def __init__(
        self,
        accounts: Any,
        describe: Callable[[Record, Any], Any],
        out: np.ndarray | None = None,
    ) -> None:
        self._accounts = accounts
        self._describe = describe
        self._out = out
        self.latched = False

    def _gate(self, rec: Record) -> Reject:
        accounts = self._accounts
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
        out = self._out
        describe = self._describe
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

    # ---- answers of a shard worker ---------------------------------------------------------

    def answered(self, rec: Record, text: Any, subject: Any) -> Reject:
        """The Reject of one answered record; ``text``: the worker's texts for it, if any."""
        if text is not None:
            return make_reject(*text)
        if rec.policy == POLICY_ENGINE:
            reason = rec.reason
            if reason == RSN_SHARD_DOWN:
                return _shard_down_reject(rec.d[0])
            if reason == RSN_OUTCOME_UNKNOWN:
                raise outcome_unknown(rec.d[0])
            if reason in (RSN_GATE_ACCOUNT, RSN_GATE_GROUP, RSN_GATE_ENGINE):
                return self._gate(rec)
        described = self._describe(rec, subject)
        if described is None:
            return self._gate(rec)
        return make_reject(*described)

    def answered_all(self, rows: Sequence[Record], payload: Any, subject: Any) -> list[Reject]:
        """The Rejects of a request's records and the texts payload that followed them.

        ``payload``: None, ``("texts", [text-or-None per record])`` or
        ``("error", exception)`` (a custom hook raised in the worker: raised here).
        """
        if payload is not None and payload[0] == "error":
            raise payload[1]
        texts = payload[1] if payload is not None else [None] * len(rows)
        return [self.answered(rec, text, subject) for rec, text in zip(rows, texts)]
