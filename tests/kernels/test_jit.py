"""kernels.jit and kernels.entries: one compile per signature, LLVM inlining, the compile lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numba
import pytest
from numba import types

from openpit_shm.kernels import entries
from openpit_shm.kernels.jit import njit


def _pair(decorate):  # type: ignore[no-untyped-def]
    """A callee called with a constant and with a variable, and its caller."""

    @decorate
    def callee(x, k):  # type: ignore[no-untyped-def]
        return x + k

    @decorate
    def caller(x):  # type: ignore[no-untyped-def]
        n = 0
        for i in range(3):
            n = callee(n, i)
        return callee(x, 7) + n

    return callee, caller


def test_should_compile_a_kernel_once_whatever_constants_its_callers_pass() -> None:
    callee, caller = _pair(njit)
    assert caller(1) == 11
    assert callee.signatures == [(types.int64, types.int64)]


def test_should_show_what_numba_alone_compiles_for_the_same_calls() -> None:
    callee, caller = _pair(numba.njit)
    assert caller(1) == 11
    assert len(callee.signatures) > 1  # literal specializations: the cost kernels.jit removes


def test_should_inline_in_llvm_not_in_numba_ir() -> None:
    @njit(inline="always")
    def tiny(x):  # type: ignore[no-untyped-def]
        return x * 2

    @njit
    def big(x):  # type: ignore[no-untyped-def]
        return tiny(x) + 1

    assert big(3) == 7
    assert tiny.targetoptions["forceinline"] is True and "inline" not in tiny.targetoptions
    assert big.targetoptions["forceinline"] is False
    with pytest.raises(ValueError, match="inline must be"):
        njit(inline="sometimes")


def test_should_let_one_compiler_hold_the_lock_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(entries, "kernel_cache_dir", lambda: tmp_path)
    inside: list[int] = []
    overlaps: list[int] = []

    def compiler(k: int) -> None:
        with entries.compile_lock():
            if inside:
                overlaps.append(k)
            inside.append(k)
            time.sleep(0.05)
            inside.remove(k)

    threads = [threading.Thread(target=compiler, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert overlaps == []
    assert (tmp_path / entries.LOCK_NAME).exists()


def test_should_list_every_entry_once_with_a_dispatcher() -> None:
    assert len(set(entries.ALL)) == len(entries.ALL)
    for entry in entries.ALL:
        assert entry.dispatcher is not None, entry
    assert set(entries.WORKER_KERNELS) | set(entries.SHARDED_CLIENT) <= set(entries.ALL)
