"""Scenario A: order validation only, 1 account, 1 instrument; openpit and openpit_shm per order.

Paths, each ``execute_pre_trade`` + ``commit``:

* pre-built orders (the orders exist before the clock starts);
* building each ``Order`` inside the timed loop (what a Python caller really pays).

Run: ``python bench/bench_scenario_a.py [--orders N] [--reps R]``. openpit 0.10.0 runs
in the same process run as the baseline; the table gives medians, min–max ranges
over the repetitions, ratios to openpit, and per-call latency percentiles.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpit

import openpit_shm
from bench.common import Series, host_info, latencies, print_table, rate


def engine_a(mod: ModuleType) -> Any:
    validation = mod.pretrade.policies.build_order_validation()
    return mod.Engine.builder().no_sync().builtin(validation).build()


def order_factory(mod: ModuleType) -> Any:
    p = mod.param
    instrument = mod.Instrument("AAPL", "USD")
    account = p.AccountId.from_int(99224416)

    def make(i: int) -> Any:
        return mod.Order(
            operation=mod.OrderOperation(
                instrument=instrument,
                account_id=account,
                side=p.Side.BUY if i & 1 else p.Side.SELL,
                trade_amount=p.TradeAmount.quantity(p.Quantity(1 + i % 1000)),
                price=p.Price(f"{100 + i % 400}.25"),
            )
        )

    return make


def run(mod: ModuleType, n: int, reps: int) -> tuple[Series, Series]:
    engine = engine_a(mod)
    make = order_factory(mod)
    prebuilt = Series(f"{mod.__name__} pre-built")
    building = Series(f"{mod.__name__} incl. building the Order")

    def exec_commit(order: Any) -> None:
        engine.execute_pre_trade(order).reservation.commit()

    def loop_prebuilt(orders: list) -> None:
        execute = engine.execute_pre_trade
        for o in orders:
            execute(o).reservation.commit()

    def loop_building() -> None:
        execute = engine.execute_pre_trade
        for i in range(n):
            execute(make(i)).reservation.commit()

    loop_prebuilt([make(i) for i in range(1000)])  # warm up (kernel compile/load, caches)
    for _ in range(reps):
        orders = [make(i) for i in range(n)]
        gc.collect()
        prebuilt.rates.append(rate(n, lambda orders=orders: loop_prebuilt(orders)))
        building.rates.append(rate(n, loop_building))
    sample = [make(i) for i in range(min(n, 20000))]
    prebuilt.latencies_ns = latencies(sample, exec_commit)
    building.latencies_ns = latencies(range(len(sample)), lambda i: exec_commit(make(i)))
    return prebuilt, building


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    for line in host_info():
        print(line)
    base_pre, base_build = run(openpit, args.orders, args.reps)
    ours_pre, ours_build = run(openpit_shm, args.orders, args.reps)
    print_table("A, pre-built orders (execute_pre_trade + commit)", [base_pre, ours_pre], base_pre)
    print_table("A, building each Order in the loop", [base_build, ours_build], base_build)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
