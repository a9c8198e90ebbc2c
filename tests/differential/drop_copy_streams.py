"""Seeded random streams with drop copies, replayed against openpit and against ours.

``replay_builtins(pkg, seed)``: the four builtins of ``builtins_streams`` (random
configuration) under orders, drop copies (of every order shape: rejects of order
size, rate limit, P&L kill switch, order validation), reports, unblocks and P&L
force-sets. ``replay_customs(pkg, seed)``: order validation, rate limit and P&L
with the custom policies of ``custom_policies`` plus ``DropCopyBook``, a custom
policy that records drop-copy start mutations and sometimes rejects with an
evaluation failure, an account-scope reject or an account-control block. Each
returns every observable as plain tuples; ``make_engine(pkg, builtins, customs)``
builds the engine (default: in process, no sync).
"""

from __future__ import annotations

import random
from typing import Any

from . import builtins_streams as BS
from .custom_policies import custom_policy_set
from .drop_copy_scenarios import default_engine, operation_view

FINISHES = ("commit", "rollback", "gc", "keep")


def _drop_copy(engine: Any, o: Any, finish: str, held: list, out: list) -> None:
    try:
        r = engine.apply_drop_copy(o)
    except Exception as exc:
        out.append(("drop_copy", "raised", type(exc).__name__, str(exc)))
        return
    op = r.operation
    view = None if op is None else operation_view(op)
    out.append(("drop_copy", r.ok, BS.rejects(r.rejects), view))
    if op is None:
        return
    if finish == "commit":
        op.commit()
    elif finish == "rollback":
        op.rollback()
    elif finish == "keep":
        held.append(op)
    # "gc": dropped here, rolled back by garbage collection


def _execute(engine: Any, o: Any, finish: str, held: list, out: list) -> None:
    try:
        r = engine.execute_pre_trade(o)
    except Exception as exc:
        out.append(("execute", "raised", type(exc).__name__, str(exc)))
        return
    out.append(("execute", r.ok, BS.rejects(r.rejects)))
    if r.ok:
        if finish == "keep":
            held.append(r.reservation)
        else:
            try:
                getattr(r.reservation, "rollback" if finish == "rollback" else "commit")()
            except Exception as exc:
                out.append(("finalize raised", type(exc).__name__, str(exc)))


def _finish_held(held: list, out: list) -> None:
    for h in held:
        try:
            h.commit()
        except Exception as exc:
            out.append(("held raised", type(exc).__name__, str(exc)))


def make_ops(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed * 104729 + 7)
    ops: list[tuple] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.40:
            ops.append(("drop_copy", *BS._order(rng), rng.choice(FINISHES)))
        elif r < 0.70:
            ops.append(("execute", *BS._order(rng), rng.choice(FINISHES)))
        elif r < 0.85:
            acct = rng.choice(BS.ACCOUNTS)
            inst = (rng.choice(BS.UNDERLYINGS), rng.choice(BS.SETTLEMENTS))
            pnl = ("-" if rng.random() < 0.6 else "") + BS._dec(rng, 0, 400, (0, 1, 2))
            ops.append(("report", acct, inst, pnl, "0", "full"))
        elif r < 0.93:
            ops.append(("unblock", rng.choice(BS.ACCOUNTS)))
        elif r < 0.95:
            ops.append(("no_account",))
        else:
            acct = rng.choice(BS.ACCOUNTS)
            ops.append(("set_pnl", acct, rng.choice(BS.SETTLEMENTS), BS._dec(rng, -300, 300)))
    return ops


