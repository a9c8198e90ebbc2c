"""One face for both packages: build a market-data service and describe call outcomes.

``Side`` bundles a package's market-data module, ``Instrument``, ``AccountId``
and ``AccountGroupId`` and builds services the way each must be built:
both through ``Engine.builder().no_sync().market_data(ttl)`` (or
``full_sync()``), ours with ``with_clock(fake)`` first so expiry never needs a sleep.
On openpit's side, ages come from ``source_age`` only (its clock is real).
"""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass
from typing import Any

SECOND = 1_000_000_000


class FakeClock:
    """A nanosecond clock that moves only when told to."""

    def __init__(self, start: int = 10**12) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, ns: int) -> None:
        self.now += ns


@dataclass
class Side:
    name: str
    md: Any
    core: Any
    param: Any
    clock: FakeClock | None

    def service(self, default_ttl: Any = None, *, full_sync: bool = False) -> Any:
        ttl = self.md.QuoteTtl.infinite() if default_ttl is None else default_ttl
        root = importlib.import_module(self.name)
        stage = root.Engine.builder()
        if self.clock is not None:  # openpit_shm only: expiry on a fake clock, never a sleep
            stage = stage.with_clock(self.clock)
        stage = stage.full_sync() if full_sync else stage.no_sync()
        return stage.market_data(ttl).build()

    def instrument(self, underlying: str, settlement: str = "USD") -> Any:
        return self.core.Instrument(underlying, settlement)

    def account(self, n: int) -> Any:
        return self.param.AccountId.from_int(n)

    def group(self, n: int) -> Any:
        return (
            self.param.AccountGroupId.DEFAULT if n == 0 else self.param.AccountGroupId.from_int(n)
        )

    def iid(self, n: int) -> Any:
        return self.core.InstrumentId(n)

    def within(self, seconds: float) -> Any:
        return self.md.QuoteTtl.within(datetime.timedelta(seconds=seconds))

    def info(self, group: Any) -> Any:
        return _Info(group)


class _Info:
    """An ``account_info``: anything with an ``account_group`` property."""

    def __init__(self, group: Any) -> None:
        self._group = group

    @property
    def account_group(self) -> Any:
        return self._group


def side(name: str) -> Side:
    pkg = "openpit" if name == "openpit" else "openpit_shm"
    return Side(
        name=name,
        md=importlib.import_module(f"{pkg}.marketdata"),
        core=importlib.import_module(f"{pkg}.core"),
        param=importlib.import_module(f"{pkg}.param"),
        clock=None if name == "openpit" else FakeClock(),
    )


def outcome(fn: Any) -> tuple[Any, ...]:
    """What a call did: the result's repr, or the error's class, text, notes and attributes."""
    try:
        result = fn()
    except Exception as e:
        attrs = {
            k: repr(v)
            for k in ("quote", "instrument", "instrument_id")
            if (v := getattr(e, k, "<none>")) != "<none>"
        }
        return ("err", type(e).__name__, str(e), tuple(getattr(e, "__notes__", ())), attrs)
    return ("ok", _neutral(result))


def _neutral(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    text = repr(value)
    return text if " object at 0x" not in text else type(value).__name__


def both() -> tuple[Side, Side]:
    return side("openpit"), side("openpit_shm")
