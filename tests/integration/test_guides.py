"""The user guides (docs/*.md, not the developers' internals.md) hold programs, and they run.

Every ```python block is a complete program: each runs in its own interpreter
(sharded blocks spawn workers, so they carry their ``__main__`` guard), must
exit 0, and must leave no shared-memory segment behind. ```text blocks are
shell lines and output, not run. The reason numbers the errors guide lists
are the ones the engine writes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from openpit_shm.kernels import codes
from openpit_shm.sharded.supervisor import RSN_SHARD_DOWN
from tests.sharded.conftest import shm_entries

DOCS = Path(__file__).resolve().parents[2] / "docs"
DEVELOPER_NOTES = {"internals.md"}
GUIDES = sorted(p for p in DOCS.glob("*.md") if p.name not in DEVELOPER_NOTES)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.S | re.M)


def _blocks(guide: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(guide.read_text()) if lang == language]


PROGRAMS = [
    pytest.param(body, id=f"{guide.stem}-{i}")
    for guide in GUIDES
    for i, body in enumerate(_blocks(guide, "python"), start=1)
]


def test_should_have_the_guides_and_programs_in_them() -> None:
    names = {p.stem for p in GUIDES}
    assert {"quickstart", "batches", "sharded", "c-producers", "threading", "errors"} <= names
    assert {"operations"} <= names
    assert len(PROGRAMS) >= 10


def test_should_fence_every_block_with_a_language() -> None:
    for guide in GUIDES:
        for lang, _ in FENCE.findall(guide.read_text()):
            assert lang in {"python", "text", "c"}, f"{guide.name}: a ```{lang} block"


@pytest.mark.parametrize("program", PROGRAMS)
def test_should_run_the_program(program: str, tmp_path: Path) -> None:
    path = tmp_path / "guide_block.py"
    path.write_text(program)
    proc = subprocess.Popen(
        [sys.executable, str(path)], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, f"{out}\n{err}"
    assert not shm_entries(creator=proc.pid), "the program left shared-memory segments"


def test_should_list_every_reason_number_the_engine_writes() -> None:
    text = (DOCS / "errors.md").read_text()
    reasons = {
        name: value
        for name, value in vars(codes).items()
        if name.startswith("RSN_") and name != "RSN_NONE"
    }
    reasons["RSN_SHARD_DOWN"] = RSN_SHARD_DOWN
    for name, value in reasons.items():
        row = re.search(rf"^\| {value} \| `{name}` \|", text, flags=re.M)
        assert row is not None, f"errors.md lacks the row for {name} = {value}"


def test_should_link_only_to_files_in_the_repository() -> None:
    root = DOCS.parent
    for doc in [*DOCS.glob("*.md"), root / "README.md"]:
        text = doc.read_text()
        assert "../" not in text, f"{doc.name} points outside its folder"
        for target in re.findall(r"\]\(([^)]+)\)", text):
            if target.startswith(("http://", "https://", "#")):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            assert path.is_relative_to(root) and path.exists(), f"{doc.name}: {target}"
