"""Malformed input from an external client never crashes, hangs or silences a shard worker.

Bad records go in through the C feeder (bench/c/feeder.c, verbatim) and raw
bytes straight into a ring from Python. Every record must be answered (a
reject or a ``STATUS_ERROR`` result), the workers must keep their pids and keep
deciding valid orders exactly as the in-process engine does, and nothing may
wait longer than a bounded time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records
from openpit_shm.kernels.atomics import store_word_release
from openpit_shm.kernels.codes import (
    RSN_BAD_AMOUNT,
    RSN_BAD_CURSOR,
    RSN_BAD_FLAGS,
    RSN_BAD_HANDLE,
    RSN_BAD_INSTRUMENT,
    RSN_BAD_KIND,
    RSN_BAD_SIDE,
    RSN_HANDLE_NOT_OWNER,
    RSN_HANDLE_WRONG_SHARD,
    RSN_WRONG_ENGINE,
)
from openpit_shm.layout.handles import handle_client, handle_shard, make_handle
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_COMMIT,
    MSG_EXECUTE,
    MSG_KIND_MAX,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    SIDE_BUY,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from openpit_shm.layout.ring import RING_W_HEAD, RING_W_TAIL
from openpit_shm.layout.shard import record_shard_nb
from openpit_shm.shm.ring import Ring
from tests.records import stamped
from tests.sharded.conftest import c1_builder
from tests.sharded.test_c_feeder import (
    FIELDS,
    compile_feeder,
    feed_decisions,
    local_engine,
    mixed_stream,
    own_segments,
    pid_alive,
    write_attach,
)

I64_MAX, I64_MIN = 2**63 - 1, -(2**63)
I32_MAX, I32_MIN = 2**31 - 1, -(2**31)
LIMIT = ORDER_HAS_OPERATION | ORDER_HAS_PRICE
ERROR_CODES = {CODE_NUMBER[c] for c in ("Other", "InvalidFieldValue", "InvalidFieldFormat",
                                        "UnknownInstrument", "SystemUnavailable")}  # fmt: skip


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_feeder(str(tmp_path_factory.mktemp("feeder")))


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    before = own_segments()
    eng = c1_builder("account_sync").sharded(workers=2, external_clients=1, timeout=5.0).build()
    with eng:
        for i in range(20):
            eng.register_instrument(op.Instrument(f"S{i:03d}", "USD"))
        pids = eng.workers
        yield eng
        assert eng.workers == pids, "no worker was restarted: none crashed"
    assert own_segments() <= before
    assert not any(pid_alive(p) for p in pids)


def _record(**fields: Any) -> tuple:
    base = {"seq": 0, "account": 7, "instrument": 0, "kind": MSG_ORDER, "side": SIDE_BUY,
            "flags": LIMIT, "price": 100 * 10**8, "amount": 10**8, "pnl": 0, "fee": 0,
            "ref": 0}  # fmt: skip
    base.update(fields)
    return tuple(base[name] for name in ORDER_DTYPE.names)


def _slot1_refusal(ref: int) -> int:
    """Why a worker refuses garbage handle ``ref`` from client slot 1 (``layout.handles``)."""
    if ref <= 0:
        return RSN_BAD_HANDLE
    if handle_shard(ref) != record_shard_nb(0, MSG_COMMIT, ref, 2):
        return RSN_HANDLE_WRONG_SHARD
    return RSN_HANDLE_NOT_OWNER if handle_client(ref) != 1 else RSN_BAD_HANDLE


# (record fields, expected (status, code name, reason) or None = "whatever openpit decides")
BAD_FIELDS: list[tuple[dict, tuple[int, str, int] | None]] = [
    *[({"kind": k}, (STATUS_ERROR, "Other", RSN_BAD_KIND))
      for k in (0, MSG_KIND_MAX + 1, 100, 255)],
    *[({"side": s}, (STATUS_ERROR, "InvalidFieldValue", RSN_BAD_SIDE)) for s in (0, 3, 255)],
    *[({"amount": a}, (STATUS_ERROR, "InvalidFieldValue", RSN_BAD_AMOUNT))
      for a in (-1, -(10**8), I64_MIN)],
    ({"amount": -5, "flags": LIMIT | ORDER_VOLUME},
     (STATUS_ERROR, "InvalidFieldValue", RSN_BAD_AMOUNT)),
    *[({"instrument": i}, (STATUS_ERROR, "UnknownInstrument", RSN_BAD_INSTRUMENT))
      for i in (20, 999, -1, I32_MAX, I32_MIN)],
    *[({"flags": f}, (STATUS_ERROR, "InvalidFieldFormat", RSN_BAD_FLAGS))
      for f in (1 << 12, 1 << 15, 0xFFFF, LIMIT | 1 << 13)],
    ({"kind": MSG_START, "flags": 1 << 12}, (STATUS_ERROR, "InvalidFieldFormat", RSN_BAD_FLAGS)),
    ({"kind": MSG_REPORT, "instrument": 77, "flags": ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL},
     (STATUS_ERROR, "UnknownInstrument", RSN_BAD_INSTRUMENT)),
    # Garbage reservation handles: never a live one (live handles have small slot numbers).
    # Refused as client slot 1 sees them (the feeder's): unknown, another shard's, another's.
    *[({"kind": kind, "ref": ref}, (STATUS_ERROR, "Other", _slot1_refusal(ref)))
      for kind in (MSG_COMMIT, MSG_ROLLBACK, MSG_EXECUTE)
      for ref in (0, -1, 1, I64_MAX, I64_MIN, (2**30 - 1) << 32 | 123_456, 0x1234_5678_9ABC_DEF0,
                  make_handle(1, 1, 1, 7), make_handle(0, 1, 5, 2**28 - 1))],
    # Out-of-range values: business rejects or accepts, exactly as in process.
    ({"amount": I64_MAX}, None),
    ({"price": I64_MAX}, None),
    ({"price": I64_MAX, "amount": I64_MAX}, None),
    ({"price": -(10**8)}, None),
    ({"price": I64_MIN}, None),
    ({"price": 0}, None),
    ({"amount": 0}, None),
    ({"amount": I64_MAX, "flags": LIMIT | ORDER_VOLUME}, None),
    ({"account": 2**64 - 1}, None),
    ({"account": 0}, None),
    ({"kind": MSG_REPORT, "account": 9, "flags": ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL,
      "pnl": I64_MIN, "fee": I64_MAX}, None),
    ({"kind": MSG_REPORT, "account": 10, "flags": ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL,
      "pnl": I64_MAX, "fee": I64_MIN}, None),
    ({"kind": MSG_REPORT, "account": 11, "flags": ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL,
      "pnl": I64_MAX, "fee": 0}, None),
]


def _bad_records() -> np.ndarray:
    rec = np.array([_record(**fields) for fields, _ in BAD_FIELDS], dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(len(rec)) + 1
    return rec


def test_should_answer_every_bad_field_as_the_in_process_engine_does(
    feeder: Path, engine: Any, tmp_path: Path
) -> None:
    records = _bad_records()
    local = local_engine()
    want = local.execute_batch(stamped(records, local))

    got = feed_decisions(feeder, write_attach(engine, tmp_path / "attach"),
                         stamped(records, engine), tmp_path, "--timeout-ms", "20000")  # fmt: skip

    assert got["answered"] == len(records) and got["strays"] == 0
    for i, (fields, expected) in enumerate(BAD_FIELDS):
        actual = (int(got["status"][i]), int(got["code"][i]), int(got["reason"][i]))
        if expected is not None:
            status, code, reason = expected
            assert actual == (status, CODE_NUMBER[code], reason), f"{fields}: {actual}"
            assert got["policy"][i] == POLICY_ENGINE and got["count"][i] == 1, fields
        for field in FIELDS:
            if field == "reason" and fields.get("kind") in (MSG_COMMIT, MSG_ROLLBACK, MSG_EXECUTE):
                continue  # in process, the handles are client 0's: refused for other reasons
            assert got[field][i] == want[field][i], f"{fields}: {field}"
    # Then valid orders are decided as in process (the same engine state on both sides).
    valid = mixed_stream(5, 4000, np.arange(60))
    want = local.execute_batch(stamped(valid, local))
    got = feed_decisions(feeder, write_attach(engine, tmp_path / "attach"),
                         stamped(valid, engine), tmp_path)  # fmt: skip
    for field in FIELDS:
        assert np.array_equal(got[field], want[field]), field


def test_should_refuse_records_tagged_for_another_engine_from_a_c_producer(
    feeder: Path, engine: Any, tmp_path: Path
) -> None:
    """A C producer's records must carry the tag ``external_client()`` gives (issue 9, #19)."""
    records = mixed_stream(6, 2000, np.arange(500_000, 500_060))
    local = local_engine()
    attach = write_attach(engine, tmp_path / "attach")
    foreign = feed_decisions(feeder, attach, stamped(records, local), tmp_path)
    assert foreign["answered"] == len(records)
    assert (foreign["status"] == STATUS_ERROR).all()
    assert (foreign["reason"] == RSN_WRONG_ENGINE).all()
    # Nothing was applied: the same stream with the engine's tag decides as in process.
    want = local.execute_batch(stamped(records, local))
    got = feed_decisions(feeder, attach, stamped(records, engine), tmp_path)
    for field in FIELDS:
        assert np.array_equal(got[field], want[field]), field


