"""AccountId and AccountGroupId: ranges, FNV-1a hashing of strings, blank detection, errors."""

from __future__ import annotations

import numpy as np
import pytest

from openpit_shm.param import DEFAULT_ACCOUNT_GROUP, AccountGroupId, AccountId, AccountIdError
from openpit_shm.param._compat import is_blank
from openpit_shm.param.ids import fnv1a_32, fnv1a_64
from tests.param._support import exact

# Unicode White_Space, which is what Rust's str::trim strips.
RUST_WHITESPACE = frozenset(
    [chr(c) for c in (*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B))]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


def test_should_take_account_ids_in_the_u64_range() -> None:
    assert AccountId.from_int(0).value == 0
    assert AccountId.from_int(2**64 - 1).value == 2**64 - 1
    assert AccountId.from_int(True).value == 1
    assert AccountId.from_int(np.int64(7)).value == 7


@pytest.mark.parametrize("value", [-1, 2**64, 1.0, "1", None])
def test_should_reject_account_ids_outside_u64_with_an_overflow_error(value: object) -> None:
    with pytest.raises(OverflowError) as info:
        AccountId.from_int(value)  # type: ignore[arg-type]
    assert (
        str(info.value)
        == "account id must be a non-negative integer in range 0..=18446744073709551615"
    )


def test_should_hash_account_strings_with_fnv1a_64() -> None:
    assert AccountId.from_string("abc").value == 16654208175385433931
    assert AccountId.from_string(" x").value == 559941722701709029
    assert AccountId.from_string("é").value == fnv1a_64("é".encode())
    assert AccountId.from_string("\x1c").value == 12638175105927731675


@pytest.mark.parametrize("text", ["", " ", "\t", "\xa0", "\u2028", "\x85", " \n "])
def test_should_reject_blank_account_strings(text: str) -> None:
    with pytest.raises(AccountIdError, match=exact("account id string must not be empty")):
        AccountId.from_string(text)
    assert issubclass(AccountIdError, ValueError)


def test_should_require_a_str_for_account_strings() -> None:
    with pytest.raises(TypeError, match=exact("'int' object is not an instance of 'str'")):
        AccountId.from_string(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=exact("'None' is not an instance of 'str'")):
        AccountId.from_string(None)  # type: ignore[arg-type]


def test_should_compare_account_ids_by_value() -> None:
    assert AccountId.from_int(5) == AccountId.from_int(5)
    assert AccountId.from_int(5) != AccountId.from_int(6)
    assert AccountId.from_int(5) != 5
    assert hash(AccountId.from_int(5)) == hash(AccountId.from_int(5))
    assert repr(AccountId.from_int(5)) == "AccountId(value=5)"
    assert str(AccountId.from_int(5)) == "AccountId(value=5)"
    with pytest.raises(TypeError):
        AccountId.from_int(5) < AccountId.from_int(6)  # type: ignore[operator]  # noqa: B015


def test_should_not_construct_ids_directly() -> None:
    with pytest.raises(TypeError, match=exact("cannot create 'openpit.param.AccountId' instances")):
        AccountId(5)  # type: ignore[call-arg]
    with pytest.raises(
        TypeError, match=exact("cannot create 'openpit.param.AccountGroupId' instances")
    ):
        AccountGroupId()


def test_should_take_group_ids_in_one_to_u32_max() -> None:
    assert AccountGroupId.from_int(1).value == 1
    assert AccountGroupId.from_int(2**32 - 1).value == 2**32 - 1
    with pytest.raises(
        ValueError, match=exact("account group id must not equal the reserved default group")
    ):
        AccountGroupId.from_int(0)
    for bad in (-1, 2**32, 2**64, 1.0):
        with pytest.raises(
            OverflowError,
            match=exact("account_group_id must be an integer in range 1..=4294967295"),
        ):
            AccountGroupId.from_int(bad)  # type: ignore[arg-type]


def test_should_hash_group_strings_with_fnv1a_32() -> None:
    assert AccountGroupId.from_string("g").value == 3792446982
    assert AccountGroupId.from_string("g").value == fnv1a_32(b"g")
    with pytest.raises(ValueError, match=exact("account group id string must not be empty")):
        AccountGroupId.from_string(" ")


def test_should_share_the_default_group_object() -> None:
    assert AccountGroupId.DEFAULT is DEFAULT_ACCOUNT_GROUP
    assert DEFAULT_ACCOUNT_GROUP.value == 0
    assert repr(DEFAULT_ACCOUNT_GROUP) == "AccountGroupId(value=0)"
    assert AccountGroupId.from_int(7) == AccountGroupId.from_int(7)
    assert AccountGroupId.from_int(7) != AccountId.from_int(7)
    assert hash(AccountGroupId.from_int(7)) == 7


def test_should_treat_exactly_rusts_whitespace_as_blank() -> None:
    for code in range(0x3100):
        c = chr(code)
        assert is_blank(c) == (c in RUST_WHITESPACE), hex(code)
    assert is_blank("")
    assert not is_blank(" x")
