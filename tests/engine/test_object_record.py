"""The object door decides the same 64-byte order record the batch door and C send.

``execute_pre_trade`` writes each order as an ``ORDER_DTYPE`` record into the Book's
request view and its kernel reads that record (``kernels.pipeline.start_at``), so
fields such as the side reach the policy kernels through the view, as they do from a
batch.
"""

from __future__ import annotations

import numpy as np

import openpit_shm as op
from openpit_shm.layout.records import (
    MSG_ORDER,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    SIDE_BUY,
    SIDE_SELL,
)
from openpit_shm.layout.view import V_SETTLEMENT, V_SIDE, V_UNDERLYING


def _order(side: op.param.Side, qty: str, price: str) -> op.Order:
    p = op.param
    return op.Order(operation=op.OrderOperation(
        instrument=op.Instrument("AAPL", "USD"), side=side,
        trade_amount=p.TradeAmount.quantity(p.Quantity(qty)),
        account_id=p.AccountId.from_int(42), price=p.Price(price)))  # fmt: skip


def test_should_decide_the_order_record_the_batch_door_would_send() -> None:
    engine = op.Engine.builder().no_sync().builtin(
        op.pretrade.policies.build_order_validation()).build()  # fmt: skip
    book = engine._book
    for side, code, qty, price in ((op.param.Side.BUY, SIDE_BUY, "3", "101.5"),
                                   (op.param.Side.SELL, SIDE_SELL, "0.25", "7")):  # fmt: skip
        assert engine.execute_pre_trade(_order(side, qty, price)).ok
        view = np.frombuffer(book.request_record, dtype=np.int64)
        rec = view[:8].copy().view(ORDER_DTYPE)[0]
        assert int(rec["kind"]) == MSG_ORDER and int(rec["side"]) == code
        assert int(rec["account"]) == 42
        assert int(rec["instrument"]) == book.instrument_id("AAPL", "USD")
        assert int(rec["flags"]) == ORDER_HAS_OPERATION | ORDER_HAS_PRICE
        scale = 10**book.scale
        assert int(rec["amount"]) == int(float(qty) * scale)
        assert int(rec["price"]) == int(float(price) * scale)
        # ... and the kernel opened the view from it: the side and assets a policy reads
        assert int(view[V_SIDE]) == code
        assert (int(view[V_UNDERLYING]), int(view[V_SETTLEMENT])) == (
            book.asset_id("AAPL"), book.asset_id("USD"))  # fmt: skip
