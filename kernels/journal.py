"""The answer journal: a shard worker's death leaves every answer honest.

A worker decides a batch of one client slot's requests into its answer
scratch (``layout.control``: shared memory, so it outlives the worker),
then publishes the answers and releases the requests. Along the way it
keeps the journal words of its control block up to date::

    journal_open(first, result head)     before the batch's first record
    progress = written | decided | 1     before record ``decided`` changes any state
    progress = written | decided         once its result records are in the scratch
    (publish answers, release requests)
    journal_close()

If the worker dies, the supervisor reads the journal (``journal_unpack``):
the answers of the first ``decided`` records that are in the scratch but
not yet on the result ring are published, their requests released; the
record in flight (``in_flight``: started, not decided) is answered "outcome
unknown"; only the requests after it, which the worker never touched, are
answered ``SystemUnavailable``.

The stores are release stores followed by a compiler fence: the journal
says exactly how far the worker got, because the compiler may not move a
record's state changes across its marks. (After the worker's death every
store it executed is visible; only the order the compiler emitted matters.)
"""

from __future__ import annotations

from openpit_shm.layout.control import (
    CTL_S_JOURNAL,
    JOURNAL_FIRST,
    JOURNAL_PROGRESS,
    JOURNAL_RESULT,
    JOURNAL_SLOT,
)

from .atomics import compiler_fence, store_release
from .jit import njit

__all__ = ["journal_close", "journal_mark", "journal_open", "journal_unpack", "journal_word"]

_DECIDED_MASK = (1 << 31) - 1


@njit(cache=True, inline="always")
def journal_word(written, decided, in_flight):  # type: ignore[no-untyped-def]
    """The progress word: ``written`` result records for ``decided`` records, one in flight?"""
    return (written << 32) | (decided << 1) | in_flight


def journal_unpack(word: int) -> tuple[int, int, bool]:
    """``(written, decided, in_flight)`` of a progress word."""
    return word >> 32, (word >> 1) & _DECIDED_MASK, bool(word & 1)


@njit(cache=True)
def journal_open(ctl, base, slot, first, result_head):  # type: ignore[no-untyped-def]
    """Open a batch of client slot ``slot``: requests from cursor ``first``, answers from
    ``result_head``. The slot word goes last (and first to 0), so an open journal is whole."""
    j = base + CTL_S_JOURNAL
    store_release(ctl, j + JOURNAL_SLOT, 0)
    store_release(ctl, j + JOURNAL_FIRST, first)
    store_release(ctl, j + JOURNAL_RESULT, result_head)
    store_release(ctl, j + JOURNAL_PROGRESS, 0)
    store_release(ctl, j + JOURNAL_SLOT, slot + 1)
    compiler_fence()


@njit(cache=True)
def journal_mark(ctl, base, written, decided, in_flight):  # type: ignore[no-untyped-def]
    """Note the progress of the open batch (see ``journal_word``)."""
    word = journal_word(written, decided, in_flight)
    compiler_fence()
    store_release(ctl, base + CTL_S_JOURNAL + JOURNAL_PROGRESS, word)
    compiler_fence()


@njit(cache=True)
def journal_close(ctl, base):  # type: ignore[no-untyped-def]
    """The batch's answers are published and its requests released."""
    store_release(ctl, base + CTL_S_JOURNAL + JOURNAL_SLOT, 0)
