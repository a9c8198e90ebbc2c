"""The common header at offset 0 of every openpit_shm shared-memory segment.

Every segment kind (rings here; shared state and control segments from the
engine and sharding owners) starts with these 128 bytes, so any process, the
sweep and C programs can tell what a segment is, who made it and whether its
layout matches theirs::

     0        8        16       24       32       40       48       56       64
     +--------+--------+--------+--------+--------+--------+--------+--------+
     | magic  |version |  kind  |capacity|rec_byt |seg_byt |  pid   |pid_strt|
     +--------+--------+--------+--------+--------+--------+--------+--------+
     64       72       80       88       96       104      112      120      128
     +--------+--------+--------+--------+--------+--------+--------+--------+
     |created |shard_id|n_shards| scale  |data_off|reserved|reserved|reserved|
     +--------+--------+--------+--------+--------+--------+--------+--------+

All fields are little-endian int64 (``magic`` is the bytes ``b"OPITSHM1"``).

* ``magic`` is written **last**, with a release store, after the payload was
  zeroed and pre-faulted and every other field was written: a reader that
  sees the magic sees a complete segment.
* ``version``: ``LAYOUT_VERSION``; bump it on any incompatible change to a
  descriptor in ``openpit_shm.layout`` (the C header carries the same value).
* ``kind``: ``SEGMENT_KIND_*``. ``capacity``: a kind-specific size (records
  for a ring). ``rec_byt``: bytes per record (64 for rings). ``seg_byt``: the
  size of the whole segment; ``data_off``: where the payload starts.
* ``pid``/``pid_strt``: the creator's pid and its start time (clock ticks after
  boot, field 22 of ``/proc/<pid>/stat``), written *first* so the sweep can
  remove segments of a creator that died, even mid-creation, without being
  fooled by pid reuse. ``created``: ``CLOCK_REALTIME`` in ns.
* ``shard_id``/``n_shards``: which shard of how many (0/1 when unsharded).
* ``scale``: the engine-wide fixed-point decimal scale of every amount.

This module is pure NumPy (no Numba, no OS calls): descriptors plus
``header_read``/``header_check``. Creating and attaching live in
``openpit_shm.shm.segment``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "HDR_OFF",
    "HDR_W",
    "LAYOUT_VERSION",
    "SEGMENT_HEADER_BYTES",
    "SEGMENT_HEADER_DTYPE",
    "SEGMENT_KIND_CONTROL",
    "SEGMENT_KIND_NAMES",
    "SEGMENT_KIND_QUOTES",
    "SEGMENT_KIND_RING",
    "SEGMENT_KIND_SHARED",
    "SEGMENT_KIND_STATE",
    "SEGMENT_MAGIC",
    "SegmentHeader",
    "SegmentHeaderError",
    "header_check",
    "header_read",
]

#: ``b"OPITSHM1"`` read as a little-endian u64.
SEGMENT_MAGIC = int.from_bytes(b"OPITSHM1", "little")
#: Version of every layout in ``openpit_shm.layout`` (header, ring, records). 2: record
#: tags in ``ref``, handles naming shard, client and generation, the control segment's
#: answer journal and counters.
LAYOUT_VERSION = 2
SEGMENT_HEADER_BYTES = 128

# Segment kinds. 1-15 are assigned here; add new kinds by agreement with the transport owner.
SEGMENT_KIND_RING = 1  #: one SPSC ring (``openpit_shm.layout.ring``)
SEGMENT_KIND_STATE = 2  #: a shard's kernel state arena (``openpit_shm.layout.state``)
SEGMENT_KIND_SHARED = 3  #: cross-shard counters (broker/asset-wide windows)
SEGMENT_KIND_CONTROL = 4  #: the control channel of a sharded engine
SEGMENT_KIND_QUOTES = 5  #: the engine's keyed quote table (``openpit_shm.layout.quotes``)
SEGMENT_KIND_NAMES: dict[int, str] = {
    SEGMENT_KIND_RING: "ring",
    SEGMENT_KIND_STATE: "state",
    SEGMENT_KIND_SHARED: "shared",
    SEGMENT_KIND_CONTROL: "control",
    SEGMENT_KIND_QUOTES: "quotes",
}

_FIELDS = (
    ("magic", "<u8"),
    ("version", "<i8"),
    ("kind", "<i8"),
    ("capacity", "<i8"),
    ("record_bytes", "<i8"),
    ("segment_bytes", "<i8"),
    ("creator_pid", "<i8"),
    ("creator_start", "<i8"),
    ("created_ns", "<i8"),
    ("shard_id", "<i8"),
    ("shard_count", "<i8"),
    ("fixed_scale", "<i8"),
    ("data_offset", "<i8"),
    ("reserved0", "<i8"),
    ("reserved1", "<i8"),
    ("reserved2", "<i8"),
)

#: The header as a NumPy structured dtype (128 bytes, every field 8-byte aligned).
SEGMENT_HEADER_DTYPE = np.dtype(
    {
        "names": [n for n, _ in _FIELDS],
        "formats": [f for _, f in _FIELDS],
        "offsets": [8 * k for k in range(len(_FIELDS))],
        "itemsize": SEGMENT_HEADER_BYTES,
        "aligned": True,
    }
)

#: Byte offset of each header field.
HDR_OFF: dict[str, int] = {n: 8 * k for k, (n, _) in enumerate(_FIELDS)}
#: int64 word index of each header field (kernels and C index the segment as int64[]).
HDR_W: dict[str, int] = {n: k for k, (n, _) in enumerate(_FIELDS)}

HDR_W_MAGIC = HDR_W["magic"]
HDR_W_VERSION = HDR_W["version"]
HDR_W_KIND = HDR_W["kind"]
HDR_W_CAPACITY = HDR_W["capacity"]
HDR_W_CREATOR_PID = HDR_W["creator_pid"]
HDR_W_CREATOR_START = HDR_W["creator_start"]


class SegmentHeaderError(ValueError):
    """A segment's header does not match what the caller expects (or is not a header at all)."""


