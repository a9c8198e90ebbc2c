"""Writing result records from kernels (``RESULT_DTYPE`` as a flat int64 pointer).

A result record's word 2 packs the one-byte fields of ``layout.records``::

    bits  0..15 code   16..23 policy   24..31 reason   32..39 status
         40..47 flags  48..55 count    56..63 index

``out`` is a ``CPointer(int64)`` (``kernels.ptr``): word ``k`` of record ``j``
is ``out[j * 8 + k]``. Kernels write the reject records of one request into
records ``0..n)`` with
``count``/``index`` left at 0, then ``finish`` stamps status, count and index
once the request's total is known.
"""

from __future__ import annotations

from numba import njit

from openpit_shm.layout.records import RESULT_W_D0, RESULT_W_HEAD

__all__ = [
    "head_code",
    "head_flags",
    "head_index",
    "head_policy",
    "head_reason",
    "head_status",
    "pack_head",
    "set_flags",
    "write_reject",
]

_B = 0xFF


@njit(cache=True, inline='always')
def pack_head(code, policy, reason, status, flags, count, index):  # type: ignore[no-untyped-def]
    """The head word of a result record."""
    return (
        (code & 0xFFFF)
        | ((policy & _B) << 16)
        | ((reason & _B) << 24)
        | ((status & _B) << 32)
        | ((flags & _B) << 40)
        | ((count & _B) << 48)
        | ((index & _B) << 56)
    )


@njit(cache=True, inline='always')
def head_code(head):  # type: ignore[no-untyped-def]
    return head & 0xFFFF


@njit(cache=True, inline='always')
def head_policy(head):  # type: ignore[no-untyped-def]
    return (head >> 16) & _B


@njit(cache=True, inline='always')
def head_reason(head):  # type: ignore[no-untyped-def]
    return (head >> 24) & _B


@njit(cache=True, inline='always')
def head_status(head):  # type: ignore[no-untyped-def]
    return (head >> 32) & _B


@njit(cache=True, inline='always')
def head_flags(head):  # type: ignore[no-untyped-def]
    return (head >> 40) & _B


@njit(cache=True, inline='always')
def head_index(head):  # type: ignore[no-untyped-def]
    return (head >> 56) & _B


@njit(cache=True, inline='always')
def set_flags(out, i, flags):  # type: ignore[no-untyped-def]
    """OR ``flags`` into record ``i``'s flag byte."""
    out[i * 8 + RESULT_W_HEAD] |= (flags & _B) << 40


@njit(cache=True, inline='always')
def write_reject(out, n, code, policy, reason, flags, d0, d1, d2, d3, d4):  # type: ignore[no-untyped-def]
    """Write reject record ``n`` (status, count and index are stamped later); returns ``n + 1``."""
    r = n * 8
    out[r + RESULT_W_HEAD] = pack_head(code, policy, reason, 0, flags, 0, 0)
    out[r + RESULT_W_D0] = d0
    out[r + RESULT_W_D0 + 1] = d1
    out[r + RESULT_W_D0 + 2] = d2
    out[r + RESULT_W_D0 + 3] = d3
    out[r + RESULT_W_D0 + 4] = d4
    return n + 1
