"""shm.sweep: segments of dead creators go, live ones and garbage stay; the CLI works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from openpit_shm.layout.segment import HDR_W, SEGMENT_MAGIC
from openpit_shm.shm.ring import Ring
from openpit_shm.shm.segment import process_start_ticks
from openpit_shm.shm.sweep import creator_alive, sweep

SHM = Path("/dev/shm")

_CHILD = """
import time
from openpit_shm.shm.ring import Ring
from openpit_shm.shm.segment import Segment
rings = [Ring.create(64), Ring.create(128, shard_id=1, shard_count=2)]
seg = Segment.create(2, 3 * 4096)
for x in (*rings, seg):
    print(x.name, flush=True)
print("READY", flush=True)
time.sleep(120)
"""


def test_should_remove_the_segments_of_a_sigkilled_process():
    p = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None
    names = []
    for line in p.stdout:
        if line.strip() == "READY":
            break
        names.append(line.strip().lstrip("/"))
    assert len(names) == 3 and all((SHM / n).exists() for n in names)
    assert not set(names) & set(sweep(dry_run=True).removed)  # alive: left alone
    p.send_signal(signal.SIGKILL)
    p.wait(30)
    assert all((SHM / n).exists() for n in names)  # SIGKILL cannot clean up
    assert set(names) <= set(sweep(dry_run=True).removed)
    assert all((SHM / n).exists() for n in names)  # dry run removed nothing
    report = sweep()
    assert set(names) <= set(report.removed)
    assert not any((SHM / n).exists() for n in names)


def test_should_leave_the_segments_of_live_processes():
    with Ring.create(16) as r:
        report = sweep()
        assert r.name.lstrip("/") in report.alive
        assert (SHM / r.name.lstrip("/")).exists()


def _fake(
    path: Path, *, pid: int, start: int, magic: int = SEGMENT_MAGIC, size: int = 4096
) -> None:
    w = np.zeros(size // 8, np.int64)
    w[HDR_W["creator_pid"]] = pid
    w[HDR_W["creator_start"]] = start
    w[HDR_W["magic"]] = np.uint64(magic).view(np.int64)
    path.write_bytes(w.tobytes())


def test_should_skip_garbage_and_half_created_files_safely(tmp_path):
    (tmp_path / "opshm.short").write_bytes(b"xy")
    (tmp_path / "opshm.empty").write_bytes(b"")
    (tmp_path / "opshm.zeros").write_bytes(b"\0" * 4096)  # just created: no pid yet
    (tmp_path / "opshm.dir").mkdir()
    (tmp_path / "opshm.link").symlink_to(tmp_path / "opshm.short")
    (tmp_path / "other.file").write_bytes(b"\0" * 4096)
    report = sweep(shm_dir=tmp_path)
    assert report.removed == [] and report.alive == []
    skipped = dict(report.skipped)
    assert set(skipped) == {"opshm.short", "opshm.empty", "opshm.zeros", "opshm.dir", "opshm.link"}
    assert "too short" in skipped["opshm.short"] and "no header" in skipped["opshm.zeros"]
    assert all((tmp_path / n).exists() for n in skipped)


def test_should_remove_a_creator_that_died_mid_creation_or_whose_pid_was_reused(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake(tmp_path / "opshm.dead", pid=dead.pid, start=1, magic=0)  # no magic yet
    me = os.getpid()
    _fake(tmp_path / "opshm.reused", pid=me, start=process_start_ticks(me) + 12345)
    _fake(tmp_path / "opshm.mine", pid=me, start=process_start_ticks(me))
    report = sweep(shm_dir=tmp_path)
    assert sorted(report.removed) == ["opshm.dead", "opshm.reused"]
    assert report.alive == ["opshm.mine"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opshm.mine"]


def test_should_treat_a_zombie_as_dead():
    z = subprocess.Popen([sys.executable, "-c", "pass"])
    for _ in range(1000):  # until it has exited but is not reaped yet
        if Path(f"/proc/{z.pid}/stat").read_text().rsplit(") ", 1)[1][0] == "Z":
            break
        time.sleep(0.01)
    assert not creator_alive(z.pid, 0)
    z.wait()
    assert not creator_alive(z.pid, 0) and creator_alive(
        os.getpid(), process_start_ticks(os.getpid())
    )


def test_should_sweep_from_the_command_line(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake(tmp_path / "opshm.x.ring", pid=dead.pid, start=0)
    cmd = [sys.executable, "-m", "openpit_shm", "sweep", "--dir", str(tmp_path)]
    dry = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, check=True)
    assert "would remove opshm.x.ring" in dry.stdout and (tmp_path / "opshm.x.ring").exists()
    real = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "removed opshm.x.ring" in real.stdout and not (tmp_path / "opshm.x.ring").exists()


def test_should_list_only_the_segments_of_the_given_creators():
    """A leak check names its own segments: a live leak of ours is found, others' never."""
    from openpit_shm.shm.sweep import process_identity, segments_created_by
    from tests.foreign_segments import another_engine

    me = process_identity(os.getpid())
    with another_engine() as other:
        theirs = process_identity(other.pid)
        leaked = Ring.create(16)  # ours, not closed: a leak until it is
        try:
            mine = segments_created_by([me])
            assert leaked.name.lstrip("/") in mine
            foreign = segments_created_by([theirs])
            assert foreign and not set(foreign) & set(mine), "the other engine's are not ours"
            # The same pid with another start time is another process (pid reuse).
            assert leaked.name.lstrip("/") not in segments_created_by([(me[0], me[1] + 1)])
        finally:
            leaked.close()
        assert leaked.name.lstrip("/") not in segments_created_by([me])
