"""Benchmark: build N orders with openpit and with openpit_shm in the same run.

Builds ``Order(operation=OrderOperation(instrument=Instrument(...),
account_id=AccountId.from_int(i), side=Side.BUY,
trade_amount=TradeAmount.quantity(Quantity("12")), price=Price("101.25")))``
(and the same with str/int/float literals instead of value objects), repeats
each measurement, and prints the median, min-max range and the openpit/ours
ratio.

    python bench/bench_build_order.py [-n 20000] [-r 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from types import ModuleType


def _builders(mod: ModuleType, param: ModuleType) -> dict[str, Callable[[int], object]]:
    Order, OrderOperation, Instrument = mod.Order, mod.OrderOperation, mod.Instrument
    AccountId, Side, TradeAmount = param.AccountId, param.Side, param.TradeAmount
    Quantity, Price = param.Quantity, param.Price
    buy = Side.BUY

    def objects(n: int) -> object:
        last = None
        for i in range(n):
            last = Order(
                operation=OrderOperation(
                    instrument=Instrument("S001", "USD"),
                    account_id=AccountId.from_int(i),
                    side=Side.BUY,
                    trade_amount=TradeAmount.quantity(Quantity("12")),
                    price=Price("101.25"),
                )
            )
        return last

    def literals_str(n: int) -> object:
        last = None
        for i in range(n):
            last = Order(
                operation=OrderOperation(
                    instrument=Instrument("S001", "USD"),
                    account_id=AccountId.from_int(i),
                    side="BUY",
                    trade_amount=TradeAmount.quantity("12"),
                    price="101.25",
                )
            )
        return last

    def literals_num(n: int) -> object:
        last = None
        for i in range(n):
            last = Order(
                operation=OrderOperation(
                    instrument=Instrument("S001", "USD"),
                    account_id=AccountId.from_int(i),
                    side=buy,
                    trade_amount=TradeAmount.quantity(12),
                    price=101.25,
                )
            )
        return last

    return {
        "value objects": objects,
        "str literals": literals_str,
        "int/float literals": literals_num,
    }


def _measure(fn: Callable[[int], object], n: int, repeats: int) -> list[float]:
    fn(min(n, 1000))  # warm up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn(n)
        out.append((time.perf_counter_ns() - t0) / n / 1000.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20000, help="orders per repetition")
    ap.add_argument("-r", type=int, default=7, help="repetitions (>= 5)")
    args = ap.parse_args()
    repeats = max(5, args.r)

    import openpit
    import openpit.param

    import openpit_shm.core
    import openpit_shm.param

    theirs = _builders(openpit, openpit.param)
    ours = _builders(openpit_shm.core, openpit_shm.param)
    print(f"building {args.n} orders x {repeats} repetitions (us per order)")
    head_a, head_b = "openpit median [min-max]", "openpit_shm median [min-max]"
    print(f"{'case':<20} {head_a:>28} {head_b:>32} {'ratio':>7}")
    for case in theirs:
        a = _measure(theirs[case], args.n, repeats)
        b = _measure(ours[case], args.n, repeats)
        ma, mb = statistics.median(a), statistics.median(b)
        print(
            f"{case:<20} {ma:>10.3f} [{min(a):.3f}-{max(a):.3f}]      "
            f"{mb:>10.3f} [{min(b):.3f}-{max(b):.3f}]      {ma / mb:>5.2f}x"
        )


if __name__ == "__main__":
    main()
