"""Blocks seen across shards: the ``shared`` array's block count and engine-wide block word.

openpit rejects an order without an account while *any* block exists in the
engine, and a report without an account blocks the whole engine. Here two
Books share one ``shared`` array (two shards), in one process, in two forked
processes racing, and in a real sharded engine.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.builtins.texts import Record
from openpit_shm.kernels import codes as K
from openpit_shm.layout import state as L
from openpit_shm.layout.records import (
    MSG_ORDER,
    MSG_REPORT,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_NO_ACCOUNT,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    STATUS_REJECTED,
)
from openpit_shm.layout.shard import shard_of
from openpit_shm.pretrade import policies as P
from tests.records import stamped
from tests.sharded.conftest import shm_entries

S8 = 10**8
NO_ACCOUNT = ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT


def _pnl_spec() -> Any:
    bounds = P.PnlBoundsBrokerBarrier("USD", -100)
    return make_spec("pnl_bounds_killswitch", broker_barriers=[bounds])


def _shards(shared: np.ndarray | None = None) -> tuple[Book, Book]:
    """Two shards' Books: separate arenas, one ``shared`` array (``shared`` if given)."""
    a = Book.create([(0, _pnl_spec())], n_policies=1)
    b = Book.create([(0, _pnl_spec())], n_policies=1)
    common = a.shared if shared is None else shared
    for book in (a, b):
        book.shared = common
        book._refresh()
        book.instrument_id("AAPL", "USD")
    return a, b


def _gate(book: Book, account: int, flags: int = ORDER_HAS_OPERATION) -> int:
    """0 if the gate lets the order through, else the reason of its reject."""
    out = np.zeros(3, RESULT_DTYPE)
    if book.gate(out, account, flags) == 0:
        return 0
    return Record.of(out[0]).reason


def _records(*rows: tuple[int, int, int, int]) -> np.ndarray:
    """(kind, account, flags, pnl) rows as ORDER_DTYPE records on instrument 0."""
    recs = np.zeros(len(rows), ORDER_DTYPE)
    for i, (kind, account, flags, pnl) in enumerate(rows):
        recs[i]["seq"], recs[i]["kind"], recs[i]["account"] = i, kind, account
        recs[i]["flags"], recs[i]["pnl"], recs[i]["side"], recs[i]["amount"] = flags, pnl, 1, S8
    return recs


def _process(book: Book, *rows: tuple[int, int, int, int]) -> list[Record]:
    results = np.zeros(8 * len(rows), RESULT_DTYPE)
    done, written = book.process(stamped(_records(*rows), book), results, 1_000)
    assert done == len(rows)
    return [Record.of(r) for r in results[:written]]


def test_should_reject_orders_without_account_while_another_shard_holds_an_account_block() -> None:
    a, b = _shards()
    assert _gate(b, 0, NO_ACCOUNT) == 0  # nothing blocked anywhere: nothing to verify
    assert a.block_account(7)
    assert _gate(b, 0, NO_ACCOUNT) == K.RSN_GATE_NO_ACCOUNT
    assert _gate(b, 0, 0) == K.RSN_GATE_NO_ACCOUNT  # no operation at all
    assert _gate(b, 7) == 0  # b does not hold account 7: its own accounts still trade
    assert _gate(a, 7) == K.RSN_GATE_ACCOUNT
    a.unblock_account(7)
    assert _gate(b, 0, NO_ACCOUNT) == 0
    assert a.blocks_anywhere() == b.blocks_anywhere() == 0


def test_should_count_kernel_latched_blocks_from_reports_for_every_shard() -> None:
    a, b = _shards()
    rep = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    [blk] = _process(a, (MSG_REPORT, 5, rep, -101 * S8))
    assert blk.latched and a.is_account_blocked(5)
    [gate] = _process(b, (MSG_ORDER, 0, NO_ACCOUNT | ORDER_AUTO_COMMIT, 0))
    assert gate.status == STATUS_REJECTED and gate.reason == K.RSN_GATE_NO_ACCOUNT
    _process(a, (MSG_REPORT, 5, rep, -101 * S8))  # still out of bounds: no second block
    assert a.blocks_anywhere() == 1
    a.unblock_account(5)
    [past] = _process(b, (MSG_ORDER, 0, NO_ACCOUNT | ORDER_AUTO_COMMIT, 0))
    assert past.policy == 0  # past the gate: the P&L policy's own missing-account reject


