"""The 8-tier TTL cascade: the most specific tier that is set wins, never the minimum.

Every ordered pair of tiers is checked both ways on openpit and on openpit_shm:
the more specific tier's TTL decides whether a quote 5 s old has expired.
"""

from __future__ import annotations

import datetime
import itertools

import pytest

from .harness import Side, side

ACCOUNT, GROUP = 7, 3
AGE = datetime.timedelta(seconds=5)
LONG, SHORT = 10.0, 1.0


def _set_tier(s: Side, svc, iid, tier: int, seconds: float) -> None:
    ttl = s.within(seconds)
    acct, grp, default = s.account(ACCOUNT), s.group(GROUP), s.group(0)
    setters = {
        1: lambda: svc.set_instrument_account_ttl(iid, acct, ttl),
        2: lambda: svc.set_instrument_account_group_ttl(iid, grp, ttl),
        3: lambda: svc.set_instrument_account_group_ttl(iid, default, ttl),
        4: lambda: svc.set_account_ttl(acct, ttl),
        5: lambda: svc.set_account_group_ttl(grp, ttl),
        6: lambda: svc.set_account_group_ttl(default, ttl),
        7: lambda: svc.set_instrument_ttl(iid, ttl),
    }
    setters[tier]()


def _clear_tier(s: Side, svc, iid, tier: int) -> None:
    acct, grp, default = s.account(ACCOUNT), s.group(GROUP), s.group(0)
    clearers = {
        1: lambda: svc.clear_instrument_account_ttl(iid, acct),
        2: lambda: svc.clear_instrument_account_group_ttl(iid, grp),
        3: lambda: svc.clear_instrument_account_group_ttl(iid, default),
        4: lambda: svc.clear_account_ttl(acct),
        5: lambda: svc.clear_account_group_ttl(grp),
        6: lambda: svc.clear_account_group_ttl(default),
        7: lambda: svc.clear_instrument_ttl(iid),
    }
    clearers[tier]()


def _expired(s: Side, tiers: dict[int, float]) -> bool:
    default = s.within(tiers[8]) if 8 in tiers else None
    svc = s.service(default)
    iid = svc.register(s.instrument("AAPL"))
    for tier, seconds in tiers.items():
        if tier != 8:
            _set_tier(s, svc, iid, tier, seconds)
    svc.push(iid, s.md.Quote(mark=1), AGE)
    info = s.info(s.group(GROUP))
    res = s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    try:
        svc.get(iid, s.account(ACCOUNT), info, res)
    except s.md.QuoteExpired as e:
        assert e.quote == s.md.Quote(mark=1)
        return True
    return False


PAIRS = list(itertools.combinations(range(1, 9), 2))


@pytest.mark.parametrize("package", ["openpit", "openpit_shm"])
@pytest.mark.parametrize(("specific", "general"), PAIRS)
def test_should_let_the_more_specific_tier_win(package: str, specific: int, general: int) -> None:
    s = side(package)
    assert not _expired(s, {specific: LONG, general: SHORT})
    assert _expired(s, {specific: SHORT, general: LONG})


@pytest.mark.parametrize("package", ["openpit", "openpit_shm"])
@pytest.mark.parametrize("tier", range(1, 9))
def test_should_apply_each_tier_alone(package: str, tier: int) -> None:
    s = side(package)
    assert _expired(s, {tier: SHORT})
    assert not _expired(s, {tier: LONG})


@pytest.mark.parametrize("package", ["openpit", "openpit_shm"])
@pytest.mark.parametrize("tier", range(1, 8))
def test_should_fall_through_to_the_next_tier_after_a_clear(package: str, tier: int) -> None:
    s = side(package)
    svc = s.service(s.within(SHORT))
    iid = svc.register(s.instrument("AAPL"))
    _set_tier(s, svc, iid, tier, LONG)
    svc.push(iid, s.md.Quote(bid=2), AGE)
    args = (iid, s.account(ACCOUNT), s.info(s.group(GROUP)))
    res = s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    assert svc.get_optional(*args, res) == s.md.Quote(bid=2)
    _clear_tier(s, svc, iid, tier)
    assert svc.get_optional(*args, res) is None


@pytest.mark.parametrize("package", ["openpit", "openpit_shm"])
def test_should_stop_the_cascade_at_an_infinite_tier(package: str) -> None:
    s = side(package)
    svc = s.service(s.within(SHORT))
    iid = svc.register_with_ttl(s.instrument("AAPL"), s.within(SHORT))
    svc.set_account_ttl(s.account(ACCOUNT), s.md.QuoteTtl.infinite())
    svc.push(iid, s.md.Quote(ask=3), datetime.timedelta(days=3650))
    res = s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    got = svc.get(iid, s.account(ACCOUNT), s.info(None), res)
    assert got == s.md.Quote(ask=3)


@pytest.mark.parametrize("package", ["openpit", "openpit_shm"])
def test_should_skip_group_tiers_for_an_account_without_group(package: str) -> None:
    s = side(package)
    svc = s.service()
    iid = svc.register(s.instrument("AAPL"))
    _set_tier(s, svc, iid, 2, SHORT)
    _set_tier(s, svc, iid, 5, SHORT)
    svc.push(iid, s.md.Quote(mark=1), AGE)
    res = s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    assert svc.get_optional(iid, s.account(ACCOUNT), s.info(None), res) is not None
    assert svc.get_optional(iid, s.account(ACCOUNT), s.info(s.group(GROUP)), res) is None
