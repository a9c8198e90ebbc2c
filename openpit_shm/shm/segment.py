"""Shared-memory segments: create, attach, close, and never leak a name.

A segment is either **named** or **unnamed**:

* named: ``Segment.create`` makes a new posix_ipc object with ``O_CREX`` and
  mode 0600 under an unguessable name ``/opshm.<32 hex>.<kind>[.<tag>]`` (the
  ``opshm`` prefix is what ``openpit_shm.shm.sweep`` looks for); any process
  of the same user that knows (or lists) the name can map it read-write;
* unnamed (``create(..., unnamed=True)``): a ``memfd_create`` file that
  appears in no directory. The only ways to it are a descriptor or a mapping
  of it: the creator hands the descriptor (``fileno()``) to the processes
  that need the segment over a Unix socket (``openpit_shm.shm.handoff``), and
  they map it with ``Segment.attach(fd)``. It is freed with its last
  descriptor or mapping, so it can never be left behind; it is sealed against
  shrinking (``F_SEAL_SHRINK``), so no holder can cut a mapping short under
  the others.

Either way ``create`` maps the new segment, and then:

1. writes the creator's pid and start time into the header (so a creator that
   dies from here on leaves a segment the sweep can identify and remove);
2. zeroes and pre-faults every page (first-touch faults cost ~3.7 us/page on
   the project VM and must not land on the first orders);
3. writes the rest of the header, then the magic with a release store.

``Segment.attach`` (a name, or an unnamed segment's descriptor) maps an
existing segment, validates its header against what the caller expects
(``SegmentHeaderError`` names the mismatch) and pre-faults the mapping
(``MADV_POPULATE_WRITE``; a read of every page where unsupported).

The creating process owns a named segment's name: ``close()`` (also via
``with`` and the garbage collector) unlinks it, and so do an ``atexit``
handler and a SIGTERM handler (which then chains to the previous handler).
Both only act in the process that created the segment: a ``fork``-ed child inherits the registry
but never unlinks its parent's segments. SIGKILL cannot be caught: that is
what the sweep is for.

``multiprocessing.shared_memory`` is deliberately not used: its resource
tracker unlinks segments that independent processes merely attached to.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import mmap
import os
import re
import secrets
import signal
import threading
import time
import weakref
from types import FrameType, TracebackType
from typing import Any

import numpy as np
import posix_ipc

from openpit_shm.kernels.atomics import load_word_acquire, store_word_release
from openpit_shm.layout.records import FIXED_SCALE_DEFAULT
from openpit_shm.layout.segment import (
    HDR_W,
    LAYOUT_VERSION,
    SEGMENT_HEADER_BYTES,
    SEGMENT_KIND_NAMES,
    SEGMENT_MAGIC,
    SegmentHeader,
    SegmentHeaderError,
    header_check,
    header_read,
)

__all__ = [
    "SEGMENT_NAME_PREFIX",
    "Segment",
    "SegmentHeaderError",
    "owned_segment_names",
    "process_start_ticks",
    "unlink_owned_segments",
]

#: Every segment name starts with this (the sweep relies on it).
SEGMENT_NAME_PREFIX = "/opshm."
_TAG_RE = re.compile(r"^[A-Za-z0-9_.-]{0,64}$")
_PAGE = mmap.PAGESIZE
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux >= 5.14


def process_start_ticks(pid: int) -> int:
    """Start of ``pid`` in clock ticks after boot (``/proc/<pid>/stat`` field 22); 0 if unknown.

    Together with the pid it identifies a process across pid reuse.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


# ---- ownership registry: names this process created and must unlink ------------------------

_lock = threading.Lock()
_owned: dict[str, weakref.ref[Segment]] = {}
_owner_pid = os.getpid()
_handlers_installed_pid = 0
_previous_sigterm: Any = None


def owned_segment_names() -> list[str]:
    """Names created by this process and not unlinked yet."""
    with _lock:
        return list(_owned) if os.getpid() == _owner_pid else []


def unlink_owned_segments() -> list[str]:
    """Unlink every segment this process created and still owns (the atexit/SIGTERM action).

    Does nothing in a forked child: the names belong to the parent.
    """
    if os.getpid() != _owner_pid:
        return []
    with _lock:
        names = list(_owned)
        _owned.clear()
    for name in names:
        with contextlib.suppress(posix_ipc.ExistentialError):
            posix_ipc.unlink_shared_memory(name)
    return names


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    unlink_owned_segments()
    prev = _previous_sigterm
    if callable(prev):
        prev(signum, frame)
    elif prev == signal.SIG_DFL or prev is None:
        # Die of SIGTERM as the default action would have (the exit status says so).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


