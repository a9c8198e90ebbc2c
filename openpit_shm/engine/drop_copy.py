"""``Engine.apply_drop_copy``: record an order that was executed elsewhere (openpit 0.10).

What openpit does, and so what this does:

* the order needs a readable account id (else one ``Engine`` MissingRequiredField);
* no block gate: account, group and engine-wide blocks are ignored;
* every policy runs its start stage, then (unless it aborted) its main stage,
  with ``ctx.is_drop_copy`` True; rejects do not enforce: the order is recorded
  and its mutations, lock and adjustments are kept in a ``DropCopyOperation``;
* a custom reject whose code is an evaluation failure (``EVALUATION_FAILURE_CODES``),
  or a builtin reject flagged ``RESULT_ABORTS_DROP_COPY``, aborts after its stage:
  every mutation is rolled back, nothing is latched, and only those rejects are
  returned; a hook's exception does the same and is raised;
* otherwise the first account block the operation asked for (a hook's
  ``account_control.block`` as given, an account-scope reject as
  ``AccountBlocked``; by stage, then registration order) is its
  ``account_block``, latched now (the first cause wins); rollback does not undo
  it, nor the rate-limit attempts the builtins spent.

Builtins run in one kernel call (``kernels.pipeline.drop_copy_answer``, the
same the batch door and shard workers run for ``MSG_DROP_COPY``). An engine
whose policies are all builtin lets the kernel latch; with custom policies the
engine latches, merging the kernel's block with theirs. ``answered_operation``
reads a kernel answer into result objects for both engines (in process and
sharded).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from ..builtins.record import Record
from ..layout.records import (
    MSG_COMMIT,
    MSG_ROLLBACK,
    ORDER_HAS_OPERATION,
    ORDER_NO_ACCOUNT,
    RESULT_ACCOUNT_BLOCKED,
    RESULT_DTYPE,
    STATUS_OK,
)
from ..layout.view import NO_LATCH
from ..param.lock import Lock
from ..pretrade._enum import EVALUATION_FAILURE_CODES
from ..pretrade.context import account_control, drop_copy_context
from ..pretrade.drop_copy import DropCopyResult, drop_copy_operation, drop_copy_result
from ..pretrade.rejects import AccountBlock, Reject, make_reject
from .front import ORDER_TYPE_ERROR
from .outcomes import latched_cause
from .stages import MainOutcome, custom_main, custom_start, run_finalizers

if TYPE_CHECKING:
    from collections.abc import Callable

    from .engine import Engine

__all__ = ["NO_ACCOUNT_REJECT", "answered_operation", "apply_drop_copy", "has_account"]

#: openpit's answer to a drop copy without a readable account id.
NO_ACCOUNT_REJECT = make_reject(
    "Engine",
    "MissingRequiredField",
    "drop-copy requires a readable account ID",
    "the account ID routes the drop-copy pipeline and its account control",
    "order",
)

_START, _MAIN = 0, 1
_BY_CONTROL, _BY_REJECT = 0, 1  # a hook's block comes before its own reject's


def has_account(flags: int) -> bool:
    return flags & (ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT) == ORDER_HAS_OPERATION


def answered_operation(
    rec: Record,
    rejects: Callable[[], list[tuple[int, Reject]]],
    core: Any,
    remote: Callable[[int], Callable[..., None] | None],
    lock: Lock | None = None,
    adjustments: list[Any] | None = None,
) -> DropCopyResult:
    """The result of a kernel's ``MSG_DROP_COPY`` answer whose first record is ``rec``.

    ``rejects()``: its records as (index, Reject); ``remote(handle)``: the finalizer of
    the holds' handle (None for 0).
    """
    if rec.status != STATUS_OK:
        return drop_copy_result(None, [r for _, r in rejects()])
    block = None
    if rec.count:
        r = rejects()[0][1]
        block = AccountBlock._trusted(r._policy, r._code, r._reason, r._details, r._user_data)
    return drop_copy_result(
        drop_copy_operation(
            core, [], lock if lock is not None else Lock(), adjustments or [], block,
            rec.flags & RESULT_ACCOUNT_BLOCKED != 0, remote(rec.reservation),
        ),
        [],
    )  # fmt: skip


def _holds_finalizer(engine: Engine, handle: int) -> Callable[..., None] | None:
    """Commit or roll back the holds a drop copy's builtins took (``Book.finalize``)."""
    if handle == 0:
        return None
    ref = weakref.ref(engine)
    out = np.zeros(2, dtype=RESULT_DTYPE)  # its own: a GC rollback may run inside a call

    def finalize(commit: bool, defer: bool = False) -> None:
        owner = ref()
        if owner is not None:
            owner._book.finalize(out, handle, MSG_COMMIT if commit else MSG_ROLLBACK)

    return finalize


