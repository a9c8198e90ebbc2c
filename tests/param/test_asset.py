"""Asset: a non-blank str subclass."""

from __future__ import annotations

import pytest

from openpit_shm.param import Asset, AssetError
from tests.param._support import exact


def test_should_be_a_str_subclass_equal_to_its_text() -> None:
    a = Asset("USD")
    assert isinstance(a, str) and type(a) is Asset
    assert a == "USD"
    assert repr(a) == "'USD'"
    assert Asset(value="x") == "x"
    assert Asset("\x1c") == "\x1c"
    assert Asset(" x") == " x"


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000"])
def test_should_reject_blank_text(text: str) -> None:
    with pytest.raises(AssetError, match=exact("asset must not be empty")):
        Asset(text)
    assert issubclass(AssetError, ValueError)


@pytest.mark.parametrize("value", [1, None, b"USD"])
def test_should_reject_non_strings(value: object) -> None:
    with pytest.raises(TypeError, match=exact("asset must be str")):
        Asset(value)  # type: ignore[arg-type]
