"""Build ``ORDER_DTYPE`` record arrays for one engine's batch door (and its shared-memory rings).

Columns in, records out, no per-order Python::

    ids = np.array([engine.register_instrument(i) for i in instruments])
    orders = order_records(engine, account=accounts, instrument=ids[picks], side=sides,
                           quantity=qty, price=px, units="decimal", auto_commit=True)
    results = engine.execute_batch(orders)          # one RESULT_DTYPE record per order

The records belong to ``engine``: amounts are at its fixed-point scale, and
every record carries its record tag (``layout.records``), so another engine
answers them ``STATUS_ERROR`` instead of reading their instrument ids as its
own. ``engine`` is an ``Engine`` or ``ShardedEngine`` (or its
``record_format``).

``units`` is required, and says what the amount columns (quantity, volume,
price; P&L and fee for reports) hold:

* ``units="decimal"``: values in units (100 shares at 185.25): integers,
  ``Decimal``, decimal strings or floats, a float standing for its shortest
  ``repr``;
* ``units="fixed"``: raw fixed point at the engine's scale (185.25 at scale 8
  is ``18_525_000_000``), integers only.

Nothing is coerced: a value that does not convert exactly (more decimals than
the scale, out of int64, NaN) raises ``FixedPointError``; an account outside
``0..2**64-1``, an instrument id outside ``0..2**31-1``, a side other than
1 / 2 / ``"BUY"`` / ``"SELL"`` or a negative quantity raises ``ValueError``;
floats or booleans where integers belong raise ``TypeError``. See
``openpit_shm.columns`` for the exact rules.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .columns import fixed_column, integer_column, side_column
from .layout.records import (
    MSG_COMMIT,
    MSG_DROP_COPY,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RecordFormat,
    report_ref,
)

__all__ = ["finalize_records", "fixed_column", "order_records", "record_format", "report_records"]

_ORDER_KINDS = (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER, MSG_DROP_COPY)
_U64_MAX = (1 << 64) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_I32_MAX = (1 << 31) - 1


def record_format(engine: Any) -> RecordFormat:
    """The ``RecordFormat`` of an engine (or the format itself)."""
    if isinstance(engine, RecordFormat):
        return engine
    fmt = getattr(engine, "record_format", None)
    if not isinstance(fmt, RecordFormat):
        raise TypeError(
            "records are built for one engine: pass the Engine / ShardedEngine they are for "
            f"(or its record_format), got {type(engine).__name__}"
        )
    return fmt


def _operation_columns(account: Any, instrument: Any, side: Any) -> dict[str, np.ndarray]:
    return {
        "account": integer_column(account, "account", 0, _U64_MAX, np.uint64),
        "instrument": integer_column(instrument, "instrument", 0, _I32_MAX, np.int32),
        "side": side_column(side),
    }


def _records(columns: dict[str, np.ndarray], seq: Any) -> np.ndarray:
    """Records with ``columns`` broadcast to one length (scalars broadcast) and ``seq``."""
    if seq is not None:
        columns["seq"] = integer_column(seq, "seq", _I64_MIN, _I64_MAX, np.int64)
    shape = np.broadcast_shapes(*(c.shape for c in columns.values()))
    if len(shape) > 1:
        raise ValueError(f"columns must be scalars or 1-d, they broadcast to shape {shape}")
    n = shape[0] if shape else 1
    rec = np.zeros(n, dtype=ORDER_DTYPE)
    rec["seq"] = np.arange(n)
    for name, column in columns.items():
        rec[name] = column
    return rec


def order_records(
    engine: Any,
    /,
    *,
    account: Any,
    instrument: Any,
    side: Any,
    units: str,
    quantity: Any = None,
    volume: Any = None,
    price: Any = None,
    kind: int = MSG_ORDER,
    auto_commit: bool = False,
    seq: Any = None,
) -> np.ndarray:
    """Order records for ``engine`` from columns (scalars broadcast).

    Exactly one of ``quantity`` / ``volume``.
    ``units``: ``"decimal"`` or ``"fixed"`` for quantity / volume / price (module
    docstring). ``side``: 1 / 2 (``SIDE_BUY`` / ``SIDE_SELL``) or ``"BUY"`` /
    ``"SELL"``. ``price=None`` makes market orders. ``kind``: ``MSG_ORDER``
    (default), ``MSG_START``, ``MSG_DRY_START``, ``MSG_DRY_ORDER`` or ``MSG_DROP_COPY``. ``seq``
    defaults to ``0..n-1``.
    """
    fmt = record_format(engine)
    if (quantity is None) == (volume is None):
        raise ValueError("give exactly one of quantity or volume")
    if kind not in _ORDER_KINDS:
        raise ValueError(
            f"kind must be one of MSG_ORDER, MSG_START, MSG_DRY_*, MSG_DROP_COPY; got {kind!r}"
        )
    name = "quantity" if volume is None else "volume"
    columns = _operation_columns(account, instrument, side)
    columns["amount"] = fixed_column(
        quantity if volume is None else volume, fmt.scale, units, name, nonnegative=True
    )
    flags = ORDER_HAS_OPERATION | (ORDER_VOLUME if volume is not None else 0)
    if auto_commit:
        flags |= ORDER_AUTO_COMMIT
    if price is not None:
        columns["price"] = fixed_column(price, fmt.scale, units, "price")
        flags |= ORDER_HAS_PRICE
    rec = _records(columns, seq)
    rec["kind"] = kind
    rec["flags"] = flags
    rec["ref"] = fmt.order_ref
    return rec


def report_records(
    engine: Any,
    /,
    *,
    account: Any,
    instrument: Any,
    side: Any,
    pnl: Any,
    fee: Any,
    units: str,
    seq: Any = None,
) -> np.ndarray:
    """Execution-report records for the P&L kill switch of ``engine`` (P&L and fee in ``units``)."""
    fmt = record_format(engine)
    columns = _operation_columns(account, instrument, side)
    columns["pnl"] = fixed_column(pnl, fmt.scale, units, "pnl")
    columns["fee"] = fixed_column(fee, fmt.scale, units, "fee")
    rec = _records(columns, seq)
    rec["kind"] = MSG_REPORT
    rec["flags"] = ORDER_HAS_OPERATION | REPORT_HAS_FINANCIAL
    rec["ref"] = report_ref(fmt.tag)  # scales 0: texts print each value's shortest form
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
