"""Test support for Books in shared memory: a segment allocator, a record stream, child processes.

* ``SegmentMemory``: ``Book.create(..., allocate=m.allocate, release=m.release)``
  puts every array (and every grown arena) in a fresh posix segment and
  unlinks the replaced one, as a shard worker would;
* ``chunks``/``retune``: a deterministic stream of ``ORDER_DTYPE`` chunks over
  all four builtins (orders, starts, dry runs, reports that trip the P&L kill
  switch, records with missing fields), with runtime retunes at fixed chunks;
* ``child_*``: spawned-process entry points that attach to the segments.
"""

from __future__ import annotations

import datetime
import os
import pickle
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.layout.records import (
    MSG_DRY_ORDER,
    MSG_ORDER,
    MSG_REPORT,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    SIDE_BUY,
    SIDE_SELL,
)
from openpit_shm.layout.segment import SEGMENT_KIND_SHARED, SEGMENT_KIND_STATE
from openpit_shm.shm.segment import Segment
from tests.records import stamped

S8 = 10**8
SEC = 10**9
ACCOUNTS = list(range(1, 41))
UNDERLYINGS = [f"U{i}" for i in range(12)]
SETTLEMENTS = ["USD", "EUR", "JPY"]
N_POLICIES = 5  # four builtins and one (absent) custom policy at index 3
DATA_OFFSET = 4096  # arrays start on the page after the segment header
CHUNK = 400
RETUNE_CHUNKS = (3, 7)


