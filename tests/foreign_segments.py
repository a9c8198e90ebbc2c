"""Another engine on the same host: a process that keeps making ``opshm.*`` segments.

``/dev/shm`` is shared by every engine on a machine (other test runs, other
services). A leak check must look at the segments its own process or engine
made, never compare all of ``/dev/shm`` before and after: ``another_engine``
makes that mistake fail, by creating (and removing) segments of its own for
as long as the block runs.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["another_engine"]

_SCRIPT = """
import sys, time
from openpit_shm.shm.ring import Ring
kept = [Ring.create(16) for _ in range(3)]  # there all along
print("READY", flush=True)
while True:  # and new ones keep coming and going (SIGTERM unlinks what is left)
    kept.append(Ring.create(16))
    if len(kept) > 6:
        kept.pop(3).close()
    time.sleep(0.02)
"""


@contextlib.contextmanager
def another_engine() -> Iterator[subprocess.Popen]:
    """Run the block while another process creates and removes ``opshm.*`` segments."""
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)  # its handler unlinks every segment it still owns
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
