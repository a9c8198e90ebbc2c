"""Records whose operation lacks a field (ORDER_NO_ACCOUNT / NO_AMOUNT / NO_SIDE): batch door.

The object door's differential test against openpit is
``tests/differential/test_missing_fields_vs_openpit.py``; here the same rows
go through ``Book.process`` as flagged records and must decide and read
exactly as ``Book.start`` does, flagged words are never validated, and the
request/report message kinds carry "no account" through to their gates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import openpit_shm
from openpit_shm.builtins.book import Book
from openpit_shm.builtins.record import Record
from openpit_shm.builtins.specs import make_spec
from openpit_shm.engine.rows import RowMaker
from openpit_shm.kernels import codes as K
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_DRY_START,
    MSG_EXECUTE,
    MSG_ORDER,
    MSG_REPORT,
    MSG_START,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    ORDER_NO_SIDE,
    POLICY_ENGINE,
    REPORT_HAS_FINANCIAL,
    REPORT_NO_ACCOUNT,
    RESULT_DTYPE,
    SIDE_BUY,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from tests.records import stamped

S8 = 10**8
HOUR = 3600 * 10**9
ACCOUNT = 7
MISSING = ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT | ORDER_NO_AMOUNT | ORDER_NO_SIDE


def _specs() -> list[Any]:
    from openpit_shm.param import Pnl, Quantity, Volume
    from openpit_shm.pretrade.policies import OrderSizeLimit, PnlBoundsBrokerBarrier

    return [
        make_spec("order_validation"),
        make_spec("rate_limit", broker=(10, HOUR), account_barriers=[(ACCOUNT, 10, HOUR)]),
        make_spec(
            "order_size_limit",
            asset_barriers=[(OrderSizeLimit(max_quantity=Quantity(100)), "AAPL"),
                            (OrderSizeLimit(max_notional=Volume(100)), "USD")],
            account_asset_barriers=[(OrderSizeLimit(max_quantity=Quantity(1)), ACCOUNT, "MSFT")],
        ),
        make_spec("pnl_bounds_killswitch",
                  broker_barriers=[PnlBoundsBrokerBarrier("USD", Pnl(-1))]),
    ]  # fmt: skip


def _book() -> Book:
    specs = _specs()
    book = Book.create(list(enumerate(specs)), n_policies=len(specs))
    book.instrument_id("AAPL", "USD")
    return book


def _rec(kind: int, flags: int, account: int = ACCOUNT, side: int = SIDE_BUY,
         amount: int = 5 * S8, price: int = 10 * S8, ref: int = 0, pnl: int = 0) -> np.void:
    r = np.zeros(1, ORDER_DTYPE)[0]
    r["account"], r["instrument"], r["kind"], r["side"] = account, 0, kind, side
    r["flags"], r["amount"], r["price"], r["ref"], r["pnl"] = flags, amount, price, ref, pnl
    return r


def _run(book: Book, *recs: np.void) -> list[Record]:
    results = np.zeros(len(recs) * 8, RESULT_DTYPE)
    done, written = book.process(stamped(np.array(list(recs), ORDER_DTYPE), book), results, 1_000)
    assert done == len(recs)
    return [Record.of(x) for x in results[:written]]


def _texts(book: Book, recs: list[Record]) -> list[tuple | None]:
    """Texts of each reject record; None for the record of an accepted request."""
    return [book.describe(r) if r.count else None for r in recs]


def _order(missing: str, price: str | None, volume: bool) -> Any:
    p = openpit_shm.param
    amount = None if "amount" in missing else (
        p.TradeAmount.volume(p.Volume(50)) if volume else p.TradeAmount.quantity(p.Quantity(5))
    )  # fmt: skip
    return openpit_shm.Order(operation=openpit_shm.OrderOperation(
        instrument=openpit_shm.Instrument("AAPL", "USD"),
        side=None if "side" in missing else p.Side.BUY, trade_amount=amount,
        account_id=None if "account" in missing else p.AccountId.from_int(ACCOUNT), price=price,
    ))  # fmt: skip


@pytest.mark.parametrize("missing", ["account", "amount", "side", "account amount side"])
@pytest.mark.parametrize(("price", "volume"), [("10", False), (None, False), (None, True)])
def test_should_decide_flagged_records_exactly_as_the_object_door(
    missing: str, price: str | None, volume: bool
) -> None:
    objects, batch = _book(), _book()
    row = RowMaker(objects).order(_order(missing, price, volume))
    account, _, _, side, flags, px, amount = row
    for flag, word in (("account", ORDER_NO_ACCOUNT), ("amount", ORDER_NO_AMOUNT),
                       ("side", ORDER_NO_SIDE)):  # fmt: skip
        assert bool(flags & word) == (flag in missing)
    out = np.zeros(8, RESULT_DTYPE)
    for _ in range(3):  # the third attempt also meets the rate limit's counters
        n = objects.start(out, *row, 1_000, False, 255, True)
        want = [objects.describe(Record.of(out[i])) for i in range(n)]
        got = _run(batch, _rec(MSG_ORDER, flags, account=account, side=side, amount=amount,
                               price=px))  # fmt: skip
        assert _texts(batch, got) == (want or [None])
    assert batch.snapshot(1_000) == objects.snapshot(1_000)


def test_should_never_validate_a_word_its_flag_marks_missing() -> None:
    book = _book()
    garbage = {"side": 0, "amount": -1, "account": 99}
    flagged = _run(book, _rec(MSG_DRY_START, MISSING, **garbage))
    assert [(r.status, r.reason, r.d[0]) for r in flagged] == [
        (STATUS_REJECTED, K.RSN_MISSING_FIELD, K.FIELD_TRADE_AMOUNT),  # order validation
        (STATUS_REJECTED, K.RSN_MISSING_FIELD, K.FIELD_ACCOUNT),  # rate limit: account axis
        (STATUS_REJECTED, K.RSN_MISSING_FIELD, K.FIELD_ACCOUNT),  # size: an a+a barrier exists
        (STATUS_REJECTED, K.RSN_MISSING_FIELD, K.FIELD_ACCOUNT),  # P&L kill switch
    ]
    side_only = _run(
        book, _rec(MSG_DRY_START, ORDER_HAS_OPERATION | ORDER_HAS_PRICE | ORDER_NO_SIDE, side=9)
    )
    assert [(r.status, r.count) for r in side_only] == [(STATUS_OK, 0)]
    unflagged = _run(
        book,
        _rec(MSG_DRY_START, ORDER_HAS_OPERATION | ORDER_HAS_PRICE, side=0),
        _rec(MSG_DRY_START, ORDER_HAS_OPERATION | ORDER_HAS_PRICE, amount=-1),
    )
    assert [(r.status, r.reason) for r in unflagged] == [
        (STATUS_ERROR, K.RSN_BAD_SIDE), (STATUS_ERROR, K.RSN_BAD_AMOUNT),
    ]  # fmt: skip


@pytest.mark.parametrize("flags", [ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT | ORDER_HAS_PRICE, 0])
def test_should_ask_a_started_request_without_an_account_for_it_at_execute(flags: int) -> None:
    specs = [make_spec("rate_limit", broker=(10, HOUR))]  # reads no field of the order
    book = Book.create(list(enumerate(specs)), n_policies=1)
    book.instrument_id("AAPL", "USD")
    accountless, normal = _run(book, _rec(MSG_START, flags), _rec(MSG_START, ORDER_HAS_OPERATION))
    assert accountless.status == normal.status == STATUS_OK
    book.block_account(ACCOUNT + 1)
    executed = _run(
        book,
        _rec(MSG_EXECUTE, 0, ref=accountless.reservation),
        _rec(MSG_EXECUTE, 0, ref=normal.reservation),
    )
    assert [(r.status, r.policy, r.reason, r.code) for r in executed] == [
        (STATUS_REJECTED, POLICY_ENGINE, K.RSN_GATE_NO_ACCOUNT,
         CODE_NUMBER["MissingRequiredField"]),
        (STATUS_OK, 0, 0, 0),
    ]  # fmt: skip
    assert book.describe(executed[0])[2] == (
        "account could not be verified as account ID is missing"
    )


def test_should_block_every_account_after_a_report_record_without_an_account() -> None:
    book = _book()
    before = book.snapshot(1_000)["pairs"]
    report, order = _run(
        book,
        _rec(MSG_REPORT, ORDER_HAS_OPERATION | REPORT_NO_ACCOUNT | REPORT_HAS_FINANCIAL,
             pnl=-5 * S8),
        _rec(MSG_ORDER, ORDER_HAS_OPERATION | ORDER_HAS_PRICE),
    )  # fmt: skip
    assert book.describe(report)[1:4] == (
        "MissingRequiredField", "failed to access required field 'account ID'",
        "failed to access field 'operation.account_id'",
    )  # fmt: skip
    assert (order.status, order.reason) == (STATUS_REJECTED, K.RSN_GATE_ENGINE_KILL_SWITCH)
    assert book.snapshot(1_000)["pairs"] == before  # nothing was accumulated for any account
