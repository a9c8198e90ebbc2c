"""The NumPy batch door: ``ORDER_DTYPE`` records in, one ``RESULT_DTYPE`` record per request out.

Each result is the request's first record: ``status``, ``code`` (first reject),
``policy`` (its registration index, 255 = engine), ``reason``, ``count`` (how
many rejects the request got), ``reservation`` (a handle for a later
``MSG_COMMIT``/``MSG_ROLLBACK``, 0 when auto-committed or rejected) and
``flags`` (``RESULT_COMMITTED`` for auto-commits).

* Engines whose policies are all builtin run the whole batch inside the kernels
  (``Book.process``): the same decision procedure as the object door, one
  kernel call per chunk. The clock is read once per batch.
* Engines with custom Python policies take a documented slower path: each
  record becomes an ``Order`` (or ``ExecutionReport``) and runs through the
  object pipeline, so custom hooks see real objects.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from ..kernels.codes import (
    RSN_BAD_AMOUNT,
    RSN_BAD_FLAGS,
    RSN_BAD_HANDLE,
    RSN_BAD_INSTRUMENT,
    RSN_BAD_KIND,
    RSN_BAD_SIDE,
)
from ..layout.records import (
    CODE_INVALID_FIELD_FORMAT,
    CODE_INVALID_FIELD_VALUE,
    CODE_NUMBER,
    CODE_OTHER,
    CODE_UNKNOWN_INSTRUMENT,
    MSG_COMMIT,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_EXECUTE,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_FLAGS_KNOWN,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    RESULT_COMMITTED,
    RESULT_DRY_RUN,
    RESULT_DTYPE,
    RESULT_SCOPE_ACCOUNT,
    SIDE_BUY,
    SIDE_SELL,
    STATUS_ERROR,
    STATUS_REJECTED,
)
from ..layout.state import H_N_INSTR

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["batch_out", "execute_batch"]

_U64 = (1 << 64) - 1


def batch_out(engine: Engine, n: int) -> np.ndarray:
    """A results array ``execute_batch`` can fill for ``n`` records (reuse it across calls)."""
    return np.empty(n + len(engine._entries) + 2, dtype=RESULT_DTYPE)


def execute_batch(engine: Engine, records: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Run every record; return one result record per input record, in order.

    ``out`` (from ``batch_out``) avoids allocating and page-faulting a fresh
    results array per call; the return value is then a view of it.
    """
    if not isinstance(records, np.ndarray) or records.dtype != ORDER_DTYPE:
        raise TypeError("records must be a NumPy array of openpit_shm.ORDER_DTYPE")
    records = np.ascontiguousarray(records)
    n = records.shape[0]
    if out is None:
        out = batch_out(engine, n)
    elif out.dtype != RESULT_DTYPE or out.shape[0] < n + len(engine._entries) + 2:
        raise ValueError("out must be a RESULT_DTYPE array from batch_out(engine, len(records))")
    if engine._customs:
        return _object_path(engine, records, out[:n])
    return _kernel_path(engine, records, out)


def _kernel_path(engine: Engine, records: np.ndarray, out: np.ndarray) -> np.ndarray:
    n = records.shape[0]
    done, _ = engine._book.process(records, out, engine._clock(), first_only=True)
    if done != n:
        raise RuntimeError(f"the kernels answered {done} of {n} records")
    return out[:n]


# ---- the object path (engines with custom policies) -----------------------------------------


def _decimal(value: int, scale: int) -> Decimal:
    """The shortest decimal equal to ``value / 10**scale``."""
    whole, frac = divmod(value, 10**scale)
    if frac == 0:
        return Decimal(whole)
    return Decimal(value).scaleb(-scale).normalize()


class _Handles:
    """Reservations and started requests the object path hands out as integer handles."""

    def __init__(self) -> None:
        self.next = 1
        self.open: dict[int, Any] = {}

    def add(self, obj: Any) -> int:
        h = self.next
        self.next += 1
        self.open[h] = obj
        return h


def _error(res: np.void, code: int, reason: int, d0: int) -> None:
    res["status"], res["code"], res["policy"], res["reason"] = (
        STATUS_ERROR,
        code,
        POLICY_ENGINE,
        reason,
    )
    res["count"], res["d0"] = 1, d0


def _rejected(res: np.void, engine: Engine, rejects: list[Any]) -> None:
    first = rejects[0]
    names = [e.name for e in engine._entries]
    res["status"] = STATUS_REJECTED
    res["code"] = CODE_NUMBER[first.code]
    res["policy"] = names.index(first.policy) if first.policy in names else POLICY_ENGINE
    res["count"] = len(rejects)
    res["flags"] = RESULT_SCOPE_ACCOUNT if first.scope == "account" else 0


def _instrument(engine: Engine, rec: np.void, res: np.void) -> tuple[str, str] | None:
    """The (underlying, settlement) of the record's instrument, or None after an error result."""
    iid = int(rec["instrument"])
    book = engine._book
    if not 0 <= iid < int(book.state[H_N_INSTR]):
        _error(res, CODE_UNKNOWN_INSTRUMENT, RSN_BAD_INSTRUMENT, iid)
        return None
    return book.instrument_assets(iid)


