"""Scenario C1 (PERF.md) on the sharded engine, with openpit 0.10.0 in the same run.

The engine is ``bench_c1.build_engine`` (1,000 accounts x 100 instruments, the
four builtins) built ``.account_sync().sharded(workers, idle)``. Paths:

(a) Python client sending NumPy batches: ``engine.execute_batch(records, out)``
    with ``out = engine.batch_out(n)`` reused; orders/s end to end (every order
    answered).
(b) The C feeder (``bench/c/feeder.c``, compiled here) on external client slot
    1: generates the C1 stream, routes with ``opshm_shard_of``, pushes batches,
    reads every answer; orders/s end to end.
(c) One order at a time from Python: ``execute_pre_trade`` + ``commit``, each
    call timed with ``perf_counter_ns`` (all samples kept: p50/p99/p99.9), and
    the loop's throughput.
(d) Start to first decision with a warm Numba cache: a fresh process builds
    the engine and answers one order (after one warm-up process); timed from
    before ``build_engine`` (policy objects included) to the first answer.

Every configuration is ``workers`` x ``idle`` x CPU placement:

* ``os``: the scheduler places everything;
* ``pinned``: worker k on CPU (k + 1) mod n_cpus, the client (this Python
  process, or the feeder) on CPU 0. With 2 workers on 2 CPUs the client then
  shares CPU 0 with worker 1 (there is no third CPU).

Diagnostics (``--diagnose``, on by default): the in-process
kernel alone on one core (a worker's ceiling), and C1 without the broker-wide
rate window (the only state the shards share, CAS-locked per order) to show
what that window costs across cores.

The baseline is openpit's own per-order loop (pre-built orders,
``execute_pre_trade`` + ``commit``): openpit has no batch or IPC door.

Run: ``python bench/bench_sharded.py [--quick] [--reps R] [--batch N] [--feeder-orders N]
[--per-order N] [--configs 2:backoff:os,1:busy:pinned,...]``.
"""

from __future__ import annotations

import os

# One BLAS thread: idle OpenBLAS workers spin on the 2 vCPUs and steal time from the loop.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import bench_c1 as c1  # noqa: E402
from bench.common import Series, fmt_ns, fmt_rate, host_info, print_table, rate  # noqa: E402

N_ACCOUNTS = 1000
FEEDER_SOURCE = ROOT / "bench" / "c" / "feeder.c"
N_CPUS = os.cpu_count() or 1
ALL_CPUS = set(range(N_CPUS))


@dataclass(frozen=True)
class Config:
    workers: int
    idle: str  # "backoff" | "busy"
    placement: str  # "os" | "pinned"
    broker_window: bool = True

    @property
    def label(self) -> str:
        extra = "" if self.broker_window else ", no broker window"
        return f"x{self.workers} {self.idle} {self.placement}{extra}"

    @classmethod
    def parse(cls, text: str) -> Config:
        w, idle, placement = text.split(":")
        return cls(int(w), idle, placement)


# ---- the engine -------------------------------------------------------------------------------


def c1_engine(mod: Any, cfg: Config | None) -> Any:
    """``bench_c1.build_engine`` (C1), sharded per ``cfg``; without the broker window if asked."""
    if cfg is None:
        return c1.build_engine(mod, N_ACCOUNTS)
    if cfg.broker_window:
        return c1.build_engine(mod, N_ACCOUNTS, workers=cfg.workers, idle=cfg.idle)
    # The same policies as bench_c1.build_engine, minus the broker rate barrier.
    P, p = mod.pretrade.policies, mod.param
    second = datetime.timedelta(seconds=1)
    rate_limit = P.build_rate_limit().account_barriers(
        *[P.RateLimitAccountBarrier(P.RateLimit(10**9, second), p.AccountId.from_int(a))
          for a in range(N_ACCOUNTS)]
    )  # fmt: skip
    size = P.build_order_size_limit().asset_barriers(
        *[P.OrderSizeAssetBarrier(P.OrderSizeLimit(max_quantity=p.Quantity(985)), f"S{i:03d}")
          for i in range(c1.N_INSTRUMENTS)]
    )  # fmt: skip
    pnl = P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", p.Pnl(-(10**9)))
    )
    return (
        mod.Engine.builder().account_sync().sharded(workers=cfg.workers, idle=cfg.idle)
        .builtin(P.build_order_validation()).builtin(rate_limit).builtin(size).builtin(pnl)
        .build()
    )  # fmt: skip


