"""Drop Numba's on-disk cache when a module the kernels compile in has changed.

Numba keys each cached kernel on the source of *its own file* only. Kernels
compile the layout descriptors' constants in as literals (``H_TOP``,
``ORDER_NO_ACCOUNT``, ...) and inline kernels from other files (``tbl_find``
into ``pipeline``), so after an edit to ``layout/state.py`` or to
``kernels/hashtable.py`` Numba would happily load machine code built from the
old values: stale code, no error. This guard hashes every module that can end
up inside a kernel (``kernels/*.py`` and ``openpit_shm/layout/*.py``, plus the
Numba version) and keeps the hash in a stamp file next to the cache. When the
hash differs, it deletes every ``*.nbi``/``*.nbc`` file the package's
kernels can have cached where this process loads from (``NUMBA_CACHE_DIR``
when set; else the in-tree ``__pycache__`` and the user-wide Numba cache
dir; and a source checkout's ``tests``/``bench``, whose njit helpers inline
kernels too) before any kernel loads, then writes the new stamp. Each cache
tree carries its own stamp, so a tree this process does not read is checked
by the next process that does. ``kernels/__init__.py`` runs it on import.

Concurrent imports (shard workers start together) are safe: a matching stamp
is the lock-free fast path; otherwise the check, the deletion and the new
stamp happen under an exclusive ``flock``, so one process clears and the
others, once they get the lock, find the new stamp and keep the fresh files.
The stamp is replaced atomically (write, then ``os.replace``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "cache_dirs",
    "check",
    "dirs_guarded_by",
    "guard",
    "kernel_cache_dir",
    "source_files",
    "source_hash",
]

STAMP_NAME = "openpit_shm-kernels.stamp"
LOCK_NAME = "openpit_shm-kernels.lock"
CACHE_SUFFIXES = (".nbi", ".nbc")

_KERNELS = Path(__file__).resolve().parent
if (_KERNELS.parent / "openpit_shm" / "layout").is_dir():  # a source checkout: kernels/ beside
    _PACKAGE: Path = _KERNELS.parent / "openpit_shm"
    _CHECKOUT: Path | None = _KERNELS.parent
else:  # installed: kernels/ is openpit_shm/kernels
    _PACKAGE = _KERNELS.parent
    _CHECKOUT = None
_LAYOUT_SKIP = {"cheader.py"}  # generates the C header; no kernel reads it


def source_files() -> list[Path]:
    """Every module whose contents can end up compiled inside a kernel."""
    layout = _PACKAGE / "layout"
    files = sorted(_KERNELS.glob("*.py"))
    files += sorted(p for p in layout.glob("*.py") if p.name not in _LAYOUT_SKIP)
    return files


def source_hash(files: Iterable[Path], extra: str = "") -> str:
    """One hex digest over the files' names and contents (and ``extra``)."""
    h = hashlib.sha256(extra.encode())
    for path in files:
        h.update(path.name.encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _numba_dirs(source_dir: Path) -> list[Path]:
    """Where Numba may cache functions of ``source_dir`` (its locators, in their order)."""
    from numba.core import config
    from numba.core.caching import _CacheLocator
    from numba.misc.appdirs import AppDirs

    sub = _CacheLocator.get_suitable_cache_subpath(str(source_dir / "x.py"))
    dirs = []
    if config.CACHE_DIR:
        dirs.append(Path(config.CACHE_DIR) / sub)
    dirs.append(source_dir / "__pycache__")
    dirs.append(Path(AppDirs(appname="numba", appauthor=False).user_cache_dir) / sub)
    return dirs


def cache_dirs() -> list[Path]:
    """Every directory that can hold cached code of the package's kernels."""
    sources = [_KERNELS, _PACKAGE, *(p for p in _PACKAGE.rglob("*") if p.is_dir())]
    if _CHECKOUT is not None:  # njit test and benchmark helpers inline kernels too
        for extra in ("tests", "bench"):
            top = _CHECKOUT / extra
            if top.is_dir():
                sources += [top, *(p for p in top.rglob("*") if p.is_dir())]
    out: list[Path] = []
    for d in sources:
        if d.name != "__pycache__":
            out += _numba_dirs(d)
    return list(dict.fromkeys(out))


def kernel_cache_dir() -> Path | None:
    """Where Numba caches the kernels (the first writable dir of its locators), or None.

    The stamp (and ``kernels.entries``' compile lock) live there too.
    """
    for d in _numba_dirs(_KERNELS):
        try:
            d.mkdir(parents=True, exist_ok=True)
            probe = d / f".{STAMP_NAME}.{os.getpid()}.probe"
            probe.write_bytes(b"")
            probe.unlink()
            return d
        except OSError:
            continue
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _clear(dirs: Sequence[Path]) -> int:
    removed = 0
    for d in dirs:
        if not d.is_dir():
            continue
        for f in d.iterdir():
            if f.suffix in CACHE_SUFFIXES:
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
                    removed += 1
    return removed


def guard(digest: str, stamp_dir: Path, dirs: Sequence[Path]) -> int | None:
    """Clear ``dirs`` of Numba cache files unless ``stamp_dir`` holds ``digest``.

    Returns how many files were removed, or None when the stamp already matched.
    """
    stamp = stamp_dir / STAMP_NAME
    if _read(stamp) == digest:
        return None  # the fast path: no lock
    stamp_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(stamp_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _read(stamp) == digest:
            return None  # another process cleared while this one waited
        removed = _clear(dirs)
        tmp = stamp_dir / f".{STAMP_NAME}.{os.getpid()}.tmp"
        tmp.write_text(digest + "\n")
        os.replace(tmp, stamp)
        return removed
    finally:
        os.close(fd)  # (closing releases the lock)


def dirs_guarded_by(stamp_dir: Path, dirs: Sequence[Path]) -> list[Path]:
    """The ``dirs`` a process that keeps its stamp in ``stamp_dir`` can load code from.

    With ``NUMBA_CACHE_DIR`` set, Numba reads only that tree, and its own stamp
    guards it; otherwise the in-tree and user-wide dirs. A process with a fresh
    ``NUMBA_CACHE_DIR`` (a warmup into a new directory) therefore leaves the
    default cache alone: the next process that uses it checks that cache's
    own stamp.
    """
    from numba.core import config

    root = Path(config.CACHE_DIR).resolve() if config.CACHE_DIR else None

    def under_root(d: Path) -> bool:
        return root is not None and d.resolve().is_relative_to(root)

    own = under_root(stamp_dir)
    return [d for d in dirs if under_root(d) == own]


def check() -> int | None:
    """The import-time check for this installation (see the module docstring)."""
    import numba

    stamp_dir = kernel_cache_dir()
    if stamp_dir is None:
        return None  # nowhere writable: Numba cannot cache either
    digest = source_hash(source_files(), extra=f"numba {numba.__version__}")
    return guard(digest, stamp_dir, dirs_guarded_by(stamp_dir, cache_dirs()))
