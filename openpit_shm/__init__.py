"""openpit_shm: an openpit-compatible pre-trade risk engine, fast where it counts.

``import openpit_shm as openpit`` runs programs written for openpit 0.10. The
builtin limit policies are Numba kernels over NumPy state; the same engine is
reachable per order (openpit's objects), per NumPy batch (``ORDER_DTYPE``
records) and, sharded over worker processes, through shared-memory rings that
C programs can feed (``get_include()`` gives the header's folder).
"""

from __future__ import annotations

from . import account_adjustment, core, param, pretrade
from .core import (
    AccountAdjustment,
    AccountAdjustmentAccountPnlOperation,
    AccountAdjustmentAmount,
    AccountAdjustmentBalanceOperation,
    AccountAdjustmentBounds,
    AccountAdjustmentContext,
    AccountAdjustmentPositionOperation,
    ExecutionReport,
    ExecutionReportFillDetails,
    ExecutionReportOperation,
    ExecutionReportPositionImpact,
    FinancialImpact,
    Instrument,
    Mutation,
    Order,
    OrderMargin,
    OrderOperation,
    OrderPosition,
)
from .engine import builder as _builder
from .engine.accounts import Accounts
from .engine.builder import EngineBuilder, ReadyEngineBuilder, SyncedEngineBuilder
from .engine.configure import Configurator
from .engine.engine import IN_PROCESS_FACTORY as _IN_PROCESS_FACTORY
from .engine.engine import Engine
from .errors import (
    AccountBlockError,
    AccountGroupRegistrationError,
    ConfigureErrorKind,
    PolicyConfigureError,
    RejectError,
)
from .layout.records import ORDER_DTYPE, RESULT_DTYPE
from .param import AdjustmentAmount, Leverage, MonetaryAmount, PositionMode
from .pretrade import AccountControl, PostTradeResult
from .sharded.builder import SHARDED_FACTORY as _SHARDED_FACTORY

# The wiring: the builder (engine layer) makes both engines without importing either.
_builder.register_engine_factory(_builder.IN_PROCESS, _IN_PROCESS_FACTORY)
_builder.register_engine_factory(_builder.SHARDED, _SHARDED_FACTORY)
del _builder, _IN_PROCESS_FACTORY, _SHARDED_FACTORY

__version__ = "0.1.0"


def get_include() -> str:
    """The folder holding ``openpit_shm.h``, for ``gcc -I$(python -c ...)``."""
    from .layout.cheader import get_include as _get_include

    return _get_include()


__all__ = [
    "ORDER_DTYPE",
    "RESULT_DTYPE",
    "AccountBlockError",
    "AccountControl",
    "AccountGroupRegistrationError",
    "Accounts",
    "AdjustmentAmount",
    "Configurator",
    "ConfigureErrorKind",
    "Engine",
    "EngineBuilder",
    "ExecutionReport",
    "ExecutionReportFillDetails",
    "ExecutionReportOperation",
    "ExecutionReportPositionImpact",
    "FinancialImpact",
    "Instrument",
    "Leverage",
    "MonetaryAmount",
    "Mutation",
    "Order",
    "OrderMargin",
    "OrderOperation",
    "OrderPosition",
    "PolicyConfigureError",
    "PositionMode",
    "PostTradeResult",
    "ReadyEngineBuilder",
    "RejectError",
    "SyncedEngineBuilder",
    "core",
    "get_include",
    "param",
    "pretrade",
]


__all__ += [
    "AccountAdjustment",
    "AccountAdjustmentAccountPnlOperation",
    "AccountAdjustmentAmount",
    "AccountAdjustmentBalanceOperation",
    "AccountAdjustmentBounds",
    "AccountAdjustmentContext",
    "AccountAdjustmentPositionOperation",
    "account_adjustment",
]


# ------------------------------------------------------------------------- issue 11: market data
from . import marketdata  # noqa: E402

__all__ += ["marketdata"]
