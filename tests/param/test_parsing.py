"""String parsing of the decimal value types: rust_decimal's exact grammar and openpit's errors."""

from __future__ import annotations

import pytest

from openpit_shm.param import ParamError, Price, Quantity
from tests.param._support import exact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.50", "10.50"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1_000", "1000"),
        ("1__0", "10"),
        ("1_", "1"),
        ("1_.5", "1.5"),
        ("1._5", "1.5"),
        ("5._", "5"),
        ("-0", "0"),
        ("-0.00", "0.00"),
        ("-.5", "-0.5"),
        ("00001", "1"),
        ("0000000000000000000000000000000000000001", "1"),
        ("0.0000000000000000000000000001", "0.0000000000000000000000000001"),
        ("0.0000000000000000000000000000", "0.0000000000000000000000000000"),
        ("0.000000000000000000000000000_1", "0.0000000000000000000000000001"),
        ("79228162514264337593543950335", "79228162514264337593543950335"),
        ("-79228162514264337593543950335", "-79228162514264337593543950335"),
        ("7922816251426433759354395033.5", "7922816251426433759354395033.5"),
        ("1.0000000000000000000000000000", "1.0000000000000000000000000000"),
    ],
)
def test_should_accept_rust_decimal_grammar_and_keep_the_scale(text: str, expected: str) -> None:
    assert str(Price(text)) == expected
    assert Price(text).to_json_value() == expected


@pytest.mark.parametrize(
    "text",
    [
        "1e3",
        "1E3",
        " 5",
        "5 ",
        "\t5",
        "abc",
        "",
        "_1",
        "._5",
        "+_5",
        "+-5",
        "--5",
        "+",
        "-",
        ".",
        "-.",
        "1.2.3",
        "0x10",
        "1,000",
        "\u0661\u0662",
        "\uff11",
        "NaN",
        "inf",
        "5-",
        "a'b",
        'a"b',
        "0.00000000000000000000000000001",
        "0.00000000000000000000000000000",
        "1.00000000000000000000000000000",
        "0.0000000000000000000000000001_",
        "0.0000000000000000000000000000.",
        "79228162514264337593543950336",
        "79228162514264337593543950335.0",
        "12345678901234567890123456789.0",
        "7.92281625142643375935439503350",
    ],
)
def test_should_reject_text_outside_the_exact_grammar_with_openpits_message(text: str) -> None:
    with pytest.raises(ParamError) as info:
        Price(text)
    assert str(info.value) == f"invalid format for Price: '{text}'"
    assert type(info.value) is ParamError


def test_should_reject_negative_text_for_unsigned_types() -> None:
    with pytest.raises(ParamError, match=exact("value must be non-negative for Quantity")):
        Quantity("-5")


def test_should_report_invalid_format_before_negativity() -> None:
    with pytest.raises(ParamError, match=exact("invalid format for Quantity: '-abc'")):
        Quantity("-abc")


def test_should_accept_negative_zero_text_for_unsigned_types() -> None:
    assert str(Quantity("-0.0")) == "0.0"


def test_should_parse_str_subclasses_by_their_content() -> None:
    class Text(str):
        def __str__(self) -> str:
            return "999"

    assert str(Quantity(Text("1.5"))) == "1.5"
    with pytest.raises(ParamError, match=exact("invalid format for Quantity: 'x'")):
        Quantity(Text("x"))


def test_should_make_param_error_a_value_error() -> None:
    assert issubclass(ParamError, ValueError)
    assert ParamError.__name__ == "ParamError"
