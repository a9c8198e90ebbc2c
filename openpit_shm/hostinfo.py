"""Host facts for reports: machine, CPU, versions, git commit, report directory (demo, bench/)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import numba
import numpy as np

__all__ = ["git_commit", "host_lines", "report_dir"]

_ROOT = Path(__file__).resolve().parents[1]


def git_commit() -> str:
    """Short commit of this checkout, ``(dirty)`` if modified, ``?`` if there is none."""
    try:
        run = {"cwd": _ROOT, "capture_output": True, "text": True, "timeout": 10}
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], **run
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (commit or "?") + (" (dirty)" if dirty else "")


def host_lines() -> list[str]:
    """Host, CPU, versions and git commit, one fact per line."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"host: {platform.node()}  {platform.machine()}  {os.cpu_count()} CPUs  {cpu}",
        f"python {platform.python_version()}  numpy {np.__version__}  numba {numba.__version__}  "
        f"kernel {platform.release()}",
        f"git commit: {git_commit()}",
    ]


def report_dir(out: Path | str | None = None) -> Path:
    """Where a report goes: ``out`` (created if needed), else the current directory.

    Never a path derived from the package's own location: installed, that is
    site-packages.
    """
    path = Path.cwd() if out is None else Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path
