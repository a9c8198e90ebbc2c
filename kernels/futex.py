"""The OS side of spin-then-park, callable from ``@njit`` code: futex, yield, clock.

=============================================  =========================================
function                                       what
=============================================  =========================================
``futex_wait(a, i, expected, timeout_ns)``     sleep while the low 32 bits of ``a[i]``
                                               equal ``expected`` (at most ``timeout_ns``;
                                               ``< 0`` = no timeout); returns a
                                               ``FUTEX_*`` code
``futex_wake(a, i, n)``                        wake up to ``n`` waiters on ``a[i]``;
                                               returns how many were woken
``sched_yield()``                              give the CPU to another runnable thread
``monotonic_ns()``                             ``CLOCK_MONOTONIC`` in nanoseconds (vDSO)
=============================================  =========================================

Futexes here are *shared* (no ``FUTEX_PRIVATE_FLAG``): the kernel keys them by
the physical page, so waiters and wakers in different processes that map the
same shared-memory segment meet. The futex word is the low 32 bits of an int64
slot (little-endian: the same address as the slot).

How the calls are made: at import we register the addresses of libc's
``syscall``, ``clock_gettime``, ``sched_yield`` and ``__errno_location`` with
LLVM under private names (``llvmlite.binding.add_symbol``), and the intrinsics
below emit plain external calls to those names. Unlike calling a ctypes
function object from njit (whose address is baked into the code and disables
``cache=True``), this keeps every caller cacheable: a new process imports this
module, re-registers the names, and the cached machine code links against them.
"""

from __future__ import annotations

import ctypes
import platform
import sys

import llvmlite.binding as ll
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import njit

__all__ = [
    "FUTEX_AGAIN",
    "FUTEX_INTERRUPTED",
    "FUTEX_OK",
    "FUTEX_TIMEDOUT",
    "futex_wait",
    "futex_waiter",
    "futex_waitv",
    "futex_wake",
    "monotonic_ns",
    "sched_yield",
]

if sys.byteorder != "little":  # pragma: no cover - the records are little-endian anyway
    raise ImportError("openpit_shm futexes use the low half of an int64 slot: little-endian only")

#: ``futex_wait`` codes.
FUTEX_OK = 0  #: woken by ``futex_wake`` (or spuriously): re-check the condition
FUTEX_AGAIN = 1  #: the word did not hold ``expected`` when the call started
FUTEX_TIMEDOUT = 2  #: ``timeout_ns`` passed
FUTEX_INTERRUPTED = 3  #: a signal interrupted the wait

_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}.get(
    platform.machine().lower(), -1
)
_SYS_FUTEX_WAITV = 449  # the same number on x86_64 and aarch64 (Linux >= 5.16)
_FUTEX2_SIZE_U32 = 2  # futex_waitv flags: 32-bit word, shared (no FUTEX2_PRIVATE)
_FUTEX_WAIT = 0  # shared (no FUTEX_PRIVATE_FLAG = 128): works across processes
_FUTEX_WAKE = 1
_CLOCK_MONOTONIC = 1
_EAGAIN, _EINTR, _ETIMEDOUT = 11, 4, 110

_libc = ctypes.CDLL(None, use_errno=True)
for _sym, _fn in (
    ("openpit_shm_syscall", _libc.syscall),
    ("openpit_shm_clock_gettime", _libc.clock_gettime),
    ("openpit_shm_sched_yield", _libc.sched_yield),
    ("openpit_shm_errno_location", _libc.__errno_location),
):
    ll.add_symbol(_sym, ctypes.cast(_fn, ctypes.c_void_p).value)

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_TIMESPEC = ir.LiteralStructType([_I64, _I64])


def _extern(builder, name, ret, args, var_arg=False):  # type: ignore[no-untyped-def]
    fnty = ir.FunctionType(ret, args, var_arg=var_arg)
    return cgutils.get_or_insert_function(builder.module, fnty, name)


@intrinsic
def _futex_syscall(typingctx, addr, op, val, timeout_ns):  # type: ignore[no-untyped-def]
    """``syscall(SYS_futex, addr, op, val, timeout?, 0, 0)``; returns ``-errno`` on failure.

    ``timeout_ns < 0`` passes a NULL timeout (wait forever).
    """
    sig = types.int64(types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        a_addr, a_op, a_val, a_tmo = (
            context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args)
        )
        ts = cgutils.alloca_once(builder, _TIMESPEC)
        billion = ir.Constant(_I64, 1_000_000_000)
        builder.store(builder.sdiv(a_tmo, billion), builder.gep(ts, [_I32(0), _I32(0)]))
        builder.store(builder.srem(a_tmo, billion), builder.gep(ts, [_I32(0), _I32(1)]))
        ts_int = builder.ptrtoint(ts, _I64)
        no_timeout = builder.icmp_signed("<", a_tmo, ir.Constant(_I64, 0))
        ts_arg = builder.select(no_timeout, ir.Constant(_I64, 0), ts_int)
        fn = _extern(builder, "openpit_shm_syscall", _I64, [_I64], var_arg=True)
        zero = ir.Constant(_I64, 0)
        res = builder.call(
            fn, [ir.Constant(_I64, _SYS_FUTEX), a_addr, a_op, a_val, ts_arg, zero, zero]
        )
        errloc = builder.call(
            _extern(builder, "openpit_shm_errno_location", _I32.as_pointer(), []), []
        )
        err = builder.sext(builder.load(errloc), _I64)
        failed = builder.icmp_signed("<", res, zero)
        return builder.select(failed, builder.neg(err), res)

    return sig, codegen