class SegmentMemory:
    """Book arrays in posix shared-memory segments, one per allocation."""

    def __init__(self) -> None:
        self.segments: dict[int, Segment] = {}  #: array address -> its segment
        self.created: list[str] = []  #: every name ever created (for leak checks)

    def allocate(self, words: int, kind: str) -> np.ndarray:
        seg = Segment.create(
            SEGMENT_KIND_STATE if kind == "state" else SEGMENT_KIND_SHARED,
            DATA_OFFSET + words * 8, capacity=words, data_offset=DATA_OFFSET, tag=kind,
        )  # fmt: skip
        self.created.append(seg.name)
        arr = seg.words[DATA_OFFSET // 8 :]
        self.segments[arr.ctypes.data] = seg
        return arr

    def release(self, arr: np.ndarray) -> None:
        self.segments.pop(arr.ctypes.data).close()

    def name_of(self, arr: np.ndarray) -> str:
        return self.segments[arr.ctypes.data].name

    def close(self) -> None:
        for seg in self.segments.values():
            seg.close()
        self.segments.clear()


def attach_array(name: str) -> tuple[Segment, np.ndarray]:
    seg = Segment.attach(name)
    return seg, seg.words[DATA_OFFSET // 8 :]


def specs() -> list[tuple[int, Any]]:
    from openpit_shm.param import Pnl, Quantity, Volume
    from openpit_shm.pretrade.policies import OrderSizeLimit, PnlBoundsBrokerBarrier

    return [
        (0, make_spec("order_validation")),
        (1, make_spec(
            "rate_limit", broker=(10**6, SEC), asset_barriers=[("EUR", 150, SEC)],
            account_barriers=[(a, 12, SEC) for a in ACCOUNTS[:30]],
            account_asset_barriers=[(a, "USD", 5, SEC // 2) for a in ACCOUNTS[:8]],
        )),
        (2, make_spec(
            "order_size_limit",
            broker=OrderSizeLimit(max_notional=Volume("400000")),
            asset_barriers=[(OrderSizeLimit(max_quantity=Quantity("900.5")), u)
                            for u in UNDERLYINGS[:6]],
            account_asset_barriers=[(OrderSizeLimit(max_notional=Volume("20000.00")), a, "USD")
                                    for a in ACCOUNTS[:5]],
        )),
        (4, make_spec(
            "pnl_bounds_killswitch",
            broker_barriers=[PnlBoundsBrokerBarrier("USD", Pnl("-2500.0"), Pnl("90000"))],
        )),
    ]  # fmt: skip


def create(memory: SegmentMemory | None = None, **kw: Any) -> Book:
    book = Book.create(
        specs(), n_policies=N_POLICIES,
        allocate=None if memory is None else memory.allocate,
        release=None if memory is None else memory.release, **kw,
    )  # fmt: skip
    for u in UNDERLYINGS:
        for s in SETTLEMENTS:
            book.instrument_id(u, s)
    return book


def chunks(seed: int, n: int, n_accounts: int = len(ACCOUNTS)) -> list[np.ndarray]:
    """``n`` chunks of ``CHUNK`` records (instrument ids as ``create`` registers them).

    Accounts are 1..n_accounts (the configured barriers name 1..40).
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        rec = np.zeros(CHUNK, ORDER_DTYPE)
        rec["seq"] = np.arange(CHUNK)
        rec["account"] = rng.integers(1, n_accounts + 1, CHUNK)
        rec["instrument"] = rng.integers(0, len(UNDERLYINGS) * len(SETTLEMENTS), CHUNK)
        kind = rng.choice([MSG_ORDER, MSG_START, MSG_DRY_ORDER, MSG_REPORT], CHUNK,
                          p=[0.75, 0.05, 0.05, 0.15])  # fmt: skip
        rec["kind"] = kind
        rec["side"] = rng.choice([SIDE_BUY, SIDE_SELL], CHUNK)
        flags = np.full(CHUNK, ORDER_HAS_OPERATION | ORDER_HAS_PRICE)
        flags[rng.random(CHUNK) < 0.7] |= ORDER_AUTO_COMMIT
        flags[rng.random(CHUNK) < 0.1] |= ORDER_VOLUME
        flags[rng.random(CHUNK) < 0.02] |= ORDER_NO_ACCOUNT
        flags[kind == MSG_REPORT] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
        rec["flags"] = flags
        rec["price"] = rng.integers(1, 500, CHUNK) * S8 // 4
        rec["amount"] = rng.integers(0, 1000, CHUNK) * S8
        rec["pnl"] = rng.integers(-900, 400, CHUNK) * S8 // 10
        rec["fee"] = rng.integers(0, 30, CHUNK) * S8 // 100
        out.append(rec)
    return out


def retune(book: Book, chunk: int) -> None:
    """The runtime retunes applied before chunk ``chunk`` (the same on every Book)."""
    from openpit_shm.param import AccountId, Pnl, Quantity, Volume
    from openpit_shm.pretrade import policies as P

    if chunk == RETUNE_CHUNKS[0]:
        book.configure(1, "rate_limit", account_barriers=[
            P.RateLimitAccountBarrier(P.RateLimit(8, datetime.timedelta(seconds=2)),
                                      AccountId.from_int(a)) for a in ACCOUNTS[10:35]
        ], broker=P.RateLimitBrokerBarrier(P.RateLimit(5000, datetime.timedelta(seconds=1))))
        book.configure(2, "order_size_limit", asset_barriers=[
            P.OrderSizeAssetBarrier(P.OrderSizeLimit(max_quantity=Quantity("700"),
                                                     max_notional=Volume("80000.0")), "U7"),
        ])
        book.configure(4, "set_account_pnl", account=AccountId.from_int(3),
                       settlement_asset="USD", pnl=Pnl("-100.25"))
    elif chunk == RETUNE_CHUNKS[1]:
        book.configure(4, "pnl_bounds_killswitch", account_barriers=[
            P.PnlBoundsAccountAssetBarrierUpdate(
                P.PnlBoundsBrokerBarrier("EUR", Pnl("-50"), None), AccountId.from_int(a))
            for a in ACCOUNTS[:20]
        ])
        # Replacing an axis clears what the live configuration says it had: right only if
        # a restarted Book read that configuration back from the arena.
        book.configure(1, "rate_limit", clear_broker=True, account_asset_barriers=[],
                       asset_barriers=[P.RateLimitAssetBarrier(
                           P.RateLimit(100, datetime.timedelta(seconds=1)), "USD")])
        book.configure(2, "order_size_limit", asset_barriers=[
            P.OrderSizeAssetBarrier(P.OrderSizeLimit(max_quantity=Quantity("500")), "U1"),
        ], account_asset_barriers=[])


def now_of(chunk: int) -> int:
    return 10**12 + chunk * (SEC // 3)


def run(book: Book, stream: list[np.ndarray], start: int, stop: int) -> list[np.ndarray]:
    """Chunks ``start..stop`` through ``book`` (retunes first); every result record kept."""
    out = []
    for k in range(start, stop):
        retune(book, k)
        results = np.zeros(CHUNK * (N_POLICIES + 2), RESULT_DTYPE)
        done, written = book.process(stamped(stream[k], book), results, now_of(k))
        assert done == CHUNK
        out.append(results[:written].copy())
    return out


def child_attach_and_run(
    names: tuple[str, str], description: bytes, seed: int, start: int, stop: int,
    conn: Connection, hang: bool = False,
) -> None:  # fmt: skip
    """Spawned: attach the Book, run chunks, send each chunk's results (then hang if asked)."""
    state_seg, state = attach_array(names[0])
    shared_seg, shared = attach_array(names[1])
    book = Book.from_description(pickle.loads(description), state=state, shared=shared)
    stream = chunks(seed, stop)
    for k in range(start, stop):
        conn.send((k, run(book, stream, k, k + 1)[0].tobytes()))
    conn.send(("done", pickle.dumps(book.snapshot(now_of(stop)))))
    if hang:
        conn.recv()  # killed while it waits here
    del book, state, shared
    state_seg.close()
    shared_seg.close()
    conn.close()
    os._exit(0)


def results_of(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, RESULT_DTYPE)


def decimals_equal(a: Any, b: Any) -> bool:
    """Configuration mirrors equal, Decimals compared as values *and* scales."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and a.as_tuple().exponent == b.as_tuple().exponent
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(decimals_equal(a[k], b[k]) for k in a)
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return all(decimals_equal(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(decimals_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return bool(a == b)
