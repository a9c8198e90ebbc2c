"""Scripted call sequences run on openpit and openpit_shm: results, reprs and errors must match.

Each scenario is a function of a ``Side`` returning the outcomes of its calls
(``harness.outcome``: result repr, or error class, text, notes and the
``quote``/``instrument``/``instrument_id`` attributes).
"""

from __future__ import annotations

import datetime
import pickle

import pytest

from .harness import Side, both, outcome

td = datetime.timedelta


def registration(s: Side) -> list:
    svc = s.service()
    i = s.instrument
    calls = [
        lambda: svc.register(i("A")),
        lambda: svc.register(i("A")),
        lambda: svc.register_with_id(i("B"), s.iid(100)),
        lambda: svc.register(i("C")),
        lambda: svc.register_with_id(i("A"), s.iid(5)),
        lambda: svc.register_with_id(i("D"), s.iid(100)),
        lambda: svc.register_with_id(i("A"), s.iid(100)),
        lambda: svc.register_with_id(i("E"), s.iid(3)),
        lambda: svc.register(i("F")),
        lambda: svc.register(i("G")),
        lambda: svc.register_with_id(i("H"), s.iid(2**64 - 1)),
        lambda: svc.register_with_ttl(i("J"), s.within(1)),
        lambda: svc.register_with_ttl(i("J"), s.within(1)),
        lambda: svc.register_with_id_and_ttl(i("K"), s.iid(50), s.md.QuoteTtl.infinite()),
        lambda: svc.register_with_id_and_ttl(i("K"), s.iid(51), s.md.QuoteTtl.infinite()),
        lambda: svc.register_with_id_and_ttl(i("L"), s.iid(50), s.md.QuoteTtl.infinite()),
        lambda: svc.resolve(i("B")),
        lambda: svc.resolve(i("ZZ")),
        lambda: svc.resolve(i("A", "EUR")),
        lambda: svc.register(i("A", "EUR")),
        lambda: svc.register(instrument=i("KW")),
        lambda: svc.register_with_id(instrument=i("KW2"), id=s.iid(7)),
        lambda: svc.resolve(instrument=i("KW2")),
    ]
    return [outcome(c) for c in calls]


def push_and_read(s: Side) -> list:
    svc = s.service()
    iid = svc.register(s.instrument("A"))
    acct, other = s.account(1), s.account(2)
    g, g2 = s.group(5), s.group(6)
    R = s.md.QuoteResolution
    Q = s.md.Quote
    none, in_g, in_default = s.info(None), s.info(g), s.info(s.group(0))
    read_all = [
        lambda a=a, info=info, r=r: svc.get(iid, a, info, r)
        for a in (acct, other)
        for info in (none, in_g, in_default)
        for r in (R.ACCOUNT_ONLY, R.ACCOUNT_THEN_GROUP, R.ACCOUNT_THEN_GROUP_THEN_DEFAULT)
    ]
    out = [outcome(c) for c in read_all]
    steps = [
        lambda: svc.push(iid, Q(mark=1, bid="0.5"), td(0)),
        lambda: svc.push(iid, Q(ask="1.50"), td(seconds=-5)),
        lambda: svc.push_for(iid, Q(mark=2), td(0), [acct], []),
        lambda: svc.push_for(iid, Q(bid=3), td(0), [], [g]),
        lambda: svc.push_for(iid, Q(ask=4), td(0), (a for a in [other]), iter([g2])),
        lambda: svc.push_for(iid, Q(mark=-1), td(0), {acct: 1}, [s.group(0)]),
        lambda: svc.push_for(iid, Q(), td(0), [], [6]),
        lambda: svc.clear(iid),
    ]
    for step in steps:
        out.append(outcome(step))
        out.extend(outcome(c) for c in read_all)
    out.append(outcome(lambda: svc.push_by_instrument(s.instrument("NEW"), Q(mark=9), td(0))))
    out.append(outcome(lambda: svc.push_by_instrument(s.instrument("A"), Q(mark=8), td(0))))
    new = s.iid(1)
    out.append(outcome(lambda: svc.get(new, acct, none, R.ACCOUNT_THEN_GROUP_THEN_DEFAULT)))
    out.append(outcome(lambda: svc.get(iid, acct, none, R.ACCOUNT_THEN_GROUP_THEN_DEFAULT)))
    return out


def expiry(s: Side) -> list:
    svc = s.service(s.within(5))
    iid = svc.register(s.instrument("A"))
    acct = s.account(1)
    R = s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT
    out = []
    for age in (td(seconds=6), td(seconds=5), td(seconds=1), td(days=3650), td.max, td.min):
        out.append(outcome(lambda age=age: svc.push(iid, s.md.Quote(mark=1, ask=2), age)))
        out.append(outcome(lambda: svc.get(iid, acct, s.info(None), R)))
        out.append(outcome(lambda: svc.get_optional(iid, acct, s.info(None), R)))
    for ttl in (s.md.QuoteTtl.within(td(0)), s.md.QuoteTtl.infinite(), s.within(86400 * 10**5)):
        svc.set_instrument_ttl(iid, ttl)
        out.append(outcome(lambda: svc.push(iid, s.md.Quote(bid=1), td(0))))
        out.append(outcome(lambda: svc.get(iid, acct, s.info(None), R)))
    return out


