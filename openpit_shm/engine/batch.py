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

from typing import TYPE_CHECKING

import numpy as np

from ..layout.records import ORDER_DTYPE, RESULT_DTYPE
from .record_door import RecordDoor

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["batch_out", "execute_batch"]


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
    done, _ = engine._book.process(records, out, engine._clock(), first_only=True)
    if done != n:
        raise RuntimeError(f"the kernels answered {done} of {n} records")
    return out[:n]


def _object_path(engine: Engine, records: np.ndarray, out: np.ndarray) -> np.ndarray:
    """One record at a time through the object pipeline; keeps each request's first row.

    Exceptions raised by custom hooks propagate, as they do per order.
    """
    door = engine._record_door
    if door is None:
        door = engine._record_door = RecordDoor(engine)
    for i in range(records.shape[0]):
        answer = door.answer(records[i])
        if answer.error is not None:
            raise answer.error
        out[i] = answer.rows[0]
    return out
