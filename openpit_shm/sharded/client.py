"""ShardedEngine: the engine's API over shard workers, per order and per NumPy batch.

The same calls and result objects as ``Engine`` (``start_pre_trade``,
``request.execute()``, ``execute_pre_trade``, reservations, dry runs,
``apply_execution_report``, ``apply_account_adjustment``, ``accounts()``, ``configure()``,
``execute_batch``), answered by the worker that owns the order's account.
Texts come from a local replica of the builtins' configuration (the same
tables the workers decide with), so rejects read exactly as in process.
"""

from __future__ import annotations

import contextlib
import threading
from types import TracebackType
from typing import Any

import numpy as np

from ..builtins.record import Record
from ..core import ExecutionReport, Order
from ..engine.adjustments import check_adjustment_batch
from ..engine.drop_copy import NO_ACCOUNT_REJECT, answered_operation, has_account
from ..engine.front import EngineFront
from ..engine.outcomes import (
    FINALIZER_ENGINE_CAUSE,
    RecordReader,
    is_engine_record,
    latched_cause,
    outcome_unknown,
)
from ..engine.rows import RowMaker
from ..errors import ReservationLostError, ShardUnavailableError
from ..kernels.agent import rings_table
from ..kernels.client import (
    PUMP_CLOSED,
    PUMP_DONE,
    PUMP_STALE_FULL,
    UNANSWERED,
    group_by_shard,
    pump_batch,
)
from ..kernels.codes import (
    RSN_HANDLE_LOST,
    RSN_OUTCOME_UNKNOWN,
    RSN_SHARD_DOWN,
)
from ..layout.control import CTL_E_CLOSED
from ..layout.records import (
    MSG_COMMIT,
    MSG_DROP_COPY,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_EXECUTE,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    POLICY_ENGINE,
    REPORT_SCALE_MAX,
    REPORT_SCALE_SHIFT,
    RESULT_BLOCK_LATCHED,
    RESULT_DTYPE,
    RESULT_TEXTS,
    STATUS_OK,
    RecordFormat,
)
from ..layout.shard import shard_of
from ..param._compat import pyo3_too_many
from ..param.lock import Lock
from ..pretrade.adjustment_result import batch_result
from ..pretrade.drop_copy import DropCopyResult, drop_copy_result
from ..pretrade.rejects import AccountBlock, Reject
from ..pretrade.request import accepted_nothing_held, bare_reservation, held_reservation, request
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
from ..shm.discover import monitor_name
from .accounts import RemoteAccountsState
from .configure import sharded_configurator
from .figures import shard_figures
from .link import ShardLink, closed_error

__all__ = ["ShardedEngine", "assemble"]

_U64 = (1 << 64) - 1
_HANDLE_KINDS = (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK)  # ``ref`` is a handle, not the tag
_STALE_ROWS = 1024
_NO_ROW = (0, 0, 0, 0, 0, 0)  # (account, instrument, side, flags, price, amount) of a finalization


def _s64(v: int) -> int:
    """A u64 bit pattern as the int64 a record word holds."""
    return v - (1 << 64) if v >= 1 << 63 else v


def _order_scales(op: Any) -> int:
    """``price scale | amount scale << 8`` of an operation (0 for a value it lacks)."""
    price = op._price
    amount = op._trade_amount
    if amount is not None:
        amount = amount._quantity if amount._quantity is not None else amount._volume
    price_scale = 0 if price is None else price._s
    amount_scale = 0 if amount is None else amount._s
    if price_scale > REPORT_SCALE_MAX or amount_scale > REPORT_SCALE_MAX:
        return 0
    return price_scale | amount_scale << REPORT_SCALE_SHIFT


