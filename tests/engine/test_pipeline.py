"""The pre-trade pipeline: stages, ordering, rejects, latching, against openpit and openpit_shm."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Recorder, as_tuples, build, make_order, reject


def test_should_run_every_policy_in_order_and_roll_back_in_reverse(mod: Any) -> None:
    log: list = []
    engine = build(
        mod,
        Recorder(mod, "A", log),
        Recorder(mod, "B", log, main=[reject(mod, tag="B")]),
        Recorder(mod, "C", log),
        Recorder(mod, "D", log, main=[reject(mod, tag="D")]),
    )
    result = engine.execute_pre_trade(make_order(mod))
    assert [r.policy for r in result.rejects] == ["B", "D"]
    assert log == [
        *[("start", p) for p in "ABCD"],
        *[("main", p) for p in "ABCD"],
        *[("rollback", p) for p in "DCBA"],
    ]


def test_should_concatenate_start_rejects_in_registration_order(mod: Any) -> None:
    engine = build(
        mod,
        Recorder(mod, "A", [], start=[reject(mod, tag="a1"), reject(mod, tag="a2")]),
        Recorder(mod, "B", []),
        Recorder(mod, "C", [], start=(r for r in [reject(mod, "Other", tag="c")])),
    )
    result = engine.start_pre_trade(make_order(mod))
    assert not result and result.request is None
    assert as_tuples(result.rejects) == [
        ("A", "Custom", "ra1", "da1", "order", 0),
        ("A", "Custom", "ra2", "da2", "order", 0),
        ("C", "Other", "rc", "dc", "order", 0),
    ]
    assert repr(result) == "StartResult(ok=False, rejects=3)"


def test_should_commit_forward_and_refuse_a_second_finalization(mod: Any) -> None:
    log: list = []
    engine = build(mod, Recorder(mod, "A", log), Recorder(mod, "B", log))
    result = engine.execute_pre_trade(make_order(mod))
    assert repr(result) == "ExecuteResult(ok=True)"
    reservation = result.reservation
    reservation.commit()
    assert log[-2:] == [("commit", "A"), ("commit", "B")]
    for again in (reservation.commit, reservation.rollback):
        with pytest.raises(RuntimeError, match="reservation has already been finalized"):
            again()
    with pytest.raises(RuntimeError, match="reservation has already been finalized"):
        _ = reservation.lock


def test_should_execute_a_request_only_once(mod: Any) -> None:
    engine = build(mod, Recorder(mod, "A", []))
    started = engine.start_pre_trade(make_order(mod))
    assert repr(started) == "StartResult(ok=True)"
    started.request.execute().reservation.rollback()
    with pytest.raises(RuntimeError, match="request has already been executed"):
        started.request.execute()


def test_should_roll_back_an_unfinalized_reservation_when_collected(mod: Any) -> None:
    log: list = []
    engine = build(mod, Recorder(mod, "A", log), Recorder(mod, "B", log))
    engine.execute_pre_trade(make_order(mod))  # the result is dropped at once
    assert log[-2:] == [("rollback", "B"), ("rollback", "A")]


def test_should_latch_the_first_account_scope_reject_as_an_account_block(mod: Any) -> None:
    log: list = []
    engine = build(
        mod,
        Recorder(mod, "A", log, start=[reject(mod)]),
        Recorder(mod, "B", log, start=[reject(mod, scope="account", user_data=9, tag="B")]),
        Recorder(mod, "C", log, start=[reject(mod, scope="account", tag="C")]),
    )
    first = engine.start_pre_trade(make_order(mod))
    assert [r.scope for r in first.rejects] == ["order", "account", "account"]
    log.clear()
    again = engine.start_pre_trade(make_order(mod))
    assert log == [], "a blocked account runs no policy"
    assert as_tuples(again.rejects) == [("B", "AccountBlocked", "rB", "dB", "account", 9)]
    other = engine.start_pre_trade(make_order(mod, account=2))
    assert len(other.rejects) == 3


def test_should_latch_main_stage_account_rejects_too(mod: Any) -> None:
    engine = build(mod, Recorder(mod, "A", [], main=[reject(mod, scope="account", tag="m")]))
    engine.execute_pre_trade(make_order(mod))
    assert as_tuples(engine.start_pre_trade(make_order(mod)).rejects) == [
        ("A", "AccountBlocked", "rm", "dm", "account", 0)
    ]


def test_should_gate_again_before_the_main_stage(mod: Any) -> None:
    log: list = []
    engine = build(mod, Recorder(mod, "A", log))
    started = engine.start_pre_trade(make_order(mod))
    engine.accounts().block(mod.param.AccountId.from_int(1), "halt")
    log.clear()
    result = started.request.execute()
    assert log == []
    assert as_tuples(result.rejects) == [("Engine", "AccountBlocked", "halt", "halt", "account", 0)]


def test_should_answer_system_unavailable_when_the_request_outlives_its_engine(mod: Any) -> None:
    engine = build(mod, Recorder(mod, "A", []))
    started = engine.start_pre_trade(make_order(mod))
    del engine
    import gc

    gc.collect()
    result = started.request.execute()
    assert as_tuples(result.rejects) == [
        (
            "Engine",
            "SystemUnavailable",
            "engine is no longer available",
            "request handle outlived engine instance",
            "order",
            0,
        )
    ]


def test_should_reraise_the_first_start_exception_after_all_policies_ran(mod: Any) -> None:
    log: list = []
    engine = build(
        mod,
        Recorder(mod, "A", log),
        Recorder(mod, "B", log, start_raises=KeyError("b")),
        Recorder(mod, "C", log, start_raises=ValueError("c")),
    )
    with pytest.raises(KeyError, match="b"):
        engine.start_pre_trade(make_order(mod))
    assert log == [("start", "A"), ("start", "B"), ("start", "C")]


def test_should_roll_back_and_latch_nothing_when_a_main_hook_raises(mod: Any) -> None:
    log: list = []
    engine = build(
        mod,
        Recorder(mod, "A", log),
        Recorder(
            mod, "B", log, main_raises=ValueError("boom"), main=[reject(mod, scope="account")]
        ),
        Recorder(mod, "C", log),
    )
    with pytest.raises(ValueError, match="boom"):
        engine.execute_pre_trade(make_order(mod))
    assert log[-2:] == [("rollback", "C"), ("rollback", "A")]
    assert engine.start_pre_trade(make_order(mod)).ok


def test_should_block_every_account_after_a_failing_finalizer(mod: Any) -> None:
    log: list = []
    engine = build(
        mod,
        Recorder(mod, "A", log, fail="commit"),
        Recorder(mod, "B", log, fail="commit"),
        Recorder(mod, "C", log),
    )
    reservation = engine.execute_pre_trade(make_order(mod)).reservation
    with pytest.raises(KeyError, match="A"):
        reservation.commit()
    assert log[-3:] == [("commit", "A"), ("commit", "B"), ("commit", "C")]
    blocked = engine.execute_pre_trade(make_order(mod, account=77))
    assert as_tuples(blocked.rejects) == [
        (
            "Engine",
            "SystemUnavailable",
            "mutation finalizer failed",
            "a mutation commit or rollback callback failed; engine state may be inconsistent",
            "account",
            0,
        )
    ]
    engine.accounts().unblock_all()
    assert engine.start_pre_trade(make_order(mod, account=77)).ok


def test_should_collect_lock_prices_under_the_policy_group(mod: Any) -> None:
    p = mod.param
    engine = build(
        mod,
        Recorder(mod, "A", [], lock=[p.Price("1.5")]),
        Recorder(mod, "B", [], group=3, lock=["2", p.Price("3.25")]),
    )
    lock = engine.execute_pre_trade(make_order(mod)).reservation.lock
    assert lock.to_json() == '[["1.5"],[3,"2","3.25"]]'


def test_should_read_main_results_duck_typed(mod: Any) -> None:
    class Loose(Recorder):
        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            return self.b["result"]

    P = mod.pretrade
    for result, ok in [
        (None, True),
        ([reject(mod)], True),
        (P.PolicyDecision.reject([reject(mod)]), False),
    ]:
        engine = build(mod, Loose(mod, "A", [], result=result))
        assert engine.execute_pre_trade(make_order(mod)).ok is ok


@pytest.mark.parametrize(
    ("produced", "error", "message"),
    [
        (lambda m: [reject(m, "Nope")], ValueError, 'unsupported reject code "Nope"'),
        (lambda m: [reject(m, user_data=2**64)], ValueError, "reject.user_data must be an integer"),
        (lambda m: 5, TypeError, "not iterable"),
        (lambda m: ["x"], AttributeError, "code"),
    ],
)
def test_should_raise_for_malformed_custom_rejects(
    mod: Any, produced: Any, error: type, message: str
) -> None:
    engine = build(mod, Recorder(mod, "A", [], start=produced(mod)))
    with pytest.raises(error, match=message):
        engine.start_pre_trade(make_order(mod))


def test_should_pass_the_same_order_object_to_custom_policies(mod: Any) -> None:
    seen: list = []

    class Spy(Recorder):
        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            seen.append(order)
            return ()

    class BrokerOrder(mod.Order):
        pass

    order = BrokerOrder(operation=make_order(mod).operation)
    order.desk = "rates"
    build(mod, Spy(mod, "A", [])).start_pre_trade(order)
    assert seen[0] is order and seen[0].desk == "rates"


def test_should_type_check_orders_and_reports(mod: Any) -> None:
    engine = build(mod, Recorder(mod, "A", []))
    for bad in (None, 1, "order"):
        with pytest.raises(TypeError, match="order must inherit from openpit.Order"):
            engine.start_pre_trade(bad)
        with pytest.raises(TypeError, match="order must inherit from openpit.Order"):
            engine.execute_pre_trade(bad)
    with pytest.raises(TypeError, match="report must inherit from openpit.ExecutionReport"):
        engine.apply_execution_report(make_order(mod))


def test_should_give_contexts_the_account_group(mod: Any) -> None:
    groups: list = []

    class Spy(Recorder):
        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            groups.append((ctx.account_group, ctx.is_drop_copy, ctx.account_control is not None))
            return ()

    engine = build(mod, Spy(mod, "A", []))
    engine.start_pre_trade(make_order(mod))
    engine.accounts().register_group(
        [mod.param.AccountId.from_int(1)], mod.param.AccountGroupId.from_int(4)
    )
    engine.start_pre_trade(make_order(mod))
    assert groups == [(None, False, True), (mod.param.AccountGroupId.from_int(4), False, True)]


def test_should_keep_an_account_control_block_and_its_code(mod: Any) -> None:
    P = mod.pretrade

    class Blocker(Recorder):
        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            ctx.account_control.block(
                P.AccountBlock(policy="X", code="ComplianceRestriction", reason="r", details="d")
            )
            return P.PolicyPreTradeResult.reject([reject(mod)])

    engine = build(mod, Blocker(mod, "A", []))
    engine.execute_pre_trade(make_order(mod))
    assert as_tuples(engine.start_pre_trade(make_order(mod)).rejects) == [
        ("X", "ComplianceRestriction", "r", "d", "account", 0)
    ]
