"""The kernels' ``quote_for`` decides as ``MarketDataService.get`` does, for random histories.

Seeded streams mix registrations (auto, explicit ids, with TTLs), pushes to
every bucket kind, clears, every TTL setter and clearer, clock moves and
``source_age`` values; after each step every (instrument, account, group,
resolution) is read both ways and must give the same quote or the same error
kind (``UnknownInstrument`` / ``QuoteUnavailable`` / ``QuoteExpired`` with the
same stale quote). The table is attached before the stream, or midway (the
mirror then copies what the service holds).
"""

from __future__ import annotations

import datetime
import random

import numpy as np
import pytest
from numba import njit

from openpit_shm.builtins.book import Book
from openpit_shm.core import Instrument, InstrumentId
from openpit_shm.kernels.market_data import quote_for
from openpit_shm.layout.quotes import (
    QUOTE_EMPTY,
    QUOTE_EXPIRED,
    QUOTE_OK,
    QUOTE_UNKNOWN_INSTRUMENT,
)
from openpit_shm.marketdata import (
    QuoteExpired,
    QuoteResolution,
    QuoteTtl,
    QuoteUnavailable,
    UnknownInstrument,
)
from openpit_shm.marketdata.builder import market_data_builder
from openpit_shm.marketdata.table import QuoteTable, QuoteTableMirror, attach_mirror
from openpit_shm.marketdata.values import Quote
from openpit_shm.param import AccountGroupId, AccountId

from .harness import SECOND, FakeClock

td = datetime.timedelta
RESOLUTIONS = (
    QuoteResolution.ACCOUNT_ONLY,
    QuoteResolution.ACCOUNT_THEN_GROUP,
    QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT,
)
ACCOUNTS = (1, 2, 3)
GROUPS = (None, 0, 4, 5)  # None: the account is in no group; 0: AccountGroupId.DEFAULT


class _Info:
    def __init__(self, group: int | None) -> None:
        self.account_group = None if group is None else _gid(group)


def _gid(n: int) -> AccountGroupId:
    return AccountGroupId.DEFAULT if n == 0 else AccountGroupId.from_int(n)


def _ttl(rng: random.Random) -> QuoteTtl:
    if rng.random() < 0.15:
        return QuoteTtl.infinite()
    return QuoteTtl.within(td(milliseconds=rng.choice([0, 50, 200, 500, 1000, 3000])))


def _quote(rng: random.Random) -> Quote:
    fields = {k: rng.choice(["1.5", "-2", "0.0001", 7, "100.25"]) for k in ("mark", "bid", "ask")}
    return Quote(**{k: v for k, v in fields.items() if rng.random() < 0.6})


def expected(svc, iid: int, acct: int, group: int | None, res: QuoteResolution):  # type: ignore[no-untyped-def]
    """``(QUOTE_* code, quote)`` the way the service answers."""
    try:
        return QUOTE_OK, svc.get(InstrumentId(iid), AccountId.from_int(acct), _Info(group), res)
    except UnknownInstrument:
        return QUOTE_UNKNOWN_INSTRUMENT, None
    except QuoteUnavailable:
        return QUOTE_EMPTY, None
    except QuoteExpired as e:
        return QUOTE_EXPIRED, e.quote


