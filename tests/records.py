"""For tests that build ``ORDER_DTYPE`` records by hand: tag them for the engine they go to.

Records that name an instrument carry the engine's record tag in ``ref``
(``openpit_shm.layout.records``); ``order_records`` fills it. A test that
writes records field by field, or sends the same stream to two engines whose
instruments are numbered alike (a sharded engine and its in-process twin),
stamps each copy for its engine with ``stamped``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openpit_shm.batch import record_format
from openpit_shm.layout.records import (
    MSG_DROP_COPY,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_REPORT,
    MSG_START,
    RECORD_REF_LOW_MASK,
    order_ref,
)

__all__ = ["stamped"]

_ORDER_KINDS = (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER, MSG_DROP_COPY)


def stamped(records: np.ndarray, engine: Any) -> np.ndarray:
    """A copy of ``records`` with ``engine``'s tag in the ``ref`` of every tagged kind.

    ``engine``: an Engine, ShardedEngine, Book or RecordFormat. A report keeps
    the scales in its low ``ref`` bits; handles (finalizations) are untouched.
    """
    out = np.array(records, copy=True)
    word = order_ref(record_format(engine).tag)
    kind = out["kind"]
    order = np.isin(kind, _ORDER_KINDS)
    out["ref"][order] = word
    report = kind == MSG_REPORT
    out["ref"][report] = word | (out["ref"][report] & RECORD_REF_LOW_MASK)
    return out
