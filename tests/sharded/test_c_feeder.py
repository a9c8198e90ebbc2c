"""A C program feeds a sharded engine through an external client slot (bench/c/feeder.c).

The feeder is compiled here with gcc against the generated header only. It
routes every record with ``opshm_shard_of`` and pushes it verbatim into its
shard's request ring; its decisions must equal the in-process engine's on the
same records (per account the submission order is the same, and no broker-wide
limit is reached, so the shards' interleaving cannot matter).
"""

from __future__ import annotations

import datetime
import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records
from openpit_shm.layout.records import (
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_REPORT,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    STATUS_OK,
    RecordFormat,
)
from openpit_shm.layout.segment import HDR_W, SEGMENT_HEADER_BYTES
from openpit_shm.layout.shard import shard_of
from tests.records import stamped
from tests.sharded.conftest import c1_builder

ROOT = Path(__file__).resolve().parents[2]
FEEDER_SOURCE = ROOT / "bench" / "c" / "feeder.c"
N_INSTRUMENTS = 20
FIELDS = ("seq", "status", "code", "policy", "reason", "count", "flags")

# ---- helpers shared with test_malformed_input.py ------------------------------------------


@functools.cache
def compile_feeder(out_dir: str) -> Path:
    """gcc the feeder against ``openpit_shm.get_include()`` only, warnings as errors."""
    exe = Path(out_dir) / "feeder"
    cmd = [
        "gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
        "-I", op.get_include(), str(FEEDER_SOURCE), "-o", str(exe),
    ]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"gcc failed ({' '.join(cmd)}):\n{res.stderr}"
    return exe


