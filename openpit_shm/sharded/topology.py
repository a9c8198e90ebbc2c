"""Every shared-memory segment of one sharded engine, created and owned by the supervisor.

The supervisor (the process that builds the ``ShardedEngine``) creates and
owns every segment, so a worker's death never orphans one and ``close()``
removes them all. Only what an external producer must open has a name:

* ``control``: one segment (``layout.control``), with each shard's answer
  scratch (``answer_scratch``) -- unnamed;
* ``shared``: the cross-shard array of every shard's Book (rate windows) -- unnamed;
* ``state[k]``: shard ``k``'s Book arena (grown in place by ``ftruncate``) -- unnamed;
* ``quotes``: the engine's quote table (``layout.quotes``), written by the host's
  ``MarketDataService`` mirror and read by every worker's kernels -- unnamed,
  unless the engine was built with ``sharded(external_quotes=True)``: then named
  ``/dev/shm/opshm.<random>.quotes`` (0600) so a C producer can push quotes
  (``opshm_quote_push``); workers attach it by descriptor or by that name;
* ``request[s][k]`` / ``result[s][k]``: the ring pair of client slot ``s`` and
  shard ``k``: slot 0 is the engine's own client -- unnamed; slots 1.. are
  for external producers -- named ``/dev/shm/opshm.<random>.ring.{req,res}``,
  each name drawn on its own, so no name says anything about another.

Unnamed segments are memfds (``Segment.create(..., unnamed=True)``): a
process that knows every name of the engine still cannot open them. Worker
``k`` receives their descriptors, in ``SHARD_FDS`` order
(``Topology.shard_fds(k)``), over its control pipe (``shm.handoff``); the
supervisor keeps its own, so a restarted worker attaches the same memory,
grown or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layout.control import (
    CTL_E_CAPACITY,
    CTL_E_N_SHARDS,
    CTL_E_N_SLOTS,
    CTL_E_SCRATCH_ROWS,
    CTL_E_SUPERVISOR,
    control_scratch_offset,
    control_segment_bytes,
)
from ..layout.quotes import quote_table_words
from ..layout.records import ORDER_DTYPE, RECORD_BYTES, RESULT_DTYPE
from ..layout.segment import SEGMENT_KIND_CONTROL, SEGMENT_KIND_QUOTES, SEGMENT_KIND_STATE
from ..shm.ring import Ring
from ..shm.segment import Segment

__all__ = [
    "SHARD_FDS",
    "Topology",
    "TopologyNames",
    "answer_scratch",
    "array_segment_bytes",
    "segment_array",
]

#: Arrays in a state/shared segment start on the page after the header.
ARRAY_OFFSET = 4096


def array_segment_bytes(words: int) -> int:
    return ARRAY_OFFSET + words * 8


def segment_array(seg: Segment) -> np.ndarray:
    """The int64 array a state/shared segment holds (everything after ``ARRAY_OFFSET``)."""
    return seg.words[ARRAY_OFFSET // 8 :]


#: The unnamed segments worker ``k`` attaches, in the order ``Topology.shard_fds(k)`` sends them
#: (then the quote table's, when it is unnamed: ``shard_fd_count``).
SHARD_FDS = ("control", "shared", "state", "request", "result")

#: Slots of a sharded engine's quote table (3/4 hold keys: quote buckets, registrations, TTLs).
QUOTE_SLOTS_DEFAULT = 4096


def shard_fd_count(names: TopologyNames) -> int:
    """Descriptors a worker receives: ``SHARD_FDS``, plus the quote table's if unnamed."""
    return len(SHARD_FDS) + (0 if names.quotes else 1)


def quote_segment(slots: int, scale: int, *, named: bool) -> Segment:
    """A new quote table segment (header written, every key empty)."""
    from ..marketdata.table import QuoteTable

    words = quote_table_words(slots)
    seg = Segment.create(
        SEGMENT_KIND_QUOTES, array_segment_bytes(words), capacity=slots, fixed_scale=scale,
        data_offset=ARRAY_OFFSET, unnamed=not named,
    )  # fmt: skip
    QuoteTable(slots, scale, buffer=segment_array(seg)[:words])
    return seg


def quote_words(seg: Segment, slots: int) -> np.ndarray:
    """The quote table's int64 words in its segment."""
    return segment_array(seg)[: quote_table_words(slots)]


def answer_scratch(control: Segment, shard: int) -> np.ndarray:
    """Shard ``shard``'s answer scratch (``int64[rows, 8]``) in the control segment: where its
    worker decides a batch's results, which outlive the worker (``kernels.journal``)."""
    words = control.words
    n_shards, rows = int(words[CTL_E_N_SHARDS]), int(words[CTL_E_SCRATCH_ROWS])
    first = (control_scratch_offset(n_shards) + shard * rows * RECORD_BYTES) // 8
    return words[first : first + rows * 8].reshape(rows, 8)