def test_should_reject_finalizing_a_reservation_twice_or_executing_it(
    feeder: Path, engine: Any, tmp_path: Path
) -> None:
    attach = write_attach(engine, tmp_path / "attach")
    opened = order_records(engine, account=[100_001, 100_002], instrument=0, side=1,
                           quantity=1, price=10, units="decimal")  # fmt: skip
    first = feed_decisions(feeder, attach, opened, tmp_path)
    handles = first["reservation"]
    assert (first["status"] == STATUS_OK).all() and (handles != 0).all()
    fin = np.zeros(6, dtype=ORDER_DTYPE)
    fin["seq"] = np.arange(6)
    # No account: the feeder routes finalizations to the shard each handle names.
    fin["kind"] = [MSG_EXECUTE, MSG_COMMIT, MSG_COMMIT, MSG_ROLLBACK, MSG_ROLLBACK, MSG_COMMIT]
    fin["ref"] = [handles[0]] * 3 + [handles[1]] * 3
    got = feed_decisions(feeder, attach, fin, tmp_path)
    assert got["status"].tolist() == [STATUS_ERROR, STATUS_OK, STATUS_ERROR,
                                      STATUS_OK, STATUS_ERROR, STATUS_ERROR]  # fmt: skip
    assert set(got["reason"][got["status"] == STATUS_ERROR].tolist()) == {RSN_BAD_HANDLE}


