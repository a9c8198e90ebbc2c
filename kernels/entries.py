"""The kernels' entry points: what each part of an engine calls, compiled once per process.

Python enters the kernels through a few functions called with fixed argument
types. This module lists them (``Entry``: module, function, signature),
grouped by the part of an engine that calls them, so that

* a build compiles only the groups its configuration uses (a batch-only
  engine never compiles the per-order kernel, a shard worker whose policies
  are all builtin compiles its duty cycle and nothing else);
* ``openpit-shm warmup`` (``openpit_shm.warmup``) compiles every group ahead
  of time, for this CPU, into Numba's cache;
* a build can tell, cheaply, that it is about to compile (``Entry.cached``
  reads the index file Numba keeps per function) and say so once
  (``notice_if_cold``);
* shard workers, which start together, compile one at a time
  (``compile_lock``): the first compiles, the others then load its cache
  files instead of compiling the same code at the same time on the same cores.

``Entry.compile()`` returns the overload's ``entry_point``: calling it skips the
dispatcher's type resolution (about 3x cheaper per call), so hot paths keep
it; entries whose callers pass arrays are called through the dispatcher
(which picks the overload compiled here) and only use ``compile()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from numba import types

from .cacheguard import kernel_cache_dir

__all__ = [
    "ALL",
    "IN_PROCESS",
    "SHARDED_CLIENT",
    "WORKER_KERNELS",
    "WORKER_OBJECTS",
    "Entry",
    "compile_all",
    "compile_lock",
    "notice_if_cold",
]

log = logging.getLogger(__name__)

_I = types.int64
_B = types.boolean
_A1 = types.Array(types.int64, 1, "C")
_A2 = types.Array(types.int64, 2, "C")

LOCK_NAME = "openpit_shm-compile.lock"


class Entry:
    """One kernel compiled for one signature; ``compile()`` returns its entry point."""

    __slots__ = ("_entry_point", "argtypes", "function", "module", "seconds")

    def __init__(self, module: str, function: str, argtypes: tuple[Any, ...], seconds: float):
        self.module = module  #: module under ``openpit_shm.kernels``
        self.function = function
        self.argtypes = argtypes
        #: rough cold compile time on a small 2-core VM (only for the notice's estimate)
        self.seconds = seconds
        self._entry_point: Any = None

    def __repr__(self) -> str:
        return f"Entry({self.name})"

    @property
    def name(self) -> str:
        return f"{self.module}.{self.function}"

    @property
    def dispatcher(self) -> Any:
        return getattr(importlib.import_module(f"openpit_shm.kernels.{self.module}"), self.function)

    def compile(self) -> Any:
        """The overload's entry point: compiled, or loaded from Numba's cache, once per process."""
        ep = self._entry_point
        if ep is None:  # (two threads racing here get the same overload from Numba)
            cold = not self.cached()
            started = time.perf_counter()
            ep = self._entry_point = self.dispatcher.compile(self.argtypes)
            if cold:
                log.info("compiled %s in %.1f s", self.name, time.perf_counter() - started)
        return ep

    def cached(self) -> bool:
        """Whether this process or Numba's on-disk cache holds the overload for this CPU."""
        dispatcher = self.dispatcher
        if self.argtypes in dispatcher.overloads:
            return True
        try:
            cache = dispatcher._cache
            key = cache._index_key(self.argtypes, dispatcher.targetctx.codegen())
            return key in cache._cache_file._load_index()
        except Exception:  # Numba internals moved: say cold; the notice is only advice
            return False


# ---- the catalogue ---------------------------------------------------------------------------
# ``seconds``: the marginal cold compile time in this order (sub-kernels compiled by an earlier
# entry are shared), measured on a 2-core VM.

