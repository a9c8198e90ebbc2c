"""Seeded random operation streams, replayed against openpit and openpit_shm alike.

``make_ops`` produces plain data; ``replay(module, ops, policies)`` drives one
engine built from ``module`` (either package) and returns what a caller can
observe: ok flags, rejects (policy, code, reason, details, scope, user_data),
blocks, lock JSON, exceptions (type and message). Two replays of the same ops
must be equal for the two packages to decide identically.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

ASSETS = ["S000", "S001", "S002", "S003", "S004"]
SETTLE = ["USD", "EUR"]


def make_ops(seed: int, n: int, accounts: int = 12) -> list[tuple]:
    rng = random.Random(seed)
    ops: list[tuple] = []
    open_count = 0
    for _ in range(n):
        r = rng.random()
        acct = rng.randrange(1, accounts + 1)
        inst = (rng.choice(ASSETS), rng.choice(SETTLE))
        side = rng.choice(["BUY", "SELL"])
        if rng.random() < 0.04:
            amount = ("quantity", "0")
        elif rng.random() < 0.15:
            amount = ("volume", str(rng.randrange(1, 200_000)))
        else:
            amount = ("quantity", str(rng.randrange(1, 1000)))
        price = None if rng.random() < 0.05 else f"{rng.randrange(1000, 50000) / 100:.2f}"
        if r < 0.45:
            ops.append(("execute", acct, inst, side, amount, price))
            open_count += 1
        elif r < 0.55:
            ops.append(("two_stage", acct, inst, side, amount, price, rng.random() < 0.2))
            open_count += 1
        elif r < 0.65 and open_count:
            ops.append(("finalize", rng.randrange(open_count), rng.random() < 0.7))
        elif r < 0.75:
            pnl = f"{rng.randrange(-40000, 20000) / 100:.2f}"
            fee = f"{rng.randrange(0, 500) / 100:.2f}"
            ops.append(("report", acct, inst, side, pnl, fee))
        elif r < 0.80:
            ops.append(("dry_start", acct, inst, side, amount, price))
        elif r < 0.85:
            ops.append(("dry_execute", acct, inst, side, amount, price))
        elif r < 0.88:
            ops.append(("block", acct, f"manual stop {rng.randrange(100)}"))
        elif r < 0.94:
            ops.append(("unblock", acct))
        elif r < 0.96:
            ops.append(("unblock_all",))
        elif r < 0.98:
            ops.append(("no_operation",))
        else:
            ops.append(("gc",))
    return ops


def _rejects(rejects: Any) -> Any:
    if rejects is None:
        return None
    return [
        (r.policy, str(r.code), r.reason, r.details, str(r.scope), r.user_data) for r in rejects
    ]


def _block(b: Any) -> Any:
    if b is None:
        return None
    return (b.policy, str(b.code), b.reason, b.details, b.user_data)


def replay(mod: Any, ops: list[tuple], build: Callable[[Any], Any]) -> list[Any]:
    """Run ``ops`` on ``build(mod)`` and return one observation per op."""
    param = mod.param
    engine = build(mod)
    reservations: list[Any] = []
    seen: list[Any] = []

    def order(acct: int, inst: tuple, side: str, amount: tuple, price: str | None) -> Any:
        kind, value = amount
        trade = (
            param.TradeAmount.quantity(param.Quantity(value))
            if kind == "quantity"
            else param.TradeAmount.volume(param.Volume(value))
        )
        return mod.Order(
            operation=mod.OrderOperation(
                instrument=mod.Instrument(*inst),
                account_id=param.AccountId.from_int(acct),
                side=param.Side(side),
                trade_amount=trade,
                price=None if price is None else param.Price(price),
            )
        )

    for op in ops:
        kind = op[0]
        try:
            if kind == "execute":
                res = engine.execute_pre_trade(order(*op[1:]))
                if res.ok:
                    reservations.append(res.reservation)
                    seen.append(("ok", res.reservation.lock.to_json()))
                else:
                    seen.append(("reject", _rejects(res.rejects)))
            elif kind == "two_stage":
                start = engine.start_pre_trade(order(*op[1:6]))
                if not start.ok:
                    seen.append(("start reject", _rejects(start.rejects)))
                    continue
                if op[6]:  # block between start and execute: the main-stage gate must see it
                    engine.accounts().block(param.AccountId.from_int(op[1]), "between stages")
                res = start.request.execute()
                if res.ok:
                    reservations.append(res.reservation)
                    seen.append(("ok", res.reservation.lock.to_json()))
                else:
                    seen.append(("main reject", _rejects(res.rejects)))
            elif kind == "finalize":
                if not reservations:
                    seen.append(("nothing open",))
                    continue
                res = reservations.pop(op[1] % len(reservations))
                (res.commit if op[2] else res.rollback)()
                seen.append(("finalized",))
            elif kind == "report":
                acct, inst, side, pnl, fee = op[1:]
                report = mod.ExecutionReport(
                    operation=mod.ExecutionReportOperation(
                        instrument=mod.Instrument(*inst),
                        account_id=param.AccountId.from_int(acct),
                        side=param.Side(side),
                    ),
                    financial_impact=mod.FinancialImpact(pnl=param.Pnl(pnl), fee=param.Fee(fee)),
                )
                post = engine.apply_execution_report(report)
                seen.append(("post", [_block(b) for b in post.account_blocks]))
            elif kind in ("dry_start", "dry_execute"):
                fn = (
                    engine.start_pre_trade_dry_run
                    if kind == "dry_start"
                    else engine.execute_pre_trade_dry_run
                )
                rep = fn(order(*op[1:]))
                seen.append(
                    (
                        "dry",
                        rep.is_pass,
                        _rejects(rep.rejects),
                        _block(rep.account_block),
                        rep.lock.to_json(),
                    )
                )
            elif kind == "block":
                engine.accounts().block(param.AccountId.from_int(op[1]), op[2])
                seen.append(("blocked",))
            elif kind == "unblock":
                engine.accounts().unblock(param.AccountId.from_int(op[1]))
                seen.append(("unblocked",))
            elif kind == "unblock_all":
                engine.accounts().unblock_all()
                seen.append(("unblocked all",))
            elif kind == "no_operation":
                res = engine.execute_pre_trade(mod.Order(operation=None))
                if res.ok:
                    reservations.append(res.reservation)
                seen.append(("no operation", res.ok, _rejects(res.rejects)))
            elif kind == "gc":
                # Drop the oldest open reservation unfinalized: GC must roll it back.
                if reservations:
                    reservations.pop(0)
                seen.append(("dropped",))
        except Exception as exc:  # a raising policy or finalizer is an observation too
            seen.append(("raised", type(exc).__name__, str(exc)))
    return seen
