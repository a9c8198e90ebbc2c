"""Instruments: the (underlying, settlement) pair and its stable numeric id (openpit.core).

They sit below ``core`` so that every model that names an instrument (orders
and reports in ``core``, ``reference_book``, ``account_adjustment``) can import
them without importing ``core``; ``core`` re-exports both under its own name.
"""

from __future__ import annotations

from typing import Any

from .param._compat import extract_u64, rust_debug_str
from .param.asset import asset_text

__all__ = ["Instrument", "InstrumentId"]


def _py_opt(value: object) -> str:
    """How openpit's reprs show a Python object held in an ``Option``."""
    return "Ok(None)" if value is None else f"Ok(Some(Py({id(value):#x})))"


class Instrument:
    """Trading instrument: the traded (underlying) asset and the settlement asset.

    Quantities and positions are in the underlying asset; cash, P&L and fees
    in the settlement asset.
    """

    __slots__ = ("__dict__", "_key")

    _key: tuple[str, str]

    def __init__(self, underlying_asset: str, settlement_asset: str) -> None:
        if (
            underlying_asset.__class__ is str
            and settlement_asset.__class__ is str
            and underlying_asset
            and settlement_asset
            and not underlying_asset.isspace()
            and not settlement_asset.isspace()
        ):
            self._key = (underlying_asset, settlement_asset)
        else:
            self._key = (asset_text(underlying_asset), asset_text(settlement_asset))

    @property
    def underlying_asset(self) -> str:
        """The asset that is bought or sold."""
        return self._key[0]

    @property
    def settlement_asset(self) -> str:
        """The asset used for monetary settlement."""
        return self._key[1]

    def __repr__(self) -> str:
        u, s = self._key
        return (
            f"Instrument(underlying_asset={rust_debug_str(u)}, "
            f"settlement_asset={rust_debug_str(s)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instrument):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)


class InstrumentId:
    """Stable identifier shared by OpenPit subsystems (u64)."""

    __slots__ = ("_value",)
    _OPENPIT_NAME = "openpit.core.InstrumentId"

    _value: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("type 'openpit.core.InstrumentId' is not an acceptable base type")

    def __init__(self, value: int) -> None:
        self._value = extract_u64(value)

    @property
    def value(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        if type(other) is not InstrumentId:
            return NotImplemented
        return self._value == other._value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._value)

    def _no_order(self, other: object) -> bool:
        raise TypeError("InstrumentId supports only == and !=")

    __lt__ = __le__ = __gt__ = __ge__ = _no_order

    def __repr__(self) -> str:
        return f"InstrumentId({self._value})"

    __str__ = __repr__


def _check_instrument(instrument: Any) -> None:
    if instrument is None:
        # openpit reads ``instrument.underlying_asset`` right after its None-tolerant check.
        raise AttributeError("'NoneType' object has no attribute 'underlying_asset'")
    if not isinstance(instrument, Instrument):
        raise TypeError("instrument must be openpit.core.Instrument")


Instrument.__module__ = "openpit_shm.core"  # the import path openpit users know
Instrument.__qualname__ = "Instrument"
InstrumentId.__module__ = "openpit_shm.core"
