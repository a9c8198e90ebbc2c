"""The order lifecycle, written for openpit 0.10 and run on openpit_shm (``import ... as openpit``).

Order validation plus two custom policies: a start-stage notional gate and a
main-stage per-account exposure reservation that commits or rolls back. Then
the explicit two-stage flow, the shortcut, finalization, and a post-trade
report whose P&L trips a custom kill switch. With ``import openpit`` instead of
the first line below it runs on openpit 0.10 itself and prints the same
(``tests/integration/test_seed_example.py`` checks both).
"""

import openpit_shm as openpit

AccountId, Pnl, Price = openpit.param.AccountId, openpit.param.Pnl, openpit.param.Price
Side, TradeAmount, Volume = openpit.param.Side, openpit.param.TradeAmount, openpit.param.Volume
Policy, PolicyReject = openpit.pretrade.Policy, openpit.pretrade.PolicyReject
PolicyPreTradeResult = openpit.pretrade.PolicyPreTradeResult
PostTradeResult, RejectCode = openpit.pretrade.PostTradeResult, openpit.pretrade.RejectCode


class NotionalGate(Policy):
    """Start stage: reject orders whose notional is above a cap."""

    def __init__(self, cap):
        self.cap = cap

    @property
    def name(self):
        return "NotionalGate"

    def check_pre_trade_start(self, ctx, order):
        op = order.operation
        notional = op.price.calculate_volume(op.trade_amount.as_quantity)
        if notional > self.cap:
            return [
                PolicyReject(
                    code=RejectCode.RISK_LIMIT_EXCEEDED,
                    reason="notional cap exceeded",
                    details=f"requested {notional}, cap {self.cap}",
                )
            ]
        return []


class ExposureBook(Policy):
    """Main stage: reserve exposure per account; post-trade: a P&L kill switch."""

    def __init__(self, limit, loss_limit):
        self.limit = limit
        self.loss_limit = loss_limit
        self.exposure = {}
        self.pnl = {}

    @property
    def name(self):
        return "ExposureBook"

    def perform_pre_trade_check(self, ctx, order):
        op = order.operation
        key = op.account_id.value
        before = self.exposure.get(key, Volume(0))
        after = before + op.price.calculate_volume(op.trade_amount.as_quantity)
        self.exposure[key] = after

        def undo():
            self.exposure[key] = before

        mutation = openpit.Mutation(commit=lambda: None, rollback=undo)
        if after > self.limit:
            reject = PolicyReject(
                code=RejectCode.RISK_LIMIT_EXCEEDED,
                reason="exposure limit exceeded",
                details=f"exposure {after}, limit {self.limit}",
            )
            return PolicyPreTradeResult.reject([reject], mutations=[mutation])
        return PolicyPreTradeResult.accept(mutations=[mutation], lock_prices=[op.price])

    def apply_execution_report(self, ctx, report):
        key = report.operation.account_id.value
        pnl = self.pnl.get(key, Pnl(0)) + report.financial_impact.pnl
        self.pnl[key] = pnl
        if pnl < self.loss_limit:
            block = openpit.pretrade.AccountBlock(
                policy=self.name,
                code=RejectCode.PNL_KILL_SWITCH_TRIGGERED,
                reason="loss limit breached",
                details=f"realized pnl {pnl}",
            )
            return PostTradeResult(account_blocks=[block])
        return None


def build_engine():
    return (
        openpit.Engine.builder()
        .no_sync()
        .builtin(openpit.pretrade.policies.build_order_validation())
        .pre_trade(NotionalGate(Volume("50000")))
        .pre_trade(policy=ExposureBook(Volume("80000"), Pnl("-500")))
        .build()
    )


account = AccountId.from_int(99224416)


def order(quantity, price="185"):
    return openpit.Order(
        operation=openpit.OrderOperation(
            instrument=openpit.Instrument("AAPL", "USD"),
            account_id=account,
            side=Side.BUY,
            trade_amount=TradeAmount.quantity(quantity),
            price=Price(price),
        ),
    )


def describe(rejects):
    return ", ".join(f"{r.policy} [{r.code}]: {r.reason}: {r.details}" for r in rejects)


def main(engine):
    # The explicit two-stage flow.
    for quantity in ("100", "0", "1000", "250"):
        start = engine.start_pre_trade(order(quantity))
        if not start:
            print("start rejected:", describe(start.rejects))
            continue
        result = start.request.execute()
        if not result:
            print("main rejected:", describe(result.rejects))
            continue
        print("accepted", quantity, "lock", result.reservation.lock.to_json())
        result.reservation.commit()

    # The shortcut, rolled back: the venue refused the order.
    result = engine.execute_pre_trade(order("50"))
    print("shortcut ok:", result.ok)
    result.reservation.rollback()
    try:
        result.reservation.commit()
    except RuntimeError as error:
        print("second finalization:", error)

    # A rejected shortcut rolls its own mutations back.
    print("over the limit:", describe(engine.execute_pre_trade(order("200")).rejects))

    # Post-trade: a loss that trips the custom kill switch blocks the account.
    for pnl in ("-300", "-400"):
        report = openpit.ExecutionReport(
            operation=openpit.ExecutionReportOperation(
                instrument=openpit.Instrument("AAPL", "USD"),
                account_id=account,
                side=Side.BUY,
            ),
            financial_impact=openpit.FinancialImpact(pnl=Pnl(pnl), fee=openpit.param.Fee("1.5")),
        )
        post = engine.apply_execution_report(report)
        print(
            "report", pnl, "blocks:", [(b.policy, b.code, b.details) for b in post.account_blocks]
        )

    print("after the kill switch:", describe(engine.execute_pre_trade(order("1")).rejects))
    engine.accounts().unblock(account)
    print("after unblock:", engine.execute_pre_trade(order("1")).ok)


if __name__ == "__main__":
    main(build_engine())
