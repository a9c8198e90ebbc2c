"""The control segment of a sharded engine: worker state, heartbeats, control handshake, stats.

One segment (``SEGMENT_KIND_CONTROL``, ``capacity`` = number of shards) per
sharded engine, created by the supervisor (the client process)::

    byte     0  segment header (128 B, layout.segment)
    byte   128  engine line: n_shards, n_slots, ring capacity, supervisor pid, scratch rows,
                closed
    byte  1024  shard 0 block (4096 B)
    byte  5120  shard 1 block
    ...
    byte S      shard 0 answer scratch (scratch_rows 64-byte result records; S is the first
                4096-byte boundary after the last block)
    byte S + R  shard 1 answer scratch (R = scratch_rows * 64)
    ...

One shard block; every hot word alone in its 128-byte block::

    +0    state         STARTING / READY / STOPPING / STOPPED      worker writes
    +8    pid           the worker's pid                          worker writes
    +16   generation    how many times this shard was started     supervisor writes
    +24   arena_gen     times the state arena grew                 worker writes
    +32   owner         who serves the rings: SUPERVISOR / WORKER  supervisor writes
    +128  heartbeat_ns  CLOCK_MONOTONIC of the last duty cycle     worker writes
    +256  control_seq   control requests sent                      client fetch-adds
    +384  control_ack   control requests handled                   worker writes
    +512  sleeping      futex word: 1 while the worker parks       worker sets, client clears
    +640  stats         batches, records, max_batch, parks,        worker only
                        wakeups, control, errors, depth_max        (supervisor while it is dead)
    +768  journal       slot + 1, first request, result head,      worker writes, supervisor
                        progress (the batch being answered)        reads after its death
    +1024 answers       accepted, rejected, restarts, depth        worker (supervisor while
                        (requests; ``ANSWER_NAMES`` order)         it is dead)
    +1280 reject codes  64 words: reject records by code number (``REJECT_CODES`` + 1)
    +1792 error reasons 256 words: STATUS_ERROR answers by reason byte (``kernels.codes``)

The stats, answers, reject-code and error-reason words have one writer at a
time (the worker, or the supervisor while the worker is down), which adds to
them once per batch with plain stores (``kernels.counters``); readers
(``ShardedEngine.stats()``, ``openpit-shm stat`` through a read-only mapping)
see each word whole.

The answer journal and the answer scratch are how a worker's death keeps
every answer honest (``kernels.journal``): the worker decides a batch into
its scratch (shared memory, so it outlives the worker) and notes, per
record, how far it got; the supervisor publishes what was decided but not
yet sent, answers the one record that was being decided "outcome unknown",
and only the untouched rest ``SystemUnavailable``. The journal words::

    +0   slot       client slot of the open batch + 1; 0 = none open (the other words are stale)
    +8   first      request-ring cursor of the batch's first record
    +16  result     result-ring head before the batch's answers
    +24  progress   written << 32 | decided << 1 | in_flight  (``kernels.journal.journal_word``):
                    the first ``decided`` records are decided and their ``written`` result
                    records are in the scratch; ``in_flight``: record ``decided`` has begun
                    changing state and is not decided yet

Control requests themselves (configure, blocks, instruments, stats, stop)
travel as pickles over a pipe; ``control_seq`` is how the worker's Numba
loop notices them without a syscall, and ``sleeping`` lets the client wake
a parked worker with one ``FUTEX_WAKE`` only when it really sleeps.
"""

from __future__ import annotations

from .records import RECORD_BYTES
from .segment import SEGMENT_HEADER_BYTES

__all__ = [
    "ANSWER_NAMES",
    "ANS_ACCEPTED",
    "ANS_DEPTH",
    "ANS_REJECTED",
    "ANS_RESTARTS",
    "CONTROL_BLOCK_BYTES",
    "CONTROL_FIRST_BLOCK",
    "CTL_E_CAPACITY",
    "CTL_E_CLOSED",
    "CTL_E_N_SHARDS",
    "CTL_E_N_SLOTS",
    "CTL_E_SCRATCH_ROWS",
    "CTL_E_SUPERVISOR",
    "CTL_S_ANSWERS",
    "CTL_S_ARENA_GEN",
    "CTL_S_CONTROL_ACK",
    "CTL_S_CONTROL_SEQ",
    "CTL_S_ERROR_REASONS",
    "CTL_S_GENERATION",
    "CTL_S_HEARTBEAT",
    "CTL_S_JOURNAL",
    "CTL_S_OWNER",
    "CTL_S_PID",
    "CTL_S_REJECT_CODES",
    "CTL_S_SLEEPING",
    "CTL_S_STATE",
    "CTL_S_STATS",
    "JOURNAL_FIRST",
    "JOURNAL_PROGRESS",
    "JOURNAL_RESULT",
    "JOURNAL_SLOT",
    "N_ERROR_REASONS",
    "N_REJECT_CODE_WORDS",
    "OWNER_SUPERVISOR",
    "OWNER_WORKER",
    "STAT_BATCHES",
    "STAT_CONTROL",
    "STAT_DEPTH_MAX",
    "STAT_ERRORS",
    "STAT_MAX_BATCH",
    "STAT_NAMES",
    "STAT_PARKS",
    "STAT_RECORDS",
    "STAT_WAKEUPS",
    "WORKER_READY",
    "WORKER_RUNNING",
    "WORKER_STARTING",
    "WORKER_STOPPED",
    "WORKER_STOPPING",
    "control_scratch_offset",
    "control_segment_bytes",
    "shard_word",
]

