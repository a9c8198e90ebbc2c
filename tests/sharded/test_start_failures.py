"""A sharded engine whose workers cannot start fails fast and cleanly: no hang, no leak."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from openpit_shm.shm.sweep import segments_created_by
from tests.foreign_segments import another_engine

# No `if __name__ == "__main__":` guard: each spawned worker re-runs the script, whose
# own build then fails inside the worker (spawning while bootstrapping). 5,000 account
# barriers make the worker spec far larger than a pipe's buffer.
_UNGUARDED = textwrap.dedent(
    """
    import datetime
    import os
    import openpit_shm as openpit
    from openpit_shm.shm.sweep import process_identity
    with open(os.environ["OPSHM_TEST_PROCESSES"], "a") as f:  # the host and every worker
        f.write("%d %d\\n" % process_identity(os.getpid()))
    from openpit_shm.param import AccountId
    from openpit_shm.pretrade import policies as P

    rate = P.build_rate_limit().account_barriers(*[
        P.RateLimitAccountBarrier(P.RateLimit(10, datetime.timedelta(seconds=1)),
                                  AccountId.from_int(a))
        for a in range(5000)
    ])
    try:
        openpit.Engine.builder().account_sync().sharded(workers=2).builtin(rate).build()
    except Exception as exc:
        print("BUILD FAILED:", type(exc).__name__, exc)
        raise SystemExit(3)
    """
)


def test_should_fail_fast_when_a_script_without_a_main_guard_builds_a_sharded_engine(
    tmp_path: Path,
) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(_UNGUARDED)
    processes = tmp_path / "processes"
    with another_engine():  # its segments come and go meanwhile: none of this test's business
        run = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=240,
            cwd=tmp_path, env={**os.environ, "OPSHM_TEST_PROCESSES": str(processes)},
        )  # fmt: skip
    assert run.returncode == 3, run.stdout + run.stderr
    assert "BUILD FAILED: ShardUnavailableError" in run.stdout
    assert "exited during start" in run.stdout
    assert '__name__ == "__main__"' in run.stdout
    ran = [tuple(map(int, line.split())) for line in processes.read_text().splitlines()]
    assert len(ran) >= 2, "the host and at least one worker ran the script"
    # The host's segments and every worker's own attempt: unlinked.
    assert segments_created_by(ran) == []