def write_attach(engine: Any, path: Path, slot: int = 1) -> Path:
    """The feeder's attach file, from ``engine.external_client(slot)``."""
    info = engine.external_client(slot)
    lines = [
        "opshm-attach 1",
        f"slot {info['slot']}",
        f"n_shards {info['n_shards']}",
        f"capacity {info['capacity']}",
        f"scale {info['scale']}",
        f"tag {info['tag']}",
    ]
    lines += [f"request {k} {name}" for k, name in enumerate(info["request"])]
    lines += [f"result {k} {name}" for k, name in enumerate(info["result"])]
    lines += [f"instrument {iid} {name}" for name, iid in info["instruments"].items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_feeder(exe: Path, attach: Path, *args: str, timeout: float = 60.0) -> str:
    """Run the feeder to completion (killed if it outlives ``timeout``); its stdout."""
    res = subprocess.run(
        [str(exe), "--attach", str(attach), *args], capture_output=True, text=True, timeout=timeout
    )
    assert res.returncode == 0, f"feeder exit {res.returncode}: {res.stderr}"
    return res.stdout


def feed_decisions(exe: Path, attach: Path, records: np.ndarray, tmp: Path, *extra: str) -> dict:
    """Send ``records`` verbatim through the feeder; its per-record answers as columns."""
    path = tmp / "orders.bin"
    np.ascontiguousarray(records, dtype=ORDER_DTYPE).tofile(path)
    out = run_feeder(exe, attach, "--mode", "decisions", "--input", str(path), *extra)
    lines = out.splitlines()
    assert lines[-1].startswith("# answered="), lines[-1:]
    summary = dict(kv.split("=") for kv in lines[-1][2:].split())
    rows = [line.split() for line in lines[:-1]]
    assert [int(r[0]) for r in rows] == list(range(len(records)))
    cols: dict[str, Any] = {
        name: np.array([int(r[i + 1]) for r in rows], dtype=np.int64)
        for i, name in enumerate((*FIELDS, "reservation"))
    }
    cols["rejects"] = [[] if r[9] == "-" else [tuple(map(int, x.split(":"))) for x in
                                                r[9].split(",")] for r in rows]  # fmt: skip
    cols["answered"] = int(summary["answered"])
    cols["strays"] = int(summary["strays"])
    return cols


def all_records(engine: Any, records: np.ndarray) -> list[list[tuple[int, int, int]]]:
    """Every result record (code, policy, reason) per request, from an in-process engine."""
    n = records.shape[0]
    out = np.zeros(n * (len(engine._entries) + 2) + 8, dtype=RESULT_DTYPE)
    records = stamped(records, engine)
    done, written = engine._book.process(records, out, engine._clock(), first_only=False)
    assert done == n
    per: list[list[tuple[int, int, int]]] = []
    i = 0
    while i < written:
        k = max(int(out["count"][i]), 1)
        rows = out[i : i + k]
        rejects = [(int(r["code"]), int(r["policy"]), int(r["reason"])) for r in rows]
        per.append([] if rows["count"][0] == 0 else rejects)
        i += k
    assert len(per) == n
    return per


def own_segments() -> set[str]:
    """``/dev/shm/opshm.*`` entries this process created (others' test runs are ignored)."""
    mine = set()
    for name in os.listdir("/dev/shm"):
        if not name.startswith("opshm."):
            continue
        try:
            raw = (Path("/dev/shm") / name).read_bytes()[:SEGMENT_HEADER_BYTES]
        except OSError:
            continue
        header = np.frombuffer(raw, "<i8") if len(raw) == SEGMENT_HEADER_BYTES else None
        if header is not None and int(header[HDR_W["creator_pid"]]) == os.getpid():
            mine.add(name)
    return mine


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_feeder(str(tmp_path_factory.mktemp("feeder")))


@pytest.fixture(scope="module")
def sharded() -> Iterator[Any]:
    before = own_segments()
    engine = c1_builder("account_sync").sharded(workers=2, external_clients=1).build()
    with engine:
        ids = [engine.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
               for i in range(N_INSTRUMENTS)]  # fmt: skip
        assert ids == list(range(N_INSTRUMENTS))
        info = engine.external_client(1)
        names = {n.lstrip("/") for n in info["request"] + info["result"]}
        pids = engine.workers
        yield engine
    assert not names & set(os.listdir("/dev/shm")), "close() unlinks the external rings"
    assert own_segments() <= before, "every segment the engine made is gone"
    assert not any(pid_alive(p) for p in pids), "the workers are gone"


def local_engine() -> Any:
    engine = c1_builder("no_sync").build()
    for i in range(N_INSTRUMENTS):
        engine.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
    return engine


def mixed_stream(seed: int, n: int, accounts: np.ndarray) -> np.ndarray:
    """Orders of every kind (limit, market, volume, dry runs, starts) and P&L reports.

    Per account it is deterministic whatever the shards' interleaving: the
    account rate barriers (40/h on every third account), order-size caps and
    the P&L kill switch act per account; the broker limits are out of reach.
    """
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n) + 1000 * seed
    rec["account"] = rng.choice(accounts, n).astype(np.uint64)
    rec["instrument"] = rng.integers(0, N_INSTRUMENTS, n)
    rec["side"] = rng.integers(1, 3, n)
    u = rng.random(n)
    kind = np.select(
        [u < 0.55, u < 0.75, u < 0.82, u < 0.88, u < 0.93],
        [MSG_ORDER, MSG_ORDER, MSG_DRY_ORDER, MSG_DRY_START, MSG_START],
        MSG_REPORT,
    )
    rec["kind"] = kind
    flags = np.full(n, ORDER_HAS_OPERATION | ORDER_HAS_PRICE, dtype=np.uint16)
    flags[u < 0.55] |= ORDER_AUTO_COMMIT
    v = rng.random(n)
    flags[v < 0.05] &= ~np.uint16(ORDER_HAS_PRICE)  # market orders
    flags[(v >= 0.05) & (v < 0.12)] |= ORDER_VOLUME
    report = kind == MSG_REPORT
    flags[report] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    rec["flags"] = flags
    rec["price"] = rng.integers(1000, 50000, n) * 10**6
    qty = rng.integers(1, 1000, n) * 10**8
    rec["amount"] = np.where(flags & ORDER_VOLUME, qty * 100, qty)
    rec["pnl"] = np.where(report, rng.integers(-600, 300, n) * 10**8, 0)
    rec["fee"] = np.where(report, rng.integers(0, 50, n) * 10**7, 0)
    return rec


# ---- tests ------------------------------------------------------------------------------------