@intrinsic
def sched_yield(typingctx):  # type: ignore[no-untyped-def]
    """``sched_yield()``: let another runnable thread have this CPU."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        builder.call(_extern(builder, "openpit_shm_sched_yield", _I32, []), [])
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def monotonic_ns(typingctx):  # type: ignore[no-untyped-def]
    """``CLOCK_MONOTONIC`` in ns (same clock as Python's ``time.monotonic_ns``)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        ts = cgutils.alloca_once(builder, _TIMESPEC)
        fn = _extern(builder, "openpit_shm_clock_gettime", _I32, [_I32, _TIMESPEC.as_pointer()])
        builder.call(fn, [_I32(_CLOCK_MONOTONIC), ts])
        sec = builder.load(builder.gep(ts, [_I32(0), _I32(0)]))
        nsec = builder.load(builder.gep(ts, [_I32(0), _I32(1)]))
        return builder.add(builder.mul(sec, ir.Constant(_I64, 1_000_000_000)), nsec)

    return types.int64(), codegen


@njit(cache=True)
def futex_wait(a, i, expected, timeout_ns):  # type: ignore[no-untyped-def]
    """Sleep while the low 32 bits of ``a[i]`` equal ``expected`` (bounded by ``timeout_ns``).

    Returns ``FUTEX_OK`` (woken: re-check your condition), ``FUTEX_AGAIN`` (the
    word had already changed), ``FUTEX_TIMEDOUT`` or ``FUTEX_INTERRUPTED``.
    ``a`` is a 1-d int64 array in shared memory, ``i`` the slot index.
    """
    addr = a.ctypes.data + i * 8
    r = _futex_syscall(addr, _FUTEX_WAIT, expected & 0xFFFFFFFF, timeout_ns)
    if r >= 0:
        return FUTEX_OK
    if r == -_EAGAIN:
        return FUTEX_AGAIN
    if r == -_ETIMEDOUT:
        return FUTEX_TIMEDOUT
    return FUTEX_INTERRUPTED


@njit(cache=True)
def futex_wake(a, i, n):  # type: ignore[no-untyped-def]
    """Wake up to ``n`` processes sleeping on ``a[i]``; returns how many were woken (or -errno)."""
    return _futex_syscall(a.ctypes.data + i * 8, _FUTEX_WAKE, n, -1)


@intrinsic
def _futex_waitv_syscall(typingctx, waiters, count, deadline_ns):  # type: ignore[no-untyped-def]
    """``syscall(SYS_futex_waitv, waiters, count, 0, &deadline, CLOCK_MONOTONIC)`` or -errno.

    ``deadline_ns`` is absolute ``CLOCK_MONOTONIC``; ``< 0`` passes NULL (no timeout).
    """
    sig = types.int64(types.int64, types.int64, types.int64)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        a_w, a_n, a_dl = (context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args))
        ts = cgutils.alloca_once(builder, _TIMESPEC)
        billion = ir.Constant(_I64, 1_000_000_000)
        builder.store(builder.sdiv(a_dl, billion), builder.gep(ts, [_I32(0), _I32(0)]))
        builder.store(builder.srem(a_dl, billion), builder.gep(ts, [_I32(0), _I32(1)]))
        zero = ir.Constant(_I64, 0)
        no_deadline = builder.icmp_signed("<", a_dl, zero)
        ts_arg = builder.select(no_deadline, zero, builder.ptrtoint(ts, _I64))
        fn = _extern(builder, "openpit_shm_syscall", _I64, [_I64], var_arg=True)
        res = builder.call(
            fn,
            [ir.Constant(_I64, _SYS_FUTEX_WAITV), a_w, a_n, zero, ts_arg,
             ir.Constant(_I64, _CLOCK_MONOTONIC)],
        )  # fmt: skip
        errloc = builder.call(
            _extern(builder, "openpit_shm_errno_location", _I32.as_pointer(), []), []
        )
        err = builder.sext(builder.load(errloc), _I64)
        return builder.select(builder.icmp_signed("<", res, zero), builder.neg(err), res)

    return sig, codegen


@njit(cache=True)
def futex_waitv(waiters, count, deadline_ns):  # type: ignore[no-untyped-def]
    """Sleep on several futex words at once until one is woken or ``deadline_ns`` passes.

    ``waiters`` is ``int64[3 * count]``: per word ``(expected, address, flags)``
    as the kernel's ``struct futex_waitv`` (fill it with ``futex_waiter``).
    Returns ``FUTEX_OK``, ``FUTEX_AGAIN`` (a word did not hold its expected
    value), ``FUTEX_TIMEDOUT`` or ``FUTEX_INTERRUPTED``.
    """
    r = _futex_waitv_syscall(waiters.ctypes.data, count, deadline_ns)
    if r >= 0:
        return FUTEX_OK
    if r == -_EAGAIN:
        return FUTEX_AGAIN
    if r == -_ETIMEDOUT:
        return FUTEX_TIMEDOUT
    return FUTEX_INTERRUPTED


@njit(cache=True)
def futex_waiter(waiters, k, a, i, expected):  # type: ignore[no-untyped-def]
    """Make entry ``k`` of a ``futex_waitv`` array wait on ``a[i]`` while it holds ``expected``."""
    waiters[3 * k] = expected & 0xFFFFFFFF
    waiters[3 * k + 1] = a.ctypes.data + i * 8
    waiters[3 * k + 2] = _FUTEX2_SIZE_U32