def _after_fork_in_child() -> None:
    # A forked child owns nothing: its own creations register afresh.
    global _owner_pid, _lock
    _lock = threading.Lock()
    _owned.clear()
    _owner_pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _install_handlers() -> None:
    """Install the atexit and SIGTERM clean-up once per process (lazily, on first create)."""
    global _handlers_installed_pid, _previous_sigterm
    if _handlers_installed_pid == os.getpid():
        return
    _handlers_installed_pid = os.getpid()
    atexit.register(unlink_owned_segments)
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread; atexit still covers exit
    prev = signal.getsignal(signal.SIGTERM)
    if prev == signal.SIG_IGN or prev is _on_sigterm:
        return  # the process ignores SIGTERM: it will not die of it, so nothing to clean
    _previous_sigterm = prev
    signal.signal(signal.SIGTERM, _on_sigterm)


def _register(seg: Segment) -> None:
    with _lock:
        _owned[seg.name] = weakref.ref(seg)
    _install_handlers()


def _unregister(name: str) -> bool:
    with _lock:
        return _owned.pop(name, None) is not None


# ---- the segment ----------------------------------------------------------------------------


def _map_fd(fd: int, size: int) -> mmap.mmap:
    return mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)


def _map(shm: posix_ipc.SharedMemory, size: int) -> mmap.mmap:
    try:
        return _map_fd(shm.fd, size)
    finally:
        shm.close_fd()  # the mapping stays valid without the descriptor


def _memfd(label: str, size: int) -> int:
    """A new ``size``-byte memfd (close-on-exec) that can grow but never shrink."""
    fd = os.memfd_create(label, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, size)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _kind_and_tag(kind: int, tag: str) -> str:
    """``<kind name>[.<tag>]``, the end of every segment's name or label."""
    if not _TAG_RE.match(tag):
        raise ValueError(f"segment tag must match {_TAG_RE.pattern}, got {tag!r}")
    kind_name = SEGMENT_KIND_NAMES.get(kind, f"k{kind}")
    return f"{kind_name}.{tag}" if tag else kind_name


def _fd_label(fd: int) -> str:
    """``memfd:opshm.<kind>[.<tag>]`` for a memfd this module made (for messages only)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)").lstrip("/")
    except OSError:
        return f"fd {fd}"


def _open_name(name: str) -> tuple[str, mmap.mmap, None]:
    """``name``'s mapping, for ``Segment.attach``."""
    try:
        shm = posix_ipc.SharedMemory(name)
    except posix_ipc.ExistentialError:
        raise FileNotFoundError(f"no shared-memory segment named {name!r}") from None
    if shm.size < SEGMENT_HEADER_BYTES:
        shm.close_fd()
        raise _too_short(name, shm.size)
    return name, _map(shm, shm.size), None


def _open_fd(fd: int) -> tuple[str, mmap.mmap, int]:
    """A label and a mapping of the memfd ``fd``, for ``Segment.attach``; ``fd`` is closed
    if it cannot be mapped."""
    name = _fd_label(fd)
    try:
        size = os.fstat(fd).st_size
        if size < SEGMENT_HEADER_BYTES:
            raise _too_short(name, size)
        return name, _map_fd(fd, size), fd
    except BaseException:
        os.close(fd)
        raise


def _too_short(name: str, size: int) -> SegmentHeaderError:
    return SegmentHeaderError(
        f"shared-memory segment {name!r} has {size} bytes, less than its header"
    )


def _prefault_attached(mm: mmap.mmap, buf: np.ndarray) -> None:
    """Map every page without changing its contents (others may be writing it)."""
    try:
        mm.madvise(_MADV_POPULATE_WRITE)
    except (OSError, ValueError):
        int(buf[::_PAGE].sum())  # read-touch: maps the pages (write faults stay possible)


