"""The lock-free fixed windows of the ``shared`` array (broker and asset rate limits).

openpit's rule, checked against a reference model: the window starts at the
first push, restarts with a count of 1 when ``now - start >= window``, and
every attempt is counted (rejected ones included). Then the cross-process
guarantees a lock could not give: two processes hammering one window count
every push exactly once, and a process stopped (SIGSTOP) or killed
(SIGKILL) at any instant never blocks the other or tears the pair.
"""

from __future__ import annotations

import ast
import mmap
import os
import signal
import time

import numpy as np
import pytest
from numba import njit

from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.kernels.atomics import fetch_add, load_relaxed, store_release, store_word_release
from openpit_shm.kernels.futex import sched_yield
from openpit_shm.kernels.ptr import as_ptr, p_cas2
from openpit_shm.kernels.rate_limit import fw_push, fw_reset
from openpit_shm.layout import state as L
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_ORDER,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    RESULT_DTYPE,
    SIDE_BUY,
)
from tests.records import stamped

ROW = L.SH_BROKER
HOUR = 3600 * 10**9
BIG = 10**15  # a broker limit no test reaches: every push is accepted and counted


@njit(cache=True)
def _push(shared, row, now, dry):  # type: ignore[no-untyped-def]
    return fw_push(as_ptr(shared), row, now, dry)


@njit(cache=True)
def _reset(shared, row):  # type: ignore[no-untyped-def]
    fw_reset(as_ptr(shared), row)


@njit(cache=True)
def _hammer(shared, progress, n, now):  # type: ignore[no-untyped-def]
    """``n`` pushes; ``progress[0]`` = pushes done (stored after each push returns)."""
    p = as_ptr(shared)
    for i in range(n):
        fw_push(p, ROW, now, False)
        store_release(progress, 0, i + 1)


@njit(cache=True)
def _phased_pushes(shared, got, barrier, phases, m, w):  # type: ignore[no-untyped-def]
    """``m`` pushes per phase at ``now = (phase + 1) * w``: each phase is a new window.

    ``got[phase * m + i]`` = the count push ``i`` of the phase got. Every
    process finishes a phase before any starts the next (``barrier[0]``
    counts finished phases over two processes), so one phase's pushes of both
    processes make one window, restarted by whichever process comes first.
    """
    p = as_ptr(shared)
    for ph in range(phases):
        now = (ph + 1) * w
        for i in range(m):
            got[ph * m + i] = fw_push(p, ROW, now, False)
        fetch_add(barrier, 0, 1)
        while load_relaxed(barrier, 0) < 2 * (ph + 1):
            sched_yield()


@njit(cache=True)
def _spin_until(flags, i):  # type: ignore[no-untyped-def]
    while load_relaxed(flags, i) == 0:
        pass


def _window(window: int) -> np.ndarray:
    sh = np.zeros(L.shared_words(4), dtype=np.int64)
    sh[ROW + L.FW_ON] = 1
    sh[ROW + L.FW_MAX] = BIG
    sh[ROW + L.FW_WINDOW] = window
    return sh


class Reference:
    """openpit's fixed-window counter (``start``, ``count``), in Python."""

    def __init__(self, window: int) -> None:
        self.window, self.start, self.count = window, None, 0

    def push(self, now: int, dry: bool) -> int:
        if self.start is None or now - self.start >= self.window:
            if not dry:
                self.start, self.count = now, 1
            return 1
        if not dry:
            self.count += 1
        return self.count + (1 if dry else 0)


def test_should_count_exactly_like_openpits_fixed_window() -> None:
    rng = np.random.default_rng(3)
    for window in (1, 7, 1000, (1 << 64) - 1):
        sh = _window(window - (1 << 64) if window >= 1 << 63 else window)
        ref = Reference(window)
        now = 10**9
        for _ in range(3000):
            now += int(rng.choice([0, 1, 3, 50, 999, 1000, 1001]))
            dry = bool(rng.random() < 0.2)
            assert _push(sh, ROW, now, dry) == ref.push(now, dry), (window, now, dry)
        assert (sh[ROW + L.FW_START], sh[ROW + L.FW_COUNT]) == (ref.start, ref.count)


