"""A sharded engine refuses records built for another engine, on every shard and both paths.

Issue 9, defect 19: the README's sharded block sent records built for the
in-process engine; the orders for instrument 0 were checked as whatever
instrument 0 was in the sharded engine. All shards share the engine's record
tag (the builder draws it once), so the workers refuse another engine's
records whichever shard they reach, on the kernels' path and in custom-policy
workers (the record door).
"""

from __future__ import annotations

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records, report_records
from openpit_shm.kernels.codes import RSN_WRONG_ENGINE
from openpit_shm.layout.records import MSG_DRY_ORDER, MSG_START, STATUS_ERROR, STATUS_OK
from openpit_shm.layout.shard import shard_of
from tests.records import stamped
from tests.sharded.conftest import PassThrough, c1_builder, shm_entries


@pytest.mark.parametrize("custom", [False, True], ids=["kernels", "object-path"])
def test_should_refuse_another_engines_records_on_every_shard(custom: bool) -> None:
    before = shm_entries()
    builder = c1_builder("account_sync")
    if custom:
        builder = builder.pre_trade(PassThrough())
    sharded = builder.sharded(workers=2).build()
    other = c1_builder("no_sync").build()
    with sharded:
        for engine in (other, sharded):  # both number S000 as 0
            assert engine.register_instrument(op.Instrument("S000", "USD")) == 0
        accounts = np.arange(1, 41)
        assert {shard_of(int(a), 2) for a in accounts} == {0, 1}
        theirs = np.concatenate([
            order_records(other, account=accounts, instrument=0, side=1, quantity=1, price=10,
                          units="decimal", auto_commit=True),
            order_records(other, account=accounts[:4], instrument=0, side=1, quantity=1,
                          price=10, units="decimal", kind=MSG_DRY_ORDER),
            order_records(other, account=accounts[:4], instrument=0, side=1, quantity=1,
                          price=10, units="decimal", kind=MSG_START),
            report_records(other, account=accounts[:4], instrument=0, side=1, pnl=-5000, fee=0,
                           units="decimal"),
        ])  # fmt: skip
        got = sharded.execute_batch(theirs)
        assert (got["status"] == STATUS_ERROR).all() and (got["reason"] == RSN_WRONG_ENGINE).all()
        assert (got["d0"] == other.record_format.tag).all()
        assert (got["d1"] == sharded.record_format.tag).all(), "every shard has the engine's tag"
        # The same records tagged for this engine are decided (no P&L block was fed before).
        mine = sharded.execute_batch(stamped(theirs[:40], sharded))
        assert (mine["status"] == STATUS_OK).all()
        # And the per-order door stamps its records itself.
        order = op.Order(operation=op.OrderOperation(
            instrument=op.Instrument("S000", "USD"), account_id=op.param.AccountId.from_int(77),
            side=op.param.Side.BUY, trade_amount=op.param.TradeAmount.quantity("1"),
            price=op.param.Price("10")))  # fmt: skip
        assert sharded.execute_pre_trade(order).ok
        assert sharded.external_client(1)["tag"] == sharded.record_format.tag
    assert shm_entries() <= before
