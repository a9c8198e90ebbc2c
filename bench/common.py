"""Shared benchmark plumbing: host facts, repeated timing, medians and ranges, tables."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from openpit_shm.hostinfo import git_commit as _git_commit
from openpit_shm.hostinfo import host_lines

ROOT = Path(__file__).resolve().parents[1]


def host_info() -> list[str]:
    """Host, CPU, versions and git commit, one fact per line."""
    return host_lines()


def git_commit() -> str:
    return _git_commit()


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__}
    try:
        import openpit

        out["openpit"] = getattr(openpit, "__version__", "0.10.0")
    except ImportError:
        pass
    return out


@dataclass
class Series:
    """Repeated measurements of one path: throughputs (per second) and latency samples (ns)."""

    name: str
    rates: list[float] = field(default_factory=list)
    latencies_ns: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def low(self) -> float:
        return min(self.rates)

    @property
    def high(self) -> float:
        return max(self.rates)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ns, q)) if self.latencies_ns else float("nan")

    def row(self, baseline: Series | None = None) -> dict[str, float | str]:
        ratio = self.median / baseline.median if baseline is not None else float("nan")
        return {
            "path": self.name,
            "median_per_s": self.median,
            "min_per_s": self.low,
            "max_per_s": self.high,
            "ratio": ratio,
            "p50_ns": self.percentile(50),
            "p99_ns": self.percentile(99),
            "p999_ns": self.percentile(99.9),
        }


def rate(count: int, fn: Callable[[], object]) -> float:
    """``count / seconds`` for one call of ``fn`` (which does ``count`` operations)."""
    t0 = time.perf_counter()
    fn()
    return count / (time.perf_counter() - t0)


def latencies(items: Sequence[object], op: Callable[[object], object]) -> list[float]:
    """Per-call latency (ns) of ``op(item)`` for every item, timed with perf_counter_ns."""
    clock = time.perf_counter_ns
    out = [0.0] * len(items)
    for i, item in enumerate(items):
        t0 = clock()
        op(item)
        out[i] = clock() - t0
    return out


def fmt_rate(v: float) -> str:
    if v != v:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M/s"
    return f"{v / 1e3:.0f} k/s"


def fmt_ns(v: float) -> str:
    if v != v:
        return "-"
    return f"{v / 1000:.2f} µs" if v >= 1000 else f"{v:.0f} ns"


def print_table(title: str, series: Sequence[Series], baseline: Series | None) -> None:
    """A Markdown table: median, range, ratio to the baseline, p50/p99/p99.9."""
    print(f"\n### {title}\n")
    print("| path | median | range (min–max) | × baseline | p50 | p99 | p99.9 |")
    print("|---|---|---|---|---|---|---|")
    for s in series:
        r = s.row(baseline)
        ratio = "-" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}×"
        pct = " | ".join(fmt_ns(s.percentile(q)) for q in (50, 99, 99.9))
        span = f"{fmt_rate(s.low)}–{fmt_rate(s.high)}"
        print(f"| {s.name} | {fmt_rate(s.median)} | {span} | {ratio} | {pct} |")