def _replay(pkg: Any, engine: Any, ops: list[tuple], has_pnl: bool) -> list[tuple]:
    param = pkg.param
    out: list[tuple] = []
    held: list = []
    for op in ops:
        kind = op[0]
        if kind == "drop_copy":
            _drop_copy(engine, BS.order(pkg, *op[1:6]), op[6], held, out)
        elif kind == "execute":
            _execute(engine, BS.order(pkg, *op[1:6]), op[6], held, out)
        elif kind == "report":
            try:
                res = engine.apply_execution_report(BS.report(pkg, *op[1:6]))
                out.append((kind, tuple(BS.block(x) for x in res.account_blocks)))
            except Exception as exc:
                out.append((kind, "raised", type(exc).__name__, str(exc)))
        elif kind == "unblock":
            engine.accounts().unblock(param.AccountId.from_int(op[1]))
        elif kind == "no_account":
            o = pkg.Order(operation=pkg.OrderOperation(
                instrument=pkg.Instrument("AAPL", "USD"), side=param.Side.BUY,
                trade_amount=param.TradeAmount.quantity(param.Quantity(1)), account_id=None,
                price=param.Price(1),
            ))  # fmt: skip
            r = engine.apply_drop_copy(o)
            out.append((kind, r.ok, BS.rejects(r.rejects)))
        elif kind == "set_pnl" and has_pnl:
            engine.configure().set_account_pnl(
                pkg.pretrade.policies.PnlBoundsKillswitchBuilder.NAME,
                account=param.AccountId.from_int(op[1]), settlement_asset=op[2],
                pnl=param.Pnl(op[3]),
            )  # fmt: skip
    _finish_held(held, out)
    return out


def replay_builtins(pkg: Any, seed: int, n: int = 1500, make_engine: Any = default_engine) -> list:
    cfg = BS.make_config(seed)
    engine = make_engine(pkg, BS.builders(pkg, cfg), [])
    return _replay(pkg, engine, make_ops(seed, n), True)


def drop_copy_book(pkg: Any) -> Any:
    """A custom policy that keeps a per-account count and reacts to drop copies."""
    P = pkg.pretrade
    param = pkg.param
    Code, Scope = P.RejectCode, P.RejectScope

    class DropCopyBook(P.Policy):
        def __init__(self) -> None:
            self.count: dict[int, int] = {}

        @property
        def name(self) -> str:
            return "DropCopyBook"

        @property
        def policy_group_id(self) -> int:
            return 7

        def _bump(self, key: int, delta: int) -> Any:
            self.count[key] = self.count.get(key, 0) + delta
            count = self.count

            def undo() -> None:
                count[key] -= delta

            return pkg.Mutation(commit=lambda: None, rollback=undo)

        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            op = order.operation
            if op is None or op.account_id is None:
                return None
            key = op.account_id.value
            if ctx.is_drop_copy:
                ctx.record_drop_copy_start_mutation(self._bump(key, 1))
            if op.price is not None and str(op.price).endswith("3"):
                return [P.PolicyReject(code=Code.REFERENCE_DATA_UNAVAILABLE, reason="ref",
                                       details=f"price {op.price}")]  # fmt: skip
            if key % 9 == 0 and op.side == param.Side.SELL:
                return [P.PolicyReject(code=Code.ACCOUNT_NOT_AUTHORIZED, reason="auth",
                                       details=f"account {key}", scope=Scope.ACCOUNT)]  # fmt: skip
            return None

        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            op = order.operation
            if op is None or op.account_id is None:
                return None
            key = op.account_id.value
            mutation = self._bump(key, 10)
            if self.count[key] > 150 and ctx.account_control is not None:
                ctx.account_control.block(P.AccountBlock(
                    policy="DropCopyBook", code=Code.RISK_LIMIT_EXCEEDED, reason="too many",
                    details=f"count {self.count[key]}", user_data=key,
                ))  # fmt: skip
            if op.price is not None and str(op.price).endswith("1"):
                return P.PolicyPreTradeResult.reject(
                    [P.PolicyReject(code=Code.MARK_PRICE_UNAVAILABLE, reason="mark", details="x")],
                    mutations=[mutation],
                )
            return P.PolicyPreTradeResult.accept(mutations=[mutation], lock_prices=[op.price]
                                                 if op.price is not None else [])  # fmt: skip

    return DropCopyBook()


def replay_customs(pkg: Any, seed: int, n: int = 1200, make_engine: Any = default_engine) -> list:
    cfg = BS.make_config(seed + 100)
    order_validation, rate, _, pnl = BS.builders(pkg, cfg)
    customs = [*custom_policy_set(pkg), drop_copy_book(pkg)]
    engine = make_engine(pkg, [order_validation, rate, pnl], customs)
    out = _replay(pkg, engine, make_ops(seed + 100, n), True)
    out.append(("counts", sorted(customs[-1].count.items())))
    return out