@dataclass(frozen=True, slots=True)
class SegmentHeader:
    """A decoded segment header (see the module docstring for each field)."""

    magic: int
    version: int
    kind: int
    capacity: int
    record_bytes: int
    segment_bytes: int
    creator_pid: int
    creator_start: int
    created_ns: int
    shard_id: int
    shard_count: int
    fixed_scale: int
    data_offset: int

    @property
    def kind_name(self) -> str:
        return SEGMENT_KIND_NAMES.get(self.kind, f"kind {self.kind}")


def header_read(buf: np.ndarray | bytes | bytearray | memoryview) -> SegmentHeader:
    """Decode the first 128 bytes of ``buf`` (no validation; see ``header_check``)."""
    raw = np.frombuffer(buf, dtype=np.uint8, count=SEGMENT_HEADER_BYTES)
    rec = raw.view(SEGMENT_HEADER_DTYPE)[0]
    return SegmentHeader(*(int(rec[name]) for name in SegmentHeader.__slots__))


def _mismatch(name: str, what: str, found: object, expected: object) -> SegmentHeaderError:
    return SegmentHeaderError(
        f"shared-memory segment {name!r}: {what} is {found}, expected {expected}"
    )


def header_check(
    buf: np.ndarray | bytes | bytearray | memoryview,
    *,
    name: str = "?",
    kind: int | None = None,
    capacity: int | None = None,
    record_bytes: int | None = None,
    shard_id: int | None = None,
    shard_count: int | None = None,
    fixed_scale: int | None = None,
    size: int | None = None,
) -> SegmentHeader:
    """Decode and validate a header; raise ``SegmentHeaderError`` naming the first mismatch.

    ``None`` means "any". ``size`` is the size of the mapping actually seen
    (checked against ``segment_bytes``, so a truncated segment is caught).
    """
    if len(memoryview(buf).cast("B")) < SEGMENT_HEADER_BYTES:
        raise SegmentHeaderError(
            f"shared-memory segment {name!r} is shorter than its {SEGMENT_HEADER_BYTES}-byte header"
        )
    h = header_read(buf)
    if h.magic != SEGMENT_MAGIC:
        raise SegmentHeaderError(
            f"shared-memory segment {name!r} is not an openpit_shm segment or is not "
            f"initialised yet: magic is {h.magic:#018x}, expected {SEGMENT_MAGIC:#018x}"
        )
    if h.version != LAYOUT_VERSION:
        raise _mismatch(name, "layout version", h.version, LAYOUT_VERSION)
    if kind is not None and h.kind != kind:
        expected = SEGMENT_KIND_NAMES.get(kind, kind)
        raise _mismatch(name, "segment kind", h.kind_name, expected)
    if capacity is not None and h.capacity != capacity:
        raise _mismatch(name, "capacity", h.capacity, capacity)
    if record_bytes is not None and h.record_bytes != record_bytes:
        raise _mismatch(name, "record size", h.record_bytes, record_bytes)
    if shard_count is not None and h.shard_count != shard_count:
        raise _mismatch(name, "shard count", h.shard_count, shard_count)
    if shard_id is not None and h.shard_id != shard_id:
        raise _mismatch(name, "shard id", h.shard_id, shard_id)
    if fixed_scale is not None and h.fixed_scale != fixed_scale:
        raise _mismatch(name, "fixed-point scale", h.fixed_scale, fixed_scale)
    if size is not None and h.segment_bytes > size:
        raise _mismatch(name, "mapped size", size, f">= {h.segment_bytes} (segment_bytes)")
    if not 0 <= h.data_offset <= h.segment_bytes:
        raise _mismatch(name, "data offset", h.data_offset, f"within 0..{h.segment_bytes}")
    return h