def _check_answers(got: dict, n: int) -> None:
    assert got["answered"] == n and got["strays"] == 0, "every record answered once, in order"
    status, code, count = got["status"], got["code"], got["count"]
    assert set(np.unique(status).tolist()) <= {STATUS_OK, STATUS_REJECTED, STATUS_ERROR}
    assert code.max() <= len(op.layout.records.REJECT_CODES)
    err = status == STATUS_ERROR
    assert (got["policy"][err] == POLICY_ENGINE).all() and (count[err] == 1).all()
    assert set(np.unique(code[err]).tolist()) <= ERROR_CODES
    assert ((count > 0) == (code > 0)).all()
    assert count.max() <= 5  # one record per policy at most (4 policies) or the gate's one


def _after_garbage_still_exact(engine: Any, base: int) -> None:
    """Valid orders on fresh accounts decide as a fresh in-process engine decides them."""
    engine.accounts().unblock_all()  # garbage reports without an account latch a kill switch
    local = local_engine()
    records = mixed_stream(9, 3000, np.arange(base, base + 60))
    want = local.execute_batch(stamped(records, local))
    got = engine.execute_batch(stamped(records, engine))
    for field in FIELDS:
        assert np.array_equal(got[field], want[field]), field


def test_should_answer_random_bytes_and_keep_deciding(
    feeder: Path, engine: Any, tmp_path: Path
) -> None:
    rng = np.random.default_rng(21)
    n = 30_000
    records = np.frombuffer(rng.bytes(n * 64), dtype=ORDER_DTYPE).copy()
    pids = engine.workers
    t0 = time.monotonic()
    got = feed_decisions(feeder, write_attach(engine, tmp_path / "attach"), records, tmp_path,
                         "--timeout-ms", "20000")  # fmt: skip
    assert time.monotonic() - t0 < 60
    _check_answers(got, n)
    assert (got["status"] == STATUS_ERROR).mean() > 0.9, "random bytes are mostly malformed"
    assert engine.workers == pids and all(pid_alive(p) for p in pids)
    _after_garbage_still_exact(engine, 200_000)