@contextmanager
def placed(engine: Any, cfg: Config) -> Iterator[int]:
    """Pin the workers (and this process) per ``cfg``; yields the client's CPU (-1: free)."""
    if cfg.placement != "pinned":
        yield -1
        return
    for k, pid in enumerate(engine.workers):
        os.sched_setaffinity(pid, {(k + 1) % N_CPUS})
    os.sched_setaffinity(0, {0})
    try:
        yield 0
    finally:
        os.sched_setaffinity(0, ALL_CPUS)


# ---- the C feeder -----------------------------------------------------------------------------


def build_feeder(out_dir: Path) -> Path:
    exe = out_dir / "feeder"
    import openpit_shm

    cmd = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-I", openpit_shm.get_include(),
           str(FEEDER_SOURCE), "-o", str(exe)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


def write_attach(engine: Any, path: Path, slot: int = 1) -> Path:
    info = engine.external_client(slot)
    lines = ["opshm-attach 1", f"slot {info['slot']}", f"n_shards {info['n_shards']}",
             f"capacity {info['capacity']}", f"scale {info['scale']}",
             f"tag {info['tag']}"]  # fmt: skip
    lines += [f"request {k} {name}" for k, name in enumerate(info["request"])]
    lines += [f"result {k} {name}" for k, name in enumerate(info["result"])]
    lines += [f"instrument {iid} {name}" for name, iid in info["instruments"].items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def feeder_rates(exe: Path, attach: Path, orders: int, reps: int, cpu: int,
                 batch: int = 256) -> tuple[list[float], list[str]]:  # fmt: skip
    args = [str(exe), "--attach", str(attach), "--mode", "throughput", "--orders", str(orders),
            "--reps", str(reps), "--warmup", str(min(orders, 200_000)), "--accounts",
            str(N_ACCOUNTS), "--batch", str(batch), "--cpu", str(cpu)]  # fmt: skip
    run = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("rate=")]
    return [float(ln.split()[0].split("=")[1]) for ln in lines], lines


# ---- one configuration ------------------------------------------------------------------------


@dataclass
class Result:
    cfg: Config
    batch: Series
    feeder: Series
    per_order: Series
    accepted: float
    notes: list[str]


def measure(cfg: Config, w: c1.Workload, args: argparse.Namespace, exe: Path,
            tmp: Path) -> Result:  # fmt: skip
    import openpit_shm

    notes: list[str] = []
    engine = c1_engine(openpit_shm, cfg)
    with engine:
        recs = c1.batch_records(engine, w, args.batch)
        out = engine.batch_out(args.batch)
        make = c1.order_maker(openpit_shm, N_ACCOUNTS, w)
        orders = [make(i) for i in range(args.per_order)]
        attach = write_attach(engine, tmp / "attach")
        engine.execute_batch(recs[: min(args.batch, 50_000)], out)  # warm up every path
        with placed(engine, cfg) as cpu:
            # (a) Python client, NumPy batches, a reused `out`.
            batch = Series(f"{cfg.label}: Python NumPy batches")
            for _ in range(args.reps):
                gc.collect()
                batch.rates.append(rate(args.batch, lambda: engine.execute_batch(recs, out)))
            result = engine.execute_batch(recs, out)
            accepted = float(np.mean(result["count"] == 0))
            # (b) the C feeder on slot 1 (the Python client is idle meanwhile).
            feeder = Series(f"{cfg.label}: C feeder")
            feeder.rates, lines = feeder_rates(exe, attach, args.feeder_orders, args.reps, cpu)
            notes.append(f"{cfg.label}: feeder {lines[0]}")
            # (c) one order at a time: execute_pre_trade + commit.
            per = Series(f"{cfg.label}: Python one order at a time")

            def one(order: Any) -> None:
                r = engine.execute_pre_trade(order)
                if r.ok:
                    r.reservation.commit()

            for o in orders[: min(2000, len(orders))]:
                one(o)
            clock = time.perf_counter_ns
            budget = int(args.per_order_budget * 1e9)  # a slow configuration stops early
            for _ in range(args.reps):
                gc.collect()
                lat = []
                t0 = clock()
                for o in orders:
                    s = clock()
                    one(o)
                    e = clock()
                    lat.append(e - s)
                    if e - t0 > budget:
                        break
                per.rates.append(len(lat) / ((clock() - t0) * 1e-9))
                per.latencies_ns.extend(lat)
            notes.append(f"{cfg.label}: {len(per.latencies_ns)} per-order samples")
        stats = engine.stats()
    parks = [s["parks"] for s in stats]
    notes.append(f"{cfg.label}: worker parks {parks}, largest batch "
                 f"{[s['max_batch'] for s in stats]}, deepest queue "
                 f"{[s['depth_max'] for s in stats]}")  # fmt: skip
    return Result(cfg, batch, feeder, per, accepted, notes)