def values(s: Side) -> list:
    Q, T, R = s.md.Quote, s.md.QuoteTtl, s.md.QuoteResolution
    q = Q(mark=1)
    calls = [
        lambda: Q(mark="1.50", bid="-0.000", ask=1.1),
        lambda: Q(),
        lambda: Q(mark=1) == Q(mark="1.0"),
        lambda: Q(mark=1) != Q(mark=1),
        lambda: Q(mark=1) == Q(bid=1),
        lambda: Q(mark=1) == 1,
        lambda: str(Q(bid=2)),
        lambda: hash(q),
        lambda: q < q,
        lambda: q < 1,
        lambda: pickle.dumps(q),
        lambda: setattr(q, "mark", 2),
        lambda: setattr(q, "foo", 2),
        lambda: q.foo,
        lambda: type("X", (Q,), {}),
        lambda: (q.mark, q.bid, q.ask),
        lambda: T.infinite(),
        lambda: T.within(td(0)),
        lambda: T.within(td(seconds=5)),
        lambda: T.within(td(milliseconds=200)),
        lambda: T.within(td(microseconds=1)),
        lambda: T.within(td(microseconds=1500)),
        lambda: T.within(td(seconds=1.5)),
        lambda: T.within(td(days=2, microseconds=10)),
        lambda: T.within(td.max),
        lambda: T.within(duration=td(1)),
        lambda: str(T.infinite()),
        lambda: T.infinite() == T.infinite(),
        lambda: T.infinite() < T.infinite(),
        lambda: T.infinite().x,
        lambda: setattr(T.infinite(), "x", 1),
        lambda: pickle.dumps(T.infinite()),
        lambda: T(),
        lambda: type("X", (T,), {}),
        lambda: [
            (repr(r), str(r), int(r))
            for r in (R.ACCOUNT_ONLY, R.ACCOUNT_THEN_GROUP, R.ACCOUNT_THEN_GROUP_THEN_DEFAULT)
        ],
        lambda: (R.ACCOUNT_ONLY == R.ACCOUNT_ONLY, R.ACCOUNT_ONLY == R.ACCOUNT_THEN_GROUP),
        lambda: (R.ACCOUNT_ONLY == 0, R.ACCOUNT_THEN_GROUP != 1, R.ACCOUNT_ONLY == "x"),
        lambda: R.ACCOUNT_ONLY is R.ACCOUNT_ONLY,
        lambda: hash(R.ACCOUNT_ONLY),
        lambda: R.ACCOUNT_ONLY < R.ACCOUNT_THEN_GROUP,
        lambda: R.ACCOUNT_ONLY.value,
        lambda: R(0),
        lambda: pickle.dumps(R.ACCOUNT_ONLY),
        lambda: type("X", (R,), {}),
        lambda: bool(R.ACCOUNT_ONLY),
        lambda: s.md.MarketDataBuilder(),
        lambda: s.md.MarketDataService(),
        lambda: s.md.InstrumentId is s.core.InstrumentId,
        lambda: [c.__name__ for c in s.md.QuoteExpired.__mro__],
        lambda: [c.__name__ for c in s.md.UnknownInstrument.__mro__],
        lambda: [c.__name__ for c in s.md.QuoteUnavailable.__mro__],
        lambda: [c.__name__ for c in s.md.RegistrationError.__mro__],
        lambda: [c.__name__ for c in s.md.AlreadyRegistered.__mro__],
        lambda: [c.__name__ for c in s.md.UnknownInstrumentId.__mro__],
        lambda: sorted(s.md.__all__),
    ]
    return [outcome(c) for c in calls]


def builder_and_service_objects(s: Side) -> list:
    svc = s.service()
    b = None
    if s.name == "openpit":
        import openpit

        b = openpit.Engine.builder().no_sync().market_data(s.md.QuoteTtl.infinite())
    else:
        from openpit_shm.marketdata.builder import market_data_builder

        b = market_data_builder(s.md.QuoteTtl.infinite(), full_sync=False)
    calls = [
        lambda: b.no_sync() is b,
        lambda: b.full_sync() is b,
        lambda: b.build() is b.build(),
        lambda: b.no_sync(1),
        lambda: b.full_sync(x=1),
        lambda: b.build(1),
        lambda: b.x,
        lambda: pickle.dumps(b),
        lambda: svc.foo,
        lambda: setattr(svc, "foo", 1),
        lambda: pickle.dumps(svc),
        lambda: svc == svc,
        lambda: type(hash(svc)),
        lambda: svc.register(s.instrument("A"), 1),
        lambda: svc.register(),
        lambda: svc.get(s.iid(0), s.account(1), None),
        lambda: svc.push_for(s.iid(0), s.md.Quote(), td(0), [], [], 1),
        lambda: sorted(n for n in dir(svc) if not n.startswith("_")),
        lambda: sorted(n for n in dir(b) if not n.startswith("_")),
    ]
    return [outcome(c) for c in calls]


SCENARIOS = [registration, push_and_read, expiry, values, builder_and_service_objects]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_should_match_openpit(scenario) -> None:
    theirs, ours = both()
    expected = scenario(theirs)
    got = scenario(ours)
    assert len(got) == len(expected)
    for n, (e, g) in enumerate(zip(expected, got, strict=True)):
        assert g == e, f"call {n}"
