"""kernels.cacheguard: stale Numba caches go when a module compiled into kernels changes."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest

from openpit_shm.kernels import cacheguard as G


def _cache(d: Path, *names: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name in names:
        (d / name).write_bytes(b"x")


def test_should_clear_cache_files_only_when_a_source_changed(tmp_path: Path) -> None:
    src = [tmp_path / "state.py", tmp_path / "kernel.py"]
    for p in src:
        p.write_text("H_TOP = 4\n")
    one, two = tmp_path / "a" / "__pycache__", tmp_path / "b" / "__pycache__"
    _cache(one, "k.f-1.py311.nbi", "k.f-1.py311.1.nbc", "k.cpython-311.pyc")
    _cache(two, "j.g-9.py311.nbi")
    assert G.guard(G.source_hash(src), one, [one, two]) == 3  # no stamp yet
    assert sorted(p.name for p in one.iterdir() if not p.name.startswith("openpit")) == [
        "k.cpython-311.pyc"  # only Numba's files go
    ]
    _cache(one, "k.f-1.py311.nbi")  # compiled again, from the current sources
    assert G.guard(G.source_hash(src), one, [one, two]) is None
    assert (one / "k.f-1.py311.nbi").exists()
    src[0].write_text("H_TOP = 5\n")
    assert G.guard(G.source_hash(src), one, [one, two]) == 1
    assert not (one / "k.f-1.py311.nbi").exists()
    assert (one / G.STAMP_NAME).read_text().strip() == G.source_hash(src)


def _racer(digest: str, stamp_dir: str, dirs: list[str], barrier: object, out: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    out.put(G.guard(digest, Path(stamp_dir), [Path(d) for d in dirs]))  # type: ignore[attr-defined]


def test_should_let_exactly_one_of_many_concurrent_importers_clear(tmp_path: Path) -> None:
    cache = tmp_path / "__pycache__"
    _cache(cache, *[f"k.f-{i}.py311.nbi" for i in range(200)])
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=("new", str(cache), [str(cache)], barrier, out))
        for _ in range(8)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert sorted(results, key=lambda r: r is None) == [200] + [None] * 7
    assert (cache / G.STAMP_NAME).read_text().strip() == "new"
    assert not any(p.suffix == ".nbi" for p in cache.iterdir())


def test_should_stamp_this_installation_with_its_current_sources() -> None:
    names = {p.name for p in G.source_files()}
    assert {"records.py", "state.py", "ring.py", "segment.py", "codes.py", "hashtable.py"} <= names
    assert "cheader.py" not in names
    assert G.check() is None  # the import already checked; nothing changed since
    stamp_dir = G.kernel_cache_dir()
    assert stamp_dir is not None
    digest = G.source_hash(G.source_files(), extra=f"numba {numba.__version__}")
    assert (stamp_dir / G.STAMP_NAME).read_text().strip() == digest
    kernels_cache = Path(G.__file__).parent / "__pycache__"
    assert kernels_cache in G.cache_dirs() or stamp_dir in G.cache_dirs()


_RUN = """
import sys
sys.path.insert(0, {root!r})
if {guarded}:
    from pathlib import Path
    from openpit_shm.kernels.cacheguard import guard, source_hash
    root = Path({root!r})
    src = [root / "consts.py", root / "kern.py"]
    guard(source_hash(src), root / "__pycache__", [root / "__pycache__"])
import kern
print(kern.f())
"""


def _run(root: Path, guarded: bool) -> int:
    code = textwrap.dedent(_RUN.format(root=str(root), guarded=guarded))
    env = {**os.environ, "NUMBA_CACHE_DIR": ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)  # fmt: skip
    return int(done.stdout.split()[-1])


def test_should_never_run_code_compiled_from_an_old_constant(tmp_path: Path) -> None:
    (tmp_path / "consts.py").write_text("VALUE = 1\n")
    (tmp_path / "kern.py").write_text(
        "from numba import njit\nfrom consts import VALUE\n\n"
        "@njit(cache=True)\ndef f():\n    return VALUE\n"
    )
    assert _run(tmp_path, guarded=True) == 1  # compiled and cached
    (tmp_path / "consts.py").write_text("VALUE = 2\n")
    assert _run(tmp_path, guarded=False) == 1  # Numba alone: the stale machine code
    assert _run(tmp_path, guarded=True) == 2  # the guard drops it first


def test_should_guard_only_the_cache_tree_this_process_loads_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from numba.core import config

    user = tmp_path / "numba-cache"
    in_tree = tmp_path / "pkg" / "__pycache__"
    user_wide = tmp_path / "home" / ".cache" / "numba" / "pkg"
    dirs = [user / "pkg", in_tree, user_wide]
    monkeypatch.setattr(config, "CACHE_DIR", str(user))
    # A fresh NUMBA_CACHE_DIR (say, a warmup into a new directory) leaves the default cache alone.
    assert G.dirs_guarded_by(user / "kernels", dirs) == [user / "pkg"]
    # NUMBA_CACHE_DIR not writable: Numba falls back to the default trees, and so does the guard.
    assert G.dirs_guarded_by(in_tree, dirs) == [in_tree, user_wide]
    monkeypatch.setattr(config, "CACHE_DIR", "")
    assert G.dirs_guarded_by(in_tree, dirs) == dirs
