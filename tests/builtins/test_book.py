"""The Book on its own: the batch/shard message kinds, handles, growth, blocks, shared windows."""

from __future__ import annotations

import mmap
import os

import numpy as np
import pytest

from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.builtins.texts import Record
from openpit_shm.kernels import codes as K
from openpit_shm.layout import state as L
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_COMMIT,
    MSG_DRY_ORDER,
    MSG_EXECUTE,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    RESULT_BLOCK_LATCHED,
    RESULT_COMMITTED,
    RESULT_DRY_RUN,
    RESULT_DTYPE,
    SIDE_BUY,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from openpit_shm.pretrade import policies as P
from tests.records import stamped

HOUR = 3600 * 10**9
S8 = 10**8


def _book(*specs: object, **kw: object) -> Book:
    return Book.create(list(enumerate(specs)), n_policies=len(specs), **kw)


def _rec(kind: int, account: int = 1, instrument: int = 0, amount: int = S8, price: int = 10 * S8,
         flags: int = ORDER_HAS_OPERATION | ORDER_HAS_PRICE, ref: int = 0, pnl: int = 0,
         fee: int = 0, seq: int = 0) -> np.void:
    r = np.zeros(1, ORDER_DTYPE)[0]
    r["seq"], r["account"], r["instrument"], r["kind"] = seq, account, instrument, kind
    r["side"], r["flags"], r["price"], r["amount"] = SIDE_BUY, flags, price, amount
    r["ref"], r["pnl"], r["fee"] = ref, pnl, fee
    return r


def _run(book: Book, *recs: np.void) -> list[Record]:
    records = stamped(np.array(list(recs), dtype=ORDER_DTYPE), book)
    results = np.zeros(len(recs) * 8, dtype=RESULT_DTYPE)
    done, written = book.process(records, results, 1_000)
    assert done == len(recs)
    return [Record.of(x) for x in results[:written]]


def test_should_hand_out_single_use_reservation_and_request_handles() -> None:
    book = _book(make_spec("order_validation"))
    book.instrument_id("AAPL", "USD")
    [res] = _run(book, _rec(MSG_ORDER))
    assert res.status == STATUS_OK and res.count == 0 and res.reservation > 0
    [ok, again] = _run(book, _rec(MSG_COMMIT, ref=res.reservation),
                       _rec(MSG_ROLLBACK, ref=res.reservation))
    assert ok.status == STATUS_OK and ok.flags & RESULT_COMMITTED
    assert again.status == STATUS_ERROR and again.reason == K.RSN_BAD_HANDLE
    [req] = _run(book, _rec(MSG_START))
    [bad] = _run(book, _rec(MSG_COMMIT, ref=req.reservation))  # a request is not a reservation
    assert bad.status == STATUS_ERROR
    [ex] = _run(book, _rec(MSG_EXECUTE, ref=req.reservation))
    assert ex.status == STATUS_OK and ex.reservation == req.reservation
    [rb] = _run(book, _rec(MSG_ROLLBACK, ref=ex.reservation))
    assert rb.status == STATUS_OK and not rb.flags & RESULT_COMMITTED
    [stale] = _run(book, _rec(MSG_EXECUTE, ref=req.reservation))
    assert stale.status == STATUS_ERROR
    [auto] = _run(book, _rec(MSG_ORDER, flags=ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT))
    assert auto.flags & RESULT_COMMITTED and auto.reservation == 0


def test_should_grow_the_reservation_table_and_keep_old_handles_valid() -> None:
    book = _book(make_spec("order_validation"))
    book.instrument_id("AAPL", "USD")
    handles = [r.reservation for r in _run(book, *[_rec(MSG_ORDER)] * (L.RES_CAP_DEFAULT + 10))]
    assert len(set(handles)) == len(handles)
    commits = _run(book, *[_rec(MSG_COMMIT, ref=h) for h in handles])
    assert all(r.status == STATUS_OK for r in commits)


