"""A service mirrored into a quote table: the table always holds the quote the service holds."""

from __future__ import annotations

import datetime
import random

import pytest

from openpit_shm.core import Instrument, InstrumentId
from openpit_shm.layout.quotes import QUOTE_EMPTY, QUOTE_EXPIRED, QUOTE_OK
from openpit_shm.marketdata import Quote, QuoteResolution, QuoteTtl
from openpit_shm.marketdata.builder import market_data_builder
from openpit_shm.marketdata.service import BUCKET_ACCOUNT, BUCKET_DEFAULT, BUCKET_GROUP
from openpit_shm.marketdata.table import (
    QuoteTable,
    QuoteTableFull,
    QuoteTableMirror,
    attach_mirror,
)
from openpit_shm.param import AccountGroupId, AccountId
from openpit_shm.param.fixed_point import FixedPointError

from .harness import SECOND, FakeClock

td = datetime.timedelta


def _mirrored(capacity: int = 16, scale: int = 4, ttl: QuoteTtl | None = None):
    clock = FakeClock()
    svc = market_data_builder(ttl or QuoteTtl.infinite(), full_sync=False, clock=clock).build()
    mirror = QuoteTableMirror(QuoteTable(capacity, scale))
    attach_mirror(svc, mirror)
    return svc, mirror, clock


def test_should_write_every_bucket_through_to_its_row() -> None:
    svc, mirror, clock = _mirrored()
    iid = svc.register(Instrument("A", "USD"))
    acct, grp = AccountId.from_int(9), AccountGroupId.from_int(4)
    svc.push(iid, Quote(mark="1.25", bid=1), td(seconds=2))
    svc.push_for(iid, Quote(ask="-0.5"), td(0), [acct], [grp, AccountGroupId.DEFAULT])
    table = mirror.table
    default = table.read(mirror.row_of(0, BUCKET_DEFAULT, 0))
    assert default.code == QUOTE_OK and default.quote == Quote(ask="-0.5")
    assert default.pushed_ns == clock.now and default.age_ns == 0
    assert table.read(mirror.row_of(0, BUCKET_ACCOUNT, 9)).quote == Quote(ask="-0.5")
    assert table.read(mirror.row_of(0, BUCKET_GROUP, 4)).quote == Quote(ask="-0.5")
    rows = [mirror.row_of(0, k, key) for k, key in ((0, 0), (1, 9), (2, 4))]
    svc.clear(iid)
    assert all(table.read(r).code == QUOTE_EMPTY for r in rows)
    assert mirror.row_of(1, BUCKET_DEFAULT, 0) is None  # never written


def test_should_keep_service_and_table_expiry_in_step() -> None:
    svc, mirror, clock = _mirrored(ttl=QuoteTtl.within(td(seconds=5)))
    iid = svc.push_by_instrument(Instrument("A", "USD"), Quote(mark=3), td(seconds=3))
    row = mirror.row_of(iid.value, BUCKET_DEFAULT, 0)
    clock.advance(2 * SECOND - 1)
    info = type("Info", (), {"account_group": None})()
    res = QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT

    def get() -> Quote | None:
        return svc.get_optional(iid, AccountId.from_int(1), info, res)

    assert get() == Quote(mark=3)
    assert mirror.table.read_fresh(row, 5 * SECOND, clock.now).code == QUOTE_OK
    clock.advance(1)
    assert get() is None
    stale = mirror.table.read_fresh(row, 5 * SECOND, clock.now)
    assert stale.code == QUOTE_EXPIRED and stale.quote == Quote(mark=3)


def test_should_refuse_a_price_the_table_cannot_hold_before_changing_anything() -> None:
    svc, mirror, _ = _mirrored(scale=2)
    iid = svc.register(Instrument("A", "USD"))
    svc.push(iid, Quote(mark="1.5"), td(0))
    with pytest.raises(FixedPointError):
        svc.push(iid, Quote(mark="1.555"), td(0))
    with pytest.raises(FixedPointError):
        svc.push(iid, Quote(bid=10**20), td(0))
    info = type("Info", (), {"account_group": None})()
    res = QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    assert svc.get(iid, AccountId.from_int(1), info, res) == Quote(mark="1.5")
    assert mirror.table.read(mirror.row_of(0, BUCKET_DEFAULT, 0)).quote == Quote(mark="1.5")


def test_should_refuse_a_push_when_the_table_is_full_before_changing_anything() -> None:
    svc, mirror, _ = _mirrored(capacity=8)
    assert mirror.table.keys_max == 6
    svc.push_by_instrument(Instrument("A", "USD"), Quote(mark=1), td(0))  # 2 keys
    accounts = [AccountId.from_int(n) for n in range(1, 6)]
    with pytest.raises(QuoteTableFull):
        svc.push_for(InstrumentId(0), Quote(mark=2), td(0), accounts, [])
    svc.push_by_instrument(Instrument("C", "USD"), Quote(mark=1), td(0))  # 4 keys
    svc.push_by_instrument(Instrument("D", "USD"), Quote(mark=1), td(0))  # 6 keys: the last
    with pytest.raises(QuoteTableFull):
        svc.push_by_instrument(Instrument("B", "USD"), Quote(mark=1), td(0))
    assert svc.resolve(Instrument("B", "USD")) is None  # not even registered
    info = type("Info", (), {"account_group": None})()
    got = svc.get_optional(InstrumentId(0), accounts[0], info, QuoteResolution.ACCOUNT_ONLY)
    assert got is None


@pytest.mark.parametrize("seed", range(10))
def test_should_mirror_random_pushes_exactly(seed: int) -> None:
    rng = random.Random(seed)
    svc, mirror, clock = _mirrored(capacity=64, scale=8)
    ids = [svc.register(Instrument(u, "USD")) for u in "ABC"]
    accounts = [AccountId.from_int(n) for n in (1, 2)]
    groups = [AccountGroupId.DEFAULT, AccountGroupId.from_int(3)]
    for _ in range(200):
        clock.advance(rng.randint(0, SECOND))
        fields = {k: rng.choice(["1.5", "-2", "0.00000001", 7]) for k in ("mark", "bid", "ask")}
        q = Quote(**{k: v for k, v in fields.items() if rng.random() < 0.5})
        age = td(milliseconds=rng.randint(-5, 50))
        iid = rng.choice(ids)
        roll = rng.random()
        if roll < 0.4:
            svc.push(iid, q, age)
        elif roll < 0.9:
            svc.push_for(iid, q, age, rng.sample(accounts, 1), rng.sample(groups, 1))
        else:
            svc.clear(iid)
    index = mirror.table.index()
    for entry in index[(index[:, 0] == 2) & (index[:, 1] <= BUCKET_GROUP)]:
        kind, instrument, key = (int(w) for w in entry[1:])
        row = mirror.row_of(instrument, kind, key)
        slot = svc._slots[instrument]
        if kind == BUCKET_ACCOUNT:
            state = slot.account_quotes.get(key)
        else:
            state = slot.group_quotes.get(0 if kind == BUCKET_DEFAULT else key)
        got = mirror.table.read(row)
        if state is None:
            assert got.code == QUOTE_EMPTY
        else:
            assert got.code == QUOTE_OK
            assert (got.quote, got.pushed_ns, got.age_ns) == state
            assert got.instrument == instrument
