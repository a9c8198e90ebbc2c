"""The batch door decides exactly as the object door, and leaves the same state behind.

One engine takes a random stream one request at a time through openpit's
object API (orders, dry runs, reports); a twin takes the same requests as
``ORDER_DTYPE`` records through ``Book.process`` (every reject record) and
through ``engine.execute_batch`` (one result per request), in chunks of
random sizes, with the same unblocks and retunes applied between chunks.
Both read one injected clock, so every counter and log is comparable.
Decimals are written in their shortest form, so the texts the batch door
rebuilds from fixed point equal the object door's.
"""

from __future__ import annotations

import decimal
import random

import numpy as np
import pytest

import openpit_shm
from openpit_shm.layout.records import (
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_REPORT,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    SIDE_BUY,
    SIDE_SELL,
)

from ..differential import builtins_streams as S

NOW = 5_000_000_000_000
SCALE = 8


def _short(rng: random.Random, lo: float, hi: float, scales: tuple[int, ...]) -> str:
    d = decimal.Decimal(f"{rng.uniform(lo, hi):.{rng.choice(scales)}f}").normalize()
    return format(d, "f")


def _fixed(text: str) -> int:
    return int(decimal.Decimal(text).scaleb(SCALE))


def _requests(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed)
    out: list[tuple] = []
    for _ in range(n):
        r = rng.random()
        acct = rng.choice(S.ACCOUNTS)
        inst = (rng.choice(S.UNDERLYINGS), rng.choice(S.SETTLEMENTS))
        if r < 0.75:
            kind = "order" if r < 0.6 else rng.choice(["dry_start", "dry_order"])
            vol = rng.random() < 0.2
            top = 90_000 if vol else 900
            amount = "0" if rng.random() < 0.03 else _short(rng, 1, top, (0, 1, 2))
            price = None if rng.random() < 0.05 else _short(rng, 1, 400, (0, 1, 2, 3))
            side = rng.choice(["BUY", "SELL"])
            if rng.random() < 0.02:
                out.append((kind, None))  # an order without an operation
            else:
                what = "volume" if vol else "quantity"
                out.append((kind, acct, inst, side, (what, amount), price))
        else:
            pnl = ("-" if rng.random() < 0.55 else "") + _short(rng, 0, 200, (0, 1, 2))
            fee = _short(rng, 0, 3, (0, 2)) if rng.random() < 0.6 else "0"
            out.append(("report", acct, inst, pnl, fee))
    return out


def _record(engine: openpit_shm.Engine, seq: int, req: tuple) -> np.void:
    rec = np.zeros(1, dtype=ORDER_DTYPE)[0]
    rec["seq"] = seq
    kind = req[0]
    if kind == "report":
        _, acct, inst, pnl, fee = req
        rec["kind"] = MSG_REPORT
        rec["account"] = acct
        rec["instrument"] = engine.register_instrument(openpit_shm.Instrument(*inst))
        rec["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
        rec["side"] = SIDE_BUY
        rec["pnl"], rec["fee"] = _fixed(pnl), _fixed(fee)
        rec["ref"] = engine.record_format.order_ref  # (scales 0: not known)
        return rec
    rec["kind"] = {"order": MSG_ORDER, "dry_start": MSG_DRY_START, "dry_order": MSG_DRY_ORDER}[kind]
    rec["ref"] = engine.record_format.order_ref
    if req[1] is None:
        rec["flags"] = ORDER_AUTO_COMMIT
        return rec
    _, acct, inst, side, (what, amount), price = req
    flags = ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT
    if what == "volume":
        flags |= ORDER_VOLUME
    if price is not None:
        flags |= ORDER_HAS_PRICE
        rec["price"] = _fixed(price)
    rec["account"] = acct
    rec["instrument"] = engine.register_instrument(openpit_shm.Instrument(*inst))
    rec["side"] = SIDE_BUY if side == "BUY" else SIDE_SELL
    rec["amount"] = _fixed(amount)
    rec["flags"] = flags
    return rec


def _object_door(engine: openpit_shm.Engine, req: tuple) -> tuple:
    kind = req[0]
    if kind == "report":
        _, acct, inst, pnl, fee = req
        res = engine.apply_execution_report(S.report(openpit_shm, acct, inst, pnl, fee, "full"))
        return ("report", tuple(S.block(b)[:4] for b in res.account_blocks))
    order = openpit_shm.Order() if req[1] is None else S.order(openpit_shm, *req[1:])
    if kind == "order":
        r = engine.execute_pre_trade(order)
        if r.ok:
            r.reservation.commit()
        return (kind, r.ok, tuple(x[:5] for x in S.rejects(r.rejects)))
    d = (
        engine.start_pre_trade_dry_run(order)
        if kind == "dry_start"
        else engine.execute_pre_trade_dry_run(order)
    )
    return (kind, d.is_pass, tuple(x[:5] for x in (S.rejects(d.rejects) or ())))


def _batch_door(engine: openpit_shm.Engine, reqs: list[tuple], seq0: int) -> list[tuple]:
    book = engine._book
    records = np.array([_record(engine, seq0 + i, r) for i, r in enumerate(reqs)], ORDER_DTYPE)
    results = np.zeros(len(reqs) * (len(engine._entries) + 2), dtype=RESULT_DTYPE)
    done, written = book.process(records, results, NOW)
    assert done == len(reqs)
    by_seq: dict[int, list] = {}
    for rec in results[:written]:
        by_seq.setdefault(int(rec["seq"]), []).append(rec)
    out = []
    for i, req in enumerate(reqs):
        recs = by_seq[seq0 + i]
        if recs[0]["count"] == 0:
            texts: tuple = ()
        else:
            texts = tuple(book.describe(rec)[:5] for rec in recs)
        if req[0] == "report":
            out.append(("report", tuple(t[:4] for t in texts)))
        else:
            out.append((req[0], not texts, texts))
    return out


def _engine(cfg: dict) -> openpit_shm.Engine:
    b = openpit_shm.Engine.builder().with_clock(lambda: NOW).no_sync()
    for x in S.builders(openpit_shm, cfg):
        b = b.builtin(x)
    return b.build()


@pytest.mark.parametrize("seed", range(6))
def test_should_decide_and_end_identically_in_batches_and_one_by_one(seed: int) -> None:
    cfg = S.make_config(seed)
    one, many, first = _engine(cfg), _engine(cfg), _engine(cfg)
    rng = random.Random(seed)
    reqs = _requests(seed, 2500)
    i = 0
    while i < len(reqs):
        chunk = reqs[i : i + rng.randrange(1, 400)]
        expected = [_object_door(one, r) for r in chunk]
        assert _batch_door(many, chunk, i) == expected, f"chunk at {i}"
        # execute_batch: one result per request, the first reject when rejected
        got = first.execute_batch(
            np.array([_record(first, i + k, r) for k, r in enumerate(chunk)], ORDER_DTYPE)
        )
        clean = [e[1] if e[0] != "report" else not e[1] for e in expected]
        assert [bool(g["count"] == 0) for g in got] == clean
        # the same control operations on all three between chunks
        acct = openpit_shm.param.AccountId.from_int(rng.choice(S.ACCOUNTS))
        for e in (one, many, first):
            e.accounts().unblock(acct)
        if rng.random() < 0.3:
            retune = S._rate_retune(rng)
            for e in (one, many, first):
                S._call(lambda e=e, retune=retune: S._retune_rate(e, openpit_shm, *retune))
        i += len(chunk)
    assert one._book.snapshot(NOW) == many._book.snapshot(NOW) == first._book.snapshot(NOW)
