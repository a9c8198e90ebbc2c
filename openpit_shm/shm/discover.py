"""Find the sharded engines alive on this host and map their control segments read-only.

A sharded engine's control segment is an unnamed memfd (``shm.segment``):
it appears in no directory, only as ``/memfd:opshm.control (deleted)`` among
the open descriptors of the processes holding it (the host and its workers).
Opening ``/proc/<pid>/fd/<n>`` read-only gives this process its own handle
on that memory, which it maps ``PROT_READ``: a monitor can read every word
and write none. The kernel allows it only to the engine's own user (or root),
as for any ``/proc/<pid>/fd``.

Several processes hold the same segment; it is reported once, under the
process that created it (the header's creator pid).
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..layout.control import CTL_E_CLOSED
from ..layout.segment import (
    SEGMENT_HEADER_BYTES,
    SEGMENT_KIND_CONTROL,
    SEGMENT_KIND_NAMES,
    SegmentHeaderError,
    header_check,
)
from .segment import Segment

__all__ = ["EngineHandle", "attach_engine", "find_engines", "monitor_name"]

_CONTROL_LINK = f"/memfd:opshm.{SEGMENT_KIND_NAMES[SEGMENT_KIND_CONTROL]}"


@dataclass
class EngineHandle:
    """A read-only view of one live engine's control segment."""

    #: ``<creator pid>.<inode>``: unique on the host while the engine lives
    name: str
    pid: int
    created_ns: int  # CLOCK_REALTIME when the segment was made
    words: np.ndarray  # int64, read-only
    _map: mmap.mmap

    @property
    def age_s(self) -> float:
        return (time.time_ns() - self.created_ns) / 1e9

    def close(self) -> None:
        # The array's export of the buffer must go before the mapping can close.
        self.words = np.empty(0, dtype=np.int64)
        self._map.close()


def _name(creator_pid: int, inode: int) -> str:
    return f"{creator_pid}.{inode}"


def monitor_name(control: Segment) -> str:
    """The name ``find_engines`` gives the engine whose (unnamed) control segment this is."""
    return _name(control.header.creator_pid, os.fstat(control.fileno()).st_ino)


def _control_fds(proc: str = "/proc") -> Iterator[tuple[int, str]]:
    """(pid, /proc/<pid>/fd/<n>) of every descriptor on a control memfd we may read."""
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        fd_dir = f"{proc}/{entry.name}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or not ours
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith(_CONTROL_LINK):
                yield int(entry.name), f"{fd_dir}/{fd}"


def _map_read_only(path: str) -> tuple[mmap.mmap, os.stat_result]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        return mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, mmap.PROT_READ), st
    finally:
        os.close(fd)  # the mapping keeps the memory


def find_engines(proc: str = "/proc") -> list[EngineHandle]:
    """Every live (not closed) sharded engine on the host this user may read, oldest first."""
    seen: set[tuple[int, int]] = set()
    found: list[EngineHandle] = []
    for _pid, path in _control_fds(proc):
        try:
            mm, st = _map_read_only(path)
        except (OSError, ValueError):
            continue  # closed meanwhile, or not ours
        key = (st.st_dev, st.st_ino)
        if key in seen or st.st_size < SEGMENT_HEADER_BYTES:
            mm.close()
            continue
        seen.add(key)
        try:  # checked on a copy: a mapping with no array on it can always be closed
            header = header_check(mm[:SEGMENT_HEADER_BYTES], kind=SEGMENT_KIND_CONTROL)
        except SegmentHeaderError:
            mm.close()  # another layout version's engine, or not initialised yet
            continue
        words = np.frombuffer(mm, dtype=np.int64)
        if words[CTL_E_CLOSED]:  # closed, still mapped by a view in its process
            del words
            mm.close()
            continue
        found.append(
            EngineHandle(
                name=_name(header.creator_pid, st.st_ino),
                pid=header.creator_pid,
                created_ns=header.created_ns,
                words=words,
                _map=mm,
            )
        )
    found.sort(key=lambda e: e.created_ns)
    return found


def attach_engine(selector: str | None, proc: str = "/proc") -> EngineHandle:
    """The one live engine ``selector`` names (its name, or its creator pid), read-only.

    With no selector there must be exactly one engine on the host. Raises
    ``LookupError`` saying what was found otherwise.
    """
    engines = find_engines(proc)
    if selector is None:
        chosen = engines
    else:
        chosen = [e for e in engines if selector in (e.name, str(e.pid))]
    for e in engines:
        if e not in chosen or len(chosen) > 1:
            e.close()
    if len(chosen) == 1:
        return chosen[0]
    names = ", ".join(e.name for e in engines) or "none"
    what = "no engine" if not chosen else "more than one engine"
    wanted = f" named {selector!r}" if selector else ""
    raise LookupError(f"{what}{wanted} alive on this host (engines: {names})")
