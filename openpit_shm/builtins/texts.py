"""Result records -> openpit's reject and block texts, for everything the builtin kernels write.

A builtin's record (decoded by :class:`~.record.Record`) carries the policy's
registration index, the reject code, a reason variant (``kernels.codes.RSN_*``)
and five numeric detail words; this module builds the texts shared by
several builtins (missing fields) and the engine-level records the kernels
write (the gate's "no account" reject, the kill-switch engine block, malformed
batch records). Each builtin policy object formats its own variants.

A *description* is ``(policy, code, reason, details, scope, user_data)``.
"""

from __future__ import annotations

from openpit_shm.kernels import codes as K
from openpit_shm.layout.records import POLICY_ENGINE

from .record import Record, code_name

__all__ = [
    "ENGINE",
    "Description",
    "Record",
    "code_name",
    "engine_description",
    "missing_field",
]

ENGINE = "Engine"
SCOPE_ORDER = "order"
SCOPE_ACCOUNT = "account"

Description = tuple[str, str, str, str, str, int]

#: MissingRequiredField texts: field id -> (reason label, details path).
_FIELDS = {
    K.FIELD_TRADE_AMOUNT: ("trade amount", "operation.trade_amount"),
    K.FIELD_INSTRUMENT: ("instrument", "operation.instrument"),
    K.FIELD_ACCOUNT: ("account ID", "operation.account_id"),
    K.FIELD_PNL: ("P&L", "financial_impact.pnl"),
}


_MISSING: dict[tuple[str, int, str], Description] = {}


def missing_field(policy: str, rec: Record) -> Description:
    """``MissingRequiredField`` as every builtin words it (built once per policy and field)."""
    key = (policy, rec.d[0], rec.scope)
    text = _MISSING.get(key)
    if text is None:
        label, path = _FIELDS[rec.d[0]]
        text = _MISSING[key] = (
            policy,
            "MissingRequiredField",
            f"failed to access required field '{label}'",
            f"failed to access field '{path}'",
            rec.scope,
            0,
        )
    return text


def engine_description(rec: Record) -> Description | None:
    """Texts of the engine records the kernels write, or None for a cause Python holds.

    ``RSN_GATE_ACCOUNT`` / ``RSN_GATE_GROUP`` / ``RSN_GATE_ENGINE`` point at a
    block recorded from Python (admin reason, custom policy's cause): the
    engine owns those texts and this returns None for them.
    """
    assert rec.policy == POLICY_ENGINE
    rsn = rec.reason
    if rsn == K.RSN_GATE_NO_ACCOUNT:
        return (
            ENGINE,
            "MissingRequiredField",
            "account could not be verified as account ID is missing",
            "unable to check account for blocking",
            SCOPE_ORDER,
            0,
        )
    if rsn == K.RSN_GATE_ENGINE_KILL_SWITCH:
        return (
            ENGINE,
            "AccountBlocked",
            "account is blocked due to kill-switch",
            "kill-switch was previously triggered for this account",
            SCOPE_ACCOUNT,
            0,
        )
    if rsn in (K.RSN_GATE_ACCOUNT, K.RSN_GATE_GROUP, K.RSN_GATE_ENGINE):
        return None
    texts = {
        K.RSN_BAD_KIND: ("unknown message kind", f"message kind {rec.d[0]} is not supported"),
        K.RSN_BAD_INSTRUMENT: ("unknown instrument", f"instrument id {rec.d[0]} is not registered"),
        K.RSN_BAD_SIDE: ("invalid side", f"side {rec.d[0]} is neither buy (1) nor sell (2)"),
        K.RSN_BAD_AMOUNT: ("invalid amount", f"amount {rec.d[0]} is negative"),
        K.RSN_BAD_FLAGS: (
            "invalid flags",
            f"flags {rec.d[0]:#x} carry bits this message kind does not define",
        ),
        K.RSN_BAD_HANDLE: (
            "invalid handle",
            f"handle {rec.d[0]} is unknown, stale or already finalized",
        ),
        K.RSN_HANDLE_WRONG_SHARD: (
            "handle routed to the wrong shard",
            f"handle {rec.d[0]} belongs to shard {rec.d[1]}, not shard {rec.d[2]}",
        ),
        K.RSN_HANDLE_NOT_OWNER: (
            "handle of another client",
            f"handle {rec.d[0]} was not given to client slot {rec.d[1]}",
        ),
        K.RSN_HANDLE_LOST: (
            "reservation lost",
            f"handle {rec.d[0]} was held by worker generation {rec.d[1]}, which has "
            f"restarted (now {rec.d[2]}); its reservation was neither committed nor rolled back",
        ),
        K.RSN_DROP_COPY_NO_ACCOUNT: (
            "drop-copy requires a readable account ID",
            "the account ID routes the drop-copy pipeline and its account control",
        ),
        K.RSN_RES_FULL: ("reservation table full", "no reservation slot could be allocated"),
        K.RSN_NO_SPACE: ("state arena full", "the kernel state has no room left"),
        K.RSN_WRONG_SHARD: (
            "account routed to the wrong shard",
            f"account {rec.d[0] & 0xFFFFFFFFFFFFFFFF} belongs to shard {rec.d[1]}, "
            f"not shard {rec.d[2]}",
        ),
        K.RSN_WRONG_ENGINE: (
            "record built for another engine",
            f"record tag {rec.d[0]} is not this engine's ({rec.d[1]}): instrument ids are per "
            "engine; build records with order_records(engine, ...) or the tag external_client() "
            "gives",
        ),
    }
    reason, details = texts.get(rsn, ("engine error", f"reason variant {rsn}"))
    return (ENGINE, rec.code_name or "Other", reason, details, rec.scope, 0)
