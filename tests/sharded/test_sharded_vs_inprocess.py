"""The sharded engine decides exactly as the in-process engine, per order and per batch."""

from __future__ import annotations

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records, report_records
from tests.differential.scripted import make_ops, replay
from tests.records import stamped
from tests.sharded.conftest import c1_builder, shm_entries


@pytest.mark.parametrize("seed", [1, 2])
def test_should_decide_per_order_like_the_in_process_engine(seed: int) -> None:
    ops = make_ops(seed, 1200, accounts=60)
    expected = replay(op, ops, lambda mod: c1_builder("no_sync", broker_limit=700).build())
    engine = c1_builder("account_sync", broker_limit=700).sharded(workers=2).build()
    with engine:
        actual = replay(op, ops, lambda mod: engine)
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"op {i} {ops[i]!r}"
    assert sum(1 for o in expected if o[0] == "reject") > 20, "the stream must reject"


def test_should_decide_batches_like_the_in_process_engine() -> None:
    # Shards decide a batch concurrently, so which orders a broker-wide limit cuts
    # depends on interleaving: here it is not reached (the per-order test and the
    # next one cover broker limits).
    before = shm_entries()
    rng = np.random.default_rng(5)
    n = 20000
    local = c1_builder("no_sync").build()
    sharded = c1_builder("account_sync").sharded(workers=2).build()
    with sharded:
        for engine in (local, sharded):
            ids = [engine.register_instrument(op.Instrument(f"S{i:03d}", "USD")) for i in range(20)]
            assert ids == list(range(20))
        accounts = rng.integers(0, 60, n)
        # Built for the local engine; the sharded one numbers instruments alike, and gets a
        # copy carrying its own record tag.
        orders = order_records(
            local,
            account=accounts,
            instrument=rng.integers(0, 20, n),
            side=rng.integers(1, 3, n),
            quantity=rng.integers(1, 1000, n).astype(np.int64) * 10**8,
            price=rng.integers(1000, 50000, n).astype(np.int64) * 10**6,
            units="fixed",
            auto_commit=True,
        )
        reports = report_records(
            local, account=accounts[:500], instrument=0, side=1,
            pnl=rng.integers(-500, 100, 500), fee=0, units="decimal",
        )  # fmt: skip
        for batch in (orders[:8000], reports, orders[8000:]):
            want = local.execute_batch(batch)
            got = sharded.execute_batch(stamped(batch, sharded))
            for field in ("seq", "status", "code", "policy", "reason", "count", "flags"):
                assert np.array_equal(got[field], want[field]), field
        assert (want["code"] != 0).sum() > 100, "the batch must reject"
    assert shm_entries() <= before


def test_should_hold_a_broker_limit_exactly_across_shards_in_a_batch() -> None:
    engine = c1_builder("account_sync", broker_limit=15000).sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        rng = np.random.default_rng(9)
        n = 20000
        orders = order_records(
            engine, account=rng.integers(100, 10_000, n), instrument=iid, side=1,
            quantity=5, price=10, units="decimal", auto_commit=True,
        )  # fmt: skip
        results = engine.execute_batch(orders)
        shards = {s["records"] for s in engine.stats()}
    accepted = int((results["status"] == 0).sum())
    assert accepted == 15000
    assert set(np.unique(results["code"][results["status"] != 0])) == {
        op.layout.records.CODE_NUMBER["RateLimitExceeded"]
    }
    assert all(r > 1000 for r in shards), "both shards worked"
