"""The restricted-instrument list on a 2-worker sharded engine and from C: the in-process decisions.

The seeded stream of ``tests/builtins/restricted_stream.py`` (list changes
mid-stream through ``configure()``, which travels to every shard) goes through
the sharded engine one order at a time and in NumPy batches, and through the C
feeder (``bench/c/feeder.c``) on an external client slot; every decision and
reject (code, policy, reason, and the texts where the door has them) equals
the in-process engine's. A worker killed with SIGKILL comes back with the list
(it lives in the shard's arena).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

import openpit_shm as op
from openpit_shm.layout.records import CODE_NUMBER
from tests.builtins import restricted_stream as RS
from tests.sharded.test_c_feeder import (
    FIELDS,
    all_records,
    compile_feeder,
    feed_decisions,
    own_segments,
    write_attach,
)
from tests.sharded.test_failures import _accounts_of

RESTRICTED = CODE_NUMBER["InstrumentRestricted"]
#: An account on each shard of a 2-worker engine.
ACCOUNTS = tuple(int(_accounts_of(k, 2)[0]) for k in (0, 1))


def _register_all(*engines: Any) -> None:
    for engine in engines:
        for inst in RS.INSTRUMENTS:
            engine.register_instrument(op.Instrument(*inst))


def test_should_decide_like_the_in_process_engine_per_order_and_in_batches() -> None:
    reqs, changes = RS.stream(21, 1200, every=150)
    before = own_segments()
    local_one, local_batch = RS.builder().build(), RS.builder().build()
    with RS.builder("account_sync").sharded(workers=2).build() as sharded:
        _register_all(local_one, local_batch, sharded)
        hits = 0
        for at, chunk, change in RS.chunks(reqs, changes):
            if change is not None:
                for e in (local_one, local_batch, sharded):
                    change.apply(e)
            half = len(chunk) // 2
            one_by_one, batch = chunk[:half], chunk[half:]
            want = [RS.object_door(local_one, r) for r in one_by_one]
            assert [RS.object_door(sharded, r) for r in one_by_one] == want, f"chunk at {at}"
            want_b = local_batch.execute_batch(RS.records(local_batch, batch, at))
            got_b = sharded.execute_batch(RS.records(sharded, batch, at))
            for field in FIELDS:
                assert got_b[field].tolist() == want_b[field].tolist(), (field, at)
            texts = [sharded._replica.describe(r)[:5] for r in got_b if r["count"]]
            assert texts == [local_batch._book.describe(r)[:5] for r in want_b if r["count"]]
            hits += int((want_b["code"] == RESTRICTED).sum())
            hits += sum(any(t[1] == "InstrumentRestricted" for t in w) for w in want)
        assert hits > 100
    assert own_segments() <= before


@pytest.fixture(scope="module")
def feeder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_feeder(str(tmp_path_factory.mktemp("feeder")))


def test_should_reject_restricted_instruments_sent_from_c(feeder: Path, tmp_path: Path) -> None:
    reqs, changes = RS.stream(5, 1600, every=400)
    before = own_segments()
    local, local_all = RS.builder().build(), RS.builder().build()
    engine = RS.builder("account_sync").sharded(workers=2, external_clients=1).build()
    with engine:
        _register_all(local, local_all, engine)
        attach = write_attach(engine, tmp_path / "attach")  # lists every instrument
        seen = 0
        for at, chunk, change in RS.chunks(reqs, changes):
            if change is not None:
                for e in (local, local_all, engine):
                    change.apply(e)
            want = local.execute_batch(RS.records(local, chunk, at))
            want_all = all_records(local_all, RS.records(local_all, chunk, at))
            got = feed_decisions(feeder, attach, RS.records(engine, chunk, at), tmp_path)
            assert got["answered"] == len(chunk) and got["strays"] == 0
            for field in FIELDS:
                assert got[field].tolist() == want[field].tolist(), (field, at)
            assert got["rejects"] == want_all, f"every reject record, chunk at {at}"
            seen += sum(any(code == RESTRICTED for code, _, _ in r) for r in got["rejects"])
        assert seen > 100, "the C stream met restricted instruments"
    assert own_segments() <= before


def _decide(engine: Any, account: int, inst: tuple[str, str], timeout: float = 120.0) -> tuple:
    """The rejects of an order once the account's shard serves again."""
    deadline = time.monotonic() + timeout
    while True:
        texts = RS.object_door(engine, (account, inst, "BUY", 1, 1))
        if not texts or texts[0][1] != "SystemUnavailable":
            return texts
        assert time.monotonic() < deadline, "the shard did not come back"
        time.sleep(0.01)


@pytest.mark.slow  # a worker restart per shard
def test_should_keep_the_list_when_a_worker_is_killed() -> None:
    with RS.builder("account_sync").sharded(workers=2).build() as engine:
        engine.configure().restricted_instruments(
            RS.NAME, restrict=[op.Instrument("MSFT", "USD")], allow=[op.Instrument("BTC", "USDT")]
        )
        for victim in (0, 1):
            pid = engine.workers[victim]
            os.kill(pid, signal.SIGKILL)
            for account in ACCOUNTS:
                for inst in (("AAPL", "USD"), ("MSFT", "USD")):  # built and runtime-restricted
                    texts = _decide(engine, account, inst)
                    assert [t[1] for t in texts] == ["InstrumentRestricted"], (victim, inst)
                    assert texts[0][3] == f"instrument {'/'.join(inst)} is restricted"
                assert _decide(engine, account, ("BTC", "USDT")) == (), "allowed at runtime"
                assert _decide(engine, account, ("SAP", "EUR")) == ()
            assert engine.workers[victim] != pid, "the worker was restarted"
        # A change after the restarts starts from the list the workers read back.
        engine.configure().restricted_instruments(RS.NAME, allow=[op.Instrument("AAPL", "USD")])
        for account in ACCOUNTS:
            assert _decide(engine, account, ("AAPL", "USD")) == ()
            assert [t[1] for t in _decide(engine, account, ("MSFT", "USD"))] == [
                "InstrumentRestricted"
            ]