#: The object door's order check (gate + every builtin's start stage), per order.
START_AT = Entry("pipeline", "start_at", (_I, _I, _I, _B, _I, _B), 10.0)
#: The object door's drop copy (``apply_drop_copy``): both stages, no gate.
DROP_COPY_AT = Entry("pipeline", "drop_copy_at", (_I,) * 4, 3.0)
#: The main stage's block re-check (engines with custom policies).
GATE_AT = Entry("pipeline", "gate_at", (_I,) * 5, 1.0)
#: Execution reports (P&L kill switch).
REPORT_AT = Entry("pipeline", "report_at", (_I, _I, _B), 3.0)
#: The batch door: every message kind over an ``ORDER_DTYPE`` array.
PROCESS = Entry("pipeline", "process", (_A1, _A1, _A2, _A2, _I, _B, _I, _A1, _I, _A1), 6.0)
#: The one finalization of an in-process reservation (commit, rollback, fill of a hold).
FINALIZE_AT = Entry("pipeline", "finalize_at", (_I, _I, _I), 2.0)
#: The record door's field check (custom policies' record paths), per record.
FAULT_AT = Entry("pipeline", "fault_at", (_I,), 0.5)
#: The record door's handle check (custom policies' finalizations).
RES_REFUSAL = Entry("reservations", "res_refusal", (_A1, _I, _I), 0.5)
#: A worker's answer journal (``kernels.journal``), kept by Python on the object path.
JOURNAL_OPEN = Entry("journal", "journal_open", (_A1, _I, _I, _I, _I), 0.5)
JOURNAL_MARK = Entry("journal", "journal_mark", (_A1, _I, _I, _I, _I), 0.5)
JOURNAL_CLOSE = Entry("journal", "journal_close", (_A1, _I), 0.5)
#: How many requests a slot has (and the refusal of an impossible producer cursor).
ADMIT = Entry("agent", "admit", (_A2, _I, _I, _A1, _I, _I), 1.0)
REFUSE_CURSOR = Entry("agent", "refuse_cursor", (_A1, _A1, _A2, _I), 0.5)
#: Answer counters (``kernels.counters``): the supervisor's answers, the object path's.
COUNT_ANSWERS = Entry("counters", "count_answers", (_A1, _I, _A2, _I), 0.5)
COUNT_ERROR = Entry("counters", "count_error", (_A1, _I, _I), 0.5)
#: Ring handles (``shm.ring``), the sharded client's links and the supervisor's drain.
RING_PUBLISH = Entry("ring", "ring_publish", (_A1, _I), 0.5)
RING_RELEASE = Entry("ring", "ring_release", (_A1, _I), 0.5)
RING_WRITABLE = Entry("ring", "ring_writable", (_A1, _A2, _I), 0.5)
RING_READABLE = Entry("ring", "ring_readable", (_A1, _A2, _I), 0.5)
RING_WAIT_READABLE = Entry("ring", "ring_wait_readable", (_A1, _A2, _I, _A1, _I), 1.0)
RING_POP_BATCH = Entry("ring", "ring_pop_batch", (_A1, _A2, _A2, _I, _I), 0.5)
RING_PUSH_BATCH = Entry("ring", "ring_push_batch", (_A1, _A2, _A2, _I, _I), 0.5)
#: A sharded engine's synchronous request to one shard, and its control-word wake-up.
EXCHANGE = Entry("client", "exchange", (_I, _I), 3.0)
NOTIFY = Entry("client", "notify", (_A1, _I, _I, _I), 0.5)
#: A sharded engine's batch door.
GROUP_BY_SHARD = Entry("client", "group_by_shard", (_A2, _I, _A1, _A1), 1.0)
PUMP_BATCH = Entry(
    "client", "pump_batch", (_A2, _I, _A2, _A1, _A1, _A1, _A1, _A2, _A2, _A1, _A1, _A1, _I), 2.0
)
#: A shard worker's all-builtin duty cycle (drain rings, decide, answer, idle).
AGENT_RUN = Entry(
    "agent", "agent_run", (_A1, _I, _A1, _A1, _A2, _I, _I, _I, _A1, _A1, _A2, _A1), 15.0
)
#: A shard worker's idle loop when records are decided in Python (custom policies).
AGENT_WAIT = Entry("agent", "agent_wait", (_A1, _I, _A2, _I, _A1, _A1), 2.0)

#: Ring handles (``shm.ring.Ring`` producers and consumers).
RING_HANDLES = (RING_PUBLISH, RING_RELEASE, RING_WRITABLE, RING_READABLE, RING_WAIT_READABLE)
#: An in-process engine's doors: per order (also what its first decision needs), reports, batch.
IN_PROCESS = (
    START_AT, GATE_AT, REPORT_AT, PROCESS, FAULT_AT, RES_REFUSAL, FINALIZE_AT, DROP_COPY_AT,
)  # fmt: skip
#: The host side of a sharded engine: links, control, the supervisor's drain, the batch door.
SHARDED_CLIENT = (
    *RING_HANDLES, EXCHANGE, NOTIFY, RING_POP_BATCH, RING_PUSH_BATCH, GROUP_BY_SHARD, PUMP_BATCH,
    REFUSE_CURSOR, COUNT_ANSWERS, COUNT_ERROR,
)  # fmt: skip
#: A shard worker whose policies are all builtin.
WORKER_KERNELS = (AGENT_RUN,)
#: A shard worker with custom Python policies (the object pipeline per record).
WORKER_OBJECTS = (
    START_AT, GATE_AT, REPORT_AT, DROP_COPY_AT, AGENT_WAIT, RING_POP_BATCH, RING_PUSH_BATCH,
    *RING_HANDLES,
    FAULT_AT, RES_REFUSAL, JOURNAL_OPEN, JOURNAL_MARK, JOURNAL_CLOSE, ADMIT,
    COUNT_ANSWERS,
)  # fmt: skip
#: Every entry point, once.
ALL = tuple(dict.fromkeys(IN_PROCESS + SHARDED_CLIENT + WORKER_KERNELS + WORKER_OBJECTS))

# ---- compiling -------------------------------------------------------------------------------


def compile_all(entries: Iterable[Entry]) -> None:
    """Compile (or load) every entry, in order."""
    for entry in entries:
        entry.compile()


@contextlib.contextmanager
def compile_lock() -> Iterator[None]:
    """Hold the kernel cache's compile lock (``flock``; released if the holder dies).

    Without a writable cache dir there is nothing to share, and no lock.
    """
    cache = kernel_cache_dir()
    if cache is None:
        yield
        return
    fd = os.open(cache / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # (closing releases the lock)


_NOTICED = False


def notice_if_cold(what: str, entries: Iterable[Entry]) -> bool:
    """Say once per process, at WARNING, that ``entries`` are about to be compiled.

    Logged under ``openpit_shm``: without any logging configuration Python
    prints it on stderr, so a first run does not look hung. Returns whether
    anything was cold.
    """
    global _NOTICED
    cold = [e for e in entries if not e.cached()]
    if not cold:
        return False
    if not _NOTICED:
        _NOTICED = True
        seconds = sum(e.seconds for e in cold)
        cache = kernel_cache_dir()
        log.warning(
            "openpit_shm: compiling %s for this CPU (%s; about %d s, once): cache %s "
            "(`openpit-shm warmup` compiles every kernel ahead of time)",
            what,
            ", ".join(e.function for e in cold),
            max(5, round(seconds / 5) * 5),
            cache if cache is not None else "disabled (no writable cache directory)",
        )
    return True
