"""A C program pushes quotes (``opshm_quote_push``) that every worker's kernels then read.

The pusher is compiled with gcc against the generated header only; it
attaches the quote table by the name ``external_client()`` gives (named only
with ``sharded(external_quotes=True)``) and writes rows under the
same seqlock as ``kernels/quotes.py``.
"""

from __future__ import annotations

import datetime
import subprocess
import time
from pathlib import Path

import pytest

import openpit_shm as op
from openpit_shm.core import Instrument
from openpit_shm.layout.quotes import (
    QK_ACCOUNT,
    QK_DEFAULT,
    QUOTE_EMPTY,
    QUOTE_EXPIRED,
    QUOTE_HAS_ASK,
    QUOTE_HAS_BID,
    QUOTE_HAS_MARK,
    QUOTE_OK,
    QUOTE_PRESENT,
    QUOTE_UNKNOWN_INSTRUMENT,
)
from openpit_shm.marketdata import QuoteTtl
from openpit_shm.marketdata.attach import attach_market_data
from openpit_shm.marketdata.builder import market_data_builder
from tests.sharded.conftest import c1_builder

SOURCE = Path(__file__).resolve().parent / "c" / "quote_pusher.c"
ALL = 2  # QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT


@pytest.fixture(scope="module")
def pusher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("quotes") / "quote_pusher"
    cmd = ["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", op.get_include(),
           str(SOURCE), "-o", str(exe)]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return exe


def _push(exe: Path, name: str, *args: object) -> int:
    res = subprocess.run([str(exe), name, *map(str, args)], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return int(res.stdout)


def test_should_let_workers_read_quotes_a_c_program_pushed(pusher: Path) -> None:
    engine = (
        c1_builder("account_sync").sharded(workers=2, external_clients=1, external_quotes=True)
    ).build()
    try:
        # The default clock: CLOCK_MONOTONIC, the one opshm_monotonic_ns reads.
        svc = market_data_builder(
            QuoteTtl.within(datetime.timedelta(hours=1)), full_sync=True, clock=time.monotonic_ns
        ).build()
        iid = svc.register(Instrument("AAPL", "USD")).value
        attach_market_data(engine, svc)
        info = engine.external_client(1)
        name, scale = info["quotes"], info["scale"]
        assert name and info["quote_slots"] > 0
        one = 10**scale

        def read(k: int, account: int, instrument: int = iid) -> tuple[int, ...]:
            return engine._call(k, "quote_for", (instrument, account, -1, ALL, time.monotonic_ns()))

        assert read(0, 1)[0] == read(1, 1)[0] == QUOTE_EMPTY
        prices = (100 * one, 99 * one, 101 * one)
        assert _push(pusher, name, iid, QK_DEFAULT, 0, *prices, 0) == QUOTE_OK
        assert _push(pusher, name, iid, QK_ACCOUNT, 2, 105 * one, "-", "-", 0) == QUOTE_OK
        full = QUOTE_PRESENT | QUOTE_HAS_MARK | QUOTE_HAS_BID | QUOTE_HAS_ASK
        for k in range(2):
            assert read(k, 1) == (QUOTE_OK, full, 100 * one, 99 * one, 101 * one)
            assert read(k, 2) == (QUOTE_OK, QUOTE_PRESENT | QUOTE_HAS_MARK, 105 * one, 0, 0)
        # A source age beyond the service's TTL: expired at once, the stale prices returned.
        two_hours = 2 * 3600 * 10**9
        assert _push(pusher, name, iid, QK_ACCOUNT, 3, 7 * one, "-", "-", two_hours) == QUOTE_OK
        assert read(1, 3)[:3] == (QUOTE_EXPIRED, QUOTE_PRESENT | QUOTE_HAS_MARK, 7 * one)
        # An instrument the service never registered: refused, whatever C pushed.
        assert _push(pusher, name, 77, QK_DEFAULT, 0, one, "-", "-", 0) == QUOTE_OK
        assert read(0, 1, 77)[0] == QUOTE_UNKNOWN_INSTRUMENT
        svc.clear(svc.resolve(Instrument("AAPL", "USD")))  # clears C-pushed buckets too
        assert read(0, 2)[0] == read(1, 1)[0] == QUOTE_EMPTY
    finally:
        engine.close()


def test_should_keep_the_quote_table_unnamed_unless_external_quotes_are_asked_for() -> None:
    engine = c1_builder("account_sync").sharded(workers=2, external_clients=1).build()
    try:
        assert engine._topology.names.quotes == ""
        assert engine._topology.quotes.unnamed
        assert engine.external_client(1)["quotes"] == ""
    finally:
        engine.close()
