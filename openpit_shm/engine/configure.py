"""``engine.configure()``: find the named builtin policy and hand it the new settings.

Name resolution and openpit's UNKNOWN / TYPE_MISMATCH errors live here; the
methods (``rate_limit(...)``, ``set_account_pnl(...)``, ...), the validation
and the replace / clear / keep-live-counters rules belong to each builtin
(its policy module in ``openpit_shm.builtins``, listed in the registry
``builtins.kinds``), which raises VALIDATION errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..builtins import kinds
from ..builtins.kind_table import configure_methods
from ..errors import ConfigureErrorKind, PolicyConfigureError
from ..param._compat import downcast_error, missing_attribute
from .registry import BuiltinEntry

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Configurator", "configurator"]

# openpit names the settings type of each configurable builtin in its TYPE_MISMATCH message.
_CELL = "openpit::storage::config_cell::ArcSwapConfigCell<openpit::pretrade::policies::{}>"
#: openpit settings types with a ``Configurator`` method but no builtin here (yet): a row in
#: the registry with the same name takes over.
_WITHOUT_BUILTIN = {"spot_funds": "spot_funds::market_data::SpotFundsSettings"}


def _settings_type(kind: str) -> str | None:
    """openpit's settings type of builtin ``kind``; None if it has no runtime configuration."""
    row = kinds.KINDS.get(kind)
    settings = _WITHOUT_BUILTIN.get(kind) if row is None else row.settings_type
    return None if settings is None else _CELL.format(settings)


class Configurator:
    """Runtime policy settings (``engine.configure()``); changes apply from the next call."""

    __slots__ = ("_engine",)

    _OPENPIT_NAME = "openpit.Configurator"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'openpit.Configurator' instances")

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    def _find(self, name: str, kind: str) -> BuiltinEntry:
        if not isinstance(name, str):
            raise downcast_error(name, "str")
        for entry in self._engine._entries:
            if not isinstance(entry, BuiltinEntry) or entry.name != name:
                continue
            settings = _settings_type(entry.spec.kind)
            if settings is None:
                continue  # not configurable
            if entry.spec.kind != kind:
                raise PolicyConfigureError(
                    f"policy {name} has settings type {settings}, not {_settings_type(kind)}",
                    ConfigureErrorKind.TYPE_MISMATCH,
                )
            return entry
        raise PolicyConfigureError(
            f"no configurable policy named {name}", ConfigureErrorKind.UNKNOWN
        )

    def _apply(self, name: str, kind: str, method: str, **settings: Any) -> None:
        entry = self._find(name, kind)
        engine = self._engine
        lock = getattr(engine, "_lock", None)
        if lock is None:
            engine._book.configure(entry.index, method, **settings)
            return
        with lock:
            engine._book.configure(entry.index, method, **settings)

    def spot_funds(self, name: str, **settings: Any) -> None:
        """Spot Funds is not available in openpit_shm; no policy can match."""
        self._find(name, "spot_funds")


# Each builtin's ``configure()`` methods come from its registry row (its policy module).
for _method, _fn in configure_methods(kinds.KINDS, "Configurator").items():
    setattr(Configurator, _method, _fn)


def configurator(engine: Engine) -> Configurator:
    c = object.__new__(Configurator)
    c._engine = engine
    return c
