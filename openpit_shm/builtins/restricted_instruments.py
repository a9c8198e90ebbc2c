"""Restricted-instrument list (``RestrictedInstrumentsPolicy``): configuration, retune and texts.

Kernel: ``kernels.restricted_instruments`` (its docstring draws the state).
The list is a set of (underlying, settlement) asset-name pairs; the arena
keeps it per asset-id pair, in this kind's own pair table, so it outlives
instrument ids (numbered per engine) and a restarted worker reads it back
(``restore``).

Build: ``build_restricted_instruments().restrict(*instruments)`` hands the
builder hook ``instruments=[Instrument, ...]`` (duplicates fine).
Runtime: ``engine.configure().restricted_instruments(name, restrict=[...],
allow=[...])`` adds ``restrict`` to the list and removes ``allow`` from it
(``None``/omitted: nothing; allowing an instrument that is not restricted is
a no-op). Naming one instrument in both is a VALIDATION error, and nothing
changes unless every argument checks out.

Texts (every door alike, from the record's asset ids):
``InstrumentRestricted`` / "instrument restricted" / "instrument AAPL/USD is
restricted", order scope.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openpit_shm.instrument import Instrument
from openpit_shm.kernels import control as KC
from openpit_shm.kernels.restricted_instruments import (
    KIND,
    RI_LIVE,
    RI_TABLE,
    RR_RESTRICTED,
    W_RI,
    W_RR,
)
from openpit_shm.layout.state import H_KIND_ROOT, TB_SIZE
from openpit_shm.param._compat import downcast_error, pyo3_check_call

from .base import BuiltinPolicy, sequence_of, validation_error
from .book_arena import bump
from .book_rows import BookRows
from .registry import table_rows
from .texts import Description, Record

__all__ = [
    "SETTINGS_TYPE",
    "RestrictedInstrumentsPolicy",
    "configure_restricted_instruments",
    "parse_spec",
]

#: Settings type named in ``configure()``'s TYPE_MISMATCH text (openpit has no such builtin;
#: named like its settings types).
SETTINGS_TYPE = "restricted_instruments::RestrictedInstrumentsSettings"

Pair = tuple[str, str]  # (underlying, settlement)

_TABLE_CAP = 16  # initial slots of the pair table (it grows incrementally)


def _pairs(instruments: Any) -> list[Pair]:
    """The (underlying, settlement) keys of a sequence of ``Instrument`` objects (TypeError)."""
    keys = []
    for instrument in sequence_of(instruments):
        if not isinstance(instrument, Instrument):
            raise downcast_error(instrument, "Instrument")
        keys.append(instrument._key)
    return keys


# ---- build: the ``_add_builtin_restricted_instruments`` keyword arguments -----------------------


def parse_spec(*, instruments: Any = ()) -> dict[str, Any]:
    """The configuration: ``instruments``, a frozenset of (underlying, settlement) pairs."""
    return {"instruments": frozenset(_pairs(instruments))}


# ---- runtime: ``engine.configure().restricted_instruments(...)`` --------------------------------


def configure_restricted_instruments(
    self: Any, name: str, *extra: Any, restrict: Any = None, allow: Any = None
) -> None:
    """Restrict ``restrict`` and allow ``allow`` again (sequences of ``Instrument``)."""
    pyo3_check_call("Configurator.restricted_instruments", 1, extra, {})
    self._apply(
        name, "restricted_instruments", "restricted_instruments", restrict=restrict, allow=allow
    )


class RestrictedInstrumentsPolicy(BuiltinPolicy):
    """Rejects orders for the instruments on its list (``InstrumentRestricted``, order scope)."""

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        self.restricted: set[Pair] = set(spec.config["instruments"])

    # ---- state -------------------------------------------------------------------------------

    @staticmethod
    def _block(book: BookRows) -> int:
        return int(book.state[H_KIND_ROOT + KIND])

    def _row(self, book: BookRows, pair: Pair) -> int:
        """The pair row of an already restricted pair (its assets are registered)."""
        st = book.state
        t = int(st[self._block(book) + RI_TABLE])
        return int(KC.ctl_tbl_find(st, t, book.asset_id(pair[0]), book.asset_id(pair[1])))

    def _write(self, book: BookRows, restrict: list[Pair], allow: list[Pair]) -> None:
        """Set the rows of ``restrict``, clear those of ``allow``, then the live count."""
        if restrict:
            u = np.array([book.asset_id(a) for a, _ in restrict], dtype=np.int64)
            s = np.array([book.asset_id(b) for _, b in restrict], dtype=np.int64)
            rows = book.rows_of(self._block(book) + RI_TABLE, u, s)
            book.state[rows + RR_RESTRICTED] = 1
        for pair in allow:
            book.state[self._row(book, pair) + RR_RESTRICTED] = 0
        book.state[self._block(book) + RI_LIVE] = len(self.restricted)

    def install(self, book: BookRows) -> None:
        book.grow(W_RI + TB_SIZE + 3 * _TABLE_CAP)
        st = book.state
        block = bump(st, W_RI)
        st[block + RI_TABLE] = KC.ctl_tbl_create(st, 2, _TABLE_CAP, W_RR)
        st[H_KIND_ROOT + KIND] = block  # last: the kernel reads nothing before it is set
        self._write(book, sorted(self.restricted), [])

    def restore(self, book: BookRows) -> None:
        st = book.state
        names = book.asset_names()
        under, settle, rows = table_rows(st, self._block(book) + RI_TABLE)
        live = st[rows + RR_RESTRICTED] != 0
        self.restricted = {
            (names[u], names[s]) for u, s in zip(under[live].tolist(), settle[live].tolist(),
                                                 strict=True)
        }  # fmt: skip
        st[self._block(book) + RI_LIVE] = len(self.restricted)  # (a retune cut short by a crash)

    # ---- runtime retune ----------------------------------------------------------------------

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        if method != "restricted_instruments":
            super().configure(book, method, **settings)
        self.retune(book, **settings)

    def retune(self, book: BookRows, *, restrict: Any = None, allow: Any = None) -> None:
        added = [] if restrict is None else _pairs(restrict)
        removed = [] if allow is None else _pairs(allow)
        both = set(added) & set(removed)
        if both:
            u, s = min(both)
            raise validation_error(self.name, f"instrument {u}/{s} is both restricted and allowed")
        cleared = sorted(self.restricted & set(removed))
        self.restricted = (self.restricted | set(added)) - set(removed)
        self._write(book, sorted(set(added)), cleared)

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        underlying, settlement = book.asset_name(rec.d[0]), book.asset_name(rec.d[1])
        return (
            self.name,
            "InstrumentRestricted",
            "instrument restricted",
            f"instrument {underlying}/{settlement} is restricted",
            rec.scope,
            0,
        )
