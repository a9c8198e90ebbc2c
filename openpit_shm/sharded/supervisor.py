"""Worker processes of a sharded engine: start, ready handshake, watch, restart, stop.

A monitor thread (sleeping between polls; it never spins) watches every
worker. When one dies it takes over that shard's rings: every pending and
new request of every client slot is answered ``SystemUnavailable`` within a
poll period, so nobody hangs and nothing is dropped. Meanwhile it starts a
replacement over the surviving state segment; when the replacement reports
``READY`` the monitor answers what is left, hands the rings back
(``owner = WORKER``) and the shard serves again.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ShardUnavailableError
from ..kernels.client import notify
from ..kernels.ring import ring_pop_batch, ring_push_batch
from ..layout.control import (
    CTL_S_CONTROL_SEQ,
    CTL_S_GENERATION,
    CTL_S_OWNER,
    CTL_S_SLEEPING,
    CTL_S_STATE,
    OWNER_SUPERVISOR,
    OWNER_WORKER,
    WORKER_READY,
    WORKER_RUNNING,
    WORKER_STOPPED,
    WORKER_STOPPING,
    shard_word,
)
from ..layout.records import (
    CODE_SYSTEM_UNAVAILABLE,
    POLICY_ENGINE,
    STATUS_REJECTED,
)
from .control import ControlChannel
from .topology import Topology
from .worker import WorkerSpec, worker_main

__all__ = ["RSN_SHARD_DOWN", "Supervisor"]

#: Reason byte of the SystemUnavailable records the supervisor writes for a dead shard.
RSN_SHARD_DOWN = 60

_POLL_S = 0.002
_DRAIN_BATCH = 1024

log = logging.getLogger(__name__)


def exit_text(exitcode: int | None) -> str:
    """How a worker process ended: ``killed by SIGKILL``, ``exited with code 1``."""
    if exitcode is None:
        return "is still running"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with code {exitcode}"


def _unavailable_head() -> int:
    head = CODE_SYSTEM_UNAVAILABLE | POLICY_ENGINE << 16 | RSN_SHARD_DOWN << 24
    return head | STATUS_REJECTED << 32 | 1 << 48  # count 1, index 0


class _Worker:
    """One shard's current process and control pipe."""

    def __init__(self, process: Any, conn: Any) -> None:
        self.process = process
        self.conn = conn


