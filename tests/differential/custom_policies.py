"""Deterministic custom policies, written once against either package's API.

``build_custom_engine(mod)`` registers order validation and three custom
policies covering every hook: a start gate with order- and account-scope
rejects, a main-stage reserver with mutations, lock prices and a rare raising
path, and a post-trade loss tracker that returns blocks in every accepted shape.
"""

from __future__ import annotations

from typing import Any


def custom_policy_set(mod: Any) -> list[Any]:
    P = mod.pretrade
    param = mod.param
    Code, Scope = P.RejectCode, P.RejectScope

    class StartGate(P.Policy):
        @property
        def name(self) -> str:
            return "StartGate"

        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            op = order.operation
            if op is None:
                return None
            qty = op.trade_amount.as_quantity
            if qty is None:
                return ()
            out = []
            if qty > param.Quantity(900):
                out.append(
                    P.PolicyReject(
                        code=Code.RISK_LIMIT_EXCEEDED, reason="qty gate", details=f"qty {qty}"
                    )
                )
            if (
                op.account_id.value % 7 == 0
                and op.side == param.Side.SELL
                and qty > param.Quantity(600)
            ):
                out.append(
                    P.PolicyReject(
                        code=Code.COMPLIANCE_RESTRICTION,
                        reason="short sale gate",
                        details=f"account {op.account_id.value} sells {qty}",
                        scope=Scope.ACCOUNT,
                        user_data=op.account_id.value,
                    )
                )
            return (r for r in out)  # generators are accepted

    class Reserver(P.Policy):
        def __init__(self) -> None:
            self.reserved: dict[int, Any] = {}

        @property
        def name(self) -> str:
            return "Reserver"

        @property
        def policy_group_id(self) -> int:
            return 3

        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            op = order.operation
            if op is None:
                return None
            if op.price is None:
                return P.PolicyDecision.reject(
                    [
                        P.PolicyReject(
                            code=Code.ORDER_VALUE_CALCULATION_FAILED,
                            reason="no price",
                            details="market order",
                        )
                    ]
                )
            amount = op.trade_amount
            notional = (
                amount.as_volume
                if amount.is_volume
                else op.price.calculate_volume(amount.as_quantity)
            )
            key = op.account_id.value
            before = self.reserved.get(key, param.Volume(0))
            after = before + notional
            self.reserved[key] = after

            def rollback() -> None:
                self.reserved[key] = before

            def commit() -> None:
                if key == 11 and str(op.price).endswith("7"):
                    raise KeyError(f"commit failed for {key}")

            mutation = mod.Mutation(commit=commit, rollback=rollback)
            if amount.is_quantity and amount.as_quantity == param.Quantity(777):
                raise ValueError("777 is not a quantity this policy accepts")
            if after > param.Volume(900_000):
                return P.PolicyPreTradeResult.reject(
                    [
                        P.PolicyReject(
                            code=Code.RISK_LIMIT_EXCEEDED,
                            reason="reservation limit",
                            details=f"reserved {after}",
                            scope=Scope.ACCOUNT if key % 5 == 0 else Scope.ORDER,
                        )
                    ],
                    mutations=[mutation],
                )
            return P.PolicyPreTradeResult.accept(mutations=[mutation], lock_prices=[op.price])

    class LossTracker(P.Policy):
        def __init__(self) -> None:
            self.pnl: dict[int, Any] = {}

        @property
        def name(self) -> str:
            return "LossTracker"

        def apply_execution_report(self, ctx: Any, report: Any) -> Any:
            op = report.operation
            fin = report.financial_impact
            key = op.account_id.value
            total = self.pnl.get(key, param.Pnl(0)) + fin.pnl - fin.fee.to_pnl() * -1
            self.pnl[key] = total
            if total < param.Pnl(-1500):
                block = P.AccountBlock(
                    policy="LossTracker",
                    code=Code.PNL_KILL_SWITCH_TRIGGERED,
                    reason="loss limit",
                    details=f"pnl {total} group {ctx.account_group}",
                    user_data=key,
                )
                return P.PostTradeResult(account_blocks=[block])
            return False if key % 2 else None

    return [StartGate(), Reserver(), LossTracker()]


def build_custom_engine(mod: Any) -> Any:
    builder = mod.Engine.builder().no_sync().builtin(mod.pretrade.policies.build_order_validation())
    for policy in custom_policy_set(mod):
        builder = builder.pre_trade(policy)
    return builder.build()