def test_should_decide_through_the_c_feeder_like_the_in_process_engine(
    feeder: Path, sharded: Any, tmp_path: Path
) -> None:
    # Accounts 0..59: every third one has a 40/h account rate barrier (c1_builder).
    records = mixed_stream(3, 8000, np.arange(60))
    local = local_engine()
    want = local.execute_batch(stamped(records, local))
    want_all = all_records(local_engine(), records)
    before = [s["records"] for s in sharded.stats()]

    attach = write_attach(sharded, tmp_path / "attach")
    got = feed_decisions(feeder, attach, stamped(records, sharded), tmp_path)

    assert got["answered"] == len(records) and got["strays"] == 0
    for field in FIELDS:
        bad = np.flatnonzero(got[field] != want[field])
        assert bad.size == 0, f"{field} differs first at record {bad[:1]}: {records[bad[:1]]}"
    assert np.array_equal(got["reservation"] != 0, want["reservation"] != 0)
    assert got["rejects"] == want_all, "every reject record matches, not just the first"
    # The stream exercises what it claims to (so the comparison above means something).
    codes = set(np.unique(want["code"]).tolist())
    for name in ("RateLimitExceeded", "OrderQtyExceedsLimit", "PnlKillSwitchTriggered",
                 "OrderValueCalculationFailed"):  # fmt: skip
        assert op.layout.records.CODE_NUMBER[name] in codes, name
    assert (want["status"] == STATUS_OK).mean() > 0.5
    # Routing: each shard decided exactly the records opshm_shard_of sends it.
    per_shard = np.bincount([shard_of(int(a), 2) for a in records["account"]], minlength=2)
    after = [s["records"] for s in sharded.stats()]
    assert [a - b for a, b in zip(after, before)] == per_shard.tolist()


def _account_windows_only(sync: str) -> Any:
    """The C1 policies of ``c1_builder`` minus its broker/asset rate windows (shared segment).

    Those windows are shared by the shards, so which order a broker-wide limit cuts depends
    on how the shards interleave; this test oversubscribes the CPUs on purpose (2 workers,
    the feeder and this process on 2 CPUs) and only wants exact per-account decisions.
    """
    pol = op.pretrade.policies
    rate = pol.build_rate_limit().account_barriers(
        *[pol.RateLimitAccountBarrier(pol.RateLimit(40, datetime.timedelta(hours=1)),
                                      op.param.AccountId.from_int(a))
          for a in range(50_000, 50_060, 3)]
    )  # fmt: skip
    size = pol.build_order_size_limit().asset_barriers(
        pol.OrderSizeAssetBarrier(
            pol.OrderSizeLimit(max_quantity=op.param.Quantity(900),
                               max_notional=op.param.Volume(300000)), "USD")
    )  # fmt: skip
    pnl = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", op.param.Pnl(-2000), op.param.Pnl(5000))
    )
    builder = getattr(op.Engine.builder(), sync)()
    return builder.builtin(pol.build_order_validation()).builtin(rate).builtin(size).builtin(pnl)