def test_should_start_at_the_first_push_and_forget_a_reset_window() -> None:
    sh = _window(100)
    assert _push(sh, ROW, 50, True) == 1 and sh[ROW + L.FW_COUNT] == 0  # a dry run: no push
    assert [_push(sh, ROW, t, False) for t in (5, 6, 104, 105)] == [1, 2, 3, 1]
    assert (sh[ROW + L.FW_START], sh[ROW + L.FW_COUNT]) == (105, 1)
    _reset(sh, ROW)
    assert (sh[ROW + L.FW_START], sh[ROW + L.FW_COUNT]) == (L.FW_NOT_STARTED, 0)
    assert _push(sh, ROW, 3, True) == 1
    assert _push(sh, ROW, 3, False) == 1 and sh[ROW + L.FW_START] == 3  # restarted at 3
    assert _push(sh, ROW, 4, False) == 2
    # A push that raced the reset (its add landed after it) counted in the forgotten
    # window: the pair stays "not started" and the next push starts a new window.
    sh[ROW + L.FW_START], sh[ROW + L.FW_COUNT] = L.FW_NOT_STARTED, 3
    assert _push(sh, ROW, 9, True) == 1
    assert _push(sh, ROW, 9, False) == 1
    assert (sh[ROW + L.FW_START], sh[ROW + L.FW_COUNT]) == (9, 1)


def test_should_compile_the_pair_swap_to_one_16_byte_compare_and_swap() -> None:
    def swap(a, e0, e1, d0, d1):  # type: ignore[no-untyped-def]
        return p_cas2(as_ptr(a), 4, e0, e1, d0, d1)

    fresh = njit(swap)  # not cached: a cached function has no assembly to inspect
    sh = np.zeros(8, dtype=np.int64)
    assert fresh(sh, 0, 0, 5, 7) == (0, 0) and fresh(sh, 0, 0, 1, 1) == (5, 7)
    assert (sh[4], sh[5]) == (5, 7)
    asm = fresh.inspect_asm(fresh.signatures[0])
    assert "cmpxchg16b" in asm
    assert "__atomic" not in asm and "__sync" not in asm  # no library fallback (a lock)


def test_should_refuse_a_shared_array_that_is_not_16_byte_aligned() -> None:
    book = Book.create([(0, make_spec("rate_limit", broker=(10, HOUR)))], n_policies=1)
    buf = np.zeros(book.shared.shape[0] + 1, dtype=np.int64)
    shifted = buf[1:] if buf.ctypes.data % 16 == 0 else buf[:-1]
    assert shifted.ctypes.data % 16 == 8
    shifted[:] = book.shared
    with pytest.raises(ValueError, match="16-byte aligned"):
        Book.from_description(book.description(), state=book.state.copy(), shared=shifted)


def _shared_window(extra_words: int = 64) -> tuple[mmap.mmap, np.ndarray, np.ndarray]:
    """A broker window (and scratch words) in MAP_SHARED memory forked children see."""
    words = L.shared_words(L.ASSET_CAP_DEFAULT)
    buf = mmap.mmap(-1, (words + extra_words) * 8)
    arr = np.frombuffer(buf, dtype=np.int64)
    shared, scratch = arr[:words], arr[words:]
    shared[:] = Book.create(
        [(0, make_spec("rate_limit", broker=(BIG, HOUR)))], n_policies=1
    ).shared
    shared[L.SH_WRITERS] = 2  # forked children push too: atomic adds
    return buf, shared, scratch


def _shard_pushes(
    shared: np.ndarray, n: int, stop: np.ndarray | None = None, go: np.ndarray | None = None
) -> tuple[int, int, int]:  # fmt: skip
    """A shard's Book on the common ``shared`` array deciding batches of 1024 orders.

    ``n`` orders, or batches until ``stop[0]`` is set; first waits for
    ``go[0]`` (if given). Returns (orders, accepted, SystemUnavailable).
    """
    book = Book.create([(0, make_spec("rate_limit", broker=(BIG, HOUR)))], n_policies=1)
    book.shared = shared
    book._refresh()
    book.instrument_id("A", "USD")
    recs = np.zeros(1024, ORDER_DTYPE)
    recs["kind"], recs["side"], recs["amount"] = MSG_ORDER, SIDE_BUY, 10**8
    recs["account"] = np.arange(1024) % 100
    recs["flags"] = ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT
    recs = stamped(recs, book)
    out = np.zeros(1024 + 8, RESULT_DTYPE)
    if go is not None:
        _spin_until(go, 0)
    done = accepted = unavailable = 0
    while (done < n) if stop is None else (stop[0] == 0):
        book.process(recs, out, 1_000, True)
        codes = out["code"][:1024]
        done += 1024
        accepted += int((codes == 0).sum())
        unavailable += int((codes == CODE_NUMBER["SystemUnavailable"]).sum())
    return done, accepted, unavailable


