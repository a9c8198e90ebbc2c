"""What each shard owns: its accounts, its one arena, and its share of the shared windows.

A record routed to a shard that does not own its account is refused, not
decided: otherwise a producer that routes wrongly would give an account a
second, independent set of limits on another shard (40 + 40 orders accepted
under a 40/h account limit). Both worker paths refuse it: the kernels and the
object path of engines with custom policies.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records
from openpit_shm.builtins.record import Record
from openpit_shm.kernels.codes import RSN_WRONG_SHARD
from openpit_shm.layout.records import (
    CODE_NUMBER,
    ORDER_DTYPE,
    POLICY_ENGINE,
    RESULT_DTYPE,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from openpit_shm.layout.shard import shard_of
from openpit_shm.shm.ring import Ring
from tests.sharded.conftest import PassThrough, c1_builder

ACCOUNT = 3  # c1_builder gives it a 40-per-hour account rate limit


def _exchange(client: dict, shard: int, records: np.ndarray) -> np.ndarray:
    """Push ``records`` into ``shard``'s request ring of an external slot; one result each."""
    req = Ring.attach(client["request"][shard], dtype=ORDER_DTYPE)
    res = Ring.attach(client["result"][shard], dtype=RESULT_DTYPE)
    try:
        assert req.producer().push_batch(records, timeout=5.0) == len(records)
        consumer = res.consumer()
        out = np.empty(res.capacity, dtype=RESULT_DTYPE)
        got: list[np.ndarray] = []
        deadline = time.monotonic() + 20
        while sum(len(g) for g in got) < len(records):
            n = consumer.pop_batch(out, timeout=0.05)
            got.append(out[:n].copy())
            assert time.monotonic() < deadline, "every record is answered"
        return np.concatenate(got)
    finally:
        req.close()
        res.close()


@pytest.mark.parametrize("custom", [False, True], ids=["kernels", "object-path"])
def test_should_refuse_a_record_routed_to_a_shard_that_does_not_own_its_account(
    custom: bool,
) -> None:
    builder = c1_builder("account_sync")
    if custom:
        builder = builder.pre_trade(PassThrough())
    with builder.sharded(workers=2, external_clients=1).build() as engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        client = engine.external_client(1)
        home = shard_of(ACCOUNT, 2)
        orders = order_records(engine, account=np.full(40, ACCOUNT), instrument=iid, side=1,
                               quantity=1, price=10, units="decimal",
                               auto_commit=True)  # fmt: skip
        orders["seq"] = np.arange(1, 41)

        wrong = _exchange(client, 1 - home, orders)
        assert (wrong["status"] == STATUS_ERROR).all()
        assert (wrong["code"] == CODE_NUMBER["InvalidFieldValue"]).all()
        assert (wrong["policy"] == POLICY_ENGINE).all()
        assert (wrong["reason"] == RSN_WRONG_SHARD).all()
        assert wrong["seq"].tolist() == orders["seq"].tolist()
        assert (wrong["d0"] == ACCOUNT).all() and (wrong["d1"] == home).all()
        assert (wrong["d2"] == 1 - home).all()
        policy, code, reason, details, _, _ = engine._replica.describe(Record.at(wrong, 0))
        assert (policy, code, reason) == ("Engine", "InvalidFieldValue",
                                          "account routed to the wrong shard")  # fmt: skip
        assert details == f"account {ACCOUNT} belongs to shard {home}, not shard {1 - home}"

        # The refused records touched nothing: the owner still grants the whole limit.
        right = _exchange(client, home, orders)
        assert (right["status"] == STATUS_OK).all()
        one_more = _exchange(client, home, orders[:1])
        assert one_more["status"][0] == STATUS_REJECTED
        assert one_more["code"][0] == CODE_NUMBER["RateLimitExceeded"]