def test_should_serve_a_c_feeder_and_the_python_client_at_the_same_time(
    feeder: Path, tmp_path: Path
) -> None:
    before = own_segments()
    engine = _account_windows_only("account_sync").sharded(workers=2, external_clients=1).build()
    with engine:
        for i in range(N_INSTRUMENTS):
            engine.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
        local = _account_windows_only("no_sync").build()
        for i in range(N_INSTRUMENTS):
            local.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
        warm = mixed_stream(12, 500, np.arange(70_000, 70_010))  # first calls out of the way
        for eng in (local, engine):
            eng.execute_batch(stamped(warm, eng))
        orders = 2_000_000
        proc = subprocess.Popen(
            [str(feeder), "--attach", str(write_attach(engine, tmp_path / "attach")),
             "--mode", "throughput", "--orders", str(orders), "--reps", "8", "--warmup", "0",
             "--accounts", "500", "--seed", "7"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        overlapped = 0
        try:
            # Meanwhile the engine's own slot decides other accounts, batch after batch.
            records = mixed_stream(11, 40_000, np.arange(50_000, 50_060))
            for chunk in np.array_split(records, 80):
                want = local.execute_batch(stamped(chunk, local))
                got = engine.execute_batch(stamped(chunk, engine))
                for field in FIELDS:
                    assert np.array_equal(got[field], want[field]), field
                if proc.poll() is not None:
                    break
                overlapped += 1
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert own_segments() <= before
    assert proc.returncode == 0, err
    assert overlapped >= 1, "the Python batches ran while the feeder was feeding"
    reps = [dict(kv.split("=") for kv in line.split()) for line in out.splitlines()]
    assert len(reps) == 8
    for rep in reps:
        assert int(rep["orders"]) == orders
        assert int(rep["accepted"]) + int(rep["rejected"]) == orders
        assert int(rep["errors"]) == 0
        # C1-like orders: qty 1..1000 against a 900 cap and a 300000 notional cap.
        assert 0.05 < int(rep["rejected"]) / orders < 0.5


def test_should_not_answer_system_unavailable_when_workers_share_a_cpu() -> None:
    """A worker descheduled mid-update of a shared rate window must not fail the other's orders.

    (With the CAS spin lock of the first version, 6-23 of 1M valid orders got
    SystemUnavailable / RSN_RL_LOCK_TIMEOUT in this setting.)
    """
    engine = c1_builder("account_sync").sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        for pid in engine.workers:  # what 2 workers + a client on 2 CPUs come to, made certain
            os.sched_setaffinity(pid, {0})
        rng = np.random.default_rng(1)
        n = 1_000_000
        orders = order_records(
            engine,
            account=rng.integers(100, 10_000, n),
            instrument=iid,
            side=1,
            quantity=1,
            price=1,
            units="decimal",
            auto_commit=True,
        )
        codes = np.concatenate([engine.execute_batch(orders)["code"] for _ in range(2)])
    unavailable = int((codes == op.layout.records.CODE_NUMBER["SystemUnavailable"]).sum())
    assert unavailable == 0, f"{unavailable} of {codes.size} valid orders got SystemUnavailable"


def test_should_refuse_to_start_on_a_bad_attach_file(feeder: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "attach"
    bogus.write_text(
        "n_shards 1\ncapacity 1024\nscale 8\nrequest 0 /opshm.nothing.ring.req\n"
        "result 0 /opshm.nothing.ring.res\ninstrument 0 S000/USD\n"
    )
    res = subprocess.run([str(feeder), "--attach", str(bogus), "--orders", "10"],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert res.returncode == 1 and "shm_open failed" in res.stderr
    res = subprocess.run([str(feeder), "--attach", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert res.returncode == 1


def test_should_block_every_shard_after_a_no_account_report_from_c(
    feeder: Path, tmp_path: Path
) -> None:
    """A report without an account latches the engine-wide kill switch on every shard."""
    engine = c1_builder("account_sync").sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        report = np.zeros(1, dtype=ORDER_DTYPE)
        report["kind"] = MSG_REPORT
        report["instrument"] = iid
        report["flags"] = REPORT_HAS_FINANCIAL  # no operation: no account
        report["pnl"] = -5000 * 10**8
        attach = write_attach(engine, tmp_path / "attach")
        feed_decisions(feeder, attach, stamped(report, engine), tmp_path)
        accounts = [a for a in range(1, 200) if shard_of(a, 2) == 1][:5]  # not shard_of(0)
        order = order_records(engine, account=accounts, instrument=iid, side=1, quantity=1,
                              price=10, units="decimal", auto_commit=True)  # fmt: skip
        got = engine.execute_batch(order)
    local = c1_builder("no_sync").build()
    local.register_instrument(op.Instrument("S000", "USD"))
    local.execute_batch(stamped(report, local))
    want = local.execute_batch(stamped(order, local))
    assert (want["status"] != STATUS_OK).all()
    assert np.array_equal(got["status"], want["status"])


def test_should_gate_a_no_account_order_against_blocks_on_every_shard(
    feeder: Path, tmp_path: Path
) -> None:
    """An order without an account meets the blocks of every shard, not only shard_of(0)'s."""
    blocked = next(a for a in range(1, 200) if shard_of(a, 2) == 1)
    report = np.zeros(1, dtype=ORDER_DTYPE)
    report["account"] = blocked
    report["kind"] = MSG_REPORT
    report["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    report["pnl"] = -5000 * 10**8
    order = order_records(
        RecordFormat(8, 1), account=0, instrument=0, side=1, quantity=1, price=10, units="decimal"
    )  # stamped for each engine below
    order["flags"] |= ORDER_NO_ACCOUNT
    engine = c1_builder("account_sync").sharded(workers=2).build()
    with engine:
        engine.register_instrument(op.Instrument("S000", "USD"))
        attach = write_attach(engine, tmp_path / "attach")
        latched = feed_decisions(feeder, attach, stamped(report, engine), tmp_path)
        assert latched["count"][0] == 1
        got = feed_decisions(feeder, attach, stamped(order, engine), tmp_path)
    local = local_engine()
    local.execute_batch(stamped(report, local))
    want = local.execute_batch(stamped(order, local))
    for field in FIELDS:
        assert got[field][0] == want[field][0], field