@dataclass(frozen=True)
class TopologyNames:
    """The shape of the engine and its named rings; picklable (in every ``WorkerSpec``).

    ``request[s][k]`` / ``result[s][k]`` name the rings of external client
    slot ``s >= 1`` for shard ``k``; slot 0's entries are ``""`` (its rings are
    unnamed: workers get them by descriptor, with the other unnamed segments).
    """

    n_shards: int
    n_slots: int
    capacity: int
    scale: int
    request: tuple[tuple[str, ...], ...]  # [slot][shard]
    result: tuple[tuple[str, ...], ...]  # [slot][shard]
    quotes: str = ""  #: the quote table's name ("": unnamed, sent by descriptor)
    quote_slots: int = 0  #: its slot count (``layout.quotes``)


@dataclass
class Topology:
    """The segments themselves, owned by the supervisor (the state and shared segments are
    added by ``book_io.create_shard_books`` once the arenas' sizes are known)."""

    n_shards: int
    n_slots: int
    capacity: int
    scale: int
    control: Segment
    request: list[list[Ring]]
    result: list[list[Ring]]
    shared: Segment | None = None
    state: list[Segment] = field(default_factory=list)
    quotes: Segment | None = None
    quote_slots: int = 0

    @classmethod
    def create(
        cls, *, n_shards: int, n_slots: int, capacity: int, scale: int, scratch_rows: int,
        quote_slots: int = QUOTE_SLOTS_DEFAULT, named_quotes: bool = False,
    ) -> Topology:
        made: list = []
        try:
            control = Segment.create(
                SEGMENT_KIND_CONTROL,
                control_segment_bytes(n_shards, scratch_rows),
                capacity=n_shards,
                shard_count=1,
                fixed_scale=scale,
                unnamed=True,
            )
            made.append(control)
            w = control.words
            w[CTL_E_N_SHARDS], w[CTL_E_N_SLOTS], w[CTL_E_CAPACITY] = n_shards, n_slots, capacity
            w[CTL_E_SUPERVISOR] = control.header.creator_pid
            w[CTL_E_SCRATCH_ROWS] = scratch_rows
            request, result = [], []
            for slot in range(n_slots):
                req_row, res_row = [], []
                for k in range(n_shards):
                    for dtype, tag, row in (
                        (ORDER_DTYPE, "req", req_row),
                        (RESULT_DTYPE, "res", res_row),
                    ):
                        ring = Ring.create(
                            capacity, dtype=dtype, shard_id=k, shard_count=n_shards,
                            fixed_scale=scale, tag=tag, unnamed=slot == 0,
                        )  # fmt: skip
                        made.append(ring)
                        row.append(ring)
                request.append(req_row)
                result.append(res_row)
            quotes = quote_segment(quote_slots, scale, named=named_quotes)
            made.append(quotes)
        except BaseException:
            for thing in reversed(made):
                thing.close()
            raise
        return cls(
            n_shards, n_slots, capacity, scale, control, request, result,
            quotes=quotes, quote_slots=quote_slots,
        )  # fmt: skip

    def array_segment(self, kind: int, words: int, shard: int = 0) -> Segment:
        """Create a state (``shard``) or shared segment holding ``words`` int64 after its header."""
        seg = Segment.create(
            kind,
            array_segment_bytes(words),
            capacity=words,
            shard_id=shard,
            shard_count=self.n_shards if kind == SEGMENT_KIND_STATE else 1,
            fixed_scale=self.scale,
            data_offset=ARRAY_OFFSET,
            unnamed=True,
        )
        if kind == SEGMENT_KIND_STATE:
            self.state.append(seg)
        else:
            self.shared = seg
        return seg

    @property
    def names(self) -> TopologyNames:
        def named(rows: list[list[Ring]]) -> tuple[tuple[str, ...], ...]:
            return tuple(tuple("" if r.segment.unnamed else r.name for r in row) for row in rows)

        return TopologyNames(
            n_shards=self.n_shards,
            n_slots=self.n_slots,
            capacity=self.capacity,
            scale=self.scale,
            request=named(self.request),
            result=named(self.result),
            quotes="" if self.quotes is None or self.quotes.unnamed else self.quotes.name,
            quote_slots=self.quote_slots,
        )

    def quote_words(self) -> np.ndarray:
        """The quote table's words in this process (the host writes them)."""
        assert self.quotes is not None
        return quote_words(self.quotes, self.quote_slots)

    def shard_fds(self, k: int) -> list[int]:
        """The descriptors of shard ``k``'s unnamed segments, in ``SHARD_FDS`` order."""
        assert self.shared is not None, "the shard arenas are created first"
        segments = (
            self.control,
            self.shared,
            self.state[k],
            self.request[0][k].segment,
            self.result[0][k].segment,
        )
        fds = [seg.fileno() for seg in segments]
        if self.quotes is not None and self.quotes.unnamed:
            fds.append(self.quotes.fileno())  # a named table is attached by its name
        return fds

    def close(self) -> None:
        """Unmap and unlink every segment (idempotent)."""
        for row in self.request + self.result:
            for ring in row:
                ring.close()
        for seg in (*self.state, self.shared, self.control, self.quotes):
            if seg is not None:
                seg.close()
