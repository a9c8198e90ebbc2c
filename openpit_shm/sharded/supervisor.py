"""Worker processes of a sharded engine: start, ready handshake, watch, restart, stop.

A monitor thread (sleeping between polls; it never spins) watches every
worker. When one dies it takes over that shard's rings. First it finishes
the dead worker's answer journal (``kernels.journal``): answers the worker
had decided but not yet published go out as decided, and the one request it
was in the middle of is answered "outcome unknown" (``STATUS_ERROR``,
``RSN_OUTCOME_UNKNOWN``): it may or may not have been applied. Then every
other pending and new request of every client slot, which no worker
touched, is answered ``SystemUnavailable`` within a poll period, so nobody
hangs, nothing is dropped, and ``SystemUnavailable`` always means "not
applied". Meanwhile it starts a replacement over the surviving state
segment; when the replacement reports ``READY`` the monitor answers what is
left, hands the rings back (``owner = WORKER``) and the shard serves again.

Control requests that change what a shard decides with (configuration,
instruments) are queued per shard (``queue_control``) and sent in order
(``catch_up``): at once to a live shard, and to a restarted one while it is
``READY``, before the monitor hands its rings back. So a shard that was down
while the engine was reconfigured serves again only once it has every change
the others got, in the same order (each shard numbers assets as they come).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ShardUnavailableError
from ..kernels.agent import refuse_cursor
from ..kernels.client import notify
from ..kernels.codes import RSN_BAD_CURSOR, RSN_OUTCOME_UNKNOWN, RSN_SHARD_DOWN
from ..kernels.counters import count_answers, count_error
from ..kernels.journal import journal_unpack
from ..kernels.ring import ring_pop_batch, ring_push_batch, ring_readable, ring_release
from ..layout.control import (
    ANSWER_NAMES,
    CTL_S_ANSWERS,
    CTL_S_CONTROL_SEQ,
    CTL_S_GENERATION,
    CTL_S_JOURNAL,
    CTL_S_OWNER,
    CTL_S_SLEEPING,
    CTL_S_STATE,
    JOURNAL_FIRST,
    JOURNAL_PROGRESS,
    JOURNAL_RESULT,
    JOURNAL_SLOT,
    OWNER_SUPERVISOR,
    OWNER_WORKER,
    WORKER_READY,
    WORKER_RUNNING,
    WORKER_STOPPED,
    WORKER_STOPPING,
    shard_word,
)
from ..layout.records import (
    CODE_OTHER,
    CODE_SYSTEM_UNAVAILABLE,
    POLICY_ENGINE,
    STATUS_ERROR,
    STATUS_REJECTED,
)
from ..layout.ring import RING_W_HEAD, RING_W_TAIL
from ..shm.handoff import send_fds
from ..shm.ring import Ring
from .control import ControlChannel
from .topology import Topology, answer_scratch
from .worker import WorkerSpec, worker_main

__all__ = ["RSN_OUTCOME_UNKNOWN", "RSN_SHARD_DOWN", "Supervisor"]

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


def _head(code: int, reason: int, status: int) -> int:
    """The head word of a one-record answer the supervisor writes (policy Engine)."""
    return code | POLICY_ENGINE << 16 | reason << 24 | status << 32 | 1 << 48  # count 1, index 0


#: Never evaluated: the shard's worker is not running.
_UNAVAILABLE_HEAD = _head(CODE_SYSTEM_UNAVAILABLE, RSN_SHARD_DOWN, STATUS_REJECTED)
#: The worker died while deciding it: it may or may not have been applied.
_UNKNOWN_HEAD = _head(CODE_OTHER, RSN_OUTCOME_UNKNOWN, STATUS_ERROR)
_RESTARTS = CTL_S_ANSWERS + ANSWER_NAMES.index("restarts")


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
        #: per shard: (op, args, expected reply or None) control requests it has not applied
        self.pending: list[list[tuple[str, Any, Any]]] = [[] for _ in specs]
        #: held by whoever talks to a worker's control channel: the client's calls, and the
        #: monitor while it brings a restarted worker up to date
        self.control_lock = threading.RLock()
        self._lock = threading.Lock()  # serializes the monitor's restarts with hand-backs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scratch = np.zeros((_DRAIN_BATCH, 8), dtype=np.int64)
        #: (slot, shard) ring pairs refused for an impossible producer cursor (answered once)
        self._refused: set[tuple[int, int]] = set()

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
        """Hand worker ``k`` its spec (see ``worker_main``: not a spawn argument), then the
        descriptors of its unnamed segments (``Topology.shard_fds``: the same memory on
        every restart).

        This blocks until the child has read what does not fit the pipe. A
        child that died first breaks the pipe; its liveness check (start or
        monitor) then takes over.
        """
        worker = self.workers[k]
        assert worker is not None
        with contextlib.suppress(OSError):
            worker.conn.send(spec)
            send_fds(worker.conn, self.topology.shard_fds(k))

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

    # ---- control requests every shard must apply ---------------------------------------------

    def queue_control(self, op: str, args: Any, expect: Any = None) -> None:
        """Queue a control request for every shard (``catch_up`` sends it).

        ``expect``: the reply every shard must give (an instrument's id), or None.
        """
        for queue in self.pending:
            queue.append((op, args, expect))

    def catch_up(self, k: int) -> bool:
        """Send shard ``k`` its queued control requests in order; False if its worker is gone.

        Call with ``control_lock`` held. A request the worker refuses is dropped
        and its error raised; one it answers unexpectedly stays queued (the
        shard must not serve with it) and raises.
        """
        queue = self.pending[k]
        channel = self.channels[k]
        assert channel is not None
        while queue:
            op, args, expect = queue[0]
            try:
                got = channel.call(op, args)
            except ShardUnavailableError:
                return False  # its replacement gets the rest before it serves
            except Exception:
                queue.pop(0)
                raise
            if expect is not None and got != expect:
                raise RuntimeError(f"shard {k} answered {op} {args!r} with {got!r}, not {expect!r}")
            queue.pop(0)
        return True

    def _brought_up_to_date(self, k: int) -> bool:
        """The monitor's ``catch_up`` of a restarted worker; a worker that cannot apply it is
        stopped (the restart is tried again), so it never serves without it."""
        try:
            return self.catch_up(k)
        except Exception:
            traceback.print_exc()
            worker = self.workers[k]
            if worker is not None:
                worker.process.kill()
            return False

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
            self.ctl[shard_word(k, _RESTARTS)] += 1  # read by stats() and openpit-shm stat
            old = self.workers[k]
            if old is not None:
                log.warning(
                    "shard %d: worker (pid %d) %s; restarting it (restart %d)",
                    k, old.process.pid, exit_text(old.process.exitcode),
                    int(self.ctl[shard_word(k, _RESTARTS)]),
                )  # fmt: skip
                old.conn.close()
            self._finish_journal(k)  # before anything is answered SystemUnavailable
            self._send_spec(k, self._spawn(k))

    def _maybe_back(self, k: int, restarting: dict[int, float]) -> None:
        state = int(self.ctl[shard_word(k, CTL_S_STATE)])
        worker = self.workers[k]
        assert worker is not None
        if state == WORKER_READY and worker.process.is_alive():
            if not self.control_lock.acquire(blocking=False):
                return  # a control call is under way: hand back on a later poll, after it
            try:
                with self._lock:
                    if not self._brought_up_to_date(k):
                        return  # it died meanwhile: restarted again below, on a later poll
                    self.drain(k)  # the last requests that arrived while it started
                    self._hand_over(k)
                    self.down.discard(k)
                    started = restarting.pop(k, None)
                    log.info(
                        "shard %d: restarted worker ready (pid %d) after %.2f s", k, self._pid(k),
                        time.monotonic() - started if started is not None else 0.0,
                    )  # fmt: skip
            finally:
                self.control_lock.release()
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

    def _finish_journal(self, k: int) -> None:
        """Answer what shard ``k``'s dead worker was answering, as far as it got.

        The journal (``kernels.journal``) names the client slot of the batch
        it had open, the batch's first request and result cursors, how many
        requests it decided (their answers are in the answer scratch) and
        whether it had begun the next one. Decided answers it had not
        published go out now and their requests are released; the request
        it had begun is answered "outcome unknown"; the rest stay queued for
        ``drain`` (SystemUnavailable: never touched).
        """
        j = shard_word(k, CTL_S_JOURNAL)
        slot = int(self.ctl[j + JOURNAL_SLOT]) - 1
        if not 0 <= slot < self.topology.names.n_slots:
            self.ctl[j + JOURNAL_SLOT] = 0
            return
        first, result = int(self.ctl[j + JOURNAL_FIRST]), int(self.ctl[j + JOURNAL_RESULT])
        written, decided, in_flight = journal_unpack(int(self.ctl[j + JOURNAL_PROGRESS]))
        req, res = self.topology.request[slot][k], self.topology.result[slot][k]
        scratch = answer_scratch(self.topology.control, k)
        published = int(res.ctrl[RING_W_HEAD]) - result
        if 0 <= published < written <= scratch.shape[0]:
            # Not counted here: the worker counts a batch before it publishes any of it.
            self._push(res, scratch[published:written])
        queued = int(ring_readable(req.ctrl, req.slots, 1))
        tail = int(req.ctrl[RING_W_TAIL])
        if first <= tail < first + decided <= tail + queued:
            ring_release(req.ctrl, first + decided)
            tail = first + decided
        if in_flight and tail == first + decided and tail < int(req.ctrl[RING_W_HEAD]):
            ring_pop_batch(req.ctrl, req.slots, self._scratch, 0, 1)
            self._push(res, self._answers(self._scratch[:1], _UNKNOWN_HEAD, k))
        self.ctl[j + JOURNAL_SLOT] = 0

    def drain(self, k: int) -> int:
        """Answer every pending request of shard ``k`` with SystemUnavailable (worker down)."""
        answered = 0
        for slot in range(self.topology.names.n_slots):
            req = self.topology.request[slot][k]
            res = self.topology.result[slot][k]
            if not self._cursor_ok(slot, k, req, res):
                continue
            while True:
                n = ring_pop_batch(req.ctrl, req.slots, self._scratch, 0, _DRAIN_BATCH)
                if n == 0:
                    break
                self._push(res, self._answers(self._scratch[:n], _UNAVAILABLE_HEAD, k))
                answered += n
        return answered

    def _cursor_ok(self, slot: int, k: int, req: Ring, res: Ring) -> bool:
        """False for a producer cursor no real push can make (refused once, like a worker's
        ``admit``; served again once it is back in step)."""
        queued = int(req.ctrl[RING_W_HEAD]) - int(req.ctrl[RING_W_TAIL])
        if 0 <= queued <= req.capacity:
            self._refused.discard((slot, k))
            return True
        if (slot, k) not in self._refused:
            self._refused.add((slot, k))
            refuse_cursor(req.ctrl, res.ctrl, res.slots, k)
            count_error(self.ctl, shard_word(k, 0), RSN_BAD_CURSOR)
        return False

    def _answers(self, requests: np.ndarray, head: int, k: int) -> np.ndarray:
        """One answer record (``head``, ``d0`` = shard) per request row, echoing its seq,
        counted in shard ``k``'s figures (as a worker counts what it answers)."""
        answers = np.zeros((requests.shape[0], 8), dtype=np.int64)
        answers[:, 0] = requests[:, 0]
        answers[:, 2] = head
        answers[:, 3] = k
        count_answers(self.ctl, shard_word(k, 0), answers, answers.shape[0])
        return answers

    def _push(self, res: Ring, rows: np.ndarray) -> None:
        """Publish ``rows`` on a result ring, waiting while its client has not made room."""
        pushed, n = 0, rows.shape[0]
        while pushed < n and not self._stop.is_set():
            pushed += ring_push_batch(res.ctrl, res.slots, rows, pushed, n - pushed)
            if pushed < n:
                time.sleep(_POLL_S)  # the client is not draining its results yet

    def respawn_spec(self, k: int, **changes: Any) -> None:
        """Update what a future restart of shard ``k`` starts from (e.g. the Book description)."""
        self.specs[k] = replace(self.specs[k], **changes)
