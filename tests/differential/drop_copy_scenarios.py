# ruff: noqa: E501  (the scenario table reads best one case per line)
"""Drop-copy scenarios written once against either package (openpit or openpit_shm).

Each scenario builds an engine of ``pkg`` (``make_engine(pkg, builtins, customs)``
may build it another way: sharded), runs drop copies among ordinary orders and
returns a log of everything a caller can observe: result flags, rejects, the
operation's accessors (and their errors once finalized), the order in which
custom hooks and mutation callbacks ran, later decisions (blocks latched, rate
budget spent). Two packages agree when their logs are equal.
"""

from __future__ import annotations

import datetime
import gc
from typing import Any

HOUR = datetime.timedelta(hours=1)


def rejects(rs: Any) -> list | None:
    if rs is None:
        return None
    return [(r.policy, str(r.code), r.reason, r.details, str(r.scope), r.user_data) for r in rs]


def block(b: Any) -> tuple | None:
    return None if b is None else (b.policy, str(b.code), b.reason, b.details, b.user_data)


def order(pkg: Any, acc: int | None = 1, qty: str | None = "1", price: str | None = "10",
          side: str | None = "BUY", vol: str | None = None, inst: tuple = ("AAPL", "USD")) -> Any:  # fmt: skip
    param = pkg.param
    if vol is not None:
        ta = param.TradeAmount.volume(param.Volume(vol))
    else:
        ta = None if qty is None else param.TradeAmount.quantity(param.Quantity(qty))
    return pkg.Order(
        operation=pkg.OrderOperation(
            instrument=pkg.Instrument(*inst),
            account_id=None if acc is None else param.AccountId.from_int(acc),
            side=None if side is None else param.Side(side),
            trade_amount=ta,
            price=None if price is None else param.Price(price),
        )
    )


def report(pkg: Any, acc: int, pnl: str) -> Any:
    param = pkg.param
    return pkg.ExecutionReport(
        operation=pkg.ExecutionReportOperation(
            instrument=pkg.Instrument("AAPL", "USD"), side=param.Side.BUY,
            account_id=param.AccountId.from_int(acc),
        ),
        financial_impact=pkg.FinancialImpact(pnl=param.Pnl(pnl), fee=param.Fee("0")),
    )  # fmt: skip


def operation_view(op: Any) -> tuple:
    return (op.lock.to_json(), len(op.account_adjustments), block(op.account_block),
            op.is_account_blocked)  # fmt: skip


def after_final(op: Any) -> list:
    """What every accessor and finalizer does once the operation is finalized."""
    out = []
    for name in ("lock", "account_adjustments", "account_block", "is_account_blocked"):
        try:
            getattr(op, name)
            out.append((name, "no error"))
        except Exception as exc:
            out.append((name, type(exc).__name__, str(exc)))
    for name in ("commit", "rollback"):
        try:
            getattr(op, name)()
            out.append((name, "no error"))
        except Exception as exc:
            out.append((name, type(exc).__name__, str(exc)))
    return out


class Recorder:
    """Custom policies whose hooks are given as functions, logging what runs."""

    def __init__(self, pkg: Any) -> None:
        self.pkg = pkg
        self.log: list[tuple] = []
        self.on = True  # hooks act only while on (later orders see clean policies)

    def mutation(self, tag: str) -> Any:
        log = self.log
        return self.pkg.Mutation(
            commit=lambda: log.append((tag, "commit")), rollback=lambda: log.append((tag, "rollback"))
        )

    def policy(self, name: str, start: Any = None, main: Any = None, gid: int = 0) -> Any:
        P = self.pkg.pretrade
        rec = self

        class Custom(P.Policy):
            @property
            def name(self) -> str:
                return name

            @property
            def policy_group_id(self) -> int:
                return gid

            def check_pre_trade_start(self, ctx: Any, o: Any) -> Any:
                rec.log.append((name, "start", ctx.is_drop_copy))
                return start(ctx, o) if start and rec.on else None

            def perform_pre_trade_check(self, ctx: Any, o: Any) -> Any:
                rec.log.append((name, "main", ctx.is_drop_copy))
                return main(ctx, o) if main and rec.on else None

        return Custom()

    def reject(self, code: str, scope: str = "ORDER", reason: str = "r", details: str = "d") -> Any:
        P = self.pkg.pretrade
        return P.PolicyReject(
            code=getattr(P.RejectCode, code), reason=reason, details=details,
            scope=getattr(P.RejectScope, scope),
        )  # fmt: skip


def default_engine(pkg: Any, builtins: list, customs: list) -> Any:
    b = pkg.Engine.builder().no_sync()
    for x in builtins:
        b = b.builtin(x)
    for p in customs:
        b = b.pre_trade(p)
    return b.build()


