"""Micro-benchmark of the reject path: a rejected order through ``execute_pre_trade``.

The C1 engine (``bench_c1.build_engine``: all four builtins, 1,000 accounts);
orders that break the order-size cap (quantity 986..999 > 985), so each call
formats one ``OrderQtyExceedsLimit`` reject. openpit 0.10.0 runs the same
orders in the same process.

* ``same order``: one order object over and over (everything warm);
* ``fresh orders``: each order used once (as in C1: cold values, fixed-point
  conversions not cached yet);
* the pieces on our side: decoding a result record and describing it.

Run: ``python bench/bench_reject.py [--orders N]``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gc
import sys
import time
import timeit
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpit

import openpit_shm
from bench.bench_c1 import N_INSTRUMENTS, build_engine
from bench.common import fmt_ns, host_info
from openpit_shm.builtins.record import Record

N_ACCOUNTS = 1_000


def rejected_orders(mod: ModuleType, n: int, seed: int = 3) -> list[Any]:
    p = mod.param
    rng = np.random.default_rng(seed)
    instruments = [mod.Instrument(f"S{i:03d}", "USD") for i in range(N_INSTRUMENTS)]
    accounts = [p.AccountId.from_int(a) for a in range(N_ACCOUNTS)]
    out = []
    for _ in range(n):
        cents = int(rng.integers(1000, 50001))
        out.append(mod.Order(operation=mod.OrderOperation(
            instrument=instruments[int(rng.integers(0, N_INSTRUMENTS))],
            side=p.Side.BUY if rng.random() < 0.5 else p.Side.SELL,
            trade_amount=p.TradeAmount.quantity(p.Quantity(int(rng.integers(986, 1000)))),
            account_id=accounts[int(rng.integers(0, N_ACCOUNTS))],
            price=p.Price(f"{cents // 100}.{cents % 100:02d}"),
        )))  # fmt: skip
    return out


def timed(orders: list[Any], execute: Any) -> np.ndarray:
    clock = time.perf_counter_ns
    lat = np.empty(len(orders), dtype=np.int64)
    for i, o in enumerate(orders):
        t0 = clock()
        r = execute(o)
        lat[i] = clock() - t0
        if r.ok:
            raise AssertionError("the benchmark's orders must all be rejected")
    return lat


def line(label: str, lat: np.ndarray) -> str:
    p50, p99, mean = (fmt_ns(float(v)) for v in (*np.percentile(lat, [50, 99]), lat.mean()))
    return f"| {label} | {p50} | {p99} | {mean} |"


def pieces(engine: Any, order: Any, n: int = 200_000) -> None:
    """Per-call cost of decoding one result record and of describing it (warm)."""
    engine.execute_pre_trade(order)
    out, book = engine._out, engine._book
    rec = Record.at(out, 0)
    for label, fn in (
        ("Record.at (decode one result record)", lambda: Record.at(out, 0)),
        ("Book.describe (texts of one record)", lambda: book.describe(rec, order)),
    ):
        ns = timeit.timeit(fn, number=n) / n * 1e9
        print(f"| openpit_shm: {label} | {fmt_ns(ns)} | - | - |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=30_000)
    args = ap.parse_args(argv)
    for fact in host_info():
        print(fact)
    print("\n| path | p50 | p99 | mean |\n|---|---|---|---|")
    for mod in (openpit, openpit_shm):
        engine = build_engine(mod, N_ACCOUNTS)
        execute = engine.execute_pre_trade
        warm = rejected_orders(mod, 2_000, seed=1)
        timed(warm, execute)
        same = [warm[0]] * args.orders
        fresh = rejected_orders(mod, args.orders)
        gc.collect()
        print(line(f"{mod.__name__}: same order", timed(same, execute)))
        gc.collect()
        print(line(f"{mod.__name__}: fresh orders", timed(fresh, execute)))
        if mod is openpit_shm:
            pieces(engine, warm[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
