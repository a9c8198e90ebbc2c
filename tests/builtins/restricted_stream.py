"""A seeded stream of orders over restricted and unrestricted instruments, with list changes.

Shared by the restricted-instrument tests of every door (objects, NumPy batches,
sharded, C). The engine: order validation, the restricted-instrument list and
an order-size cap on USD, so an order can carry several rejects (their order
is the registration order). Decisions depend only on the order and the list
(no counters), so shards deciding in any interleaving must agree exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

import openpit_shm as op
from openpit_shm.layout.records import (
    MSG_ORDER,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    RESULT_DTYPE,
    SIDE_BUY,
    SIDE_SELL,
)

pol = op.pretrade.policies
P = op.param

NAME = "RestrictedInstrumentsPolicy"
INSTRUMENTS = (
    ("AAPL", "USD"), ("MSFT", "USD"), ("AAPL", "EUR"), ("BTC", "USDT"), ("ETH", "USDT"),
    ("SAP", "EUR"), ("GOLD", "USD"), ("NOPE", "CHF"),
)  # fmt: skip
INITIAL = (("AAPL", "USD"), ("BTC", "USDT"), ("NEVER", "TRADED"))
ACCOUNTS = (1, 2, 3, 7, 11, 99, 1000, 123456)
SCALE = 8

Pair = tuple[str, str]
#: (account, instrument or None for an order without an operation, side, quantity, price)
Request = tuple[int, Pair | None, str, int, int]


@dataclass(frozen=True)
class Change:
    """A ``configure().restricted_instruments`` call made before order ``at``."""

    at: int
    restrict: tuple[Pair, ...]
    allow: tuple[Pair, ...]

    def apply(self, engine: Any) -> None:
        engine.configure().restricted_instruments(
            NAME,
            restrict=[op.Instrument(*p) for p in self.restrict],
            allow=[op.Instrument(*p) for p in self.allow],
        )


def builder(sync: str = "no_sync") -> Any:
    size = pol.build_order_size_limit().asset_barriers(
        pol.OrderSizeAssetBarrier(pol.OrderSizeLimit(max_quantity=P.Quantity(900)), "USD")
    )
    restricted = pol.build_restricted_instruments().restrict(*[op.Instrument(*p) for p in INITIAL])
    b = getattr(op.Engine.builder(), sync)()
    return b.builtin(pol.build_order_validation()).builtin(restricted).builtin(size)


def stream(seed: int, n: int, every: int = 80) -> tuple[list[Request], list[Change]]:
    rng = random.Random(seed)
    reqs: list[Request] = []
    for _ in range(n):
        inst = None if rng.random() < 0.04 else rng.choice(INSTRUMENTS)
        reqs.append((rng.choice(ACCOUNTS), inst, rng.choice(["BUY", "SELL"]),
                     rng.randrange(1, 1000), rng.randrange(1, 500)))  # fmt: skip
    changes = []
    for at in range(every, n, every):
        picks = rng.sample(INSTRUMENTS, 4)
        changes.append(Change(at, tuple(picks[: rng.randrange(0, 3)]), tuple(picks[2:])))
    return reqs, changes


def chunks(reqs: list[Request], changes: list[Change]) -> list[tuple[int, list[Request], Any]]:
    """(first index, requests, the change made before them or None) in stream order."""
    cuts = [0] + [c.at for c in changes] + [len(reqs)]
    before = [None, *changes]
    return [(a, reqs[a:b], ch) for a, b, ch in zip(cuts[:-1], cuts[1:], before, strict=True)]


def model(changes: list[Change], n: int) -> list[set[Pair]]:
    """The list in force at each order (the oracle: restrict adds, allow removes)."""
    live, out, todo = set(INITIAL), [], list(changes)
    for i in range(n):
        while todo and todo[0].at == i:
            ch = todo.pop(0)
            live = (live | set(ch.restrict)) - set(ch.allow)
        out.append(set(live))
    return out


def order(req: Request) -> Any:
    account, inst, side, qty, price = req
    if inst is None:
        return op.Order()
    return op.Order(operation=op.OrderOperation(
        instrument=op.Instrument(*inst), account_id=P.AccountId.from_int(account),
        side=P.Side.BUY if side == "BUY" else P.Side.SELL,
        trade_amount=P.TradeAmount.quantity(str(qty)), price=P.Price(str(price)),
    ))  # fmt: skip


def records(engine: Any, reqs: list[Request], seq0: int = 0) -> np.ndarray:
    """The requests as auto-committed ``ORDER_DTYPE`` orders for ``engine``."""
    rec = np.zeros(len(reqs), dtype=ORDER_DTYPE)
    ref = engine.record_format.order_ref
    for i, (account, inst, side, qty, price) in enumerate(reqs):
        r = rec[i]
        r["seq"], r["kind"], r["ref"] = seq0 + i, MSG_ORDER, ref
        if inst is None:
            r["flags"] = ORDER_AUTO_COMMIT
            continue
        r["account"] = account
        r["instrument"] = engine.register_instrument(op.Instrument(*inst))
        r["side"] = SIDE_BUY if side == "BUY" else SIDE_SELL
        r["amount"], r["price"] = qty * 10**SCALE, price * 10**SCALE
        r["flags"] = ORDER_HAS_OPERATION | ORDER_HAS_PRICE | ORDER_AUTO_COMMIT
    return rec


Texts = tuple[tuple[str, str, str, str, str], ...]


def object_door(engine: Any, req: Request) -> Texts:
    """Every reject of one order through openpit's object API (committed when accepted)."""
    res = engine.execute_pre_trade(order(req))
    if res.ok:
        res.reservation.commit()
        return ()
    return tuple((r.policy, str(r.code), r.reason, r.details, str(r.scope)) for r in res.rejects)


def described(book: Any, results: np.ndarray, written: int, n: int) -> list[Texts]:
    """Every reject of each request, worded by ``book``, from full (not first-only) results."""
    per: list[Texts] = []
    i = 0
    while i < written:
        k = max(int(results["count"][i]), 1)
        rows = results[i : i + k]
        per.append(() if rows["count"][0] == 0 else tuple(book.describe(r)[:5] for r in rows))
        i += k
    assert len(per) == n
    return per


def batch_door(engine: Any, reqs: list[Request], seq0: int) -> list[Texts]:
    """Every reject of each request through ``Book.process`` (the kernels' batch door)."""
    book = engine._book
    out = np.zeros(len(reqs) * (len(engine._entries) + 2) + 8, dtype=RESULT_DTYPE)
    done, written = book.process(records(engine, reqs, seq0), out, engine._clock())
    assert done == len(reqs)
    return described(book, out, written, len(reqs))
