"""The sharded client's link: one descriptor, one record written with ``ORDER_STRUCT``.

No worker here: the test plays the shard, reading the request ring and
writing the result ring itself, so it sees exactly the record the link sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from openpit_shm.errors import EngineClosedError, ShardUnavailableError
from openpit_shm.kernels.ring import idle_backoff
from openpit_shm.layout.link import (
    LINK_RECORD_OFFSET,
    LINK_W_CANCEL,
    LINK_W_CAPACITY,
    LINK_W_OUT,
    LINK_W_OUT_ROWS,
    LINK_W_RECORD,
    LINK_W_TIMEOUT_NS,
    LINK_WORDS,
    RINGS_W_REQ_CTRL,
    RINGS_W_REQ_SLOTS,
    RINGS_W_RES_CTRL,
    RINGS_W_RES_SLOTS,
)
from openpit_shm.layout.records import (
    MSG_COMMIT,
    MSG_ORDER,
    MSG_ROLLBACK,
    ORDER_STRUCT,
    RESULT_DTYPE,
    SIDE_SELL,
    STATUS_OK,
    STATUS_REJECTED,
    pack_head,
    pack_word2,
)
from openpit_shm.sharded.link import ShardLink
from openpit_shm.shm.ring import Ring

_TIMEOUT = 0.2  # (how long a call waits without progress: a bound, never asserted)


@pytest.fixture()
def rings() -> Iterator[tuple[Ring, Ring]]:
    with Ring.create(4) as request, Ring.create(4, dtype=RESULT_DTYPE) as result:
        yield request, result


def _link(rings: tuple[Ring, Ring], cancel: np.ndarray | None = None) -> ShardLink:
    request, result = rings
    cancel = np.zeros(1, np.int64) if cancel is None else cancel
    return ShardLink(request, result, idle_backoff(0, 100, 1_000_000), _TIMEOUT, cancel)


def _answer(result: Ring, seq: int, reservation: int, status: int, d0: int = 0) -> None:
    """What a worker writes: one result record (count 0 if accepted, else 1 reject)."""
    count = 0 if status == STATUS_OK else 1
    head = pack_head(0 if status == STATUS_OK else 20, 0, 0, status, 0, count, 0)
    rec = np.zeros(8, np.int64)
    rec[:4] = (seq, reservation, head, d0)
    result.producer().push(rec.view(RESULT_DTYPE)[0])


def test_should_describe_the_rings_out_and_close_flag_by_address(rings):
    request, result = rings
    cancel = np.zeros(1, np.int64)
    link = _link(rings, cancel)
    desc = link.desc
    assert desc.shape == (LINK_WORDS,)
    assert desc[RINGS_W_REQ_CTRL] == request.ctrl.ctypes.data
    assert desc[RINGS_W_REQ_SLOTS] == request.slots.ctypes.data
    assert desc[RINGS_W_RES_CTRL] == result.ctrl.ctypes.data
    assert desc[RINGS_W_RES_SLOTS] == result.slots.ctypes.data
    assert desc[LINK_W_CAPACITY] == 4
    assert desc[LINK_W_OUT] == link.out.ctypes.data
    assert desc[LINK_W_OUT_ROWS] == link.out.shape[0]
    assert desc[LINK_W_CANCEL] == cancel.ctypes.data
    assert desc[LINK_W_TIMEOUT_NS] == int(_TIMEOUT * 1e9)
    assert LINK_RECORD_OFFSET == LINK_W_RECORD * 8


def test_should_send_the_record_it_packed_and_take_only_its_own_answer(rings):
    request, result = rings
    link = _link(rings)
    link.seq = 7
    account = -(2**63) + 5  # a u64 id above 2**63, as the record's int64 holds it
    flags = 0xC003  # (high flag bits: word 2 is negative as an int64)
    # An abandoned request's late answer (seq 6, accepted: its reservation needs a
    # rollback) arrives before the answer to ours.
    _answer(result, 6, reservation=4242, status=STATUS_OK)
    sent: list[np.ndarray] = []

    def shard() -> None:
        rec = request.consumer(timeout=10).pop()
        sent.append(np.frombuffer(rec.tobytes(), np.int64).copy())
        _answer(result, int(rec["seq"]), reservation=0, status=STATUS_REJECTED, d0=99)

    worker = threading.Thread(target=shard)
    worker.start()
    rows, payload = link.exchange(account, 3, MSG_ORDER, SIDE_SELL, flags, 11, 22, 33, 44, 55)
    worker.join()
    expected = bytearray(64)
    ORDER_STRUCT.pack_into(expected, 0, 7, account, 3, MSG_ORDER, SIDE_SELL, flags, 11, 22, 33,
                           44, 55)  # fmt: skip
    assert sent[0].tobytes() == bytes(expected)
    assert sent[0][2] == pack_word2(3, MSG_ORDER, SIDE_SELL, flags)
    assert [(r.seq, r.status, r.d[0]) for r in rows] == [(7, STATUS_REJECTED, 99)]
    assert payload is None
    assert link.retry == [(4242, False)] and link.rolled_back == 1
    assert link.seq == 8


def test_should_push_a_deferred_finalization_through_the_descriptor(rings):
    request, _ = rings
    link = _link(rings)
    link.retry.append((1234, True))
    link.send_retries()
    link.send_finalization(5678, False)
    consumer = request.consumer()
    got = [consumer.pop(timeout=1) for _ in range(2)]
    assert [(int(r["seq"]), int(r["kind"]), int(r["ref"])) for r in got] == [
        (1, MSG_COMMIT, 1234),
        (2, MSG_ROLLBACK, 5678),
    ]
    assert link.unsettled == {1: (1234, True), 2: (5678, False)}
    assert not link.retry


def test_should_keep_a_finalization_queued_when_the_ring_stays_full(rings):
    link = _link(rings)
    for handle in range(4):  # nobody reads the request ring: 4 slots fill it
        link.send_finalization(100 + handle, True)
    with pytest.raises(ShardUnavailableError, match="request ring stayed full"):
        link.send_finalization(999, False)
    assert link.retry == [(999, False)], "never lost: it goes out ahead of the next message"
    assert 999 not in [h for h, _ in link.unsettled.values()]


def test_should_give_up_on_a_silent_shard_and_when_closing(rings):
    cancel = np.zeros(1, np.int64)
    link = _link(rings, cancel)
    with pytest.raises(ShardUnavailableError, match="no answer"):
        link.exchange(1, 0, MSG_ORDER, 0, 0, 0, 0, 0, 0, 0)  # sent, never answered
    for _ in range(3):
        link.send_finalization(7, True)  # the ring is full now
    cancel[0] = 1
    with pytest.raises(EngineClosedError):
        link.exchange(1, 0, MSG_ORDER, 0, 0, 0, 0, 0, 0, 0)
