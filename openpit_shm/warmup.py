"""``openpit-shm warmup``: compile, for this CPU, every kernel an engine will need, ahead of time.

For a CI job, a container image or the minute before the trading day: after
it, a new process's first decision (in process or sharded) loads machine code
from Numba's cache instead of compiling it.

It compiles every entry point in ``kernels.entries`` (both in-process doors,
the host side of a sharded engine, both kinds of shard worker), then builds
and uses one in-process and one sharded engine with every builtin policy, which
compiles the small control kernels behind a build, account operations and
``configure()`` through the same calls an application makes.

The cache is Numba's (``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` next
to the kernels when writable, else the user's cache dir); machine code is
kept per CPU model, so warm up on the machine (or the same CPU) that trades.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["warmup"]


def warmup(progress: Callable[[str], None] = print) -> Path | None:
    """Compile everything; returns the cache directory (None: no writable one, nothing kept)."""
    from .kernels.cacheguard import kernel_cache_dir
    from .kernels.entries import ALL

    cache = kernel_cache_dir()
    progress(f"compiling {len(ALL)} kernel entry points for this CPU into {cache}")
    started = time.perf_counter()
    for entry in ALL:
        t = time.perf_counter()
        was = "cached" if entry.cached() else "compiled"
        entry.compile()
        progress(f"  {entry.name:<28} {was:>8} {time.perf_counter() - t:6.1f} s")
    t = time.perf_counter()
    _tour(sharded=False)
    _tour(sharded=True)
    progress(f"  {'an in-process and a sharded engine':<37} {time.perf_counter() - t:6.1f} s")
    progress(f"done in {time.perf_counter() - started:.1f} s; cache: {cache}")
    return cache


def _policies() -> list[Any]:
    """One of each builtin, with broker, asset and account barriers."""
    from . import param
    from .pretrade import policies as P

    account = param.AccountId.from_int(1)
    second = datetime.timedelta(seconds=1)
    limit = P.OrderSizeLimit(max_quantity=param.Quantity(1000), max_notional=param.Volume(10**6))
    bounds = P.PnlBoundsBrokerBarrier("USD", param.Pnl(-1000), None)
    return [
        P.build_order_validation(),
        P.build_rate_limit()
        .broker_barrier(P.RateLimitBrokerBarrier(P.RateLimit(10**6, second)))
        .asset_barriers(P.RateLimitAssetBarrier(P.RateLimit(10**6, second), "USD"))
        .account_barriers(P.RateLimitAccountBarrier(P.RateLimit(10**6, second), account)),
        P.build_order_size_limit()
        .broker_barrier(P.OrderSizeBrokerBarrier(limit))
        .asset_barriers(P.OrderSizeAssetBarrier(limit, "AAPL"))
        .account_asset_barriers(P.OrderSizeAccountAssetBarrier(limit, account, "AAPL")),
        P.build_pnl_bounds_killswitch()
        .broker_barriers(bounds)
        .account_barriers(P.PnlBoundsAccountAssetBarrier(bounds, account, param.Pnl(0))),
    ]


def _records(instrument: int) -> Any:
    """Two auto-committed limit orders (one per side) as ``ORDER_DTYPE`` records."""
    import numpy as np

    from .layout import records as R

    rec = np.zeros(2, dtype=R.ORDER_DTYPE)
    rec["seq"] = [1, 2]
    rec["account"] = [1, 2]
    rec["instrument"] = instrument
    rec["kind"] = R.MSG_ORDER
    rec["side"] = [R.SIDE_BUY, R.SIDE_SELL]
    rec["flags"] = R.ORDER_HAS_OPERATION | R.ORDER_HAS_PRICE | R.ORDER_AUTO_COMMIT
    rec["amount"] = 10**R.FIXED_SCALE_DEFAULT  # 1 at the default scale
    rec["price"] = 10 * 10**R.FIXED_SCALE_DEFAULT
    return rec


def _tour(sharded: bool) -> None:
    """Build an engine and use every door once (the calls compile what they need)."""
    from . import (
        Engine,
        ExecutionReport,
        ExecutionReportOperation,
        FinancialImpact,
        Instrument,
        Order,
        OrderOperation,
        param,
    )
    from .builtins.specs import POLICY_NAMES
    from .pretrade import policies as P

    builder = Engine.builder()
    builder = builder.account_sync().sharded(workers=1) if sharded else builder.no_sync()
    for policy in _policies():
        builder = builder.builtin(policy)
    engine = builder.build()
    try:
        instrument = Instrument("AAPL", "USD")
        account = param.AccountId.from_int(1)
        order = Order(
            operation=OrderOperation(
                instrument=instrument,
                account_id=account,
                side=param.Side.BUY,
                trade_amount=param.TradeAmount.quantity("1"),
                price=param.Price("10"),
            )
        )
        engine.execute_pre_trade(order).reservation.commit()
        engine.start_pre_trade(order).request.execute().reservation.rollback()
        report = ExecutionReport(
            operation=ExecutionReportOperation(
                instrument=instrument, account_id=account, side=param.Side.BUY
            ),
            financial_impact=FinancialImpact(pnl=param.Pnl("-1"), fee=param.Fee("0.1")),
        )
        engine.apply_execution_report(report)
        engine.execute_batch(_records(engine.register_instrument(instrument)), engine.batch_out(2))
        accounts = engine.accounts()
        group = param.AccountGroupId.from_int(7)
        accounts.register_group([account], group)
        accounts.block_group(group, "warmup")
        accounts.unblock_group(group)
        accounts.block(account, "warmup")
        accounts.unblock(account)
        limit = P.OrderSizeLimit(max_quantity=param.Quantity(5), max_notional=None)
        engine.configure().order_size_limit(
            POLICY_NAMES["order_size_limit"], broker=P.OrderSizeBrokerBarrier(limit)
        )
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