def test_should_route_every_door_of_the_client_to_the_owner() -> None:
    """The engine's own doors never trip the check (per order and batches, both shards)."""
    with c1_builder("account_sync").sharded(workers=2).build() as engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        accounts = np.arange(1, 400)
        batch = order_records(engine, account=accounts, instrument=iid, side=1, quantity=1,
                              price=10, units="decimal", auto_commit=True)  # fmt: skip
        out = engine.execute_batch(batch)
        assert (out["reason"] != RSN_WRONG_SHARD).all() and (out["status"] != STATUS_ERROR).all()
        order = op.Order(operation=op.OrderOperation(
            instrument=op.Instrument("S000", "USD"), account_id=op.param.AccountId.from_int(401),
            side=op.param.Side.BUY, trade_amount=op.param.TradeAmount.quantity("1"),
            price=op.param.Price("10")))  # fmt: skip
        assert engine.execute_pre_trade(order).ok


@pytest.mark.parametrize("workers", [1, 2])
def test_should_tell_each_arena_its_shard_and_the_shared_windows_their_writers(
    workers: int,
) -> None:
    """Shard ids drive the routing check; more than one writer makes window adds atomic."""
    from openpit_shm.layout.state import H_N_SHARDS, H_SHARD_ID, SH_WRITERS
    from openpit_shm.sharded.topology import segment_array

    with c1_builder("account_sync").sharded(workers=workers).build() as engine:
        topology = engine._topology
        assert segment_array(topology.shared)[SH_WRITERS] == workers
        for k, seg in enumerate(topology.state):
            arena = segment_array(seg)
            assert (arena[H_SHARD_ID], arena[H_N_SHARDS]) == (k, workers)
    in_process = c1_builder("no_sync").build()
    assert in_process._book.shared[SH_WRITERS] == 1


