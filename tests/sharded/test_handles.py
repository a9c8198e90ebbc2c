"""Reservation handles of a sharded engine: each names its shard, its client and its worker.

Every reservation is finalized exactly once, and only by its owner (issue 9):

* a handle names its shard: batch finalizations, which carry no account, go to
  that shard, and a shard refuses another shard's handle (defect 7);
* a handle names its client slot: another slot's commit or rollback is refused
  and changes nothing (defect 6);
* a custom-policy worker keeps reservations in its memory: after a restart its
  old handles are refused as lost, never taken for newer reservations, and
  ``commit()`` raises instead of returning as if it had worked (defect 5);
  builtin-only reservations live in the shared arena and are still finalized,
  once, by the restarted worker.

Custom-policy tests observe the worker through ``Ledger``, a policy whose
mutations log ``(order id, commit | rollback)``; a probe order reads the log.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import finalize_records, order_records
from openpit_shm.errors import ReservationLostError, ShardUnavailableError
from openpit_shm.kernels.codes import (
    RSN_BAD_HANDLE,
    RSN_HANDLE_NOT_OWNER,
    RSN_HANDLE_WRONG_SHARD,
)
from openpit_shm.layout.handles import (
    handle_client,
    handle_generation,
    handle_index,
    handle_shard,
    make_handle,
)
from openpit_shm.layout.records import (
    CODE_NUMBER,
    ORDER_DTYPE,
    RESULT_DTYPE,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_TEXT,
)
from openpit_shm.layout.shard import shard_of
from openpit_shm.shm.ring import Ring, RingTimeoutError
from tests.engine.conftest import make_order
from tests.sharded.conftest import c1_builder
from tests.sharded.test_failures import _accounts_of

UNAVAILABLE = CODE_NUMBER["SystemUnavailable"]
#: Per shard of a 2-worker engine: an account that probes the Ledger, and accounts for orders.
PROBES = tuple(int(_accounts_of(k, 2)[-1]) for k in (0, 1))
ACCOUNTS = tuple(tuple(int(a) for a in _accounts_of(k, 2)[10:40]) for k in (0, 1))


class Ledger(op.pretrade.Policy):
    """Accepts every order with a mutation that logs ``(order id, commit | rollback)``.

    The order id is the order's price. An order of a ``PROBES`` account is
    rejected with the log since the last probe as its details (and the log
    restarts): what this worker process finalized, and in which order.
    """

    def __init__(self) -> None:
        self.log: list[tuple[int, str]] = []

    @property
    def name(self) -> str:
        return "Ledger"

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        operation = order.operation
        if operation.account_id.value in PROBES:
            log, self.log = self.log, []
            reject = op.pretrade.PolicyReject(
                code=op.pretrade.RejectCode.OTHER, reason="ledger", details=json.dumps(log)
            )
            return op.pretrade.PolicyPreTradeResult.reject([reject])
        oid = int(Decimal(str(operation.price)))
        mutation = op.Mutation(
            commit=lambda: self.log.append((oid, "commit")),
            rollback=lambda: self.log.append((oid, "rollback")),
        )
        return op.pretrade.PolicyPreTradeResult.accept(mutations=[mutation])


def _order(account: int, oid: int) -> Any:
    """An order of one share of AAPL/USD whose price is its id (what the Ledger logs)."""
    return make_order(op, account=account, qty="1", price=str(oid))


def _probe(engine: Any, shard: int) -> list[tuple[int, str]] | None:
    """The Ledger log of shard ``shard``'s worker since the last probe; None while it is down."""
    report = engine.execute_pre_trade_dry_run(_order(PROBES[shard], 0))
    reject = report.rejects[0]
    if reject.code == "SystemUnavailable":
        return None
    assert reject.policy == "Ledger", reject
    return [(oid, action) for oid, action in json.loads(reject.details)]


def _handle_of(reservation: Any) -> int:
    """The worker-side handle behind a per-order reservation (what a leak would expose)."""
    return inspect.getclosurevars(reservation._remote).nonlocals["handle"]


def _wait_up(engine: Any, shard: int, account: int, timeout: float = 120.0) -> None:
    """Until shard ``shard`` decides again (an order of ``account`` is not SystemUnavailable)."""
    deadline = time.monotonic() + timeout
    while True:
        res = engine.execute_pre_trade_dry_run(_order(account, 1))
        if res.is_pass or res.rejects[0].code != "SystemUnavailable":
            return
        assert time.monotonic() < deadline, f"shard {shard} did not come back"
        time.sleep(0.01)


