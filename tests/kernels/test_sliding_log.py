"""Bounded sliding-window logs against openpit's unbounded deque (the reference model)."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from openpit_shm.kernels.sliding_log import log_class_for
from openpit_shm.layout.state import LG_R, LOG_CAP_DEFAULT

from ._support import bare_arena, log_new, log_resize, log_run


class DequeLog:
    """openpit's precise sliding-window log: drop ``now - ts >= window``, then push."""

    def __init__(self) -> None:
        self.q: deque[int] = deque()

    def _drop(self, now: int, window: int) -> None:
        while self.q and now - self.q[0] >= window:
            self.q.popleft()

    def push(self, now: int, window: int) -> int:
        self._drop(now, window)
        self.q.append(now)
        return len(self.q)

    def peek(self, now: int, window: int) -> int:
        return sum(1 for ts in self.q if now - ts < window) + 1


def _stream(seed: int, n: int, window: int, mean_gap: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gaps = rng.geometric(1 / mean_gap, n) - 1  # bursts of equal timestamps included
    times = np.cumsum(gaps).astype(np.int64) + 1_000
    dry = rng.random(n) < 0.2
    return times, dry


def _run(cls: int, times: np.ndarray, dry: np.ndarray, window: int) -> np.ndarray:
    st = bare_arena(1 << 16)
    off = log_new(st, cls)
    counts = np.zeros_like(times)
    log_run(st, off, times, np.full_like(times, window), dry, counts)
    return counts


def _reference(times: np.ndarray, dry: np.ndarray, window: int) -> np.ndarray:
    ref = DequeLog()
    return np.array(
        [ref.peek(int(t), window) if d else ref.push(int(t), window) for t, d in zip(times, dry)]
    )


@pytest.mark.parametrize("seed", range(6))
def test_should_count_exactly_like_the_deque_while_the_window_fits(seed: int) -> None:
    window = 1_000
    # mean gap 100 -> about 10 entries per window; a ring of 32 always holds them
    times, dry = _stream(seed, 5_000, window, 100)
    ref = _reference(times, dry, window)
    assert ref.max() <= 32
    assert (_run(log_class_for(31, LOG_CAP_DEFAULT), times, dry, window) == ref).all()


@pytest.mark.parametrize("max_orders", [0, 1, 3, 7, 20])
def test_should_decide_exactly_whenever_the_ring_exceeds_max_orders(max_orders: int) -> None:
    window = 1_000
    times, dry = _stream(max_orders, 8_000, window, 30)  # ~33 per window: floods small rings
    ref = _reference(times, dry, window)
    ours = _run(log_class_for(max_orders, LOG_CAP_DEFAULT), times, dry, window)
    assert ((ours > max_orders) == (ref > max_orders)).all()
    assert (ours >= ref).all()
    fits = ref <= max_orders + 1
    assert (ours[fits] == ref[fits]).all()  # counts exact while the entries fit


@pytest.mark.parametrize("seed", range(4))
def test_should_never_undercount_in_summary_only_mode(seed: int) -> None:
    window = 10_000
    times, dry = _stream(seed, 20_000, window, 40)  # ~250 per window, no ring at all
    ref = _reference(times, dry, window)
    ours = _run(0, times, dry, window)
    assert (ours >= ref).all()
    # over-count bounded by one summary slot (window / 5) worth of attempts, plus slack
    assert (ours - ref).max() <= ref.max() // 2


def test_should_count_an_infinite_window_exactly_even_without_a_ring() -> None:
    times = np.arange(1, 3_001, dtype=np.int64)
    dry = np.zeros_like(times, dtype=bool)
    huge = -1  # u64 window of 2**64 - 1 ns, as int64 bits
    ours = _run(0, times, dry, huge)
    assert (ours == np.arange(1, 3_001)).all()


def test_should_peek_without_changing_the_log() -> None:
    times = np.array([10, 20, 20, 30, 31], dtype=np.int64)
    dry = np.array([False, True, True, True, False])
    # peeks at 20 and 30 see 1 entry + the would-be push; the real push at 31 sees 2
    assert _run(3, times, dry, 100).tolist() == [1, 2, 2, 2, 2]


def test_should_keep_newest_entries_when_the_ring_shrinks_and_regrows() -> None:
    st = bare_arena(1 << 16)
    off = log_new(st, 5)  # ring of 16
    times = np.arange(100, 110, dtype=np.int64)
    counts = np.zeros_like(times)
    log_run(st, off, times, np.full_like(times, 1_000), np.zeros(10, bool), counts)
    small = log_resize(st, off, 2, 110, 1_000)  # ring of 2: 8 entries move to the summary
    assert small != off and st[small + LG_R] == 2
    peek = np.zeros(1, np.int64)
    w = np.array([1_000], np.int64)
    log_run(st, small, np.array([111], np.int64), w, np.ones(1, bool), peek)
    assert peek[0] == 11  # nothing lost: 10 logged + the would-be push
    big = log_resize(st, small, 7, 111, 1_000)  # ring of 64
    log_run(st, big, np.array([112], np.int64), w, np.zeros(1, bool), peek)
    assert peek[0] == 11


def test_should_rebucket_conservatively_when_the_window_changes() -> None:
    st = bare_arena(1 << 16)
    off = log_new(st, 0)  # summary only
    times = np.arange(0, 50, dtype=np.int64) * 10
    counts = np.zeros_like(times)
    log_run(st, off, times, np.full_like(times, 1_000), np.zeros(50, bool), counts)
    assert counts[-1] == 50
    # shrink the window to 100 ns: only ~10 entries are live, but never fewer may be counted
    probe = np.zeros(1, np.int64)
    w = np.array([100], np.int64)
    push = np.zeros(1, bool)
    log_run(st, off, np.array([495], np.int64), w, push, probe)
    assert probe[0] >= 11
    # once the newest summarized entry expires, the count is exact again
    log_run(st, off, np.array([10_000], np.int64), w, push, probe)
    assert probe[0] == 1
