"""The live figures of a sharded engine, read from its control segment.

One reader behind both ``ShardedEngine.stats()`` (the host's own mapping)
and ``openpit-shm stat`` (another process's read-only mapping), so the two
can never disagree. It only reads words (``layout.control``); it needs no
worker, no control round trip and no write access.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..kernels.codes import reason_name
from ..layout.control import (
    ANSWER_NAMES,
    CTL_E_CAPACITY,
    CTL_E_N_SHARDS,
    CTL_E_N_SLOTS,
    CTL_E_SUPERVISOR,
    CTL_S_ANSWERS,
    CTL_S_ERROR_REASONS,
    CTL_S_GENERATION,
    CTL_S_HEARTBEAT,
    CTL_S_OWNER,
    CTL_S_PID,
    CTL_S_REJECT_CODES,
    CTL_S_STATE,
    CTL_S_STATS,
    N_ERROR_REASONS,
    N_REJECT_CODE_WORDS,
    OWNER_WORKER,
    STAT_NAMES,
    WORKER_READY,
    WORKER_RUNNING,
    WORKER_STARTING,
    WORKER_STOPPED,
    WORKER_STOPPING,
    shard_word,
)
from ..layout.records import REJECT_CODES

__all__ = ["engine_line", "shard_figures"]

_STATE_NAMES = {
    0: "spawning",
    WORKER_STARTING: "starting",
    WORKER_READY: "ready",
    WORKER_STOPPING: "stopping",
    WORKER_STOPPED: "stopped",
    WORKER_RUNNING: "running",
}


def engine_line(words: np.ndarray) -> dict[str, int]:
    """The engine-wide words: shard and slot counts, ring capacity, supervisor pid."""
    return {
        "n_shards": int(words[CTL_E_N_SHARDS]),
        "n_slots": int(words[CTL_E_N_SLOTS]),
        "capacity": int(words[CTL_E_CAPACITY]),
        "supervisor": int(words[CTL_E_SUPERVISOR]),
    }


def shard_figures(words: np.ndarray, shard: int, now_ns: int | None = None) -> dict[str, Any]:
    """Shard ``shard``'s figures from control-segment ``words`` (int64, read-only is fine).

    Keys: the ``STAT_NAMES`` (batches, records, max_batch, parks, wakeups,
    control, errors, depth_max), the ``ANSWER_NAMES`` (accepted, rejected,
    restarts, depth), ``rejects`` (reject records by openpit code name),
    ``errors_by_reason`` (STATUS_ERROR answers by reason name), ``state``,
    ``serving`` (the worker, not the supervisor, answers its rings), ``pid``,
    ``generation`` and ``heartbeat_age_s`` (since the worker's last duty cycle).
    """
    base = shard_word(shard, 0)
    block = np.array(words[base : base + CTL_S_ERROR_REASONS + N_ERROR_REASONS])  # one copy
    out: dict[str, Any] = {
        name: int(block[CTL_S_STATS + i]) for i, name in enumerate(STAT_NAMES)
    }
    out.update({name: int(block[CTL_S_ANSWERS + i]) for i, name in enumerate(ANSWER_NAMES)})
    codes = block[CTL_S_REJECT_CODES : CTL_S_REJECT_CODES + N_REJECT_CODE_WORDS]
    out["rejects"] = {
        (REJECT_CODES[c - 1] if 0 < c <= len(REJECT_CODES) else f"code {c}"): int(codes[c])
        for c in np.flatnonzero(codes)
    }
    reasons = block[CTL_S_ERROR_REASONS : CTL_S_ERROR_REASONS + N_ERROR_REASONS]
    out["errors_by_reason"] = {
        reason_name(int(r)): int(reasons[r]) for r in np.flatnonzero(reasons)
    }
    out["state"] = _STATE_NAMES.get(int(block[CTL_S_STATE]), f"state {int(block[CTL_S_STATE])}")
    out["serving"] = int(block[CTL_S_OWNER]) == OWNER_WORKER
    out["pid"] = int(block[CTL_S_PID])
    out["generation"] = int(block[CTL_S_GENERATION])
    beat = int(block[CTL_S_HEARTBEAT])
    now = time.monotonic_ns() if now_ns is None else now_ns
    out["heartbeat_age_s"] = (now - beat) / 1e9 if beat > 0 else None
    return out
