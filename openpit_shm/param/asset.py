"""Asset: a validated asset code, a ``str`` subclass (any non-blank text)."""

from __future__ import annotations

from ._compat import is_blank
from .errors import AssetError

__all__ = ["Asset"]


class Asset(str):
    """Validated asset identifier string."""

    __slots__ = ()

    def __new__(cls, value: str) -> Asset:
        if not isinstance(value, str):
            raise TypeError("asset must be str")
        if is_blank(value):
            raise AssetError("asset must not be empty")
        return str.__new__(cls, value)


Asset.__module__ = "openpit_shm.param"
