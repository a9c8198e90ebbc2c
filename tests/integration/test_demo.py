"""The main job (``scripts/demo``) end to end: the losing desk is stopped, nothing leaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from openpit_shm.demo import ROGUE
from openpit_shm.hostinfo import report_dir


def _shm() -> set[str]:
    return {f for f in os.listdir("/dev/shm") if f.startswith("opshm.")}


def test_should_stop_the_losing_desk_and_leave_nothing_in_dev_shm(tmp_path: Path) -> None:
    before = _shm()
    run = subprocess.run(
        [sys.executable, "-m", "openpit_shm", "demo", "--seconds", "2", "--accounts", "3000"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = dict(
        line.strip().split("  ", 1)
        for line in run.stdout.split("\nsummary\n", 1)[1].split("\n\n", 1)[0].splitlines()
    )
    summary = {k.strip(): v.strip() for k, v in summary.items()}
    # Only the desk that keeps losing breaches the P&L bound; its orders are then refused.
    assert summary["blocked accounts"] == f"1 account: {ROGUE}"
    assert "PnlKillSwitchTriggered" in summary["rejects by code"]
    assert "SystemUnavailable" not in summary["rejects by code"]
    assert int(summary["orders decided"].replace(",", "")) > 0
    assert summary["/dev/shm after close"] == "clean"
    assert _shm() <= before
    report = Path(run.stdout.rsplit("report: ", 1)[1].strip())
    assert report.parent == tmp_path  # the current directory, never the installed package
    assert f"| blocked accounts | 1 account: {ROGUE} |" in report.read_text()


def test_should_write_reports_to_the_out_directory_or_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert report_dir() == tmp_path
    assert report_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
