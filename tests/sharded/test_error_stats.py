"""``stats()["errors"]`` counts the requests each shard answered ``STATUS_ERROR`` (issue 9, #22)."""

from __future__ import annotations

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.layout.records import STATUS_ERROR, STATUS_OK
from openpit_shm.layout.shard import shard_of
from tests.sharded.conftest import PassThrough
from tests.sharded.faults import UNIT, counting_builder, orders


@pytest.mark.parametrize("custom", [False, True], ids=["kernels", "custom-policy"])
def test_should_count_error_answers_per_shard(custom: bool) -> None:
    builder = counting_builder()
    if custom:
        builder = builder.pre_trade(PassThrough())
    engine = builder.sharded(workers=2).build()
    with engine:
        iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
        accounts = np.arange(1, 1001)
        good = orders(engine, accounts, iid, UNIT)
        bad = good.copy()
        bad["kind"] = 99  # an unknown message kind: STATUS_ERROR
        mixed = np.concatenate([bad, good])
        results = engine.execute_batch(mixed)
        assert np.all(results["status"][:1000] == STATUS_ERROR)
        assert np.all(results["status"][1000:] == STATUS_OK)
        errors = [s["errors"] for s in engine.stats()]
        shards = np.array([shard_of(int(a), 2) for a in accounts])
        assert errors == [int((shards == k).sum()) for k in range(2)]
        assert sum(errors) == 1000