def run_drop_copy(engine: Any, o: Any, finish: str | None, log: list) -> Any:
    try:
        r = engine.apply_drop_copy(o)
    except Exception as exc:
        log.append(("raised", type(exc).__name__, str(exc)))
        return None
    op = r.operation
    log.append(("dc", r.ok, bool(r), rejects(r.rejects), None if op is None else operation_view(op)))
    if op is not None and finish is not None:
        getattr(op, finish)()
        log.append(("final", after_final(op)))
    return r


def execute(engine: Any, o: Any, log: list) -> None:
    r = engine.execute_pre_trade(o)
    log.append(("exec", r.ok, rejects(r.rejects)))
    if r.ok:
        r.reservation.commit()


# ---- builtin-only scenarios ------------------------------------------------------------------


def builtin_scenario(pkg: Any, make_engine: Any = default_engine) -> list:
    P = pkg.pretrade.policies
    param = pkg.param
    log: list = []
    rl = P.build_rate_limit().broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(6, HOUR)))
    sz = P.build_order_size_limit().broker_barrier(
        P.OrderSizeBrokerBarrier(
            P.OrderSizeLimit(max_quantity=param.Quantity("10"), max_notional=param.Volume("50"))
        )
    )
    pb = P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", param.Pnl("-100"), None)
    )
    engine = make_engine(pkg, [P.build_order_validation(), rl, sz, pb], [])
    for kw in ({}, {"qty": "100"}, {"qty": "6"}, {"qty": "0"}, {"qty": None}, {"price": None},
               {"price": None, "vol": "100"}, {"side": None}, {"price": "-1"}):  # fmt: skip
        run_drop_copy(engine, order(pkg, acc=2, **kw), "commit", log)
    execute(engine, order(pkg, acc=3), log)  # the drop copies spent the rate budget
    run_drop_copy(engine, order(pkg, acc=None), None, log)
    run_drop_copy(engine, pkg.Order(), None, log)
    for bad in (3, None):
        try:
            engine.apply_drop_copy(bad)
        except Exception as exc:
            log.append((type(exc).__name__, str(exc)))
    # the P&L kill switch: blocked by a report, unblocked, then a drop copy latches again
    log.append(("report", [block(b) for b in engine.apply_execution_report(report(pkg, 4, "-150")).account_blocks]))
    run_drop_copy(engine, order(pkg, acc=4), "rollback", log)  # blocks are ignored
    engine.accounts().unblock(param.AccountId.from_int(4))
    r = run_drop_copy(engine, order(pkg, acc=4), None, log)
    r.operation.rollback()  # does not undo the latch
    execute(engine, order(pkg, acc=4), log)
    r = engine.apply_drop_copy(order(pkg, acc=5))
    del r
    gc.collect()
    return log


# ---- custom-policy scenarios -----------------------------------------------------------------


