"""apply_execution_report: fan-out, results, recorded blocks, hook validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Recorder, as_tuples, build, make_order, make_report


def _block(mod: Any, policy: str = "A", user_data: int = 0) -> Any:
    return mod.pretrade.AccountBlock(
        policy=policy, code="PnlKillSwitchTriggered", reason="rr", details="dd", user_data=user_data
    )


def test_should_call_every_policy_with_keywords_and_concatenate_blocks(mod: Any) -> None:
    log: list = []
    P = mod.pretrade
    engine = build(
        mod,
        Recorder(mod, "A", log, report=P.PostTradeResult(account_blocks=[_block(mod, "A")])),
        Recorder(mod, "B", log, report=None),
        Recorder(mod, "C", log, report=P.PostTradeResult(account_blocks=[_block(mod, "C", 3)])),
    )
    result = engine.apply_execution_report(make_report(mod))
    assert log == [("report", "A"), ("report", "B"), ("report", "C")]
    assert [(b.policy, b.user_data) for b in result.account_blocks] == [("A", 0), ("C", 3)]
    assert (
        repr(result) == "PostTradeResult(account_blocks=2, account_pnls=0, account_adjustments=0)"
    )
    # The first block is recorded and keeps its own code.
    assert as_tuples(engine.start_pre_trade(make_order(mod)).rejects) == [
        ("A", "PnlKillSwitchTriggered", "rr", "dd", "account", 0)
    ]


def test_should_keep_the_first_cause_and_still_report_later_blocks(mod: Any) -> None:
    P = mod.pretrade
    engine = build(
        mod, Recorder(mod, "A", [], report=P.PostTradeResult(account_blocks=[_block(mod)]))
    )
    engine.accounts().block(mod.param.AccountId.from_int(1), "earlier")
    result = engine.apply_execution_report(make_report(mod))
    assert len(result.account_blocks) == 1
    assert engine.start_pre_trade(make_order(mod)).rejects[0].reason == "earlier"


def test_should_block_the_whole_engine_when_the_report_has_no_account(mod: Any) -> None:
    P = mod.pretrade
    engine = build(
        mod, Recorder(mod, "A", [], report=P.PostTradeResult(account_blocks=[_block(mod)]))
    )
    engine.apply_execution_report(mod.ExecutionReport())
    assert as_tuples(engine.start_pre_trade(make_order(mod, account=42)).rejects) == [
        (
            "Engine",
            "AccountBlocked",
            "account is blocked due to kill-switch",
            "kill-switch was previously triggered for this account",
            "account",
            0,
        )
    ]
    assert as_tuples(engine.execute_pre_trade(mod.Order(operation=None)).rejects) == [
        (
            "Engine",
            "MissingRequiredField",
            "account could not be verified as account ID is missing",
            "unable to check account for blocking",
            "order",
            0,
        )
    ]


@pytest.mark.parametrize(
    ("returned", "error", "message"),
    [
        (True, TypeError, "bool True no longer maps to a synthetic account block"),
        (5, AttributeError, "account_blocks"),
        ([], AttributeError, "account_blocks"),
    ],
)
def test_should_validate_what_custom_hooks_return(
    mod: Any, returned: Any, error: type, message: str
) -> None:
    engine = build(mod, Recorder(mod, "A", [], report=returned))
    with pytest.raises(error, match=message):
        engine.apply_execution_report(make_report(mod))


@pytest.mark.parametrize("returned", [None, False])
def test_should_accept_none_and_false(mod: Any, returned: Any) -> None:
    engine = build(mod, Recorder(mod, "A", [], report=returned))
    assert engine.apply_execution_report(make_report(mod)).account_blocks == []


def test_should_record_later_blocks_before_raising_the_first_exception(mod: Any) -> None:
    log: list = []
    P = mod.pretrade
    engine = build(
        mod,
        Recorder(mod, "A", log, report_raises=KeyError("first")),
        Recorder(mod, "B", log, report=P.PostTradeResult(account_blocks=[_block(mod, "B")])),
        Recorder(mod, "C", log, report_raises=ValueError("second")),
    )
    with pytest.raises(KeyError, match="first"):
        engine.apply_execution_report(make_report(mod))
    assert log == [("report", "A"), ("report", "B"), ("report", "C")]
    assert engine.start_pre_trade(make_order(mod)).rejects[0].policy == "B"


def test_should_give_the_post_trade_context_the_group(mod: Any) -> None:
    groups: list = []

    class Spy(Recorder):
        def apply_execution_report(self, ctx: Any, report: Any) -> Any:
            groups.append(ctx.account_group)
            return None

    engine = build(mod, Spy(mod, "A", []))
    engine.apply_execution_report(make_report(mod))
    engine.accounts().register_group([mod.param.AccountId.from_int(1)], 9)
    engine.apply_execution_report(make_report(mod))
    assert groups == [None, mod.param.AccountGroupId.from_int(9)]


def test_should_return_independent_empty_results_for_reports_that_block_nothing(mod: Any) -> None:
    P = mod.pretrade.policies
    engine = (
        mod.Engine.builder().no_sync()
        .builtin(P.build_pnl_bounds_killswitch().broker_barriers(
            P.PnlBoundsBrokerBarrier("USD", mod.param.Pnl("-100"))))
        .build()
    )  # fmt: skip
    quiet = [engine.apply_execution_report(make_report(mod, pnl="-10")) for _ in range(3)]
    for result in quiet:
        assert (result.account_blocks, result.account_pnls, result.account_adjustments) == (
            [], [], [],
        )  # fmt: skip
    quiet[0].account_blocks.append("mutated")  # a copy: no other result changes
    assert quiet[1].account_blocks == [] and quiet[2].account_blocks == []
    breach = engine.apply_execution_report(make_report(mod, pnl="-100"))  # -134 in all
    kill = mod.pretrade.RejectCode.PNL_KILL_SWITCH_TRIGGERED
    assert [b.code for b in breach.account_blocks] == [kill]
    assert quiet[1].account_blocks == []
    assert "account_blocks=0" in repr(quiet[2])
