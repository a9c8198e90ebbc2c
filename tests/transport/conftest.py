"""Fixtures for the transport tests, and the session check that no test segment is left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpit_shm.layout.cheader import get_include
from openpit_shm.shm.sweep import process_identity, segments_created_by

SHM_DIR = Path("/dev/shm")

#: Our descendants as segment headers name creators, noted around every test while they
#: live: a child that leaks and exits is still known as ours at the end of the session.
_SEEN: set[tuple[int, int]] = set()


def _descendants() -> set[tuple[int, int]]:
    """``process_identity`` of every live process below this one (one pass over /proc)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
            parent[int(entry)] = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    me, ours = os.getpid(), set()
    for pid in parent:
        up, hops = parent.get(pid, 0), 0
        while up > 1 and up != me and hops < 64:
            up, hops = parent.get(up, 0), hops + 1
        if up == me:
            ours.add(process_identity(pid))
    return ours


@pytest.fixture(autouse=True)
def _note_descendants() -> Iterator[None]:
    _SEEN.update(_descendants())
    yield
    _SEEN.update(_descendants())


@pytest.fixture(scope="session", autouse=True)
def no_segment_left_behind() -> Iterator[None]:
    """Fail the session if a segment this test run created is still in /dev/shm.

    "This test run" is this process and the descendants noted while they
    lived (before and after every test, and at the end): /dev/shm is shared
    with other engines and other runs, whose segments come and go as they
    please and are never looked at, let alone removed. (A child that starts
    and exits within one test is that test's to check.) Our leftovers are
    removed after being reported, so one failure does not poison the next run.
    """
    me = process_identity(os.getpid())
    yield
    leaked = segments_created_by({me, *_SEEN, *_descendants()})
    for name in leaked:
        (SHM_DIR / name).unlink(missing_ok=True)
    assert not leaked, f"transport tests left shared-memory segments behind: {leaked}"


@pytest.fixture(scope="session")
def c_build(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Compile a C source string against the generated header; returns the binary's path."""
    out_dir = tmp_path_factory.mktemp("cbuild")

    def build(name: str, source: str, *extra: str) -> Path:
        src = out_dir / f"{name}.c"
        exe = out_dir / name
        src.write_text(source)
        cmd = [
            "gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I", get_include(),
            *extra, str(src), "-o", str(exe),
        ]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise AssertionError(f"gcc failed ({' '.join(cmd)}):\n{res.stderr}")
        return exe

    return build
