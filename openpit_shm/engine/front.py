"""The public surface both engines share: ``Engine`` (in process) and ``ShardedEngine``.

Both answer openpit's engine API with the same result objects. What differs is
where an order is decided (a kernel call in this process, or the worker that
owns its account); what is the same lives here once: argument checks, the
accounts handle, the runtime settings handle, instrument registration and the
record format of the batch and shm doors, and the post-trade rule that a block
naming no account blocks the whole engine. Each engine supplies the few hooks
at the bottom (``_configurator``, ``_instrument_id``, ``_record_format_of``).
"""

from __future__ import annotations

from typing import Any

from ..layout.records import RecordFormat
from .accounts import Accounts, accounts_handle
from .outcomes import KILL_SWITCH_ENGINE_CAUSE

__all__ = ["ORDER_TYPE_ERROR", "REPORT_TYPE_ERROR", "EngineFront"]

ORDER_TYPE_ERROR = "order must inherit from openpit.Order"
REPORT_TYPE_ERROR = "report must inherit from openpit.ExecutionReport"


class EngineFront:
    """Base of both engines: the public methods whose behaviour does not depend on where
    orders are decided. Subclasses set ``_accounts``, ``_order_type``, ``_report_type``."""

    __slots__ = ()

    _accounts: Any
    _order_type: type
    _report_type: type

    # ---- checks ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        """Raise if the engine was closed (an in-process engine never is)."""

    def _check_order(self, order: Any) -> None:
        if not isinstance(order, self._order_type):
            raise TypeError(ORDER_TYPE_ERROR)

    def _check_report(self, report: Any) -> None:
        if not isinstance(report, self._report_type):
            raise TypeError(REPORT_TYPE_ERROR)

    def _kill_switch(self) -> None:
        """A post-trade block that names no account blocks every account (openpit's rule)."""
        self._accounts.block_engine(KILL_SWITCH_ENGINE_CAUSE)

    # ---- handles -----------------------------------------------------------------------------

    def accounts(self) -> Accounts:
        """The account groups and blocks handle (shares state with the engine)."""
        self._check_open()
        return accounts_handle(self._accounts)

    def configure(self) -> Any:
        """The runtime policy settings handle."""
        self._check_open()
        return self._configurator()

    # ---- openpit_shm extensions --------------------------------------------------------------

    def register_instrument(self, instrument: Any) -> int:
        """The instrument id that order records (batch and shm doors) use for ``instrument``.

        Ids are this engine's: records carry ``record_format.tag`` so that another
        engine refuses them instead of reading the id as one of its own.
        """
        self._check_open()
        return self._instrument_id(instrument._key)

    @property
    def record_format(self) -> RecordFormat:
        """The fixed-point scale and record tag of this engine's records (``openpit_shm.batch``)."""
        return self._record_format_of()

    # ---- what each engine supplies -----------------------------------------------------------

    def _configurator(self) -> Any:
        raise NotImplementedError

    def _instrument_id(self, key: tuple[str, str]) -> int:
        raise NotImplementedError

    def _record_format_of(self) -> RecordFormat:
        raise NotImplementedError