class ForeignClient:
    """Client slot 1 driven from Python: whatever a C producer on that slot can send."""

    def __init__(self, engine: Any) -> None:
        info = engine.external_client(1)
        self.requests = [Ring.attach(name, dtype=ORDER_DTYPE) for name in info["request"]]
        self.results = [Ring.attach(name, dtype=RESULT_DTYPE) for name in info["result"]]
        self.producers = [ring.producer(timeout=30.0) for ring in self.requests]
        self.consumers = [ring.consumer(timeout=30.0) for ring in self.results]
        self.seq = 0

    def send(self, shard: int, record: np.void, timeout: float = 30.0) -> np.void | None:
        """One request to ``shard``; its first result record, or None after ``timeout``."""
        self.seq += 1
        record = record.copy()
        record["seq"] = self.seq
        self.producers[shard].push(record)
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self.consumers[shard].pop(timeout=max(0.0, deadline - time.monotonic()))
            except RingTimeoutError:
                return None
            if answer["seq"] == self.seq and answer["status"] != STATUS_TEXT:
                while answer["index"] + 1 < answer["count"]:  # skip the rest of its records
                    self.consumers[shard].pop(timeout=30.0)
                return answer

    def finalize(self, shard: int, handle: int, commit: bool, timeout: float = 30.0) -> Any:
        return self.send(shard, finalize_records([handle], commit=commit)[0], timeout)

    def close(self) -> None:
        for ring in self.requests + self.results:
            ring.close()


@pytest.fixture(scope="module")
def builtin_engine() -> Iterator[Any]:
    with c1_builder("account_sync").sharded(workers=2, external_clients=1).build() as engine:
        yield engine


@pytest.fixture(scope="module")
def ledger_engine() -> Iterator[Any]:
    builder = op.Engine.builder().account_sync().pre_trade(Ledger())
    with builder.sharded(workers=2, external_clients=1).build() as engine:
        yield engine


def _open_batch(engine: Any, accounts: list[int], first_oid: int) -> np.ndarray:
    """Open one reservation per account in one batch; their handles (all accepted)."""
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    price = np.arange(first_oid, first_oid + len(accounts)).astype(float)
    got = engine.execute_batch(
        order_records(
            engine,
            units="decimal",
            account=accounts,
            instrument=iid,
            side=1,
            quantity=1.0,
            price=price,
        )
    )
    assert (got["status"] == STATUS_OK).all() and (got["count"] == 0).all()
    return got["reservation"].copy()


# ---- defect 7: a handle names its shard -------------------------------------------------------


@pytest.mark.parametrize("which", ["builtin_engine", "ledger_engine"])
def test_should_finalize_exactly_the_order_each_batch_handle_names(
    which: str, request: pytest.FixtureRequest
) -> None:
    engine = request.getfixturevalue(which)
    a0, a1 = ACCOUNTS[0][0], ACCOUNTS[1][0]
    handles = _open_batch(engine, [a0, a1], 7_001)
    assert [handle_shard(int(h)) for h in handles] == [0, 1]
    assert handles[0] != handles[1]
    # No account in these records: each goes to the shard its handle names.
    back = engine.execute_batch(finalize_records(handles[1:], commit=False))
    assert back["status"].tolist() == [STATUS_OK]
    if which == "ledger_engine":
        assert _probe(engine, 1) == [(7_002, "rollback")]
        assert _probe(engine, 0) == [], "shard 0's reservation was not touched"
    done = engine.execute_batch(finalize_records(handles[:1], commit=True))
    assert done["status"].tolist() == [STATUS_OK]
    again = engine.execute_batch(finalize_records(handles, commit=True))
    assert again["status"].tolist() == [STATUS_ERROR, STATUS_ERROR], "each finalized once"
    if which == "ledger_engine":
        assert _probe(engine, 0) == [(7_001, "commit")] and _probe(engine, 1) == []


