"""The command line: its name in --help, --version, and every command listed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpit_shm
from openpit_shm.__main__ import COMMANDS

SCRIPT = Path(sys.executable).parent / "openpit-shm"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_should_name_the_console_script_in_its_help() -> None:
    done = _run(str(SCRIPT), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: openpit-shm ")
    for name in COMMANDS:
        assert name in done.stdout


def test_should_name_python_m_when_run_as_a_module() -> None:
    done = _run(sys.executable, "-m", "openpit_shm", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m openpit_shm ")


def test_should_print_the_version() -> None:
    done = _run(str(SCRIPT), "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"openpit_shm {openpit_shm.__version__}"