def custom_scenarios(pkg: Any, make_engine: Any = default_engine) -> list:
    P = pkg.pretrade
    param = pkg.param
    log: list = []
    rec = Recorder(pkg)
    m, rj = rec.mutation, rec.reject
    accept = P.PolicyPreTradeResult.accept
    refuse = P.PolicyPreTradeResult.reject

    def ctl(code: str = "OTHER") -> Any:
        return lambda c, o: c.account_control.block(
            P.AccountBlock(policy="Z", code=getattr(P.RejectCode, code), reason="zr", details="zd")
        )

    def rec_start(tag: str, result: Any = None) -> Any:
        def hook(c: Any, o: Any) -> Any:
            c.record_drop_copy_start_mutation(m(tag))
            return result
        return hook

    def raising(exc: BaseException) -> Any:
        def hook(c: Any, o: Any) -> Any:
            raise exc
        return hook

    def misuse(c: Any, o: Any) -> None:
        for arg in (m("x"), 3):
            try:
                c.record_drop_copy_start_mutation(arg)
            except Exception as exc:
                rec.log.append(("misuse", type(exc).__name__, str(exc)))

    rl = pkg.pretrade.policies.build_rate_limit().broker_barrier(
        pkg.pretrade.policies.RateLimitBrokerBarrier(pkg.pretrade.policies.RateLimit(1, HOUR))
    )
    pb = pkg.pretrade.policies.build_pnl_bounds_killswitch().broker_barriers(
        pkg.pretrade.policies.PnlBoundsBrokerBarrier("USD", param.Pnl("-100"), None)
    )
    cases: list[tuple[str, list, list, list]] = [
        ("ordinary", [], [
            rec.policy("A", rec_start("s1", [rj("RISK_LIMIT_EXCEEDED")]),
                       lambda c, o: refuse([rj("RISK_LIMIT_EXCEEDED", reason="m")], mutations=[m("m1")])),
            rec.policy("B", None, lambda c, o: accept(mutations=[m("m2")], lock_prices=[param.Price("5")])),
        ], ["commit", "rollback"]),
        ("fatal start", [], [
            rec.policy("A", rec_start("s1", [rj("MISSING_REQUIRED_FIELD")])),
            rec.policy("B", rec_start("s2", [rj("RISK_LIMIT_EXCEEDED")]), lambda c, o: accept(mutations=[m("m2")])),
        ], ["commit"]),
        ("fatal main", [], [
            rec.policy("A", rec_start("s1"), lambda c, o: refuse([rj("UNKNOWN_ACCOUNT"), rj("RISK_LIMIT_EXCEEDED")], mutations=[m("m1")])),
            rec.policy("B", None, lambda c, o: refuse([rj("OTHER"), rj("ARITHMETIC_OVERFLOW", reason="ov")], mutations=[m("m2")])),
        ], ["commit"]),
        ("account start", [], [rec.policy("A", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "acc", "dd")])], ["commit", "rollback", None]),
        ("account fatal", [], [rec.policy("A", lambda c, o: [rj("SYSTEM_UNAVAILABLE", "ACCOUNT", "acc", "dd")])], ["commit"]),
        ("account then fatal", [], [
            rec.policy("A", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "accA", "ddA")]),
            rec.policy("B", None, lambda c, o: refuse([rj("RISK_LIMIT_EXCEEDED", "ACCOUNT", "m", "x"), rj("UNKNOWN_VENUE", reason="ev")])),
        ], ["commit"]),
        ("account main", [], [
            rec.policy("A", None, lambda c, o: refuse([rj("RISK_LIMIT_EXCEEDED", "ACCOUNT", "m1", "x")])),
            rec.policy("B", None, lambda c, o: refuse([rj("RISK_LIMIT_EXCEEDED", "ACCOUNT", "m2", "x")])),
        ], ["rollback"]),
        ("control", [], [rec.policy("A", ctl())], ["rollback"]),
        ("control then fatal", [], [rec.policy("A", ctl()), rec.policy("B", lambda c, o: [rj("UNKNOWN_VENUE")])], ["commit"]),
        ("reject before control", [], [
            rec.policy("A", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "accA", "ddA")]), rec.policy("B", ctl())], ["commit"]),
        ("control before reject", [], [
            rec.policy("B", ctl("PNL_KILL_SWITCH_TRIGGERED")), rec.policy("A", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "accA", "ddA")])], ["commit"]),
        ("mutation order", [], [
            rec.policy("A", rec_start("sA"), lambda c, o: (c.record_drop_copy_start_mutation(m("rA")), accept(mutations=[m("mA")]))[1]),
            rec.policy("B", rec_start("sB"), lambda c, o: accept(mutations=[m("mB")])),
        ], ["commit", "rollback"]),
        ("misuse", [], [rec.policy("A", misuse, misuse)], ["commit"]),
        ("raise start", [], [rec.policy("A", (lambda c, o: (c.record_drop_copy_start_mutation(m("s7")), raising(ValueError("boom"))(c, o)))),
                             rec.policy("B", rec_start("s8"), lambda c, o: accept(mutations=[m("m2")])),
                             rec.policy("C", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "accC", "ddC")])], ["commit"]),
        ("raise main", [], [rec.policy("A", rec_start("s1"), lambda c, o: accept(mutations=[m("m1")])),
                            rec.policy("B", None, raising(KeyError("kb")))], ["commit"]),
        ("rate spent on abort", [rl], [rec.policy("A", lambda c, o: [rj("MISSING_REQUIRED_FIELD")])], ["commit"]),
        ("locks", [], [rec.policy("A", None, lambda c, o: accept(lock_prices=[param.Price("1"), param.Price("2")]), gid=4),
                       rec.policy("B", None, lambda c, o: refuse([rj("OTHER")], lock_prices=[param.Price("3")]))], ["commit"]),
        ("pnl builtin with custom", [pb], [rec.policy("A", ctl())], ["commit"]),
        ("pnl builtin then fatal", [pb], [rec.policy("B", lambda c, o: [rj("UNKNOWN_VENUE")])], ["commit"]),
        ("custom first, pnl later", [], [rec.policy("A", lambda c, o: [rj("COMPLIANCE_RESTRICTION", "ACCOUNT", "accA", "ddA")])], ["commit"]),
    ]
    for name, builtins, customs, finishes in cases:
        for finish in finishes:
            engine = make_engine(pkg, builtins, customs)
            if builtins and builtins[0] is pb:
                engine.apply_execution_report(report(pkg, 1, "-150"))
                engine.accounts().unblock(param.AccountId.from_int(1))
            rec.log.clear()
            rec.on = True
            run_drop_copy(engine, order(pkg), finish, rec.log)
            if finish is None:  # garbage collection rolls it back
                gc.collect()
            rec.on = name in ("rate spent on abort",)
            try:
                execute(engine, order(pkg, acc=1), rec.log)
                execute(engine, order(pkg, acc=2), rec.log)
            except Exception as exc:
                rec.log.append(("raised later", type(exc).__name__))
            log.append((name, finish, list(rec.log)))
    rec.log.clear()  # the drop-copy context calls outside a drop copy
    rec.on = True
    engine = make_engine(pkg, [], [rec.policy("A", misuse, misuse)])
    execute(engine, order(pkg), rec.log)
    log.append(("misuse outside", list(rec.log)))
    return log