@pytest.mark.parametrize("which", ["builtin_engine", "ledger_engine"])
def test_should_refuse_a_handle_sent_to_another_shard(
    which: str, request: pytest.FixtureRequest
) -> None:
    engine = request.getfixturevalue(which)
    iid = engine.register_instrument(op.Instrument("AAPL", "USD"))
    foreign = ForeignClient(engine)
    try:
        mine = []
        for shard in (0, 1):
            rec = order_records(engine, units="decimal", account=ACCOUNTS[shard][1],
                                instrument=iid, side=1, quantity=1,
                                price=7_100 + shard)[0]  # fmt: skip
            got = foreign.send(shard, rec)
            assert got["status"] == STATUS_OK and got["count"] == 0
            mine.append(int(got["reservation"]))
        assert [handle_shard(h) for h in mine] == [0, 1] and {handle_client(h) for h in mine} == {1}
        for shard in (0, 1):  # each handle to the other shard: refused there, untouched
            wrong = foreign.finalize(1 - shard, mine[shard], commit=True)
            assert (wrong["status"], wrong["reason"]) == (STATUS_ERROR, RSN_HANDLE_WRONG_SHARD)
            assert (wrong["d0"], wrong["d1"], wrong["d2"]) == (mine[shard], shard, 1 - shard)
        for shard in (0, 1):
            assert foreign.finalize(shard, mine[shard], commit=False)["status"] == STATUS_OK
            assert foreign.finalize(shard, mine[shard], commit=False)["status"] == STATUS_ERROR
        if which == "ledger_engine":
            assert _probe(engine, 0) == [(7_100, "rollback")]
            assert _probe(engine, 1) == [(7_101, "rollback")]
    finally:
        foreign.close()


# ---- defect 6: a handle names its client ------------------------------------------------------


def _refusal(handle: int, shard: int) -> int:
    """Why shard ``shard`` refuses ``handle`` from client slot 1, which holds no live handle."""
    if handle <= 0:
        return RSN_BAD_HANDLE
    if handle_shard(handle) != shard:
        return RSN_HANDLE_WRONG_SHARD
    return RSN_HANDLE_NOT_OWNER if handle_client(handle) != 1 else RSN_BAD_HANDLE


def _forgeries(handle: int) -> list[tuple[int, int]]:
    """(handle, expected refusal) a client on slot 1 might try on slot 0's ``handle``."""
    shard, gen, index = handle_shard(handle), handle_generation(handle), handle_index(handle)
    tries = [
        handle,  # the owner's handle, leaked
        make_handle(shard, 1, gen, index),  # its own slot number forged in
        index,  # a bare table index (what handles were before they named their owner)
        handle & 0xFFFF_FFFF,
        index | gen << 32,
    ]
    return [(h, _refusal(h, shard)) for h in tries]


@pytest.mark.parametrize("which", ["builtin_engine", "ledger_engine"])
def test_should_refuse_another_clients_finalization_and_still_finalize_for_the_owner(
    which: str, request: pytest.FixtureRequest
) -> None:
    engine = request.getfixturevalue(which)
    handles = _open_batch(engine, [ACCOUNTS[0][2], ACCOUNTS[1][2]], 7_201)
    foreign = ForeignClient(engine)
    try:
        for h in handles:
            shard = handle_shard(int(h))
            for forged, reason in _forgeries(int(h)):
                for commit in (False, True):
                    got = foreign.finalize(shard, forged, commit)
                    assert (got["status"], got["reason"]) == (STATUS_ERROR, reason), hex(forged)
    finally:
        foreign.close()
    if which == "ledger_engine":
        assert _probe(engine, 0) == [] and _probe(engine, 1) == [], "nothing was finalized"
    done = engine.execute_batch(finalize_records(handles, commit=True))
    assert done["status"].tolist() == [STATUS_OK, STATUS_OK], "the owner still finalizes"
    again = engine.execute_batch(finalize_records(handles, commit=False))
    assert again["status"].tolist() == [STATUS_ERROR, STATUS_ERROR]
    if which == "ledger_engine":
        assert _probe(engine, 0) == [(7_201, "commit")] and _probe(engine, 1) == [(7_202, "commit")]


def test_should_refuse_another_client_a_per_order_reservation(ledger_engine: Any) -> None:
    res = ledger_engine.execute_pre_trade(_order(ACCOUNTS[1][3], 7_301))
    assert res.ok
    handle = _handle_of(res.reservation)
    foreign = ForeignClient(ledger_engine)
    try:
        got = foreign.finalize(1, handle, commit=False)
        assert (got["status"], got["reason"]) == (STATUS_ERROR, RSN_HANDLE_NOT_OWNER)
    finally:
        foreign.close()
    res.reservation.commit()  # the owner's commit after the foreign attempt: exactly once
    assert _probe(ledger_engine, 1) == [(7_301, "commit")]
    with pytest.raises(RuntimeError, match="already been finalized"):
        res.reservation.rollback()


# ---- defect 5: a handle names its worker ------------------------------------------------------


