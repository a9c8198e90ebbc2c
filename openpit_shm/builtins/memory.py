"""Where a Book's two arrays live: NumPy memory, or memory the caller hands out.

By default the arena (``state``) and the cross-shard ``shared`` array are
NumPy arrays (with a transparent-huge-page hint for big arenas). A sharded
worker instead keeps them in shared-memory segments: it passes
``allocate(words, kind) -> int64 array`` (``kind`` is ``"state"`` or
``"shared"``), which the Book calls for its initial arrays *and* for every
later growth, and an optional ``release(old_array)``, called once the Book
has copied what it needs into the new array and no longer refers to the old
one (unmap it, unlink its segment). Growth into the same segment (extended in
place) works too: the copy then rewrites words with their own values.

Contract for ``allocate``: a writable, C-contiguous, one-dimensional int64
array of at least ``words`` words, **all zero** (the arena's bump allocator
hands out never-written words as zeroed memory). Fresh shared memory (a
memfd or a posix_ipc segment, and the tail ``ftruncate`` adds to either) is
zero.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

import numpy as np

__all__ = ["Allocate", "Memory", "Release"]

#: ``allocate(words, kind)`` with ``kind`` in ``("state", "shared")``.
Allocate = Callable[[int, str], np.ndarray]
#: ``release(old_array)``: the Book has stopped using ``old_array``.
Release = Callable[[np.ndarray], None]

KINDS = ("state", "shared")

_HUGE = 1 << 21
_HUGE_MIN_BYTES = 64 << 20  # small engines (tests, few accounts) keep 4 KiB pages
_MADV_HUGEPAGE = 14


class Memory:
    """The Book's allocation policy: NumPy by default, else the caller's hooks."""

    __slots__ = ("allocate", "release")

    def __init__(self, allocate: Allocate | None = None, release: Release | None = None) -> None:
        if allocate is None and release is not None:
            raise ValueError("release without allocate: NumPy arrays need no release")
        self.allocate = allocate
        self.release = release

    def new(self, words: int, kind: str) -> np.ndarray:
        """A zeroed int64 array of at least ``words`` words for ``kind``."""
        if self.allocate is None:
            arr = np.zeros(words, dtype=np.int64)
            _huge_pages(arr)
            return arr
        return checked(self.allocate(words, kind), words, kind)

    def drop(self, old: np.ndarray) -> None:
        """The Book no longer uses ``old`` (called after the switch to its replacement)."""
        if self.release is not None:
            self.release(old)


def checked(arr: object, words: int, kind: str) -> np.ndarray:
    """``arr`` if it is usable as the Book's ``kind`` array of at least ``words`` words."""
    if not isinstance(arr, np.ndarray) or arr.dtype != np.int64 or arr.ndim != 1:
        raise TypeError(f"the {kind} array must be a one-dimensional int64 NumPy array")
    if not arr.flags.c_contiguous or not arr.flags.writeable:
        raise ValueError(f"the {kind} array must be C-contiguous and writable")
    if arr.shape[0] < words:
        raise ValueError(f"the {kind} array has {arr.shape[0]} words, {words} are needed")
    return arr


def _huge_pages(arr: np.ndarray) -> None:
    """Ask Linux for transparent huge pages under a big array (a hint; errors ignored).

    With a million accounts the arena spans hundreds of MB; on 4 KiB pages most
    random row and table accesses also miss the TLB, and software prefetches
    that miss it are not always honoured.
    """
    if arr.nbytes < _HUGE_MIN_BYTES or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        start = (arr.ctypes.data + _HUGE - 1) & ~(_HUGE - 1)
        end = (arr.ctypes.data + arr.nbytes) & ~(_HUGE - 1)
        if end > start:
            libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), _MADV_HUGEPAGE)
    except (OSError, AttributeError):
        pass
