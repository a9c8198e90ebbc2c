"""A producer handed only its ring names reaches only its own rings (issue 9, defect 4).

The attack, from a separate process that knows what ``external_client(1)``
returns: read the creator pid from its own rings' headers, list
``/dev/shm``, open every segment that pid made, and in each state arena
rewrite the words holding the 900-share order-size cap. Before the state,
shared and control segments and the host's own rings became unnamed
(memfds handed to the workers by descriptor), it found all of them and a
950-share order was accepted; now it finds nothing beyond its own rings and
the cap holds.

(Same-uid processes can still reach the host's descriptors through
``/proc/<pid>/fd`` or ptrace: the README's threat model says so. This test
covers what the design guarantees, the ``/dev/shm`` route.)
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.layout.segment import (
    HDR_W,
    SEGMENT_HEADER_BYTES,
    SEGMENT_KIND_STATE,
    SEGMENT_MAGIC,
)
from openpit_shm.layout.shard import shard_of
from tests.sharded.conftest import memfd_segments, shm_entries

#: The separate process: all it knows is the attach info (argv[1]) and the header layout
#: (argv[2]); it does not import openpit_shm, as a C producer would not.
ATTACKER = textwrap.dedent(
    """
    import json, mmap, os, sys
    import numpy as np

    info, layout = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
    own = {name.lstrip("/") for name in info["request"] + info["result"]}

    def header(name):
        with open("/dev/shm/" + name, "rb") as f:
            return np.frombuffer(f.read(layout["header_bytes"]), dtype="<i8")

    host = {int(header(name)[layout["creator_pid"]]) for name in own}
    reached, rewritten = [], 0
    for name in sorted(os.listdir("/dev/shm")):
        if name in own:
            continue
        try:
            h = header(name)
        except (OSError, ValueError):
            continue
        if int(h[layout["magic"]]) != layout["magic_value"]:
            continue
        if int(h[layout["creator_pid"]]) not in host:
            continue  # another engine's
        fd = os.open("/dev/shm/" + name, os.O_RDWR)
        try:
            mm = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        reached.append(name)
        if int(h[layout["kind"]]) == layout["state_kind"]:
            words = np.frombuffer(mm, dtype=np.int64)
            hits = np.flatnonzero(words == layout["cap"])
            words[hits] = layout["lifted"]
            rewritten += hits.size
            del words
        mm.close()
    print(json.dumps({"host": sorted(host), "reached": reached, "rewritten": rewritten}))
    """
)


def _capped(workers: int) -> Any:
    """A sharded engine whose only limit is a 900-share cap on S000, with one external slot."""
    pol = op.pretrade.policies
    cap = pol.OrderSizeLimit(max_quantity=op.param.Quantity(900))
    size = pol.build_order_size_limit().asset_barriers(pol.OrderSizeAssetBarrier(cap, "S000"))
    builder = op.Engine.builder().account_sync().builtin(size)
    return builder.sharded(workers=workers, external_clients=1).build()


def _order(account: int, qty: str) -> op.Order:
    return op.Order(
        operation=op.OrderOperation(
            instrument=op.Instrument("S000", "USD"),
            account_id=op.param.AccountId.from_int(account),
            side=op.param.Side.BUY,
            trade_amount=op.param.TradeAmount.quantity(qty),
            price=op.param.Price("10"),
        )
    )


def _attack(engine: Any, tmp_path: Path) -> dict[str, Any]:
    """Run ``ATTACKER`` against ``engine`` from what ``external_client(1)`` returns."""
    info = engine.external_client(1)
    attach = tmp_path / "attach.json"
    attach.write_text(json.dumps(info))
    scale = 10 ** info["scale"]
    layout = {
        "header_bytes": SEGMENT_HEADER_BYTES,
        "magic": HDR_W["magic"],
        "magic_value": np.uint64(SEGMENT_MAGIC).astype(np.int64).item(),
        "kind": HDR_W["kind"],
        "creator_pid": HDR_W["creator_pid"],
        "state_kind": SEGMENT_KIND_STATE,
        "cap": 900 * scale,  # the 900-share cap, in the arena's fixed point
        "lifted": 10**6 * scale,
    }
    proc = subprocess.run(
        [sys.executable, "-c", ATTACKER, str(attach), json.dumps(layout)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_should_keep_a_producer_with_only_its_ring_names_away_from_limits(tmp_path: Path) -> None:
    before = shm_entries()
    with _capped(workers=2) as engine:
        engine.register_instrument(op.Instrument("S000", "USD"))
        accounts = [next(a for a in range(1, 100) if shard_of(a, 2) == k) for k in range(2)]

        def codes(qty: str) -> list[list[str]]:
            return [[r.code for r in engine.execute_pre_trade(_order(a, qty)).rejects]
                    for a in accounts]  # fmt: skip

        assert codes("950") == [["OrderQtyExceedsLimit"]] * 2, "the cap holds before the attack"
        got = _attack(engine, tmp_path)
        assert got["host"] == [os.getpid()], "the producer identified the engine's creator"
        assert codes("950") == [["OrderQtyExceedsLimit"]] * 2, "the cap holds after the attack"
        assert codes("900") == [[], []]
        assert got["reached"] == [], "nothing of the engine beyond the producer's own rings"
        assert got["rewritten"] == 0
        # What the engine shows in /dev/shm is exactly the external slot's ring pairs.
        info = engine.external_client(1)
        assert len(info["request"]) == len(info["result"]) == 2
        assert {n.lstrip("/") for n in info["request"] + info["result"]} == (shm_entries() - before)
    assert shm_entries() <= before


def test_should_keep_unnamed_segments_across_a_restart_grown_and_release_them_on_close(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host keeps the descriptors: a restarted worker attaches the same arena, including
    what the dead worker grew it by (ftruncate through its own descriptor). close() closes
    them all; the workers' copies die with the workers."""
    from openpit_shm.batch import order_records
    from openpit_shm.builtins.book import Book

    create = Book.create.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Book, "create", classmethod(
        lambda cls, *a, **kw: create(cls, *a, **{**kw, "reserve_words": 1 << 12})))  # fmt: skip
    before = memfd_segments()
    engine = _capped(2)
    with engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        held = memfd_segments() - before
        # control, shared, 2 state arenas, 2 x 2 own rings, the quote table (mmap keeps a
        # duplicate of each)
        assert len({ino for _, ino in held}) == 1 + 1 + 2 + 4 + 1
        state = engine._topology.state[0]
        built = os.fstat(state.fileno()).st_size
        # Open reservations fill shard 0's arena until its worker grows it.
        mine = np.array([a for a in range(1, 80_000) if shard_of(a, 2) == 0])
        opened = engine.execute_batch(
            order_records(
                engine, account=mine, instrument=iid, side=1, quantity=1, price=10,
                units="decimal",
            )
        )
        assert (opened["reservation"] != 0).all()
        grown = os.fstat(state.fileno()).st_size
        assert grown > built, "the worker grew the arena through its own descriptor"
        used = engine.stats()[0]["arena_bytes"]
        account = int(mine[0])
        pid = engine.workers[0]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while engine.workers[0] == pid or not engine.execute_pre_trade(_order(account, "1")).ok:
            assert time.monotonic() < deadline, "the restarted worker serves"
            time.sleep(0.01)
        assert engine.stats()[0]["arena_bytes"] >= used, "it attached the whole grown arena"
        assert [r.code for r in engine.execute_pre_trade(_order(account, "950")).rejects] == [
            "OrderQtyExceedsLimit"
        ], "the restarted worker sees the same limits"
        assert memfd_segments() - before == held, "restarts neither leak nor lose descriptors"
    del engine, state
    gc.collect()  # a mapping still viewed by a dead engine's arrays is unmapped with them
    assert memfd_segments() <= before
