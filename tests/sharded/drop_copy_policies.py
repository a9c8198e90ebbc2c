"""A picklable drop-copy-aware custom policy (module-level classes), for openpit and ours."""

from __future__ import annotations

from typing import Any

import openpit

import openpit_shm


class _DropCopyGate:
    """Records a drop-copy start mutation; rejects by price: ``...3`` fatal, ``...7`` account."""

    pkg: Any = None

    def __init__(self) -> None:
        self.count: dict[int, int] = {}

    @property
    def name(self) -> str:
        return "DropCopyGate"

    def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
        P = self.pkg.pretrade
        op = order.operation
        if op is None or op.account_id is None or op.price is None:
            return None
        key = op.account_id.value
        if ctx.is_drop_copy:
            count = self.count
            count[key] = count.get(key, 0) + 1

            def undo() -> None:
                count[key] -= 1

            mutation = self.pkg.Mutation(commit=lambda: None, rollback=undo)
            ctx.record_drop_copy_start_mutation(mutation)
        last = str(op.price)[-1]
        if last == "3":
            return [P.PolicyReject(code=P.RejectCode.UNKNOWN_VENUE, reason="venue", details="x")]
        if last == "7":
            return [P.PolicyReject(code=P.RejectCode.COMPLIANCE_RESTRICTION, reason="acc",
                                   details=f"{key}", scope=P.RejectScope.ACCOUNT)]  # fmt: skip
        return None

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        op = order.operation
        if op is None or op.price is None:
            return None
        return self.pkg.pretrade.PolicyPreTradeResult.accept(lock_prices=[op.price])


class DropCopyGateShm(_DropCopyGate, openpit_shm.pretrade.Policy):
    pkg = openpit_shm


class DropCopyGatePit(_DropCopyGate, openpit.pretrade.Policy):
    pkg = openpit


def gate_for(pkg: Any) -> Any:
    return DropCopyGateShm() if pkg is openpit_shm else DropCopyGatePit()