CONTROL_BLOCK_BYTES = 4096
CONTROL_FIRST_BLOCK = 1024
_PAGE = 4096

# Engine line (word indexes from the start of the segment).
_E = SEGMENT_HEADER_BYTES // 8
CTL_E_N_SHARDS = _E + 0
CTL_E_N_SLOTS = _E + 1
CTL_E_CAPACITY = _E + 2
CTL_E_SUPERVISOR = _E + 3
CTL_E_SCRATCH_ROWS = _E + 4  #: result records in each shard's answer scratch
#: 1 once the engine is closed (monitors stop listing it while a process still maps it)
CTL_E_CLOSED = _E + 5

# Shard block (word offsets inside a block).
CTL_S_STATE = 0
CTL_S_PID = 1
CTL_S_GENERATION = 2
CTL_S_ARENA_GEN = 3
CTL_S_OWNER = 4
CTL_S_HEARTBEAT = 128 // 8
CTL_S_CONTROL_SEQ = 256 // 8
CTL_S_CONTROL_ACK = 384 // 8
CTL_S_SLEEPING = 512 // 8
CTL_S_STATS = 640 // 8
CTL_S_ANSWERS = 1024 // 8
CTL_S_REJECT_CODES = 1280 // 8
CTL_S_ERROR_REASONS = 1792 // 8
N_REJECT_CODE_WORDS = 64  #: room for every reject-code number (0 = none, 1.. REJECT_CODES)
N_ERROR_REASONS = 256  #: one word per reason byte

#: The answer words, in order from ``CTL_S_ANSWERS``: requests answered accepted, requests
#: answered with at least one reject, times the worker was restarted, the request queue
#: depth the worker last saw (records waiting when it took a batch).
ANSWER_NAMES = ("accepted", "rejected", "restarts", "depth")
#: Each answer word's offset from ``CTL_S_ANSWERS`` (``ANSWER_NAMES`` order).
ANS_ACCEPTED, ANS_REJECTED, ANS_RESTARTS, ANS_DEPTH = range(4)

CTL_S_JOURNAL = 768 // 8

# The answer journal (word offsets from CTL_S_JOURNAL).
JOURNAL_SLOT = 0
JOURNAL_FIRST = 1
JOURNAL_RESULT = 2
JOURNAL_PROGRESS = 3

#: The stats words, in order from ``CTL_S_STATS``.
STAT_NAMES = (
    "batches",
    "records",
    "max_batch",
    "parks",
    "wakeups",
    "control",
    "errors",
    "depth_max",
)
#: Each stats word's offset from ``CTL_S_STATS`` (``STAT_NAMES`` order): what the kernels,
#: the worker, the figures and the C header index.
(
    STAT_BATCHES, STAT_RECORDS, STAT_MAX_BATCH, STAT_PARKS, STAT_WAKEUPS, STAT_CONTROL,
    STAT_ERRORS, STAT_DEPTH_MAX,
) = range(8)  # fmt: skip
assert len(STAT_NAMES) == STAT_DEPTH_MAX + 1 and len(ANSWER_NAMES) == ANS_DEPTH + 1

WORKER_STARTING = 1  #: spawned, attaching and loading kernels
WORKER_READY = 2  #: initialized; waits until the supervisor hands it the rings
WORKER_STOPPING = 3  #: asked to stop (the duty cycle returns)
WORKER_STOPPED = 4  #: exited its loop
WORKER_RUNNING = 5  #: serving its rings

#: ``owner``: who consumes the request rings (and produces results) right now. While a
#: shard's worker is dead or starting, the supervisor answers SystemUnavailable itself.
OWNER_SUPERVISOR = 1
OWNER_WORKER = 2


def shard_word(shard: int, offset: int) -> int:
    """The int64 index of word ``offset`` of shard ``shard``'s block."""
    return (CONTROL_FIRST_BLOCK + shard * CONTROL_BLOCK_BYTES) // 8 + offset


def control_scratch_offset(n_shards: int) -> int:
    """Byte offset of shard 0's answer scratch (the page after the last shard block)."""
    end = CONTROL_FIRST_BLOCK + n_shards * CONTROL_BLOCK_BYTES
    return (end + _PAGE - 1) // _PAGE * _PAGE


def control_segment_bytes(n_shards: int, scratch_rows: int = 0) -> int:
    """Size of the control segment: the shard blocks, then each shard's answer scratch."""
    return control_scratch_offset(n_shards) + n_shards * scratch_rows * RECORD_BYTES
