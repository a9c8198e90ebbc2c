"""The lifecycle example runs on openpit_shm and, as ``import openpit``, on openpit: same output."""

from __future__ import annotations

import contextlib
import gc
import io
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lifecycle.py"
OURS = "import openpit_shm as openpit\n"


def run_example(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(EXAMPLE), "exec"), {"__name__": "__main__"})
        gc.collect()
    return out.getvalue()


def test_should_run_the_example_as_openpit_does() -> None:
    source = EXAMPLE.read_text()
    assert source.count(OURS) == 1
    assert "import openpit\n" not in source and "from openpit" not in source
    expected = run_example(source.replace(OURS, "import openpit\n"))  # openpit 0.10 itself
    assert run_example(source) == expected
    assert "after the kill switch: ExposureBook [PnlKillSwitchTriggered]" in expected


def test_should_run_the_example_as_a_program() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == run_example(EXAMPLE.read_text())
