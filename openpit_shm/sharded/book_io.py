"""Shard Books in shared memory: created by the supervisor, re-attached by (re)started workers.

Each shard's arena lives in its own (unnamed) state segment; all shards
share one ``shared`` array (the cross-shard rate windows), so a broker limit
holds across them. Arenas grow in place: the same memfd is extended with
``ftruncate`` (``Segment.grow``), so the descriptor the supervisor keeps, and
hands to every restarted worker, shows the grown arena where the first worker
left it. The arena is
authoritative (assets, instruments, live configuration are read back from
it), so attaching needs only the Book's static description.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

import numpy as np

from ..builtins.book import Book
from ..layout.segment import SEGMENT_KIND_SHARED, SEGMENT_KIND_STATE
from ..layout.state import SH_WRITERS
from .topology import ARRAY_OFFSET, Topology, array_segment_bytes, segment_array

if TYPE_CHECKING:
    from ..shm.segment import Segment
    from .worker import WorkerSpec

__all__ = ["SHARDED_ASSET_CAP", "attach_book", "create_shard_books"]

#: Assets a sharded engine's shared array is sized for (growing it would split the shards).
SHARDED_ASSET_CAP = 1024


def create_shard_books(
    topology: Topology, builtins: list[Any], n_policies: int, scale: int, record_tag: int
) -> list[bytes]:
    """Create every shard's arena (and the one shared array); their pickled descriptions.

    ``record_tag``: the engine's (``layout.records``), kept in the shared array.

    An arena that outgrows its first segment while the builtins are installed
    (a million account barriers, say) grows that segment in place, so shard
    ``k`` keeps exactly one state segment, ``topology.state[k]``.
    """
    descriptions = []
    for k in range(topology.n_shards):
        memory: list[_GrowInPlace] = []

        def allocate(words: int, kind: str, k: int = k, memory: list = memory) -> np.ndarray:
            if kind == "state":
                if not memory:
                    seg = topology.array_segment(SEGMENT_KIND_STATE, words, shard=k)
                    memory.append(_GrowInPlace(seg))
                    return segment_array(seg)
                grown = memory[0].allocate(words, kind)
                topology.state[k] = memory[0].state
                return grown
            if k == 0:
                return segment_array(topology.array_segment(SEGMENT_KIND_SHARED, words))
            # Shards 1.. initialize a private copy (identical to shard 0's, same specs);
            # their workers attach the one shared segment instead.
            return np.zeros(words, dtype=np.int64)

        def release(old: np.ndarray, memory: list = memory) -> None:
            if memory:
                memory[0].release(old)

        book = Book.create(
            builtins,
            n_policies=n_policies,
            scale=scale,
            asset_cap=SHARDED_ASSET_CAP,
            allocate=allocate,
            release=release,
            shard=(k, topology.n_shards),  # its own accounts' barriers; others' records refused
            record_tag=record_tag,
        )
        book.shared[SH_WRITERS] = topology.n_shards  # > 1: shared windows take atomic adds
        descriptions.append(pickle.dumps(book.description(), protocol=pickle.HIGHEST_PROTOCOL))
        del book
    return descriptions


class _GrowInPlace:
    """A worker's allocator: the state arena grows by extending its own segment."""

    def __init__(self, state: Segment) -> None:
        self.state = state
        self.retired: list[Segment] = []

    def allocate(self, words: int, kind: str) -> np.ndarray:
        if kind != "state":
            raise MemoryError("the shared array of a sharded engine cannot grow")
        grown = self.state.grow(array_segment_bytes(words), capacity=words)
        self.state.owner = False  # the segment lives on in ``grown``: closing unmaps only
        self.retired.append(self.state)
        self.state = grown
        return segment_array(grown)

    def release(self, old: np.ndarray) -> None:
        for seg in self.retired:
            seg.close()
        self.retired.clear()


def attach_book(spec: WorkerSpec, state: Segment, shared: Segment, registrations: list) -> Any:
    """The shard's Book over its surviving arena (a fresh or a restarted worker)."""
    memory = _GrowInPlace(state)
    book = Book.from_description(
        pickle.loads(spec.book),
        state=segment_array(state),
        shared=segment_array(shared),
        allocate=memory.allocate,
        release=memory.release,
    )
    book._io = memory  # keeps the current state segment mapped for the Book's lifetime
    return book


assert ARRAY_OFFSET % 4096 == 0
