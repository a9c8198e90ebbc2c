"""int64 fixed point with exact 128-bit intermediates, for kernels and for the Python boundary.

Every amount in kernel state and in the records is an int64 holding
``value * 10**scale`` at one engine-wide scale. Sums stay in int64 with
overflow flags; products and quotients go through LLVM ``i128`` so they are
exact, and narrowing a 128-bit result back to int64 is *checked*: a value that
does not fit comes back with ``ok == 0``. Callers turn that into a reject
(``OrderValueCalculationFailed`` / ``ArithmeticOverflow``); nothing ever wraps.

Kernel API (all ``@intrinsic``; arguments are cast to int64):

=================================  =========================================================
``mul_cmp(a, b, c, d)``            sign of ``a*b - c*d`` (-1, 0, 1), exact (no overflow
                                   possible: both products fit in i128)
``mul_div(a, b, d)``               ``(q, ok)``: ``a*b / d`` truncated toward zero
``mul_div_floor(a, b, d)``         ``(q, ok)``: rounded toward -inf
``mul_div_ceil(a, b, d)``          ``(q, ok)``: rounded toward +inf ("requested amounts up")
``add_checked(a, b)``              ``(a + b, ok)`` (``llvm.sadd.with.overflow``)
``sub_checked(a, b)``              ``(a - b, ok)``
``mul_checked(a, b)``              ``(a * b, ok)``
=================================  =========================================================

``ok`` is 0 when the result does not fit int64 or ``d == 0``; ``q`` is then 0.

LLVM lowers i128 division to the compiler-rt/libgcc routines ``__divti3`` and
``__modti3``. Numba's JIT does not provide them, so this module registers the
ones from ``libgcc_s`` with llvmlite at import time; every kernel module
imports this module before any kernel is compiled or loaded from cache.

The Python side of fixed point (``to_fixed``, ``from_fixed``: exact or
``FixedPointError``) is ``openpit_shm.param.fixed_point``: kernels know no
Python value types.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import llvmlite.binding as ll
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = [
    "I64_MAX",
    "I64_MIN",
    "add_checked",
    "mul_checked",
    "mul_cmp",
    "mul_div",
    "mul_div_ceil",
    "mul_div_floor",
    "sub_checked",
]

I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)


def _register_i128_runtime() -> None:
    """Give the JIT the 128-bit division helpers LLVM calls for i128 sdiv/srem."""
    names = ("__divti3", "__modti3", "__udivti3", "__umodti3")
    if all(ll.address_of_symbol(n) for n in names):
        return
    path = ctypes.util.find_library("gcc_s") or "libgcc_s.so.1"
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:  # pragma: no cover - every glibc system ships libgcc_s
        raise ImportError(
            "openpit_shm.kernels.fixed needs libgcc_s (for 128-bit division) and could not load it"
        ) from exc
    for name in names:
        if not ll.address_of_symbol(name):
            ll.add_symbol(name, ctypes.cast(getattr(lib, name), ctypes.c_void_p).value)


_register_i128_runtime()

_I64 = ir.IntType(64)
_I128 = ir.IntType(128)
_I1 = ir.IntType(1)


def _args64(context: Any, builder: Any, sig: Any, args: Any) -> list[Any]:
    return [context.cast(builder, v, t, types.int64) for v, t in zip(args, sig.args)]


def _narrow(builder: Any, wide: Any) -> tuple[Any, Any]:
    """(i64 value, i1 fits) of an i128 value."""
    narrow = builder.trunc(wide, _I64)
    fits = builder.icmp_signed("==", builder.sext(narrow, _I128), wide)
    return narrow, fits


def _pair(context: Any, builder: Any, sig: Any, value: Any, ok: Any) -> Any:
    zero = ir.Constant(_I64, 0)
    value = builder.select(ok, value, zero)
    return context.make_tuple(builder, sig.return_type, [value, builder.zext(ok, _I64)])


def _check_ints(*tys: Any) -> None:
    for t in tys:
        if not isinstance(t, types.Integer):
            raise TypeError(f"fixed-point intrinsics take integers, got {t}")


@intrinsic
def mul_cmp(typingctx: Any, a: Any, b: Any, c: Any, d: Any) -> Any:
    """Sign of ``a*b - c*d`` computed exactly in i128."""
    _check_ints(a, b, c, d)
    sig = types.int64(a, b, c, d)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        x, y, z, w = (builder.sext(v, _I128) for v in _args64(context, builder, sig, args))
        left = builder.mul(x, y)
        right = builder.mul(z, w)
        gt = builder.zext(builder.icmp_signed(">", left, right), _I64)
        lt = builder.zext(builder.icmp_signed("<", left, right), _I64)
        return builder.sub(gt, lt)

    return sig, codegen


def _make_mul_div(rounding: str) -> Any:
    @intrinsic
    def _mul_div(typingctx: Any, a: Any, b: Any, d: Any) -> Any:
        _check_ints(a, b, d)
        sig = types.UniTuple(types.int64, 2)(a, b, d)

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            x, y, z = (builder.sext(v, _I128) for v in _args64(context, builder, sig, args))
            zero128 = ir.Constant(_I128, 0)
            one128 = ir.Constant(_I128, 1)
            nonzero = builder.icmp_signed("!=", z, zero128)
            # Divide by 1 when d == 0 so the helper never traps; the result is discarded.
            safe = builder.select(nonzero, z, one128)
            product = builder.mul(x, y)
            q = builder.sdiv(product, safe)
            if rounding != "trunc":
                r = builder.srem(product, safe)
                inexact = builder.icmp_signed("!=", r, zero128)
                same_sign = builder.icmp_signed(
                    "==",
                    builder.icmp_signed("<", r, zero128),
                    builder.icmp_signed("<", safe, zero128),
                )
                if rounding == "floor":
                    adjust = builder.and_(inexact, builder.not_(same_sign))
                    q = builder.select(adjust, builder.sub(q, one128), q)
                else:
                    adjust = builder.and_(inexact, same_sign)
                    q = builder.select(adjust, builder.add(q, one128), q)
            value, fits = _narrow(builder, q)
            return _pair(context, builder, sig, value, builder.and_(fits, nonzero))

        return sig, codegen

    return _mul_div


mul_div = _make_mul_div("trunc")
mul_div.__doc__ = "``(q, ok)`` with ``q = a*b / d`` truncated toward zero (exact i128 product)."
mul_div_floor = _make_mul_div("floor")
mul_div_floor.__doc__ = "``(q, ok)`` with ``q = floor(a*b / d)``."
mul_div_ceil = _make_mul_div("ceil")
mul_div_ceil.__doc__ = "``(q, ok)`` with ``q = ceil(a*b / d)``."


def _make_overflow_op(name: str) -> Any:
    @intrinsic
    def _op(typingctx: Any, a: Any, b: Any) -> Any:
        _check_ints(a, b)
        sig = types.UniTuple(types.int64, 2)(a, b)

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            x, y = _args64(context, builder, sig, args)
            fnty = ir.FunctionType(ir.LiteralStructType([_I64, _I1]), [_I64, _I64])
            fn = builder.module.declare_intrinsic(f"llvm.{name}.with.overflow.i64", fnty=fnty)
            res = builder.call(fn, [x, y])
            value = builder.extract_value(res, 0)
            ok = builder.not_(builder.extract_value(res, 1))
            return _pair(context, builder, sig, value, ok)

        return sig, codegen

    return _op


add_checked = _make_overflow_op("sadd")
add_checked.__doc__ = "``(a + b, ok)``; ``ok == 0`` on int64 overflow."
sub_checked = _make_overflow_op("ssub")
sub_checked.__doc__ = "``(a - b, ok)``; ``ok == 0`` on int64 overflow."
mul_checked = _make_overflow_op("smul")
mul_checked.__doc__ = "``(a * b, ok)``; ``ok == 0`` on int64 overflow."
