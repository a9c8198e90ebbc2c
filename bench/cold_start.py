"""Cold start: seconds from a fresh interpreter to the first decision, per door.

``python bench/cold_start.py [--cache DIR] [--keep] [--warmup]`` runs, each in a
fresh Python process with ``NUMBA_CACHE_DIR`` pointing at an empty directory
(or ``--cache DIR`` as it is):

1. ``in-process``: import, build a ``no_sync`` engine with the C1 policies
   (order validation, rate limit, order size limit, P&L kill switch), decide
   one order with ``execute_pre_trade``;
2. ``sharded``: the same engine ``.account_sync().sharded(workers=2)``, one
   order, close.

Each phase starts from the cache state the previous phases left (the sharded
phase after the in-process one is what a new user meets second), and a
``cold sharded`` phase starts again from an empty cache. ``--warmup`` runs
``openpit-shm warmup`` into the empty cache first and then times both doors
(what a container image or a CI job that warmed up ahead meets).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: One program per door; prints the seconds from its own start to the first decision.
PROGRAM = """
import time
t0 = time.perf_counter()
import datetime
import openpit_shm as openpit
from openpit_shm import param
from openpit_shm.pretrade import policies as P

def build(sharded):
    b = openpit.Engine.builder()
    b = b.account_sync().sharded(workers=2) if sharded else b.no_sync()
    rate = P.build_rate_limit().broker_barrier(
        P.RateLimitBrokerBarrier(P.RateLimit(1000, datetime.timedelta(seconds=1))))
    size = P.build_order_size_limit().broker_barrier(P.OrderSizeBrokerBarrier(
        P.OrderSizeLimit(max_quantity=param.Quantity(100), max_notional=param.Volume(10**6))))
    pnl = P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", param.Pnl(-1000), None))
    return (b.builtin(P.build_order_validation()).builtin(rate).builtin(size).builtin(pnl)
            .build())

def main(sharded):
    engine = build(sharded)
    order = openpit.Order(operation=openpit.OrderOperation(
        instrument=openpit.Instrument("AAPL", "USD"), account_id=param.AccountId.from_int(7),
        side=param.Side.BUY, trade_amount=param.TradeAmount.quantity("10"),
        price=param.Price("185")))
    result = engine.execute_pre_trade(order)
    assert result.ok, result.rejects
    result.reservation.commit()
    print(f"{time.perf_counter() - t0:.2f}")
    if sharded:
        engine.close()

if __name__ == "__main__":
    import sys
    main(sys.argv[1] == "sharded")
"""


def _cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_phase(door: str, cache: Path, script: Path) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    t, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        [sys.executable, str(script), door], env=env, capture_output=True, text=True, check=False
    )
    wall, cpu = time.perf_counter() - t, _cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"{door} failed:\n{done.stderr}")
    first = float(done.stdout.strip().splitlines()[-1])
    for line in done.stderr.splitlines():
        print(f"    stderr: {line}")
    print(f"  {door:<11} first decision {first:6.2f} s  (wall {wall:6.2f} s, CPU {cpu:6.2f} s)")
    return first


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/cold_start.py", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, help="use this cache dir as it is (default: empty)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary cache dirs")
    parser.add_argument("--warmup", action="store_true", help="run openpit-shm warmup first")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opshm-cold-"))
    script = work / "first_decision.py"
    script.write_text(PROGRAM)
    try:
        cache = args.cache or work / "cache"
        if args.warmup:
            env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "openpit_shm", "warmup"], env=env, check=True)
            print(f"  warmup      {time.perf_counter() - t:6.2f} s")
        print(f"cache: {cache}")
        run_phase("in-process", cache, script)
        run_phase("sharded", cache, script)
        if args.cache is None and not args.warmup:
            cold = work / "cache-sharded"
            print(f"cache: {cold}")
            run_phase("sharded", cold, script)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
