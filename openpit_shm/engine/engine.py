"""The Engine: one pre-trade pipeline over builtin kernels and custom Python policies.

Pre-trade (``start_pre_trade`` -> ``request.execute()``, or ``execute_pre_trade``):

1. block gate (account -> group -> engine-wide) in the kernel; a blocked order
   runs no policy;
2. start stage: every policy, in registration order; builtins are one fused
   kernel call; rejects are concatenated in registration order;
3. the first account-scope reject latches an ``AccountBlocked`` block;
4. main stage (``execute``): gate again, then every policy; a reject rolls the
   mutations back in reverse and latches like the start stage.

An engine whose policies are all builtin takes a fast path: one kernel call
per order for gate + start, and a reservation that holds nothing.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..adjustment_context import account_adjustment_context
from ..core import ExecutionReport, Order
from ..kernels.codes import ST_NEED_SPACE
from ..kernels.entries import START_AT, notice_if_cold
from ..layout.records import ORDER_HAS_OPERATION, ORDER_NO_ACCOUNT, RESULT_DTYPE, RecordFormat
from ..param import AccountGroupId
from ..param._compat import check_no_arguments, pyo3_too_many
from ..param._native import method_signature, positional_signature
from ..param.lock import Lock
from ..pretrade.adjustment_result import batch_result
from ..pretrade.context import account_control, context, post_trade_context
from ..pretrade.drop_copy import DropCopyResult
from ..pretrade.rejects import AccountBlock, Reject
from ..pretrade.request import accepted_nothing_held, held_reservation, request
from ..pretrade.results import (
    DryRunReport,
    ExecuteResult,
    PostTradeResult,
    StartResult,
    dry_run_report,
    execute_result,
    post_trade_result,
    start_result,
)
from .accounts import AccountsState
from .adjustments import AdjustmentRun, adjusting_entries, check_adjustment_batch, run_adjustments
from .builder import SYNC_ACCOUNT, SYNC_NONE, EngineBuilder, EngineFactory, _Settings
from .configure import configurator
from .drop_copy import apply_drop_copy
from .front import ORDER_TYPE_ERROR, REPORT_TYPE_ERROR, EngineFront
from .holding import fill_post_trade, holding_door
from .outcomes import (
    FINALIZER_ENGINE_CAUSE,
    RecordReader,
    latched_cause,
)
from .registry import BuiltinEntry, CustomEntry, Registration, validate_registrations
from .rows import RowMaker
from .stages import custom_main, custom_post_trade, custom_start, run_finalizers

if TYPE_CHECKING:
    from .configure import Configurator

__all__ = ["IN_PROCESS_FACTORY", "Engine", "build_engine"]

log = logging.getLogger(__name__)

_NO_CUSTOM_LATCH = 255  # the kernel may latch its own first account-scope reject


def _merge(kernel: list[tuple[int, Reject]], custom: list[tuple[int, Reject]]) -> list[Reject]:
    if not custom:
        return [r for _, r in kernel]
    if not kernel:
        return [r for _, r in custom]
    return [r for _, r in sorted(kernel + custom, key=lambda pair: pair[0])]


class Engine(EngineFront):
    """Pre-trade risk engine; build it with ``Engine.builder()``."""

    __slots__ = (
        "__weakref__",
        "_accounts",
        "_book",
        "_clock",
        "_customs",
        "_entries",
        "_holding",
        "_order_type",
        "_out",
        "_out_addr",
        "_reader",
        "_record_door",
        "_report_type",
        "_rows",
        "_settings",
        "_start_at",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'openpit.Engine' instances")

    @staticmethod
    def builder(*args: Any, **kwargs: Any) -> EngineBuilder:
        """Start building an engine: choose a sync mode, register policies, ``build()``."""
        check_no_arguments("Engine.builder", args, kwargs)
        return EngineBuilder()

    # ---- pre-trade ---------------------------------------------------------------------------

    def start_pre_trade(self, order: Any) -> StartResult:
        """Run the start stage; on success the result carries a single-use ``request``."""
        if not isinstance(order, self._order_type):
            raise TypeError(ORDER_TYPE_ERROR)
        row = self._rows.order(order)
        rejects = self._start(order, row, False)
        if rejects:
            return start_result(None, rejects)
        return start_result(request(self, order, row), [])

    def execute_pre_trade(self, order: Any) -> ExecuteResult:
        """Start stage then main stage; the result holds a reservation or the rejects."""
        if not isinstance(order, self._order_type):
            raise TypeError(ORDER_TYPE_ERROR)
        row = self._rows.order(order)
        if self._holding is not None and not self._customs:
            return self._holding.execute(self, order)
        if not self._customs:
            # The hot path: one compiled call for gate + every builtin's start stage.
            book = self._book
            # ``_rows.order`` wrote the order record into the Book's request view.
            n = self._start_at(
                book.request_addr, self._out_addr, self._clock(), False, _NO_CUSTOM_LATCH, True
            )
            if n == 0:
                return accepted_nothing_held()
            if n == ST_NEED_SPACE:  # the arena must grow first; nothing was changed
                n = book.start(self._out, *row, self._clock(), False, _NO_CUSTOM_LATCH, True)
                if n == 0:
                    return accepted_nothing_held()
            return execute_result(None, [r for _, r in self._reader.rejects(n, order)])
        rejects = self._start(order, row, False)
        if rejects:
            return execute_result(None, rejects)
        return self.execute_request(order, row)

    def start_pre_trade_dry_run(self, order: Any) -> DryRunReport:
        """The start stage as a verdict, with no state change (no budget spent, no block)."""
        if not isinstance(order, self._order_type):
            raise TypeError(ORDER_TYPE_ERROR)
        row = self._rows.order(order)
        rejects, block = self._dry_start(order, row)
        return dry_run_report(rejects, self._new_lock(), [], block)

    def execute_pre_trade_dry_run(self, order: Any) -> DryRunReport:
        """Start and main stage as a verdict; main-stage mutations are dropped, never finalized."""
        if not isinstance(order, self._order_type):
            raise TypeError(ORDER_TYPE_ERROR)
        row = self._rows.order(order)
        if self._holding is not None and not self._customs:
            return self._holding.dry(self, order)  # the kernels' dry run, Spot Funds included
        rejects, block = self._dry_start(order, row)
        if rejects:
            return dry_run_report(rejects, self._new_lock(), [], block)
        main = custom_main(self._customs, self._context(row[0]), order, True)
        if main.error is not None:
            raise main.error
        lock = self._new_lock(main.lock_entries)
        if main.rejects:
            rejects = [r for _, r in main.rejects]
            return dry_run_report(rejects, lock, [], self._would_block(row, rejects))
        return dry_run_report(None, lock, main.adjustments, None)

    def apply_drop_copy(self, order: Any) -> DropCopyResult:
        """Record an order executed elsewhere: rejects do not enforce (``engine.drop_copy``)."""
        return apply_drop_copy(self, order)

    # ---- stages ------------------------------------------------------------------------------

    def _start(self, order: Any, row: tuple, dry: bool) -> list[Reject]:
        """Gate + start stage of every policy; latches the first account-scope reject."""
        book, out = self._book, self._out
        account = row[0]
        if not self._customs:
            n = book.start(out, *row, self._clock(), dry, _NO_CUSTOM_LATCH, True)
            return [r for _, r in self._reader.rejects(n, order)] if n else []
        n = book.gate(out, account, row[4])
        if n:
            return [r for _, r in self._reader.rejects(n, order)]
        custom, error = custom_start(self._customs, self._context(account), order, dry)
        first_custom = next(
            (i for i, r in custom if r._scope == "account"), 0 if error else _NO_CUSTOM_LATCH
        )
        n = book.start(out, *row, self._clock(), dry, first_custom, False)
        kernel = self._reader.rejects(n, order) if n else []
        if error is not None:
            raise error
        rejects = _merge(kernel, custom)
        if custom and first_custom != _NO_CUSTOM_LATCH and not self._reader.latched:
            self._latch_first(row, rejects)
        return rejects

    def execute_request(self, order: Any, row: tuple) -> ExecuteResult:
        """Main stage of a started order (``Request.execute``)."""
        account = row[0]
        n = self._book.gate(self._out, account, row[4])
        if n:
            return execute_result(None, [r for _, r in self._reader.rejects(n, order)])
        if not self._customs:
            return accepted_nothing_held()
        main = custom_main(self._customs, self._context(account), order, False)
        if main.error is not None:
            run_finalizers(main.mutations, commit=False)
            raise main.error
        if main.rejects:
            rejects = [r for _, r in main.rejects]
            self._latch_first(row, rejects)
            self.finalize(main.mutations, commit=False)
            return execute_result(None, rejects)
        lock = self._new_lock(main.lock_entries) if main.lock_entries else None
        return execute_result(held_reservation(self, main.mutations, lock, main.adjustments), [])

    def _dry_start(self, order: Any, row: tuple) -> tuple[list[Reject] | None, AccountBlock | None]:
        book, out = self._book, self._out
        account = row[0]
        n = book.gate(out, account, row[4])
        if n:
            return [r for _, r in self._reader.rejects(n, order)], None
        custom, error = custom_start(self._customs, self._context(account), order, True)
        n = book.start(out, *row, self._clock(), True, 0, False)
        kernel = self._reader.rejects(n, order) if n else []
        if error is not None:
            raise error
        rejects = _merge(kernel, custom)
        if not rejects:
            return None, None
        return rejects, self._would_block(row, rejects)

    # ---- blocks ------------------------------------------------------------------------------

    def _latch_first(self, row: tuple, rejects: Sequence[Reject]) -> None:
        if not _has_account(row[4]):
            return  # openpit latches nothing for an order without an account
        for r in rejects:
            if r._scope == "account":
                self._accounts.latch(row[0], latched_cause(r))
                return

    def _would_block(self, row: tuple, rejects: Sequence[Reject]) -> AccountBlock | None:
        if not _has_account(row[4]) or self._book.is_account_blocked(row[0]):
            return None
        for r in rejects:
            if r._scope == "account":
                return latched_cause(r)
        return None

    def finalize(self, mutations: Sequence[Any], commit: bool) -> None:
        """Commit or roll back a reservation's mutations (every callback runs).

        A failing callback arms the engine-wide block (nobody can bound the
        damage), then its error is raised. A serialized engine runs this under
        its lock, like every other custom hook.
        """
        error = run_finalizers(mutations, commit)
        if error is not None:
            self.on_finalizer_failure()
            raise error

    def on_finalizer_failure(self) -> None:
        """A mutation callback failed: nobody can bound the damage, so block every account."""
        self._accounts.block_engine(FINALIZER_ENGINE_CAUSE)

    def _control_block(self, account: int, block: AccountBlock) -> None:
        self._accounts.latch(account, block)

    def _context(self, account: int) -> Any:
        return context(account_control(account, self._control_block), self._group_id(account))

    def _group_id(self, account: int) -> Any:
        gid = self._accounts.group_of.get(account)
        if gid is None:
            return None
        return AccountGroupId.from_int(gid)

    @staticmethod
    def _new_lock(entries: Sequence[tuple[int, Any]] = ()) -> Any:
        lock = Lock()
        for gid, price in entries:
            lock.push(gid, price)
        return lock

    # ---- post-trade --------------------------------------------------------------------------

    def apply_execution_report(self, report: Any) -> PostTradeResult:
        """Fan a report out to every policy; record the first block it produces."""
        if not isinstance(report, self._report_type):
            raise TypeError(REPORT_TYPE_ERROR)
        row = self._rows.report(report)
        account, underlying, settlement, side, flags, pnl, fee, scales = row
        has_account = _has_account(flags)
        if not self._customs and self._holding is None:
            n = self._book.apply_report(
                self._out, account, underlying, settlement, side, flags, pnl, fee, has_account,
                scales,
            )  # fmt: skip
            if n == 0:
                return _NOTHING_HAPPENED
            blocks = [b for _, b in self._reader.blocks(n, report)]
            if not has_account:
                self._kill_switch()
            return post_trade_result(blocks, (), ())
        n = self._book.apply_report(
            self._out, account, underlying, settlement, side, flags, pnl, fee, False, scales
        )
        kernel_blocks = self._reader.blocks(n, report) if n else []
        ctx = post_trade_context(self._group_id(row[0]) if has_account else None)
        custom = custom_post_trade(self._customs, ctx, report)
        if self._holding is not None:  # Spot Funds' fill (engine.holding.report_fill)
            fill_post_trade(self._holding, report, self._accounts, row[0], has_account, custom,
                            self._clock())
        merged = sorted(kernel_blocks + custom.blocks, key=lambda pair: pair[0])
        blocks = [b for _, b in merged]
        if blocks:
            if has_account:
                self._accounts.latch(row[0], blocks[0])
            else:
                self._kill_switch()
        if custom.error is not None:
            raise custom.error
        pnls = [p for _, p in sorted(custom.pnls, key=lambda pair: pair[0])]
        adjustments = [a for _, a in sorted(custom.adjustments, key=lambda pair: pair[0])]
        return post_trade_result(blocks, pnls, adjustments)

    # ---- account adjustments -----------------------------------------------------------------

    def apply_account_adjustment(self, account_id: Any, adjustments: Any, *extra: Any) -> Any:
        """Run a batch of adjustments through every adjusting policy (``engine.adjustments``).

        All or nothing: a reject stops the batch and rolls every mutation back in
        reverse (``ok=False``, ``failed_index``); success commits them forward,
        then latches the blocks the policies reported (the first cause wins) and
        returns them with the outcomes. No block gate: a blocked account is
        adjusted too, and an account-scope reject latches nothing.
        """
        if extra:  # PyO3's count (without self); off the per-order path, so emulated
            raise pyo3_too_many("Engine.apply_account_adjustment", 2, 2 + len(extra))
        key, items = check_adjustment_batch(account_id, adjustments)
        if not items:
            return batch_result(None, [], [], [])
        ctx = account_adjustment_context(
            account_control(key, self._control_block), self._group_id(key)
        )
        run = run_adjustments(adjusting_entries(self._entries), ctx, account_id.value, items)
        return self._settle_adjustments(key, run)

    def _settle_adjustments(self, account: int, run: AdjustmentRun) -> Any:
        """Roll back or commit a batch's mutations, latch its blocks, build the result.

        As in openpit: a hook's exception wins over a finalizer's; a failing
        finalizer arms the engine-wide block (``finalize``) and its error is raised
        once the blocks of a committed batch are latched.
        """
        if run.stopped:
            failure = run_finalizers(run.mutations, commit=False)
            if failure is not None:
                self.on_finalizer_failure()
            if run.error is not None:
                raise run.error
            if failure is not None:
                raise failure
            return batch_result(run.failed_index, run.rejects, [], [])
        failure = run_finalizers(run.mutations, commit=True)
        for block in run.account_blocks:
            self._accounts.latch(account, block)
        if failure is not None:
            self.on_finalizer_failure()
            raise failure
        return batch_result(None, [], run.outcomes, run.account_blocks)

    # ---- EngineFront hooks ---------------------------------------------------------------------

    def _configurator(self) -> Configurator:
        return configurator(self)

    def _instrument_id(self, key: tuple[str, str]) -> int:
        underlying, settlement = key
        return self._book.instrument_id(underlying, settlement)

    def _record_format_of(self) -> RecordFormat:
        return self._book.record_format

    # ---- batches -----------------------------------------------------------------------------

    def execute_batch(self, records: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Run ``ORDER_DTYPE`` records; one ``RESULT_DTYPE`` result per request (see batch)."""
        from .batch import execute_batch

        return execute_batch(self, records, out)

    def batch_out(self, n: int) -> np.ndarray:
        """A reusable results array for ``execute_batch`` of up to ``n`` records."""
        from .batch import batch_out

        return batch_out(self, n)


