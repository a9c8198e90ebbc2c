"""The main job: a market-making flow through a sharded engine, with live progress.

``python -m openpit_shm demo [--seconds S] [--accounts N] [--workers W]``
(``scripts/demo`` runs it on a fresh machine). It:

1. starts a sharded engine (2 workers) with the C1 policies: order validation,
   order size limit, rate limit (broker, asset and per-account barriers) and a
   P&L bounds kill switch;
2. streams NumPy batches of two-sided quotes from a few thousand market-making
   accounts over 100 instruments (prices random-walking around a mid);
3. feeds a share of the accepted orders back as fills (execution reports with
   P&L and fees); one desk keeps losing until its P&L breaches the bound, the
   kill switch blocks it and its orders are rejected from then on;
4. prints orders/s, rejects by code and blocked accounts every second, then a
   summary table, writes it to ``bench/results/demo-<time>.md`` and shuts down,
   leaving nothing in ``/dev/shm`` (the summary checks the segments this engine
   made: other engines on the host are none of its business).
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .batch import order_records, report_records
from .layout.records import CODE_NUMBER, REJECT_CODES, STATUS_OK
from .shm.sweep import process_identity, segments_created_by

__all__ = ["run_demo"]

N_INSTRUMENTS = 100
ROGUE = 2424  # the desk that keeps losing (must be < --accounts)
LOWER_BOUND = -25_000  # P&L kill switch, per account, in USD


def build_engine(workers: int, accounts: int) -> Any:
    from . import Engine, param
    from .pretrade import policies as P

    hour = datetime.timedelta(hours=1)
    second = datetime.timedelta(seconds=1)
    rate = (
        P.build_rate_limit()
        .broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(50_000_000, second)))
        .asset_barriers(P.RateLimitAssetBarrier(P.RateLimit(40_000_000, second), "USD"))
        .account_barriers(
            *[
                P.RateLimitAccountBarrier(P.RateLimit(200_000, hour), param.AccountId.from_int(a))
                for a in range(0, accounts, 50)
            ]
        )
    )
    size = P.build_order_size_limit().asset_barriers(
        *[
            P.OrderSizeAssetBarrier(
                P.OrderSizeLimit(
                    max_quantity=param.Quantity(985), max_notional=param.Volume(450_000)
                ),
                f"S{i:03d}",
            )
            for i in range(N_INSTRUMENTS)
        ]
    )
    pnl = P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", param.Pnl(LOWER_BOUND), None)
    )
    return (
        Engine.builder()
        .account_sync()
        .sharded(workers=workers)
        .builtin(P.build_order_validation())
        .builtin(rate)
        .builtin(size)
        .builtin(pnl)
        .build()
    )


class Flow:
    """Two-sided quotes from market-making desks, and fills fed back as reports."""

    def __init__(self, engine: Any, accounts: int, instruments: np.ndarray, seed: int = 7) -> None:
        self.engine = engine  # the records are built for it (its scale and record tag)
        self.rng = np.random.default_rng(seed)
        self.accounts = accounts
        self.instruments = instruments
        self.mid = self.rng.uniform(20.0, 400.0, N_INSTRUMENTS)

    def quotes(self, n: int, seq0: int) -> np.ndarray:
        rng = self.rng
        self.mid *= np.exp(rng.normal(0.0, 0.0005, N_INSTRUMENTS))
        self.mid = np.clip(self.mid, 10.5, 499.5)
        which = rng.integers(0, N_INSTRUMENTS, n)
        side = np.where(np.arange(n) % 2 == 0, 1, 2)  # bids and offers alternate
        spread = rng.uniform(0.01, 0.5, n)
        price = np.round(self.mid[which] + np.where(side == 1, -spread, spread), 2)
        return order_records(
            self.engine,
            account=rng.integers(0, self.accounts, n),
            instrument=self.instruments[which],
            side=side,
            quantity=rng.integers(1, 1001, n),
            price=price,  # two decimals: exact in units
            units="decimal",
            auto_commit=True,
            seq=np.arange(seq0, seq0 + n),
        )

    def fills(self, orders: np.ndarray, results: np.ndarray, seq0: int) -> np.ndarray:
        """Reports for ~3% of the accepted orders: small P&L either way, a fee each.

        Every accepted quote of the losing desk fills, so it breaches its bound
        within the first batches however slowly a loaded host streams.
        """
        accepted = orders[results["status"] == STATUS_OK]
        rogue = accepted["account"] == ROGUE
        filled = accepted[(self.rng.random(accepted.shape[0]) < 0.03) | rogue]
        m = filled.shape[0]
        pnl = self.rng.normal(2.0, 40.0, m)
        pnl[filled["account"] == ROGUE] = -900.0  # the desk that keeps losing
        return report_records(
            self.engine,
            account=filled["account"],
            instrument=filled["instrument"],
            side=filled["side"],
            pnl=np.round(pnl, 2),
            fee=np.round(self.rng.uniform(0.0, 1.0, m), 2),
            units="decimal",
            seq=np.arange(seq0, seq0 + m),
        )


def _accounts(ids: set[int], shown: int = 5) -> str:
    """``"2 accounts: 7, 2424"``: how many, and the first few ids."""
    if not ids:
        return "none"
    first = ", ".join(map(str, sorted(ids)[:shown])) + (", ..." if len(ids) > shown else "")
    return f"{len(ids)} account{'s' if len(ids) > 1 else ''}: {first}"


def _codes(counts: np.ndarray) -> str:
    parts = [f"{REJECT_CODES[c - 1]} {int(n):,}" for c, n in enumerate(counts) if c and n]
    return ", ".join(parts) or "none"


def run_demo(
    seconds: float = 8.0, accounts: int = 4000, workers: int = 2, batch: int = 65536
) -> Path:
    """Run the demo; returns the path of the Markdown summary it wrote."""
    from . import Instrument

    started = time.monotonic()
    print(f"starting a sharded engine: {workers} workers, C1 policies, {accounts:,} accounts ...")
    engine = build_engine(workers, accounts)
    with engine:
        # The leak check below looks at this engine's segments only (this process and its
        # workers made them), never at other engines' on the same host.
        creators = [process_identity(pid) for pid in (os.getpid(), *engine.workers)]
        ready = time.monotonic() - started
        instruments = np.array(
            [
                engine.register_instrument(Instrument(f"S{i:03d}", "USD"))
                for i in range(N_INSTRUMENTS)
            ]
        )
        print(f"ready in {ready:.2f} s (workers {engine.workers}); streaming for {seconds:g} s\n")
        flow = Flow(engine, accounts, instruments)
        out = engine.batch_out(batch)
        codes = np.zeros(len(REJECT_CODES) + 1, dtype=np.int64)
        blocked: set[int] = set()
        kill_codes = (CODE_NUMBER["PnlKillSwitchTriggered"], CODE_NUMBER["AccountBlocked"])
        total = reports = seq = 0
        busy = 0.0
        t0 = last = time.monotonic()
        while time.monotonic() - t0 < seconds:
            orders = flow.quotes(batch, seq)
            seq += batch
            t = time.perf_counter()
            results = engine.execute_batch(orders, out)
            fills = flow.fills(orders, results, seq)
            seq += fills.shape[0]
            posted = engine.execute_batch(fills) if fills.shape[0] else fills
            busy += time.perf_counter() - t
            total += batch
            reports += fills.shape[0]
            codes += np.bincount(results["code"], minlength=codes.shape[0])
            hit = np.isin(results["code"], kill_codes)
            blocked.update(int(a) for a in np.unique(orders["account"][hit]))
            if fills.shape[0]:
                blocked.update(int(a) for a in fills["account"][posted["count"] > 0])
            now = time.monotonic()
            if now - last >= 1.0:
                print(
                    f"[{now - t0:5.1f} s] {total / busy / 1e6:6.2f} M orders/s | {total:>11,} "
                    f"orders, {reports:>9,} fills | blocked: {_accounts(blocked)} "
                    f"| rejects: {_codes(codes)}"
                )
                last = now
        stats = engine.stats()
    leftovers = segments_created_by(creators)
    rate = total / busy
    rows = [
        ("orders decided", f"{total:,}"),
        ("fills reported", f"{reports:,}"),
        ("throughput (engine busy time)", f"{rate / 1e6:.2f} M orders/s"),
        ("accepted", f"{int(codes[0]):,}"),
        ("rejected", f"{int(codes[1:].sum()):,}"),
        ("rejects by code", _codes(codes)),
        ("blocked accounts", _accounts(blocked)),
        ("start to ready", f"{ready:.2f} s"),
        ("workers: batches / records / max batch", "; ".join(
            f"{s.get('batches', 0):,} / {s.get('records', 0):,} / {s.get('max_batch', 0)}"
            for s in stats
        )),
        ("/dev/shm after close", "clean" if not leftovers else ", ".join(leftovers)),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    print("\nsummary")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    path = _write_report(rows)
    print(f"\nreport: {path}")
    return path


def _write_report(rows: list[tuple[str, str]]) -> Path:
    from .hostinfo import host_lines, results_dir

    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir() / f"demo-{stamp}.md"
    lines = [f"# openpit_shm demo, {stamp}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", *(f"- {line}" for line in host_lines()), ""]
    path.write_text("\n".join(lines))
    return path
