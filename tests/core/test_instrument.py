"""Instrument, InstrumentId and Mutation."""

from __future__ import annotations

import dataclasses
import re

import pytest

from openpit_shm.core import Instrument, InstrumentId, Mutation
from openpit_shm.param import Asset
from tests.param._support import exact


def test_should_keep_a_key_of_plain_strings() -> None:
    i = Instrument(Asset("BTC"), "USD")
    assert i._key == ("BTC", "USD")
    assert type(i._key[0]) is str and type(i.underlying_asset) is str
    assert (i.underlying_asset, i.settlement_asset) == ("BTC", "USD")


def test_should_accept_keywords_and_str_subclasses() -> None:
    class Code(str):
        pass

    i = Instrument(underlying_asset=Code("q"), settlement_asset="U")
    assert i._key == ("q", "U")
    assert type(i.underlying_asset) is str


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("", "USD"), ValueError, "asset must not be empty"),
        ((" ", "USD"), ValueError, "asset must not be empty"),
        (("BTC", "\u3000"), ValueError, "asset must not be empty"),
        ((1, "USD"), TypeError, "asset must be a str"),
        (("BTC", None), TypeError, "asset must be a str"),
        (("", 1), ValueError, "asset must not be empty"),
        ((1, ""), TypeError, "asset must be a str"),
    ],
)
def test_should_validate_assets_in_order(args: tuple, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        Instrument(*args)
    assert type(info.value) is error
    assert str(info.value) == message


def test_should_accept_unusual_but_non_blank_assets() -> None:
    assert Instrument("\x1c", " x").underlying_asset == "\x1c"


def test_should_compare_and_hash_by_assets() -> None:
    a, b = Instrument("S", "U"), Instrument("S", "U")
    assert a == b and hash(a) == hash(b) == hash(("S", "U"))
    assert a != Instrument("S", "V")
    assert a != ("S", "U")
    sub = type("Listed", (Instrument,), {})("S", "U")
    assert a == sub


def test_should_show_assets_with_rust_debug_escapes() -> None:
    assert repr(Instrument("S", "U")) == 'Instrument(underlying_asset="S", settlement_asset="U")'
    shown = repr(Instrument('a"b\\c', "x\nyé\x01"))
    assert shown == 'Instrument(underlying_asset="a\\"b\\\\c", settlement_asset="x\\nyé\\u{1}")'


def test_should_have_read_only_assets_but_allow_extra_attributes() -> None:
    i = Instrument("S", "U")
    with pytest.raises(AttributeError, match="has no setter"):
        i.underlying_asset = "X"  # type: ignore[misc]
    i.venue = "XNAS"  # type: ignore[attr-defined]
    assert i.venue == "XNAS"  # type: ignore[attr-defined]


def test_should_report_missing_instrument_arguments() -> None:
    with pytest.raises(
        TypeError,
        match=exact(
            "Instrument.__init__() missing 1 required positional argument: 'settlement_asset'"
        ),
    ):
        Instrument("S")  # type: ignore[call-arg]


def test_should_hold_a_u64_instrument_id() -> None:
    assert InstrumentId(5).value == 5
    assert InstrumentId(value=2**64 - 1).value == 2**64 - 1
    assert InstrumentId(True).value == 1
    assert repr(InstrumentId(5)) == str(InstrumentId(5)) == "InstrumentId(5)"
    assert InstrumentId(5) == InstrumentId(5) and InstrumentId(5) != 5
    assert hash(InstrumentId(5)) == hash(InstrumentId(5))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-1, OverflowError, "can't convert negative int to unsigned"),
        (2**64, OverflowError, "int too big to convert"),
        ("5", TypeError, "'str' object cannot be interpreted as an integer"),
        (1.0, TypeError, "'float' object cannot be interpreted as an integer"),
    ],
)
def test_should_reject_ids_outside_u64(value: object, error: type, message: str) -> None:
    with pytest.raises(error, match=exact(message)):
        InstrumentId(value)  # type: ignore[arg-type]


def test_should_refuse_ordering_and_subclassing_of_instrument_ids() -> None:
    with pytest.raises(TypeError, match=exact("InstrumentId supports only == and !=")):
        InstrumentId(1) < InstrumentId(2)  # noqa: B015
    with pytest.raises(
        TypeError, match=re.escape("'openpit.core.InstrumentId' is not an acceptable")
    ):
        type("Sub", (InstrumentId,), {})


def test_should_pair_commit_and_rollback_in_a_frozen_mutation() -> None:
    calls: list[str] = []
    m = Mutation(commit=lambda: calls.append("c"), rollback=lambda: calls.append("r"))
    m.commit()
    m.rollback()
    assert calls == ["c", "r"]
    assert repr(Mutation(1, 2)) == "Mutation(commit=1, rollback=2)"  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.commit = print  # type: ignore[misc]
