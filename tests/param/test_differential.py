"""Differential tests: openpit_shm.param against the real openpit 0.10 (the oracle).

Each property feeds the same inputs to both packages and requires the same
observable outcome: the repr of the result (which includes the scale and the
sign of zero) or the exception type and message.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import openpit_shm.param as ours
from tests.param._support import (
    SIGNED,
    STRATEGIES,
    VALUE_TYPES,
    decimal_text,
    outcome,
    scalars,
    valid_text,
)

openpit_param = pytest.importorskip("openpit.param")

# OPENPIT_SHM_DIFF_EXAMPLES raises the example count for a deep run.
SETTINGS = settings(
    max_examples=int(os.environ.get("OPENPIT_SHM_DIFF_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
type_names = st.sampled_from(VALUE_TYPES)


def both(name: str) -> tuple[type, type]:
    return getattr(openpit_param, name), getattr(ours, name)


def same(call_theirs: object, call_ours: object, relax_names: bool = False) -> None:
    theirs = outcome(call_theirs, relax_names)  # type: ignore[arg-type]
    mine = outcome(call_ours, relax_names)  # type: ignore[arg-type]
    assert mine == theirs


@st.composite
def value_pair(draw: st.DrawFn) -> tuple[str, str, str]:
    name = draw(type_names)
    signed = name in SIGNED
    return name, draw(valid_text(signed)), draw(valid_text(signed))


@SETTINGS
@given(type_names, decimal_text())
def test_should_parse_text_like_openpit(name: str, text: str) -> None:
    theirs, mine = both(name)
    same(lambda: theirs(text), lambda: mine(text))
    same(lambda: theirs.from_string(text), lambda: mine.from_string(text))


@SETTINGS
@given(type_names, decimal_text(40), st.integers(0, 30), st.sampled_from(STRATEGIES))
def test_should_parse_rounded_text_like_openpit(
    name: str, text: str, scale: int, strategy: str
) -> None:
    theirs, mine = both(name)
    same(
        lambda: theirs.from_string_rounded(text, scale, strategy),
        lambda: mine.from_string_rounded(text, scale, strategy),
    )


floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.builds(lambda m, e: m * 2.0**e, st.integers(-(2**53), 2**53), st.integers(-90, 40)),
    st.sampled_from(
        [1e15 + 0.25, 0.0007219314575195312, 1e-28, 1e-29, 7.9e28, 8e28, -0.0, 0.1, 1e22]
    ),
)


@SETTINGS
@given(type_names, floats, st.integers(0, 30), st.sampled_from(STRATEGIES))
def test_should_convert_floats_like_openpit(
    name: str, value: float, scale: int, strategy: str
) -> None:
    theirs, mine = both(name)
    same(lambda: theirs(value), lambda: mine(value))
    same(lambda: theirs.from_float(value), lambda: mine.from_float(value))
    same(
        lambda: theirs.from_float_rounded(value, scale, strategy),
        lambda: mine.from_float_rounded(value, scale, strategy),
    )


@SETTINGS
@given(type_names, st.one_of(st.integers(-(2**130), 2**130), st.integers(-(10**12), 10**12)))
def test_should_convert_ints_like_openpit(name: str, value: int) -> None:
    theirs, mine = both(name)
    same(lambda: theirs(value), lambda: mine(value))
    same(lambda: theirs.from_int(value), lambda: mine.from_int(value))


decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        lambda m, e: Decimal(m).scaleb(e), st.integers(-(2**100), 2**100), st.integers(-35, 12)
    ),
)


@SETTINGS
@given(type_names, decimals, st.integers(0, 30), st.sampled_from(STRATEGIES))
def test_should_convert_decimals_like_openpit(
    name: str, value: Decimal, scale: int, strategy: str
) -> None:
    theirs, mine = both(name)
    same(lambda: theirs(value), lambda: mine(value))
    same(
        lambda: theirs.from_decimal_rounded(value, scale, strategy),
        lambda: mine.from_decimal_rounded(value, scale, strategy),
    )


@SETTINGS
@given(value_pair())
def test_should_add_subtract_and_compare_like_openpit(pair: tuple[str, str, str]) -> None:
    name, x, y = pair
    theirs, mine = both(name)
    ta, tb, ma, mb = theirs(x), theirs(y), mine(x), mine(y)
    same(lambda: ta + tb, lambda: ma + mb)
    same(lambda: ta - tb, lambda: ma - mb)
    same(
        lambda: (ta == tb, ta != tb, ta < tb, ta <= tb, ta > tb, ta >= tb, bool(ta)),
        lambda: (ma == mb, ma != mb, ma < mb, ma <= mb, ma > mb, ma >= mb, bool(ma)),
    )
    assert (ma == mb) == (hash(ma) == hash(mb)) or ma != mb


@SETTINGS
@given(value_pair(), scalars())
def test_should_multiply_divide_and_take_remainders_like_openpit(
    pair: tuple[str, str, str], k: object
) -> None:
    name, x, _ = pair
    theirs, mine = both(name)
    ta, ma = theirs(x), mine(x)
    same(lambda: ta * k, lambda: ma * k)
    same(lambda: k * ta, lambda: k * ma)
    same(lambda: ta / k, lambda: ma / k)
    same(lambda: ta % k, lambda: ma % k)


@SETTINGS
@given(value_pair())
def test_should_format_negate_and_convert_to_float_like_openpit(pair: tuple[str, str, str]) -> None:
    name, x, _ = pair
    theirs, mine = both(name)
    ta, ma = theirs(x), mine(x)
    same(
        lambda: (str(ta), ta.to_json_value(), repr(ta.decimal), float(ta)),
        lambda: (str(ma), ma.to_json_value(), repr(ma.decimal), float(ma)),
    )
    if name in SIGNED:
        same(lambda: -ta, lambda: -ma)


@SETTINGS
@given(
    valid_text(True),
    valid_text(False),
    valid_text(False),
    st.sampled_from(["BUY", "SELL", "buy", "Sell", "x"]),
)
def test_should_run_domain_conversions_like_openpit(
    signed: str, unsigned: str, other: str, side: str
) -> None:
    cases = [
        lambda m: m.Price(signed).calculate_volume(m.Quantity(unsigned)),
        lambda m: m.Price(signed).calculate_position_size(m.Quantity(unsigned)),
        lambda m: m.Quantity(unsigned).calculate_volume(m.Price(signed)),
        lambda m: m.Notional.from_price_quantity(m.Price(signed), m.Quantity(unsigned)),
        lambda m: m.Volume(other).calculate_quantity(m.Price(signed)),
        lambda m: (
            m.Volume(unsigned).to_cash_flow_inflow(),
            m.Volume(unsigned).to_cash_flow_outflow(),
        ),
        lambda m: (
            m.Fee(signed).to_pnl(),
            m.Fee(signed).to_cash_flow(),
            m.Fee(signed).to_position_size(),
        ),
        lambda m: (m.Pnl.from_fee(m.Fee(signed)), m.CashFlow.from_fee(m.Fee(signed))),
        lambda m: m.PositionSize.from_quantity_and_side(m.Quantity(unsigned), side),
        lambda m: m.PositionSize(signed).checked_add_quantity(m.Quantity(unsigned), side),
        lambda m: (
            m.PositionSize(signed).to_open_quantity(),
            m.PositionSize(signed).to_close_quantity(),
        ),
        lambda m: m.Notional(unsigned).calculate_margin_required(7.3),
        lambda m: m.Leverage(3000).calculate_margin_required(unsigned),
    ]
    for case in cases:
        same(lambda case=case: case(openpit_param), lambda case=case: case(ours))


@SETTINGS
@given(
    st.one_of(
        st.integers(-5, 3005),
        st.floats(allow_nan=True, allow_infinity=True),
        st.builds(lambda r, d: r / 10 + d, st.integers(0, 30010), st.floats(-1e-8, 1e-8)),
    )
)
def test_should_build_leverage_like_openpit(value: object) -> None:
    same(lambda: repr(openpit_param.Leverage(value)), lambda: repr(ours.Leverage(value)))
    same(lambda: openpit_param.Leverage(value).value, lambda: ours.Leverage(value).value)
    if isinstance(value, int):
        same(
            lambda: repr(openpit_param.Leverage.from_int(value)),
            lambda: repr(ours.Leverage.from_int(value)),
        )
    else:
        same(
            lambda: repr(openpit_param.Leverage.from_float(value)),
            lambda: repr(ours.Leverage.from_float(value)),
        )


def test_should_show_every_leverage_grid_point_like_openpit() -> None:
    for raw in range(10, 30001):
        value = raw / 10
        theirs, mine = openpit_param.Leverage(value), ours.Leverage(value)
        assert (repr(mine), mine.value) == (repr(theirs), theirs.value), raw


@SETTINGS
@given(
    st.one_of(
        st.text(), st.text(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2028\u3000x", max_size=4)
    )
)
def test_should_hash_string_ids_and_validate_assets_like_openpit(text: str) -> None:
    same(
        lambda: openpit_param.AccountId.from_string(text).value,
        lambda: ours.AccountId.from_string(text).value,
    )
    same(
        lambda: openpit_param.AccountGroupId.from_string(text).value,
        lambda: ours.AccountGroupId.from_string(text).value,
    )
    same(lambda: openpit_param.Asset(text), lambda: ours.Asset(text))


@SETTINGS
@given(st.one_of(st.integers(-(2**65), 2**65), st.integers(-2, 2**33)))
def test_should_take_integer_ids_like_openpit(value: int) -> None:
    same(lambda: openpit_param.AccountId.from_int(value), lambda: ours.AccountId.from_int(value))
    same(
        lambda: openpit_param.AccountGroupId.from_int(value),
        lambda: ours.AccountGroupId.from_int(value),
    )


@pytest.mark.parametrize("name", VALUE_TYPES)
@pytest.mark.parametrize(
    "value", [True, None, "x", [1], object, 1 + 0j, Decimal("NaN"), float("nan"), 2**200, "-1"]
)
def test_should_reject_bad_constructor_inputs_like_openpit(name: str, value: object) -> None:
    theirs, mine = both(name)
    same(lambda: theirs(value), lambda: mine(value))
    for ctor in ("from_decimal", "from_string", "from_int", "from_float"):
        same(
            lambda ctor=ctor: getattr(theirs, ctor)(value),
            lambda ctor=ctor: getattr(mine, ctor)(value),
        )


@pytest.mark.parametrize("name", VALUE_TYPES)
@pytest.mark.parametrize("other", [1, 1.5, True, None, "2", Decimal(1), b"x"])
def test_should_reject_mixed_operands_like_openpit(name: str, other: object) -> None:
    theirs, mine = both(name)
    ta, ma = theirs("1.5"), mine("1.5")
    for op in ("+", "-", "*", "/", "%"):
        for expr in (f"a {op} b", f"b {op} a"):
            same(
                lambda expr=expr: eval(expr, {"a": ta, "b": other}),
                lambda expr=expr: eval(expr, {"a": ma, "b": other}),
                relax_names=expr.startswith("b") and op in "*",
            )


def test_should_export_openpits_public_names() -> None:
    assert set(ours.__all__) == set(openpit_param.__all__) | {"FixedPointError"}
    for name in openpit_param.__all__:
        theirs = getattr(openpit_param, name)
        mine = getattr(ours, name)
        if isinstance(theirs, type):
            public = {a for a in dir(theirs) if not a.startswith("_")}
            assert public <= set(dir(mine)), (name, public - set(dir(mine)))


@SETTINGS
@given(type_names, floats, floats, scalars())
def test_should_combine_values_built_from_floats_like_openpit(
    name: str, x: float, y: float, k: object
) -> None:
    # from_float yields negative zeros and odd scales that string inputs never produce.
    theirs, mine = both(name)
    ta, tb = outcome(lambda: theirs.from_float(x)), outcome(lambda: theirs.from_float(y))
    assert outcome(lambda: mine.from_float(x)) == ta and outcome(lambda: mine.from_float(y)) == tb
    if ta[0] != "return" or tb[0] != "return":
        return
    a, b, c, d = theirs.from_float(x), theirs.from_float(y), mine.from_float(x), mine.from_float(y)
    same(lambda: (a + b, a - b, b - a), lambda: (c + d, c - d, d - c))
    same(lambda: (a * k, a / k, a % k), lambda: (c * k, c / k, c % k))
    same(
        lambda: (a == b, a < b, str(a), float(a), bool(a)),
        lambda: (c == d, c < d, str(c), float(c), bool(c)),
    )
    if name in SIGNED:
        same(lambda: (-a, -b), lambda: (-c, -d))