# ---- baselines --------------------------------------------------------------------------------


def openpit_baseline(w: c1.Workload, n: int, reps: int) -> Series:
    """openpit 0.10.0: execute_pre_trade + commit over pre-built orders (rate and latency)."""
    import openpit

    engine = c1_engine(openpit, None)
    make = c1.order_maker(openpit, N_ACCOUNTS, w)
    orders = [make(i) for i in range(n)]
    execute = engine.execute_pre_trade

    def loop() -> None:
        for o in orders:
            r = execute(o)
            if r.ok:
                r.reservation.commit()

    loop()  # warm up
    thr = Series("openpit 0.10.0 per order (pre-built), execute_pre_trade + commit")
    for _ in range(reps):
        gc.collect()
        thr.rates.append(rate(n, loop))
    clock = time.perf_counter_ns
    for o in orders:
        s = clock()
        r = execute(o)
        if r.ok:
            r.reservation.commit()
        thr.latencies_ns.append(clock() - s)
    return thr


def kernel_ceiling(w: c1.Workload, n: int, reps: int) -> Series:
    """In-process ``Book.process`` over the same records: what one worker's core can do."""
    import openpit_shm
    from openpit_shm.layout.records import RESULT_DTYPE

    engine = c1_engine(openpit_shm, None)
    recs = c1.batch_records(engine, w, n)
    out = np.zeros(n + 16, dtype=RESULT_DTYPE)
    book = engine._book
    book.process(recs[:4096], out, time.monotonic_ns(), True)
    s = Series("in-process Book.process, one core (a worker's ceiling)")
    for _ in range(reps):
        t0 = time.perf_counter()
        book.process(recs, out, time.monotonic_ns(), True)
        s.rates.append(n / (time.perf_counter() - t0))
    return s


# ---- (d) start to first decision --------------------------------------------------------------


def startup_child() -> None:
    """Runs in a fresh process: build the engine, answer one order, print the timings (JSON)."""
    import openpit_shm

    t1 = time.perf_counter()  # numpy, numba, openpit_shm, openpit and the kernels are imported
    imported = process_age()
    engine = c1_engine(openpit_shm, Config(2, "backoff", "os"))
    t2 = time.perf_counter()
    with engine:
        order = c1.order_maker(openpit_shm, N_ACCOUNTS, c1.Workload(1, N_ACCOUNTS, 1))(0)
        result = engine.execute_pre_trade(order)
        t3 = time.perf_counter()
        assert result.ok or result.rejects
    print(json.dumps({"import": imported, "build": t2 - t1, "first": t3 - t1}), flush=True)


