"""shm.segment unnamed (memfd) segments and shm.handoff: reachable only by descriptor.

An unnamed segment has no /dev/shm entry at all; another process maps it only
if it is handed the descriptor (SCM_RIGHTS over a Unix socket). Its header is
checked like a named one's, it grows in place through any holder's
descriptor, and it is freed with its last descriptor or mapping.
"""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

from openpit_shm.layout.records import RESULT_DTYPE
from openpit_shm.layout.segment import (
    HDR_W,
    SEGMENT_KIND_CONTROL,
    SEGMENT_KIND_RING,
    SEGMENT_KIND_STATE,
    SegmentHeaderError,
)
from openpit_shm.shm.handoff import recv_fds, send_fds
from openpit_shm.shm.ring import Ring
from openpit_shm.shm.segment import Segment, owned_segment_names
from tests.sharded.conftest import memfd_segments, shm_entries


def _fd_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_should_create_an_unnamed_segment_that_no_directory_lists():
    before = shm_entries()
    with Segment.create(
        SEGMENT_KIND_STATE, 2 * 4096, shard_id=1, shard_count=2, tag="t", unnamed=True
    ) as seg:
        assert seg.unnamed and seg.name == "memfd:opshm.state.t"
        assert shm_entries() == before, "nothing of it appears in /dev/shm"
        assert seg.name not in owned_segment_names(), "nothing to unlink at exit"
        assert os.readlink(f"/proc/self/fd/{seg.fileno()}") == "/memfd:opshm.state.t (deleted)"
        assert seg.header.creator_pid == os.getpid() and seg.header.shard_id == 1
        assert not seg.buf[128:].any()
    with (
        pytest.raises(ValueError, match="named"),
        Segment.create(SEGMENT_KIND_STATE, 4096) as named,
    ):
        named.fileno()


def test_should_attach_by_descriptor_with_the_same_header_checks():
    with Segment.create(SEGMENT_KIND_CONTROL, 8192, shard_id=2, shard_count=3, unnamed=True) as seg:
        seg.words[600] = 12345
        other = Segment.attach(
            os.dup(seg.fileno()), kind=SEGMENT_KIND_CONTROL, shard_id=2, shard_count=3
        )
        assert other.words[600] == 12345 and not other.owner and other.unnamed
        other.words[601] = 7
        assert seg.words[601] == 7
        fd = other.fileno()
        other.close()
        assert not _fd_open(fd), "the attacher's descriptor is closed with it"
        assert seg.words[600] == 12345
        for expect, match in (
            ({"kind": SEGMENT_KIND_RING}, "segment kind is control, expected ring"),
            ({"shard_id": 1}, "shard id is 2, expected 1"),
        ):
            fd = os.dup(seg.fileno())
            with pytest.raises(SegmentHeaderError, match=match):
                Segment.attach(fd, **expect)
            assert not _fd_open(fd), "a refused descriptor is closed, not leaked"
        seg.words[HDR_W["version"]] = 99
        with pytest.raises(SegmentHeaderError, match="layout version is 99"):
            Segment.attach(os.dup(seg.fileno()))


def test_should_grow_in_place_for_every_holder_and_never_shrink():
    with Segment.create(SEGMENT_KIND_STATE, 4096, capacity=1, unnamed=True) as seg:
        seg.words[100] = 42
        other = Segment.attach(os.dup(seg.fileno()), kind=SEGMENT_KIND_STATE)
        grown = other.grow(4 * 4096, capacity=4)
        other.close()
        grown.words[1000] = 9
        assert grown.words[100] == 42
        # The creator's descriptor sees the grown file: a late attacher maps all of it.
        late = Segment.attach(os.dup(seg.fileno()), kind=SEGMENT_KIND_STATE, capacity=4)
        assert late.size == 4 * 4096 and late.words[1000] == 9
        with pytest.raises(PermissionError):
            os.ftruncate(seg.fileno(), 4096)  # sealed: nobody can cut the others' mappings
        late.close()
        grown.close()


def test_should_close_every_descriptor_of_closed_segments_and_rings():
    before = memfd_segments()
    seg = Segment.create(SEGMENT_KIND_STATE, 4096, unnamed=True)
    ring = Ring.create(64, unnamed=True)
    assert len(memfd_segments() - before) >= 2
    seg.close()
    ring.close()
    seg.close()  # idempotent
    assert memfd_segments() <= before


def _child(conn, fds_expected: int) -> None:  # type: ignore[no-untyped-def]
    seg_fd, ring_fd = recv_fds(conn, fds_expected)
    seg = Segment.attach(seg_fd, kind=SEGMENT_KIND_STATE)
    ring = Ring.attach(ring_fd, dtype=RESULT_DTYPE, capacity=64)
    seg.words[300] = int(seg.words[299]) + 1
    ring.producer().push((5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    conn.send("done")
    conn.recv()
    seg.close()
    ring.close()


def test_should_hand_unnamed_segments_to_a_spawned_process():
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    with (
        Segment.create(SEGMENT_KIND_STATE, 4096, unnamed=True) as seg,
        Ring.create(64, dtype=RESULT_DTYPE, unnamed=True) as ring,
    ):
        seg.words[299] = 41
        proc = ctx.Process(target=_child, args=(child, 2), daemon=True)
        proc.start()
        child.close()
        try:
            send_fds(parent, [seg.fileno(), ring.segment.fileno()])
            assert parent.poll(120) and parent.recv() == "done"
            assert seg.words[300] == 42
            assert int(ring.consumer().pop(timeout=5.0)["seq"]) == 5
            parent.send("bye")
            proc.join(60)
            assert proc.exitcode == 0
        finally:
            if proc.is_alive():
                proc.kill()
            parent.close()


def test_should_refuse_a_batch_of_the_wrong_size_and_close_what_came():
    a, b = mp.Pipe()
    before = memfd_segments()
    with Segment.create(SEGMENT_KIND_STATE, 4096, unnamed=True) as seg:
        send_fds(a, [seg.fileno(), seg.fileno()])
        with pytest.raises(OSError, match="expected 3 descriptors, got 2"):
            recv_fds(b, 3)
        a.send("after")  # the stream stays in step: the connection's messages still work
        assert b.recv() == "after"
    assert memfd_segments() <= before
    with pytest.raises(ValueError):
        send_fds(a, [])
    a.close()
    b.close()
