"""Shard workers live exactly as long as their engine's host process, whatever thread built it.

``PR_SET_PDEATHSIG`` fires when the *thread* that spawned a worker exits, so
an engine built in a short-lived thread lost every worker with that thread
(issue 9, defect 9). Workers now watch the host process itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import openpit_shm as op
from tests.engine.conftest import make_order
from tests.sharded.conftest import c1_builder, shm_entries
from tests.sharded.test_c_feeder import pid_alive


def _built_in_a_thread() -> Any:
    box: dict[str, Any] = {}

    def build() -> None:
        box["engine"] = c1_builder("account_sync").sharded(workers=2).build()

    thread = threading.Thread(target=build)
    thread.start()
    thread.join()
    return box["engine"]


def test_should_keep_the_workers_of_an_engine_built_in_a_thread_that_has_ended() -> None:
    with _built_in_a_thread() as engine:
        pids = engine.workers
        time.sleep(0.5)  # a death signal tied to the builder thread has landed by now
        assert all(pid_alive(p) for p in pids), "a worker died with the thread that built it"
        for account in range(1_000, 1_020):
            assert engine.execute_pre_trade(make_order(op, account=account)).ok
        assert engine.workers == pids
        assert [s["restarts"] for s in engine.stats()] == [0, 0]


def test_should_stop_the_workers_when_the_host_dies_even_if_a_thread_built_the_engine() -> None:
    script = textwrap.dedent(
        f"""
        import os, signal, sys, threading
        sys.path.insert(0, {os.getcwd()!r})
        from tests.sharded.test_worker_lifetime import _built_in_a_thread
        if __name__ == "__main__":
            engine = _built_in_a_thread()
            print("workers", os.getpid(), *engine.workers, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    words = proc.stdout.split()
    assert words[:1] == ["workers"], proc.stderr
    host, workers = int(words[1]), [int(w) for w in words[2:]]
    assert len(workers) == 2
    try:
        deadline = time.monotonic() + 60
        while any(pid_alive(p) for p in workers):
            assert time.monotonic() < deadline, "a worker outlived its host"
            time.sleep(0.05)
    finally:
        for pid in workers:  # never leave one behind, whatever happened
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        for name in shm_entries(creator=host):  # what the killed host left (its own only)
            os.unlink(f"/dev/shm/{name}")
