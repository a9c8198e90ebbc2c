"""The lifecycle example (custom policies included) gives the same output on a sharded engine."""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import sys
from pathlib import Path

from tests.integration.test_seed_example import EXAMPLE, OURS, run_example
from tests.sharded.conftest import shm_entries


def test_should_run_the_lifecycle_example_on_a_sharded_engine(tmp_path: Path) -> None:
    source = EXAMPLE.read_text()
    assert OURS in source
    expected = run_example(source)
    sharded = source.replace(".no_sync()", ".account_sync().sharded(workers=2)", 1)
    assert sharded.count(".sharded(") == 1
    # Workers unpickle the custom policies by reference: the module must be importable.
    (tmp_path / "lifecycle_sharded.py").write_text(sharded)
    sys.path.insert(0, str(tmp_path))
    before = shm_entries()
    try:
        module = importlib.import_module("lifecycle_sharded")
        out = io.StringIO()
        with module.build_engine() as engine, contextlib.redirect_stdout(out):
            module.main(engine)
            gc.collect()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("lifecycle_sharded", None)
    assert out.getvalue() == expected
    assert shm_entries() <= before