def test_should_answer_malformed_records_with_errors_never_with_a_decision() -> None:
    book = _book(make_spec("order_validation"))
    book.instrument_id("AAPL", "USD")
    bad = _run(
        book,
        _rec(99),
        _rec(MSG_ORDER, instrument=7),
        _rec(MSG_ORDER, amount=-1),
        _rec(MSG_ORDER, flags=ORDER_HAS_OPERATION | 1 << 15),
        _rec(MSG_COMMIT, ref=12345),
    )
    assert [(r.status, r.reason) for r in bad] == [
        (STATUS_ERROR, K.RSN_BAD_KIND),
        (STATUS_ERROR, K.RSN_BAD_INSTRUMENT),
        (STATUS_ERROR, K.RSN_BAD_AMOUNT),
        (STATUS_ERROR, K.RSN_BAD_FLAGS),
        (STATUS_ERROR, K.RSN_BAD_HANDLE),
    ]
    assert book.describe(bad[1])[:3] == ("Engine", "UnknownInstrument", "unknown instrument")


def test_should_stop_early_when_the_results_buffer_is_full() -> None:
    book = _book(make_spec("order_validation"))
    book.instrument_id("AAPL", "USD")
    records = np.array([_rec(MSG_ORDER, flags=ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT)] * 10,
                       ORDER_DTYPE)
    results = np.zeros(6, RESULT_DTYPE)  # room for 3 (n_policies + 2 = 3 per request)
    assert book.process(stamped(records, book), results, 5) == (4, 4)


def test_should_latch_pnl_blocks_and_engine_kill_switch_from_records() -> None:
    book = _book(make_spec("pnl_bounds_killswitch", broker_barriers=[
        P.PnlBoundsBrokerBarrier("USD", -100)]))
    book.instrument_id("AAPL", "USD")
    rep = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    [blk] = _run(book, _rec(MSG_REPORT, pnl=-101 * S8, flags=rep))
    assert blk.flags & RESULT_BLOCK_LATCHED
    assert book.describe(blk)[1:] == ("PnlKillSwitchTriggered", "pnl kill switch triggered",
                                      "realized pnl -101, settlement asset USD", "account", 0)
    [gate] = _run(book, _rec(MSG_ORDER))
    assert gate.code == CODE_NUMBER["PnlKillSwitchTriggered"] and gate.status == STATUS_REJECTED
    [dry] = _run(book, _rec(MSG_DRY_ORDER, account=2))
    assert dry.flags & RESULT_DRY_RUN and dry.count == 0
    [none] = _run(book, _rec(MSG_REPORT, flags=REPORT_HAS_FINANCIAL))  # no account to block
    assert book.describe(none)[1] == "MissingRequiredField"
    [engine] = _run(book, _rec(MSG_ORDER, account=3))
    assert engine.policy == POLICY_ENGINE
    assert book.describe(engine)[2] == "account is blocked due to kill-switch"
    book.unblock_engine()
    assert _run(book, _rec(MSG_ORDER, account=3))[0].status == STATUS_OK


def test_should_gate_external_group_and_engine_blocks_in_precedence_order() -> None:
    book = _book(make_spec("order_validation"))
    out = np.zeros(3, RESULT_DTYPE)
    assert book.gate(out, 5) == 0
    book.set_group(5, 77)
    book.block_group(77)
    assert book.gate(out, 5) == 1 and Record.of(out[0]).reason == K.RSN_GATE_GROUP
    assert Record.of(out[0]).d[:2] == (5, 77)
    assert book.block_account(5) and not book.block_account(5)  # the first cause wins
    assert book.gate(out, 5) == 1 and Record.of(out[0]).reason == K.RSN_GATE_ACCOUNT
    assert book.describe(out[0]) is None  # the engine holds the text of an external cause
    book.unblock_account(5)
    book.unblock_group(77)
    book.block_engine()
    assert book.gate(out, 5) == 1 and Record.of(out[0]).reason == K.RSN_GATE_ENGINE
    assert book.gate(out, 0, 0) == 1 and Record.of(out[0]).reason == K.RSN_GATE_NO_ACCOUNT
    book.unblock_engine()
    assert book.gate(out, 0, 0) == 0  # without any block, no account is no reason to reject


