"""The ``openpit_shm`` logger: worker lifecycle, slow builds, ring timeouts; nothing per order."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.builtins import book_arena
from openpit_shm.sharded.supervisor import exit_text
from openpit_shm.shm.ring import Ring, RingFullError
from tests.engine.conftest import make_order
from tests.sharded.conftest import c1_builder


def _wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _messages(caplog: pytest.LogCaptureFixture, contains: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if contains in r.getMessage()]


def test_should_log_a_killed_worker_with_its_shard_pid_and_signal_and_count_the_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="openpit_shm")
    engine = c1_builder("account_sync").sharded(workers=2).build()
    with engine:
        pids = list(engine.workers)
        started = _messages(caplog, "worker started")
        ready = _messages(caplog, "worker ready")
        assert {r.getMessage() for r in started} == {
            f"shard {k}: worker started (pid {pid})" for k, pid in enumerate(pids)
        }
        assert [r.getMessage().split(" in ")[0] for r in ready] == [
            f"shard {k}: worker ready (pid {pid})" for k, pid in enumerate(pids)
        ]
        for _ in range(50):  # decisions log nothing
            result = engine.execute_pre_trade(make_order(op, account=1))
            assert result.ok
            result.reservation.commit()
        before = len(caplog.records)
        assert engine.stats()[1]["restarts"] == 0
        os.kill(pids[1], signal.SIGKILL)
        _wait_until(lambda: bool(_messages(caplog, "restarted worker ready")))
        assert engine.stats()[1]["restarts"] == 1
        assert engine.workers[1] != pids[1]
        (died,) = _messages(caplog, "restarting it")
        assert died.levelno == logging.WARNING
        assert died.name == "openpit_shm.sharded.supervisor"
        assert died.getMessage() == (
            f"shard 1: worker (pid {pids[1]}) killed by SIGKILL; restarting it (restart 1)"
        )
        (back,) = _messages(caplog, "restarted worker ready")
        assert f"shard 1: restarted worker ready (pid {engine.workers[1]})" in back.getMessage()
        assert len(caplog.records) - before == 3  # died, started, ready: nothing per order
    stopped = _messages(caplog, "stopped")
    assert {r.getMessage().split(" stopped")[0] for r in stopped} == {
        f"shard 0: worker (pid {pids[0]})",
        f"shard 1: worker (pid {engine.workers[1]})",
    }


def test_should_describe_how_a_worker_ended() -> None:
    assert exit_text(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_text(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert exit_text(1) == "exited with code 1"
    assert exit_text(0) == "exited with code 0"
    assert exit_text(None) == "is still running"


def test_should_log_a_ring_that_stays_full_but_not_a_try_push(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="openpit_shm")
    with Ring.create(64) as ring:
        producer = ring.producer(timeout=0.05)
        producer.push_batch(np.zeros((64, 8), dtype=np.int64))
        assert not producer.try_push((0,) * 8)
        assert caplog.records == []
        with pytest.raises(RingFullError):
            producer.push((0,) * 8)
        (record,) = caplog.records
        assert record.name == "openpit_shm.shm.ring"
        assert record.getMessage() == f"ring {ring.name} stayed full for 0.05 s"


def test_should_log_the_progress_of_a_slow_build(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="openpit_shm")
    monkeypatch.setattr(book_arena, "SLOW_INSTALL_S", 0.0)  # every install counts as slow
    monkeypatch.setattr("openpit_shm.engine.engine.SLOW_BUILD_S", 0.0)
    c1_builder("no_sync").build()
    installed = [r.getMessage() for r in _messages(caplog, "barriers installed")]
    assert any(m.startswith("RateLimitPolicy: 21 barriers installed in ") for m in installed)
    assert len(installed) == 4  # one line per builtin
    (built,) = _messages(caplog, "built an in-process engine")
    assert built.getMessage().startswith("built an in-process engine with 4 policies in ")