def _header_bytes(mm: mmap.mmap) -> bytes:
    """A copy of the header, read after an acquire load of the magic (written last, release).

    A copy, so that no view of the mapping outlives a failed attach (an mmap
    with live views cannot be closed).
    """
    words = np.frombuffer(mm, dtype=np.int64, count=SEGMENT_HEADER_BYTES // 8)
    load_word_acquire(words, HDR_W["magic"])
    del words
    return mm[:SEGMENT_HEADER_BYTES]


class Segment:
    """One mapped segment with an openpit_shm header (named, or unnamed: a memfd).

    Attributes: ``name`` (for an unnamed segment a label for messages only:
    ``memfd:opshm.<kind>[.<tag>]``), ``size`` (bytes), ``header``
    (``SegmentHeader``), ``owner`` (True in the creating process), ``buf``
    (``uint8[size]``) and ``words`` (``int64[size // 8]``) views of the whole
    mapping.
    """

    name: str
    size: int
    header: SegmentHeader
    owner: bool
    buf: np.ndarray
    words: np.ndarray

    def __init__(
        self, name: str, mm: mmap.mmap, header: SegmentHeader, owner: bool, fd: int | None = None
    ) -> None:
        self.name = name
        self._mm: mmap.mmap | None = mm
        #: an unnamed segment's descriptor: its only handle (to grow it and to hand it on)
        self._fd = fd
        self.size = len(mm)
        self.header = header
        self.owner = owner
        self._pid = os.getpid()
        self.buf = np.frombuffer(mm, dtype=np.uint8)
        self.words = self.buf[: self.size - self.size % 8].view(np.int64)

    # -- creation / attachment ------------------------------------------------------------

    @staticmethod
    def make_name(kind: int, tag: str = "") -> str:
        """A fresh unguessable name: ``/opshm.<128-bit hex>.<kind name>[.<tag>]``."""
        return f"{SEGMENT_NAME_PREFIX}{secrets.token_hex(16)}.{_kind_and_tag(kind, tag)}"

    @classmethod
    def create(
        cls,
        kind: int,
        size: int,
        *,
        capacity: int = 0,
        record_bytes: int = 0,
        shard_id: int = 0,
        shard_count: int = 1,
        fixed_scale: int = FIXED_SCALE_DEFAULT,
        data_offset: int = SEGMENT_HEADER_BYTES,
        tag: str = "",
        unnamed: bool = False,
    ) -> Segment:
        """Create, zero, pre-fault and publish a new segment of ``size`` bytes.

        ``size`` includes the header; the payload starts at ``data_offset``.
        ``unnamed``: a memfd instead of a ``/dev/shm`` name (see the module doc).
        """
        if size < SEGMENT_HEADER_BYTES or not SEGMENT_HEADER_BYTES <= data_offset <= size:
            raise ValueError(f"bad segment size {size} / data offset {data_offset}")
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard id {shard_id} out of range for {shard_count} shards")
        fd: int | None = None
        if unnamed:
            # No random part: a memfd's label is only seen in /proc/<pid>/{fd,maps}.
            label = f"opshm.{_kind_and_tag(kind, tag)}"
            name, fd = f"memfd:{label}", _memfd(label, size)
        else:
            name = cls.make_name(kind, tag)
            shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=size)
        seg: Segment | None = None
        try:
            mm = _map_fd(fd, size) if fd is not None else _map(shm, size)
            words = np.frombuffer(mm, dtype=np.int64, count=SEGMENT_HEADER_BYTES // 8)
            pid = os.getpid()
            # 1. Who made it, first: a creator dying from here on leaves a sweepable segment.
            words[HDR_W["creator_pid"]] = pid
            words[HDR_W["creator_start"]] = process_start_ticks(pid)
            hdr = SegmentHeader(
                magic=SEGMENT_MAGIC,
                version=LAYOUT_VERSION,
                kind=kind,
                capacity=capacity,
                record_bytes=record_bytes,
                segment_bytes=size,
                creator_pid=pid,
                creator_start=int(words[HDR_W["creator_start"]]),
                created_ns=time.time_ns(),
                shard_id=shard_id,
                shard_count=shard_count,
                fixed_scale=fixed_scale,
                data_offset=data_offset,
            )
            seg = cls(name, mm, hdr, owner=True, fd=fd)
            if fd is None:
                _register(seg)
            del words
            # 2. Zero and pre-fault every page (tmpfs pages are zero, the writes map them).
            seg.buf[SEGMENT_HEADER_BYTES:] = 0
            # 3. The header, then the magic last with a release store.
            for field in SegmentHeader.__slots__:
                if field != "magic":
                    seg.words[HDR_W[field]] = getattr(hdr, field)
            store_word_release(seg.words, HDR_W["magic"], np.int64(SEGMENT_MAGIC))
            return seg
        except BaseException:
            if seg is not None:
                seg.close()
            elif fd is not None:
                os.close(fd)
            else:
                with contextlib.suppress(posix_ipc.ExistentialError):
                    posix_ipc.unlink_shared_memory(name)
            raise

    @classmethod
    def attach(
        cls,
        source: str | int,
        *,
        kind: int | None = None,
        capacity: int | None = None,
        record_bytes: int | None = None,
        shard_id: int | None = None,
        shard_count: int | None = None,
        fixed_scale: int | None = None,
    ) -> Segment:
        """Map an existing segment and validate its header (``None`` = any).

        ``source`` is a segment name, or the descriptor of an unnamed segment:
        the segment then takes the descriptor over (closes it when closed, and
        at once if the header does not validate).
        """
        name, mm, fd = _open_fd(source) if isinstance(source, int) else _open_name(source)
        try:
            hdr = header_check(
                _header_bytes(mm),
                name=name,
                kind=kind,
                capacity=capacity,
                record_bytes=record_bytes,
                shard_id=shard_id,
                shard_count=shard_count,
                fixed_scale=fixed_scale,
                size=len(mm),
            )
        except BaseException:
            mm.close()
            if fd is not None:
                os.close(fd)
            raise
        seg = cls(name, mm, hdr, owner=False, fd=fd)
        _prefault_attached(mm, seg.buf)
        return seg

    def grow(self, size: int, capacity: int | None = None) -> Segment:
        """Extend the segment to ``size`` bytes in place and return a new mapping of it.

        ``ftruncate`` keeps the name (or the memfd) and the contents (new bytes
        read as zero); the new pages are pre-faulted here. The header's
        ``seg_byt`` (and ``capacity`` when given) are updated so later attaches
        validate. This mapping stays valid until closed; the new one shares its
        owner flag (and holds its own duplicate of an unnamed segment's
        descriptor).
        """
        if size <= self.size:
            raise ValueError(f"segment {self.name} already has {self.size} bytes")
        fd = None
        if self._fd is not None:
            os.ftruncate(self._fd, size)
            fd = os.dup(self._fd)
            mm = _map_fd(fd, size)
        else:
            mm = _map(posix_ipc.SharedMemory(self.name, size=size), size)
        grown = Segment(self.name, mm, self.header, owner=False, fd=fd)
        grown.owner, grown._pid = self.owner, self._pid
        # Pre-fault the new tail only: other processes may be writing the old part.
        grown.buf[self.size :] = 0
        grown.words[HDR_W["segment_bytes"]] = size
        if capacity is not None:
            grown.words[HDR_W["capacity"]] = capacity
        grown.header = header_read(_header_bytes(mm))
        return grown

    # -- lifetime -------------------------------------------------------------------------

    @property
    def unnamed(self) -> bool:
        """True for a memfd segment (no ``/dev/shm`` name; reached only through ``fileno()``)."""
        return self._fd is not None

    def fileno(self) -> int:
        """The descriptor of an unnamed segment, to hand to another process (still ours)."""
        if self._fd is None:
            raise ValueError(f"segment {self.name} is named (or closed): it has no descriptor")
        return self._fd

    @property
    def closed(self) -> bool:
        return self._mm is None

    def unlink(self) -> None:
        """Remove the name now (mappings stay valid); idempotent, and only the owner may.

        An unnamed segment has no name to remove.
        """
        if not self.owner or os.getpid() != self._pid or self._fd is not None:
            return
        _unregister(self.name)
        with contextlib.suppress(posix_ipc.ExistentialError):
            posix_ipc.unlink_shared_memory(self.name)

    def close(self) -> None:
        """Unmap, and unlink the name if this process created it. Idempotent.

        An unnamed segment's descriptor is closed: the memory is freed once no
        process holds a descriptor or a mapping of it.
        """
        if self._mm is None:
            return
        self.unlink()
        mm, self._mm = self._mm, None
        fd, self._fd = self._fd, None
        self.buf = self.words = np.empty(0, dtype=np.uint8)
        if fd is not None:
            os.close(fd)
        # If someone still holds a view of the mapping, it is unmapped when the last view
        # goes away (BufferError now). The name is already unlinked, so nothing leaks.
        with contextlib.suppress(BufferError):
            mm.close()

    def __enter__(self) -> Segment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.size} bytes"
        return f"<Segment {self.name} {self.header.kind_name} {state}>"
