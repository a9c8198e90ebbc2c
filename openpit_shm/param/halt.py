"""``PnlHaltReason``: why a realized P&L could not be calculated (openpit.pretrade's enum).

A value type below ``pretrade`` so that the account-adjustment models (which
may set a halted P&L) need not import the pre-trade results; ``pretrade``
re-exports it.
"""

from __future__ import annotations

from ._native import unhashable

__all__ = ["PnlHaltReason"]


class PnlHaltReason:
    """Why a realized P&L could not be calculated."""

    MISSING_FX: PnlHaltReason
    MISSING_ACCOUNT_CURRENCY: PnlHaltReason
    MISSING_INITIAL_PNL: PnlHaltReason
    MISSING_COST_BASIS: PnlHaltReason
    ARITHMETIC_OVERFLOW: PnlHaltReason

    __slots__ = ("_camel", "_name", "_value")
    _OPENPIT_NAME = "openpit.pretrade.PnlHaltReason"

    def __init__(self, name: str, value: int, camel: str) -> None:
        self._name = name
        self._value = value
        self._camel = camel

    def __int__(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PnlHaltReason) and other._value == self._value

    def __hash__(self) -> int:
        # openpit's native class defines __eq__ without __hash__: its members are
        # unhashable. Raised here rather than ``__hash__ = None`` to print openpit's name.
        raise unhashable(self)

    def __repr__(self) -> str:
        return f"PnlHaltReason.{self._name}"

    __str__ = __repr__


for _i, (_n, _c) in enumerate(
    [
        ("MISSING_ACCOUNT_CURRENCY", "MissingAccountCurrency"),
        ("MISSING_FX", "MissingFx"),
        ("MISSING_INITIAL_PNL", "MissingInitialPnl"),
        ("MISSING_COST_BASIS", "MissingCostBasis"),
        ("ARITHMETIC_OVERFLOW", "ArithmeticOverflow"),
    ]
):
    setattr(PnlHaltReason, _n, PnlHaltReason(_n, _i, _c))


PnlHaltReason.__module__ = "openpit_shm.pretrade.results"  # where it was always found
