"""pyproject.toml: declared dependencies match what the code imports; the suite and the wheel
need nothing undeclared; the C header ships as package data without setuptools warnings."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(extra: str | None = None) -> dict[str, Requirement]:
    project = PROJECT["project"]
    listed = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {r.name: r for r in map(Requirement, listed)}


@pytest.mark.parametrize("name", ["numba", "llvmlite", "numpy"])
def test_should_declare_a_bounded_range_the_installed_version_satisfies(name: str) -> None:
    requirement = _requirements()[name]
    installed = importlib.metadata.version(name)
    assert requirement.specifier.contains(installed), (requirement, installed)
    if name in ("numba", "llvmlite"):  # the kernels use their internals: tested releases only
        assert any(spec.operator == "<" for spec in requirement.specifier), requirement


def test_should_run_the_suite_without_pytest_benchmark() -> None:
    assert "pytest-benchmark" not in _requirements("test")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:benchmark", "--collect-only", "-q",
         "tests/integration/test_packaging.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_should_build_a_wheel_with_the_header_and_no_setuptools_warning(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: the build leaves build/ and *.egg-info where it runs
    skip = (".venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", "results")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skip))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v",
         "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "BuildBackendWarning" not in output and "absent from the `packages`" not in output
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "openpit_shm/include/openpit_shm.h" in names
    assert "openpit_shm/kernels/entries.py" in names
