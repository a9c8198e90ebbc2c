"""``engine.configure()`` for the builtins: replace / clear / keep-live-counters rules and errors.

Each scenario builds the same engine in openpit and openpit_shm, runs the
same script (orders, retunes, force-sets), and compares everything
observable: ok flags, reject texts, exception type, message and kind.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import openpit
import pytest

import openpit_shm

from .book_engine import BookEngine

HOUR = datetime.timedelta(hours=1)
HUGE = datetime.timedelta(days=10**9 - 1)  # beyond u64 nanoseconds
RL, OSL, PNL = "RateLimitPolicy", "OrderSizeLimitPolicy", "PnlBoundsKillSwitchPolicy"


def _order(pkg: Any, acct: int = 1, qty: str = "1", price: str | None = "10", settle: str = "USD"):
    p = pkg.param
    return pkg.Order(
        operation=pkg.OrderOperation(
            instrument=pkg.Instrument("AAPL", settle),
            side=p.Side.BUY,
            trade_amount=p.TradeAmount.quantity(p.Quantity(qty)),
            account_id=p.AccountId.from_int(acct),
            price=None if price is None else p.Price(price),
        )
    )


class Script:
    """What a scenario does to one engine; records what can be observed."""

    def __init__(self, pkg: Any, engine: Any) -> None:
        self.pkg, self.engine, self.log = pkg, engine, []
        self.P = pkg.pretrade.policies
        self.acc = pkg.param.AccountId.from_int

    def orders(self, n: int, **kw: Any) -> None:
        for _ in range(n):
            r = self.engine.start_pre_trade(_order(self.pkg, **kw))
            self.log.append((r.ok, [(x.policy, x.code, x.reason, x.details, x.scope)
                                    for x in r.rejects]))

    def configure(self, fn: Callable[[Any], None]) -> None:
        try:
            fn(self.engine.configure())
        except Exception as exc:
            kind = getattr(exc, "kind", None)
            self.log.append(("raised", type(exc).__name__, str(exc), None if kind is None
                             else int(kind)))
        else:
            self.log.append(("ok",))

    def unblock(self, acct: int = 1) -> None:
        self.engine.accounts().unblock(self.acc(acct))

    def report(self, pnl: str, fee: str = "0", acct: int = 1) -> None:
        p = self.pkg.param
        rep = self.pkg.ExecutionReport(
            operation=self.pkg.ExecutionReportOperation(
                instrument=self.pkg.Instrument("AAPL", "USD"), side=p.Side.BUY,
                account_id=self.acc(acct),
            ),
            financial_impact=self.pkg.FinancialImpact(pnl=p.Pnl(pnl), fee=p.Fee(fee)),
        )
        res = self.engine.apply_execution_report(rep)
        self.log.append([(b.code, b.reason, b.details) for b in res.account_blocks])


def _both(
    build: Callable[[Any], Any], script: Callable[[Script], None], book: bool = False
) -> None:
    """Run ``script`` on openpit and on ours (the Engine, or the Book alone with ``book``)."""
    logs = []
    for pkg in (openpit, openpit_shm):
        if book and pkg is openpit_shm:
            engine = BookEngine([build(pkg)])
        else:
            engine = pkg.Engine.builder().no_sync().builtin(build(pkg)).build()
        s = Script(pkg, engine)
        script(s)
        logs.append(s.log)
    assert logs[1] == logs[0]


def _rate(axis: str, limit: int) -> Callable[[Any], Any]:
    def build(pkg: Any) -> Any:
        P = pkg.pretrade.policies
        acc = pkg.param.AccountId.from_int(1)
        b = P.build_rate_limit()
        lim = P.RateLimit(limit, HOUR)
        return {
            "broker": lambda: b.broker_barrier(P.RateLimitBrokerBarrier(lim)),
            "asset": lambda: b.asset_barriers(P.RateLimitAssetBarrier(lim, "USD")),
            "account": lambda: b.account_barriers(P.RateLimitAccountBarrier(lim, acc)),
            "pair": lambda: b.account_asset_barriers(
                P.RateLimitAccountAssetBarrier(lim, acc, "USD")
            ),
        }[axis]()

    return build


def _set_rate(s: Script, axis: str, limit: int | None, window: datetime.timedelta = HOUR) -> None:
    P, acc = s.P, s.acc(1)
    lim = P.RateLimit(limit, window) if limit is not None else None

    def fn(c: Any) -> None:
        if axis == "broker":
            if lim is None:
                c.rate_limit(RL, clear_broker=True)
            else:
                c.rate_limit(RL, broker=P.RateLimitBrokerBarrier(lim))
        elif axis == "asset":
            items = [] if lim is None else [P.RateLimitAssetBarrier(lim, "USD")]
            c.rate_limit(RL, asset_barriers=items)
        elif axis == "account":
            items = [] if lim is None else [P.RateLimitAccountBarrier(lim, acc)]
            c.rate_limit(RL, account_barriers=items)
        else:
            items = [] if lim is None else [P.RateLimitAccountAssetBarrier(lim, acc, "USD")]
            c.rate_limit(RL, account_asset_barriers=items)

    s.configure(fn)


@pytest.mark.parametrize("axis", ["broker", "asset", "account", "pair"])
def test_should_keep_live_counters_of_surviving_rate_keys(axis: str) -> None:
    def script(s: Script) -> None:
        s.orders(3)  # 3 attempts against 2: the third is rejected and still counted
        _set_rate(s, axis, 4)
        s.orders(2)
        _set_rate(s, axis, 6, datetime.timedelta(hours=2))  # a new window keeps the count
        s.orders(2)

    _both(_rate(axis, 2), script)


@pytest.mark.parametrize("axis", ["broker", "asset", "account", "pair"])
def test_should_restart_or_resume_removed_rate_keys_like_openpit(axis: str) -> None:
    # broker/asset windows start fresh when re-added; account logs resume and
    # record nothing while their barrier is absent
    def script(s: Script) -> None:
        s.orders(3)
        _set_rate(s, axis, None)
        s.orders(3)
        _set_rate(s, axis, 8)
        s.orders(2)

    _both(_rate(axis, 4), script)


@pytest.mark.parametrize(
    "bad",
    [
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(1, HOUR)), clear_broker=True)),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(1, datetime.timedelta(0))))),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(1, HUGE)))),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(1, -HOUR)))),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(1, 5)))),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(-1, HOUR)))),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, broker=s.P.RateLimitBrokerBarrier(s.P.RateLimit(2**64, HOUR)))),
        lambda s: s.configure(lambda c: c.rate_limit(RL, broker="x")),
        lambda s: s.configure(lambda c: c.rate_limit(RL, clear_broker=1)),
        lambda s: s.configure(lambda c: c.rate_limit(RL, asset_barriers=["x"])),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, asset_barriers=[s.P.RateLimitAssetBarrier(s.P.RateLimit(1, HOUR), "")])),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, account_barriers=[s.P.RateLimitAccountBarrier(s.P.RateLimit(1, HOUR), 5)])),
        lambda s: s.configure(lambda c: c.rate_limit(  # second axis invalid: nothing applies
            RL, asset_barriers=[s.P.RateLimitAssetBarrier(s.P.RateLimit(0, HOUR), "USD")],
            account_barriers=[s.P.RateLimitAccountBarrier(
                s.P.RateLimit(1, datetime.timedelta(0)), s.acc(1))])),
        lambda s: s.configure(lambda c: c.rate_limit(
            RL, asset_barriers=(s.P.RateLimitAssetBarrier(s.P.RateLimit(0, HOUR), "USD"),))),
    ],
)
def test_should_refuse_bad_rate_retunes_like_openpit_and_keep_the_old_settings(bad: Any) -> None:
    def script(s: Script) -> None:
        s.orders(2)
        bad(s)
        s.orders(2)

    _both(_rate("broker", 3), script)


def _size(pkg: Any) -> Any:
    P = pkg.pretrade.policies
    return P.build_order_size_limit().broker_barrier(
        P.OrderSizeBrokerBarrier(P.OrderSizeLimit(max_quantity=pkg.param.Quantity(10)))
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda s, L: s.configure(lambda c: c.order_size_limit(OSL, clear_broker=True)),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, asset_barriers=[
                s.P.OrderSizeAssetBarrier(L(max_quantity=1, max_notional=3), "AAPL")])),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, account_asset_barriers=[s.P.OrderSizeAccountAssetBarrier(
                L(max_notional="15.50"), s.acc(1), "USD")])),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, broker=s.P.OrderSizeBrokerBarrier(L(max_notional="5.0")))),
        lambda s, L: s.configure(lambda c: c.order_size_limit(  # VALIDATION: duplicate key
            OSL, asset_barriers=[s.P.OrderSizeAssetBarrier(L(max_quantity=1), "A")] * 2)),
        lambda s, L: s.configure(lambda c: c.order_size_limit(  # VALIDATION: empty limit
            OSL, broker=s.P.OrderSizeBrokerBarrier(L()))),
        lambda s, L: s.configure(lambda c: c.order_size_limit(  # VALIDATION before dup: empty
            OSL, asset_barriers=[s.P.OrderSizeAssetBarrier(L(max_quantity=1), "A"),
                                 s.P.OrderSizeAssetBarrier(L(), "A")])),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, asset_barriers=[s.P.OrderSizeAssetBarrier("x", "A")])),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, broker=s.P.OrderSizeBrokerBarrier(L(max_quantity=1)), clear_broker=True)),
        lambda s, L: s.configure(lambda c: c.order_size_limit(
            OSL, account_asset_barriers=[
                s.P.OrderSizeAccountAssetBarrier(L(max_quantity=1), 5, "A")])),
    ],
)
def test_should_retune_order_size_like_openpit(change: Any) -> None:
    def script(s: Script) -> None:
        s.orders(1, qty="12", price="1.5")
        change(s, s.P.OrderSizeLimit)
        s.orders(1, qty="12", price="1.5")
        s.orders(1, qty="2", price="1.5")
        s.engine.start_pre_trade(s.pkg.Order())
        s.log.append([(x.code, x.reason) for x in s.engine.start_pre_trade(s.pkg.Order()).rejects])

    _both(_size, script)


def engine_keeps_report_scales() -> bool:
    """Whether the engine passes a report's decimal scales to ``Book.apply_report``.

    openpit prints an accumulated P&L at the scale its decimal sums leave it with
    ("-106.00"); the Book can only do so if the engine passes
    ``scales=`` (see docs/internals.md). Probed, not assumed.
    """
    P = openpit_shm.pretrade.policies
    p = openpit_shm.param
    engine = openpit_shm.Engine.builder().no_sync().builtin(
        P.build_pnl_bounds_killswitch().broker_barriers(P.PnlBoundsBrokerBarrier("USD", p.Pnl(-1)))
    ).build()
    rep = openpit_shm.ExecutionReport(
        operation=openpit_shm.ExecutionReportOperation(
            instrument=openpit_shm.Instrument("A", "USD"), side=p.Side.BUY,
            account_id=p.AccountId.from_int(1),
        ),
        financial_impact=openpit_shm.FinancialImpact(pnl=p.Pnl("-1.50"), fee=p.Fee(0)),
    )
    return "-1.50," in engine.apply_execution_report(rep).account_blocks[0].details


needs_scales = pytest.mark.xfail(
    not engine_keeps_report_scales(),
    reason="the engine does not pass report scales to Book.apply_report yet",
    strict=True,
)


def _pnl(pkg: Any) -> Any:
    P = pkg.pretrade.policies
    Pnl = pkg.param.Pnl
    return P.build_pnl_bounds_killswitch().broker_barriers(
        P.PnlBoundsBrokerBarrier("USD", Pnl("-100"), Pnl("200.0"))
    ).account_barriers(
        P.PnlBoundsAccountAssetBarrier(P.PnlBoundsBrokerBarrier("EUR", Pnl(-5)),
                                       pkg.param.AccountId.from_int(2), Pnl("-4.5"))
    )


_PNL_CHANGES = [
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, broker_barriers=[B("USD", s.pkg.param.Pnl(-1000))])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(  # VALIDATION: none left
            PNL, broker_barriers=[], account_barriers=[])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(  # VALIDATION (sequential)
            PNL, broker_barriers=[], account_barriers=[U(B("USD", -10), s.acc(1))])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, account_barriers=[U(B("USD", -10), s.acc(1))])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, broker_barriers=[B("USD")])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, broker_barriers=[B("EUR")], account_barriers=[U(B("USD"), s.acc(1))])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, account_barriers=[s.P.PnlBoundsAccountAssetBarrier(B("USD", -1), s.acc(1), 0)])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(PNL, broker_barriers=["x"])),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, broker_barriers=B("USD", -1))),
        lambda s, B, U: s.configure(lambda c: c.pnl_bounds_killswitch(
            PNL, broker_barriers=[B("", -1)])),
        lambda s, B, U: s.configure(lambda c: c.set_account_pnl(
            PNL, account=s.acc(1), settlement_asset="USD", pnl=s.pkg.param.Pnl("-100.001"))),
        lambda s, B, U: s.configure(lambda c: c.set_account_pnl(
            PNL, account=s.acc(1), settlement_asset="USD", pnl=5)),
        lambda s, B, U: s.configure(lambda c: c.set_account_pnl(
            PNL, account=1, settlement_asset="USD", pnl=5)),
        lambda s, B, U: s.configure(lambda c: c.set_account_pnl(
            PNL, account=s.acc(1), settlement_asset="", pnl=5)),
    ]


@needs_scales
@pytest.mark.parametrize("change", _PNL_CHANGES)
def test_should_retune_pnl_bounds_like_openpit_keeping_accumulators(change: Any) -> None:
    _both(_pnl, lambda s: _pnl_script(s, change))


@pytest.mark.parametrize("change", _PNL_CHANGES)
def test_should_retune_pnl_bounds_in_the_book_like_openpit(change: Any) -> None:
    _both(_pnl, lambda s: _pnl_script(s, change), book=True)


def _pnl_script(s: Script, change: Any) -> None:
    s.report("-60.50")
    s.report("-45", "0.5")  # -106.00: out of the broker barrier -> blocked
    s.orders(1)
    change(s, s.P.PnlBoundsBrokerBarrier, s.P.PnlBoundsAccountAssetBarrierUpdate)
    s.unblock()
    s.orders(2)
    s.orders(1, settle="EUR", acct=2)
    s.report("1")


@pytest.mark.parametrize("method", ["rate_limit", "order_size_limit", "pnl_bounds_killswitch"])
@pytest.mark.parametrize("policy", ["OrderValidationPolicy", RL, OSL, PNL, "Nope"])
def test_should_raise_unknown_or_type_mismatch_like_openpit(method: str, policy: str) -> None:
    def build(pkg: Any) -> Any:
        P = pkg.pretrade.policies
        return [P.build_order_validation(), P.build_rate_limit().asset_barriers(),
                P.build_order_size_limit().asset_barriers(), _pnl(pkg)]

    outcomes = []
    for pkg in (openpit, openpit_shm):
        b = pkg.Engine.builder().no_sync()
        for x in build(pkg):
            b = b.builtin(x)
        engine = b.build()
        try:
            getattr(engine.configure(), method)(policy)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc), int(exc.kind)))
    assert outcomes[1] == outcomes[0]