def _fuzz_fields(rng: np.random.Generator, n: int) -> np.ndarray:
    """Records whose every field is drawn from valid values, edge values and junk."""
    edges = np.array([0, 1, -1, 10**8, -(10**8), 985 * 10**8, I64_MAX, I64_MIN, 2**32, 2**62])

    def money(k: int) -> np.ndarray:
        pick = rng.random(k)
        return np.where(pick < 0.5, rng.integers(1, 50_000, k) * 10**6,
                        np.where(pick < 0.8, rng.choice(edges, k),
                                 rng.integers(I64_MIN, I64_MAX, k, endpoint=True)))  # fmt: skip

    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n)
    rec["account"] = np.where(rng.random(n) < 0.5, rng.integers(0, 5000, n),
                              rng.integers(0, 2**63, n)).astype(np.uint64)  # fmt: skip
    rec["instrument"] = rng.integers(-2, 23, n)
    rec["kind"] = rng.integers(0, 10, n)
    rec["side"] = rng.integers(0, 4, n)
    rec["flags"] = np.where(rng.random(n) < 0.7, rng.integers(0, 1 << 8, n),
                            rng.integers(0, 1 << 16, n))  # fmt: skip
    rec["price"], rec["amount"], rec["pnl"], rec["fee"] = (money(n) for _ in range(4))
    rec["ref"] = np.where(rng.random(n) < 0.5, rng.choice(edges, n),
                          rng.integers(I64_MIN, I64_MAX, n, endpoint=True))  # fmt: skip
    return rec


def test_should_answer_fuzzed_fields_grow_the_arena_and_keep_deciding(
    feeder: Path, engine: Any, tmp_path: Path
) -> None:
    rng = np.random.default_rng(22)
    n = 60_000
    records = _fuzz_fields(rng, n)
    tagged = rng.random(n) < 0.8  # the rest keep a junk ref: refused as another engine's
    records[tagged] = stamped(records[tagged], engine)
    arena = [s["arena_bytes"] for s in engine.stats()]
    got = feed_decisions(feeder, write_attach(engine, tmp_path / "attach"), records, tmp_path,
                         "--timeout-ms", "20000")  # fmt: skip
    _check_answers(got, n)
    kinds = set(np.unique(got["status"]).tolist())
    assert kinds == {STATUS_OK, STATUS_REJECTED, STATUS_ERROR}, "the fuzz reaches every outcome"
    grown = [s["arena_bytes"] for s in engine.stats()]
    assert all(g > a for g, a in zip(grown, arena)), f"new accounts grew the arenas: {grown}"
    assert all(pid_alive(p) for p in engine.workers)
    _after_garbage_still_exact(engine, 300_000)