def _fork(fn, *args) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(pid, read end of a pipe carrying the child's result)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            os.write(w, repr(fn(*args)).encode())
        finally:
            os._exit(0)
    os.close(w)
    return pid, r


def _result(pid: int, r: int) -> object:
    os.waitpid(pid, 0)
    data = os.read(r, 256)
    os.close(r)
    return ast.literal_eval(data.decode())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_should_count_every_push_of_two_hammering_processes_exactly_once() -> None:
    _buf, shared, scratch = _shared_window()
    _shard_pushes(np.zeros_like(shared), 10, None, np.ones(1, np.int64))  # compile first
    n = 1000 * 1024
    children = [_fork(_shard_pushes, shared, n, None, scratch[:1]) for _ in range(2)]
    time.sleep(0.2)  # both children ready: they push at the same time
    store_word_release(scratch, 0, 1)
    results = [_result(pid, r) for pid, r in children]
    assert results == [(n, n, 0)] * 2  # every order accepted, none SystemUnavailable
    assert shared[ROW + L.FW_COUNT] == 2 * n
    assert shared[ROW + L.FW_START] == 1_000




@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_should_restart_and_fill_windows_exactly_while_two_processes_race() -> None:
    # Both processes restart the window at the start of each phase (one swap wins, the
    # other adds), then add concurrently: each phase must hand out 1..2m exactly once.
    phases, m, w, words = 300, 2000, 50, L.shared_words(4)
    buf = mmap.mmap(-1, (words + 8 + 2 * phases * m) * 8)
    arr = np.frombuffer(buf, dtype=np.int64)
    shared, barrier = arr[:words], arr[words : words + 1]
    got = arr[words + 8 :].reshape(2, phases, m)
    shared[:] = _window(w)
    _phased_pushes(np.zeros_like(shared), np.zeros(1, np.int64), np.full(1, 2), 1, 1, w)
    pids = []
    for k in range(2):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                _phased_pushes(shared, got[k].reshape(-1), barrier, phases, m, w)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    want = np.arange(1, 2 * m + 1)
    for ph in range(phases):
        assert np.array_equal(np.sort(got[:, ph].ravel()), want), f"phase {ph}"
    assert (shared[ROW + L.FW_START], shared[ROW + L.FW_COUNT]) == (phases * w, 2 * m)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_should_not_block_or_tear_the_window_when_a_pusher_is_stopped_or_killed() -> None:
    _buf, shared, scratch = _shared_window()
    _hammer(np.zeros_like(shared), np.zeros(1, np.int64), 1, 1)  # compile before forking
    _spin_until(np.ones(1, np.int64), 0)
    _shard_pushes(np.zeros_like(shared), 10)
    # A hammers the broker window nonstop. While B (a shard) decides batches, A is
    # SIGSTOPped 30 times at random instants (a lock holder descheduled mid-hold),
    # each time for longer than a spin lock's budget, then SIGKILLed mid-push.
    pid_a = os.fork()
    if pid_a == 0:  # pragma: no cover - child
        try:
            store_word_release(scratch, 1, 1)  # "running"
            _hammer(shared, scratch[8:], 1 << 62, 1_000)
        finally:
            os._exit(0)
    try:
        _spin_until(scratch, 1)
        pid_b, r_b = _fork(_shard_pushes, shared, 1 << 62, scratch[2:3])
        rng = np.random.default_rng(11)
        for _ in range(30):
            time.sleep(float(rng.uniform(0, 0.004)))
            os.kill(pid_a, signal.SIGSTOP)
            time.sleep(0.01)
            os.kill(pid_a, signal.SIGCONT)
        os.kill(pid_a, signal.SIGKILL)
        os.waitpid(pid_a, 0)
        pid_a = 0
        time.sleep(0.05)  # B alone on the window after A's death
        store_word_release(scratch, 2, 1)
        done_b, accepted, unavailable = _result(pid_b, r_b)
    finally:
        if pid_a:
            os.kill(pid_a, signal.SIGKILL)
            os.waitpid(pid_a, 0)
    assert done_b > 0 and (accepted, unavailable) == (done_b, 0)
    done_a = int(scratch[8])
    assert done_a > 0, "A must have pushed before it was killed"
    # A died between two instructions: its last swap happened or not, never half of it.
    assert shared[ROW + L.FW_COUNT] - (done_b + done_a) in (0, 1)
    assert shared[ROW + L.FW_START] == 1_000
