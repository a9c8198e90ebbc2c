"""The Book over shared memory: allocate/release hooks, growth across segments, attach.

A reference Book in NumPy memory takes the same deterministic stream
(``shm_books``: every builtin, retunes at fixed chunks) as the Book under
test; every chunk's result records must be identical, and so must the final
``snapshot``. Attaching rebuilds the registries and each builtin's live
configuration from the arena (retunes included) without re-initializing it,
in this process, in a spawned process, and after the owning process was
killed. No ``/dev/shm/opshm.*`` segment made here survives a test.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from openpit_shm.builtins.book import Book, BookDescription
from openpit_shm.layout import state as L

from . import shm_books as H

SEED = 11
N_CHUNKS = 10


@pytest.fixture
def memory() -> Iterator[H.SegmentMemory]:
    m = H.SegmentMemory()
    yield m
    m.close()
    left = [n for n in m.created if os.path.exists("/dev/shm" + n)]
    assert left == [], f"segments left behind: {left}"


@pytest.fixture(scope="module")
def reference() -> tuple[list[np.ndarray], dict]:
    book = H.create()
    results = H.run(book, H.chunks(SEED, N_CHUNKS), 0, N_CHUNKS)
    return results, book.snapshot(H.now_of(N_CHUNKS))


def _same(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g.tobytes() == w.tobytes(), f"chunk {k} decided differently"


def _mirrors(book: Book) -> list[dict]:
    keep = ("broker", "assets", "accounts", "account_assets")
    return [
        {k: getattr(p, k) for k in keep if hasattr(p, k)} for p in book.policies if p is not None
    ]


def test_should_grow_across_segments_and_decide_like_a_numpy_book(
    memory: H.SegmentMemory,
) -> None:
    stream = H.chunks(SEED, N_CHUNKS, n_accounts=3_000)  # rows enough to outgrow the arena
    want = H.run(H.create(), stream, 0, N_CHUNKS)
    book = H.create(memory, reserve_words=0, asset_cap=4, table_cap=16)
    half = N_CHUNKS // 2
    got = H.run(book, stream, 0, half)
    book.grow(1 << 17)  # what a shard worker does when its kernel loop reports "no space"
    got += H.run(book, stream, half, N_CHUNKS)
    _same(got, want)
    reference = H.create()
    H.run(reference, stream, 0, N_CHUNKS)
    assert book.snapshot(H.now_of(N_CHUNKS)) == reference.snapshot(H.now_of(N_CHUNKS))
    kinds = [name.rsplit(".", 1)[1] for name in memory.created]
    assert kinds.count("state") >= 3 and kinds.count("shared") >= 3, "both arrays should grow"
    live = {memory.name_of(book.state), memory.name_of(book.shared)}
    assert len(memory.segments) == 2, "every replaced segment is released"
    assert [n for n in memory.created if n not in live and os.path.exists("/dev/shm" + n)] == []


def test_should_rebuild_registries_and_live_configuration_when_attaching() -> None:
    book = H.create(asset_cap=4)
    H.run(book, H.chunks(SEED, N_CHUNKS), 0, N_CHUNKS)  # both retunes applied
    book.asset_id("ÆØÅ-unicode")
    state, shared = book.state.copy(), book.shared.copy()
    again = Book.from_description(book.description(), state=state, shared=shared)
    assert again.asset_names() == book.asset_names()
    assert again._instruments == book._instruments
    assert H.decimals_equal(_mirrors(again), _mirrors(book))
    assert again.state.tobytes() == book.state.tobytes()  # nothing re-initialized
    assert again.snapshot(H.now_of(N_CHUNKS)) == book.snapshot(H.now_of(N_CHUNKS))
    # Both keep deciding and retuning alike.
    more = H.chunks(SEED + 1, 3)
    for b in (book, again):
        H.retune(b, H.RETUNE_CHUNKS[0])
    _same(H.run(again, more, 0, 3), H.run(book, more, 0, 3))


def test_should_refuse_to_attach_to_an_arena_of_another_configuration() -> None:
    book = H.create()
    desc = book.description()
    for change, words in (
        ({"scale": 6}, "scale"),
        ({"n_policies": 6}, "policies"),
        ({"specs": desc.specs[:-1]}, "builtins"),
    ):
        other = BookDescription(**{**desc.__dict__, **change})
        with pytest.raises(ValueError, match=words):
            Book.from_description(other, state=book.state.copy(), shared=book.shared.copy())
    bad = book.state.copy()
    bad[L.H_VERSION] = 1
    with pytest.raises(ValueError, match="version"):
        Book.from_description(desc, state=bad, shared=book.shared.copy())
    with pytest.raises(ValueError, match="magic"):
        Book.from_description(desc, state=np.zeros_like(book.state), shared=book.shared)


def test_should_pickle_a_static_description() -> None:
    book = H.create()
    desc = book.description()
    assert pickle.loads(pickle.dumps(desc)) == desc
    H.run(book, H.chunks(SEED, N_CHUNKS), 0, N_CHUNKS)
    assert book.description() == desc  # retunes and new assets live in the arena only


def _spawn(
    names: tuple[str, str], desc: bytes, start: int, stop: int, hang: bool = False
) -> tuple[multiprocessing.Process, object]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=H.child_attach_and_run, args=(names, desc, SEED, start, stop, child, hang)
    )
    proc.start()
    child.close()
    return proc, parent


def _collect(conn: object, start: int, stop: int) -> tuple[list[np.ndarray], dict]:
    results = []
    for k in range(start, stop):
        got_k, raw = conn.recv()  # type: ignore[attr-defined]
        assert got_k == k
        results.append(H.results_of(raw))
    tag, snap = conn.recv()  # type: ignore[attr-defined]
    assert tag == "done"
    return results, pickle.loads(snap)


def test_should_attach_from_another_process_and_decide_identically(
    memory: H.SegmentMemory, reference: tuple[list[np.ndarray], dict]
) -> None:
    book = H.create(memory, reserve_words=1 << 18)
    half = N_CHUNKS // 2
    mine = H.run(book, H.chunks(SEED, half), 0, half)
    names = (memory.name_of(book.state), memory.name_of(book.shared))
    proc, conn = _spawn(names, pickle.dumps(book.description()), half, N_CHUNKS)
    theirs, snapshot = _collect(conn, half, N_CHUNKS)
    proc.join(60)
    assert proc.exitcode == 0
    _same(mine + theirs, reference[0])
    assert snapshot == reference[1]
    # The owner sees what the other process did (same memory).
    assert book.snapshot(H.now_of(N_CHUNKS)) == reference[1]


def test_should_continue_over_the_arena_after_its_owner_is_killed(
    memory: H.SegmentMemory, reference: tuple[list[np.ndarray], dict]
) -> None:
    book = H.create(memory, reserve_words=1 << 18)
    names = (memory.name_of(book.state), memory.name_of(book.shared))
    desc = pickle.dumps(book.description())
    del book  # the supervisor keeps the segments and the description, not the Book
    cut = H.RETUNE_CHUNKS[0] + 2  # the dead worker applied the first retune
    proc, conn = _spawn(names, desc, 0, cut, hang=True)
    before, _ = _collect(conn, 0, cut)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    proc, conn = _spawn(names, desc, cut, N_CHUNKS)  # the restarted worker
    after, snapshot = _collect(conn, cut, N_CHUNKS)
    proc.join(60)
    assert proc.exitcode == 0
    _same(before + after, reference[0])
    assert snapshot == reference[1]


def test_should_fail_before_touching_the_arena_when_the_shared_array_cannot_grow() -> None:
    made: list[str] = []

    def allocate(words: int, kind: str) -> np.ndarray:
        if kind == "shared" and "shared" in made:
            raise MemoryError("the shared array of a sharded engine cannot grow")
        made.append(kind)
        return np.zeros(words, dtype=np.int64)

    book = Book.create(H.specs(), n_policies=H.N_POLICIES, asset_cap=16, allocate=allocate)
    for i in range(16 - len(book.asset_names())):
        book.asset_id(f"A{i}")
    before = book.state.tobytes(), book.shared.tobytes(), book.asset_names()
    with pytest.raises(MemoryError, match="cannot grow"):
        book.asset_id("one too many")
    assert (book.state.tobytes(), book.shared.tobytes(), book.asset_names()) == before
