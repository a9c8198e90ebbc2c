"""Single-use Request (start -> main stage) and Reservation (commit | rollback) handles.

Both engines hand these out (in process and sharded); they call back into the
engine through a small duck-typed surface (``execute_request``, ``finalize``),
so ``pretrade`` owns them without knowing the engine.

A reservation owns the mutations custom policies registered in the main stage
and, in sharded mode, the worker-side reservation handle. Commit runs the
mutations forward, rollback in reverse; every callback runs, the first error is
re-raised, and a failing callback arms the engine-wide SystemUnavailable block.
A reservation collected unfinalized rolls back (only reservations that hold
something pay for that ``__del__``).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from ..param.lock import Lock
from .rejects import make_reject
from .results import ExecuteResult, execute_result

__all__ = [
    "Request",
    "Reservation",
    "accepted_nothing_held",
    "bare_reservation",
    "engine_gone_result",
    "held_reservation",
    "request",
]

_new = object.__new__
_FINALIZED = "reservation has already been finalized"


def _no_public_constructor(cls: type) -> None:
    raise TypeError(f"cannot create 'openpit.pretrade.{cls.__name__}' instances")


class Request:
    """The deferred main stage of a started order; ``execute()`` may be called once."""

    __slots__ = ("__weakref__", "_core", "_done", "_order", "_row")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(type(self))

    def execute(self) -> ExecuteResult:
        if self._done:
            raise RuntimeError("request has already been executed")
        self._done = True
        core = self._core()
        if core is None:
            return engine_gone_result()
        return core.execute_request(self._order, self._row)


def engine_gone_result() -> ExecuteResult:
    """What ``Request.execute()`` returns once its engine has been collected."""
    reject = make_reject(
        "Engine",
        "SystemUnavailable",
        "engine is no longer available",
        "request handle outlived engine instance",
        "order",
    )
    return execute_result(None, [reject])


def request(core: Any, order: Any, row: tuple) -> Request:
    r = _new(Request)
    r._core = weakref.ref(core)
    r._order = order
    r._row = row
    r._done = False
    return r


class Reservation:
    """Reserved state of an accepted order: call exactly one of ``commit()`` / ``rollback()``.

    Concrete kinds: ``_Reservation`` (custom mutations and/or a worker-side
    handle) and ``_AcceptedNothingHeld`` (see there); both expose this API.
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _no_public_constructor(Reservation)

    @property
    def lock(self) -> Lock:
        if self._done:
            raise RuntimeError(_FINALIZED)
        if self._lock is None:
            self._lock = Lock()
        return self._lock

    @property
    def account_adjustments(self) -> list[Any]:
        if self._done:
            raise RuntimeError(_FINALIZED)
        return list(self._adjustments)

    def commit(self) -> None:
        self._finalize(True)

    def rollback(self) -> None:
        self._finalize(False)

    def _finalize(self, commit: bool) -> None:
        if self._done:
            raise RuntimeError(_FINALIZED)
        self._done = True
        if self._remote is not None:
            self._remote(commit)
        if not self._mutations:
            return
        core = self._core() if self._core is not None else None
        if core is None:
            return  # openpit: finalizing after the engine is gone is a silent no-op
        core.finalize(self._mutations, commit)


class _Reservation(Reservation):
    __slots__ = ("__weakref__", "_adjustments", "_core", "_done", "_lock", "_mutations", "_remote")


class _HeldReservation(_Reservation):
    """A reservation with something to undo: garbage collection rolls it back."""

    __slots__ = ()

    def __del__(self) -> None:
        if self._done:
            return
        if self._remote is not None:
            # A finalizer may run inside the client's own ring exchange: never block or
            # lock here; the rollback goes out ahead of the next message to that shard.
            self._done = True
            self._remote(False, defer=True)
            return
        # Nowhere to raise from a finalizer: a failing callback has already
        # armed the engine-wide block, which is how the failure surfaces.
        with contextlib.suppress(Exception):
            self._finalize(False)


class _AcceptedNothingHeld(ExecuteResult, Reservation):
    """An accepted order whose reservation holds nothing: result and reservation in one object.

    Engines whose policies are all builtin (and builtins without main-stage
    state) accept with nothing to finalize. One object instead of a result, a
    reservation and a reject list keeps the hot path to a single allocation of
    a garbage-collected object: three would trigger CPython's young-generation
    collections three times as often, and those (~10 µs each) were the p99.
    """

    __slots__ = ("_done",)
    _ok = True
    _lock = None
    _adjustments = ()
    _mutations = ()
    _core = None
    _remote = None

    @property
    def reservation(self) -> Reservation:
        return self

    @property
    def rejects(self) -> list[Any]:
        return []

    @property
    def lock(self) -> Lock:
        if self._done:
            raise RuntimeError(_FINALIZED)
        return Lock()

    __repr__ = ExecuteResult.__repr__


def accepted_nothing_held() -> ExecuteResult:
    """The result of an accepted order with nothing reserved (its own reservation)."""
    r = _new(_AcceptedNothingHeld)
    r._done = False
    return r


def bare_reservation(lock: Lock | None = None, adjustments: Any = ()) -> Reservation:
    """A reservation that holds nothing to finalize."""
    r = _new(_Reservation)
    r._done = False
    r._mutations = ()
    r._lock = lock
    r._adjustments = adjustments
    r._core = None
    r._remote = None
    return r


def held_reservation(
    core: Any,
    mutations: list[Any],
    lock: Lock | None,
    adjustments: list[Any],
    remote: Callable[..., None] | None = None,
) -> Reservation:
    """A reservation holding custom mutations and/or a remote (worker-side) handle."""
    if not mutations and remote is None:
        return bare_reservation(lock, adjustments)
    r = _new(_HeldReservation)
    r._done = False
    r._mutations = mutations
    r._lock = lock
    r._adjustments = adjustments
    r._core = weakref.ref(core) if core is not None else None
    r._remote = remote
    return r