def test_should_keep_one_state_segment_per_shard_when_an_arena_grows_while_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Arenas that outgrow their first segment at build time grow it in place (C1-1M did
    this with a million account barriers, and shard 1's worker attached shard 0's arena)."""
    import datetime

    from openpit_shm.builtins.book import Book
    from openpit_shm.layout.state import H_SHARD_ID
    from openpit_shm.sharded.topology import segment_array
    from tests.sharded.conftest import shm_entries

    create = Book.create.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(Book, "create", classmethod(
        lambda cls, *a, **kw: create(cls, *a, **{**kw, "reserve_words": 1 << 12})))  # fmt: skip
    pol = op.pretrade.policies
    per_account = pol.build_rate_limit().account_barriers(*[
        pol.RateLimitAccountBarrier(pol.RateLimit(2, datetime.timedelta(hours=1)),
                                    op.param.AccountId.from_int(a))
        for a in range(3000)
    ])  # fmt: skip
    before = shm_entries()
    builder = op.Engine.builder().account_sync().builtin(per_account)
    with builder.sharded(workers=2).build() as engine:
        topology = engine._topology
        assert len(topology.state) == 2
        for k, seg in enumerate(topology.state):
            assert segment_array(seg)[H_SHARD_ID] == k
            assert seg.size > 8 * (1 << 12), "the arena grew at build time"
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        accounts = np.repeat(np.arange(0, 3000, 7), 3)
        got = engine.execute_batch(order_records(
            engine, account=accounts, instrument=iid, side=1, quantity=1, price=1,
            units="decimal", auto_commit=True))  # fmt: skip
        # Every account has 2 per hour: its third order is the only reject.
        want = np.tile([STATUS_OK, STATUS_OK, STATUS_REJECTED], len(accounts) // 3)
        order = np.argsort(accounts, kind="stable")
        assert got["status"][order].tolist() == want.tolist()
    assert shm_entries() <= before


def test_should_install_only_its_own_accounts_barriers_in_each_shard_and_still_enforce_them(
) -> None:
    """Each arena holds rows for its own accounts only (half the build and memory with 2
    shards); every account, whichever its shard, keeps its exact limits. Accounts above
    2**63 check the u64 keys."""
    import datetime

    from openpit_shm.layout.state import H_T_AA, H_T_ACC, TB_COUNT
    from openpit_shm.pretrade import policies as pol
    from openpit_shm.sharded.topology import segment_array

    accounts = [*range(100, 140), 2**64 - 5, 2**63 + 7]
    aid = op.param.AccountId.from_int
    rate = pol.build_rate_limit().account_barriers(*[
        pol.RateLimitAccountBarrier(pol.RateLimit(2, datetime.timedelta(hours=1)), aid(a))
        for a in accounts
    ])  # fmt: skip
    size = pol.build_order_size_limit().account_asset_barriers(*[
        pol.OrderSizeAccountAssetBarrier(
            pol.OrderSizeLimit(max_quantity=op.param.Quantity(5)), aid(a), "S000")
        for a in accounts
    ])  # fmt: skip
    builder = op.Engine.builder().account_sync().sharded(workers=2)
    with builder.builtin(rate).builtin(size).build() as engine:
        for k, seg in enumerate(engine._topology.state):
            arena = segment_array(seg)
            mine = sum(shard_of(a, 2) == k for a in accounts)
            assert 0 < mine < len(accounts)
            assert arena[arena[H_T_ACC] + TB_COUNT] == mine
            assert arena[arena[H_T_AA] + TB_COUNT] == mine

        def order(account: int, qty: int) -> op.Order:
            return op.Order(operation=op.OrderOperation(
                instrument=op.Instrument("S000", "USD"), account_id=aid(account),
                side=op.param.Side.BUY, trade_amount=op.param.TradeAmount.quantity(str(qty)),
                price=op.param.Price("10")))  # fmt: skip

        code = op.pretrade.RejectCode
        for a in accounts:
            too_big = engine.execute_pre_trade(order(a, 6))  # counts as an attempt
            assert [r.code for r in too_big.rejects] == [code.ORDER_QTY_EXCEEDS_LIMIT]
            assert engine.execute_pre_trade(order(a, 5)).ok
            third = engine.execute_pre_trade(order(a, 1))
            assert [r.code for r in third.rejects] == [code.RATE_LIMIT_EXCEEDED]
        assert engine.execute_pre_trade(order(99, 1000)).ok  # no barrier, no limit


@pytest.mark.parametrize("owner_shard", [0, 1])
def test_should_demand_an_account_on_every_shard_even_where_no_barrier_account_lives(
    owner_shard: int,
) -> None:
    """Account barriers make the account a required field (MissingRequiredField) on every
    shard, also on one that owns none of the barrier accounts, and after a worker restart
    re-read the arena."""
    import datetime
    import os
    import signal

    from openpit_shm.pretrade import policies as pol

    account = next(a for a in range(1, 100) if shard_of(a, 2) == owner_shard)
    rate = pol.build_rate_limit().account_barriers(pol.RateLimitAccountBarrier(
        pol.RateLimit(5, datetime.timedelta(hours=1)), op.param.AccountId.from_int(account)))
    size = pol.build_order_size_limit().account_asset_barriers(pol.OrderSizeAccountAssetBarrier(
        pol.OrderSizeLimit(max_quantity=op.param.Quantity(5)), op.param.AccountId.from_int(account),
        "S000"))  # fmt: skip
    no_account = op.Order(operation=op.OrderOperation(
        instrument=op.Instrument("S000", "USD"), side=op.param.Side.BUY, account_id=None,
        trade_amount=op.param.TradeAmount.quantity("1"), price=op.param.Price("10")))  # fmt: skip
    in_process = op.Engine.builder().no_sync().builtin(rate).builtin(size).build()
    want = [(r.policy, r.code, r.reason) for r in in_process.execute_pre_trade(no_account).rejects]
    assert want and all(code == "MissingRequiredField" for _, code, _ in want)
    builder = op.Engine.builder().account_sync().sharded(workers=2)
    with builder.builtin(rate).builtin(size).build() as engine:
        got = [(r.policy, r.code, r.reason) for r in engine.execute_pre_trade(no_account).rejects]
        assert got == want
        for pid in engine.workers:  # the restarted workers re-read their arenas
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rejects = engine.execute_pre_trade(no_account).rejects
            if rejects and rejects[0].code != "SystemUnavailable":
                break
            time.sleep(0.05)
        got = [(r.policy, r.code, r.reason) for r in engine.execute_pre_trade(no_account).rejects]
        assert got == want
