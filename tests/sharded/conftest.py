"""Sharded-engine fixtures: engines are expensive to start (processes), so tests share them."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from typing import Any

import pytest

import openpit_shm as op

pol = op.pretrade.policies
P = op.param


def c1_builder(sync: str = "no_sync", broker_limit: int = 10**9) -> Any:
    """The C1 policies (bench/suite.py) with a tight-enough broker limit to matter in tests."""
    rate = (
        pol.build_rate_limit()
        .broker_barrier(
            pol.RateLimitBrokerBarrier(pol.RateLimit(broker_limit, datetime.timedelta(hours=1)))
        )
        .asset_barriers(
            pol.RateLimitAssetBarrier(pol.RateLimit(10**9, datetime.timedelta(hours=1)), "USD")
        )
        .account_barriers(
            *[
                pol.RateLimitAccountBarrier(
                    pol.RateLimit(40, datetime.timedelta(hours=1)), P.AccountId.from_int(a)
                )
                for a in range(0, 60, 3)
            ]
        )
    )
    size = (
        pol.build_order_size_limit()
        .asset_barriers(
            pol.OrderSizeAssetBarrier(
                pol.OrderSizeLimit(max_quantity=P.Quantity(900), max_notional=P.Volume(300000)),
                "USD",
            )
        )
        .broker_barrier(
            pol.OrderSizeBrokerBarrier(pol.OrderSizeLimit(max_quantity=P.Quantity(980)))
        )
    )
    pnl = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", P.Pnl(-2000), P.Pnl(5000))
    )
    builder = getattr(op.Engine.builder(), sync)()
    return builder.builtin(pol.build_order_validation()).builtin(rate).builtin(size).builtin(pnl)


def creator_of(name: str) -> int:
    """The creator pid recorded in a segment's header (0 if it cannot be read)."""
    from openpit_shm.layout.segment import SEGMENT_HEADER_BYTES, header_read

    try:
        with open(f"/dev/shm/{name}", "rb") as f:
            return header_read(f.read(SEGMENT_HEADER_BYTES)).creator_pid
    except (OSError, ValueError):
        return 0


def shm_entries(creator: int | None = None) -> set[str]:
    """``/dev/shm/opshm.*`` entries this process (or ``creator``) created.

    Filtering by creator keeps the leak checks exact while other processes on
    the machine make segments of their own.
    """
    pid = os.getpid() if creator is None else creator
    return {f for f in os.listdir("/dev/shm") if f.startswith("opshm.") and creator_of(f) == pid}


def memfd_segments() -> set[tuple[int, int]]:
    """(fd, inode) of this process's descriptors of openpit_shm's unnamed (memfd) segments.

    The unnamed counterpart of ``shm_entries``: what this process still holds.
    """
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        path = f"/proc/self/fd/{fd}"
        try:
            if os.readlink(path).startswith("/memfd:opshm."):
                out.add((int(fd), os.stat(path).st_ino))
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor, say)
    return out


@pytest.fixture(scope="module")
def sharded_c1() -> Iterator[Any]:
    engine = c1_builder("account_sync", broker_limit=2500).sharded(workers=2).build()
    with engine:
        yield engine


class PassThrough(op.pretrade.Policy):
    """A module-level custom policy (picklable): accepts, so the object path runs in workers."""

    @property
    def name(self) -> str:
        return "PassThrough"
