"""Every shared-memory segment of one sharded engine: created by the supervisor, named for all.

The supervisor (the process that builds the ``ShardedEngine``) creates and
owns every segment, so a worker's death never orphans one and ``close()``
unlinks them all; workers and external C clients attach by name.

* ``control``: one segment (``layout.control``);
* ``shared``: the cross-shard array of every shard's Book (rate windows);
* ``state[k]``: shard ``k``'s Book arena (grown in place by ``ftruncate``);
* ``request[s][k]`` / ``result[s][k]``: the ring pair of client slot ``s`` and
  shard ``k`` (slot 0 is the engine's own client; 1.. are for external producers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layout.control import (
    CTL_E_CAPACITY,
    CTL_E_N_SHARDS,
    CTL_E_N_SLOTS,
    CTL_E_SUPERVISOR,
    control_segment_bytes,
)
from ..layout.records import ORDER_DTYPE, RESULT_DTYPE
from ..layout.segment import (
    SEGMENT_KIND_CONTROL,
    SEGMENT_KIND_SHARED,
    SEGMENT_KIND_STATE,
)
from ..shm.ring import Ring
from ..shm.segment import Segment

__all__ = ["Topology", "TopologyNames", "array_segment_bytes", "segment_array"]

#: Arrays in a state/shared segment start on the page after the header.
ARRAY_OFFSET = 4096


def array_segment_bytes(words: int) -> int:
    return ARRAY_OFFSET + words * 8


def segment_array(seg: Segment) -> np.ndarray:
    """The int64 array a state/shared segment holds (everything after ``ARRAY_OFFSET``)."""
    return seg.words[ARRAY_OFFSET // 8 :]


@dataclass(frozen=True)
class TopologyNames:
    """The names a worker (or a C program) needs to attach; picklable."""

    n_shards: int
    n_slots: int
    capacity: int
    scale: int
    control: str
    shared: str
    state: tuple[str, ...]
    request: tuple[tuple[str, ...], ...]  # [slot][shard]
    result: tuple[tuple[str, ...], ...]  # [slot][shard]


@dataclass
class Topology:
    """The segments themselves, owned by the supervisor."""

    names: TopologyNames
    control: Segment
    shared: Segment
    state: list[Segment]
    request: list[list[Ring]]
    result: list[list[Ring]]
    extra: list[Segment] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        n_shards: int,
        n_slots: int,
        capacity: int,
        scale: int,
        state_words: int,
        shared_words: int,
    ) -> Topology:
        made: list = []
        try:
            control = Segment.create(
                SEGMENT_KIND_CONTROL,
                control_segment_bytes(n_shards),
                capacity=n_shards,
                shard_count=1,
                fixed_scale=scale,
            )
            made.append(control)
            w = control.words
            w[CTL_E_N_SHARDS], w[CTL_E_N_SLOTS], w[CTL_E_CAPACITY] = n_shards, n_slots, capacity
            w[CTL_E_SUPERVISOR] = control.header.creator_pid
            shared = Segment.create(
                SEGMENT_KIND_SHARED,
                array_segment_bytes(shared_words),
                capacity=shared_words,
                fixed_scale=scale,
                data_offset=ARRAY_OFFSET,
            )
            made.append(shared)
            state = []
            for k in range(n_shards):
                seg = Segment.create(
                    SEGMENT_KIND_STATE,
                    array_segment_bytes(state_words),
                    capacity=state_words,
                    shard_id=k,
                    shard_count=n_shards,
                    fixed_scale=scale,
                    data_offset=ARRAY_OFFSET,
                )
                made.append(seg)
                state.append(seg)
            request, result = [], []
            for _slot in range(n_slots):
                req_row, res_row = [], []
                for k in range(n_shards):
                    req = Ring.create(
                        capacity, dtype=ORDER_DTYPE, shard_id=k, shard_count=n_shards,
                        fixed_scale=scale, tag="req",
                    )  # fmt: skip
                    made.append(req)
                    res = Ring.create(
                        capacity, dtype=RESULT_DTYPE, shard_id=k, shard_count=n_shards,
                        fixed_scale=scale, tag="res",
                    )  # fmt: skip
                    made.append(res)
                    req_row.append(req)
                    res_row.append(res)
                request.append(req_row)
                result.append(res_row)
        except BaseException:
            for thing in reversed(made):
                thing.close()
            raise
        names = TopologyNames(
            n_shards=n_shards,
            n_slots=n_slots,
            capacity=capacity,
            scale=scale,
            control=control.name,
            shared=shared.name,
            state=tuple(s.name for s in state),
            request=tuple(tuple(r.name for r in row) for row in request),
            result=tuple(tuple(r.name for r in row) for row in result),
        )
        return cls(names, control, shared, state, request, result)

    def segments(self) -> list[Segment]:
        rings = [r.segment for row in self.request + self.result for r in row]
        return [self.control, self.shared, *self.state, *rings, *self.extra]

    def close(self) -> None:
        """Unmap and unlink every segment (idempotent)."""
        for row in self.request + self.result:
            for ring in row:
                ring.close()
        for seg in (*self.state, self.shared, self.control, *self.extra):
            seg.close()