def _step(rng: random.Random, svc, clock: FakeClock, ids: list[InstrumentId], n: int) -> None:  # type: ignore[no-untyped-def]
    roll = rng.random()
    acct = AccountId.from_int(rng.choice(ACCOUNTS))
    group = _gid(rng.choice([0, 4, 5]))
    iid = rng.choice(ids) if ids else None
    age = td(milliseconds=rng.choice([-5, 0, 0, 100, 600]))
    if roll < 0.08 or iid is None:
        inst = Instrument(f"U{n}", "USD")
        r = rng.random()
        if r < 0.4:
            ids.append(svc.register(inst))
        elif r < 0.7:
            ids.append(svc.register_with_ttl(inst, _ttl(rng)))
        else:
            ids.append(svc.register_with_id_and_ttl(inst, InstrumentId(100 + n), _ttl(rng)))
    elif roll < 0.3:
        svc.push(iid, _quote(rng), age)
    elif roll < 0.5:
        accounts = rng.sample([AccountId.from_int(a) for a in ACCOUNTS], rng.randint(0, 2))
        groups = rng.sample([_gid(g) for g in (0, 4, 5)], rng.randint(0 if accounts else 1, 2))
        svc.push_for(iid, _quote(rng), age, accounts, groups)
    elif roll < 0.55:
        svc.clear(iid)
    elif roll < 0.85:
        which = rng.randrange(5)
        clear = rng.random() < 0.3
        if which == 0:
            svc.clear_account_ttl(acct) if clear else svc.set_account_ttl(acct, _ttl(rng))
        elif which == 1:
            if clear:
                svc.clear_account_group_ttl(group)
            else:
                svc.set_account_group_ttl(group, _ttl(rng))
        elif which == 2:
            svc.clear_instrument_ttl(iid) if clear else svc.set_instrument_ttl(iid, _ttl(rng))
        elif which == 3:
            if clear:
                svc.clear_instrument_account_ttl(iid, acct)
            else:
                svc.set_instrument_account_ttl(iid, acct, _ttl(rng))
        elif clear:
            svc.clear_instrument_account_group_ttl(iid, group)
        else:
            svc.set_instrument_account_group_ttl(iid, group, _ttl(rng))
    else:
        clock.advance(rng.choice([1, 50, 199, 200, 201, 999]) * SECOND // 1000)


def _service(rng: random.Random, clock: FakeClock):  # type: ignore[no-untyped-def]
    return market_data_builder(_ttl(rng), full_sync=False, clock=clock).build()


def _check_all(svc, table: QuoteTable, ids: list[InstrumentId], now: int) -> int:  # type: ignore[no-untyped-def]
    checked = 0
    for iid in [*ids, InstrumentId(9999)]:
        for acct in ACCOUNTS:
            for group in GROUPS:
                for res in RESOLUTIONS:
                    want = expected(svc, iid.value, acct, group, res)
                    got = table.quote_for(iid.value, acct, group, res._value, now)
                    assert got == want, (iid, acct, group, res)
                    checked += 1
    return checked


@pytest.mark.parametrize("seed", range(12))
def test_should_read_what_the_service_answers_for_random_histories(seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    svc = _service(rng, clock)
    table = QuoteTable(256, 4)
    attach_at = 0 if seed % 2 == 0 else 60  # odd seeds: the mirror copies a live service
    ids: list[InstrumentId] = []
    checked = 0
    for n in range(150):
        if n == attach_at:
            attach_mirror(svc, QuoteTableMirror(table))
        _step(rng, svc, clock, ids, n)
        if n >= attach_at and n % 5 == 0:
            checked += _check_all(svc, table, ids, clock.now)
    assert checked > 1000


@njit(cache=True)
def _read_view(view, instrument, account, group, resolution, now):  # type: ignore[no-untyped-def]
    """What a builtin kernel does: read the quote through the request view."""
    return quote_for(view, instrument, account, group, resolution, now)


def test_should_reach_the_table_through_a_books_request_view() -> None:
    rng = random.Random(7)
    clock = FakeClock()
    svc = market_data_builder(QuoteTtl.within(td(seconds=1)), full_sync=False, clock=clock).build()
    table = QuoteTable(256, 4)
    attach_mirror(svc, QuoteTableMirror(table))
    book = Book.create([], n_policies=0)
    view = book._request
    assert _read_view(view, 0, 1, -1, 2, clock.now)[0] == QUOTE_EMPTY  # no table yet
    book.set_quote_table(table.words)
    ids: list[InstrumentId] = []
    for n in range(120):
        _step(rng, svc, clock, ids, n)
        for iid in ids:
            for acct in ACCOUNTS:
                for group in GROUPS:
                    res = rng.choice(RESOLUTIONS)
                    code, flags, mark, bid, ask = _read_view(
                        view, iid.value, acct, -1 if group is None else group, res._value,
                        clock.now,
                    )  # fmt: skip
                    assert (code, flags, mark, bid, ask) == quote_for(
                        view, iid.value, acct, -1 if group is None else group, res._value,
                        clock.now,
                    )  # fmt: skip
                    want = expected(svc, iid.value, acct, group, res)
                    assert table.quote_for(iid.value, acct, group, res._value, clock.now) == want
                    assert code == want[0]
    book.set_quote_table(None)
    assert _read_view(view, 0, 1, -1, 2, clock.now)[0] == QUOTE_EMPTY


def test_should_survive_a_book_arena_refresh_with_the_table_kept() -> None:
    book = Book.create([], n_policies=0)
    words = QuoteTable(16, 4).words
    book.set_quote_table(words)
    book._refresh()
    assert book._request[42] == words.ctypes.data and book._request[43] == 16
    assert np.shares_memory(book._quotes, words)
