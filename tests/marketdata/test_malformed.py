"""Malformed input, method by method: each argument replaced by a wrong value in turn.

Every (method, argument, bad value) runs on a fresh service of each package
(one instrument registered, one quote pushed); the outcomes (error class,
text, notes, or the result) must be openpit's.
"""

from __future__ import annotations

import datetime
import decimal

import pytest

from .harness import Side, both, outcome

td = datetime.timedelta

BAD = {
    "None": lambda s: None,
    "int": lambda s: 5,
    "zero": lambda s: 0,
    "negative": lambda s: -1,
    "huge": lambda s: 2**70,
    "u32_max": lambda s: 2**32 - 1,
    "bool": lambda s: True,
    "nan": lambda s: float("nan"),
    "inf": lambda s: float("inf"),
    "str": lambda s: "x",
    "decimal": lambda s: decimal.Decimal("1.5"),
    "timedelta": lambda s: td(seconds=1),
    "neg_timedelta": lambda s: td(seconds=-1),
    "list": lambda s: [1],
    "object": lambda s: object(),
    "quote_ttl": lambda s: s.md.QuoteTtl.infinite(),
    "instrument_id": lambda s: s.iid(0),
    "unknown_id": lambda s: s.iid(999),
    "account": lambda s: s.account(1),
    "default_group": lambda s: s.group(0),
    "instrument": lambda s: s.instrument("A"),
}


def _valid(s: Side) -> dict[str, object]:
    return {
        "instrument": s.instrument("NEW"),
        "id": s.iid(42),
        "instrument_id": s.iid(0),
        "ttl": s.within(5),
        "account_id": s.account(1),
        "account_group_id": s.group(3),
        "quote": s.md.Quote(mark=1),
        "source_age": td(seconds=1),
        "account_ids": [s.account(1)],
        "account_group_ids": [s.group(3)],
        "account_info": s.info(s.group(3)),
        "resolution": s.md.QuoteResolution.ACCOUNT_THEN_GROUP_THEN_DEFAULT,
    }


METHODS = {
    "register": ("instrument",),
    "register_with_ttl": ("instrument", "ttl"),
    "register_with_id": ("instrument", "id"),
    "register_with_id_and_ttl": ("instrument", "id", "ttl"),
    "resolve": ("instrument",),
    "set_account_ttl": ("account_id", "ttl"),
    "clear_account_ttl": ("account_id",),
    "set_account_group_ttl": ("account_group_id", "ttl"),
    "clear_account_group_ttl": ("account_group_id",),
    "set_instrument_ttl": ("instrument_id", "ttl"),
    "clear_instrument_ttl": ("instrument_id",),
    "set_instrument_account_ttl": ("instrument_id", "account_id", "ttl"),
    "clear_instrument_account_ttl": ("instrument_id", "account_id"),
    "set_instrument_account_group_ttl": ("instrument_id", "account_group_id", "ttl"),
    "clear_instrument_account_group_ttl": ("instrument_id", "account_group_id"),
    "clear": ("instrument_id",),
    "push": ("instrument_id", "quote", "source_age"),
    "push_by_instrument": ("instrument", "quote", "source_age"),
    "push_for": ("instrument_id", "quote", "source_age", "account_ids", "account_group_ids"),
    "get": ("instrument_id", "account_id", "account_info", "resolution"),
    "get_optional": ("instrument_id", "account_id", "account_info", "resolution"),
}

CASES = [(m, p, b) for m, params in METHODS.items() for p in params for b in BAD]


def _call(s: Side, method: str, position: str, bad: str) -> tuple:
    svc = s.service()
    iid = svc.register(s.instrument("A"))
    svc.push(iid, s.md.Quote(bid=1), td(0))
    args = _valid(s)
    value = BAD[bad](s)
    if position in ("account_ids", "account_group_ids"):
        value = [value]  # a wrong element; a wrong container is covered below
    args[position] = value
    fn = getattr(svc, method)
    first = outcome(lambda: fn(*(args[p] for p in METHODS[method])))
    after = outcome(lambda: svc.get(iid, s.account(1), s.info(None), _valid(s)["resolution"]))
    return first, after


@pytest.mark.parametrize(("method", "position", "bad"), CASES)
def test_should_answer_malformed_input_as_openpit(method: str, position: str, bad: str) -> None:
    theirs, ours = both()
    assert _call(ours, method, position, bad) == _call(theirs, method, position, bad)


@pytest.mark.parametrize("container", ["None", "int", "str", "object"])
@pytest.mark.parametrize("position", [3, 4])
def test_should_reject_wrong_target_containers_as_openpit(container: str, position: int) -> None:
    def run(s: Side) -> tuple:
        svc = s.service()
        iid = svc.register(s.instrument("A"))
        args = [iid, s.md.Quote(mark=1), td(0), [s.account(1)], [s.group(2)]]
        args[position] = BAD[container](s)
        return outcome(lambda: svc.push_for(*args))

    theirs, ours = both()
    assert run(ours) == run(theirs)


QUOTE_INPUTS = [
    None, 1, -1, 0, "1.5", "-0", "-0.000", 1.1, 0.1 + 0.2, 1e30, 1e-30, float("nan"),
    float("inf"), -float("inf"), "abc", "", " 1 ", "1e5", "1_000", decimal.Decimal("1.23"),
    decimal.Decimal("NaN"), True, b"1", [1], 10**40, 2**95, 2**96, "79228162514264337593543950335",
]  # fmt: skip


@pytest.mark.parametrize("field", ["mark", "bid", "ask"])
@pytest.mark.parametrize("value", QUOTE_INPUTS, ids=repr)
def test_should_build_quotes_as_openpit(field: str, value: object) -> None:
    theirs, ours = both()
    assert outcome(lambda: ours.md.Quote(**{field: value})) == outcome(
        lambda: theirs.md.Quote(**{field: value})
    )


@pytest.mark.parametrize("value", list(BAD), ids=str)
def test_should_build_ttls_as_openpit(value: str) -> None:
    theirs, ours = both()
    assert outcome(lambda: ours.md.QuoteTtl.within(BAD[value](ours))) == outcome(
        lambda: theirs.md.QuoteTtl.within(BAD[value](theirs))
    )
