"""Dry runs report what a real call would do and change nothing."""

from __future__ import annotations

import datetime
from typing import Any

from tests.engine.conftest import Recorder, as_tuples, build, make_order, reject


def test_should_spend_no_rate_limit_budget(mod: Any) -> None:
    pol = mod.pretrade.policies
    engine = (
        mod.Engine.builder()
        .no_sync()
        .builtin(
            pol.build_rate_limit().broker_barrier(
                pol.RateLimitBrokerBarrier(pol.RateLimit(1, datetime.timedelta(hours=1)))
            )
        )
        .build()
    )
    for _ in range(3):
        assert engine.execute_pre_trade_dry_run(make_order(mod)).is_pass
        assert engine.start_pre_trade_dry_run(make_order(mod)).is_pass
    assert engine.execute_pre_trade(make_order(mod)).ok
    report = engine.execute_pre_trade_dry_run(make_order(mod))
    assert not report and report.rejects[0].code == "RateLimitExceeded"
    assert repr(report) == "DryRunReport(reject, rejects=1)"


def test_should_report_the_block_a_real_call_would_latch_without_latching(mod: Any) -> None:
    engine = build(mod, Recorder(mod, "A", [], start=[reject(mod, scope="account", tag="x")]))
    report = engine.start_pre_trade_dry_run(make_order(mod))
    assert report.rejects is not None and report.account_block is not None
    block = report.account_block
    assert (block.policy, block.code, block.reason, block.details) == (
        "A",
        "AccountBlocked",
        "rx",
        "dx",
    )
    assert as_tuples(engine.start_pre_trade(make_order(mod)).rejects)[0][1] == "Custom"
    # Now the account is blocked: a dry run shows no *new* block.
    assert engine.execute_pre_trade_dry_run(make_order(mod)).account_block is None


def test_should_drop_main_stage_mutations_and_prefer_dry_hooks(mod: Any) -> None:
    log: list = []

    class WithDryHooks(Recorder):
        def check_pre_trade_start_dry_run(self, ctx: Any, order: Any) -> Any:
            log.append(("dry start", self.name))
            return ()

    engine = build(mod, WithDryHooks(mod, "A", log), Recorder(mod, "B", log, lock=["5"]))
    report = engine.execute_pre_trade_dry_run(make_order(mod))
    assert report.is_pass and report.rejects is None and bool(report)
    assert repr(report) == "DryRunReport(pass)"
    assert report.lock.to_json() == '[["5"]]'
    assert log == [("dry start", "A"), ("start", "B"), ("main", "A"), ("main", "B")]


def test_should_skip_the_main_stage_when_the_start_stage_rejects(mod: Any) -> None:
    log: list = []
    engine = build(mod, Recorder(mod, "A", log, start=[reject(mod)]))
    report = engine.execute_pre_trade_dry_run(make_order(mod))
    assert not report.is_pass
    assert ("main", "A") not in log
