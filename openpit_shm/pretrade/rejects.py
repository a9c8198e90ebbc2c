"""Reject and AccountBlock: the read-only records the engine hands back to callers."""

from __future__ import annotations

from typing import Any

from ..param._compat import downcast_error
from ._enum import KNOWN_CODES

__all__ = ["AccountBlock", "Reject", "make_reject"]

_U64_MAX = (1 << 64) - 1
_new = object.__new__


def _no_public_constructor(cls: type) -> None:
    raise TypeError(f"cannot create 'openpit.pretrade.{cls.__name__}' instances")


class Reject:
    """One business reject: ``policy``, ``code``, ``reason``, ``details``, ``scope``, ``user_data``.

    ``code`` and ``scope`` are plain strings that compare equal to
    ``RejectCode`` / ``RejectScope`` members. Produced by the engine only.
    """

    __slots__ = ("_code", "_details", "_policy", "_reason", "_scope", "_user_data")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    @property
    def code(self) -> str:
        return self._code

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def details(self) -> str:
        return self._details

    @property
    def policy(self) -> str:
        return self._policy

    @property
    def scope(self) -> str:
        return self._scope

    @property
    def user_data(self) -> int:
        return self._user_data

    def _key(self) -> tuple[str, str, str, str, str, int]:
        return (self._policy, self._code, self._reason, self._details, self._scope, self._user_data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reject):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f'Reject(code="{self._code}", reason="{self._reason}", details="{self._details}", '
            f'policy="{self._policy}", scope="{self._scope}", user_data={self._user_data})'
        )


def make_reject(
    policy: str, code: str, reason: str, details: str, scope: str, user_data: int = 0
) -> Reject:
    """Build a Reject (engine-internal; values are trusted)."""
    r = _new(Reject)
    r._policy = policy
    r._code = code
    r._reason = reason
    r._details = details
    r._scope = scope
    r._user_data = user_data
    return r


def check_code(code: object) -> str:
    """Return ``code`` as a plain str if it is one of the 44 reject codes, else raise ValueError."""
    if isinstance(code, str) and code in KNOWN_CODES:
        return str(code)
    raise ValueError(f'unsupported reject code "{code}"')


def _check_str(value: object) -> str:
    if not isinstance(value, str):
        raise downcast_error(value, "str")
    return str(value)


class AccountBlock:
    """The cause recorded when an account is blocked (also returned by post-trade hooks)."""

    __slots__ = ("_code", "_details", "_policy", "_reason", "_user_data")

    def __init__(
        self, *, policy: str, code: str, reason: str, details: str, user_data: int = 0
    ) -> None:
        self._policy = _check_str(policy)
        self._code = check_code(_check_str(code))
        self._reason = _check_str(reason)
        self._details = _check_str(details)
        if not isinstance(user_data, int):  # a bool counts as an int, as in openpit
            raise TypeError(
                f"'{type(user_data).__name__}' object cannot be interpreted as an integer"
            )
        if user_data < 0:
            raise OverflowError("can't convert negative int to unsigned")
        if user_data > _U64_MAX:
            raise OverflowError("int too big to convert")
        self._user_data = int(user_data)

    @classmethod
    def _trusted(
        cls, policy: str, code: str, reason: str, details: str, user_data: int = 0
    ) -> AccountBlock:
        b = _new(cls)
        b._policy = policy
        b._code = code
        b._reason = reason
        b._details = details
        b._user_data = user_data
        return b

    @property
    def code(self) -> str:
        return self._code

    @property
    def policy(self) -> str:
        return self._policy

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def details(self) -> str:
        return self._details

    @property
    def user_data(self) -> int:
        return self._user_data

    def __repr__(self) -> str:
        return (
            f'AccountBlock(code="{self._code}", policy="{self._policy}", reason="{self._reason}", '
            f'details="{self._details}", user_data={self._user_data})'
        )
