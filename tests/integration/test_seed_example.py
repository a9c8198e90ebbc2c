"""The lifecycle example written for openpit runs word for word on openpit_shm."""

from __future__ import annotations

import contextlib
import gc
import io
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lifecycle.py"


def run_example(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(EXAMPLE), "exec"), {"__name__": "__main__"})
        gc.collect()
    return out.getvalue()


def test_should_run_the_openpit_example_unchanged_with_the_same_output() -> None:
    source = EXAMPLE.read_text()
    assert "import openpit\n" in source
    ours = source.replace("import openpit\n", "import openpit_shm as openpit\n", 1)
    assert "from openpit" not in ours
    expected = run_example(source)
    assert run_example(ours) == expected
    assert "after the kill switch: ExposureBook [PnlKillSwitchTriggered]" in expected