class Supervisor:
    """Owns the worker processes of one sharded engine."""

    def __init__(self, topology: Topology, specs: list[WorkerSpec], start_timeout: float) -> None:
        #: () -> bytes: the client's block texts, handed to a restarted worker (set by the client)
        self.accounts_snapshot: Any = None
        self.topology = topology
        self.specs = specs
        self.start_timeout = start_timeout
        self.ctl = topology.control.words
        self._ctx = mp.get_context("spawn")
        self.workers: list[_Worker | None] = [None] * len(specs)
        self.channels: list[ControlChannel | None] = [None] * len(specs)
        self.down: set[int] = set()  # shards whose rings the monitor serves right now
        self.restarts = [0] * len(specs)
        self._lock = threading.Lock()  # serializes restarts with the client's control calls
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scratch = np.zeros((_DRAIN_BATCH, 8), dtype=np.int64)

    # ---- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker and wait for all of them to be ready (bounded)."""
        specs = []
        for k in range(len(self.specs)):
            self.ctl[shard_word(k, CTL_S_OWNER)] = OWNER_SUPERVISOR
            specs.append(self._spawn(k))
        for k, spec in enumerate(specs):  # every child imports meanwhile, in parallel
            self._send_spec(k, spec)
        started = time.monotonic()
        deadline = started + self.start_timeout
        for k in range(len(self.specs)):
            self._wait_ready(k, deadline)
            self._hand_over(k)
            log.info(
                "shard %d: worker ready (pid %d) in %.2f s",
                k, self._pid(k), time.monotonic() - started,
            )  # fmt: skip
        self._thread = threading.Thread(target=self._monitor, name="openpit_shm-supervisor")
        self._thread.daemon = True
        self._thread.start()

    def _spawn(self, k: int) -> WorkerSpec:
        """Start worker ``k``; returns the spec to hand it with ``_send_spec``."""
        parent, child = self._ctx.Pipe()
        spec = self.specs[k]
        if self.accounts_snapshot is not None:
            spec = replace(spec, accounts=self.accounts_snapshot())
        self.ctl[shard_word(k, CTL_S_STATE)] = 0
        self.ctl[shard_word(k, CTL_S_GENERATION)] += 1
        env_threads = os.environ.get("NUMBA_NUM_THREADS")
        os.environ["NUMBA_NUM_THREADS"] = "1"  # one worker = one core: no threading layer
        try:
            proc = self._ctx.Process(
                target=worker_main, args=(child,), name=f"openpit_shm-shard-{k}", daemon=True
            )
            proc.start()
        finally:
            if env_threads is None:
                os.environ.pop("NUMBA_NUM_THREADS", None)
            else:
                os.environ["NUMBA_NUM_THREADS"] = env_threads
        child.close()
        log.info("shard %d: worker started (pid %d)", k, proc.pid)
        self.workers[k] = _Worker(proc, parent)
        self.channels[k] = ControlChannel(
            self.ctl, shard_word(k, 0), parent, lambda p=proc: p.is_alive()
        )
        return spec

    def _send_spec(self, k: int, spec: WorkerSpec) -> None:
        """Hand worker ``k`` its spec (see ``worker_main``: not a spawn argument).

        This blocks until the child has read what does not fit the pipe. A
        child that died first breaks the pipe; its liveness check (start or
        monitor) then takes over.
        """
        worker = self.workers[k]
        assert worker is not None
        with contextlib.suppress(OSError):
            worker.conn.send(spec)

    def _wait_ready(self, k: int, deadline: float) -> None:
        worker = self.workers[k]
        assert worker is not None
        word = shard_word(k, CTL_S_STATE)
        while int(self.ctl[word]) != WORKER_READY:
            if not worker.process.is_alive():
                raise ShardUnavailableError(
                    f"shard {k} worker exited during start (exit code {worker.process.exitcode}; "
                    "a script that builds a sharded engine needs an "
                    '`if __name__ == "__main__":` guard)'
                )
            if time.monotonic() > deadline:
                raise ShardUnavailableError(f"shard {k} worker not ready in {self.start_timeout} s")
            time.sleep(0.001)

    def _hand_over(self, k: int) -> None:
        self.ctl[shard_word(k, CTL_S_OWNER)] = OWNER_WORKER
        word = shard_word(k, CTL_S_STATE)
        deadline = time.monotonic() + 5.0
        while int(self.ctl[word]) != WORKER_RUNNING and time.monotonic() < deadline:
            time.sleep(0.0002)

    def _pid(self, k: int) -> int:
        worker = self.workers[k]
        return -1 if worker is None else int(worker.process.pid or -1)

    def alive(self, k: int) -> bool:
        worker = self.workers[k]
        return worker is not None and worker.process.is_alive() and k not in self.down

    def channel(self, k: int) -> ControlChannel:
        if k in self.down:
            raise ShardUnavailableError(f"shard {k} is restarting")
        channel = self.channels[k]
        assert channel is not None
        return channel

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every worker (politely, then SIGKILL after ``timeout``) and the monitor."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for k, worker in enumerate(self.workers):
            if worker is None:
                continue
            self.ctl[shard_word(k, CTL_S_STATE)] = WORKER_STOPPING
            channel = self.channels[k]
            if channel is not None and worker.process.is_alive():
                # Wake it if it parks, so it sees STOPPING now rather than after a park slice.
                base = shard_word(k, 0)
                notify(self.ctl, base + CTL_S_CONTROL_SEQ, base + CTL_S_SLEEPING, channel.seq)
        deadline = time.monotonic() + timeout
        for k, worker in enumerate(self.workers):
            if worker is None:
                continue
            pid = worker.process.pid
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("shard %d: worker (pid %d) did not stop in %g s: killing it", k, pid,
                            timeout)  # fmt: skip
                worker.process.kill()
                worker.process.join(1.0)
            log.info("shard %d: worker (pid %d) stopped: %s", k, pid,
                     exit_text(worker.process.exitcode))  # fmt: skip
            worker.conn.close()

    # ---- the monitor ------------------------------------------------------------------------

    def _monitor(self) -> None:
        restarting: dict[int, float] = {}
        while not self._stop.is_set():
            for k, worker in enumerate(self.workers):
                if worker is None or self._stop.is_set():
                    continue
                if k not in self.down and not worker.process.is_alive():
                    self._on_death(k)
                    restarting[k] = time.monotonic()
                if k in self.down:
                    self.drain(k)
                    self._maybe_back(k, restarting)
            self._stop.wait(_POLL_S)

    def _on_death(self, k: int) -> None:
        with self._lock:
            self.down.add(k)
            self.ctl[shard_word(k, CTL_S_OWNER)] = OWNER_SUPERVISOR
            self.restarts[k] += 1
            old = self.workers[k]
            if old is not None:
                log.warning(
                    "shard %d: worker (pid %d) %s; restarting it (restart %d)",
                    k, old.process.pid, exit_text(old.process.exitcode), self.restarts[k],
                )  # fmt: skip
                old.conn.close()
            self._send_spec(k, self._spawn(k))

    def _maybe_back(self, k: int, restarting: dict[int, float]) -> None:
        state = int(self.ctl[shard_word(k, CTL_S_STATE)])
        worker = self.workers[k]
        assert worker is not None
        if state == WORKER_READY:
            with self._lock:
                self.drain(k)  # the last requests that arrived while it started
                self._hand_over(k)
                self.down.discard(k)
                started = restarting.pop(k, None)
                log.info(
                    "shard %d: restarted worker ready (pid %d) after %.2f s", k, self._pid(k),
                    time.monotonic() - started if started is not None else 0.0,
                )  # fmt: skip
        elif (not worker.process.is_alive() or state == WORKER_STOPPED) and (
            time.monotonic() - restarting.get(k, 0.0) > 1.0
        ):
            # The replacement died too: try again, but not in a tight loop.
            log.warning(
                "shard %d: replacement worker (pid %d) %s; starting another",
                k, worker.process.pid, exit_text(worker.process.exitcode),
            )  # fmt: skip
            with self._lock:
                worker.conn.close()
                self._send_spec(k, self._spawn(k))
                restarting[k] = time.monotonic()

    def drain(self, k: int) -> int:
        """Answer every pending request of shard ``k`` with SystemUnavailable (worker down)."""
        answered = 0
        head = _unavailable_head()
        for slot in range(self.topology.names.n_slots):
            req = self.topology.request[slot][k]
            res = self.topology.result[slot][k]
            while True:
                n = ring_pop_batch(req.ctrl, req.slots, self._scratch, 0, _DRAIN_BATCH)
                if n == 0:
                    break
                answers = np.zeros((n, 8), dtype=np.int64)
                answers[:, 0] = self._scratch[:n, 0]
                answers[:, 2] = head
                answers[:, 3] = k
                pushed = 0
                while pushed < n and not self._stop.is_set():
                    pushed += ring_push_batch(res.ctrl, res.slots, answers, pushed, n - pushed)
                    if pushed < n:
                        time.sleep(_POLL_S)  # the client is not draining its results yet
                answered += n
        return answered

    def respawn_spec(self, k: int, **changes: Any) -> None:
        """Update what a future restart of shard ``k`` starts from (e.g. the Book description)."""
        self.specs[k] = replace(self.specs[k], **changes)
