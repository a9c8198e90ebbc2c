"""openpit_shm only: expiry follows the injected clock; sync modes and the builder entry point."""

from __future__ import annotations

import datetime
import threading

import pytest

from openpit_shm.core import Instrument
from openpit_shm.marketdata import Quote, QuoteExpired, QuoteResolution, QuoteTtl
from openpit_shm.marketdata.builder import (
    NO_SYNC_SERVICE_IN_THREADED_ENGINE,
    is_full_sync,
    market_data_builder,
)
from openpit_shm.param import AccountId

from .harness import SECOND, FakeClock

td = datetime.timedelta
ANY = QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT


class _NoGroup:
    account_group = None


def _service(ttl: QuoteTtl, clock: FakeClock, full_sync: bool = False):
    svc = market_data_builder(ttl, full_sync=full_sync, clock=clock).build()
    return svc, svc.register(Instrument("A", "USD"))


def test_should_expire_exactly_when_the_clock_reaches_the_ttl() -> None:
    clock = FakeClock()
    svc, iid = _service(QuoteTtl.within(td(milliseconds=200)), clock)
    svc.push(iid, Quote(mark=1), td(0))
    clock.advance(200 * 1_000_000 - 1)
    assert svc.get(iid, AccountId.from_int(1), _NoGroup(), ANY) == Quote(mark=1)
    clock.advance(1)
    with pytest.raises(QuoteExpired) as info:
        svc.get(iid, AccountId.from_int(1), _NoGroup(), ANY)
    assert info.value.quote == Quote(mark=1)
    assert svc.get_optional(iid, AccountId.from_int(1), _NoGroup(), ANY) is None


def test_should_add_source_age_to_the_time_since_the_push() -> None:
    clock = FakeClock()
    svc, iid = _service(QuoteTtl.within(td(seconds=5)), clock)
    svc.push(iid, Quote(bid=2), td(seconds=3))
    clock.advance(2 * SECOND - 1)
    assert svc.get_optional(iid, AccountId.from_int(1), _NoGroup(), ANY) == Quote(bid=2)
    clock.advance(1)
    assert svc.get_optional(iid, AccountId.from_int(1), _NoGroup(), ANY) is None


def test_should_refresh_the_age_on_every_push() -> None:
    clock = FakeClock()
    svc, iid = _service(QuoteTtl.within(td(seconds=1)), clock)
    svc.push(iid, Quote(mark=1), td(0))
    clock.advance(5 * SECOND)
    svc.push(iid, Quote(mark=2), td(0))
    assert svc.get(iid, AccountId.from_int(1), _NoGroup(), ANY) == Quote(mark=2)


def test_should_never_count_a_clock_step_back_as_negative_age() -> None:
    clock = FakeClock()
    svc, iid = _service(QuoteTtl.within(td(seconds=1)), clock)
    svc.push(iid, Quote(mark=1), td(milliseconds=999))
    clock.advance(-10 * SECOND)
    assert svc.get(iid, AccountId.from_int(1), _NoGroup(), ANY) == Quote(mark=1)


def test_should_read_the_clock_of_the_builder_that_built_it() -> None:
    first, second = FakeClock(), FakeClock()
    b = market_data_builder(QuoteTtl.within(td(seconds=1)), full_sync=False, clock=first)
    svc = b.build()
    iid = svc.register(Instrument("A", "USD"))
    svc.push(iid, Quote(mark=1), td(0))
    second.advance(10 * SECOND)
    assert svc.get_optional(iid, AccountId.from_int(1), _NoGroup(), ANY) == Quote(mark=1)
    first.advance(10 * SECOND)
    assert svc.get_optional(iid, AccountId.from_int(1), _NoGroup(), ANY) is None


def test_should_follow_the_requested_sync_mode() -> None:
    b = market_data_builder(QuoteTtl.infinite(), full_sync=False)
    assert not is_full_sync(b.build())
    assert is_full_sync(b.full_sync().build())
    assert not is_full_sync(b.no_sync().build())
    assert is_full_sync(market_data_builder(QuoteTtl.infinite(), full_sync=True).build())
    assert "full_sync()" in NO_SYNC_SERVICE_IN_THREADED_ENGINE


def test_should_keep_full_sync_services_consistent_under_threads() -> None:
    clock = FakeClock()
    svc, _ = _service(QuoteTtl.infinite(), clock, full_sync=True)
    errors: list[BaseException] = []

    def feed(k: int) -> None:
        try:
            for n in range(300):
                iid = svc.push_by_instrument(
                    Instrument(f"T{k}_{n % 7}", "USD"), Quote(mark=n), td(0)
                )
                got = svc.get(iid, AccountId.from_int(k), _NoGroup(), ANY)
                assert got.mark is not None
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=feed, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = {svc.resolve(Instrument(f"T{k}_{m}", "USD")).value for k in range(4) for m in range(7)}
    assert ids == set(range(1, 29))
