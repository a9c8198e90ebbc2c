"""AccountAdjustmentContext: what a policy's ``apply_account_adjustment`` hook receives.

Opaque and read-only, as in openpit: ``account_control`` (an ``AccountControl``
for the evaluated account, valid through the batch's commit or rollback) and
``account_group`` (the account's ``AccountGroupId``, or None for the default
group). Only the engine builds one, with ``account_adjustment_context``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .param import AccountGroupId
    from .pretrade import AccountControl

__all__ = ["AccountAdjustmentContext", "account_adjustment_context"]

_NAME = "openpit.AccountAdjustmentContext"


class AccountAdjustmentContext:
    """Context of the current account-adjustment operation (not constructible by users)."""

    __slots__ = ("_account_control", "_account_group")
    _OPENPIT_NAME = _NAME

    _account_control: AccountControl
    _account_group: AccountGroupId | None

    def __new__(cls, *args: Any, **kwargs: Any) -> AccountAdjustmentContext:
        raise TypeError(f"cannot create '{_NAME}' instances")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"type '{_NAME}' is not an acceptable base type")

    @property
    def account_control(self) -> AccountControl:
        """Handle to the engine's block facility for the evaluated account."""
        return self._account_control

    @property
    def account_group(self) -> AccountGroupId | None:
        """The account's group; None for the default group."""
        return self._account_group

    def __repr__(self) -> str:
        return f"<{_NAME} object at {id(self):#x}>"

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("account_control", "account_group"):
            raise AttributeError(f"attribute '{name}' of '{_NAME}' objects is not writable")
        raise AttributeError(f"'{_NAME}' object has no attribute '{name}'")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"cannot pickle '{_NAME}' object")


def account_adjustment_context(
    account_control: AccountControl, account_group: AccountGroupId | None
) -> AccountAdjustmentContext:
    """The engine's constructor for ``AccountAdjustmentContext``."""
    ctx = object.__new__(AccountAdjustmentContext)
    object.__setattr__(ctx, "_account_control", account_control)
    object.__setattr__(ctx, "_account_group", account_group)
    return ctx
