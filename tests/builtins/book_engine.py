"""A minimal all-builtin engine over the Book, for testing the builtins on their own.

It drives the Book exactly the way an engine whose policies are all builtin
does (one kernel call per stage, the kernel latching its own blocks), with
openpit's object API for the parts the differential streams use. It is test
support: the product engine is ``openpit_shm.Engine``; this facade lets the
builtins be checked against openpit independently of it, and gives the
batch-equivalence test an object door to compare ``Book.process`` with.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from openpit_shm.builtins.book import Book
from openpit_shm.builtins.kinds import KINDS
from openpit_shm.builtins.numbers import decimal_scale
from openpit_shm.builtins.specs import make_spec
from openpit_shm.builtins.texts import Record
from openpit_shm.errors import ConfigureErrorKind, PolicyConfigureError
from openpit_shm.kernels.control import ctl_engine_block
from openpit_shm.layout.records import (
    ORDER_HAS_OPERATION,
    ORDER_HAS_PRICE,
    ORDER_VOLUME,
    REPORT_HAS_FINANCIAL,
    RESULT_DTYPE,
    SIDE_BUY,
    SIDE_SELL,
)
from openpit_shm.layout.state import ENGINE_BLOCK_KILL_SWITCH

_U63 = 1 << 63


@dataclass(frozen=True)
class Rej:
    policy: str
    code: str
    reason: str
    details: str
    scope: str
    user_data: int


@dataclass(frozen=True)
class Blk:
    policy: str
    code: str
    reason: str
    details: str
    user_data: int


@dataclass
class Result:
    ok: bool
    rejects: list[Rej]
    request: Any = None
    reservation: Any = None


@dataclass
class Dry:
    is_pass: bool
    rejects: list[Rej] | None
    account_block: Blk | None


@dataclass
class PostTrade:
    account_blocks: list[Blk]


class _Reservation:
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


class _Collector:
    """Stands in for the engine builder: records the ``_add_builtin_*`` calls as specs."""

    def __init__(self) -> None:
        self.specs: list[Any] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("_add_builtin_"):
            raise AttributeError(name)
        kind = name[len("_add_builtin_") :]
        return lambda **kw: self.specs.append(make_spec(kind, **kw))


def account_key(account_id: Any) -> int:
    v = account_id.value
    return v - (1 << 64) if v >= _U63 else v


class BookEngine:
    """The Book behind openpit's engine API, for all-builtin configurations."""

    def __init__(self, ready_builders: Sequence[Any], clock: Callable[[], int] = time.monotonic_ns):
        collector = _Collector()
        for b in ready_builders:
            b._build(collector)
        self.specs = collector.specs
        self.book = Book.create(list(enumerate(self.specs)), n_policies=len(self.specs))
        self.out = np.zeros(len(self.specs) + 2, dtype=RESULT_DTYPE)
        self.clock = clock

    # ---- rows --------------------------------------------------------------------------------

    def row(self, order: Any) -> tuple[int, ...]:
        op = order._operation
        if op is None:
            return (0, -1, -1, 0, 0, 0, 0)
        book = self.book
        u, s = op._instrument._key
        ta = op._trade_amount
        flags = ORDER_HAS_OPERATION
        if ta._quantity is not None:
            amount = ta._quantity._to_fixed(book.scale)
        else:
            amount = ta._volume._to_fixed(book.scale)
            flags |= ORDER_VOLUME
        price = 0
        if op._price is not None:
            price = op._price._to_fixed(book.scale)
            flags |= ORDER_HAS_PRICE
        side = SIDE_BUY if op._side == "BUY" else SIDE_SELL
        return (account_key(op._account_id), book.asset_id(u), book.asset_id(s), side, flags,
                price, amount)

    def report_row(self, report: Any) -> tuple[tuple[int, ...], int]:
        op = report._operation
        fin = report._financial_impact
        book = self.book
        account = flags = 0
        u = s = -1
        if op is not None:
            flags |= ORDER_HAS_OPERATION
            account = account_key(op._account_id)
            a, b = op._instrument._key
            u, s = book.asset_id(a), book.asset_id(b)
        pnl = fee = 0
        scales = 0
        if fin is not None:
            flags |= REPORT_HAS_FINANCIAL
            pnl = fin._pnl._to_fixed(book.scale)
            fee = fin._fee._to_fixed(book.scale)
            scales = decimal_scale(fin._pnl.decimal) | decimal_scale(fin._fee.decimal) << 8
        return (account, u, s, 0, flags, pnl, fee), scales

    def records(self, n: int, subject: Any) -> list[Record]:
        return [Record.of(self.out[j]) for j in range(n)]

    def rejects(self, n: int, subject: Any) -> list[Rej]:
        return [Rej(*self.book.describe(self.out[j], subject)) for j in range(n)]

    # ---- pre-trade ---------------------------------------------------------------------------

    def start_pre_trade(self, order: Any) -> Result:
        row = self.row(order)
        n = self.book.start(self.out, *row, self.clock(), False, 255, True)
        if n:
            return Result(False, self.rejects(n, order))
        return Result(True, [], request=_Request(self, order, row))

    def execute_pre_trade(self, order: Any) -> Result:
        s = self.start_pre_trade(order)
        if not s.ok:
            return s
        return s.request.execute()

    def _dry(self, order: Any) -> Dry:
        row = self.row(order)
        n = self.book.start(self.out, *row, self.clock(), True, 255, True)
        if n == 0:
            return Dry(True, None, None)
        recs = self.records(n, order)
        rej = self.rejects(n, order)
        block = None
        for rec, r in zip(recs, rej):
            if rec.latched:
                block = Blk(r.policy, "AccountBlocked", r.reason, r.details, r.user_data)
        return Dry(False, rej, block)

    start_pre_trade_dry_run = _dry
    execute_pre_trade_dry_run = _dry  # builtins have no main stage

    # ---- post-trade --------------------------------------------------------------------------

    def apply_execution_report(self, report: Any) -> PostTrade:
        row, scales = self.report_row(report)
        has_account = bool(row[4] & ORDER_HAS_OPERATION)
        n = self.book.apply_report(self.out, *row, has_account, scales)
        blocks = [
            Blk(p, c, r, d, u)
            for p, c, r, d, _, u in (self.book.describe(self.out[j], report) for j in range(n))
        ]
        if blocks and not has_account:
            ctl_engine_block(self.book.shared, ENGINE_BLOCK_KILL_SWITCH)
        return PostTrade(blocks)

    # ---- handles -----------------------------------------------------------------------------

    def accounts(self) -> _Accounts:
        return _Accounts(self)

    def configure(self) -> _Configurator:
        return _Configurator(self)