class ShardedEngine(EngineFront):
    """A pre-trade engine sharded by account over worker processes (see ``docs/sharded.md``).

    Build it with ``Engine.builder().account_sync().sharded(workers=N)...build()``.
    Use it as a context manager, or call ``close()``: that stops the workers and
    removes every shared-memory segment; every call after it raises
    ``EngineClosedError``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a ShardedEngine with Engine.builder().account_sync().sharded()")

    # ---- plumbing ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise closed_error()

    def _call(self, shard: int, op: str, args: Any = ()) -> Any:
        """One control request to one shard (serialized with restarts)."""
        self._check_open()
        try:
            with self._control_lock:
                self._check_open()
                return self._supervisor.channel(shard).call(op, args)
        except Exception:
            if self._closed:  # the engine closed under the call: its pipe and worker are gone
                raise closed_error() from None
            raise

    def _broadcast(self, op: str, args: Any = ()) -> list[Any]:
        return [self._call(k, op, args) for k in range(self._n)]

    def _instrument(self, key: tuple[str, str]) -> int:
        """The instrument id of (underlying, settlement), registered on every shard.

        The client's replica numbers instruments; every shard must number them
        alike (``_control_everywhere``).
        """
        iid = self._iids.get(key)
        if iid is None:
            with self._control_lock:
                iid = self._iids.get(key)
                if iid is None:
                    iid = self._replica.instrument_id(*key)
                    self._iids[key] = iid
                    self._control_everywhere("instrument", key, expect=iid)
        return iid

    def _control_everywhere(self, op: str, args: Any, expect: Any = None) -> None:
        """A control request every shard applies, in the order they were issued.

        Live shards apply it now; a shard that is down gets it from the
        supervisor before its restarted worker serves again, so no shard ever
        decides without a change the others have (all shards or none).
        """
        with self._control_lock:
            self._supervisor.queue_control(op, args, expect)
            for k in range(self._n):
                self._catch_up(k)

    def _catch_up(self, k: int) -> None:
        """Send shard ``k`` the control requests it has not applied yet (when it is up)."""
        if not self._pending[k] or not self._supervisor.alive(k):
            return
        with self._control_lock:
            self._check_open()
            self._supervisor.catch_up(k)

    def _roundtrip(
        self, shard: int, kind: int, row: tuple, ref: int = 0, pnl: int = 0, fee: int = 0
    ) -> tuple[list, Any]:
        """Send one request to ``shard``; its result records and texts payload."""
        link = self._links[shard]
        account, instrument, side, flags, price, amount = row
        if self._pending[shard]:
            self._catch_up(shard)
        if self._nothing_held and kind in (MSG_ORDER, MSG_EXECUTE):
            # All-builtin engines hold nothing in a reservation: commit in the kernel
            # and hand out a bare one, sparing a finalization message per order.
            flags |= ORDER_AUTO_COMMIT
        if kind not in _HANDLE_KINDS:  # the engine's record tag (``layout.records``)
            ref |= self._order_ref
        with link.lock:
            if self._closed:  # checked under the lock: close() unmaps the rings under it
                raise closed_error()
            if link.retry:
                link.send_retries()
            return link.exchange(
                _s64(account), instrument, kind, side, flags, price, amount, pnl, fee, ref
            )

    def _finalizer(self, shard: int, handle: int) -> Any:
        """``finalize(commit, defer=False)`` of a reservation the worker holds.

        It waits for the worker's answer: a custom mutation callback that
        fails there raises here and blocks the engine, as in process. A
        deferred finalization (garbage collection, which must neither block
        nor take a lock) goes out ahead of the next message to that shard.
        """
        link = self._links[shard]

        def finalize(commit: bool, defer: bool = False) -> None:
            if defer:
                link.retry.append((handle, commit))  # atomic under the GIL
                return
            kind = MSG_COMMIT if commit else MSG_ROLLBACK
            rows, payload = self._roundtrip(shard, kind, _NO_ROW, ref=handle)
            if payload is not None and payload[0] == "error":
                self._accounts.block_engine(FINALIZER_ENGINE_CAUSE)
                raise payload[1]
            if rows[0].status != STATUS_OK:
                raise self._finalize_error(shard, handle, rows[0])

        return finalize

    def _finalize_error(self, shard: int, handle: int, rec: Record) -> Exception:
        """The exception for a finalization the worker did not perform.

        Only engines with custom policies hand out worker-held reservations,
        and their mutations live in the worker's memory: a worker that is down,
        or restarted since, has lost them (``ReservationLostError``). Anything
        else means the handle was refused (``RuntimeError`` with its text).
        """
        if is_engine_record(rec, RSN_OUTCOME_UNKNOWN):
            return ReservationLostError(
                f"the worker of shard {shard} died while finalizing reservation {handle}: "
                "whether it was committed or rolled back is unknown"
            )
        if rec.policy == POLICY_ENGINE and rec.reason in (RSN_SHARD_DOWN, RSN_HANDLE_LOST):
            return ReservationLostError(
                f"the reservation was lost: the worker of shard {shard} that held it is gone "
                "(down or restarted); it was neither committed nor rolled back"
            )
        why = self._reader.answered(rec, None, None)
        return RuntimeError(f"reservation {handle} was not finalized: {why.reason}: {why.details}")

    def _shard(self, account: int) -> int:
        shard = self._shards.get(account)
        if shard is None:
            shard = self._shards[account] = shard_of(account, self._n)
        return shard

    def _row(self, order: Any) -> tuple[int, tuple, int]:
        """(shard, record fields, ``ref`` scales) of an order.

        The scales (``layout.records.order_ref``) let a custom-policy worker rebuild
        the order as written ("0.00", not "0"): its hooks see what they see in process.
        """
        a, _, _, side, flags, price, amount = self._rows.order(order)
        op = order._operation
        instrument = 0 if op is None else self._iids.get(op._instrument._key)
        if instrument is None:
            instrument = self._instrument(op._instrument._key)
        account = a & _U64
        return self._shard(account), (account, instrument, side, flags, price, amount), (
            0 if op is None else _order_scales(op)
        )

    # ---- reading answers ---------------------------------------------------------------------

    def _rejects(self, rows: list[Record], payload: Any, subject: Any) -> list[Reject]:
        return self._reader.answered_all(rows, payload, subject)

    # ---- pre-trade ---------------------------------------------------------------------------

    def start_pre_trade(self, order: Any) -> StartResult:
        self._check_order(order)
        shard, row, scales = self._row(order)
        rows, payload = self._roundtrip(shard, MSG_START, row, scales)
        if rows[0].status == STATUS_OK and rows[0].count == 0:
            return start_result(request(self, order, (shard, rows[0].reservation)), [])
        return start_result(None, self._rejects(rows, payload, order))

    def execute_request(self, order: Any, handle: tuple[int, int]) -> ExecuteResult:
        """``Request.execute()`` of a started order: its main stage on the owning shard."""
        shard, ref = handle
        rows, payload = self._roundtrip(shard, MSG_EXECUTE, (0, 0, 0, 0, 0, 0), ref)
        return self._executed(shard, rows, payload, order)

    def execute_pre_trade(self, order: Any) -> ExecuteResult:
        self._check_order(order)
        shard, row, scales = self._row(order)
        rows, payload = self._roundtrip(shard, MSG_ORDER, row, scales)
        return self._executed(shard, rows, payload, order)

    def _executed(self, shard: int, rows: list, payload: Any, order: Any) -> ExecuteResult:
        first = rows[0]
        if first[5] == STATUS_OK and first[7] == 0:  # (status, count: the per-order path)
            if first[1] == 0 and payload is None:
                return accepted_nothing_held()  # committed in the worker: nothing to finalize
            lock, adjustments = None, []
            if payload is not None and payload[0] == "reserved":
                lock, adjustments = Lock.from_json(payload[1]), list(payload[2])
            if first.reservation == 0:
                return execute_result(bare_reservation(lock, adjustments), [])
            finalize = self._finalizer(shard, first.reservation)
            reservation = held_reservation(None, [], lock, adjustments, remote=finalize)
            return execute_result(reservation, [])
        return execute_result(None, self._rejects(rows, payload, order))

    def apply_drop_copy(self, order: Any) -> DropCopyResult:
        """``Engine.apply_drop_copy`` on the shard that owns the order's account."""
        self._check_order(order)
        shard, row, scales = self._row(order)
        if not has_account(row[3]):
            return drop_copy_result(None, [NO_ACCOUNT_REJECT])
        rows, payload = self._roundtrip(shard, MSG_DROP_COPY, row, scales)
        lock = adjustments = None
        if payload is not None and payload[0] in ("reserved", "texts") and len(payload) >= 3:
            lock, adjustments = Lock.from_json(payload[-2]), list(payload[-1])
        return answered_operation(
            rows[0],
            lambda: [(rec.policy, r) for rec, r in zip(rows, self._rejects(rows, payload, order))],
            None, lambda h: self._finalizer(shard, h) if h else None, lock, adjustments,
        )  # fmt: skip

    def _dry(self, kind: int, order: Any) -> DryRunReport:
        self._check_order(order)
        shard, row, scales = self._row(order)
        rows, payload = self._roundtrip(shard, kind, row, scales)
        first = rows[0]
        if first.status == STATUS_OK and first.count == 0:
            return dry_run_report(None, Lock(), [], None)
        rejects = self._rejects(rows, payload, order)
        block = None
        for rec, r in zip(rows, rejects):
            if rec.flags & RESULT_BLOCK_LATCHED:
                block = latched_cause(r)
                break
        return dry_run_report(rejects, Lock(), [], block)

    def start_pre_trade_dry_run(self, order: Any) -> DryRunReport:
        return self._dry(MSG_DRY_START, order)

    def execute_pre_trade_dry_run(self, order: Any) -> DryRunReport:
        return self._dry(MSG_DRY_ORDER, order)

    # ---- post-trade --------------------------------------------------------------------------

    def apply_execution_report(self, report: Any) -> PostTradeResult:
        self._check_report(report)
        a, _, _, side, flags, pnl, fee, scales = self._rows.report(report)
        op = report._operation
        instrument = 0 if op is None else self._instrument(op._instrument._key)
        account = a & _U64
        shard = self._shard(account)
        ref = scales if scales >= 0 else 0
        rows, payload = self._roundtrip(
            shard, MSG_REPORT, (account, instrument, side, flags, 0, 0), ref, pnl, fee
        )
        first = rows[0]
        if is_engine_record(first, RSN_SHARD_DOWN):
            raise ShardUnavailableError(
                f"the report was not applied: the worker of shard {shard} is not running"
            )
        if first.count == 0:
            return post_trade_result([], [], [])
        blocks = [
            AccountBlock._trusted(r._policy, r._code, r._reason, r._details, r._user_data)
            for r in self._rejects(rows, payload, report)
        ]
        if op is None or op._account_id is None:  # no account: block the whole engine
            self._kill_switch()
        return post_trade_result(blocks, [], [])

    # ---- account adjustments -----------------------------------------------------------------

    def apply_account_adjustment(self, account_id: Any, adjustments: Any, *extra: Any) -> Any:
        """``Engine.apply_account_adjustment`` on the worker that owns the account.

        The batch runs there, through the worker's engine (custom policies and
        their mutations live in that process), between two batches of orders;
        the result objects are the in-process engine's. A shard that is down
        raises ``ShardUnavailableError`` ("not applied"); a worker that dies
        while running the batch raises the outcome-unknown error.
        """
        self._check_open()
        if extra:
            raise pyo3_too_many("Engine.apply_account_adjustment", 2, 2 + len(extra))
        key, items = check_adjustment_batch(account_id, adjustments)
        if not items:
            return batch_result(None, [], [], [])
        shard = self._shard(key & _U64)
        if self._pending[shard]:
            self._catch_up(shard)
        if not self._supervisor.alive(shard):
            raise ShardUnavailableError(
                f"the account adjustment was not applied: the worker of shard {shard} "
                "is not running"
            )
        try:
            answer = self._call(shard, "adjust", (account_id, items))
        except ShardUnavailableError as exc:
            raise outcome_unknown(shard) from exc
        cause, armed = answer[-2], answer[-1]
        if cause is not None:
            self._accounts.causes[key] = cause
        if armed:
            self._accounts.block_engine(FINALIZER_ENGINE_CAUSE)
        if answer[0] == "error":
            raise answer[1]
        _, failed_index, rejects, outcomes, blocks, _, _ = answer
        return batch_result(failed_index, rejects, outcomes, blocks)

    # ---- batches -----------------------------------------------------------------------------

    def batch_out(self, n: int) -> np.ndarray:
        """A reusable results array for ``execute_batch`` of up to ``n`` records."""
        self._check_open()
        return np.empty(n, dtype=RESULT_DTYPE)

    def execute_batch(self, records: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Run ``ORDER_DTYPE`` records on their shards; one ``RESULT_DTYPE`` result per record.

        Records are grouped by the shard of their account and pumped to every
        shard at once; each answer is the request's first record (``count``
        says how many rejects it got), as in the in-process batch door. A
        record of a shard that is down is answered ``SystemUnavailable`` (it
        was not applied); one a worker was deciding when it died is answered
        ``STATUS_ERROR`` / ``RSN_OUTCOME_UNKNOWN``. ``timeout`` bounds the
        time a shard makes no progress, not the whole batch.
        """
        self._check_open()
        if not isinstance(records, np.ndarray) or records.dtype != ORDER_DTYPE:
            raise TypeError("records must be a NumPy array of openpit_shm.ORDER_DTYPE")
        records = np.ascontiguousarray(records)
        n = records.shape[0]
        if out is None:
            out = self.batch_out(n)
        elif out.dtype != RESULT_DTYPE or out.shape[0] < n:
            raise ValueError("out must be a RESULT_DTYPE array with at least len(records) rows")
        result = out[:n]
        if n == 0:
            return result
        words = records.view(np.int64).reshape(n, 8)
        rows = result.view(np.int64).reshape(n, 8)
        rows[:, 2] = UNANSWERED
        for k in range(self._n):
            if self._pending[k]:
                self._catch_up(k)
        with self._batch_lock:
            for link in self._links:
                link.lock.acquire()
            try:
                self._check_open()  # under the locks: close() unmaps the rings under them
                code, counters = self._pump(words, rows)
            finally:
                for link in self._links:
                    link.lock.release()
        if code == PUMP_CLOSED:
            raise closed_error()
        if code != PUMP_DONE:
            assert code != PUMP_STALE_FULL
            raise ShardUnavailableError(
                f"only {counters[0]} of {n} records were answered: a shard made no progress "
                f"for {self._timeout:g} s (stuck worker, busy host)"
            )
        result["seq"] = records["seq"]
        result["flags"] &= 0xFF ^ RESULT_TEXTS  # the texts that followed are for objects only
        return result

    def _pump(self, words: np.ndarray, rows: np.ndarray) -> tuple[int, np.ndarray]:
        """``kernels.client.pump_batch`` over every link (their locks held); its outcome and
        counters. Each shard's records get the next sequence numbers of its link."""
        n = words.shape[0]
        order = np.empty(n, dtype=np.int64)
        starts = np.empty(self._n + 1, dtype=np.int64)
        group_by_shard(words, self._n, order, starts)
        links = self._links
        for link in links:
            if link.retry:
                link.send_retries()
        seqs = np.array([link.next_seqs(int(starts[k + 1] - starts[k]))
                         for k, link in enumerate(links)], dtype=np.int64)  # fmt: skip
        sent = np.zeros(self._n, dtype=np.int64)
        counters = np.zeros(3, dtype=np.int64)
        stale, stale_shard = self._stale, self._stale_shard
        while True:
            code = pump_batch(
                self._ring_table, self._capacity, words, order, starts, seqs, sent, rows,
                stale, stale_shard, counters, self._cancel, int(self._timeout * 1e9),
            )  # fmt: skip
            for i in range(int(counters[1])):
                links[int(stale_shard[i])].settle(Record.at(stale, i))
            counters[1] = 0
            if code != PUMP_STALE_FULL:
                break
        if code == PUMP_DONE:
            for k, link in enumerate(links):
                link.answered_below(int(seqs[k]))
        return code, counters

    # ---- handles -----------------------------------------------------------------------------

    # ---- EngineFront hooks (instrument ids are registered on every shard) -------------------

    def _configurator(self) -> Any:
        return sharded_configurator(self)

    def _instrument_id(self, key: tuple[str, str]) -> int:
        return self._instrument(key)

    def _record_format_of(self) -> RecordFormat:
        return self._record_format

    def stats(self) -> list[dict[str, Any]]:
        """Per shard, the figures ``openpit-shm stat`` shows (``sharded.figures``): records,
        batches, largest batch, queue depth, accepted, rejected, ``rejects`` by code,
        ``errors`` and ``errors_by_reason``, restarts, heartbeat age; plus what only the
        worker knows (``queue_depth`` per client slot, ``arena_bytes``), or ``down``."""
        self._check_open()
        words = self._topology.control.words
        out = []
        for k in range(self._n):
            figures = shard_figures(words, k)
            try:
                figures.update(self._call(k, "stats"))
            except ShardUnavailableError:
                figures["down"] = True
            out.append(figures)
        return out

    @property
    def monitor_name(self) -> str:
        """This engine's name in ``openpit-shm list`` / ``openpit-shm stat NAME``."""
        return monitor_name(self._topology.control)

    def external_client(self, slot: int = 1) -> dict[str, Any]:
        """What a C program needs to feed shard rings from client slot ``slot`` (1..).

        Returns the ring names per shard (requests it produces, results it
        consumes), the quote table's name and slots, the ring capacity, the shard
        count, the fixed-point scale,
        the engine's record ``tag`` (every order and report record carries it:
        ``opshm_order_ref(tag)`` in the C header) and the instrument ids;
        ``opshm_shard_of`` in the C header routes accounts exactly as Python does.
        These rings are the only segments of the engine with a name: state,
        control and the engine's own rings are unnamed (README, "What a
        producer can and cannot reach").
        """
        self._check_open()
        names = self._topology.names
        if not 1 <= slot < names.n_slots:
            raise ValueError(f"client slot must be in 1..{names.n_slots - 1}")
        return {
            "slot": slot,
            "n_shards": names.n_shards,
            "capacity": names.capacity,
            "scale": names.scale,
            "tag": self._record_format.tag,
            "request": list(names.request[slot]),
            "result": list(names.result[slot]),
            "instruments": {f"{u}/{s}": iid for (u, s), iid in self._iids.items()},
            # The quote table a C producer pushes into (``opshm_quote_attach``/``_push``):
            # named (0600) only with ``sharded(external_quotes=True)``, else "".
            "quotes": names.quotes,
            "quote_slots": names.quote_slots,
        }

    @property
    def workers(self) -> list[int]:
        """The worker pids, by shard."""
        return [w.process.pid for w in self._supervisor.workers]

    # ---- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the workers and remove every shared-memory segment (idempotent).

        Every later call raises ``EngineClosedError``, and so does a call in
        flight: the ring waits see the close flag and give up at once, and the
        rings are unmapped only after they have let go of them.
        """
        if self._closed:
            return
        self._closed = True
        self._cancel[0] = 1
        with self._batch_lock:
            for link in self._links:
                link.lock.acquire()
            try:
                try:
                    # A control call in flight fails once its worker is gone.
                    self._supervisor.stop()
                finally:
                    with self._control_lock:
                        # Python's mmap keeps a descriptor while any view lives: say so
                        # to monitors (``shm.discover``) rather than look alive.
                        self._topology.control.words[CTL_E_CLOSED] = 1
                        self._topology.close()
            finally:
                for link in self._links:
                    link.lock.release()

    def __enter__(self) -> ShardedEngine:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def assemble(
    *,
    registrations: list,
    replica: Any,
    topology: Any,
    supervisor: Any,
    settings: Any,
    idle: np.ndarray,
    timeout: float,
) -> ShardedEngine:
    """Wire a ShardedEngine (called by the builder once the workers are ready)."""
    engine = object.__new__(ShardedEngine)
    names = topology.names
    engine._closed = True  # until fully built
    engine._n = names.n_shards
    engine._capacity = names.capacity
    engine._timeout = timeout
    engine._topology = topology
    engine._supervisor = supervisor
    engine._registrations = registrations
    engine._entries = registrations
    engine._replica = replica
    engine._settings = settings
    engine._rows = RowMaker(replica)
    engine._record_format = replica.record_format  # every shard's tag (``build_sharded``)
    engine._order_ref = engine._record_format.order_ref
    engine._iids: dict[tuple[str, str], int] = dict(replica._instruments)
    engine._pending = supervisor.pending  # per shard: control requests it has not applied
    engine._nothing_held = not any(not getattr(e, "is_builtin", False) for e in registrations)
    engine._shards: dict[int, int] = {}  # account -> shard, memoized (the hash is Python ints)
    engine._control_lock = supervisor.control_lock  # shared with restarts (``catch_up``)
    engine._batch_lock = threading.Lock()
    #: The close flag every ring wait of this client polls (``kernels.client``).
    engine._cancel = np.zeros(1, dtype=np.int64)
    engine._links = [
        ShardLink(topology.request[0][k], topology.result[0][k], idle, timeout, engine._cancel)
        for k in range(names.n_shards)
    ]
    #: Stale answers a batch hands back to settle (``pump_batch``), and their shards.
    engine._stale = np.zeros((_STALE_ROWS, 8), dtype=np.int64)
    engine._stale_shard = np.zeros(_STALE_ROWS, dtype=np.int64)
    table = rings_table(names.n_shards)
    for k in range(names.n_shards):
        req, res = topology.request[0][k], topology.result[0][k]
        table[k] = (1, req.ctrl.ctypes.data, req.slots.ctypes.data, res.ctrl.ctypes.data,
                    res.slots.ctypes.data)  # fmt: skip
    engine._ring_table = table
    engine._accounts = RemoteAccountsState(names.n_shards, engine._call)
    supervisor.accounts_snapshot = engine._accounts.snapshot
    engine._reader = RecordReader(engine._accounts, replica.describe)
    engine._order_type = Order
    engine._report_type = ExecutionReport
    engine._closed = False
    return engine