def test_should_grow_the_arena_without_changing_any_decision() -> None:
    specs = (
        make_spec("rate_limit", account_barriers=[(a, 3, HOUR) for a in range(2_000)]),
        make_spec("pnl_bounds_killswitch", broker_barriers=[P.PnlBoundsBrokerBarrier("USD", -5)]),
    )
    small, big = _book(*specs, reserve_words=1 << 16), _book(*specs, reserve_words=1 << 24)
    recs = []
    for i in range(12_000):
        auto = ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT
        recs.append(_rec(MSG_ORDER, account=i % 3_000, flags=auto))
        recs.append(_rec(MSG_REPORT, account=i % 3_000, pnl=-S8, flags=ORDER_HAS_OPERATION
                         | REPORT_HAS_FINANCIAL))
    for b in (small, big):
        b.instrument_id("AAPL", "USD")
    a, b = _run(small, *recs), _run(big, *recs)
    assert [(r.code, r.reason, r.d) for r in a] == [(r.code, r.reason, r.d) for r in b]
    assert small.state.shape[0] > 1 << 16  # it did grow
    assert small.snapshot(1_000) == big.snapshot(1_000)


def test_should_register_assets_beyond_the_initial_capacity() -> None:
    book = _book(make_spec("rate_limit", asset_barriers=[(f"A{i}", 1, HOUR) for i in range(600)]))
    iid = book.instrument_id("X", "A599")
    out = _run(book, *[_rec(MSG_ORDER, instrument=iid,
                            flags=ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT)] * 2)
    assert [r.status for r in out] == [STATUS_OK, STATUS_REJECTED]
    assert book.describe(out[1])[3] == "submitted 2 orders in 3600s window, max allowed: 1"


def test_should_keep_state_within_512_bytes_per_account() -> None:
    n = 20_000
    book = _book(
        make_spec("order_validation"),
        make_spec("rate_limit", broker=(10**12, HOUR),
                  account_barriers=[(a, 10**9, HOUR) for a in range(n)]),
        make_spec("order_size_limit", broker=P.OrderSizeLimit(max_quantity=1000)),
        make_spec(
            "pnl_bounds_killswitch", broker_barriers=[P.PnlBoundsBrokerBarrier("USD", -(10**9))]
        ),
    )
    book.instrument_id("AAPL", "USD")
    rep = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    _run(book, *[_rec(MSG_ORDER, account=a, flags=ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT)
                 for a in range(n)])
    _run(book, *[_rec(MSG_REPORT, account=a, pnl=S8, flags=rep) for a in range(n)])
    assert book.used_bytes() / n <= 512


def _fork_pushes(shared: np.ndarray, n: int) -> int:
    """In a child: a Book of its own (a shard) on the common ``shared`` array."""
    book = _book(make_spec("rate_limit", broker=(1000, HOUR)))
    book.shared = shared
    book._refresh()
    out = np.zeros(3, RESULT_DTYPE)
    return sum(book.start(out, 1, 0, 0, 1, ORDER_HAS_OPERATION, 0, S8, 1_000, False, 255) == 0
               for _ in range(n))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_should_hold_a_broker_limit_exactly_across_shards_in_two_processes() -> None:
    words = L.shared_words(L.ASSET_CAP_DEFAULT)
    buf = mmap.mmap(-1, words * 8)  # MAP_SHARED | MAP_ANONYMOUS: visible to forked children
    shared = np.frombuffer(buf, dtype=np.int64)
    template = _book(make_spec("rate_limit", broker=(1000, HOUR)))
    shared[:] = template.shared
    shared[L.SH_WRITERS] = 2  # as a 2-worker sharded build writes it: pushes take atomic adds
    _fork_pushes(np.zeros_like(shared), 1)  # compile before forking
    pids, rfds = [], []
    for _ in range(2):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(r)
            os.write(w, str(_fork_pushes(shared, 3_000)).encode())
            os._exit(0)
        os.close(w)
        pids.append(pid)
        rfds.append(r)
    accepted = 0
    for pid, r in zip(pids, rfds):
        os.waitpid(pid, 0)
        accepted += int(os.read(r, 64))
        os.close(r)
    assert accepted == 1000  # 6000 attempts on two shards; exactly max_orders got through
    assert shared[L.SH_BROKER + L.FW_COUNT] == 6000
    assert shared[L.SH_BROKER + L.FW_START] == 1_000  # the first push started the window


