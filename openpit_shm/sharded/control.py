"""The control channel: configure, blocks, groups, instruments, account adjustments, stats
and stop, between batches.

Client side, ``ControlChannel.call(op, args)``: the request goes down a pipe
(any picklable payload), then ``control_seq`` moves in the shard's control
block, which the worker's Numba loop checks every duty cycle; the client
wakes the worker only if it is parked. The reply comes back on the pipe,
numbered like the request, so the late reply to a call that timed out is
never taken for the next call's.
Producers of orders never get this channel: only the engine's owner may
change limits.

Worker side, ``apply_control(shard, op, args)`` performs one request on the
shard's Book and engine between two batches (account_sync: the worker is the
only writer of its shard).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.outcomes import FINALIZER_ENGINE_CAUSE
from ..engine.rows import account_key
from ..errors import ShardUnavailableError
from ..kernels.client import notify
from ..layout.control import (
    CTL_S_CONTROL_SEQ,
    CTL_S_SLEEPING,
    CTL_S_STATE,
    WORKER_STOPPING,
)

if TYPE_CHECKING:
    from .worker import _Shard

__all__ = ["ControlChannel", "apply_control"]

_POLL_S = 0.02


class ControlChannel:
    """Request/reply with one shard's worker."""

    def __init__(
        self, ctl: np.ndarray, base: int, conn: Connection, alive: Callable[[], bool]
    ) -> None:
        self.ctl = ctl
        self.base = base
        self.conn = conn
        self.alive = alive
        self.seq = int(ctl[base + CTL_S_CONTROL_SEQ])

    def call(self, op: str, args: Any = (), timeout: float = 60.0) -> Any:
        """Send one request and wait for its reply; the worker's exception is re-raised here."""
        self.seq += 1
        number = self.seq  # echoed in the reply: one to a call that gave up is skipped
        try:
            self.conn.send((number, op, args))
            notify(self.ctl, self.base + CTL_S_CONTROL_SEQ, self.base + CTL_S_SLEEPING, number)
            waited = 0.0
            while True:
                while not self.conn.poll(_POLL_S):
                    waited += _POLL_S
                    if not self.alive():
                        raise ShardUnavailableError(f"shard worker died before answering {op!r}")
                    if waited >= timeout:
                        raise ShardUnavailableError(
                            f"shard worker did not answer {op!r} in {timeout} s"
                        )
                answered, ok, value = self.conn.recv()
                if answered == number:
                    break
        except (OSError, EOFError) as exc:  # its end of the pipe closed: the worker is dying
            raise ShardUnavailableError(f"shard worker died before answering {op!r}") from exc
        if not ok:
            raise value
        return value


def _stats(shard: _Shard) -> dict[str, Any]:
    """What only the worker knows; the counters are read from the control segment
    (``sharded.figures``)."""
    return {
        "queue_depth": [r.stats()["depth"] for r in shard.requests],
        "arena_bytes": int(shard.book.used_bytes()),
    }


def _adjust(engine: Any, account_id: Any, items: list) -> tuple:
    """An account-adjustment batch on the owning shard's engine, as picklable parts.

    ``("done", failed_index, rejects, outcomes, account_blocks, cause, armed)`` or
    ``("error", exception, cause, armed)``; ``cause``: the account's block cause
    after the batch (reported blocks, ``ctx.account_control.block``), for the
    client's texts; ``armed``: a mutation finalizer failed, so the client blocks
    every shard, as the in-process engine blocks the whole engine.
    """
    accounts = engine._accounts
    before = accounts.engine_cause
    key = account_key(account_id)
    try:
        r = engine.apply_account_adjustment(account_id, items)
    except Exception as exc:
        armed = before is None and accounts.engine_cause is FINALIZER_ENGINE_CAUSE
        return ("error", _picklable(exc), accounts.causes.get(key), armed)
    armed = before is None and accounts.engine_cause is FINALIZER_ENGINE_CAUSE
    return (
        "done", r._failed_index, r._rejects, r._outcomes, r._account_blocks,
        accounts.causes.get(key), armed,
    )  # fmt: skip


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives the pipe, else a RuntimeError that names it."""
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def apply_control(shard: _Shard, op: str, args: Any) -> Any:
    """Perform one control request inside the worker; returns the reply value."""
    engine = shard.engine
    book = shard.book
    accounts = engine._accounts
    if op == "instrument":
        return book.instrument_id(*args)
    if op == "configure":
        index, method, settings = args
        book.configure(index, method, **settings)
        return None
    if op == "latch":
        account, cause = args
        return accounts.latch(account, cause)
    if op == "unblock":
        accounts.unblock(args)
        return None
    if op == "is_blocked":
        return book.is_account_blocked(args)
    if op == "replace_reason":
        account, cause = args
        return accounts.replace_reason(account, cause)
    if op == "set_groups":
        keys, group = args
        accounts.set_groups(keys, group)
        return None
    if op == "block_group":
        accounts.block_group(*args)
        return None
    if op == "unblock_group":
        accounts.unblock_group(args)
        return None
    if op == "group_reason":
        return accounts.replace_group_reason(*args)
    if op == "block_engine":
        accounts.block_engine(args)
        return None
    if op == "unblock_engine":
        accounts.unblock_engine()
        return None
    if op == "adjust":
        return _adjust(engine, *args)
    if op == "quote_for":  # diagnostics and tests: what this worker's kernels read
        from ..kernels.market_data import quote_for

        return tuple(int(x) for x in quote_for(shard.book._request, *args))
    if op == "stats":
        return _stats(shard)
    if op == "snapshot":
        return book.snapshot(args)
    if op == "stop":
        shard.ctl[shard.base + CTL_S_STATE] = WORKER_STOPPING
        return None
    raise ValueError(f"unknown control request {op!r}")
