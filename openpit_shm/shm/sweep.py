"""Remove shared-memory segments left behind by dead processes.

A process killed with SIGKILL (or by the OOM killer, or a crash) cannot run
its clean-up, and a posix_ipc name lives in ``/dev/shm`` (counted against
RAM) until someone unlinks it. (Unnamed memfd segments never appear there:
they are freed with the last process holding them.) ``sweep()`` looks at
every ``/dev/shm/opshm.*`` entry and removes it when its creator is dead:

* the creator pid and start time are read from the segment header (both are
  written first at creation, so a creator that died mid-creation is caught);
* a creator is dead when the pid does not exist, is a zombie, or now belongs
  to a process that started at another time (pid reuse);
* entries that are not regular files, are owned by another user (unless we
  are root), are shorter than a header or carry no creator pid are *skipped*
  and reported, never removed: they may be a segment being created right now.

Run it as ``python -m openpit_shm sweep [--dry-run]``. Caveat: pids are only
meaningful inside one pid namespace; do not share ``/dev/shm`` between
containers with separate pid namespaces and sweep from both.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openpit_shm.layout.segment import (
    HDR_W,
    SEGMENT_HEADER_BYTES,
    SEGMENT_MAGIC,
)
from openpit_shm.shm.segment import SEGMENT_NAME_PREFIX, process_start_ticks

__all__ = [
    "SHM_DIR",
    "SweepReport",
    "creator_alive",
    "process_identity",
    "segments_created_by",
    "sweep",
]

SHM_DIR = Path("/dev/shm")
_FILE_PREFIX = SEGMENT_NAME_PREFIX.lstrip("/")


@dataclass
class SweepReport:
    """What a sweep did: ``removed`` and ``alive`` names, ``skipped`` (name, reason) pairs."""

    removed: list[str] = field(default_factory=list)
    alive: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat_line = f.read()
        return stat_line[stat_line.rindex(b")") + 2 :].split()[0] in (b"Z", b"X")
    except (OSError, ValueError, IndexError):
        return False


def creator_alive(pid: int, start_ticks: int) -> bool:
    """True if ``pid`` exists, is not a zombie and (if known) started at ``start_ticks``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if _is_zombie(pid):
        return False
    if start_ticks:
        now = process_start_ticks(pid)
        if now and now != start_ticks:
            return False  # the pid was reused by a younger process
    return True


def process_identity(pid: int) -> tuple[int, int]:
    """``(pid, start ticks)``: a process as segment headers name their creator (read it while
    the process lives; the start ticks tell it from a later process given the same pid)."""
    return pid, process_start_ticks(pid)


def segments_created_by(
    creators: Iterable[tuple[int, int]], *, shm_dir: Path = SHM_DIR
) -> list[str]:
    """Names of the ``opshm.*`` entries whose header names one of ``creators`` as its creator.

    ``creators`` are ``process_identity`` pairs (a start of 0 matches any start).
    This is how a leak check looks at the segments of one engine (its process
    and workers) and never at another process's, which may come and go at any
    time on a shared host.
    """
    wanted: dict[int, set[int]] = {}
    for pid, start in creators:
        wanted.setdefault(pid, set()).add(start)
    try:
        entries = sorted(p for p in shm_dir.iterdir() if p.name.startswith(_FILE_PREFIX))
    except FileNotFoundError:
        return []
    found = []
    for path in entries:
        info = _read_creator(path)
        if isinstance(info, str):
            continue
        _, pid, start = info
        starts = wanted.get(pid)
        if starts is not None and (start in starts or 0 in starts):
            found.append(path.name)
    return found


def _read_creator(path: Path) -> tuple[int, int, int] | str:
    """(magic, pid, start ticks) of the segment at ``path``, or a reason to skip it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        return f"cannot open: {e.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_uid != os.geteuid() and os.geteuid() != 0:
            return "owned by another user"
        if st.st_size < SEGMENT_HEADER_BYTES:
            return f"too short for a header ({st.st_size} bytes)"
        raw = os.pread(fd, SEGMENT_HEADER_BYTES, 0)
    finally:
        os.close(fd)
    if len(raw) < SEGMENT_HEADER_BYTES:
        return "short read"
    words = np.frombuffer(raw, dtype="<i8")
    magic = int(np.frombuffer(raw, dtype="<u8", count=1)[0])
    return magic, int(words[HDR_W["creator_pid"]]), int(words[HDR_W["creator_start"]])


def sweep(*, dry_run: bool = False, shm_dir: Path = SHM_DIR) -> SweepReport:
    """Unlink ``opshm.*`` segments whose creator is dead (``dry_run``: only report them)."""
    report = SweepReport()
    try:
        entries = sorted(p for p in shm_dir.iterdir() if p.name.startswith(_FILE_PREFIX))
    except FileNotFoundError:
        return report
    for path in entries:
        info = _read_creator(path)
        if isinstance(info, str):
            report.skipped.append((path.name, info))
            continue
        magic, pid, start = info
        if pid <= 0:
            why = "no creator pid" if magic == SEGMENT_MAGIC else "no header yet (or not ours)"
            report.skipped.append((path.name, why))
            continue
        if creator_alive(pid, start):
            report.alive.append(path.name)
            continue
        if not dry_run:
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # someone else removed it meanwhile
            except OSError as e:
                report.skipped.append((path.name, f"cannot remove: {e.strerror}"))
                continue
        report.removed.append(path.name)
    return report
