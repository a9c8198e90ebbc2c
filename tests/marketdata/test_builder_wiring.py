"""``market_data(default_ttl)`` on the engine builder: sync mode and clock come from the engine."""

from __future__ import annotations

import datetime

import openpit
import pytest

import openpit_shm
from openpit_shm.marketdata.builder import is_full_sync

from .harness import FakeClock


def _stage(pkg, sync: str):  # type: ignore[no-untyped-def]
    return getattr(pkg.Engine.builder(), sync)()


@pytest.mark.parametrize("sync", ["no_sync", "full_sync", "account_sync"])
def test_should_inherit_the_engines_sync_mode(sync: str) -> None:
    ttl = openpit_shm.marketdata.QuoteTtl.infinite()
    service = _stage(openpit_shm, sync).market_data(ttl).build()
    assert is_full_sync(service) == (sync != "no_sync")


@pytest.mark.parametrize("sync", ["no_sync", "full_sync"])
def test_should_let_the_market_data_builder_override_the_sync_mode(sync: str) -> None:
    ttl = openpit_shm.marketdata.QuoteTtl.infinite()
    other = "full_sync" if sync == "no_sync" else "no_sync"
    builder = _stage(openpit_shm, sync).market_data(ttl)
    assert is_full_sync(getattr(builder, other)().build()) == (other == "full_sync")


@pytest.mark.parametrize("pkg", [openpit, openpit_shm], ids=["openpit", "openpit_shm"])
def test_should_offer_market_data_on_the_second_and_third_stages(pkg) -> None:  # type: ignore[no-untyped-def]
    ttl = pkg.marketdata.QuoteTtl.infinite()
    synced = pkg.Engine.builder().no_sync()
    ready = synced.builtin(pkg.pretrade.policies.build_order_validation())
    for stage in (synced, ready):
        assert type(stage.market_data(ttl)).__name__ == "MarketDataBuilder"
    assert not hasattr(pkg.Engine.builder(), "market_data")


def test_should_expire_quotes_on_the_engines_injected_clock() -> None:
    md = openpit_shm.marketdata
    clock = FakeClock()
    builder = openpit_shm.Engine.builder().with_clock(clock).no_sync()
    service = builder.market_data(md.QuoteTtl.within(datetime.timedelta(seconds=1))).build()
    iid = service.register(openpit_shm.core.Instrument("AAPL", "USD"))
    service.push(iid, md.Quote(mark=openpit_shm.param.Price("100")), datetime.timedelta(0))
    who = (
        openpit_shm.param.AccountId.from_int(7),
        _NoGroup(),
        md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT,
    )
    assert service.get_optional(iid, *who) is not None
    clock.advance(999_999_999)
    assert service.get_optional(iid, *who) is not None
    clock.advance(1)  # age == TTL: expired (openpit's rule)
    assert service.get_optional(iid, *who) is None
    with pytest.raises(md.QuoteExpired):
        service.get(iid, *who)


class _NoGroup:
    account_group = None
