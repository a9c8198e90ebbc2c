"""Account groups and blocks: the ``engine.accounts()`` handle and the texts behind blocks.

The kernel state holds *whether* an account, a group or the whole engine is
blocked (so every door gates identically); this module keeps the human texts
of the blocks Python recorded (admin blocks, custom-policy latches, restored
causes) and the group membership the Python API reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import AccountBlockError, AccountGroupRegistrationError
from ..param import AccountGroupId, AccountId
from ..param._compat import downcast_error, missing_attribute
from ..param.asset import asset_text
from ..pretrade.rejects import AccountBlock
from .rows import account_key

if TYPE_CHECKING:
    from ..builtins.book import Book

__all__ = ["Accounts", "AccountsState"]

_U32_MAX = (1 << 32) - 1
_DEFAULT_TARGET = "the reserved default account group is not a valid target"
ENGINE_POLICY = "Engine"
CODE_ACCOUNT_BLOCKED = "AccountBlocked"


def _account(value: Any) -> int:
    if not isinstance(value, AccountId):
        raise TypeError("account_id must be openpit.param.AccountId")
    return account_key(value)


def _group(value: Any) -> int:
    """A group id (AccountGroupId or int) as an int; 0 is the default group."""
    if isinstance(value, AccountGroupId):
        return value.value
    if isinstance(value, int) and 0 <= value <= _U32_MAX:  # a bool counts as an int
        if value == 0:
            raise ValueError("account group id must not equal the reserved default group")
        return int(value)
    raise ValueError(
        "account_group_id must be an AccountGroupId or integer in range 1..=4294967295"
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise downcast_error(value, "str")
    return str(value)


class AccountsState:
    """Group membership, currencies and the causes of blocks recorded from Python."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.group_of: dict[int, int] = {}
        self.causes: dict[int, AccountBlock] = {}
        self.group_reasons: dict[int, str] = {}
        self.engine_cause: AccountBlock | None = None
        self.currency: dict[int, str] = {}
        self.group_currency: dict[int, str] = {}

    # -- account blocks ------------------------------------------------------------------------

    def latch(self, account: int, cause: AccountBlock) -> bool:
        """Record ``cause`` unless the account is already blocked (the first cause wins)."""
        if not self.book.block_account(account):
            return False
        self.causes[account] = cause
        return True

    def unblock(self, account: int) -> None:
        self.book.unblock_account(account)
        self.causes.pop(account, None)

    def replace_reason(self, account: int, cause: AccountBlock) -> bool:
        """Replace a blocked account's cause; False if it is not blocked."""
        if not self.book.is_account_blocked(account):
            return False
        self.book.block_account(account, replace=True)
        self.causes[account] = cause
        return True

    def block_engine(self, cause: AccountBlock) -> None:
        if self.engine_cause is None:
            self.engine_cause = cause
            self.book.block_engine()

    def unblock_engine(self) -> None:
        self.engine_cause = None
        self.book.unblock_engine()

    # -- groups --------------------------------------------------------------------------------

    def set_groups(self, accounts: list[int], group: int) -> None:
        """Move accounts to ``group`` (0 = back to the default group)."""
        for k in accounts:
            if group:
                self.group_of[k] = group
            else:
                self.group_of.pop(k, None)
            self.book.set_group(k, group)

    def block_group(self, group: int, reason: str) -> None:
        if group not in self.group_reasons:
            self.group_reasons[group] = reason
            self.book.block_group(group)

    def unblock_group(self, group: int) -> None:
        if self.group_reasons.pop(group, None) is not None:
            self.book.unblock_group(group)

    def replace_group_reason(self, group: int, reason: str) -> bool:
        if group not in self.group_reasons:
            return False
        self.group_reasons[group] = reason
        return True