def test_should_describe_a_dry_run_that_would_latch_a_block() -> None:
    book = _book(make_spec("pnl_bounds_killswitch", broker_barriers=[
        P.PnlBoundsBrokerBarrier("USD", -1)]))
    u, s = book.asset_id("AAPL"), book.asset_id("USD")
    out = np.zeros(3, RESULT_DTYPE)
    book.apply_report(out, 1, u, s, 1, ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL, -2 * S8, 0,
                      False)
    assert not book.is_account_blocked(1)  # latch=False: the engine decides
    n = book.start(out, 1, u, s, 1, ORDER_HAS_OPERATION, 0, S8, 5, True, 255)
    rec = Record.of(out[0])
    assert n == 1 and rec.latched and rec.dry_run and not book.is_account_blocked(1)
    n = book.start(out, 1, u, s, 1, ORDER_HAS_OPERATION, 0, S8, 5, False, 0)  # a custom came first
    assert n == 1 and not Record.of(out[0]).latched and not book.is_account_blocked(1)
    n = book.start(out, 1, u, s, 1, ORDER_HAS_OPERATION, 0, S8, 5, False, 255)
    assert Record.of(out[0]).latched and book.is_account_blocked(1)
    assert book.block_cause_record(1).code == CODE_NUMBER["AccountBlocked"]


def test_should_validate_the_arena_size_and_scale() -> None:
    with pytest.raises(ValueError, match="scale"):
        _book(make_spec("order_validation"), scale=19)
    with pytest.raises(ValueError, match="log_cap"):
        _book(make_spec("order_validation"), log_cap=3)
    with pytest.raises(ValueError, match="at most once"):
        _book(make_spec("order_validation"), make_spec("order_validation"))





def test_should_keep_one_result_per_request_in_first_only_mode() -> None:
    book = _book(make_spec("order_validation"),
                 make_spec("order_size_limit", broker=P.OrderSizeLimit(max_quantity=0)))
    book.instrument_id("AAPL", "USD")
    auto = ORDER_HAS_OPERATION | ORDER_AUTO_COMMIT
    records = np.array([_rec(MSG_ORDER, amount=0, flags=auto, seq=1),  # passes both
                        _rec(MSG_ORDER, flags=auto, seq=2),  # one reject
                        _rec(MSG_ORDER, flags=0, seq=3)],  # two rejects (no operation)
                       dtype=ORDER_DTYPE)
    results = np.zeros(3 + 4, dtype=RESULT_DTYPE)
    assert book.process(stamped(records, book), results, 5, first_only=True) == (3, 3)
    got = [(int(r["seq"]), int(r["count"]), int(r["index"])) for r in results[:3]]
    assert got == [(1, 1, 0), (2, 1, 0), (3, 2, 0)]


def test_should_find_or_create_many_rows_at_once_as_one_at_a_time_would() -> None:
    keys = np.array([*range(300_000), -1, -(2**63)], dtype=np.int64)  # grows arena, table
    book = _book(make_spec("order_validation"))
    before = book.state.shape[0]
    rows = book.rows_of(L.H_T_ACC, keys, np.zeros_like(keys))
    assert book.state.shape[0] > before
    assert len(set(rows.tolist())) == keys.shape[0] and (rows > 0).all()
    found = [book.find_account_row(int(k) & (2**64 - 1)) for k in keys[::997]]
    assert found == rows[::997].tolist()
    again = book.rows_of(L.H_T_ACC, keys[::-1].copy(), np.zeros_like(keys))
    assert np.array_equal(again, rows[::-1])  # found, not inserted twice
    assert book.table_count("accounts") == keys.shape[0]
