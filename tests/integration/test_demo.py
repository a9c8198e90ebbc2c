"""The main job (``scripts/demo``) end to end: the losing desk is stopped, nothing leaks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from openpit_shm.demo import ROGUE
from openpit_shm.shm.sweep import process_identity, segments_created_by
from tests.foreign_segments import another_engine


def test_should_stop_the_losing_desk_and_leave_nothing_in_dev_shm() -> None:
    # Another engine makes segments meanwhile: the leak checks (the demo's and this test's)
    # must look at the demo engine's segments only.
    with another_engine():
        run = subprocess.Popen(
            [sys.executable, "-m", "openpit_shm", "demo", "--seconds", "2", "--accounts", "3000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        demo = process_identity(run.pid)  # read while it lives (a zombie until waited for)
        stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    summary = dict(
        line.strip().split("  ", 1)
        for line in stdout.split("\nsummary\n", 1)[1].split("\n\n", 1)[0].splitlines()
    )
    summary = {k.strip(): v.strip() for k, v in summary.items()}
    # Only the desk that keeps losing breaches the P&L bound; its orders are then refused.
    assert summary["blocked accounts"] == f"1 account: {ROGUE}"
    assert "PnlKillSwitchTriggered" in summary["rejects by code"]
    assert "SystemUnavailable" not in summary["rejects by code"]
    assert int(summary["orders decided"].replace(",", "")) > 0
    assert summary["/dev/shm after close"] == "clean"
    workers = [int(w) for w in re.search(r"\(workers \[([\d, ]+)\]\)", stdout)[1].split(",")]
    assert len(workers) == 2
    assert segments_created_by([demo, *((pid, 0) for pid in workers)]) == []
    report = Path(stdout.rsplit("report: ", 1)[1].strip())
    assert f"| blocked accounts | 1 account: {ROGUE} |" in report.read_text()
    report.unlink()
