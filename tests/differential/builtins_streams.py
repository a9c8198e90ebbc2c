"""Seeded random streams for the four builtins, replayed against openpit and against ours.

``make_config(seed)`` draws a configuration of all four builtins (every
barrier kind, decimals of assorted scales); ``make_ops(seed, n)`` draws a
stream of orders (quantity and volume, limit and market, zero amounts, no
operation), two-stage requests, reservations finalized or not, dry runs,
execution reports (P&L and fees of assorted scales, missing groups),
unblocks, retunes of every configurable builtin and P&L force-sets.

``replay(driver, config, ops)`` runs one stream through a *driver* (an
adapter over a package) and returns everything a caller can observe, as
plain tuples, so two replays compare with ``==``:

* ``OpenpitDriver`` / ``EngineDriver(openpit_shm)``: the real engines;
* ``BookDriver``: our Book driven directly, the way an all-builtin engine
  drives it (used before the engine exists, and to pin the Book's own
  behaviour independently of the engine).

Windows are an hour long, so wall-clock time never decides.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

ACCOUNTS = list(range(1, 41))
UNDERLYINGS = ["S000", "S001", "S002", "S003", "S004", "AAPL"]
SETTLEMENTS = ["USD", "EUR"]
HOUR = datetime.timedelta(hours=1)


def _dec(rng: random.Random, lo: float, hi: float, scales: tuple[int, ...] = (0, 1, 2)) -> str:
    scale = rng.choice(scales)
    value = rng.uniform(lo, hi)
    return f"{value:.{scale}f}"


# ---- configuration --------------------------------------------------------------------------


def make_config(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    cfg: dict[str, Any] = {}
    cfg["rate"] = {
        "broker": (rng.randrange(300, 900), HOUR),
        "assets": [(a, rng.randrange(100, 400)) for a in SETTLEMENTS if rng.random() < 0.7],
        "accounts": [(a, rng.randrange(0, 40)) for a in ACCOUNTS if rng.random() < 0.5],
        "pairs": [
            (a, s, rng.randrange(0, 15))
            for a in ACCOUNTS
            for s in SETTLEMENTS
            if rng.random() < 0.2
        ],
    }
    cfg["size"] = {
        "broker": _caps(rng, 1.0),
        "assets": [(_caps(rng, 0.7), a) for a in UNDERLYINGS + SETTLEMENTS if rng.random() < 0.6],
        "pairs": [
            (_caps(rng, 0.7), acct, a)
            for acct in ACCOUNTS[:12]
            for a in UNDERLYINGS + SETTLEMENTS
            if rng.random() < 0.1
        ],
    }
    cfg["size"]["assets"] = [x for x in cfg["size"]["assets"] if x[0] is not None]
    cfg["size"]["pairs"] = [x for x in cfg["size"]["pairs"] if x[0] is not None]
    cfg["pnl"] = {
        "broker": [(s, *_bounds(rng)) for s in SETTLEMENTS if rng.random() < 0.8],
        "accounts": [
            (acct, s, *_bounds(rng), _dec(rng, -200, 200))
            for acct in ACCOUNTS
            for s in SETTLEMENTS
            if rng.random() < 0.2
        ],
    }
    if not cfg["pnl"]["broker"] and not cfg["pnl"]["accounts"]:
        cfg["pnl"]["broker"] = [("USD", "-1000", None)]
    return cfg


def _caps(rng: random.Random, p_any: float) -> tuple[str | None, str | None] | None:
    if rng.random() > p_any:
        return None
    q = _dec(rng, 50, 900, (0, 1)) if rng.random() < 0.7 else None
    n = _dec(rng, 2_000, 200_000, (0, 1, 2)) if rng.random() < 0.7 else None
    if q is None and n is None:
        q = "500"
    return (q, n)


def _bounds(rng: random.Random) -> tuple[str | None, str | None]:
    lower = "-" + _dec(rng, 200, 1500) if rng.random() < 0.8 else None
    upper = _dec(rng, 200, 1500) if rng.random() < 0.5 else None
    if lower is None and upper is None:
        lower = "-800"
    return lower, upper


# ---- operations -----------------------------------------------------------------------------


def _order(rng: random.Random) -> tuple:
    acct = rng.choice(ACCOUNTS)
    inst = (rng.choice(UNDERLYINGS), rng.choice(SETTLEMENTS))
    side = rng.choice(["BUY", "SELL"])
    r = rng.random()
    if r < 0.03:
        amount = ("quantity", rng.choice(["0", "0.00"]))
    elif r < 0.05:
        amount = ("volume", "0")
    elif r < 0.25:
        amount = ("volume", _dec(rng, 10, 250_000, (0, 1, 2)))
    else:
        amount = ("quantity", _dec(rng, 1, 1000, (0, 0, 1, 3)))
    p = rng.random()
    if p < 0.06:
        price = None
    elif p < 0.08:
        price = rng.choice(["0", "-12.5", "0.00"])
    else:
        price = _dec(rng, 1, 500, (0, 1, 2, 4))
    return (acct, inst, side, amount, price)


def make_ops(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed * 7919 + 13)
    ops: list[tuple] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.40:
            ops.append(("execute", *_order(rng), rng.choice(["commit", "rollback", "keep"])))
        elif r < 0.50:
            ops.append(("two_stage", *_order(rng), rng.random() < 0.15))
        elif r < 0.56:
            ops.append(("dry_start", *_order(rng)))
        elif r < 0.62:
            ops.append(("dry_execute", *_order(rng)))
        elif r < 0.64:
            ops.append(("no_operation", rng.choice(["start", "execute", "dry_start"])))
        elif r < 0.78:
            acct = rng.choice(ACCOUNTS)
            inst = (rng.choice(UNDERLYINGS), rng.choice(SETTLEMENTS))
            pnl = ("-" if rng.random() < 0.5 else "") + _dec(rng, 0, 150, (0, 1, 2))
            fee = _dec(rng, 0, 5, (0, 2)) if rng.random() < 0.7 else "0"
            shape = "full" if rng.random() < 0.98 else rng.choice(["no_financial", "no_operation"])
            ops.append(("report", acct, inst, pnl, fee, shape))
        elif r < 0.85:
            ops.append(("unblock", rng.choice(ACCOUNTS)))
        elif r < 0.86:
            ops.append(("unblock_all",))
        elif r < 0.89:
            ops.append(("retune_rate", *_rate_retune(rng)))
        elif r < 0.92:
            ops.append(("retune_size", *_size_retune(rng)))
        elif r < 0.95:
            ops.append(("retune_pnl", *_pnl_retune(rng)))
        else:
            acct = rng.choice(ACCOUNTS)
            ops.append(("set_pnl", acct, rng.choice(SETTLEMENTS), _dec(rng, -300, 300, (0, 2, 3))))
    return ops


def _rate_retune(rng: random.Random) -> tuple:
    which = rng.choice(["broker", "clear_broker", "assets", "accounts", "pairs", "bad"])
    if which == "bad":  # invalid: a zero window (VALIDATION) or broker + clear (ValueError)
        return (which, rng.choice(["zero_window", "both"]))
    if which == "broker":
        return (which, rng.randrange(200, 900))
    if which == "clear_broker":
        return (which, None)
    if which == "assets":
        return (which, [(a, rng.randrange(50, 400)) for a in SETTLEMENTS if rng.random() < 0.6])
    if which == "accounts":
        return (which, [(a, rng.randrange(0, 40)) for a in ACCOUNTS if rng.random() < 0.5])
    return (which, [(a, s, rng.randrange(0, 15)) for a in ACCOUNTS for s in SETTLEMENTS
                    if rng.random() < 0.2])


def _size_retune(rng: random.Random) -> tuple:
    which = rng.choice(["broker", "clear_broker", "assets", "pairs", "bad"])
    if which == "bad":  # invalid: an empty limit or a duplicate key (VALIDATION)
        return (which, rng.choice(["empty", "duplicate"]))
    if which == "broker":
        caps = _caps(rng, 1.0)
        return (which, caps)
    if which == "clear_broker":
        return (which, None)
    if which == "assets":
        items = [(_caps(rng, 1.0), a) for a in UNDERLYINGS + SETTLEMENTS if rng.random() < 0.5]
        return (which, items)
    items = [(_caps(rng, 1.0), acct, a) for acct in ACCOUNTS[:12] for a in UNDERLYINGS + SETTLEMENTS
             if rng.random() < 0.1]
    return (which, items)


def _pnl_retune(rng: random.Random) -> tuple:
    if rng.random() < 0.1:  # invalid: a barrier without bounds, or no barrier at all
        return ([("USD", None, None)], None) if rng.random() < 0.5 else ([], [])
    broker = None
    accounts = None
    if rng.random() < 0.6:
        broker = [(s, *_bounds(rng)) for s in SETTLEMENTS if rng.random() < 0.7]
    if rng.random() < 0.6:
        accounts = [(a, s, *_bounds(rng)) for a in ACCOUNTS for s in SETTLEMENTS
                    if rng.random() < 0.15]
    return (broker, accounts)


# ---- building engines of either package -------------------------------------------------------


def builders(pkg: Any, cfg: dict[str, Any]) -> list[Any]:
    """The four builtin ready-builders of ``cfg`` in package ``pkg`` (openpit or openpit_shm)."""
    P = pkg.pretrade.policies
    param = pkg.param
    acc = param.AccountId.from_int
    rate = cfg["rate"]
    rb = P.build_rate_limit().broker_barrier(
        P.RateLimitBrokerBarrier(P.RateLimit(rate["broker"][0], rate["broker"][1]))
    )
    rb.asset_barriers(
        *[P.RateLimitAssetBarrier(P.RateLimit(m, HOUR), a) for a, m in rate["assets"]]
    )
    rb.account_barriers(
        *[P.RateLimitAccountBarrier(P.RateLimit(m, HOUR), acc(a)) for a, m in rate["accounts"]]
    )
    rb.account_asset_barriers(
        *[
            P.RateLimitAccountAssetBarrier(P.RateLimit(m, HOUR), acc(a), s)
            for a, s, m in rate["pairs"]
        ]
    )
    size = cfg["size"]
    sb = P.build_order_size_limit().asset_barriers(
        *[P.OrderSizeAssetBarrier(osl(pkg, c), a) for c, a in size["assets"]]
    )
    if size["broker"] is not None:
        sb.broker_barrier(P.OrderSizeBrokerBarrier(osl(pkg, size["broker"])))
    sb.account_asset_barriers(
        *[P.OrderSizeAccountAssetBarrier(osl(pkg, c), acc(a), s) for c, a, s in size["pairs"]]
    )
    pnl = cfg["pnl"]
    pb = P.build_pnl_bounds_killswitch().broker_barriers(
        *[pnl_barrier(pkg, s, lo, up) for s, lo, up in pnl["broker"]]
    )
    pb.account_barriers(
        *[
            P.PnlBoundsAccountAssetBarrier(pnl_barrier(pkg, s, lo, up), acc(a), param.Pnl(init))
            for a, s, lo, up, init in pnl["accounts"]
        ]
    )
    return [P.build_order_validation(), rb, sb, pb]


def osl(pkg: Any, caps: tuple[str | None, str | None]) -> Any:
    q, n = caps
    return pkg.pretrade.policies.OrderSizeLimit(
        max_quantity=None if q is None else pkg.param.Quantity(q),
        max_notional=None if n is None else pkg.param.Volume(n),
    )


def pnl_barrier(pkg: Any, asset: str, lower: str | None, upper: str | None) -> Any:
    Pnl = pkg.param.Pnl
    return pkg.pretrade.policies.PnlBoundsBrokerBarrier(
        asset, None if lower is None else Pnl(lower), None if upper is None else Pnl(upper)
    )


def order(pkg: Any, acct: int, inst: tuple[str, str], side: str, amount: tuple, price: Any) -> Any:
    param = pkg.param
    ta = (
        param.TradeAmount.quantity(param.Quantity(amount[1]))
        if amount[0] == "quantity"
        else param.TradeAmount.volume(param.Volume(amount[1]))
    )
    op = pkg.OrderOperation(
        instrument=pkg.Instrument(*inst),
        side=param.Side(side),
        trade_amount=ta,
        account_id=param.AccountId.from_int(acct),
        price=None if price is None else param.Price(price),
    )
    return pkg.Order(operation=op)


def report(pkg: Any, acct: int, inst: tuple[str, str], pnl: str, fee: str, shape: str) -> Any:
    param = pkg.param
    op = pkg.ExecutionReportOperation(
        instrument=pkg.Instrument(*inst),
        side=param.Side.BUY,
        account_id=param.AccountId.from_int(acct),
    )
    fin = pkg.FinancialImpact(pnl=param.Pnl(pnl), fee=param.Fee(fee))
    if shape == "no_financial":
        return pkg.ExecutionReport(operation=op)
    if shape == "no_operation":
        return pkg.ExecutionReport(financial_impact=fin)
    return pkg.ExecutionReport(operation=op, financial_impact=fin)


def rejects(rs: Any) -> tuple | None:
    if rs is None:
        return None
    return tuple((r.policy, r.code, r.reason, r.details, r.scope, r.user_data) for r in rs)


def block(b: Any) -> tuple | None:
    if b is None:
        return None
    return (b.policy, b.code, b.reason, b.details, b.user_data)


# ---- replay ---------------------------------------------------------------------------------


def replay(
    pkg: Any, cfg: dict[str, Any], ops: list[tuple], make_engine: Any = None
) -> list[tuple]:
    """Drive an engine of ``pkg`` (openpit or openpit_shm) through ``ops``.

    ``make_engine(ready_builders)`` builds the engine; by default the
    package's own ``Engine.builder().no_sync()...build()``.
    """
    if make_engine is None:
        b = pkg.Engine.builder().no_sync()
        for x in builders(pkg, cfg):
            b = b.builtin(x)
        engine = b.build()
    else:
        engine = make_engine(builders(pkg, cfg))
    P = pkg.pretrade.policies
    param = pkg.param
    out: list[tuple] = []
    held: list[Any] = []
    for op in ops:
        kind = op[0]
        if kind == "execute":
            r = engine.execute_pre_trade(order(pkg, *op[1:6]))
            out.append((kind, r.ok, rejects(r.rejects)))
            if r.ok:
                if op[6] == "commit":
                    r.reservation.commit()
                elif op[6] == "rollback":
                    r.reservation.rollback()
                else:
                    held.append(r.reservation)
        elif kind == "two_stage":
            s = engine.start_pre_trade(order(pkg, *op[1:6]))
            out.append((kind, s.ok, rejects(s.rejects)))
            if s.ok and not op[6]:
                e = s.request.execute()
                out.append(("exec", e.ok, rejects(e.rejects)))
                if e.ok:
                    e.reservation.commit()
        elif kind in ("dry_start", "dry_execute"):
            o = order(pkg, *op[1:6])
            d = (
                engine.start_pre_trade_dry_run(o)
                if kind == "dry_start"
                else engine.execute_pre_trade_dry_run(o)
            )
            out.append((kind, d.is_pass, rejects(d.rejects), block(d.account_block)))
        elif kind == "no_operation":
            o = pkg.Order()
            if op[1] == "start":
                r = engine.start_pre_trade(o)
            elif op[1] == "execute":
                r = engine.execute_pre_trade(o)
            else:
                d = engine.start_pre_trade_dry_run(o)
                out.append((kind, d.is_pass, rejects(d.rejects)))
                continue
            out.append((kind, r.ok, rejects(r.rejects)))
        elif kind == "report":
            res = engine.apply_execution_report(report(pkg, *op[1:6]))
            out.append((kind, tuple(block(x) for x in res.account_blocks)))
        elif kind == "unblock":
            engine.accounts().unblock(param.AccountId.from_int(op[1]))
        elif kind == "unblock_all":
            engine.accounts().unblock_all()
        elif kind == "retune_rate":
            out.append((kind, _call(lambda op=op: _retune_rate(engine, pkg, *op[1:]))))
        elif kind == "retune_size":
            out.append((kind, _call(lambda op=op: _retune_size(engine, pkg, *op[1:]))))
        elif kind == "retune_pnl":
            out.append((kind, _call(lambda op=op: _retune_pnl(engine, pkg, *op[1:]))))
        elif kind == "set_pnl":
            engine.configure().set_account_pnl(
                P.PnlBoundsKillswitchBuilder.NAME,
                account=param.AccountId.from_int(op[1]),
                settlement_asset=op[2],
                pnl=param.Pnl(op[3]),
            )
        else:  # pragma: no cover - a typo in the generator
            raise ValueError(kind)
    for r in held:
        r.rollback()
    return out


def _call(fn: Any) -> tuple:
    try:
        fn()
    except Exception as exc:
        return (type(exc).__name__, str(exc), int(getattr(exc, "kind", -1)))
    return ("ok",)


def _retune_rate(engine: Any, pkg: Any, which: str, value: Any) -> None:
    P = pkg.pretrade.policies
    acc = pkg.param.AccountId.from_int
    c = engine.configure()
    name = P.RateLimitBuilder.NAME
    if which == "bad":
        if value == "zero_window":
            zero = datetime.timedelta(0)
            c.rate_limit(name, broker=P.RateLimitBrokerBarrier(P.RateLimit(5, zero)))
        else:
            b = P.RateLimitBrokerBarrier(P.RateLimit(5, HOUR))
            c.rate_limit(name, broker=b, clear_broker=True)
    elif which == "broker":
        c.rate_limit(name, broker=P.RateLimitBrokerBarrier(P.RateLimit(value, HOUR)))
    elif which == "clear_broker":
        c.rate_limit(name, clear_broker=True)
    elif which == "assets":
        c.rate_limit(
            name,
            asset_barriers=[P.RateLimitAssetBarrier(P.RateLimit(m, HOUR), a) for a, m in value],
        )
    elif which == "accounts":
        c.rate_limit(
            name,
            account_barriers=[
                P.RateLimitAccountBarrier(P.RateLimit(m, HOUR), acc(a)) for a, m in value
            ],
        )
    else:
        c.rate_limit(
            name,
            account_asset_barriers=[
                P.RateLimitAccountAssetBarrier(P.RateLimit(m, HOUR), acc(a), s) for a, s, m in value
            ],
        )


def _retune_size(engine: Any, pkg: Any, which: str, value: Any) -> None:
    P = pkg.pretrade.policies
    acc = pkg.param.AccountId.from_int
    c = engine.configure()
    name = P.OrderSizeLimitBuilder.NAME
    if which == "bad":
        if value == "empty":
            empty = P.OrderSizeLimit()
            c.order_size_limit(name, asset_barriers=[P.OrderSizeAssetBarrier(empty, "USD")])
        else:
            cap = osl(pkg, ("5", None))
            c.order_size_limit(
                name,
                asset_barriers=[P.OrderSizeAssetBarrier(cap, "S000")] * 2,
            )
    elif which == "broker":
        c.order_size_limit(name, broker=P.OrderSizeBrokerBarrier(osl(pkg, value)))
    elif which == "clear_broker":
        c.order_size_limit(name, clear_broker=True)
    elif which == "assets":
        c.order_size_limit(
            name, asset_barriers=[P.OrderSizeAssetBarrier(osl(pkg, cap), a) for cap, a in value]
        )
    else:
        c.order_size_limit(
            name,
            account_asset_barriers=[
                P.OrderSizeAccountAssetBarrier(osl(pkg, cap), acc(a), s) for cap, a, s in value
            ],
        )


def _retune_pnl(engine: Any, pkg: Any, broker: Any, accounts: Any) -> None:
    P = pkg.pretrade.policies
    acc = pkg.param.AccountId.from_int
    engine.configure().pnl_bounds_killswitch(
        P.PnlBoundsKillswitchBuilder.NAME,
        broker_barriers=None
        if broker is None
        else [pnl_barrier(pkg, s, lo, up) for s, lo, up in broker],
        account_barriers=None
        if accounts is None
        else [
            P.PnlBoundsAccountAssetBarrierUpdate(pnl_barrier(pkg, s, lo, up), acc(a))
            for a, s, lo, up in accounts
        ],
    )