class _Request:
    def __init__(self, engine: BookEngine, order: Any, row: tuple[int, ...]) -> None:
        self.engine, self.order, self.row = engine, order, row

    def execute(self) -> Result:
        e = self.engine
        n = e.book.gate(e.out, self.row[0], self.row[4])
        if n:
            return Result(False, e.rejects(n, self.order))
        return Result(True, [], reservation=_Reservation())


class _Accounts:
    def __init__(self, engine: BookEngine) -> None:
        self.engine = engine

    def unblock(self, account: Any) -> None:
        self.engine.book.unblock_account(account_key(account))

    def unblock_all(self) -> None:
        self.engine.book.unblock_engine()


class _Configurator:
    #: configure() method -> the kind it retunes (from the registry)
    _KINDS = {method: row.name for method, (row, _) in KINDS.configure_methods().items()}

    def __init__(self, engine: BookEngine) -> None:
        self.engine = engine

    def _apply(self, method: str, name: str, **settings: Any) -> None:
        for index, spec in enumerate(self.engine.specs):
            if spec.name == name:
                if spec.kind != self._KINDS[method]:
                    raise PolicyConfigureError("type mismatch", ConfigureErrorKind.TYPE_MISMATCH)
                self.engine.book.configure(index, method, **settings)
                return
        raise PolicyConfigureError(f"no configurable policy named {name}")

    def rate_limit(self, name: str, **settings: Any) -> None:
        self._apply("rate_limit", name, **settings)

    def order_size_limit(self, name: str, **settings: Any) -> None:
        self._apply("order_size_limit", name, **settings)

    def pnl_bounds_killswitch(self, name: str, **settings: Any) -> None:
        self._apply("pnl_bounds_killswitch", name, **settings)

    def set_account_pnl(self, name: str, **settings: Any) -> None:
        self._apply("set_account_pnl", name, **settings)