def test_should_set_the_engine_wide_kill_switch_for_every_shard_from_one_shards_report() -> None:
    a, b = _shards()
    [blk] = _process(a, (MSG_REPORT, 0, NO_ACCOUNT | REPORT_HAS_FINANCIAL, -101 * S8))
    assert blk.policy == 0  # MissingRequiredField (account): no account to block ...
    assert b.engine_block() == L.ENGINE_BLOCK_KILL_SWITCH  # ... so the whole engine is
    [gate] = _process(b, (MSG_ORDER, 3, ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT, 0))
    assert gate.policy == POLICY_ENGINE and gate.reason == K.RSN_GATE_ENGINE_KILL_SWITCH
    assert b.describe(gate)[2] == "account is blocked due to kill-switch"
    # The client broadcasts the engine-wide block to every shard too: a no-op now.
    assert not a.block_engine() and not b.block_engine()
    assert b.engine_block() == L.ENGINE_BLOCK_KILL_SWITCH and a.blocks_anywhere() == 1
    assert b.unblock_engine()  # unblock_all through any shard clears it for all
    assert not a.unblock_engine()
    assert _gate(a, 3) == 0 and _gate(a, 0, NO_ACCOUNT) == 0
    assert a.blocks_anywhere() == 0


def test_should_count_only_real_transitions_and_never_go_below_zero() -> None:
    a, b = _shards()
    assert a.block_engine() and not b.block_engine() and not a.block_engine()
    assert a.blocks_anywhere() == 1 and _gate(b, 9) == K.RSN_GATE_ENGINE
    assert b.unblock_engine() and not a.unblock_engine() and not b.unblock_engine()
    assert a.blocks_anywhere() == 0
    assert a.block_account(1) and not a.block_account(1)
    assert a.block_account(1, replace=True)  # a new cause for the same block: no new block
    assert a.blocks_anywhere() == 1
    for _ in range(3):
        a.unblock_account(1)
        a.unblock_account(2)  # never blocked
    assert a.blocks_anywhere() == 0
    for book in (a, b):  # a group is blocked in every shard: once per shard
        book.set_group(4, 77)
        book.block_group(77)
        book.block_group(77)
    assert a.blocks_anywhere() == 2
    for book in (a, b):
        book.unblock_group(77)
        book.unblock_group(77)
    assert a.blocks_anywhere() == 0 and _gate(b, 0, NO_ACCOUNT) == 0
    a.shared[L.SH_N_BLOCKED] = 0  # as if a shard had died before counting a block ...
    assert b.block_account(3)
    a.shared[L.SH_N_BLOCKED] = 0
    b.unblock_account(3)  # ... its unblock must not take the count below zero
    assert a.blocks_anywhere() == 0


def test_should_keep_one_books_gate_exactly_as_its_own_blocks_say() -> None:
    # One Book (the in-process engine): the shared words mirror the arena's counters.
    book = Book.create([(0, _pnl_spec())], n_policies=1)
    book.instrument_id("AAPL", "USD")
    steps = [
        (book.block_account, 1), (book.set_group, 2, 5), (book.block_group, 5),
        (book.block_engine,), (book.unblock_account, 1), (book.unblock_group, 5),
        (book.unblock_engine,),
    ]  # fmt: skip
    for fn, *args in steps:
        fn(*args)
        st = book.state
        live = int(st[L.H_N_BLOCKED_ACC] + st[L.H_N_BLOCKED_GRP])
        live += book.engine_block() != L.ENGINE_BLOCK_NONE
        assert book.blocks_anywhere() == live, fn.__name__
        assert (_gate(book, 0, NO_ACCOUNT) != 0) == (live > 0), fn.__name__


