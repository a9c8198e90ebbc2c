"""Records built for one engine are refused by another, never read with its instrument ids.

Issue 9, defect 19: instrument ids are numbered per engine, and records built
for one engine were checked by another against whatever instrument it
numbered the same. Every engine now has a random record tag; order and report
records carry it in ``ref`` and any other tag is answered ``STATUS_ERROR``
(``InvalidFieldValue``, ``RSN_WRONG_ENGINE``) before anything is read or
changed, on the kernels' path and on the custom-policy (record door) path.
"""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pytest

import openpit_shm as op
from openpit_shm.batch import finalize_records, order_records, report_records
from openpit_shm.builtins.texts import Record
from openpit_shm.kernels.codes import RSN_WRONG_ENGINE
from openpit_shm.layout.records import (
    CODE_NUMBER,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_START,
    POLICY_ENGINE,
    RECORD_TAG_SHIFT,
    REPORT_SCALE_SHIFT,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
)
from tests.sharded.conftest import PassThrough

pol = op.pretrade.policies
ACCOUNT = 42
ORDER_KINDS = (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER)


def _engine(first_instrument: str, custom: bool) -> tuple[Any, int]:
    """An engine whose instrument id 0 is ``first_instrument``/USD.

    ``ACCOUNT`` may send one order per hour; MSFT orders are capped at 10 shares,
    and a P&L below -100 USD blocks the account.
    """
    rate = pol.build_rate_limit().account_barriers(
        pol.RateLimitAccountBarrier(
            pol.RateLimit(1, datetime.timedelta(hours=1)), op.param.AccountId.from_int(ACCOUNT)
        )
    )
    size = pol.build_order_size_limit().asset_barriers(
        pol.OrderSizeAssetBarrier(pol.OrderSizeLimit(max_quantity=op.param.Quantity("10")), "MSFT")
    )
    pnl = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", op.param.Pnl(-100), None)
    )
    builder = op.Engine.builder().no_sync().builtin(rate).builtin(size).builtin(pnl)
    if custom:
        builder = builder.pre_trade(PassThrough())
    engine = builder.build()
    return engine, engine.register_instrument(op.Instrument(first_instrument, "USD"))


def _orders(engine: Any, iid: int) -> np.ndarray:
    """One order of every order kind for ``ACCOUNT``: 100 shares of instrument ``iid``."""
    return np.concatenate([
        order_records(engine, account=ACCOUNT, instrument=iid, side="BUY", quantity=100,
                      price=10, units="decimal", kind=kind)
        for kind in ORDER_KINDS
    ])  # fmt: skip


def _assert_wrong_engine(results: np.ndarray, book: Any, record_tag: int, own_tag: int) -> None:
    assert (results["status"] == STATUS_ERROR).all()
    assert (results["code"] == CODE_NUMBER["InvalidFieldValue"]).all()
    assert (results["policy"] == POLICY_ENGINE).all()
    assert (results["reason"] == RSN_WRONG_ENGINE).all()
    assert (results["d0"] == record_tag).all() and (results["d1"] == own_tag).all()
    described = book.describe(Record.of(results[0]))
    assert described[:3] == ("Engine", "InvalidFieldValue", "record built for another engine")


@pytest.mark.parametrize("custom", [False, True], ids=["kernels", "record-door"])
def test_should_refuse_records_built_for_another_engine(custom: bool) -> None:
    aapl_first, aapl = _engine("AAPL", custom)  # id 0 is AAPL here ...
    msft_first, msft = _engine("MSFT", custom)  # ... and MSFT here
    assert aapl == msft == 0
    theirs = _orders(aapl_first, aapl)
    refused = msft_first.execute_batch(theirs)
    _assert_wrong_engine(refused, msft_first._book, aapl_first.record_format.tag,
                         msft_first.record_format.tag)  # fmt: skip
    # Nothing was read or changed: the account's one order per hour is still there, and
    # the P&L kill switch was not fed by a foreign report.
    report = report_records(aapl_first, account=ACCOUNT, instrument=aapl, side=1, pnl=-500,
                            fee=0, units="decimal")  # fmt: skip
    _assert_wrong_engine(msft_first.execute_batch(report), msft_first._book,
                         aapl_first.record_format.tag, msft_first.record_format.tag)  # fmt: skip
    small = order_records(msft_first, account=ACCOUNT, instrument=msft, side="BUY", quantity=5,
                          price=10, units="decimal", auto_commit=True)  # fmt: skip
    assert msft_first.execute_batch(small)["status"][0] == STATUS_OK
    # And its own records for 100 MSFT meet the MSFT cap (which AAPL's records never did).
    own = msft_first.execute_batch(_orders(msft_first, msft))
    assert (own["status"] == STATUS_REJECTED).all()
    # The engine that built them decides them (no MSFT cap on AAPL there).
    mine = aapl_first.execute_batch(theirs)
    assert (mine["status"] != STATUS_ERROR).all() and mine["status"][0] == STATUS_OK


@pytest.mark.parametrize("custom", [False, True], ids=["kernels", "record-door"])
def test_should_refuse_untagged_and_malformed_refs_and_leave_handles_alone(custom: bool) -> None:
    engine, iid = _engine("AAPL", custom)
    tag = engine.record_format.tag
    orders = _orders(engine, iid)
    for bad in (0, tag, (tag + 1) << RECORD_TAG_SHIFT, tag << RECORD_TAG_SHIFT ^ 1 << 62, -1):
        recs = orders.copy()
        recs["ref"] = bad
        got = engine.execute_batch(recs)
        assert (got["reason"] == RSN_WRONG_ENGINE).all(), bad
    report = report_records(engine, account=7, instrument=iid, side=1, pnl=-1.5, fee=0,
                            units="decimal")  # fmt: skip
    for bad in (0, 2 | 1 << REPORT_SCALE_SHIFT, (tag ^ 1) << RECORD_TAG_SHIFT):
        recs = report.copy()
        recs["ref"] = bad
        assert engine.execute_batch(recs)["reason"][0] == RSN_WRONG_ENGINE, bad
    # An order keeps the scales it was written with in the low bits under the tag.
    shown = orders.copy()
    shown["ref"] |= 2 | 1 << REPORT_SCALE_SHIFT
    assert (engine.execute_batch(shown)["reason"] != RSN_WRONG_ENGINE).all()
    # A report keeps its scales in the low bits under the tag.
    scaled = report.copy()
    scaled["ref"] |= 2 | 1 << REPORT_SCALE_SHIFT
    assert engine.execute_batch(scaled)["status"][0] == STATUS_OK
    # Finalizations carry a handle in ref, not the tag.
    opened = engine.execute_batch(
        order_records(
            engine, account=[1, 2], instrument=iid, side=1, quantity=1, price=10, units="decimal"
        )
    )
    done = engine.execute_batch(finalize_records(opened["reservation"], commit=True))
    assert (done["status"] == STATUS_OK).all()


def test_should_give_every_engine_its_own_nonzero_tag() -> None:
    tags = {_engine("AAPL", False)[0].record_format.tag for _ in range(20)}
    assert len(tags) == 20 and all(0 < t < 1 << 47 for t in tags)
