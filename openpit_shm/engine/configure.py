"""``engine.configure()``: find the named builtin policy and hand it the new settings.

Name resolution and openpit's UNKNOWN / TYPE_MISMATCH errors live here; the
validation and the replace / clear / keep-live-counters rules belong to each
builtin (``openpit_shm.builtins``), which raise VALIDATION errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigureErrorKind, PolicyConfigureError
from ..param._compat import REQUIRED, downcast_error, missing_attribute, pyo3_check_call
from .registry import BuiltinEntry

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Configurator", "configurator"]

# openpit names the settings type of each configurable builtin in its TYPE_MISMATCH message.
_CELL = "openpit::storage::config_cell::ArcSwapConfigCell<openpit::pretrade::policies::{}>"
_SETTINGS_TYPE = {
    "rate_limit": _CELL.format("rate_limit::RateLimitSettings"),
    "order_size_limit": _CELL.format("order_size_limit::OrderSizeLimitSettings"),
    "pnl_bounds_killswitch": _CELL.format("pnl_bounds_killswitch::PnlBoundsKillSwitchSettings"),
    "spot_funds": _CELL.format("spot_funds::market_data::SpotFundsSettings"),
}


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
            configurable = isinstance(entry, BuiltinEntry) and entry.spec.kind in _SETTINGS_TYPE
            if not configurable or entry.name != name:
                continue
            if entry.spec.kind != kind:
                raise PolicyConfigureError(
                    f"policy {name} has settings type {_SETTINGS_TYPE[entry.spec.kind]}, "
                    f"not {_SETTINGS_TYPE[kind]}",
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

    def rate_limit(
        self,
        name: str,
        *extra: Any,
        broker: Any = None,
        clear_broker: bool = False,
        asset_barriers: list[Any] | None = None,
        account_barriers: list[Any] | None = None,
        account_asset_barriers: list[Any] | None = None,
    ) -> None:
        """Retune a rate limit: ``None`` keeps an axis, a list replaces it, ``[]`` clears it."""
        pyo3_check_call("Configurator.rate_limit", 1, extra, {})
        self._apply(
            name,
            "rate_limit",
            "rate_limit",
            broker=broker,
            clear_broker=clear_broker,
            asset_barriers=asset_barriers,
            account_barriers=account_barriers,
            account_asset_barriers=account_asset_barriers,
        )

    def order_size_limit(
        self,
        name: str,
        *extra: Any,
        broker: Any = None,
        clear_broker: bool = False,
        asset_barriers: list[Any] | None = None,
        account_asset_barriers: list[Any] | None = None,
    ) -> None:
        """Retune an order size limit: ``None`` keeps an axis, a list replaces it."""
        pyo3_check_call("Configurator.order_size_limit", 1, extra, {})
        self._apply(
            name,
            "order_size_limit",
            "order_size_limit",
            broker=broker,
            clear_broker=clear_broker,
            asset_barriers=asset_barriers,
            account_asset_barriers=account_asset_barriers,
        )

    def pnl_bounds_killswitch(
        self,
        name: str,
        *extra: Any,
        broker_barriers: list[Any] | None = None,
        account_barriers: list[Any] | None = None,
    ) -> None:
        """Retune P&L bounds; accumulated P&L is kept."""
        pyo3_check_call("Configurator.pnl_bounds_killswitch", 1, extra, {})
        self._apply(
            name,
            "pnl_bounds_killswitch",
            "pnl_bounds_killswitch",
            broker_barriers=broker_barriers,
            account_barriers=account_barriers,
        )

    def set_account_pnl(
        self,
        name: str,
        *extra: Any,
        account: Any = REQUIRED,
        settlement_asset: Any = REQUIRED,
        pnl: Any = REQUIRED,
    ) -> None:
        """Force-set the accumulated P&L of (account, settlement asset); blocks are not cleared.

        ``account``, ``settlement_asset`` and ``pnl`` are required keywords.
        """
        keywords = {"account": account, "settlement_asset": settlement_asset, "pnl": pnl}
        pyo3_check_call("Configurator.set_account_pnl", 1, extra, keywords)
        self._apply(
            name,
            "pnl_bounds_killswitch",
            "set_account_pnl",
            account=account,
            settlement_asset=settlement_asset,
            pnl=pnl,
        )

    def spot_funds(self, name: str, **settings: Any) -> None:
        """Spot Funds is not available in openpit_shm; no policy can match."""
        self._find(name, "spot_funds")


def configurator(engine: Engine) -> Configurator:
    c = object.__new__(Configurator)
    c._engine = engine
    return c
