"""Exceptions of the param package, shaped like openpit's.

``ParamError`` mirrors ``openpit.ParamError`` (a ``ValueError`` whose
``__module__`` is the top-level package); ``AssetError`` and ``AccountIdError``
mirror the classes openpit defines in ``openpit.param``. ``FixedPointError`` is
ours: a value that cannot become the engine's int64 fixed point.
"""

from __future__ import annotations

__all__ = ["AccountIdError", "AssetError", "FixedPointError", "ParamError"]


class ParamError(ValueError):
    """A value-type construction or arithmetic failure (openpit's texts, word for word)."""


ParamError.__module__ = "openpit_shm"


class AssetError(ValueError):
    """Error type for asset validation failures."""


class AccountIdError(ValueError):
    """Error type for account identifier validation failures."""


class FixedPointError(ValueError):
    """A decimal value has no exact int64 fixed-point form at the requested scale."""


for _cls in (AssetError, AccountIdError, FixedPointError):
    _cls.__module__ = "openpit_shm.param"
del _cls
