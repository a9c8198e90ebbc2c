"""The three-stage builder and its build-time checks, against the oracle and openpit_shm."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Recorder, build, make_order


def test_should_refuse_direct_engine_construction(mod: Any) -> None:
    with pytest.raises(TypeError):
        mod.Engine()


def test_should_have_no_build_before_a_policy_is_registered(mod: Any) -> None:
    assert not hasattr(mod.Engine.builder(), "build")
    assert not hasattr(mod.Engine.builder().no_sync(), "build")


@pytest.mark.parametrize("sync", ["no_sync", "full_sync", "account_sync"])
def test_should_build_in_every_sync_mode(mod: Any, sync: str) -> None:
    engine = build(mod, Recorder(mod, "A", []), sync=sync)
    assert engine.execute_pre_trade(make_order(mod)).ok


def test_should_accept_the_policy_by_keyword_and_chain_the_ready_builder(mod: Any) -> None:
    ready = mod.Engine.builder().no_sync().pre_trade(policy=Recorder(mod, "A", []))
    assert ready.pre_trade(Recorder(mod, "B", [])) is ready


def test_should_consume_the_builder_on_build(mod: Any) -> None:
    ready = mod.Engine.builder().no_sync().pre_trade(Recorder(mod, "A", []))
    ready.build()
    for call in (
        ready.build,
        lambda: ready.pre_trade(Recorder(mod, "B", [])),
        lambda: ready.builtin(mod.pretrade.policies.build_order_validation()),
    ):
        with pytest.raises(ValueError, match="engine builder is no longer available"):
            call()


def test_should_reject_duplicate_names_across_custom_and_builtin(mod: Any) -> None:
    with pytest.raises(ValueError, match="duplicate policy name in engine configuration: A"):
        build(mod, Recorder(mod, "A", []), Recorder(mod, "A", []))
    b = mod.Engine.builder().no_sync().builtin(mod.pretrade.policies.build_order_validation())
    b = b.pre_trade(Recorder(mod, "OrderValidationPolicy", []))
    with pytest.raises(ValueError, match="duplicate policy name.*: OrderValidationPolicy"):
        b.build()


def test_should_reject_duplicate_non_default_group_ids_but_not_group_zero(mod: Any) -> None:
    with pytest.raises(ValueError, match="duplicate non-default policy_group_id: 7"):
        build(mod, Recorder(mod, "A", [], group=7), Recorder(mod, "B", [], group=7))
    build(mod, Recorder(mod, "A", [], group=0), Recorder(mod, "B", [], group=0))


@pytest.mark.parametrize("group", [-1, 65536, "x"])
def test_should_reject_group_ids_outside_u16(mod: Any, group: Any) -> None:
    with pytest.raises(ValueError, match=r"policy_group_id must be an integer in range 0..=65535"):
        build(mod, Recorder(mod, "A", [], group=group))


def test_should_reject_a_non_string_name(mod: Any) -> None:
    class Named(Recorder):
        @property
        def name(self) -> Any:
            return 5

    with pytest.raises(ValueError, match="policy.name must be a string"):
        build(mod, Named(mod, "x", []))


def test_should_read_every_hook_at_registration(mod: Any) -> None:
    class Partial:
        name = "P"

        def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
            return ()

    with pytest.raises(AttributeError, match="perform_pre_trade_check"):
        mod.Engine.builder().no_sync().pre_trade(Partial())


def test_should_fail_on_an_entry_builder_that_has_no_build_hook(mod: Any) -> None:
    with pytest.raises(AttributeError, match="_build"):
        mod.Engine.builder().no_sync().builtin(mod.pretrade.policies.build_rate_limit())


def test_should_reuse_the_synced_builder_for_several_engines(mod: Any) -> None:
    synced = mod.Engine.builder().no_sync()
    a = synced.pre_trade(Recorder(mod, "A", [])).build()
    b = synced.pre_trade(Recorder(mod, "A", [])).build()
    assert a is not b
