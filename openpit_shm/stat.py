"""``openpit-shm stat`` and ``openpit-shm list``: watch live engines from another process.

Like Aeron's ``AeronStat``, this attaches to a running engine's control
segment read-only (``shm.discover``) and prints, per shard, the figures its
workers keep there (``sharded.figures``, the same reader as
``ShardedEngine.stats()``): records, batches, the largest batch and queue
depth, accepted, rejects by code, errors by reason, restarts and the
heartbeat's age. ``--watch`` redraws once a second with rates; ``--json``
prints one JSON object per sample for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from .sharded.figures import engine_line, shard_figures
from .shm.discover import EngineHandle, attach_engine, find_engines

__all__ = ["add_list_arguments", "add_stat_arguments", "run_list", "run_stat", "sample"]

_RATE_KEYS = ("records", "accepted", "rejected", "errors", "batches")


def sample(engine: EngineHandle) -> dict[str, Any]:
    """One reading of every shard of ``engine`` (a JSON-ready dict)."""
    now = time.monotonic_ns()
    line = engine_line(engine.words)
    return {
        "engine": engine.name,
        "pid": engine.pid,
        "time": time.time(),
        "monotonic_ns": now,
        **line,
        "shards": [shard_figures(engine.words, k, now) for k in range(line["n_shards"])],
    }


def _with_rates(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """``current`` plus per-second rates of the counting figures since ``previous``."""
    if previous is None:
        return current
    dt = (current["monotonic_ns"] - previous["monotonic_ns"]) / 1e9
    if dt <= 0:
        return current
    for now, before in zip(current["shards"], previous["shards"]):
        now["rates"] = {key: (now[key] - before[key]) / dt for key in _RATE_KEYS}
    return current


def _fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "-"


def render(reading: dict[str, Any], out: TextIO) -> None:
    """The human table of one reading."""
    print(
        f"engine {reading['engine']}  pid {reading['pid']}  shards {reading['n_shards']}  "
        f"client slots {reading['n_slots']}  ring capacity {reading['capacity']}",
        file=out,
    )
    for k, s in enumerate(reading["shards"]):
        beat = s["heartbeat_age_s"]
        age = "-" if beat is None else f"{beat * 1e3:.1f} ms"
        rates = s.get("rates")
        rate = "" if rates is None else f"  ({rates['records']:,.0f} records/s)"
        print(
            f"  shard {k}: {s['state']}{'' if s['serving'] else ' (supervisor answers)'}  "
            f"pid {s['pid']}  restarts {s['restarts']}  heartbeat {age}",
            file=out,
        )
        print(
            f"    records {s['records']:,}{rate}  batches {s['batches']:,}  "
            f"largest batch {s['max_batch']:,}  queue depth {s['depth']:,} "
            f"(max {s['depth_max']:,})",
            file=out,
        )
        print(
            f"    accepted {s['accepted']:,}  rejected {s['rejected']:,}  "
            f"errors {s['errors']:,}",
            file=out,
        )
        print(f"    rejects by code: {_fmt_counts(s['rejects'])}", file=out)
        print(f"    errors by reason: {_fmt_counts(s['errors_by_reason'])}", file=out)


def add_stat_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("engine", nargs="?", help="engine name or creator pid (see 'list')")
    p.add_argument("--watch", action="store_true", help="refresh once a second, with rates")
    p.add_argument("--json", action="store_true", help="one JSON object per sample")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--count", type=int, default=0, help="stop after this many samples (0: never)")


def run_stat(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        engine = attach_engine(args.engine)
    except LookupError as exc:
        print(f"openpit-shm stat: {exc}", file=sys.stderr)
        return 1
    previous = None
    shown = 0
    try:
        while True:
            reading = _with_rates(sample(engine), previous)
            if args.json:
                print(json.dumps(reading), file=out, flush=True)
            else:
                if args.watch and out.isatty():
                    out.write("\x1b[H\x1b[2J")  # redraw in place
                render(reading, out)
                out.flush()
            shown += 1
            if not (args.watch or args.count) or (args.count and shown >= args.count):
                return 0
            previous = reading
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        engine.close()


def add_list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per engine")


def run_list(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    engines = find_engines()
    try:
        rows = []
        for e in engines:
            line = engine_line(e.words)
            rows.append({
                "engine": e.name,
                "pid": e.pid,
                "shards": line["n_shards"],
                "client_slots": line["n_slots"],
                "age_s": round(e.age_s, 3),
            })  # fmt: skip
    finally:
        for e in engines:
            e.close()
    if args.json:
        for row in rows:
            print(json.dumps(row), file=out)
        return 0
    print(f"{'engine':<24} {'pid':>8} {'shards':>6} {'client slots':>12} {'age':>10}", file=out)
    for r in rows:
        print(
            f"{r['engine']:<24} {r['pid']:>8} {r['shards']:>6} {r['client_slots']:>12} "
            f"{r['age_s']:>9.1f}s",
            file=out,
        )
    if not rows:
        print("(no sharded engine alive on this host for this user)", file=sys.stderr)
    return 0
