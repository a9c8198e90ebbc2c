"""layout.segment / layout.ring: offsets, sizes, and header validation errors."""

from __future__ import annotations

import numpy as np
import pytest

from openpit_shm.layout.records import ORDER_DTYPE, RECORD_BYTES, RESULT_DTYPE
from openpit_shm.layout.ring import (
    RING_CTRL_BYTES,
    RING_CTRL_DTYPE,
    RING_OFF,
    RING_SLOTS_OFFSET,
    ring_capacity_check,
    ring_segment_bytes,
)
from openpit_shm.layout.segment import (
    HDR_OFF,
    LAYOUT_VERSION,
    SEGMENT_HEADER_BYTES,
    SEGMENT_HEADER_DTYPE,
    SEGMENT_KIND_RING,
    SEGMENT_KIND_STATE,
    SEGMENT_MAGIC,
    SegmentHeaderError,
    header_check,
)


def test_should_lay_out_the_segment_header_as_documented():
    expected = [
        "magic", "version", "kind", "capacity", "record_bytes", "segment_bytes",
        "creator_pid", "creator_start", "created_ns", "shard_id", "shard_count",
        "fixed_scale", "data_offset", "reserved0", "reserved1", "reserved2",
    ]  # fmt: skip
    assert SEGMENT_HEADER_DTYPE.itemsize == SEGMENT_HEADER_BYTES == 128
    assert list(SEGMENT_HEADER_DTYPE.names) == expected
    for k, name in enumerate(expected):
        assert SEGMENT_HEADER_DTYPE.fields[name][1] == 8 * k == HDR_OFF[name]
    assert SEGMENT_MAGIC.to_bytes(8, "little") == b"OPITSHM1"


def test_should_put_cursors_and_flags_on_separate_128_byte_blocks():
    assert RING_CTRL_DTYPE.itemsize == RING_CTRL_BYTES == 4096
    assert RING_CTRL_DTYPE.fields["header"][1] == 0
    for name, off in RING_OFF.items():
        assert RING_CTRL_DTYPE.fields[name][1] == off
    shared = ["head", "tail", "consumer_sleeping", "producer_sleeping"]
    blocks = [RING_OFF[n] // 128 for n in shared]
    assert len(set(blocks)) == len(blocks)  # each hot shared word alone in its block
    assert RING_OFF["tail"] - RING_OFF["head"] >= 128
    assert RING_OFF["head"] == 256 and RING_OFF["tail"] == 384
    # Producer-private and consumer-private lines are apart from each other and the cursors.
    assert (
        RING_OFF["tail_cache"] // 128 not in blocks and RING_OFF["head_cache"] // 128 not in blocks
    )
    assert RING_OFF["tail_cache"] // 128 != RING_OFF["head_cache"] // 128
    assert min(RING_OFF.values()) >= SEGMENT_HEADER_BYTES


def test_should_start_slots_on_a_page_boundary():
    assert RING_SLOTS_OFFSET % 4096 == 0
    assert ring_segment_bytes(1024) == 4096 + 1024 * RECORD_BYTES


def test_should_use_64_byte_records_for_both_directions():
    assert ORDER_DTYPE.itemsize == RESULT_DTYPE.itemsize == RECORD_BYTES == 64


@pytest.mark.parametrize("bad", [0, 1, 3, 1000, 1 << 25, -8])
def test_should_reject_a_capacity_that_is_not_a_power_of_two_in_range(bad):
    with pytest.raises(ValueError, match="power of two"):
        ring_capacity_check(bad)


def _header(**over) -> np.ndarray:
    h = np.zeros(1, SEGMENT_HEADER_DTYPE)
    vals = dict(
        magic=SEGMENT_MAGIC, version=LAYOUT_VERSION, kind=SEGMENT_KIND_RING, capacity=64,
        record_bytes=64, segment_bytes=4096 + 64 * 64, creator_pid=1, shard_id=1, shard_count=4,
        fixed_scale=8, data_offset=4096,
    )  # fmt: skip
    vals.update(over)
    for k, v in vals.items():
        h[k] = v
    return h


def test_should_accept_a_matching_header():
    h = header_check(_header(), kind=SEGMENT_KIND_RING, capacity=64, shard_id=1, shard_count=4)
    assert (h.capacity, h.shard_id, h.shard_count, h.kind_name) == (64, 1, 4, "ring")


@pytest.mark.parametrize(
    ("over", "expect", "match"),
    [
        ({"magic": 0}, {}, "not an openpit_shm segment"),
        ({"magic": 0x1234}, {}, "magic"),
        (
            {"version": LAYOUT_VERSION + 1},
            {},
            f"layout version is {LAYOUT_VERSION + 1}, expected {LAYOUT_VERSION}",
        ),
        ({}, {"kind": SEGMENT_KIND_STATE}, "segment kind is ring, expected state"),
        ({}, {"capacity": 128}, "capacity is 64, expected 128"),
        ({}, {"record_bytes": 32}, "record size is 64, expected 32"),
        ({}, {"shard_id": 2}, "shard id is 1, expected 2"),
        ({}, {"shard_count": 8}, "shard count is 4, expected 8"),
        ({}, {"fixed_scale": 4}, "fixed-point scale is 8, expected 4"),
        ({}, {"size": 4096}, "mapped size"),
        ({"data_offset": 1 << 40}, {}, "data offset"),
    ],
)
def test_should_name_the_mismatch_when_a_header_is_wrong(over, expect, match):
    with pytest.raises(SegmentHeaderError, match=match):
        header_check(_header(**over), name="/opshm.test", **expect)


def test_should_reject_a_buffer_shorter_than_a_header():
    with pytest.raises(SegmentHeaderError, match="shorter than"):
        header_check(b"\0" * 100)
