"""Fixtures for the transport tests, and the session check that no test segment is left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from openpit_shm.layout.cheader import get_include
from openpit_shm.layout.segment import HDR_W, SEGMENT_HEADER_BYTES
from openpit_shm.shm.sweep import creator_alive

SHM_DIR = Path("/dev/shm")


def _opshm_entries() -> set[str]:
    return {p.name for p in SHM_DIR.iterdir() if p.name.startswith("opshm.")}


def _creator(name: str) -> tuple[int, int]:
    try:
        raw = (SHM_DIR / name).read_bytes()[:SEGMENT_HEADER_BYTES]
    except OSError:
        return 0, 0
    if len(raw) < SEGMENT_HEADER_BYTES:
        return 0, 0
    w = np.frombuffer(raw, dtype="<i8")
    return int(w[HDR_W["creator_pid"]]), int(w[HDR_W["creator_start"]])


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    for _ in range(64):
        if pid == me:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
            pid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid <= 1:
            return False
    return False


@pytest.fixture(scope="session", autouse=True)
def no_segment_left_behind() -> Iterator[None]:
    """Fail the session if a /dev/shm/opshm.* entry created during it is still there.

    Entries that existed before are ignored, and so are new entries whose
    creator is a live process outside this test run (another engineer's run).
    Leftovers are removed after being reported, so one failure does not poison
    the next run.
    """
    before = _opshm_entries()
    yield
    leaked = []
    for name in sorted(_opshm_entries() - before):
        pid, start = _creator(name)
        if pid and creator_alive(pid, start) and not _descends_from_us(pid):
            continue
        leaked.append(name)
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
