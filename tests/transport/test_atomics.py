"""kernels.atomics: semantics, the emitted IR/asm, no hoisting of spin loops, cross-process RMW."""

from __future__ import annotations

import multiprocessing as mp
import re
import threading
import time

import numpy as np
from numba import njit, types

from openpit_shm.kernels.atomics import (
    cas,
    cpu_relax,
    fence_seqcst,
    fetch_add,
    load_acquire,
    load_relaxed,
    load_word_acquire,
    store_relaxed,
    store_release,
    store_seqcst,
    store_word_release,
)
from openpit_shm.layout.segment import SEGMENT_KIND_STATE
from openpit_shm.shm.segment import Segment


# Functions whose IR/asm is inspected are not cached: Numba cannot inspect cached code.
@njit(cache=False)
def _all_ops(a):
    store_release(a, 0, 5)
    x = load_acquire(a, 0)
    old = fetch_add(a, 0, 3)  # 5 -> 8
    seen_ok = cas(a, 0, 8, 100)  # succeeds: returns 8
    seen_bad = cas(a, 0, 8, 200)  # fails: returns 100, a[0] stays 100
    store_seqcst(a, 1, 7)
    store_relaxed(a, 2, -9)
    fence_seqcst()
    cpu_relax()
    return x, old, seen_ok, seen_bad, a[0], load_relaxed(a, 1), a[2]


@njit(cache=False, nogil=True)
def _spin_atomic(a, n):
    for i in range(n):
        if load_relaxed(a, 0) != 0:
            return i
        cpu_relax()
    return n


@njit(cache=False)
def _wait_plain(a):
    while a[0] == 0:  # the bug the atomics exist to prevent: this read is hoisted
        pass
    return 1


@njit(cache=False)
def _wait_relaxed(a):
    while load_relaxed(a, 0) == 0:
        pass
    return 1


def _native_asm(dispatcher) -> str:
    """The asm of the native (not the CPython wrapper) function of a compiled dispatcher."""
    dispatcher.compile((types.int64[::1],))
    asm = dispatcher.inspect_asm(dispatcher.signatures[0])
    name = re.search(r"^(_ZN(?!7cpython)\S+):$", asm, re.M)
    assert name, "native function not found in the asm"
    body = asm[name.end() :]
    return body[: body.index(".Lfunc_end")]


def _loops_reload_memory(asm: str) -> list[bool]:
    """For every backward jump in ``asm``: does the loop body read memory (``(%reg)``)?"""
    lines = []
    for raw in asm.splitlines():
        ln = raw.strip()
        if (ln and not ln.startswith(".")) or re.match(r"^\.LBB\w+:$", ln):
            lines.append(ln)
    result = []
    for j, ln in enumerate(lines):
        m = re.match(r"^j\w*\s+(\.LBB\w+)$", ln)
        if not m:
            continue
        label = m.group(1) + ":"
        if label in lines[:j]:
            body = lines[lines.index(label) + 1 : j + 1]
            result.append(any("(%" in b for b in body))
    return result


@njit(cache=True)
def _hammer(a, n):
    for _ in range(n):
        fetch_add(a, 0, 1)
        while True:
            old = load_relaxed(a, 1)
            if cas(a, 1, old, old + 1) == old:
                break


def test_should_apply_every_operation_with_its_documented_result():
    a = np.zeros(8, np.int64)
    assert _all_ops(a) == (5, 5, 8, 100, 100, 7, -9)


def test_should_work_on_a_view_of_shared_memory_from_python():
    with Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        view = seg.words[16:24]
        store_word_release(view, 3, 42)
        assert load_word_acquire(view, 3) == 42
        assert seg.words[19] == 42


def test_should_emit_llvm_atomics_and_locked_instructions():
    a = np.zeros(8, np.int64)
    _all_ops(a)
    sig = _all_ops.signatures[0]
    llvm = _all_ops.inspect_llvm(sig)
    asm = _all_ops.inspect_asm(sig)
    for needle in (
        "load atomic i64",
        "acquire",
        "monotonic",
        "store atomic i64",
        "release",
        "seq_cst",
        "atomicrmw add",
        "cmpxchg",
        "fence seq_cst",
        "llvm.x86.sse2.pause",
    ):
        assert needle in llvm, needle
    assert re.search(r"lock\s+xadd", asm)
    assert re.search(r"lock\s+cmpxchg", asm)
    assert "pause" in asm


def test_should_reload_a_relaxed_load_on_every_spin_iteration():
    # The IR of the spin loop keeps the atomic load inside the loop body.
    a = np.zeros(8, np.int64)
    _spin_atomic(a, 1)
    llvm = _spin_atomic.inspect_llvm(_spin_atomic.signatures[0])
    assert "load atomic i64" in llvm and "monotonic" in llvm
    # Functionally: another thread's store ends the spin long before n iterations.
    a[0] = 0
    threading.Timer(0.05, lambda: a.__setitem__(0, 1)).start()
    n = 10**9
    t0 = time.monotonic()
    got = _spin_atomic(a, n)
    assert got < n
    assert time.monotonic() - t0 < 30


def test_should_keep_the_load_inside_a_spin_loop_in_the_asm():
    loops = _loops_reload_memory(_native_asm(_wait_relaxed))
    assert loops and all(loops)


def test_should_show_that_a_plain_read_spin_loop_is_hoisted():
    # The control: with a plain a[0] read, LLVM loads once and spins on a register
    # (here: a `jmp` to itself). Never run it; just show the asm check catches it.
    loops = _loops_reload_memory(_native_asm(_wait_plain))
    assert loops and not any(loops)


def _child_hammer(name: str, n: int) -> None:
    seg = Segment.attach(name, kind=SEGMENT_KIND_STATE)
    _hammer(seg.words[16:24], n)
    seg.close()


def test_should_not_lose_increments_across_processes():
    n = 100_000
    _hammer(np.zeros(8, np.int64), 1)  # compile before forking
    with Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        ctx = mp.get_context("fork")
        procs = [ctx.Process(target=_child_hammer, args=(seg.name, n)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        assert seg.words[16] == 2 * n  # fetch_add
        assert seg.words[17] == 2 * n  # CAS loop
