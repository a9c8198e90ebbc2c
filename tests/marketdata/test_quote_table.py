"""The seqlocked quote table: layout, single-process edge cases and a two-process stress test."""

from __future__ import annotations

import mmap
import multiprocessing as mp
import os

import numpy as np
import pytest
from numba import njit

from openpit_shm.kernels.atomics import cpu_relax, load_acquire, store_release
from openpit_shm.kernels.quotes import (
    quote_age,
    quote_clear,
    quote_expired,
    quote_read,
    quote_read_fresh,
    quote_write,
)
from openpit_shm.layout.quotes import (
    QUOTE_BUSY,
    QUOTE_DTYPE,
    QUOTE_EMPTY,
    QUOTE_EXPIRED,
    QUOTE_OK,
    QUOTE_ROW_BYTES,
    QUOTE_TTL_INFINITE,
    QUOTE_W_AGE_NS,
    QUOTE_W_ASK,
    QUOTE_W_BID,
    QUOTE_W_FLAGS,
    QUOTE_W_INSTRUMENT,
    QUOTE_W_MARK,
    QUOTE_W_PUSHED_NS,
    QUOTE_W_SEQ,
    quote_table_bytes,
)

I64_MAX = (1 << 63) - 1


def table(rows: int = 4) -> np.ndarray:
    return np.zeros((rows, 8), np.int64)


def test_should_place_each_field_at_its_documented_word() -> None:
    assert QUOTE_DTYPE.itemsize == QUOTE_ROW_BYTES == 64
    words = {
        "seq": QUOTE_W_SEQ,
        "flags": QUOTE_W_FLAGS,
        "mark": QUOTE_W_MARK,
        "bid": QUOTE_W_BID,
        "ask": QUOTE_W_ASK,
        "pushed_ns": QUOTE_W_PUSHED_NS,
        "age_ns": QUOTE_W_AGE_NS,
        "instrument": QUOTE_W_INSTRUMENT,
    }
    for name, word in words.items():
        assert QUOTE_DTYPE.fields[name][1] == word * 8
    assert quote_table_bytes(3) == 192
    with pytest.raises(ValueError):
        quote_table_bytes(0)


def test_should_read_empty_before_any_write_and_after_a_clear() -> None:
    t, out = table(), np.zeros(8, np.int64)
    assert quote_read(t, 2, out) == QUOTE_EMPTY
    assert quote_write(t, 2, 7, 10, 20, 30, 100, 5, 42) == QUOTE_OK
    assert quote_read(t, 2, out) == QUOTE_OK
    assert out.tolist() == [2, 7, 10, 20, 30, 100, 5, 42]
    assert quote_clear(t, 2, 42) == QUOTE_OK
    assert quote_read(t, 2, out) == QUOTE_EMPTY
    assert t[2, QUOTE_W_SEQ] == 4  # two completed writes
    assert t[1].tolist() == [0] * 8 and t[3].tolist() == [0] * 8  # neighbours untouched


def test_should_expire_at_exactly_the_ttl() -> None:
    t, out = table(), np.zeros(8, np.int64)
    quote_write(t, 0, 9, 5, 0, 0, 1_000, 300, 1)  # pushed at 1000 ns, already 300 ns old
    assert quote_read_fresh(t, 0, 1_000, 1_699, out) == QUOTE_OK
    assert quote_read_fresh(t, 0, 1_000, 1_700, out) == QUOTE_EXPIRED
    assert out[QUOTE_W_MARK] == 5  # the stale quote is still handed back
    assert quote_read_fresh(t, 0, 0, 1_000, out) == QUOTE_EXPIRED  # TTL 0: at once
    assert quote_read_fresh(t, 0, QUOTE_TTL_INFINITE, I64_MAX, out) == QUOTE_OK
    assert quote_read_fresh(t, 1, 10, 0, out) == QUOTE_EMPTY


def test_should_saturate_ages_instead_of_wrapping() -> None:
    assert quote_age(100, 5, 50) == 5  # a clock behind the push counts as no time
    assert quote_age(-(1 << 62), 1 << 62, 1 << 62) == I64_MAX
    assert quote_age(-I64_MAX, 0, I64_MAX) == I64_MAX
    assert quote_age(0, I64_MAX, 10) == I64_MAX
    assert quote_expired(0, I64_MAX, I64_MAX, 0)
    assert not quote_expired(0, I64_MAX, QUOTE_TTL_INFINITE, 0)


def test_should_fail_closed_on_a_row_left_mid_write() -> None:
    t, out = table(), np.zeros(8, np.int64)
    quote_write(t, 0, 1, 5, 0, 0, 0, 0, 1)
    t[0, QUOTE_W_SEQ] += 1  # a writer died inside the row
    out[:] = -1
    assert quote_read(t, 0, out) == QUOTE_BUSY
    assert out.tolist() == [-1] * 8  # nothing copied
    assert quote_write(t, 0, 1, 6, 0, 0, 0, 0, 1) == QUOTE_BUSY


