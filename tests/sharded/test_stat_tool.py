"""``openpit-shm stat`` / ``list`` watch a loaded engine from another process, read-only.

The loading process keeps its own tally of every answer (accepted, rejects by
code, errors by reason); the stat process, attached through ``/proc`` with
read-only mappings, must show the same figures, climbing, with a fresh
heartbeat, and ``ShardedEngine.stats()`` must agree with it.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records
from openpit_shm.kernels.codes import reason_name
from openpit_shm.layout.records import REJECT_CODES, STATUS_ERROR, STATUS_OK, STATUS_REJECTED
from openpit_shm.shm.discover import find_engines

pol = op.pretrade.policies
P = op.param

pytestmark = pytest.mark.slow


def _engine() -> Any:
    size = pol.build_order_size_limit().broker_barrier(
        pol.OrderSizeBrokerBarrier(pol.OrderSizeLimit(max_quantity=P.Quantity(500)))
    )
    builder = op.Engine.builder().account_sync().sharded(workers=2)
    return builder.builtin(pol.build_order_validation()).builtin(size).build()


def _batch(engine: Any, iid: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """Orders of which some are too big (rejected) and some malformed (bad side: errors)."""
    recs = order_records(
        engine,
        account=rng.integers(1, 5_000, n),
        instrument=iid,
        side=1,
        quantity=rng.integers(1, 1_000, n),
        price=10,
        units="decimal",
        auto_commit=True,
    )
    recs["side"][rng.random(n) < 0.1] = 9  # malformed: STATUS_ERROR, RSN_BAD_SIDE
    return recs


class Tally:
    """What the loading process saw, answer by answer."""

    def __init__(self) -> None:
        self.accepted = 0
        self.rejected = 0
        self.errors = 0
        self.rejects: collections.Counter[str] = collections.Counter()
        self.errors_by_reason: collections.Counter[str] = collections.Counter()

    def add(self, results: np.ndarray) -> None:
        status = results["status"]
        self.accepted += int((status == STATUS_OK).sum())
        self.rejected += int((status == STATUS_REJECTED).sum())
        self.errors += int((status == STATUS_ERROR).sum())
        for code in results["code"][status == STATUS_REJECTED]:
            self.rejects[REJECT_CODES[int(code) - 1]] += 1  # one reject record each here
        for reason in results["reason"][status == STATUS_ERROR]:
            self.errors_by_reason[reason_name(int(reason))] += 1


def _stat(*args: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-m", "openpit_shm", "stat", *args, "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in out.stdout.splitlines()]


def _totals(reading: dict[str, Any]) -> dict[str, Any]:
    shards = reading["shards"]
    rejects: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    for s in shards:
        rejects.update(s["rejects"])
        reasons.update(s["errors_by_reason"])
    return {
        "records": sum(s["records"] for s in shards),
        "accepted": sum(s["accepted"] for s in shards),
        "rejected": sum(s["rejected"] for s in shards),
        "errors": sum(s["errors"] for s in shards),
        "rejects": dict(rejects),
        "errors_by_reason": dict(reasons),
    }


def test_should_show_a_loaded_engine_from_another_process_read_only() -> None:
    rng = np.random.default_rng(13)
    with _engine() as engine:
        name = engine.monitor_name
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        tally = Tally()
        tally.add(engine.execute_batch(_batch(engine, iid, rng, 20_000)))

        # 1. A quiet engine: the stat process sees exactly what this process saw.
        first = _stat(name)[0]
        assert first["engine"] == name and first["n_shards"] == 2
        got = _totals(first)
        assert got["accepted"] == tally.accepted
        assert got["rejected"] == tally.rejected
        assert got["errors"] == tally.errors > 0
        assert got["rejects"] == dict(tally.rejects) and tally.rejects["OrderQtyExceedsLimit"] > 0
        assert got["errors_by_reason"] == dict(tally.errors_by_reason)
        assert got["records"] >= 20_000

        # stats() reads the same words.
        mine = engine.stats()
        for k, shard in enumerate(first["shards"]):
            for key in ("accepted", "rejected", "errors", "rejects", "errors_by_reason"):
                assert mine[k][key] == shard[key], (k, key)

        # 2. Under load, in watch mode: figures climb, heartbeats are fresh, and the stat
        # process maps every openpit_shm segment read-only.
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                tally.add(engine.execute_batch(_batch(engine, iid, rng, 5_000)))

        loader = threading.Thread(target=load)
        loader.start()
        watcher = subprocess.Popen(
            [sys.executable, "-m", "openpit_shm", "stat", name, "--watch", "--json",
             "--interval", "0.2", "--count", "5"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            lines = [json.loads(watcher.stdout.readline())]  # type: ignore[union-attr]
            with open(f"/proc/{watcher.pid}/maps") as f:
                maps = f.read().splitlines()
            lines += [json.loads(line) for line in watcher.stdout]  # type: ignore[union-attr]
        finally:
            stop.set()
            loader.join()
            watcher.wait(timeout=60)
        mapped = [line for line in maps if "opshm" in line]
        assert mapped, "the stat process maps the engine's control segment"
        assert all(line.split()[1].startswith("r-") for line in mapped), mapped
        records = [_totals(r)["records"] for r in lines]
        assert records == sorted(records) and records[-1] > records[0], records
        assert all("rates" in s for s in lines[-1]["shards"])
        for s in lines[-1]["shards"]:
            assert s["serving"] and s["heartbeat_age_s"] is not None
            assert s["heartbeat_age_s"] < 5.0, "a loaded worker's heartbeat is fresh"

        # 3. After the load, the figures match this process's tally again.
        final = _totals(_stat(name)[0])
        assert final["accepted"] == tally.accepted
        assert final["rejected"] == tally.rejected
        assert final["errors"] == tally.errors
        assert final["rejects"] == dict(tally.rejects)


def test_should_list_this_engine_and_count_restarts() -> None:
    with _engine() as engine:
        name = engine.monitor_name
        out = subprocess.run(
            [sys.executable, "-m", "openpit_shm", "list", "--json"],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        mine = [r for r in rows if r["engine"] == name]
        assert len(mine) == 1 and mine[0]["pid"] == os.getpid() and mine[0]["shards"] == 2

        victim = engine.workers[1]
        os.kill(victim, 9)
        deadline = time.monotonic() + 120
        while engine.stats()[1]["restarts"] < 1 or engine.workers[1] == victim:
            assert time.monotonic() < deadline, "the worker is restarted"
            time.sleep(0.05)
        assert _stat(name)[0]["shards"][1]["restarts"] >= 1
    engines = find_engines()
    listed = [e.name for e in engines]
    for e in engines:
        e.close()
    assert name not in listed, "a closed engine is not listed"