def test_should_keep_serving_others_when_a_client_corrupts_its_own_ring(engine: Any) -> None:
    """Raw bytes written into every slot and a producer cursor far past the ring's end.

    Each worker refuses the impossible cursor (one ``RSN_BAD_CURSOR`` answer, none of the
    garbage decided), keeps serving the engine's own slot exactly, and serves the client
    again once its cursor is back in step.
    """
    info = engine.external_client(1)
    requests = [Ring.attach(name, dtype=ORDER_DTYPE) for name in info["request"]]
    results = [Ring.attach(name, dtype=RESULT_DTYPE) for name in info["result"]]
    try:
        rng = np.random.default_rng(23)
        start = [int(r.ctrl[RING_W_TAIL]) for r in requests]
        for ring in requests:
            ring.slots[:] = rng.integers(I64_MIN, I64_MAX, ring.slots.shape, endpoint=True)
            tail = int(ring.ctrl[RING_W_TAIL])
            store_word_release(ring.ctrl, RING_W_HEAD, np.int64(tail + 3 * ring.capacity + 5))
        consumers = [res.consumer(timeout=30) for res in results]
        for consumer in consumers:
            refusal = consumer.pop()
            assert (refusal["status"], refusal["policy"], refusal["reason"]) == (
                STATUS_ERROR, POLICY_ENGINE, RSN_BAD_CURSOR,
            )  # fmt: skip
        _after_garbage_still_exact(engine, 400_000)
        assert [int(r.ctrl[RING_W_TAIL]) for r in requests] == start, "no garbage decided"
        assert all(c.try_pop() is None for c in consumers), "answered once"
        # Back in step (what a client restarting its slot would do): served again.
        probe = np.zeros(1, dtype=ORDER_DTYPE)
        probe[["seq", "kind"]] = (777, 99)
        for ring, consumer in zip(requests, consumers):
            store_word_release(ring.ctrl, RING_W_HEAD, np.int64(ring.ctrl[RING_W_TAIL]))
            ring.producer().push(probe[0])
            answer = consumer.pop()
            assert (answer["seq"], answer["status"], answer["reason"]) == (
                777, STATUS_ERROR, RSN_BAD_KIND,
            )  # fmt: skip
        assert all(pid_alive(p) for p in engine.workers)
    finally:
        for ring in requests + results:
            ring.close()


def test_should_park_the_worker_while_a_client_does_not_read_its_results() -> None:
    before = own_segments()
    eng = c1_builder("account_sync").sharded(workers=1, ring_capacity=1024, batch=256).build()
    with eng:
        iid = eng.register_instrument(op.Instrument("S000", "USD"))
        slot = eng.external_client(1)
        ring = Ring.attach(slot["request"][0], dtype=ORDER_DTYPE)
        results = Ring.attach(slot["result"][0], dtype=RESULT_DTYPE)
        try:
            producer = ring.producer()
            recs = order_records(eng, account=np.arange(2000) % 50, instrument=iid, side=1,
                                 quantity=1, price=1, units="decimal",
                                 auto_commit=True)  # fmt: skip
            recs["seq"] = np.arange(1, 2001)
            assert producer.push_batch(recs[:1000], timeout=5.0) == 1000
            time.sleep(0.2)  # answered: slot 1's result ring now holds 1000 of 1024 records
            assert producer.push_batch(recs[1000:], timeout=5.0) == 1000  # these cannot be
            time.sleep(0.2)
            parks = eng.stats()[0]["parks"]
            time.sleep(0.5)  # an idle worker parks every 10 ms (the default park slice)
            assert eng.stats()[0]["parks"] > parks, "the worker parked"
            # Reading the results wakes the worker: every request gets its answer.
            consumer = results.consumer()
            out = np.empty(results.capacity, dtype=RESULT_DTYPE)
            seqs: list[int] = []
            deadline = time.monotonic() + 20
            while len(seqs) < 2000:
                n = consumer.pop_batch(out, timeout=0.05)
                seqs.extend(out["seq"][:n].tolist())
                assert time.monotonic() < deadline, f"{len(seqs)} of 2000 answered"
            assert seqs == recs["seq"].tolist()
        finally:
            ring.close()
            results.close()
    assert own_segments() <= before
