"""The Book's builtin policy objects: lookup, runtime configuration, and texts (``describe``).

A record's texts come from the policy that wrote it (``BuiltinPolicy.describe``,
found by the record's registration index) or, for the engine's own records
(``POLICY_ENGINE``), from ``texts.engine_description``: nothing here names a
builtin, so a new builtin brings its texts in its own policy module.
"""

from __future__ import annotations

from typing import Any

from openpit_shm.layout.records import POLICY_ENGINE

from .base import BuiltinPolicy
from .book_rows import BookRows
from .texts import Description, Record, engine_description

__all__ = ["BookPolicies"]


class BookPolicies(BookRows):
    """Builtin policy objects by registration index: retune them, word their records."""

    policies: list[BuiltinPolicy | None]

    def policies_by_kind(self) -> dict[str, BuiltinPolicy]:
        return {p.kind: p for p in self.policies if p is not None}

    def policy(self, index: int) -> BuiltinPolicy | None:
        return self.policies[index] if 0 <= index < len(self.policies) else None

    # ---- configuration -----------------------------------------------------------------------

    def configure(self, index: int, method: str, **settings: Any) -> None:
        """Runtime retune of the builtin at registration ``index`` (``engine.configure()``)."""
        policy = self.policy(index)
        if policy is None:
            raise ValueError(f"policy {index} is not a builtin")
        policy.configure(self, method, **settings)

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, record: Any, subject: Any = None) -> Description | None:
        """``(policy, code, reason, details, scope, user_data)`` of a kernel record.

        ``subject`` is the order (or report) the record answers, when the
        object door has it: texts then print its own decimals. Returns None for
        gate records pointing at a block cause the engine holds
        (``RSN_GATE_ACCOUNT`` / ``RSN_GATE_GROUP`` / ``RSN_GATE_ENGINE``).
        """
        rec = record if record.__class__ is Record else Record.of(record)
        index = rec[3]  # policy (a field read on every rejected order: no property call)
        if index == POLICY_ENGINE:
            return engine_description(rec)
        policy = self.policies[index] if index < len(self.policies) else None
        if policy is None:
            raise ValueError(f"record from policy {index}, which is not a builtin")
        return policy.describe(self, rec, subject)
