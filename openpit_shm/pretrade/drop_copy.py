"""Drop copy's result objects: ``DropCopyResult`` and the single-use ``DropCopyOperation``.

``Engine.apply_drop_copy(order)`` records an order that was executed elsewhere
(openpit 0.10's drop copy). Its bookkeeping is applied before the call returns;
the operation then commits or rolls back what can still be undone: the custom
mutations (those recorded in the start stage with
``ctx.record_drop_copy_start_mutation`` first, then the main stage's, as
openpit orders them) and, through ``remote``, the holds builtin kernels took
(in process: ``Book.finalize``; sharded: the worker's handle). Account blocks
and rate-limit attempts are outside that boundary: neither is undone.

Like a reservation: ``commit()``/``rollback()`` once; afterwards every accessor
raises openpit's RuntimeError; garbage collection of an unfinalized operation
rolls it back; a failing mutation callback arms the engine-wide block (the
engine's ``finalize``) and its error is re-raised.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from ..param.lock import Lock
from .rejects import AccountBlock, Reject

__all__ = ["DropCopyOperation", "DropCopyResult", "drop_copy_operation", "drop_copy_result"]

_new = object.__new__
_FINALIZED = "drop-copy operation has already been finalized"


def _no_public_constructor(cls: type) -> None:
    raise TypeError(f"cannot create 'openpit.pretrade.{cls.__name__}' instances")


class DropCopyOperation:
    """Applied drop-copy bookkeeping: call exactly one of ``commit()`` / ``rollback()``."""

    __slots__ = (
        "__weakref__", "_account_block", "_adjustments", "_blocked", "_core", "_done", "_lock",
        "_mutations", "_remote",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(DropCopyOperation)

    def _live(self) -> None:
        if self._done:
            raise RuntimeError(_FINALIZED)

    @property
    def lock(self) -> Lock:
        self._live()
        return self._lock

    @property
    def account_adjustments(self) -> list[Any]:
        self._live()
        return list(self._adjustments)

    @property
    def account_block(self) -> AccountBlock | None:
        """The first account block this operation requested (latched or not)."""
        self._live()
        return self._account_block

    @property
    def is_account_blocked(self) -> bool:
        """Whether the account was blocked when ``apply_drop_copy`` returned (a snapshot)."""
        self._live()
        return self._blocked

    def commit(self) -> None:
        self._finalize(True)

    def rollback(self) -> None:
        self._finalize(False)

    def _finalize(self, commit: bool, defer: bool = False) -> None:
        self._live()
        self._done = True
        if self._remote is not None:
            if defer:
                self._remote(commit, defer=True)
            else:
                self._remote(commit)
        if not self._mutations:
            return
        core = self._core() if self._core is not None else None
        if core is None:
            return  # the engine is gone: a silent no-op, as for reservations
        core.finalize(self._mutations, commit)

    def __del__(self) -> None:
        if self._done:
            return
        # Nowhere to raise from a finalizer: a failing callback has already armed the
        # engine-wide block, which is how the failure surfaces. A remote rollback must
        # not block here (it may run inside the client's own ring exchange): deferred.
        with contextlib.suppress(Exception):
            self._finalize(False, defer=True)


def drop_copy_operation(
    core: Any,
    mutations: list[Any],
    lock: Lock,
    adjustments: list[Any],
    account_block: AccountBlock | None,
    blocked: bool,
    remote: Callable[..., None] | None = None,
) -> DropCopyOperation:
    """An applied operation; ``core``'s ``finalize(mutations, commit)`` runs the mutations."""
    op = _new(DropCopyOperation)
    op._done = False
    op._mutations = mutations
    op._lock = lock
    op._adjustments = adjustments
    op._account_block = account_block
    op._blocked = blocked
    op._core = weakref.ref(core) if core is not None and mutations else None
    op._remote = remote
    return op


class DropCopyResult:
    """Result of ``apply_drop_copy``: the ``operation`` when ``ok``, else the fatal ``rejects``."""

    __slots__ = ("_ok", "_operation", "_rejects")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(DropCopyResult)

    @property
    def ok(self) -> bool:
        return self._ok

    @property
    def operation(self) -> DropCopyOperation | None:
        return self._operation

    @property
    def rejects(self) -> list[Reject]:
        return list(self._rejects)

    def __bool__(self) -> bool:
        return self._ok

    def __repr__(self) -> str:
        if self._ok:
            return "DropCopyResult(ok=True)"
        return f"DropCopyResult(ok=False, rejects={len(self._rejects)})"


def drop_copy_result(operation: DropCopyOperation | None, rejects: list[Reject]) -> DropCopyResult:
    r = _new(DropCopyResult)
    r._ok = operation is not None
    r._operation = operation
    r._rejects = rejects
    return r
