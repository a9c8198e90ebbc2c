"""A sharded engine's quote table: written by the host's service, read by each worker's kernels.

Each worker answers a ``quote_for`` control call with what its kernels read
through its request view (the table mapped from the quote segment); that
must equal ``MarketDataService.get`` for every (instrument, account, group,
resolution) after seeded random histories (``tests.marketdata.test_quote_for``).
"""

from __future__ import annotations

import random

from openpit_shm.core import InstrumentId
from openpit_shm.marketdata import QuoteTtl
from openpit_shm.marketdata.attach import attach_market_data
from openpit_shm.marketdata.builder import market_data_builder
from tests.marketdata.harness import FakeClock
from tests.marketdata.test_quote_for import (
    ACCOUNTS,
    GROUPS,
    RESOLUTIONS,
    _step,
    expected,
)
from tests.sharded.conftest import c1_builder


def test_should_let_every_worker_read_what_the_service_answers() -> None:
    rng = random.Random(11)
    clock = FakeClock()
    engine = c1_builder("account_sync").sharded(workers=2).build()
    try:
        # A service on the test's clock (``with_clock`` gives an engine's builder the same).
        svc = market_data_builder(QuoteTtl.infinite(), full_sync=True, clock=clock).build()
        ids: list[InstrumentId] = []
        for n in range(40):
            if n == 10:
                attach_market_data(engine, svc)  # copies the first ten steps, then writes through
            _step(rng, svc, clock, ids, n)
        checked = 0
        for iid in [*ids, InstrumentId(9999)]:
            for acct in ACCOUNTS:
                for group in GROUPS:
                    for res in RESOLUTIONS:
                        want = expected(svc, iid.value, acct, group, res)[0]
                        g = -1 if group is None else group
                        for k in range(2):
                            got = engine._call(
                                k, "quote_for", (iid.value, acct, g, res._value, clock.now)
                            )
                            assert got[0] == want, (k, iid, acct, group, res)
                            checked += 1
        assert checked > 200
    finally:
        engine.close()