def _toggle(shared: np.ndarray, first: int, rounds: int) -> None:
    """In a child: a shard blocking/unblocking its own accounts and the engine, racing."""
    a, _ = _shards(shared)
    for r in range(rounds):
        for acct in range(first, first + 50):
            a.block_account(acct)
        a.block_engine()
        for acct in range(first, first + 50, 2):
            a.unblock_account(acct)
        a.unblock_engine()
        if r + 1 < rounds:
            for acct in range(first + 1, first + 50, 2):
                a.unblock_account(acct)
        assert a.blocks_anywhere() >= 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_should_keep_the_block_count_exact_when_two_processes_race() -> None:
    template, _ = _shards()
    buf = mmap.mmap(-1, template.shared.shape[0] * 8)  # MAP_SHARED: seen by forked children
    shared = np.frombuffer(buf, dtype=np.int64)
    shared[:] = template.shared
    _toggle(np.zeros_like(shared), 0, 1)  # compile before forking
    pids = []
    for first in (1000, 2000):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                _toggle(shared, first, 200)
            except BaseException:
                os._exit(1)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    # Each child ends with its 25 odd accounts blocked; the engine-wide block is clear.
    assert shared[L.SH_N_BLOCKED] == 50
    assert shared[L.SH_ENGINE_BLOCK] == L.ENGINE_BLOCK_NONE


def _order(account: int | None) -> Any:
    acc = None if account is None else op.param.AccountId.from_int(account)
    return op.Order(
        operation=op.OrderOperation(
            instrument=op.Instrument("AAPL", "USD"), side=op.param.Side.BUY,
            trade_amount=op.param.TradeAmount.quantity(op.param.Quantity(1)), account_id=acc,
            price=op.param.Price(10),
        )
    )  # fmt: skip


def _report(account: int | None, pnl: int) -> Any:
    acc = None if account is None else op.param.AccountId.from_int(account)
    return op.ExecutionReport(
        operation=op.ExecutionReportOperation(
            instrument=op.Instrument("AAPL", "USD"), side=op.param.Side.BUY, account_id=acc
        ),
        financial_impact=op.FinancialImpact(pnl=op.param.Pnl(pnl), fee=op.param.Fee(0)),
    )


def _reasons(result: Any) -> list[str]:
    return [r.reason for r in result.rejects]


def test_should_gate_every_shard_of_a_sharded_engine_on_blocks_held_by_any_shard() -> None:
    before = shm_entries()
    engine = (
        op.Engine.builder().account_sync().sharded(workers=2)
        .builtin(P.build_pnl_bounds_killswitch().broker_barriers(
            P.PnlBoundsBrokerBarrier("USD", op.param.Pnl(-100), op.param.Pnl(10**6))))
        .build()
    )  # fmt: skip
    unverified = "account could not be verified as account ID is missing"
    passed = ["failed to access required field 'account ID'"]  # the P&L policy's own reject
    with engine:
        home = shard_of(0, 2)  # where orders without an account go
        away = next(a for a in range(1, 100) if shard_of(a, 2) != home)
        local = next(a for a in range(1, 100) if shard_of(a, 2) == home)
        assert _reasons(engine.execute_pre_trade(_order(None))) == passed
        for account in (away, local):  # a block in the other shard, then in the same one
            engine.accounts().block(op.param.AccountId.from_int(account), "desk halted")
            assert _reasons(engine.execute_pre_trade(_order(None))) == [unverified]
            engine.accounts().unblock(op.param.AccountId.from_int(account))
            assert _reasons(engine.execute_pre_trade(_order(None))) == passed
        engine.apply_execution_report(_report(away, -101))  # kernel-latched in shard `away`
        assert _reasons(engine.execute_pre_trade(_order(None))) == [unverified]
        engine.accounts().unblock(op.param.AccountId.from_int(away))
        # A report without an account: the engine-wide kill switch, set by one shard's
        # kernel and broadcast by the client to every shard, must count once.
        engine.apply_execution_report(_report(None, -101))
        for account in (away, local):
            assert _reasons(engine.execute_pre_trade(_order(account))) == [
                "account is blocked due to kill-switch"
            ]
        snaps = engine._broadcast("snapshot", 0)
        assert [(s["engine_block"], s["blocks_anywhere"]) for s in snaps] == [
            (L.ENGINE_BLOCK_KILL_SWITCH, 1)
        ] * 2
        engine.accounts().unblock_all()
        assert _reasons(engine.execute_pre_trade(_order(None))) == passed
        assert engine.execute_pre_trade(_order(local)).ok  # (away is out of its P&L bounds)
        snaps = engine._broadcast("snapshot", 0)
        assert [(s["engine_block"], s["blocks_anywhere"]) for s in snaps] == [(0, 0)] * 2
    assert shm_entries() <= before