def test_should_refuse_a_custom_reservation_from_before_a_restart_not_take_a_newer_one() -> None:
    builder = op.Engine.builder().account_sync().pre_trade(Ledger())
    with builder.sharded(workers=2).build() as engine:
        x, y = ACCOUNTS[0][4], ACCOUNTS[0][5]
        old = engine.execute_pre_trade(_order(y, 1))
        assert old.ok
        pid = engine.workers[0]
        os.kill(pid, signal.SIGKILL)
        _wait_up(engine, 0, x)
        assert engine.workers[0] != pid
        new = engine.execute_pre_trade(_order(x, 2))
        assert new.ok
        assert _handle_of(new.reservation) != _handle_of(old.reservation)
        with pytest.raises(ReservationLostError, match="shard 0"):
            old.reservation.commit()
        assert _probe(engine, 0) == [], "the newer reservation was not touched"
        new.reservation.rollback()
        assert _probe(engine, 0) == [(2, "rollback")]


@dataclass
class _Held:
    """One reservation the test took, and what happened to it."""

    oid: int
    reservation: Any
    handle: int
    created_by: int | None  #: the worker pid that accepted it, when certain
    action: str = ""
    asked_of: int = 0  #: the worker pid serving the shard when the owner finalized
    finalized_by: int | None = None  #: the worker pid that finalized it, when certain
    raised: BaseException | None = None


def _served_by(engine: Any, call: Any) -> tuple[Any, int | None]:
    """``call()`` and the pid of the worker that served it (None if a restart overlapped)."""
    before = engine.workers[0]
    value = call()
    return value, before if engine.workers[0] == before else None


# Until a killed custom-policy worker's in-flight records are answered at once (issue 9,
# defect 10), a request the worker took and died on is answered by the client's timeout:
# its outcome is unknown to the caller, like a lost reservation's, and the test allows both.
_KILL_TEST_TIMEOUT = 3.0


def _take(engine: Any, account: int, oid: int) -> _Held | None:
    try:
        res, pid = _served_by(engine, lambda: engine.execute_pre_trade(_order(account, oid)))
    except ShardUnavailableError:
        return None  # the worker died on it
    if not res.ok:
        return None  # SystemUnavailable: the worker was down
    return _Held(oid, res.reservation, _handle_of(res.reservation), pid)


def _finalize(engine: Any, h: _Held, action: str) -> None:
    h.action, h.asked_of = action, engine.workers[0]
    try:
        _, h.finalized_by = _served_by(engine, getattr(h.reservation, action))
    except ShardUnavailableError as exc:  # ReservationLostError, or the worker died on it
        h.raised = exc


@pytest.mark.slow  # several worker restarts
def test_should_finalize_every_custom_reservation_once_and_only_by_its_owner_across_kills() -> None:
    """Random kills while reservations are taken, finalized, and attacked from slot 1.

    Invariants, checked against the worker's own log after every round:
    * a logged finalization is one the owner asked for, with that action, and
      whose call returned normally; no reservation is logged twice;
    * a reservation taken and finalized by the worker still serving is logged;
    * finalizing a reservation whose worker had been replaced raises
      ``ReservationLostError``, and no worker finalizes what another one took;
    * slot 1 never finalizes anything of slot 0's.
    """
    rng = random.Random(9_005)
    builder = op.Engine.builder().account_sync().pre_trade(Ledger())
    accounts = list(ACCOUNTS[0] + ACCOUNTS[1])
    sharded = builder.sharded(workers=1, external_clients=1, timeout=_KILL_TEST_TIMEOUT)
    with sharded.build() as engine:
        foreign = ForeignClient(engine)
        held: list[_Held] = []
        open_: list[_Held] = []
        logged: dict[int, str] = {}
        foreign_ok = 0
        try:
            for round_ in range(6):
                killer = None
                if round_ < 5:  # the last round runs without a kill: everything must log
                    kill = (engine.workers[0], signal.SIGKILL)
                    killer = threading.Timer(rng.uniform(0.0, 0.05), os.kill, kill)
                    killer.start()
                for _ in range(60 if killer is not None else 120):
                    step = rng.random()
                    if step < 0.45 or not open_:
                        h = _take(engine, rng.choice(accounts), 100 + len(held))
                        if h is not None:
                            held.append(h)
                            open_.append(h)
                    elif step < 0.85:
                        h = open_.pop(rng.randrange(len(open_)))
                        _finalize(engine, h, rng.choice(["commit", "rollback"]))
                    else:  # slot 1 tries a handle of slot 0's (leaked or forged)
                        forged, _ = rng.choice(_forgeries(rng.choice(held).handle))
                        got = foreign.finalize(0, forged, rng.random() < 0.5, _KILL_TEST_TIMEOUT)
                        foreign_ok += int(got is not None and got["status"] == STATUS_OK)
                if killer is not None:
                    killer.join()
                _wait_up(engine, 0, accounts[0])
                serving = engine.workers[0]
                entries = _probe(engine, 0)
                assert entries is not None and engine.workers[0] == serving
                _check_round(held, entries, logged, serving)
            assert foreign_ok == 0, "slot 1 finalized a reservation of slot 0's"
            lost = [h for h in held if isinstance(h.raised, ReservationLostError)]
            assert lost, "some reservations were lost with their worker"
            checked = [h for h in held if h.created_by == h.finalized_by == serving]
            assert len(checked) > 10, "and the last worker's were finalized and logged"
        finally:
            foreign.close()


