"""shm.segment: creation, attach validation, and a lifecycle that leaves nothing in /dev/shm."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from openpit_shm.layout.segment import (
    HDR_W,
    SEGMENT_KIND_CONTROL,
    SEGMENT_KIND_RING,
    SEGMENT_KIND_STATE,
    SEGMENT_MAGIC,
    SegmentHeaderError,
)
from openpit_shm.shm.segment import Segment, owned_segment_names, process_start_ticks

SHM = Path("/dev/shm")


def _exists(name: str) -> bool:
    return (SHM / name.lstrip("/")).exists()


def test_should_create_a_private_zeroed_segment_with_an_unguessable_name():
    with Segment.create(SEGMENT_KIND_STATE, 3 * 4096 + 100, tag="t1") as seg:
        path = SHM / seg.name.lstrip("/")
        assert seg.name.startswith("/opshm.") and seg.name.endswith(".state.t1")
        token = seg.name.split(".")[1]
        assert len(token) == 32 and int(token, 16) >= 0
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_size == 3 * 4096 + 100
        assert not seg.buf[128:].any()
        h = seg.header
        assert h.magic == SEGMENT_MAGIC and h.creator_pid == os.getpid()
        assert h.creator_start == process_start_ticks(os.getpid()) > 0
        assert seg.words[HDR_W["magic"]] != 0
    assert not _exists(seg.name)


def test_should_give_two_segments_different_names():
    with (
        Segment.create(SEGMENT_KIND_STATE, 4096) as a,
        Segment.create(SEGMENT_KIND_STATE, 4096) as b,
    ):
        assert a.name != b.name


def test_should_reject_a_bad_tag():
    with pytest.raises(ValueError, match="tag"):
        Segment.create(SEGMENT_KIND_STATE, 4096, tag="../etc")


def test_should_attach_and_see_the_creators_writes():
    with Segment.create(SEGMENT_KIND_CONTROL, 8192, shard_id=2, shard_count=3) as seg:
        seg.words[600] = 12345
        other = Segment.attach(seg.name, kind=SEGMENT_KIND_CONTROL, shard_id=2, shard_count=3)
        assert other.words[600] == 12345 and not other.owner
        other.close()
        assert _exists(seg.name)  # an attacher's close never unlinks


@pytest.mark.parametrize(
    ("expect", "match"),
    [
        ({"kind": SEGMENT_KIND_RING}, "segment kind is state, expected ring"),
        ({"capacity": 99}, "capacity"),
        ({"shard_id": 1}, "shard id is 0, expected 1"),
        ({"shard_count": 2}, "shard count is 1, expected 2"),
        ({"fixed_scale": 2}, "fixed-point scale"),
    ],
)
def test_should_refuse_to_attach_with_a_mismatch(expect, match):
    with (
        Segment.create(SEGMENT_KIND_STATE, 4096) as seg,
        pytest.raises(SegmentHeaderError, match=match),
    ):
        Segment.attach(seg.name, **expect)


def test_should_refuse_a_wrong_layout_version_or_magic():
    with Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        seg.words[HDR_W["version"]] = 99
        with pytest.raises(SegmentHeaderError, match="layout version is 99"):
            Segment.attach(seg.name)
        seg.words[HDR_W["magic"]] = 0
        with pytest.raises(SegmentHeaderError, match="not an openpit_shm segment"):
            Segment.attach(seg.name)


def test_should_raise_file_not_found_for_a_missing_name():
    with pytest.raises(FileNotFoundError, match="no shared-memory segment"):
        Segment.attach("/opshm.does-not-exist.ring")


def test_should_unlink_on_close_and_be_idempotent():
    seg = Segment.create(SEGMENT_KIND_STATE, 4096)
    view = seg.words[:8]  # a live view must not stop the unlink
    seg.close()
    seg.close()
    assert not _exists(seg.name) and seg.closed
    assert seg.name not in owned_segment_names()
    del view


def test_should_unlink_when_a_with_block_raises():
    with pytest.raises(RuntimeError), Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        raise RuntimeError("boom")
    assert not _exists(seg.name)


def _fork_child_exits(name: str) -> None:
    seg = Segment.attach(name)
    seg.close()
    sys.exit(0)  # runs atexit handlers in the child


def test_should_not_unlink_the_parents_segment_when_a_forked_child_exits():
    with Segment.create(SEGMENT_KIND_STATE, 4096) as seg:
        p = mp.get_context("fork").Process(target=_fork_child_exits, args=(seg.name,))
        p.start()
        p.join(30)
        assert p.exitcode == 0
        assert _exists(seg.name)


def _run_child(
    body: str, *, signal_after_ready: int | None = None
) -> tuple[subprocess.CompletedProcess, list[str]]:
    code = textwrap.dedent(body)
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    names = []
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("NAME "):
            names.append(line.split()[1])
        if line.strip() == "READY":
            break
    if signal_after_ready is not None:
        p.send_signal(signal_after_ready)
    out, err = p.communicate(timeout=60)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err), names


def test_should_unlink_at_interpreter_exit():
    res, names = _run_child(
        """
        from openpit_shm.shm.ring import Ring
        from openpit_shm.shm.segment import Segment
        r = Ring.create(64)
        s = Segment.create(3, 4096)
        print("NAME", r.name); print("NAME", s.name); print("READY", flush=True)
        """
    )
    assert res.returncode == 0, res.stderr
    assert len(names) == 2 and not any(_exists(n) for n in names)


def test_should_unlink_on_sigterm_and_die_of_it():
    res, names = _run_child(
        """
        import time
        from openpit_shm.shm.ring import Ring
        r = Ring.create(64)
        print("NAME", r.name); print("READY", flush=True)
        time.sleep(60)
        """,
        signal_after_ready=signal.SIGTERM,
    )
    assert res.returncode == -signal.SIGTERM
    assert names and not _exists(names[0])


def test_should_chain_to_the_previous_sigterm_handler():
    res, names = _run_child(
        """
        import signal, sys, time
        def handler(signum, frame):
            print("PREVIOUS HANDLER RAN", flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, handler)
        from openpit_shm.shm.ring import Ring
        r = Ring.create(64)
        print("NAME", r.name); print("READY", flush=True)
        time.sleep(60)
        """,
        signal_after_ready=signal.SIGTERM,
    )
    assert res.returncode == 3
    assert "PREVIOUS HANDLER RAN" in res.stdout
    assert names and not _exists(names[0])
