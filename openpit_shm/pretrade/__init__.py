"""Pre-trade API: rejects and codes, results, requests and reservations, the custom Policy API.

Mirrors ``openpit.pretrade``; builtin policy builders are in ``openpit_shm.pretrade.policies``.
"""

from __future__ import annotations

import typing

from ..param import Price
from ..param.lock import Lock
from . import policies
from ._enum import RejectCode, RejectScope
from .adjustment_result import AccountAdjustmentBatchResult
from .context import AccountControl, Context, PostTradeContext
from .drop_copy import DropCopyOperation, DropCopyResult
from .policy import (
    Policy,
    PolicyAccountAdjustmentResult,
    PolicyDecision,
    PolicyPreTradeResult,
    PolicyReject,
)
from .rejects import AccountBlock, Reject
from .request import Request, Reservation
from .results import (
    AccountAdjustmentOutcome,
    AccountOutcomeEntry,
    AccountPnlOutcome,
    DryRunReport,
    ExecuteResult,
    OutcomeAmount,
    PnlHaltReason,
    PnlOutcome,
    PnlOutcomeAmount,
    PostTradeResult,
    StartResult,
)

PolicyGroupId: typing.TypeAlias = int
"""Group identifier used to tag policies and their outcomes."""

DEFAULT_POLICY_GROUP_ID: PolicyGroupId = 0

Rejects = list[Reject]

__all__ = [
    "DEFAULT_POLICY_GROUP_ID",
    "AccountAdjustmentBatchResult",
    "AccountAdjustmentOutcome",
    "AccountBlock",
    "AccountControl",
    "AccountOutcomeEntry",
    "AccountPnlOutcome",
    "Context",
    "DropCopyOperation",
    "DropCopyResult",
    "DryRunReport",
    "ExecuteResult",
    "Lock",
    "OutcomeAmount",
    "PnlHaltReason",
    "PnlOutcome",
    "PnlOutcomeAmount",
    "Policy",
    "PolicyAccountAdjustmentResult",
    "PolicyDecision",
    "PolicyGroupId",
    "PolicyPreTradeResult",
    "PolicyReject",
    "PostTradeContext",
    "PostTradeResult",
    "Price",
    "Reject",
    "RejectCode",
    "RejectScope",
    "Rejects",
    "Request",
    "Reservation",
    "StartResult",
    "policies",
]