def process_age() -> float:
    """Seconds since this process was started (exec), from /proc (10 ms resolution)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stat = Path("/proc/self/stat").read_text()
    started = int(stat[stat.rindex(")") + 2 :].split()[19]) / ticks
    return float(Path("/proc/uptime").read_text().split()[0]) - started


def startup(reps: int) -> list[dict[str, float]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--startup-child"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)  # warm the Numba cache
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        out.append({**json.loads(run.stdout.strip().splitlines()[-1]), "wall": wall})
    return out


# ---- main -------------------------------------------------------------------------------------


def load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ")[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer orders and configs (~1 minute)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None, help="orders per Python batch")
    ap.add_argument("--feeder-orders", type=int, default=None, help="orders per feeder rep")
    ap.add_argument("--per-order", type=int, default=None, help="orders per per-order rep")
    ap.add_argument("--per-order-budget", type=float, default=None,
                    help="seconds per per-order repetition at most")  # fmt: skip
    ap.add_argument("--baseline-orders", type=int, default=None)
    ap.add_argument("--configs", default=None, help="workers:idle:placement,... to measure")
    ap.add_argument("--diagnose", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--startup-reps", type=int, default=None)
    ap.add_argument("--startup-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.startup_child:
        startup_child()
        return 0
    q = args.quick
    args.batch = args.batch or (200_000 if q else 1_000_000)
    args.feeder_orders = args.feeder_orders or (1_000_000 if q else 4_000_000)
    args.per_order = args.per_order or (2_000 if q else 20_000)
    args.per_order_budget = args.per_order_budget or (0.3 if q else 1.5)
    args.baseline_orders = args.baseline_orders or (20_000 if q else 100_000)
    default = "2:backoff:os,2:busy:pinned,1:backoff:os,1:busy:pinned" if q else (
        "2:backoff:os,2:backoff:pinned,2:busy:os,2:busy:pinned,"
        "1:backoff:os,1:backoff:pinned,1:busy:os,1:busy:pinned"
    )
    configs = [Config.parse(c) for c in (args.configs or default).split(",")]
    diagnose = True if args.diagnose is None else args.diagnose
    args.startup_reps = args.startup_reps or (3 if q else 5)

    for line in host_info():
        print(line)
    print(f"openpit 0.10.0 baseline in the same run; load average at start {load()}")
    print(f"C1: {N_ACCOUNTS} accounts x {c1.N_INSTRUMENTS} instruments; reps {args.reps}; "
          f"Python batch {args.batch:,}; feeder {args.feeder_orders:,}/rep; "
          f"per order {args.per_order:,}/rep")  # fmt: skip
    w = c1.Workload(max(args.batch, args.per_order, args.baseline_orders), N_ACCOUNTS, seed=1)
    base = openpit_baseline(w, args.baseline_orders, args.reps)
    print(f"  openpit: {fmt_rate(base.median)} per order")
    ceiling = kernel_ceiling(w, args.batch, args.reps) if diagnose else None

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="opshm_bench_sharded_") as tmp:
        exe = build_feeder(Path(tmp))
        runs = list(configs)
        if diagnose:
            best_two = [c for c in configs if c.workers == 2] or [Config(2, "backoff", "os")]
            runs += [Config(c.workers, c.idle, c.placement, broker_window=False)
                     for c in best_two[:2]]  # fmt: skip
        for cfg in runs:
            print(f"  measuring {cfg.label} (load {load()}) ...", flush=True)
            results.append(measure(cfg, w, args, exe, Path(tmp)))

    print_table("C1 sharded: (a) Python NumPy batches, end to end (× openpit per order)",
                [base, *[r.batch for r in results]], base)  # fmt: skip
    print_table("C1 sharded: (b) C feeder, end to end (× openpit per order)",
                [base, *[r.feeder for r in results], *([ceiling] if ceiling else [])], base)
    print_table("C1 sharded: (c) one order at a time from Python, execute_pre_trade + commit",
                [base, *[r.per_order for r in results]], base)  # fmt: skip

    starts = startup(args.startup_reps)
    first = [s["first"] for s in starts]
    print("\n### C1 sharded: (d) start to first decision, warm Numba cache (fresh process)\n")
    print("| measure | median | min–max |")
    print("|---|---|---|")
    for key, name in (
        ("import", "process start → imports done (numpy, numba, openpit_shm, openpit)"),
        ("build", "build_engine (2 workers ready)"),
        ("first", "build_engine → first answered order (the target)"),
        ("wall", "whole fresh process: start, build, one order, close, exit"),
    ):
        v = [s[key] for s in starts]
        print(f"| {name} | {statistics.median(v):.2f} s | {min(v):.2f}–{max(v):.2f} s |")

    print("\nNotes:")
    for r in results:
        for n in r.notes:
            print(f"  {n}")
        print(f"  {r.cfg.label}: accepted {r.accepted:.2%} of the batch")
    print(f"  load average at the end {load()} (other processes on the machine skew every row)")

    def best(attr: str) -> Result:
        return max((r for r in results if r.cfg.broker_window),
                   key=lambda r: getattr(r, attr).median)  # fmt: skip

    a, b = best("batch"), best("feeder")
    c = min((r for r in results if r.cfg.broker_window), key=lambda r: r.per_order.percentile(50))
    print("\nTargets (best configuration of each path, C1 with every policy):")
    print(f"  (a) Python batches {fmt_rate(a.batch.median)} [{a.cfg.label}] "
          f"(target >= 10 M/s): {'met' if a.batch.median >= 10e6 else 'MISSED'}")
    print(f"  (b) C feeder {fmt_rate(b.feeder.median)} [{b.cfg.label}] "
          f"(target >= 20 M/s): {'met' if b.feeder.median >= 20e6 else 'MISSED'}")
    p50, p99 = c.per_order.percentile(50), c.per_order.percentile(99)
    print(f"  (c) per order p50 {fmt_ns(p50)}, p99 {fmt_ns(p99)} [{c.cfg.label}] "
          f"(targets <= 2 µs / <= 10 µs): p50 {'met' if p50 <= 2000 else 'MISSED'}, "
          f"p99 {'met' if p99 <= 10_000 else 'MISSED'}")
    med = statistics.median(first)
    print(f"  (d) start to first decision {med:.2f} s (target <= 2 s): "
          f"{'met' if med <= 2.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
