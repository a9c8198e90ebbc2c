"""The whole benchmark suite, side by side with openpit: one report (Markdown, JSON, PNG).

``scripts/bench [--quick] [--reps R] [--only A,C1,C1-1M,D1]`` runs, for the
scenarios of PERF.md:

* ``A``: order validation only, 1 account, 1 instrument;
* ``C1``: order validation + order size + rate limit + P&L kill switch, 1,000
  accounts x 100 instruments; ``C1-1M``: the same with 1,000,000 accounts;
* ``D1``: the C1 engine, ``apply_execution_report`` with P&L and fee only;

each through openpit 0.10.0 (per order, the baseline of every ratio),
openpit_shm in process (per order with pre-built orders, per order building
each Order, NumPy batch) and sharded over 2 worker processes (Python batch
client, Python per-order client, C feeder). Every row: median and min–max over
the repetitions, ratio to openpit, latency percentiles where the path is per
order. Host, CPU, versions and commit close the report. Files go to
``bench/results/`` (git-ignored); ``--quick`` runs small sizes in about a minute.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import datetime
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpit

import openpit_shm
from bench import bench_c1 as c1
from bench import bench_scenario_a as scen_a
from bench.common import Series, fmt_ns, fmt_rate, latencies, rate
from openpit_shm.batch import report_records
from openpit_shm.hostinfo import git_commit, host_lines, results_dir

ROOT = Path(__file__).resolve().parents[1]


class Report:
    """Rows of the report, printed as they come and written at the end."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.started = time.monotonic()

    def add(self, scenario: str, path: str, series: Series, baseline: Series | None) -> None:
        row = series.row(baseline)
        row["scenario"] = scenario
        row["path"] = path
        self.rows.append(row)
        ratio = "" if row["ratio"] != row["ratio"] else f"{row['ratio']:.2f}x openpit"
        pct = "" if not series.latencies_ns else (
            f"  p50 {fmt_ns(row['p50_ns'])} p99 {fmt_ns(row['p99_ns'])}"
        )  # fmt: skip
        print(
            f"  [{time.monotonic() - self.started:6.1f} s] {scenario:6s} {path:44s} "
            f"{fmt_rate(series.median):>10s}  {ratio}{pct}",
            flush=True,
        )

    def markdown(self, title: str) -> str:
        out = [f"# {title}", ""]
        out += ["| scenario | path | median | range (min–max) | × openpit | p50 | p99 | p99.9 |"]
        out += ["|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            ratio = "–" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}×"
            span = f"{fmt_rate(r['min_per_s'])}–{fmt_rate(r['max_per_s'])}"
            pcts = " | ".join(fmt_ns(r[k]) for k in ("p50_ns", "p99_ns", "p999_ns"))
            out.append(
                f"| {r['scenario']} | {r['path']} | {fmt_rate(r['median_per_s'])} | {span} | "
                f"{ratio} | {pcts} |"
            )
        return "\n".join(out)


# ---- scenario A -------------------------------------------------------------------------------


def scenario_a(report: Report, n: int, reps: int) -> None:
    base_pre, base_build = scen_a.run(openpit, n, reps)
    ours_pre, ours_build = scen_a.run(openpit_shm, n, reps)
    report.add("A", "openpit per order (pre-built)", base_pre, base_pre)
    report.add("A", "openpit per order (building the Order)", base_build, base_pre)
    report.add("A", "openpit_shm per order (pre-built)", ours_pre, base_pre)
    report.add("A", "openpit_shm per order (building the Order)", ours_build, base_build)
    engine = scen_a.engine_a(openpit_shm)
    iid = engine.register_instrument(openpit_shm.Instrument("AAPL", "USD"))
    from openpit_shm.batch import order_records

    m = n * 10
    rng = np.random.default_rng(3)
    recs = order_records(
        engine, account=99224416, instrument=iid, side=rng.integers(1, 3, m),
        quantity=rng.integers(1, 1000, m) * 10**8, price=rng.integers(10025, 50025, m) * 10**6,
        units="fixed", auto_commit=True,
    )  # fmt: skip
    out = engine.batch_out(m)
    engine.execute_batch(recs[:1000], out)
    batch = Series("batch")
    for _ in range(reps):
        batch.rates.append(rate(m, lambda: engine.execute_batch(recs, out)))
    report.add("A", "openpit_shm NumPy batch", batch, base_pre)


# ---- scenarios C1 and C1-1M -------------------------------------------------------------------


def scenario_c1(report: Report, name: str, n_accounts: int, n: int, n_batch: int, reps: int,
                sharded: bool) -> None:  # fmt: skip
    w = c1.Workload(max(n, n_batch), n_accounts, seed=1)
    theirs = c1.build_engine(openpit, n_accounts)
    base_pre, base_build, _ = c1.per_order(openpit, theirs, w, n_accounts, n, reps, name)
    del theirs
    gc.collect()
    ours = c1.build_engine(openpit_shm, n_accounts)
    ours_pre, ours_build, _ = c1.per_order(openpit_shm, ours, w, n_accounts, n, reps, name)
    api, kernel, _ = c1.batch(ours, w, n_batch, reps)
    before, after = c1.state_bytes(ours, n_accounts)
    del ours
    gc.collect()
    report.add(name, "openpit per order (pre-built)", base_pre, base_pre)
    report.add(name, "openpit per order (building the Order)", base_build, base_pre)
    report.add(name, "openpit_shm per order (pre-built)", ours_pre, base_pre)
    report.add(name, "openpit_shm per order (building the Order)", ours_build, base_build)
    report.add(name, "openpit_shm NumPy batch", api, base_pre)
    report.add(name, "openpit_shm NumPy batch, kernel alone", kernel, base_pre)
    print(f"  {name}: state {before:.0f} B/account, {after:.0f} B/account with a P&L row each")
    report.notes.append(
        f"{name}: kernel state {before:.0f} bytes/account after the orders, "
        f"{after:.0f} bytes/account with a P&L accumulator each"
    )
    if sharded:
        sharded_c1(report, name, n_accounts, w, n, n_batch, reps, base_pre)


def sharded_c1(report: Report, name: str, n_accounts: int, w: Any, n: int, n_batch: int,
               reps: int, base_pre: Series) -> None:  # fmt: skip
    """2 workers: Python batch client, Python per-order client, and the C feeder."""
    t0 = time.perf_counter()
    engine = c1.build_engine(openpit_shm, n_accounts, workers=2)
    started = time.perf_counter() - t0
    with engine:
        recs = c1.batch_records(engine, w, n_batch)
        out = engine.batch_out(n_batch)
        engine.execute_batch(recs[: min(n_batch, 50_000)], out)
        batch = Series("sharded batch")
        for _ in range(reps):
            batch.rates.append(rate(n_batch, lambda: engine.execute_batch(recs, out)))
        report.add(name, "sharded x2, Python NumPy batches", batch, base_pre)
        make = c1.order_maker(openpit_shm, n_accounts, w)
        orders = [make(i) for i in range(min(n, 20_000))]

        def one(order: Any) -> None:
            r = engine.execute_pre_trade(order)
            if r.ok:
                r.reservation.commit()

        for o in orders[:1000]:
            one(o)
        per = Series("sharded per order")
        for _ in range(reps):
            per.rates.append(rate(len(orders), lambda: [one(o) for o in orders]))
        per.latencies_ns = latencies(orders, one)
        report.add(name, "sharded x2, Python one order at a time", per, base_pre)
        feeder = c_feeder(engine, n_accounts, n_batch, reps)
        if feeder is not None:
            report.add(name, "sharded x2, C feeder", feeder, base_pre)
    report.notes.append(f"{name}: sharded engine (2 workers) built and ready in {started:.2f} s")


def c_feeder(engine: Any, n_accounts: int, n: int, reps: int) -> Series | None:
    """Compile bench/c/feeder.c and run it in throughput mode on client slot 1."""
    exe = Path(tempfile.mkdtemp(prefix="opshm_bench_")) / "feeder"
    build = subprocess.run(
        ["gcc", "-std=c11", "-O2", "-I", openpit_shm.get_include(), str(ROOT / "bench/c/feeder.c"),
         "-o", str(exe)], capture_output=True, text=True,
    )  # fmt: skip
    if build.returncode != 0:
        print("  C feeder: gcc failed:", build.stderr.strip()[:500])
        return None
    info = engine.external_client(1)
    attach = exe.with_suffix(".attach")
    lines = ["opshm-attach 1", f"slot {info['slot']}", f"n_shards {info['n_shards']}",
             f"capacity {info['capacity']}", f"scale {info['scale']}",
             f"tag {info['tag']}"]  # fmt: skip
    lines += [f"request {k} {name}" for k, name in enumerate(info["request"])]
    lines += [f"result {k} {name}" for k, name in enumerate(info["result"])]
    lines += [f"instrument {iid} {name}" for name, iid in info["instruments"].items()]
    attach.write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [str(exe), "--mode", "throughput", "--attach", str(attach), "--orders", str(n),
         "--reps", str(reps), "--accounts", str(n_accounts)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if run.returncode != 0:
        print("  C feeder failed:", run.stdout[-500:], run.stderr[-500:])
        return None
    series = Series("C feeder")
    for line in run.stdout.splitlines():
        if line.startswith("rate="):
            series.rates.append(float(line.split()[0].split("=")[1]))
    return series if series.rates else None


# ---- scenario D1 ------------------------------------------------------------------------------


def scenario_d1(report: Report, n: int, reps: int, sharded: bool) -> None:
    n_accounts = 1000
    rng = np.random.default_rng(4)
    accounts = rng.integers(0, n_accounts, n)
    instruments = rng.integers(0, c1.N_INSTRUMENTS, n)
    pnl = np.round(rng.normal(0, 50, n), 2)
    fee = np.round(rng.uniform(0, 2, n), 2)

    def reports(mod: Any) -> list:
        p = mod.param
        inst = [mod.Instrument(f"S{i:03d}", "USD") for i in range(c1.N_INSTRUMENTS)]
        accs = [p.AccountId.from_int(a) for a in range(n_accounts)]
        return [
            mod.ExecutionReport(
                operation=mod.ExecutionReportOperation(
                    instrument=inst[int(i)], account_id=accs[int(a)], side=p.Side.BUY
                ),
                financial_impact=mod.FinancialImpact(pnl=p.Pnl(f"{x:.2f}"), fee=p.Fee(f"{f:.2f}")),
            )
            for a, i, x, f in zip(accounts, instruments, pnl, fee)
        ]

    def per_report(mod: Any, engine: Any) -> Series:
        objs = reports(mod)
        apply = engine.apply_execution_report
        for r in objs[:1000]:
            apply(r)
        s = Series(mod.__name__)
        for _ in range(reps):
            s.rates.append(rate(len(objs), lambda: [apply(r) for r in objs]))
        s.latencies_ns = latencies(objs[: min(n, 20_000)], apply)
        return s

    base = per_report(openpit, c1.build_engine(openpit, n_accounts))
    ours_engine = c1.build_engine(openpit_shm, n_accounts)
    ours = per_report(openpit_shm, ours_engine)
    report.add("D1", "openpit apply_execution_report", base, base)
    report.add("D1", "openpit_shm apply_execution_report", ours, base)

    def report_batch(engine: Any) -> Series:
        ids = np.array([engine.register_instrument(openpit_shm.Instrument(f"S{i:03d}", "USD"))
                        for i in range(c1.N_INSTRUMENTS)])  # fmt: skip
        m = n * 10
        recs = report_records(
            engine, account=np.resize(accounts, m), instrument=ids[np.resize(instruments, m)],
            side=1, pnl=np.resize(pnl, m), fee=np.resize(fee, m), units="decimal",
        )  # fmt: skip
        out = engine.batch_out(m)
        engine.execute_batch(recs[:1000], out)
        s = Series("reports batch")
        for _ in range(reps):
            s.rates.append(rate(m, lambda: engine.execute_batch(recs, out)))
        return s

    report.add("D1", "openpit_shm NumPy batch of reports", report_batch(ours_engine), base)
    if sharded:
        with c1.build_engine(openpit_shm, n_accounts, workers=2) as engine:
            report.add("D1", "sharded x2, Python batches of reports", report_batch(engine), base)


# ---- the report -------------------------------------------------------------------------------


def chart(report: Report, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no PNG: install the bench extra for matplotlib)")
        return None
    scenarios = list(dict.fromkeys(r["scenario"] for r in report.rows))
    fig, axes = plt.subplots(len(scenarios), 1, figsize=(10, 2.2 + 0.45 * len(report.rows)),
                             squeeze=False)  # fmt: skip
    for ax, sc in zip(axes[:, 0], scenarios):
        rows = [r for r in report.rows if r["scenario"] == sc]
        names = [r["path"] for r in rows]
        med = [r["median_per_s"] for r in rows]
        lo = [r["median_per_s"] - r["min_per_s"] for r in rows]
        hi = [r["max_per_s"] - r["median_per_s"] for r in rows]
        colors = ["#999999" if n.startswith("openpit ") else "#1f77b4" for n in names]
        ax.barh(names, med, xerr=[lo, hi], color=colors)
        ax.set_xscale("log")
        ax.set_title(f"{sc}: throughput (per second, log scale; grey = openpit 0.10.0)")
        ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(report: Report, quick: bool) -> tuple[Path, Path, Path | None]:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = results_dir() / f"bench-{stamp}{'-quick' if quick else ''}"
    facts = host_lines()
    notes = report.notes
    md = report.markdown(f"openpit_shm benchmark, {stamp}{' (quick)' if quick else ''}")
    md += "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n" + "\n".join(f"- {f}" for f in facts)
    md += f"\n- openpit {getattr(openpit, '__version__', '0.10.0')} in the same process run\n"
    Path(f"{base}.md").write_text(md)
    data = {"stamp": stamp, "quick": quick, "commit": git_commit(), "host": facts,
            "notes": notes, "rows": report.rows}  # fmt: skip
    Path(f"{base}.json").write_text(json.dumps(data, indent=2))
    png = chart(report, Path(f"{base}.png"))
    return Path(f"{base}.md"), Path(f"{base}.json"), png


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--only", default="A,C1,C1-1M,D1", help="comma-separated scenarios")
    ap.add_argument("--no-sharded", action="store_true", help="skip the sharded paths")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    reps = args.reps or (3 if args.quick else 5)
    q = args.quick
    sharded = not args.no_sharded
    for line in host_lines():
        print(line)
    report = Report()
    steps: list[tuple[str, Callable[[], None]]] = [
        ("A", lambda: scenario_a(report, 20_000 if q else 100_000, reps)),
        ("C1", lambda: scenario_c1(report, "C1", 1_000, 20_000 if q else 100_000,
                                   200_000 if q else 1_000_000, reps, sharded)),
        ("C1-1M", lambda: scenario_c1(report, "C1-1M", 1_000_000, 10_000 if q else 100_000,
                                      200_000 if q else 1_000_000, reps, sharded and not q)),
        ("D1", lambda: scenario_d1(report, 20_000 if q else 100_000, reps, sharded)),
    ]  # fmt: skip
    for name, step in steps:
        if name in only:
            print(f"\n== {name} ==", flush=True)
            step()
            gc.collect()
    md, js, png = write(report, q)
    print(f"\nreport: {md}\n        {js}" + (f"\n        {png}" if png else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
