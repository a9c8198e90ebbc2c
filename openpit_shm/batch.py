"""Build ``ORDER_DTYPE`` record arrays for the batch door (and the shared-memory rings).

Columns in, records out, no per-order Python::

    ids = np.array([engine.register_instrument(i) for i in instruments])
    orders = order_records(account=accounts, instrument=ids[picks], side=sides,
                           quantity=qty, price=px, scale=8, auto_commit=True)
    results = engine.execute_batch(orders)          # one RESULT_DTYPE record per order

Money and quantity columns may be integer arrays already in fixed point, or
float arrays, converted exactly: a float whose shortest decimal form needs
more than ``scale`` fractional digits (or does not fit int64) is an error,
never silently rounded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .layout.records import (
    FIXED_SCALE_DEFAULT,
    MSG_COMMIT,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    SIDE_BUY,
    SIDE_SELL,
)
from .param import FixedPointError

__all__ = ["finalize_records", "fixed_column", "order_records", "report_records"]

_INT64_LIMIT = float(2**63)


def fixed_column(values: Any, scale: int, name: str = "value") -> np.ndarray:
    """A column as int64 fixed point at ``scale``: integers pass through, floats convert exactly."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be an integer (fixed point) or float array")
    scaled = np.rint(arr.astype(np.float64) * 10.0**scale)
    if not np.all(np.isfinite(scaled)) or np.any(np.abs(scaled) >= _INT64_LIMIT):
        raise FixedPointError(f"{name} has values that do not fit int64 at scale {scale}")
    # Exact iff the scaled integer maps back to the same float: the value's
    # shortest decimal form then has at most ``scale`` fractional digits.
    inexact = scaled / 10.0**scale != arr
    if np.any(inexact):
        bad = arr[np.argmax(inexact)]
        raise FixedPointError(
            f"{name} {bad!r} is not representable in fixed point with scale {scale}"
        )
    return scaled.astype(np.int64)


def _sides(side: Any) -> np.ndarray:
    arr = np.asarray(side)
    if arr.dtype.kind in "US":
        out = np.where(arr == "BUY", SIDE_BUY, np.where(arr == "SELL", SIDE_SELL, 0))
        return out.astype(np.uint8)
    if arr.dtype == np.bool_:
        return np.where(arr, SIDE_BUY, SIDE_SELL).astype(np.uint8)
    return arr.astype(np.uint8)


def order_records(
    *,
    account: Any,
    instrument: Any,
    side: Any,
    quantity: Any = None,
    volume: Any = None,
    price: Any = None,
    scale: int = FIXED_SCALE_DEFAULT,
    kind: int = MSG_ORDER,
    auto_commit: bool = False,
    seq: Any = None,
) -> np.ndarray:
    """Order records from columns (scalars broadcast). Exactly one of quantity / volume.

    ``side``: ``SIDE_BUY``/``SIDE_SELL`` ints, ``"BUY"``/``"SELL"`` strings, or
    booleans (True = buy). ``price=None`` makes market orders. ``seq``
    defaults to ``0..n-1``.
    """
    if (quantity is None) == (volume is None):
        raise ValueError("give exactly one of quantity or volume")
    amount = fixed_column(volume if quantity is None else quantity, scale, "amount")
    n = int(np.broadcast(np.asarray(account), np.asarray(instrument), amount).size)
    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n) if seq is None else seq
    rec["account"] = np.asarray(account).astype(np.uint64)
    rec["instrument"] = instrument
    rec["kind"] = kind
    rec["side"] = _sides(side)
    rec["amount"] = amount
    flags = ORDER_HAS_OPERATION | (ORDER_VOLUME if quantity is None else 0)
    if auto_commit:
        flags |= ORDER_AUTO_COMMIT
    if price is not None:
        rec["price"] = fixed_column(price, scale, "price")
        flags |= ORDER_HAS_PRICE
    rec["flags"] = flags
    return rec


def report_records(
    *,
    account: Any,
    instrument: Any,
    side: Any,
    pnl: Any,
    fee: Any,
    scale: int = FIXED_SCALE_DEFAULT,
    seq: Any = None,
) -> np.ndarray:
    """Execution-report records (P&L and fee) for the P&L kill switch."""
    pnl_fx = fixed_column(pnl, scale, "pnl")
    fee_fx = fixed_column(fee, scale, "fee")
    n = int(np.broadcast(np.asarray(account), np.asarray(instrument), pnl_fx, fee_fx).size)
    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n) if seq is None else seq
    rec["account"] = np.asarray(account).astype(np.uint64)
    rec["instrument"] = instrument
    rec["kind"] = MSG_REPORT
    rec["side"] = _sides(side)
    rec["pnl"] = pnl_fx
    rec["fee"] = fee_fx
    rec["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    return rec


def finalize_records(reservations: Any, *, commit: bool, seq: Any = None) -> np.ndarray:
    """Commit (or roll back) records for reservation handles from earlier results.

    They carry no account: a sharded engine sends each to the shard its
    handle names (``layout.handles``).
    """
    handles = np.asarray(reservations, dtype=np.int64)
    rec = np.zeros(handles.shape[0], dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(handles.shape[0]) if seq is None else seq
    rec["kind"] = MSG_COMMIT if commit else MSG_ROLLBACK
    rec["ref"] = handles
    return rec
