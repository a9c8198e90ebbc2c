"""Seeded random call sequences over every service method, on openpit and openpit_shm.

Ages come from ``source_age`` (whole seconds) against whole-second TTLs, so
openpit's real clock (microseconds pass between calls) never flips a result.
"""

from __future__ import annotations

import datetime
import random

import pytest

from .harness import Side, both, outcome

td = datetime.timedelta
SEEDS = range(40)
STEPS = 150


def _ops(s: Side, svc, rng: random.Random):
    instruments = [s.instrument(u) for u in ("A", "B", "C", "D")]
    ids = [s.iid(n) for n in (0, 1, 2, 7, 99)]
    accounts = [s.account(n) for n in (1, 2, 3)]
    groups = [s.group(n) for n in (0, 4, 5)]
    infos = [s.info(None)] + [s.info(g) for g in groups]
    R = s.md.QuoteResolution
    resolutions = [R.ACCOUNT_ONLY, R.ACCOUNT_THEN_GROUP, R.ACCOUNT_THEN_GROUP_THEN_DEFAULT]
    ttls = [s.md.QuoteTtl.infinite(), s.within(0), s.within(2), s.within(5), s.within(10)]
    ages = [td(0), td(seconds=1), td(seconds=4), td(seconds=5), td(seconds=6), td(seconds=-3)]
    c = rng.choice

    def quote():
        fields = {
            k: c(["1", "2.50", -3, 0.25]) for k in ("mark", "bid", "ask") if rng.random() < 0.6
        }
        return s.md.Quote(**fields)

    def some(items):
        return rng.sample(items, rng.randint(0, len(items)))

    table = [
        (2, lambda: svc.register(c(instruments))),
        (1, lambda: svc.register_with_ttl(c(instruments), c(ttls))),
        (2, lambda: svc.register_with_id(c(instruments), c(ids))),
        (1, lambda: svc.register_with_id_and_ttl(c(instruments), c(ids), c(ttls))),
        (1, lambda: svc.resolve(c(instruments))),
        (1, lambda: svc.set_account_ttl(c(accounts), c(ttls))),
        (1, lambda: svc.clear_account_ttl(c(accounts))),
        (1, lambda: svc.set_account_group_ttl(c(groups), c(ttls))),
        (1, lambda: svc.clear_account_group_ttl(c(groups))),
        (1, lambda: svc.set_instrument_ttl(c(ids), c(ttls))),
        (1, lambda: svc.clear_instrument_ttl(c(ids))),
        (1, lambda: svc.set_instrument_account_ttl(c(ids), c(accounts), c(ttls))),
        (1, lambda: svc.clear_instrument_account_ttl(c(ids), c(accounts))),
        (1, lambda: svc.set_instrument_account_group_ttl(c(ids), c(groups), c(ttls))),
        (1, lambda: svc.clear_instrument_account_group_ttl(c(ids), c(groups))),
        (1, lambda: svc.clear(c(ids))),
        (4, lambda: svc.push(c(ids), quote(), c(ages))),
        (2, lambda: svc.push_by_instrument(c(instruments), quote(), c(ages))),
        (4, lambda: svc.push_for(c(ids), quote(), c(ages), some(accounts), some(groups))),
        (6, lambda: svc.get(c(ids), c(accounts), c(infos), c(resolutions))),
        (4, lambda: svc.get_optional(c(ids), c(accounts), c(infos), c(resolutions))),
    ]
    weights = [w for w, _ in table]
    return [f for _, f in table], weights


def _run(s: Side, seed: int) -> list:
    rng = random.Random(seed)
    svc = s.service(rng.choice([None, s.within(3)]))
    fns, weights = _ops(s, svc, rng)
    out = []
    for _ in range(STEPS):
        fn = rng.choices(fns, weights)[0]
        out.append(outcome(fn))
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_should_match_openpit_on_random_sequences(seed: int) -> None:
    theirs, ours = both()
    expected, got = _run(theirs, seed), _run(ours, seed)
    for n, (e, g) in enumerate(zip(expected, got, strict=True)):
        assert g == e, f"seed {seed} step {n}"
