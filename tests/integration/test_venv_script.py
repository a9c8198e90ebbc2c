"""scripts/_venv.sh installs only what is missing: switching scripts does not reinstall."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A fake checkout: the real _venv.sh, a pyproject.toml, a .venv whose python logs pip calls."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_venv.sh", tmp_path / "scripts" / "_venv.sh")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "pip.log"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\ncase "$*" in *"-e "*) echo "$*" >> {log};; esac\n')
    python.chmod(0o755)
    return tmp_path, log


def _source(checkout: Path, extras: str) -> None:
    subprocess.run(
        ["bash", "-c", f'source "{checkout}/scripts/_venv.sh" {extras}'], check=True, timeout=60
    )


def test_should_install_the_union_once_and_not_again_when_switching(tmp_path: Path) -> None:
    checkout, log = _checkout(tmp_path)
    _source(checkout, "test")  # scripts/test
    _source(checkout, "test,bench")  # scripts/bench
    _source(checkout, "test")  # scripts/test again
    _source(checkout, "test,bench")  # and scripts/bench again
    installs = log.read_text().splitlines()
    assert len(installs) == 2, installs
    assert installs[0].endswith("[test]")
    assert installs[1].endswith("[bench,test]")


def test_should_reinstall_when_pyproject_changes(tmp_path: Path) -> None:
    checkout, log = _checkout(tmp_path)
    _source(checkout, "test,bench")
    (checkout / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    _source(checkout, "test")
    installs = log.read_text().splitlines()
    assert [line.rsplit("[", 1)[1] for line in installs] == ["bench,test]", "test]"]
