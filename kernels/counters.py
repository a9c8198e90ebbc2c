"""Answer counters of a shard: accepted, rejected, reject records by code, errors by reason.

A shard's answers are counted where they are written, once per batch: the
worker's duty cycle (and the supervisor while the shard is down) passes the
result records it just produced to ``count_answers``, which adds them to the
shard's block in the control segment (``layout.control``: ``CTL_S_ANSWERS``,
``CTL_S_REJECT_CODES``, ``CTL_S_ERROR_REASONS``, and the ``errors`` stat).

There is one writer per shard block at a time, so the adds are plain
read-modify-writes on words no other process writes: no atomics, a few
nanoseconds per record. Readers (``ShardedEngine.stats()``, ``openpit-shm
stat``) may see a batch half counted, never a torn word.
"""

from __future__ import annotations

from openpit_shm.layout.control import (
    ANS_ACCEPTED,
    ANS_REJECTED,
    CTL_S_ANSWERS,
    CTL_S_ERROR_REASONS,
    CTL_S_REJECT_CODES,
    CTL_S_STATS,
    N_ERROR_REASONS,
    N_REJECT_CODE_WORDS,
    STAT_ERRORS,
)
from openpit_shm.layout.records import (
    RESULT_W_HEAD,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)

from .jit import njit
from .results import head_code, head_index, head_reason, head_status

__all__ = ["count_answers", "count_error"]

_ERRORS = CTL_S_STATS + STAT_ERRORS
_ACCEPTED = CTL_S_ANSWERS + ANS_ACCEPTED
_REJECTED = CTL_S_ANSWERS + ANS_REJECTED


@njit(cache=True)
def count_answers(ctl, base, results, n):  # type: ignore[no-untyped-def]
    """Count the first ``n`` result records of ``results`` (int64[:, 8]) into shard ``base``.

    ``base`` is the word index of the shard's block (``layout.control.shard_word(k, 0)``).
    A request counts once (on its first record): accepted, rejected or an error (by its
    reason byte); every reject record also counts under its code. Text records
    (``STATUS_TEXT``) are payload, not answers. Returns the number of requests counted.
    """
    accepted = 0
    rejected = 0
    errors = 0
    requests = 0
    for i in range(n):
        head = results[i, RESULT_W_HEAD]
        status = head_status(head)
        index = head_index(head)
        if status == STATUS_REJECTED:
            code = head_code(head)
            if code >= N_REJECT_CODE_WORDS:
                code = 0  # not a known code: counted under "no code" rather than lost
            ctl[base + CTL_S_REJECT_CODES + code] += 1
            if index == 0:
                rejected += 1
                requests += 1
        elif index == 0 and status == STATUS_OK:
            accepted += 1
            requests += 1
        elif index == 0 and status == STATUS_ERROR:
            ctl[base + CTL_S_ERROR_REASONS + head_reason(head)] += 1  # a byte: < N_ERROR_REASONS
            errors += 1
            requests += 1
    ctl[base + _ACCEPTED] += accepted
    ctl[base + _REJECTED] += rejected
    ctl[base + _ERRORS] += errors
    return requests


@njit(cache=True)
def count_error(ctl, base, reason):  # type: ignore[no-untyped-def]
    """Count one ``STATUS_ERROR`` answer with reason byte ``reason`` that was written without
    a result row to count (a refused producer cursor)."""
    ctl[base + CTL_S_ERROR_REASONS + (reason % N_ERROR_REASONS)] += 1
    ctl[base + _ERRORS] += 1
