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
    assert len(blocks) >= 3, "objects, batch, sharded (and the examples after them)"
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
    # The sharded block's records are built for the sharded engine (its instrument ids and
    # record tag): none comes back malformed (issue 9, #19: records of the first engine did).
    counts = re.search(r"accepted, rejected, malformed: \[\s*(\d+)\s+(\d+)\s+(\d+)\s*\]", out)
    assert counts is not None, out
    accepted, rejected, malformed = map(int, counts.groups())
    assert malformed == 0 and accepted > 0 and rejected > 0
    assert not shm_entries(creator=proc.pid), "the sharded example left segments behind"


def _c_example(tmp_path: Path, suffix: str) -> Path:
    """The README's C block as a function body (its #include lines first, as the README has)."""
    (block,) = _blocks("c")
    includes = [line for line in block.splitlines() if line.startswith("#include")]
    body = [line for line in block.splitlines() if not line.startswith("#include")]
    source = "\n".join(
        [*includes,
         "int example(const char **request_name, const char **result_name, int n_shards,",
         "            uint64_t tag) {",
         *body, "    return 0;", "}"]
    )  # fmt: skip
    path = tmp_path / f"readme_c.{suffix}"
    path.write_text(source)
    return path


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_should_compile_the_readme_c_example_as_strict_c11(tmp_path: Path) -> None:
    done = subprocess.run(
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c",
         "-I", openpit_shm.get_include(), str(_c_example(tmp_path, "c")),
         "-o", str(tmp_path / "readme_c.o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed")
@pytest.mark.parametrize("std", ["c++17", "c++20"])
def test_should_compile_the_readme_c_example_as_cpp(tmp_path: Path, std: str) -> None:
    """Designated initializers in field order (C++20's rule; g++ accepts them in C++17 too)."""
    done = subprocess.run(
        ["g++", f"-std={std}", "-Wall", "-Wextra", "-Werror", "-c",
         "-I", openpit_shm.get_include(), str(_c_example(tmp_path, "cpp")),
         "-o", str(tmp_path / "readme_cpp.o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