#: The result of a report that blocked nothing: one shared instance (a PostTradeResult
#: is read-only, its lists are copies), so keeping many results costs the cyclic GC
#: nothing (it halved the per-report rate of a loop that collected 100k results).
_NOTHING_HAPPENED = post_trade_result((), (), ())


def _has_account(flags: int) -> bool:
    return flags & ORDER_HAS_OPERATION != 0 and flags & ORDER_NO_ACCOUNT == 0


# inspect reports openpit's signatures; the catch-alls only raise PyO3's argument errors.
Engine.builder.__signature__ = positional_signature()  # type: ignore[attr-defined]
Engine.apply_account_adjustment.__signature__ = method_signature("account_id", "adjustments")  # type: ignore[attr-defined]


class _SerializedEngine(Engine):
    """An engine whose every call holds one re-entrant lock.

    ``full_sync()`` promises it; an in-process ``account_sync()`` engine needs
    it too, because every call shares one kernel results buffer (the kernels
    hold the GIL anyway, so only custom hooks lose parallelism). Reservation
    finalizers (``finalize``) take the same lock: a custom policy's state needs
    no lock of its own.
    """

    __slots__ = ("_lock",)


def _locked(name: str) -> Any:
    method = getattr(Engine, name)

    def call(self: _SerializedEngine, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


for _name in (
    "start_pre_trade",
    "execute_pre_trade",
    "start_pre_trade_dry_run",
    "execute_pre_trade_dry_run",
    "apply_drop_copy",
    "execute_request",
    "apply_execution_report",
    "apply_account_adjustment",
    "execute_batch",
    "register_instrument",
    "finalize",
):
    setattr(_SerializedEngine, _name, _locked(_name))


#: Builds slower than this are logged (with their size); installs log their own progress.
SLOW_BUILD_S = 1.0


def log_slow_build(what: str, registrations: list[Registration], started: float) -> None:
    """Log a build that took longer than ``SLOW_BUILD_S`` (``started``: its ``perf_counter``)."""
    seconds = time.perf_counter() - started
    if seconds >= SLOW_BUILD_S:
        n = len(registrations)
        log.info("built %s with %d polic%s in %.1f s", what, n, "y" if n == 1 else "ies", seconds)


def build_engine(registrations: list[Registration], settings: _Settings) -> Engine:
    """Validate registrations and assemble an Engine (called by ``ReadyEngineBuilder.build``)."""
    from ..builtins.book import Book  # lazy: Numba kernel modules load when an engine is built

    started = time.perf_counter()
    validate_registrations(registrations)
    notice_if_cold("an in-process engine's per-order kernel", [START_AT])
    builtins = [e for e in registrations if isinstance(e, BuiltinEntry)]
    book = Book.create(builtins, n_policies=len(registrations), scale=settings.scale)
    engine = _assemble(registrations, settings, book, serialized=settings.sync != SYNC_NONE)
    log_slow_build("an in-process engine", registrations, started)
    return engine


def build_engine_over(registrations: list[Registration], book: Any) -> Engine:
    """An ``account_sync`` engine over an existing Book (a shard worker's, in shared memory).

    Not serialized: a worker calls its engine from one thread only.
    """
    validate_registrations(registrations)
    settings = _Settings()
    settings.sync = SYNC_ACCOUNT
    settings.scale = book.scale
    return _assemble(registrations, settings, book, serialized=False)


def _start_at_on_first_call(engine: Engine) -> Any:
    """Stands in for ``engine._start_at`` until the first per-order decision compiles the kernel.

    A batch-only engine, or a shard worker that decides in Numba, never
    compiles it. The stand-in replaces itself (through a weak reference: no
    cycle keeps the engine alive) so later calls go straight to the kernel.
    """
    from ..builtins.book import Book  # lazy: Numba kernel modules load when an engine is built

    ref = weakref.ref(engine)

    def start_at(*args: Any) -> Any:
        kernel = Book.start_kernel()
        owner = ref()
        if owner is not None:
            owner._start_at = kernel
        return kernel(*args)

    return start_at


def _assemble(
    registrations: list[Registration], settings: _Settings, book: Any, serialized: bool
) -> Engine:
    customs = [e for e in registrations if isinstance(e, CustomEntry)]
    engine = object.__new__(_SerializedEngine if serialized else Engine)
    if serialized:
        engine._lock = threading.RLock()
    engine._settings = settings
    engine._entries = list(registrations)
    engine._customs = customs
    engine._book = book
    engine._clock = settings.clock
    engine._accounts = AccountsState(book)
    engine._out = np.zeros(len(registrations) + 2, dtype=RESULT_DTYPE)
    engine._reader = RecordReader(engine._accounts, book.describe, engine._out)
    engine._rows = RowMaker(book, requests=True)
    engine._start_at = _start_at_on_first_call(engine)
    engine._out_addr = book.out_addr(engine._out)
    engine._record_door = None
    engine._order_type = Order
    engine._report_type = ExecutionReport
    engine._holding = holding_door(engine, registrations, book)
    return engine


#: What ``ReadyEngineBuilder.build()`` calls for an in-process engine (wired in ``openpit_shm``).
IN_PROCESS_FACTORY = EngineFactory(build_engine)
