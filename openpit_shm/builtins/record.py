"""Decoding one ``RESULT_DTYPE`` record (64 bytes, 8 int64 words) into a :class:`Record`.

The reject path formats every builtin reject from these records, so decoding
is on the per-order path of every rejected order. One ``struct`` unpack reads
the record's fields, head bytes included, straight from the result buffer (no
NumPy scalar or ``np.void`` field access), and the resulting tuple *is* the
Record (a tuple subclass with named read-only fields): about 0.2 us where a
``np.void`` decode into a dataclass took 5.5 us.

Record layout (``layout.records``): ``seq`` i64, ``reservation`` i64, ``code``
u16, ``policy``, ``reason``, ``status``, ``flags``, ``count``, ``index`` u8,
then ``d0..d4`` i64.
"""

from __future__ import annotations

import struct
from operator import itemgetter
from typing import Any

import numpy as np

from openpit_shm.layout.records import (
    RECORD_BYTES,
    REJECT_CODES,
    RESULT_BLOCK_LATCHED,
    RESULT_COMMITTED,
    RESULT_DRY_RUN,
    RESULT_SCOPE_ACCOUNT,
)

__all__ = ["D0", "D1", "D2", "D3", "D4", "Record", "code_name"]

#: Tuple positions of the detail words, for describers on the reject path
#: (``rec[D2]`` is a plain index; ``rec.d[2]`` builds a 5-tuple first).
D0, D1, D2, D3, D4 = 9, 10, 11, 12, 13

_WORDS = struct.Struct("<8q")
#: The record's 14 fields: seq, reservation, code (u16), 6 head bytes, d0..d4.
_FIELDS = struct.Struct("<2qH6B5q")
_unpack_from = _FIELDS.unpack_from
_tuple_new = tuple.__new__
_U64 = 1 << 64
_new = object.__new__

SCOPE_ORDER = "order"
SCOPE_ACCOUNT = "account"
_SCOPES = {0: SCOPE_ORDER, RESULT_SCOPE_ACCOUNT: SCOPE_ACCOUNT}


def code_name(number: int) -> str:
    """``RejectCode`` value of a record's code number (1-based)."""
    return REJECT_CODES[number - 1]


def _s64(v: int) -> int:
    v &= _U64 - 1
    return v - _U64 if v >= 1 << 63 else v


class Record(tuple):  # type: ignore[type-arg]
    """One decoded result record: ``(seq, reservation, code, policy, reason, status, flags,
    count, index, d0, d1, d2, d3, d4)`` with named fields and ``d = (d0, .., d4)``.

    Build one with :meth:`at` (from a result buffer), :meth:`of` (a record,
    row or 8 words) or ``Record(seq, reservation, code, ..., index, d)``.
    """

    __slots__ = ()

    def __new__(
        cls,
        seq: int,
        reservation: int,
        code: int,
        policy: int,
        reason: int,
        status: int,
        flags: int,
        count: int,
        index: int,
        d: tuple[int, int, int, int, int],
    ) -> Record:
        d0, d1, d2, d3, d4 = d
        return _tuple_new(
            cls, (seq, reservation, code, policy, reason, status, flags, count, index,
                  d0, d1, d2, d3, d4),
        )  # fmt: skip

    seq = property(itemgetter(0), doc="the request's correlation number")
    reservation = property(itemgetter(1), doc="reservation handle of an accepted request")
    code = property(itemgetter(2), doc="reject code number (0 = accepted)")
    policy = property(itemgetter(3), doc="registration index, or POLICY_ENGINE")
    reason = property(itemgetter(4), doc="reason variant (kernels.codes.RSN_*)")
    status = property(itemgetter(5), doc="STATUS_*")
    flags = property(itemgetter(6), doc="RESULT_* bits")
    count = property(itemgetter(7), doc="reject records of this request")
    index = property(itemgetter(8), doc="this record's position among them")

    @property
    def d(self) -> tuple[int, int, int, int, int]:
        """The five detail words."""
        return self[9:14]  # type: ignore[return-value]

    # ---- decoding ----------------------------------------------------------------------------

    @staticmethod
    def at(buf: Any, i: int) -> Record:
        """Record ``i`` of a C-contiguous ``RESULT_DTYPE`` (or ``int64[n, 8]``) array."""
        return _tuple_new(Record, _unpack_from(buf, i * RECORD_BYTES))

    @staticmethod
    def from_words(w: Any) -> Record:
        """Decode 8 words (ints; u64 bit patterns are accepted too)."""
        return _tuple_new(Record, _unpack_from(_WORDS.pack(*[_s64(int(x)) for x in w])))

    @staticmethod
    def of(record: Any) -> Record:
        """Decode a ``RESULT_DTYPE`` record (``np.void``), an int64 row, or 8 int words."""
        if isinstance(record, Record):
            return record
        if isinstance(record, np.void) or (
            isinstance(record, np.ndarray)
            and record.nbytes == RECORD_BYTES
            and record.flags.c_contiguous
        ):
            return _tuple_new(Record, _unpack_from(record))
        return Record.from_words(record)

    # ---- derived -----------------------------------------------------------------------------

    @property
    def scope(self) -> str:
        return _SCOPES[self[6] & RESULT_SCOPE_ACCOUNT]

    @property
    def latched(self) -> bool:
        """This record's reject latched (dry run: would latch) an account block."""
        return bool(self[6] & RESULT_BLOCK_LATCHED)

    @property
    def dry_run(self) -> bool:
        return bool(self[6] & RESULT_DRY_RUN)

    @property
    def committed(self) -> bool:
        return bool(self[6] & RESULT_COMMITTED)

    @property
    def code_name(self) -> str:
        return code_name(self[2]) if self[2] else ""

    def __repr__(self) -> str:
        return (
            f"Record(seq={self[0]}, reservation={self[1]}, code={self[2]}, policy={self[3]}, "
            f"reason={self[4]}, status={self[5]}, flags={self[6]}, count={self[7]}, "
            f"index={self[8]}, d={self.d})"
        )
