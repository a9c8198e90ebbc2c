"""Asset: a validated asset code, a ``str`` subclass (any non-blank text).

openpit checks asset arguments in three ways, each with its own texts:
``Asset(...)`` (``AssetError``), ``asset_text`` (the Rust side of instruments,
P&L barriers and ``set_account_pnl``) and ``asset_string`` (PyO3 extracting a
``String``: rate-limit and order-size barriers).
"""

from __future__ import annotations

from typing import Any

from ._compat import downcast_error, is_blank
from .errors import AssetError

__all__ = ["Asset", "asset_string", "asset_text"]

_EMPTY = "asset must not be empty"


class Asset(str):
    """Validated asset identifier string."""

    __slots__ = ()

    def __new__(cls, value: str) -> Asset:
        if not isinstance(value, str):
            raise TypeError("asset must be str")
        if is_blank(value):
            raise AssetError(_EMPTY)
        return str.__new__(cls, value)


def asset_text(value: Any) -> str:
    """An asset argument as a plain ``str`` (openpit's Rust side drops str subclasses)."""
    if value.__class__ is not str:
        if not isinstance(value, str):
            raise TypeError("asset must be a str")
        value = str.__str__(value)
    if not value or (value.isspace() and is_blank(value)):
        raise ValueError(_EMPTY)
    return value


def asset_string(value: Any) -> str:
    """``asset_text`` with PyO3's downcast text for a value that is not a ``str``."""
    if not isinstance(value, str):
        raise downcast_error(value, "str")
    return asset_text(value)


Asset.__module__ = "openpit_shm.param"
