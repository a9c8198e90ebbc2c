"""Record messages through the object pipeline: the door for engines with custom policies.

The kernels (``Book.process``) decide records of engines whose policies are
all builtin. When custom Python policies are registered, each record must
become a real ``Order`` (or ``ExecutionReport``) and run through the engine's
object pipeline so the custom hooks see objects. ``RecordDoor.answer`` does
that for one record and returns its result records, like the kernels write
them (one per reject, or one if accepted), plus the texts a record cannot
hold (reject strings, or the exception a hook raised). The batch door keeps
each request's first record; a shard worker sends them all.

Reservations and started requests live here, in this process's memory, under
``layout.handles`` handles: this shard, the client slot that asked, the
door's ``generation`` (a shard worker's incarnation) and a running number.
Only the owning client may use a handle; one from before a worker restart is
refused as lost (its reservation died with the old worker).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import core, param
from ..kernels.codes import (
    RSN_BAD_HANDLE,
    RSN_BAD_KIND,
    RSN_HANDLE_LOST,
    RSN_WRONG_ENGINE,
    RSN_WRONG_SHARD,
)
from ..kernels.fields import foreign_tag
from ..kernels.reservations import res_refusal
from ..layout.handles import HANDLE_GEN_BITS, HANDLE_INDEX_LIMIT, handle_generation, make_handle
from ..layout.records import (
    CODE_INVALID_FIELD_VALUE,
    CODE_NUMBER,
    CODE_OTHER,
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
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    ORDER_NO_SIDE,
    ORDER_VOLUME,
    POLICY_ENGINE,
    RECORD_TAG_SHIFT,
    REPORT_HAS_FINANCIAL,
    RESULT_ACCOUNT_BLOCKED,
    RESULT_BLOCK_LATCHED,
    RESULT_COMMITTED,
    RESULT_DRY_RUN,
    RESULT_SCOPE_ACCOUNT,
    SIDE_BUY,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
    ref_scales,
)
from ..layout.shard import shard_of
from ..layout.state import H_N_SHARDS, H_SHARD_ID, SH_RECORD_TAG
from ..param import AccountId, Side

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["Answer", "RecordDoor", "fixed_decimal"]

_U64 = (1 << 64) - 1
#: ``RESULT_DTYPE`` field order of one result row (``Answer.rows`` items).
ROW_FIELDS = (
    "seq", "reservation", "code", "policy", "reason", "status", "flags", "count", "index",
    "d0", "d1", "d2", "d3", "d4",
)  # fmt: skip


def fixed_decimal(value: int, scale: int, shown: int = -1) -> Decimal:
    """The decimal equal to ``value / 10**scale``: with ``shown`` decimals when that is
    enough to hold it (the scale the producer wrote it with), else its shortest form."""
    whole, frac = divmod(value, 10**scale)
    exact = Decimal(whole) if frac == 0 else Decimal(value).scaleb(-scale).normalize()
    if shown > 0 and shown > -exact.as_tuple().exponent:
        return exact.quantize(Decimal(1).scaleb(-shown))
    return exact


def _side(rec: Any, flags: int) -> Any:
    """The Side of a well-formed record (None when flagged absent)."""
    if flags & ORDER_NO_SIDE:
        return None
    return Side.BUY if int(rec["side"]) == SIDE_BUY else Side.SELL


def _account(rec: Any, flags: int) -> Any:
    if flags & ORDER_NO_ACCOUNT:
        return None
    return AccountId.from_int(int(rec["account"]) & _U64)


class Answer:
    """The result rows of one request and what they cannot carry.

    ``rows``: tuples in ``ROW_FIELDS`` order. ``texts``: per row, the
    ``(policy, code, reason, details, scope, user_data)`` of its reject when
    the kernels' tables cannot rebuild it (custom rejects), else None.
    ``error``: the exception a hook raised (the request then has one error row).
    ``reserved``: what an accepted order's reservation carries besides its handle.
    """

    __slots__ = ("error", "reserved", "rows", "texts")

    def __init__(self) -> None:
        self.rows: list[tuple[int, ...]] = []
        self.texts: list[tuple | None] = []
        self.error: BaseException | None = None
        #: (lock JSON, account adjustments) of an accepted order's reservation, when non-empty.
        self.reserved: tuple[str, list[Any]] | None = None

    def ok(self, seq: int, reservation: int = 0, flags: int = 0) -> Answer:
        self.rows.append((seq, reservation, 0, 0, 0, STATUS_OK, flags, 0, 0, 0, 0, 0, 0, 0))
        self.texts.append(None)
        return self

    def fail(self, seq: int, code: int, reason: int, d0: int, d1: int = 0, d2: int = 0) -> Answer:
        self.rows.append(
            (seq, 0, code, POLICY_ENGINE, reason, STATUS_ERROR, 0, 1, 0, d0, d1, d2, 0, 0)
        )
        self.texts.append(None)
        return self

    def rejects(
        self, seq: int, status: int, items: list[Any], index_of: Any, flags: int, latched: int = -1
    ) -> Answer:
        """One row per reject; row ``latched`` carries ``RESULT_BLOCK_LATCHED``."""
        for i, r in enumerate(items):
            scope = RESULT_SCOPE_ACCOUNT if str(r.scope) == "account" else 0
            latch = RESULT_BLOCK_LATCHED if i == latched else 0
            self.rows.append(
                (seq, 0, CODE_NUMBER[str(r.code)], index_of(r.policy), 0, status,
                 flags | scope | latch, len(items), i, 0, 0, 0, 0, 0)
            )  # fmt: skip
            self.texts.append(
                (r.policy, str(r.code), r.reason, r.details, str(r.scope), r.user_data)
            )
        return self


class RecordDoor:
    """Answers ``ORDER_DTYPE`` records through one engine's object pipeline.

    ``generation``: what this door's handles carry in their generation field
    (a shard worker passes its incarnation, so handles of an earlier worker
    are recognized as lost).
    """

    def __init__(self, engine: Engine, generation: int = 0) -> None:
        self.engine = engine
        self._names = {e.name: e.index for e in engine._entries}
        self._shard = int(engine._book.state[H_SHARD_ID])
        self._generation = generation % (1 << HANDLE_GEN_BITS)
        self._next = 1
        self._open: dict[int, Any] = {}  # handle -> Reservation | Request

    def _index(self, policy: str) -> int:
        return self._names.get(policy, POLICY_ENGINE)

    def _handle(self, obj: Any, client: int) -> int:
        """A fresh handle of ``client`` for ``obj`` (numbers wrap; a live one is skipped)."""
        while True:
            h = make_handle(self._shard, client, self._generation, self._next)
            self._next = self._next + 1 if self._next + 1 < HANDLE_INDEX_LIMIT else 1
            if h not in self._open:
                break
        self._open[h] = obj
        return h

    def _refused(self, seq: int, handle: int, client: int, answer: Answer) -> bool:
        """Write the error row of a handle ``client`` may not use; False if it may use it."""
        rsn, d1, d2 = res_refusal(self.engine._book.state, handle, client)
        if rsn == 0 and handle_generation(handle) != self._generation:
            rsn, d1, d2 = RSN_HANDLE_LOST, handle_generation(handle), self._generation
        if rsn == 0:
            return False
        answer.fail(seq, CODE_OTHER, int(rsn), handle, int(d1), int(d2))
        return True

    # -- record -> object ----------------------------------------------------------------

    def _malformed(self, rec: Any, answer: Answer) -> bool:
        """Whether a field of ``rec`` is malformed (then an error row is written).

        The kernels' check (``Book.field_fault``), so every door refuses the same records.
        """
        book = self.engine._book
        code, reason, detail = book.field_fault(
            int(rec["instrument"]), int(rec["kind"]), int(rec["side"]), int(rec["flags"]),
            int(rec["amount"]),
        )  # fmt: skip
        if code:
            answer.fail(int(rec["seq"]), code, reason, detail)
        return code != 0

    def _instrument(self, rec: Any) -> Any:
        return core.Instrument(*self.engine._book.instrument_assets(int(rec["instrument"])))

    def order(self, rec: Any, answer: Answer) -> Any:
        """The ``Order`` a record describes, or None after writing an error row."""
        if self._malformed(rec, answer):
            return None
        flags = int(rec["flags"])
        if not flags & ORDER_HAS_OPERATION:
            return core.Order(operation=None)
        scale = self.engine._book.scale
        price_shown, amount_shown = ref_scales(int(rec["ref"]))
        trade = None
        if not flags & ORDER_NO_AMOUNT:
            value = fixed_decimal(int(rec["amount"]), scale, amount_shown)
            trade = (
                param.TradeAmount.volume(param.Volume(value))
                if flags & ORDER_VOLUME
                else param.TradeAmount.quantity(param.Quantity(value))
            )
        price = (
            param.Price(fixed_decimal(int(rec["price"]), scale, price_shown))
            if flags & ORDER_HAS_PRICE
            else None
        )
        return core.Order(
            operation=core.OrderOperation(
                instrument=self._instrument(rec),
                account_id=_account(rec, flags),
                side=_side(rec, flags),
                trade_amount=trade,
                price=price,
            )
        )

    def report(self, rec: Any, answer: Answer) -> Any:
        """The ``ExecutionReport`` a record describes, or None after writing an error row."""
        if self._malformed(rec, answer):
            return None
        flags = int(rec["flags"])
        operation = financial = None
        if flags & ORDER_HAS_OPERATION:
            operation = core.ExecutionReportOperation(
                instrument=self._instrument(rec),
                account_id=_account(rec, flags),
                side=_side(rec, flags),
            )
        if flags & REPORT_HAS_FINANCIAL:
            scale = self.engine._book.scale
            financial = core.FinancialImpact(
                pnl=param.Pnl(fixed_decimal(int(rec["pnl"]), scale)),
                fee=param.Fee(fixed_decimal(int(rec["fee"]), scale)),
            )
        return core.ExecutionReport(operation=operation, financial_impact=financial)

    # -- one record ----------------------------------------------------------------------

    def answer(self, rec: Any, client: int = 0) -> Answer:
        """Run one record from client slot ``client``; hook exceptions go to ``Answer.error``."""
        answer = Answer()
        try:
            self._run(rec, client, answer)
        except Exception as exc:
            answer.rows.clear()
            answer.texts.clear()
            answer.fail(int(rec["seq"]), CODE_OTHER, 0, 0)
            answer.error = exc
        return answer

    def _executed(self, seq: int, result: Any, auto: bool, client: int, answer: Answer) -> None:
        if not result.ok:
            answer.rejects(seq, STATUS_REJECTED, result.rejects, self._index, 0)
        elif auto:
            result.reservation.commit()
            answer.ok(seq, flags=RESULT_COMMITTED)
        else:
            reservation = result.reservation
            answer.ok(seq, reservation=self._handle(reservation, client))
            lock, adjustments = reservation.lock, reservation.account_adjustments
            if len(lock) or adjustments:
                answer.reserved = (lock.to_json(), adjustments)

    def _dropped(self, seq: int, result: Any, auto: bool, client: int, answer: Answer) -> None:
        """The rows of a drop copy, as the kernels write them (``drop_copy_answer``)."""
        if not result.ok:
            answer.rejects(seq, STATUS_REJECTED, result.rejects, self._index, 0)
            return
        op = result.operation
        flags = RESULT_ACCOUNT_BLOCKED if op.is_account_blocked else 0
        block = op.account_block
        lock, adjustments = op.lock, op.account_adjustments
        handle = 0
        if auto:
            op.commit()
            flags |= RESULT_COMMITTED
        else:
            handle = self._handle(op, client)
            if len(lock) or adjustments:
                answer.reserved = (lock.to_json(), adjustments)
        if block is None:
            answer.ok(seq, reservation=handle, flags=flags)
        else:
            answer.rejects(seq, STATUS_OK, [_BlockAsReject(block)], self._index, flags)
            answer.rows[-1] = (seq, handle, *answer.rows[-1][2:])

    def _foreign(self, rec: Any, kind: int, flags: int) -> int:
        """The shard owning the record's account when it is not this one, else -1 (kernels'
        ``pipeline._foreign``)."""
        state = self.engine._book.state
        n_shards = int(state[H_N_SHARDS])
        if n_shards <= 1 or kind in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK):
            return -1
        if flags & (ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT) != ORDER_HAS_OPERATION:
            return -1
        home = shard_of(int(rec["account"]), n_shards)
        return -1 if home == int(state[H_SHARD_ID]) else home

    def _run(self, rec: Any, client: int, answer: Answer) -> None:
        engine = self.engine
        seq, kind = int(rec["seq"]), int(rec["kind"])
        auto = bool(int(rec["flags"]) & ORDER_AUTO_COMMIT)
        tag, ref = int(engine._book.shared[SH_RECORD_TAG]), int(rec["ref"])
        if foreign_tag(tag, kind, ref):  # the kernels' test (``kernels.pipeline.process``)
            answer.fail(
                seq, CODE_INVALID_FIELD_VALUE, RSN_WRONG_ENGINE, ref >> RECORD_TAG_SHIFT, tag
            )
            return
        home = self._foreign(rec, kind, int(rec["flags"]))
        if home >= 0:
            account = int(rec["account"])
            account = account - (1 << 64) if account >= 1 << 63 else account
            this = int(engine._book.state[H_SHARD_ID])
            answer.fail(seq, CODE_INVALID_FIELD_VALUE, RSN_WRONG_SHARD, account, home, this)
            return
        if kind in (MSG_ORDER, MSG_START, MSG_DRY_ORDER, MSG_DRY_START):
            order = self.order(rec, answer)
            if order is None:
                return
            if kind == MSG_ORDER:
                self._executed(seq, engine.execute_pre_trade(order), auto, client, answer)
            elif kind == MSG_START:
                started = engine.start_pre_trade(order)
                if started.ok:
                    answer.ok(seq, reservation=self._handle(started.request, client))
                else:
                    answer.rejects(seq, STATUS_REJECTED, started.rejects, self._index, 0)
            else:
                run = (
                    engine.execute_pre_trade_dry_run
                    if kind == MSG_DRY_ORDER
                    else engine.start_pre_trade_dry_run
                )
                report = run(order)
                if report.is_pass:
                    answer.ok(seq, flags=RESULT_DRY_RUN)
                else:
                    # The block the order would latch is the first account-scope reject's
                    # (``Engine._would_block``): flag it, as the kernels flag theirs.
                    latched = -1
                    if report.account_block is not None:
                        scopes = [str(r.scope) for r in report.rejects]
                        latched = scopes.index("account")
                    answer.rejects(
                        seq, STATUS_REJECTED, report.rejects, self._index, RESULT_DRY_RUN, latched
                    )
        elif kind == MSG_DROP_COPY:
            order = self.order(rec, answer)
            if order is not None:
                self._dropped(seq, engine.apply_drop_copy(order), auto, client, answer)
        elif kind in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK):
            handle = int(rec["ref"])
            if self._refused(seq, handle, client, answer):
                return
            obj = self._open.get(handle)
            is_request = obj is not None and type(obj).__name__ == "Request"
            if obj is None or is_request != (kind == MSG_EXECUTE):
                answer.fail(seq, CODE_OTHER, RSN_BAD_HANDLE, handle)
                return
            del self._open[handle]
            if kind == MSG_EXECUTE:
                self._executed(seq, obj.execute(), auto, client, answer)
            elif kind == MSG_COMMIT:
                obj.commit()
                answer.ok(seq, flags=RESULT_COMMITTED)
            else:
                obj.rollback()
                answer.ok(seq)
        elif kind == MSG_REPORT:
            report = self.report(rec, answer)
            if report is None:
                return
            post = engine.apply_execution_report(report)
            if not post.account_blocks:
                answer.ok(seq)
                return
            # A report is applied (STATUS_OK); its records describe the blocks it produced.
            blocks = [_BlockAsReject(b) for b in post.account_blocks]
            answer.rejects(seq, STATUS_OK, blocks, self._index, 0)
        else:
            answer.fail(seq, CODE_OTHER, RSN_BAD_KIND, kind)


class _BlockAsReject:
    """An AccountBlock read like a Reject (account scope) for ``Answer.rejects``."""

    __slots__ = ("code", "details", "policy", "reason", "user_data")
    scope = "account"

    def __init__(self, block: Any) -> None:
        self.policy, self.code, self.reason = block.policy, block.code, block.reason
        self.details, self.user_data = block.details, block.user_data