class Accounts:
    """Handle to the engine's account groups and blocks (``engine.accounts()``).

    It shares state with the engine and with every other handle.
    """

    __slots__ = ("_state",)

    _OPENPIT_NAME = "openpit.Accounts"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'openpit.Accounts' instances")

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    # -- groups --------------------------------------------------------------------------------

    def register_group(self, accounts: Iterable[Any], group: Any) -> None:
        """Move accounts into ``group`` atomically; an account already in any group is an error."""
        gid = self._target_group(group, AccountGroupRegistrationError)
        keys = [_account(a) for a in accounts]
        st = self._state
        if any(k in st.group_of for k in keys):
            raise AccountGroupRegistrationError(
                "account is already registered in a different group"
            )
        st.set_groups(keys, gid)

    def unregister_group(self, accounts: Iterable[Any], group: Any) -> None:
        """Return accounts from ``group`` to the default group, atomically."""
        gid = self._target_group(group, AccountGroupRegistrationError)
        keys = [_account(a) for a in accounts]
        st = self._state
        for k in keys:
            current = st.group_of.get(k)
            if current != gid:
                where = "no group" if current is None else "a different group"
                raise AccountGroupRegistrationError(
                    f"account is not in the requested group; it belongs to {where}"
                )
        st.set_groups(keys, 0)

    def group_of(self, account: Any) -> Any:
        gid = self._state.group_of.get(_account(account))
        return None if gid is None else AccountGroupId.from_int(gid)

    # -- currencies (stored for API compatibility; no builtin here consumes them) --------------

    def set_currency(self, account: Any, asset: Any) -> None:
        self._state.currency[_account(account)] = asset_text(asset)

    def clear_currency(self, account: Any) -> None:
        self._state.currency.pop(_account(account), None)

    def set_group_currency(self, group: Any, asset: Any) -> None:
        self._state.group_currency[self._any_group(group)] = asset_text(asset)

    def clear_group_currency(self, group: Any) -> None:
        self._state.group_currency.pop(self._any_group(group), None)

    # -- account blocks ------------------------------------------------------------------------

    def block(self, account: Any, reason: str) -> None:
        """Block an account; the first reason wins (re-blocking is a no-op)."""
        key = _account(account)
        text = _text(reason)
        self._state.latch(
            key, AccountBlock._trusted(ENGINE_POLICY, CODE_ACCOUNT_BLOCKED, text, text)
        )

    def block_with_cause(self, account: Any, cause: AccountBlock) -> None:
        """Restore a persisted block with its original cause (the first cause still wins)."""
        key = _account(account)
        if not isinstance(cause, AccountBlock):
            raise downcast_error(cause, "AccountBlock")
        self._state.latch(key, cause)

    def unblock(self, account: Any) -> None:
        """Lift an account's own block (idempotent)."""
        self._state.unblock(_account(account))

    def replace_block_reason(self, account: Any, reason: str) -> None:
        key = _account(account)
        text = _text(reason)
        cause = AccountBlock._trusted(ENGINE_POLICY, CODE_ACCOUNT_BLOCKED, text, text)
        if not self._state.replace_reason(key, cause):
            raise AccountBlockError("account is not blocked")

    def unblock_all(self) -> None:
        """Clear the engine-wide block only (account and group blocks stay)."""
        self._state.unblock_engine()

    # -- group blocks --------------------------------------------------------------------------

    def block_group(self, group: Any, reason: str) -> None:
        gid = self._target_group(group, AccountBlockError)
        self._state.block_group(gid, _text(reason))

    def unblock_group(self, group: Any) -> None:
        self._state.unblock_group(self._target_group(group, AccountBlockError))

    def replace_group_block_reason(self, group: Any, reason: str) -> None:
        gid = self._target_group(group, AccountBlockError)
        if not self._state.replace_group_reason(gid, _text(reason)):
            raise AccountBlockError("account group is not blocked")

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _target_group(group: Any, error: type[Exception]) -> int:
        if isinstance(group, AccountGroupId) and group.value == 0:
            raise error(_DEFAULT_TARGET)
        return _group(group)

    @staticmethod
    def _any_group(group: Any) -> int:
        if isinstance(group, AccountGroupId):
            return group.value
        if isinstance(group, int) and 0 <= group <= _U32_MAX:  # a bool counts as an int
            return int(group)
        raise ValueError(
            "account_group_id must be an AccountGroupId or integer in range 0..=4294967295"
        )


def accounts_handle(state: AccountsState) -> Accounts:
    h = object.__new__(Accounts)
    h._state = state
    return h