def _order(engine: Engine, rec: np.void, res: np.void) -> Any:
    """The ``Order`` a record describes, or None after writing an error result."""
    from .. import core, param

    flags = int(rec["flags"])
    if flags & ~ORDER_FLAGS_KNOWN:
        _error(res, CODE_INVALID_FIELD_FORMAT, RSN_BAD_FLAGS, flags)
        return None
    if not flags & ORDER_HAS_OPERATION:
        return core.Order(operation=None)
    assets = _instrument(engine, rec, res)
    if assets is None:
        return None
    underlying, settlement = assets
    scale = engine._book.scale
    side = int(rec["side"])
    if side not in (SIDE_BUY, SIDE_SELL):
        _error(res, CODE_INVALID_FIELD_VALUE, RSN_BAD_SIDE, side)
        return None
    amount = int(rec["amount"])
    if amount < 0:
        _error(res, CODE_INVALID_FIELD_VALUE, RSN_BAD_AMOUNT, amount)
        return None
    value = _decimal(amount, scale)
    trade = (
        param.TradeAmount.volume(param.Volume(value))
        if flags & ORDER_VOLUME
        else param.TradeAmount.quantity(param.Quantity(value))
    )
    price = param.Price(_decimal(int(rec["price"]), scale)) if flags & ORDER_HAS_PRICE else None
    return core.Order(
        operation=core.OrderOperation(
            instrument=core.Instrument(underlying, settlement),
            account_id=param.AccountId.from_int(int(rec["account"]) & _U64),
            side=param.Side.BUY if side == SIDE_BUY else param.Side.SELL,
            trade_amount=trade,
            price=price,
        )
    )


def _report(engine: Engine, rec: np.void, res: np.void) -> Any:
    from .. import core, param

    flags = int(rec["flags"])
    operation = financial = None
    if flags & ORDER_HAS_OPERATION:
        assets = _instrument(engine, rec, res)
        if assets is None:
            return None
        underlying, settlement = assets
        side = int(rec["side"])
        operation = core.ExecutionReportOperation(
            instrument=core.Instrument(underlying, settlement),
            account_id=param.AccountId.from_int(int(rec["account"]) & _U64),
            side=param.Side.BUY if side == SIDE_BUY else param.Side.SELL,
        )
    if flags & REPORT_HAS_FINANCIAL:
        scale = engine._book.scale
        financial = core.FinancialImpact(
            pnl=param.Pnl(_decimal(int(rec["pnl"]), scale)),
            fee=param.Fee(_decimal(int(rec["fee"]), scale)),
        )
    return core.ExecutionReport(operation=operation, financial_impact=financial)


def _object_path(engine: Engine, records: np.ndarray, out: np.ndarray) -> np.ndarray:
    out[:] = np.zeros(1, dtype=RESULT_DTYPE)
    handles = _batch_handles(engine)
    for i in range(records.shape[0]):
        rec, res = records[i], out[i]
        res["seq"] = rec["seq"]
        kind = int(rec["kind"])
        if kind in (MSG_ORDER, MSG_START, MSG_DRY_ORDER, MSG_DRY_START):
            order = _order(engine, rec, res)
            if order is None:
                continue
            auto = bool(int(rec["flags"]) & ORDER_AUTO_COMMIT)
            if kind == MSG_ORDER:
                result = engine.execute_pre_trade(order)
                if not result.ok:
                    _rejected(res, engine, result.rejects)
                elif auto:
                    result.reservation.commit()
                    res["flags"] = RESULT_COMMITTED
                else:
                    res["reservation"] = handles.add(result.reservation)
            elif kind == MSG_START:
                started = engine.start_pre_trade(order)
                if started.ok:
                    res["reservation"] = handles.add(started.request)
                else:
                    _rejected(res, engine, started.rejects)
            else:
                run = (
                    engine.execute_pre_trade_dry_run
                    if kind == MSG_DRY_ORDER
                    else (engine.start_pre_trade_dry_run)
                )
                report = run(order)
                if report.is_pass:
                    res["flags"] = RESULT_DRY_RUN
                else:
                    _rejected(res, engine, report.rejects)
                    res["flags"] |= RESULT_DRY_RUN
        elif kind in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK):
            handle = int(rec["ref"])
            obj = handles.open.pop(handle, None)
            want_request = kind == MSG_EXECUTE
            if obj is None or (type(obj).__name__ == "Request") != want_request:
                if obj is not None:
                    handles.open[handle] = obj
                _error(res, CODE_OTHER, RSN_BAD_HANDLE, handle)
                continue
            if kind == MSG_EXECUTE:
                result = obj.execute()
                if not result.ok:
                    _rejected(res, engine, result.rejects)
                elif int(rec["flags"]) & ORDER_AUTO_COMMIT:
                    result.reservation.commit()
                    res["flags"] = RESULT_COMMITTED
                else:
                    res["reservation"] = handles.add(result.reservation)
            elif kind == MSG_COMMIT:
                obj.commit()
                res["flags"] = RESULT_COMMITTED
            else:
                obj.rollback()
        elif kind == MSG_REPORT:
            report = _report(engine, rec, res)
            if report is None:
                continue
            post = engine.apply_execution_report(report)
            if post.account_blocks:  # the report applied (status OK); its blocks are reported
                b = post.account_blocks[0]
                res["code"], res["count"] = CODE_NUMBER[b.code], len(post.account_blocks)
                names = [e.name for e in engine._entries]
                res["policy"] = names.index(b.policy) if b.policy in names else POLICY_ENGINE
                res["flags"] = RESULT_SCOPE_ACCOUNT
        else:
            _error(res, CODE_OTHER, RSN_BAD_KIND, kind)
    return out


def _batch_handles(engine: Engine) -> _Handles:
    handles = engine._batch_handles
    if handles is None:
        handles = engine._batch_handles = _Handles()
    return handles
