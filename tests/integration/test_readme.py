"""The README's examples are programs: the Python doors run, the C door compiles."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import openpit_shm
from tests.sharded.conftest import shm_entries

ROOT = Path(__file__).resolve().parents[2]


def _blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_should_run_the_readme_python_examples_as_one_program(tmp_path: Path) -> None:
    blocks = _blocks("python")
    assert len(blocks) == 3, "objects, batch and sharded"
    # Workers are spawned: the README asks for a main guard around sharded code.
    body = textwrap.indent("\n".join(blocks), "    ")
    script = tmp_path / "readme_doors.py"
    script.write_text(f"def main():\n{body}\n\nif __name__ == '__main__':\n    main()\n")
    proc = subprocess.Popen(
        [sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "OrderSizeLimitPolicy [OrderQtyExceedsLimit]: order quantity exceeded" in out
    assert not shm_entries(creator=proc.pid), "the sharded example left segments behind"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_should_compile_the_readme_c_example_against_the_generated_header(
    tmp_path: Path,
) -> None:
    (block,) = _blocks("c")
    includes = [line for line in block.splitlines() if line.startswith("#include")]
    body = [line for line in block.splitlines() if not line.startswith("#include")]
    source = "\n".join(
        ["#include <stdio.h>", *includes,
         "int example(const char **request_name, const char **result_name, int n_shards) {",
         *body, "    return 0;", "}"]
    )  # fmt: skip
    path = tmp_path / "readme_c.c"
    path.write_text(source)
    done = subprocess.run(
        ["gcc", "-std=gnu11", "-Wall", "-Werror", "-fsyntax-only", "-I", openpit_shm.get_include(),
         str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
