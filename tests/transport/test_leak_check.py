"""The transport session's leak check: ours are caught, other engines' are never touched.

``/dev/shm`` is shared by every engine on the host. The check in
``conftest.py`` looks at segments this test process (or a descendant) made:
a leak of ours fails the session, while another engine's segments, live or
left behind by a dead process, are neither reported nor removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from openpit_shm.layout.segment import HDR_W, SEGMENT_MAGIC
from tests.foreign_segments import another_engine

CONFTEST = Path(__file__).with_name("conftest.py")

_LEAKY = """
import multiprocessing as mp
from openpit_shm.shm.ring import Ring

KEPT = []

def test_leaks():
    KEPT.append(Ring.create(16))  # still open when the session ends: a leak

def test_starts_a_child_that_leaks():
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    child = ctx.Process(target=_child, args=(go,))
    child.start()
    KEPT.append((child, go))  # it outlives this test: noted as ours between tests

def test_ends_the_child():
    child, go = KEPT[-1]
    go.set()
    child.join(60)
    assert child.exitcode == 0

def _child(go):
    import os
    from openpit_shm.shm.ring import Ring
    ring = Ring.create(16)
    go.wait(60)
    os._exit(0)  # no clean-up: the segment stays
"""

_CLEAN = """
import os
import time
from pathlib import Path
from openpit_shm.shm.ring import Ring

def test_clean():
    Path(os.environ["LEAKCHECK_READY"]).touch()  # the outer test leaves litter meanwhile
    go, deadline = Path(os.environ["LEAKCHECK_GO"]), time.monotonic() + 120
    while not go.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with Ring.create(16):
        pass
"""


def _session(tmp_path: Path, body: str, **env: str) -> subprocess.Popen:
    """A pytest session over ``body`` with (a copy of) the transport conftest."""
    (tmp_path / "tests").mkdir()
    shutil.copy(CONFTEST, tmp_path / "tests" / "conftest.py")
    (tmp_path / "tests" / "test_body.py").write_text(body)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         str(tmp_path / "tests")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, **env},
    )  # fmt: skip


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_should_fail_the_session_on_a_leak_of_its_own_process_or_child(tmp_path: Path) -> None:
    run = _session(tmp_path, _LEAKY)
    out, _ = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "transport tests left shared-memory segments behind" in out
    listed = out.rsplit("left shared-memory segments behind:", 1)[1].split("]", 1)[0]
    assert listed.count("opshm.") == 2, "the process's leak and its child's"


def test_should_neither_report_nor_remove_other_engines_segments(tmp_path: Path) -> None:
    ready, go = tmp_path / "ready", tmp_path / "go"
    stale = Path(f"/dev/shm/opshm.leakcheck-{os.getpid()}-foreign-dead-creator.ring")
    try:
        with another_engine():
            run = _session(tmp_path, _CLEAN, LEAKCHECK_READY=str(ready), LEAKCHECK_GO=str(go))
            deadline = time.monotonic() + 120
            while not ready.exists():
                assert time.monotonic() < deadline and run.poll() is None, "the session started"
                time.sleep(0.02)
            # During the session, a segment some dead process of someone else's left behind.
            words = np.zeros(512, np.int64)
            words[HDR_W["creator_pid"]] = _dead_pid()
            words[HDR_W["magic"]] = np.uint64(SEGMENT_MAGIC).view(np.int64)
            stale.write_bytes(words.tobytes())
            go.touch()
            out, err = run.communicate(timeout=300)
        assert run.returncode == 0, out + err
        assert stale.exists(), "another process's leftover is the sweep's business"
    finally:
        stale.unlink(missing_ok=True)
