"""Raw int64 pointers for the builtin kernels, and atomics on them.

Why pointers: every time an njit function passes a NumPy array to another
njit function, Numba emits ``NRT_incref``/``NRT_decref`` calls around it, and
its reference-count pruning does not remove them once the callee branches.
Measured here, that is ~12 ns per call: more than a whole risk check. So the
entry points (``kernels.pipeline``, ``kernels.control``) take arrays from
Python, turn each into a ``CPointer(int64)`` once with :func:`as_ptr`, and
every inner kernel indexes the pointer (``p[i]``, ``p[i] = v``): same syntax,
no reference counting, no bounds checks (as with arrays, none were done).
The arrays stay alive for the whole entry-point call, so the pointers do too.

Record arrays (``int64[n, 8]``) become flat pointers: word ``k`` of record
``j`` is ``p[j * 8 + k]``.

The atomics below mirror ``kernels.atomics`` (arrays) for pointers; they are
used for the state shared by every shard (``layout.state``, shared array):
the fixed rate windows (:func:`p_cas2`, a 16-byte compare-and-swap over two
adjacent words, so a window's start and count change together without a
lock) and the cross-shard block words (:func:`p_fetch_add`, :func:`p_cas`,
:func:`p_load_relaxed`).
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

__all__ = [
    "addr_ptr",
    "as_ptr",
    "p_cas",
    "p_cas2",
    "p_fetch_add",
    "p_load_acquire",
    "p_load_relaxed",
    "p_offset",
    "p_store_release",
    "prefetch",
]

_I64 = ir.IntType(64)
_I128 = ir.IntType(128)


@intrinsic
def as_ptr(typingctx: Any, arr: Any) -> Any:
    """The data pointer of an array (``CPointer(dtype)``); valid while the array lives."""
    if not isinstance(arr, types.Array):
        raise TypeError(f"as_ptr needs an array, got {arr}")
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return make_array(sig.args[0])(context, builder, args[0]).data

    return sig, codegen


def _check(ptr: Any, idx: Any) -> None:
    if not isinstance(ptr, types.CPointer) or ptr.dtype != types.int64:
        raise TypeError(f"pointer atomics need a CPointer(int64), got {ptr}")
    if not isinstance(idx, types.Integer):
        raise TypeError(f"pointer atomics need an integer index, got {idx}")


def _slot(context: Any, builder: Any, sig: Any, args: Any) -> Any:
    idx = context.cast(builder, args[1], sig.args[1], types.intp)
    return cgutils.gep(builder, args[0], idx)


@intrinsic
def p_load_acquire(typingctx: Any, ptr: Any, idx: Any) -> Any:
    """``p[i]`` with acquire ordering."""
    _check(ptr, idx)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.load_atomic(_slot(context, builder, sig, args), "acquire", 8)

    return types.int64(ptr, idx), codegen


@intrinsic
def p_load_relaxed(typingctx: Any, ptr: Any, idx: Any) -> Any:
    """``p[i]`` as an atomic (monotonic) load: a flag or counter another process updates."""
    _check(ptr, idx)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.load_atomic(_slot(context, builder, sig, args), "monotonic", 8)

    return types.int64(ptr, idx), codegen


@intrinsic
def p_store_release(typingctx: Any, ptr: Any, idx: Any, val: Any) -> Any:
    """``p[i] = v`` with release ordering."""
    _check(ptr, idx)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(v, _slot(context, builder, sig, args), "release", 8)
        return context.get_dummy_value()

    return types.none(ptr, idx, val), codegen


@intrinsic
def p_cas(typingctx: Any, ptr: Any, idx: Any, expected: Any, desired: Any) -> Any:
    """Strong compare-and-swap on ``p[i]`` (acq_rel); returns the value it saw."""
    _check(ptr, idx)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        e = context.cast(builder, args[2], sig.args[2], types.int64)
        d = context.cast(builder, args[3], sig.args[3], types.int64)
        pair = builder.cmpxchg(_slot(context, builder, sig, args), e, d, "acq_rel", "acquire")
        return builder.extract_value(pair, 0)

    return types.int64(ptr, idx, expected, desired), codegen


@intrinsic
def p_fetch_add(typingctx: Any, ptr: Any, idx: Any, val: Any) -> Any:
    """Atomic ``p[i] += v`` (acq_rel); returns the old value."""
    _check(ptr, idx)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        v = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", _slot(context, builder, sig, args), v, "acq_rel")

    return types.int64(ptr, idx, val), codegen


@intrinsic
def p_cas2(
    typingctx: Any, ptr: Any, idx: Any, e0: Any, e1: Any, d0: Any, d1: Any
) -> Any:  # fmt: skip
    """Strong 16-byte compare-and-swap of the pair ``(p[i], p[i + 1])`` (acq_rel).

    ``p + i`` must be 16-byte aligned (the CPU faults otherwise). If the pair
    equals ``(e0, e1)`` it becomes ``(d0, d1)``; either way the pair seen is
    returned, so the swap happened iff it equals ``(e0, e1)``. x86-64 emits
    one ``lock cmpxchg16b`` (arm64: ``casp`` or an exclusive pair loop); a
    process killed around it leaves the pair either old or new, never torn.
    """
    _check(ptr, idx)
    sig = types.UniTuple(types.int64, 2)(ptr, idx, e0, e1, d0, d1)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        def pair(lo: Any, lo_ty: Any, hi: Any, hi_ty: Any) -> Any:
            lo = builder.zext(context.cast(builder, lo, lo_ty, types.int64), _I128)
            hi = builder.zext(context.cast(builder, hi, hi_ty, types.int64), _I128)
            return builder.or_(lo, builder.shl(hi, ir.Constant(_I128, 64)))

        p = builder.bitcast(_slot(context, builder, sig, args), _I128.as_pointer())
        e = pair(args[2], sig.args[2], args[3], sig.args[3])
        d = pair(args[4], sig.args[4], args[5], sig.args[5])
        seen = builder.extract_value(builder.cmpxchg(p, e, d, "acq_rel", "acquire"), 0)
        lo = builder.trunc(seen, _I64)
        hi = builder.trunc(builder.lshr(seen, ir.Constant(_I128, 64)), _I64)
        return context.make_tuple(builder, sig.return_type, [lo, hi])

    return sig, codegen


@intrinsic
def p_offset(typingctx: Any, ptr: Any, n: Any) -> Any:
    """``ptr + n`` elements (a pointer to record ``j`` is ``p_offset(p, 8 * j)``)."""
    if not isinstance(ptr, types.CPointer) or not isinstance(n, types.Integer):
        raise TypeError("p_offset needs a pointer and an integer")

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        k = context.cast(builder, args[1], sig.args[1], types.intp)
        return cgutils.gep(builder, args[0], k)

    return ptr(ptr, n), codegen


@intrinsic
def addr_ptr(typingctx: Any, addr: Any) -> Any:
    """``CPointer(int64)`` from an address (``array.ctypes.data``) passed as an int.

    Passing an address instead of the array saves ~20 ns of unboxing per
    argument on Python -> kernel calls; the caller must keep the array alive
    and pass a fresh address after it reallocates.
    """
    if not isinstance(addr, types.Integer):
        raise TypeError("addr_ptr needs an integer address")
    sig = types.CPointer(types.int64)(addr)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        v = context.cast(builder, args[0], sig.args[0], types.intp)
        return builder.inttoptr(v, ir.PointerType(_I64))

    return sig, codegen


@intrinsic
def prefetch(typingctx: Any, ptr: Any, idx: Any) -> Any:
    """Hint the CPU to fetch ``ptr[idx]``'s cache line (``llvm.prefetch``, read, keep)."""
    if not isinstance(ptr, types.CPointer) or not isinstance(idx, types.Integer):
        raise TypeError("prefetch needs a pointer and an integer index")

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        p = cgutils.gep(builder, args[0], context.cast(builder, args[1], sig.args[1], types.intp))
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        zero, three, one = (ir.Constant(i32, v) for v in (0, 3, 1))
        builder.call(fn, [builder.bitcast(p, i8p), zero, three, one])
        return context.get_dummy_value()

    return types.none(ptr, idx), codegen