def _check_round(
    held: list[_Held], entries: list[tuple[int, str]], logged: dict[int, str], serving: int
) -> None:
    by_oid = {h.oid: h for h in held}
    for oid, action in entries:
        assert oid not in logged, f"reservation {oid} finalized twice"
        logged[oid] = action
        h = by_oid.get(oid)
        assert h is not None and h.action == action, f"{oid} {action}: not what its owner asked"
        assert h.raised is None, f"{oid} was finalized, yet its owner was told it was lost"
    for h in held:
        if not h.action or h.created_by is None:
            continue
        if h.asked_of != h.created_by:
            assert h.raised is not None, f"{h.oid}: its worker was gone, yet it returned"
        if h.finalized_by is not None:
            assert h.finalized_by == h.created_by, f"{h.oid}: finalized by another worker"
            if h.finalized_by == serving:
                assert logged.get(h.oid) == h.action, f"{h.oid}: finalized, not logged"


# ---- builtin-only reservations live in the arena and survive a restart -----------------------


@pytest.mark.slow  # several worker restarts
def test_should_finalize_builtin_reservations_once_by_their_owner_after_restarts() -> None:
    rng = np.random.default_rng(9_006)
    with c1_builder("account_sync").sharded(workers=2, external_clients=1).build() as engine:
        iid = engine.register_instrument(op.Instrument("S000", "USD"))
        foreign = ForeignClient(engine)
        try:
            for round_ in range(3):
                accounts = rng.choice(np.arange(1_000, 5_000), 120, replace=False)
                orders = order_records(
                    engine,
                    units="decimal",
                    account=accounts,
                    instrument=iid,
                    side=1,
                    quantity=1.0,
                    price=5.0,
                )
                got = engine.execute_batch(orders)
                assert (got["status"] == STATUS_OK).all()
                handles = got["reservation"].copy()
                shards = [shard_of(int(a), 2) for a in accounts]
                assert [handle_shard(int(h)) for h in handles] == shards
                victim = int(rng.integers(2))
                pid = engine.workers[victim]
                os.kill(pid, signal.SIGKILL)
                time.sleep(float(rng.uniform(0.0, 0.05)))
                probe = int(next(a for a in accounts if shard_of(int(a), 2) == victim))
                _wait_up_builtin(engine, probe, iid)
                assert engine.workers[victim] != pid
                for h in rng.choice(handles, 12, replace=False):
                    for forged, reason in _forgeries(int(h)):
                        answer = foreign.finalize(handle_shard(int(h)), forged, bool(h & 1))
                        assert (answer["status"], answer["reason"]) == (STATUS_ERROR, reason)
                order = rng.permutation(len(handles))
                commit = rng.random(len(handles)) < 0.5
                for part in np.array_split(order, 3):
                    commits = finalize_records(handles[part[commit[part]]], commit=True)
                    rollbacks = finalize_records(handles[part[~commit[part]]], commit=False)
                    done = engine.execute_batch(np.concatenate([commits, rollbacks]))
                    assert (done["status"] == STATUS_OK).all(), f"round {round_}: not finalized"
                again = engine.execute_batch(finalize_records(handles, commit=bool(round_ & 1)))
                assert (again["status"] == STATUS_ERROR).all(), "finalized twice"
                assert set(again["reason"].tolist()) == {RSN_BAD_HANDLE}
        finally:
            foreign.close()


def _wait_up_builtin(engine: Any, account: int, iid: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    rec = order_records(engine, units="decimal", account=account, instrument=iid, side=1,
                        quantity=1, price=5, auto_commit=True)  # fmt: skip
    while engine.execute_batch(rec)["code"][0] == UNAVAILABLE:
        assert time.monotonic() < deadline, "the shard did not come back"
        time.sleep(0.01)
