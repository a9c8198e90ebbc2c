"""CPU atomics on int64 slots of NumPy arrays, usable from ``@njit`` code.

Numba has no public atomics API, so each operation below is a
``numba.extending.intrinsic`` that emits the LLVM atomic instruction directly:

=========================  ==================================================  ==================
function                   LLVM                                                x86-64
=========================  ==================================================  ==================
``load_acquire(a, i)``     ``load atomic i64 acquire``                         ``mov``
``load_relaxed(a, i)``     ``load atomic i64 monotonic``                       ``mov``
``store_release(a, i, v)`` ``store atomic i64 release``                        ``mov``
``store_relaxed(a, i, v)`` ``store atomic i64 monotonic``                      ``mov``
``store_seqcst(a, i, v)``  ``store atomic i64 seq_cst``                        ``xchg``
``fetch_add(a, i, v)``     ``atomicrmw add acq_rel`` (returns the old value)   ``lock xadd``
``cas(a, i, e, d)``        ``cmpxchg acq_rel acquire`` (returns the old value) ``lock cmpxchg``
``fence_seqcst()``         ``fence seq_cst``                                   ``mfence``
``compiler_fence()``       ``fence syncscope("singlethread") seq_cst``         (nothing)
``cpu_relax()``            ``llvm.x86.sse2.pause`` (``yield`` hint on arm64)   ``pause``
=========================  ==================================================  ==================

``a`` must be a 1-d int64 array (any C-contiguous view works, in particular a
view of an mmap'd shared-memory segment); ``i`` is an element index. There is
**no bounds check and no negative-index wraparound**: these sit on hot paths.

Why atomics even where x86 would emit a plain ``mov``: they stop the *compiler*
from caching, hoisting, merging or reordering the access. A plain ``a[i]`` read
in a spin loop is hoisted by LLVM into an infinite loop (see
``tests/transport/test_atomics.py``), and the same code stays correct on
weakly ordered CPUs (arm64 ``ldar``/``stlr``).

Every shared word polled in a loop must be read with ``load_acquire`` (when
the data it guards is read afterwards) or ``load_relaxed`` (a pure flag/counter
read). ``load_word_acquire``/``store_word_release`` are njit wrappers callable
from Python (each call costs a Numba dispatch, about 200 ns).
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

__all__ = [
    "cas",
    "compiler_fence",
    "cpu_relax",
    "fence_seqcst",
    "fetch_add",
    "load_acquire",
    "load_relaxed",
    "load_word_acquire",
    "store_relaxed",
    "store_release",
    "store_seqcst",
    "store_word_release",
]

_MACHINE = platform.machine().lower()
_IS_X86 = _MACHINE in ("x86_64", "amd64", "i386", "i686")


def _check_slot(arr: types.Type, idx: types.Type) -> None:
    """Typing-time check: only int64 slots of 1-d arrays are supported."""
    if not isinstance(arr, types.Array) or arr.dtype != types.int64 or arr.ndim != 1:
        raise TypeError(f"atomics need a 1-d int64 array, got {arr}")
    if not isinstance(idx, types.Integer):
        raise TypeError(f"atomics need an integer index, got {idx}")


def _slot_ptr(context, builder, arrty, arr, idxty, idx):  # type: ignore[no-untyped-def]
    """Pointer to ``arr[idx]`` (no bounds check, no wraparound)."""
    ary = make_array(arrty)(context, builder, arr)
    idx = context.cast(builder, idx, idxty, types.intp)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [idx], wraparound=False)


def _as_i64(context, builder, val, valty):  # type: ignore[no-untyped-def]
    return context.cast(builder, val, valty, types.int64)


def _make_load(ordering: str):  # type: ignore[no-untyped-def]
    @intrinsic
    def _load(typingctx, arr, idx):  # type: ignore[no-untyped-def]
        _check_slot(arr, idx)

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            ptr = _slot_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            return builder.load_atomic(ptr, ordering, 8)

        return types.int64(arr, idx), codegen

    return _load


def _make_store(ordering: str):  # type: ignore[no-untyped-def]
    @intrinsic
    def _store(typingctx, arr, idx, val):  # type: ignore[no-untyped-def]
        _check_slot(arr, idx)
        if not isinstance(val, types.Integer):
            raise TypeError(f"atomic store needs an integer value, got {val}")

        def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
            ptr = _slot_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            builder.store_atomic(_as_i64(context, builder, args[2], sig.args[2]), ptr, ordering, 8)
            return context.get_dummy_value()

        return types.none(arr, idx, val), codegen

    return _store


#: ``v = a[i]`` with acquire ordering: later reads cannot move before it.
load_acquire = _make_load("acquire")
#: ``v = a[i]`` atomically, no ordering: for flags and counters polled in loops.
load_relaxed = _make_load("monotonic")
#: ``a[i] = v`` with release ordering: earlier writes are visible before it.
store_release = _make_store("release")
#: ``a[i] = v`` atomically, no ordering.
store_relaxed = _make_store("monotonic")
#: ``a[i] = v`` sequentially consistent (a full barrier on x86: ``xchg``).
store_seqcst = _make_store("seq_cst")


@intrinsic
def fetch_add(typingctx, arr, idx, val):  # type: ignore[no-untyped-def]
    """``old = a[i]; a[i] += v`` atomically (acq_rel); returns ``old``."""
    _check_slot(arr, idx)
    if not isinstance(val, types.Integer):
        raise TypeError(f"fetch_add needs an integer value, got {val}")

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        ptr = _slot_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        v = _as_i64(context, builder, args[2], sig.args[2])
        return builder.atomic_rmw("add", ptr, v, "acq_rel")

    return types.int64(arr, idx, val), codegen


@intrinsic
def cas(typingctx, arr, idx, expected, desired):  # type: ignore[no-untyped-def]
    """Strong compare-and-swap (acq_rel / acquire on failure).

    Returns the value observed in ``a[i]``: equal to ``expected`` exactly when
    the swap happened.
    """
    _check_slot(arr, idx)
    if not isinstance(expected, types.Integer) or not isinstance(desired, types.Integer):
        raise TypeError("cas needs integer expected/desired values")

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        ptr = _slot_ptr(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        e = _as_i64(context, builder, args[2], sig.args[2])
        d = _as_i64(context, builder, args[3], sig.args[3])
        pair = builder.cmpxchg(ptr, e, d, "acq_rel", "acquire")
        return builder.extract_value(pair, 0)

    return types.int64(arr, idx, expected, desired), codegen


@intrinsic
def fence_seqcst(typingctx):  # type: ignore[no-untyped-def]
    """A full memory barrier (orders earlier stores before later loads: Dekker)."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def compiler_fence(typingctx):  # type: ignore[no-untyped-def]
    """Keep the compiler from moving memory accesses across this point (emits no instruction).

    For a process's own program order as another process sees it after the
    first one died (every store it executed is visible then): a marker store
    must not be sunk below, nor later stores hoisted above, the work it marks.
    """

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        builder.fence("seq_cst", "singlethread")
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def cpu_relax(typingctx):  # type: ignore[no-untyped-def]
    """Spin-loop hint (x86 ``pause``): saves power and frees the sibling hyperthread."""

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        if _IS_X86:
            fnty = ir.FunctionType(ir.VoidType(), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse2.pause")
            builder.call(fn, [])
        else:
            # arm64 ``yield``: an inline-asm hint; other CPUs get a compiler barrier only.
            asm = "yield" if _MACHINE in ("aarch64", "arm64") else ""
            fnty = ir.FunctionType(ir.VoidType(), [])
            builder.call(ir.InlineAsm(fnty, asm, "~{memory}", side_effect=True), [])
        return context.get_dummy_value()

    return types.none(), codegen


@njit(cache=True)
def load_word_acquire(a, i):  # type: ignore[no-untyped-def]
    """Python-callable ``load_acquire`` (one Numba dispatch)."""
    return load_acquire(a, i)


@njit(cache=True)
def store_word_release(a, i, v):  # type: ignore[no-untyped-def]
    """Python-callable ``store_release`` (one Numba dispatch)."""
    store_release(a, i, v)
