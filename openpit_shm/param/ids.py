"""Account and account-group identifiers (u64 / u32 values; FNV-1a hashes for string ids).

Neither has a public constructor: ``from_int`` takes the number as is,
``from_string`` hashes the UTF-8 bytes (FNV-1a 64 / 32 bit). Private layout:
``_value`` (the int).
"""

from __future__ import annotations

import operator
from typing import Any, ClassVar

from ._compat import downcast_error, is_blank
from .errors import AccountIdError

__all__ = ["DEFAULT_ACCOUNT_GROUP", "AccountGroupId", "AccountId", "fnv1a_32", "fnv1a_64"]

_U64_MAX = (1 << 64) - 1
_U32_MAX = (1 << 32) - 1
_onew = object.__new__

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv1a_64(data: bytes) -> int:
    h = _FNV64_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV64_PRIME) & _U64_MAX
    return h


def fnv1a_32(data: bytes) -> int:
    h = _FNV32_OFFSET
    for b in data:
        h = ((h ^ b) * _FNV32_PRIME) & _U32_MAX
    return h


def _index_or_none(value: Any) -> int | None:
    tp = type(value)
    if tp is int:
        return value
    if hasattr(tp, "__index__"):
        try:
            return operator.index(value)
        except TypeError:
            return None
    return None


def _account(value: int) -> AccountId:
    o = _onew(AccountId)
    o._value = value
    return o


class AccountId:
    """Type-safe account identifier (u64)."""

    __slots__ = ("_value",)
    _OPENPIT_NAME = "openpit.param.AccountId"

    _value: int

    def __new__(cls, *args: object, **kwargs: object) -> AccountId:
        raise TypeError("cannot create 'openpit.param.AccountId' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("type 'openpit.param.AccountId' is not an acceptable base type")

    @staticmethod
    def from_int(value: int) -> AccountId:
        if value.__class__ is int and 0 <= value <= _U64_MAX:
            o = _onew(AccountId)
            o._value = value
            return o
        i = _index_or_none(value)
        if i is None or not 0 <= i <= _U64_MAX:
            raise OverflowError(
                "account id must be a non-negative integer in range 0..=18446744073709551615"
            )
        return _account(i)

    @staticmethod
    def from_string(value: str) -> AccountId:
        if not isinstance(value, str):
            raise downcast_error(value, "str")
        if is_blank(value):
            raise AccountIdError("account id string must not be empty")
        return _account(fnv1a_64(value.encode("utf-8")))

    @property
    def value(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        if type(other) is not AccountId:
            return NotImplemented
        return self._value == other._value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_account, (self._value,))

    def __repr__(self) -> str:
        return f"AccountId(value={self._value})"

    __str__ = __repr__


def _group(value: int) -> AccountGroupId:
    o = _onew(AccountGroupId)
    o._value = value
    return o


class AccountGroupId:
    """Type-safe account-group identifier (u32); 0 is the reserved default group."""

    __slots__ = ("_value",)
    _OPENPIT_NAME = "openpit.param.AccountGroupId"

    DEFAULT: ClassVar[AccountGroupId]
    _value: int

    def __new__(cls, *args: object, **kwargs: object) -> AccountGroupId:
        raise TypeError("cannot create 'openpit.param.AccountGroupId' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("type 'openpit.param.AccountGroupId' is not an acceptable base type")

    @staticmethod
    def from_int(value: int) -> AccountGroupId:
        i = _index_or_none(value)
        if i is None or not 0 <= i <= _U32_MAX:
            raise OverflowError("account_group_id must be an integer in range 1..=4294967295")
        if i == 0:
            raise ValueError("account group id must not equal the reserved default group")
        return _group(i)

    @staticmethod
    def from_string(value: str) -> AccountGroupId:
        if not isinstance(value, str):
            raise downcast_error(value, "str")
        if is_blank(value):
            raise ValueError("account group id string must not be empty")
        return _group(fnv1a_32(value.encode("utf-8")))

    @property
    def value(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        if type(other) is not AccountGroupId:
            return NotImplemented
        return self._value == other._value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_group, (self._value,))

    def __repr__(self) -> str:
        return f"AccountGroupId(value={self._value})"

    __str__ = __repr__


def _restore_group(value: int) -> AccountGroupId:
    """Unpickling keeps the default group a singleton."""
    return AccountGroupId.DEFAULT if value == 0 else _group(value)


AccountGroupId.DEFAULT = _group(0)
DEFAULT_ACCOUNT_GROUP: AccountGroupId = AccountGroupId.DEFAULT

for _cls in (AccountId, AccountGroupId):
    _cls.__module__ = "openpit_shm.param"
del _cls
