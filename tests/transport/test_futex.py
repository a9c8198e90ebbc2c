"""kernels.futex: bounded waits, wake-ups across processes, the clock and yield."""

from __future__ import annotations

import multiprocessing as mp
import time

import numpy as np
from numba import njit

from openpit_shm.kernels.futex import (
    FUTEX_AGAIN,
    FUTEX_OK,
    FUTEX_TIMEDOUT,
    futex_wait,
    futex_wake,
    monotonic_ns,
    sched_yield,
)
from openpit_shm.layout.segment import SEGMENT_KIND_STATE
from openpit_shm.shm.segment import Segment

W = 16  # the futex word used in the shared segment


@njit(cache=True)
def _now():
    return monotonic_ns()


@njit(cache=True)
def _yield():
    sched_yield()


def test_should_time_out_when_nobody_wakes():
    a = np.zeros(4, np.int64)
    futex_wait(a, 0, 0, 1_000)  # compile
    t0 = time.monotonic()
    assert futex_wait(a, 0, 0, 30_000_000) == FUTEX_TIMEDOUT
    assert 0.025 < time.monotonic() - t0 < 2.0


def test_should_not_sleep_when_the_word_already_changed():
    a = np.zeros(4, np.int64)
    a[1] = 7
    assert futex_wait(a, 1, 6, -1) == FUTEX_AGAIN  # would hang forever if it slept


def test_should_compare_only_the_low_32_bits():
    a = np.zeros(4, np.int64)
    a[0] = (5 << 32) | 3
    assert futex_wait(a, 0, 3, 1_000_000) == FUTEX_TIMEDOUT  # low half equals 3: it sleeps


def test_should_report_no_waiter_woken():
    a = np.zeros(4, np.int64)
    assert futex_wake(a, 0, 1) == 0


def _sleeper(name: str, q) -> None:
    seg = Segment.attach(name, kind=SEGMENT_KIND_STATE)
    t0 = time.monotonic()
    r = futex_wait(seg.words, W, 0, 10_000_000_000)
    q.put((r, int(seg.words[W]), time.monotonic() - t0))
    seg.close()


def test_should_wake_a_process_sleeping_on_a_shared_segment():
    ctx = mp.get_context("fork")
    with Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        q = ctx.Queue()
        p = ctx.Process(target=_sleeper, args=(seg.name, q))
        p.start()
        woken = 0
        deadline = time.monotonic() + 10
        while woken == 0 and time.monotonic() < deadline:  # until the child really sleeps
            time.sleep(0.01)
            woken = futex_wake(seg.words, W, 1)
        r, _, waited = q.get(timeout=10)
        p.join(10)
        assert woken == 1
        assert r == FUTEX_OK
        assert waited < 9


def test_should_read_the_same_clock_as_python_and_yield():
    _yield()
    a, b, c = time.monotonic_ns(), _now(), time.monotonic_ns()
    assert a <= b <= c
