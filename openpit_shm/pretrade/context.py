"""Contexts handed to custom policy hooks, and the AccountControl they may carry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .rejects import AccountBlock

if TYPE_CHECKING:
    from ..param import AccountGroupId

__all__ = ["AccountControl", "Context", "PostTradeContext"]

_new = object.__new__


def _no_public_constructor(cls: type, module: str = "openpit.pretrade") -> None:
    raise TypeError(f"cannot create '{module}.{cls.__name__}' instances")


class AccountControl:
    """Blocks the account of the request it belongs to (first cause wins; never rolled back)."""

    __slots__ = ("_account", "_block_fn")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self), "openpit")

    def block(self, block: AccountBlock) -> None:
        if not isinstance(block, AccountBlock):
            raise TypeError("block must be openpit.pretrade.AccountBlock")
        self._block_fn(self._account, block)


def account_control(account: int, block_fn: Any) -> AccountControl:
    c = _new(AccountControl)
    c._account = account
    c._block_fn = block_fn
    return c


class Context:
    """Context of one pre-trade operation: account control, account group, drop-copy flag."""

    __slots__ = ("_account_control", "_account_group")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    @property
    def account_control(self) -> AccountControl | None:
        return self._account_control

    @property
    def account_group(self) -> AccountGroupId | None:
        return self._account_group

    @property
    def is_drop_copy(self) -> bool:
        return False

    def record_drop_copy_start_mutation(self, mutation: Any) -> None:
        raise RuntimeError("context is not an active drop-copy operation")


class _DropCopyContext(Context):
    """The context of a drop copy: ``is_drop_copy`` and a place for start-stage mutations.

    openpit accepts the call in either stage; the mutations run before the main
    stage's when the operation is finalized (``engine.drop_copy``).
    """

    __slots__ = ("_start_mutations",)

    @property
    def is_drop_copy(self) -> bool:
        return True

    def record_drop_copy_start_mutation(self, mutation: Any) -> None:
        mutation.commit  # noqa: B018 (openpit reads both hooks: an AttributeError otherwise)
        mutation.rollback  # noqa: B018
        self._start_mutations.append(mutation)


def context(account_control: AccountControl | None, account_group: Any) -> Context:
    c = _new(Context)
    c._account_control = account_control
    c._account_group = account_group
    return c


def drop_copy_context(
    account_control: AccountControl, account_group: Any, start_mutations: list[Any]
) -> Context:
    """A drop copy's context; ``record_drop_copy_start_mutation`` appends to ``start_mutations``."""
    c = _new(_DropCopyContext)
    c._account_control = account_control
    c._account_group = account_group
    c._start_mutations = start_mutations
    return c


class PostTradeContext:
    """Context of one post-trade operation: the report account's ``account_group``."""

    __slots__ = ("_account_group",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    @property
    def account_group(self) -> AccountGroupId | None:
        return self._account_group


def post_trade_context(account_group: Any) -> PostTradeContext:
    c = _new(PostTradeContext)
    c._account_group = account_group
    return c