# ----------------------------------------------------------------------------- two processes

WRITES = 2_000_000
MIN_READS = 100_000  # the writer keeps going until the reader has overlapped this many reads
MAX_WRITES = 1 << 31  # ... within a bound, so a starved reader fails the test, never hangs it
SLOTS = 2
SALT = 0x5A5A5A5A


@njit(cache=False)
def _writer(t, ctrl, writes):  # type: ignore[no-untyped-def]
    for _ in range(1 << 30):  # wait (bounded) until the reader runs
        if load_acquire(ctrl, 0) == 1:
            break
        cpu_relax()
    busy = 0
    k = 0
    # At least ``writes``, and on until the reader has read concurrently for a while: on a
    # loaded host the reader may be scheduled late, and reads after the last write prove
    # nothing about tearing.
    while k < writes or (load_acquire(ctrl, 7) < MIN_READS and k < MAX_WRITES):
        k += 1
        if quote_write(t, k % SLOTS, 7, k, 3 * k, -k, 5 * k, 7 * k, k ^ SALT) != QUOTE_OK:
            busy += 1
    store_release(ctrl, 2, busy)
    store_release(ctrl, 8, k)
    store_release(ctrl, 1, 1)


@njit(cache=False)
def _reader(t, ctrl, seed, out):  # type: ignore[no-untyped-def]
    store_release(ctrl, 0, 1)
    x = seed
    ok = bad = empty = busy = 0
    reads = 0
    while load_acquire(ctrl, 1) == 0:
        reads += 1
        if reads % 1024 == 0:
            store_release(ctrl, 7, reads)
        x ^= (x << 13) & 0x7FFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0x7FFFFFFFFFFFFFFF
        slot = x % SLOTS
        code = quote_read(t, slot, out)
        if code == QUOTE_OK:
            k = out[QUOTE_W_MARK]
            if (
                out[QUOTE_W_SEQ] & 1 != 0
                or out[QUOTE_W_FLAGS] != 7
                or k % SLOTS != slot
                or out[QUOTE_W_BID] != 3 * k
                or out[QUOTE_W_ASK] != -k
                or out[QUOTE_W_PUSHED_NS] != 5 * k
                or out[QUOTE_W_AGE_NS] != 7 * k
                or out[QUOTE_W_INSTRUMENT] != k ^ SALT
            ):
                bad += 1
            else:
                ok += 1
        elif code == QUOTE_EMPTY:
            empty += 1
        else:
            busy += 1
    ctrl[3] = ok
    ctrl[4] = bad
    ctrl[5] = empty
    ctrl[6] = busy


def _pinned(cpu: int, fn, *args) -> None:  # type: ignore[no-untyped-def]
    os.sched_setaffinity(0, {cpu})
    fn(*args)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_should_never_return_a_torn_quote_across_processes(seed: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        pytest.skip("needs two CPUs: the writer and the reader both spin")
    buf = mmap.mmap(-1, quote_table_bytes(SLOTS) + 128)  # shared, anonymous: children inherit it
    words = np.frombuffer(buf, np.int64)
    t = words[: SLOTS * 8].reshape(SLOTS, 8)
    ctrl = words[SLOTS * 8 : SLOTS * 8 + 16]
    out = np.zeros(8, np.int64)
    go = np.zeros(16, np.int64)
    go[0], go[7] = 1, MIN_READS  # a reader is there and has read enough: one write
    _writer(table(SLOTS), go, 1)  # compile before forking
    stop = np.zeros(16, np.int64)
    stop[1] = 1
    _reader(table(SLOTS), stop, seed, out)
    ctrl[:] = 0
    ctx = mp.get_context("fork")
    reader = ctx.Process(target=_pinned, args=(cpus[1], _reader, t, ctrl, seed, out))
    writer = ctx.Process(target=_pinned, args=(cpus[0], _writer, t, ctrl, WRITES))
    reader.start()
    writer.start()
    writer.join(120)
    reader.join(120)
    assert writer.exitcode == 0 and reader.exitcode == 0
    ok, bad = int(ctrl[3]), int(ctrl[4])
    assert bad == 0, f"{bad} torn quotes returned ({ok} good reads)"
    assert ok > 0
    assert ctrl[2] == 0  # a single writer never finds the row busy
    assert ctrl[7] >= MIN_READS  # the reads overlapped the writes
    assert t[:, QUOTE_W_SEQ].sum() == 2 * ctrl[8]  # every write completed its sequence
    del t, ctrl, words
    buf.close()