def apply_drop_copy(engine: Engine, order: Any) -> DropCopyResult:
    """``Engine.apply_drop_copy`` (see the module docstring)."""
    if not isinstance(order, engine._order_type):
        raise TypeError(ORDER_TYPE_ERROR)
    row = engine._rows.order(order)
    if not has_account(row[4]):
        return drop_copy_result(None, [NO_ACCOUNT_REJECT])
    book, out = engine._book, engine._out
    if not engine._customs:
        n = book.drop_copy(out, *row, engine._clock(), NO_LATCH)
        return answered_operation(
            Record.at(out, 0), lambda: engine._reader.rejects(n, order), engine,
            lambda h: _holds_finalizer(engine, h),
        )  # fmt: skip
    return _with_custom_policies(engine, order, row)


def _with_custom_policies(engine: Engine, order: Any, row: tuple) -> DropCopyResult:
    account = row[0]
    asked: list[tuple[int, int, int, AccountBlock]] = []  # (stage, index, by, block)
    running = [_START, 0]  # the stage and registration index of the hook running

    def control_block(_: int, block: AccountBlock) -> None:
        asked.append((running[0], running[1], _BY_CONTROL, block))

    start_mutations: list[Any] = []
    ctx = drop_copy_context(
        account_control(account, control_block), engine._group_id(account), start_mutations
    )
    start: list[tuple[int, Reject]] = []
    error: BaseException | None = None
    for entry in engine._customs:
        running[1] = entry.index
        rejects, failed = custom_start([entry], ctx, order, False)
        error = error or failed
        start += rejects
        _ask(asked, _START, rejects)
    # Every builtin's start and main stage; the kernel latches nothing (latch_before 0).
    n = engine._book.drop_copy(engine._out, *row, engine._clock(), 0)
    rec = Record.at(engine._out, 0)
    builtin_abort: list[tuple[int, Reject]] = []
    holds = None
    if rec.status != STATUS_OK:
        builtin_abort = engine._reader.rejects(n, order)
    else:
        holds = _holds_finalizer(engine, rec.reservation)
        if rec.count:
            index, r = engine._reader.rejects(1, order)[0]
            block = AccountBlock._trusted(r._policy, r._code, r._reason, r._details, r._user_data)
            asked.append((_START, index, _BY_REJECT, block))
    if error is not None:
        _undo(engine, start_mutations, holds, error)
    fatal = _fatal(start)
    main = MainOutcome()
    if not fatal:
        running[0] = _MAIN
        for entry in engine._customs:
            running[1] = entry.index
            one = custom_main([entry], ctx, order, False)
            _ask(asked, _MAIN, one.rejects)
            _merge_main(main, one)
        if main.error is not None:
            _undo(engine, start_mutations + main.mutations, holds, main.error)
        fatal = _fatal(main.rejects)
    fatal = sorted(fatal + builtin_abort, key=lambda pair: pair[0])
    if fatal:
        _undo(engine, start_mutations + main.mutations, holds, None)
        return drop_copy_result(None, [r for _, r in fatal])
    asked.sort(key=lambda item: item[:3])
    block = asked[0][3] if asked else None
    if block is not None:
        engine._accounts.latch(account, block)
    lock = engine._new_lock(main.lock_entries)
    operation = drop_copy_operation(
        engine, start_mutations + main.mutations, lock, main.adjustments, block,
        engine._book.gate(engine._out, account) != 0, holds,
    )  # fmt: skip
    return drop_copy_result(operation, [])


def _ask(asked: list, stage: int, rejects: list[tuple[int, Reject]]) -> None:
    """A policy's first account-scope reject asks for an ``AccountBlocked`` block."""
    for index, r in rejects:
        if r._scope == "account":
            asked.append((stage, index, _BY_REJECT, latched_cause(r)))
            return


def _fatal(rejects: list[tuple[int, Reject]]) -> list[tuple[int, Reject]]:
    return [(i, r) for i, r in rejects if r._code in EVALUATION_FAILURE_CODES]


def _merge_main(total: MainOutcome, one: MainOutcome) -> None:
    total.rejects += one.rejects
    total.mutations += one.mutations
    total.lock_entries += one.lock_entries
    total.adjustments += one.adjustments
    if total.error is None:
        total.error = one.error


def _undo(
    engine: Engine, mutations: list[Any], holds: Any, error: BaseException | None
) -> None:
    """Roll an aborted drop copy back (holds, then mutations in reverse); raise ``error``.

    A failing rollback callback arms the engine-wide block; a hook's ``error``
    wins over the callback's, which is raised otherwise.
    """
    if holds is not None:
        holds(False)
    failure = run_finalizers(mutations, commit=False)
    if failure is not None:
        engine.on_finalizer_failure()
    if error is not None:
        raise error
    if failure is not None:
        raise failure
