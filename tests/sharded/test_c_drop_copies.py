"""A C program sends drop copies (``MSG_DROP_COPY``) next to orders and reports to a sharded engine.

``tests/sharded/c/drop_copy_sender.c`` is compiled with gcc against the
generated header only. It tags the records with the ``tag`` of
``external_client()``, routes each with ``opshm_shard_of`` and prints every
result record. The shard workers must answer exactly as an in-process engine
fed the same records through ``execute_batch``: per account the order is the
same, and the C1 policies act per account (broker-wide limits out of reach), so
the shards' interleaving cannot matter.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_DROP_COPY,
    MSG_ORDER,
    MSG_REPORT,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RESULT_ABORTS_DROP_COPY,
    RESULT_ACCOUNT_BLOCKED,
    RESULT_BLOCK_LATCHED,
    RESULT_DTYPE,
    STATUS_OK,
    STATUS_REJECTED,
)
from tests.records import stamped
from tests.sharded.conftest import c1_builder
from tests.sharded.test_c_feeder import own_segments, write_attach

SOURCE = Path(__file__).resolve().parent / "c" / "drop_copy_sender.c"
N_INSTRUMENTS = 8
#: (seq, status, code, policy, reason, count, index, flags, reservation != 0) per result record
Row = tuple[int, ...]


@pytest.fixture(scope="module")
def sender(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("drop_copies") / "drop_copy_sender"
    cmd = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", op.get_include(),
           str(SOURCE), "-o", str(exe)]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return exe


def mixed_stream(seed: int, n: int, accounts: np.ndarray) -> np.ndarray:
    """Untagged orders, drop copies (a few without an account) and P&L reports, seeded.

    Drop copies spend the 40/h account rate barriers (every third account) and run
    into the size caps like orders; losing reports trip the P&L kill switch, whose
    account blocks the later drop copies report (``RESULT_ACCOUNT_BLOCKED``) and
    orders meet.
    """
    rng = np.random.default_rng(seed)
    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n) + 100_000 * seed
    rec["account"] = rng.choice(accounts, n).astype(np.uint64)
    rec["instrument"] = rng.integers(0, N_INSTRUMENTS, n)
    rec["side"] = rng.integers(1, 3, n)
    u = rng.random(n)
    kind = np.select([u < 0.40, u < 0.88], [MSG_ORDER, MSG_DROP_COPY], MSG_REPORT)
    rec["kind"] = kind
    flags = np.full(n, ORDER_HAS_OPERATION | ORDER_HAS_PRICE, dtype=np.uint16)
    v = rng.random(n)
    flags[v < 0.6] |= ORDER_AUTO_COMMIT
    flags[(v >= 0.6) & (v < 0.65)] &= ~np.uint16(ORDER_HAS_PRICE)  # market: no notional
    flags[(v >= 0.65) & (v < 0.72)] |= ORDER_VOLUME
    no_account = (kind == MSG_DROP_COPY) & (rng.random(n) < 0.03)
    flags[no_account] |= ORDER_NO_ACCOUNT
    report = kind == MSG_REPORT
    flags[report] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    rec["flags"] = flags
    rec["price"] = rng.integers(1000, 50000, n) * 10**6
    qty = rng.integers(1, 1000, n) * 10**8
    rec["amount"] = np.where(flags & ORDER_VOLUME, qty * 100, qty)
    rec["pnl"] = np.where(report, rng.integers(-700, 300, n) * 10**8, 0)
    rec["fee"] = np.where(report, rng.integers(0, 50, n) * 10**7, 0)
    return rec


def local_rows(records: np.ndarray) -> tuple[np.ndarray, list[list[Row]]]:
    """``execute_batch``'s answers, and every result record per request, in process.

    Two fresh engines fed the same records: one through ``execute_batch`` (first
    records), one through the book with ``first_only=False`` (all records).
    """
    engines = []
    for _ in range(2):
        engine = c1_builder("no_sync").build()
        for i in range(N_INSTRUMENTS):
            engine.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
        engines.append(engine)
    first = engines[0].execute_batch(stamped(records, engines[0]))
    book = engines[1]
    n = records.shape[0]
    out = np.zeros(n * (len(book._entries) + 2) + 8, dtype=RESULT_DTYPE)
    done, written = book._book.process(stamped(records, book), out, book._clock(),
                                       first_only=False)  # fmt: skip
    assert done == n
    per: list[list[Row]] = []
    i = 0
    while i < written:
        k = max(int(out["count"][i]), 1)
        per.append([_row(r) for r in out[i : i + k]])
        i += k
    assert len(per) == n
    return first, per


def _row(r: Any) -> Row:
    words = ("seq", "status", "code", "policy", "reason", "count", "index", "flags")
    return (*(int(r[w]) for w in words), int(r["reservation"] != 0))


def send(exe: Path, attach: Path, records: np.ndarray, tmp: Path) -> list[list[Row]]:
    """Every result record the C sender printed, per input record."""
    path = tmp / "records.bin"
    np.ascontiguousarray(records).tofile(path)
    res = subprocess.run([str(exe), str(attach), str(path)], capture_output=True, text=True,
                         timeout=180)  # fmt: skip
    assert res.returncode == 0, f"sender exit {res.returncode}: {res.stderr}"
    per: dict[int, list[Row]] = defaultdict(list)
    for line in res.stdout.splitlines():
        i, seq, *rest = map(int, line.split())
        per[i].append((seq, *rest[:7], int(rest[7] != 0)))
    return [per[i] for i in range(records.shape[0])]


@pytest.fixture()
def sharded() -> Iterator[Any]:
    before = own_segments()
    engine = c1_builder("account_sync").sharded(workers=2, external_clients=1).build()
    with engine:
        for i in range(N_INSTRUMENTS):
            engine.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
        yield engine
    assert own_segments() <= before, "every segment the engine made is gone"


@pytest.mark.parametrize("seed", [5, 6])
def test_should_answer_c_drop_copies_like_the_in_process_engine(
    sender: Path, sharded: Any, tmp_path: Path, seed: int
) -> None:
    records = mixed_stream(seed, 6000, np.arange(60))
    first, want = local_rows(records)
    got = send(sender, write_attach(sharded, tmp_path / "attach"), records, tmp_path)

    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"record {i} {records[i]}: C got {g}, in process {w}"
    # The first records are execute_batch's answers, field by field.
    assert [g[0] for g in got] == [_row(r) for r in first]

    # The stream reaches what it claims to, so the comparison above means something.
    drop = records["kind"] == MSG_DROP_COPY
    status, code, flags = first["status"], first["code"], first["flags"].astype(np.int64)
    assert (status[drop] == STATUS_OK).mean() > 0.9, "drop copies are recorded, not refused"
    assert (first["count"][drop] == 1).any(), "some drop copies name an account block"
    assert ((flags[drop] & RESULT_ACCOUNT_BLOCKED) != 0).any()
    assert ((flags[drop] & RESULT_ACCOUNT_BLOCKED) == 0).any()
    # (A report latches the P&L block before any drop copy can: none latches here.)
    assert not (flags[drop] & RESULT_BLOCK_LATCHED).any()
    no_account = drop & (records["flags"] & ORDER_NO_ACCOUNT != 0)
    assert no_account.any() and (status[no_account] == STATUS_REJECTED).all()
    assert (code[no_account] == CODE_NUMBER["MissingRequiredField"]).all()
    # None of the four builtins aborts a drop copy (only evaluation failures a builtin
    # cannot record through do, e.g. Spot Funds); the flag must then never appear.
    assert not (flags & RESULT_ABORTS_DROP_COPY).any()
    order = records["kind"] == MSG_ORDER
    codes = set(code[order].tolist())
    for name in ("RateLimitExceeded", "OrderQtyExceedsLimit", "PnlKillSwitchTriggered",
                 "OrderValueCalculationFailed"):  # fmt: skip
        assert CODE_NUMBER[name] in codes, name
