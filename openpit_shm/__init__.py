"""openpit_shm: an openpit-compatible pre-trade risk engine, fast where it counts.

``import openpit_shm as openpit`` runs programs written for openpit 0.10. The
builtin limit policies are Numba kernels over NumPy state; the same engine is
reachable per order (openpit's objects), per NumPy batch (``ORDER_DTYPE``
records) and, sharded over worker processes, through shared-memory rings that
C programs can feed (``get_include()`` gives the header's folder).
"""

from __future__ import annotations

from . import core, param, pretrade
from .core import (
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
from .engine.accounts import Accounts
from .engine.builder import EngineBuilder, ReadyEngineBuilder, SyncedEngineBuilder
from .engine.configure import Configurator
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


# ----------------------------------------------------------------------------- issue 11 exports
from . import account_adjustment  # noqa: E402
from .account_adjustment import (  # noqa: E402
    AccountPnlOperation as AccountAdjustmentAccountPnlOperation,
)
from .account_adjustment import Adjustment as AccountAdjustment  # noqa: E402
from .account_adjustment import Amount as AccountAdjustmentAmount  # noqa: E402
from .account_adjustment import (  # noqa: E402
    BalanceOperation as AccountAdjustmentBalanceOperation,
)
from .account_adjustment import Bounds as AccountAdjustmentBounds  # noqa: E402
from .account_adjustment import (  # noqa: E402
    PositionOperation as AccountAdjustmentPositionOperation,
)
from .adjustment_context import AccountAdjustmentContext  # noqa: E402

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
