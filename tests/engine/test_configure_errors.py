"""engine.configure() name resolution errors, against openpit and openpit_shm."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.engine.conftest import Recorder


def _engine(mod: Any) -> Any:
    pol = mod.pretrade.policies
    return (
        mod.Engine.builder()
        .no_sync()
        .pre_trade(Recorder(mod, "A", []))
        .builtin(pol.build_order_validation())
        .builtin(
            pol.build_rate_limit().broker_barrier(
                pol.RateLimitBrokerBarrier(pol.RateLimit(5, datetime.timedelta(seconds=1)))
            )
        )
        .build()
    )


@pytest.mark.parametrize("name", ["Nope", "A", "OrderValidationPolicy"])
def test_should_report_unknown_names(mod: Any, name: str) -> None:
    with pytest.raises(mod.PolicyConfigureError, match=f"no configurable policy named {name}") as e:
        _engine(mod).configure().rate_limit(name)
    assert e.value.kind == mod.ConfigureErrorKind.UNKNOWN
    assert int(e.value.kind) == 0


def test_should_report_a_type_mismatch_with_openpits_text(mod: Any) -> None:
    c = _engine(mod).configure()
    with pytest.raises(mod.PolicyConfigureError) as e:
        c.order_size_limit("RateLimitPolicy")
    assert e.value.kind == mod.ConfigureErrorKind.TYPE_MISMATCH
    assert str(e.value) == (
        "policy RateLimitPolicy has settings type openpit::storage::config_cell::ArcSwapConfigCell"
        "<openpit::pretrade::policies::rate_limit::RateLimitSettings>, not openpit::storage::"
        "config_cell::ArcSwapConfigCell<openpit::pretrade::policies::order_size_limit::"
        "OrderSizeLimitSettings>"
    )


def test_should_report_validation_errors_with_the_validation_kind(mod: Any) -> None:
    pol = mod.pretrade.policies
    c = _engine(mod).configure()
    with pytest.raises(mod.PolicyConfigureError, match="window must be positive") as e:
        c.rate_limit(
            "RateLimitPolicy",
            broker=pol.RateLimitBrokerBarrier(pol.RateLimit(5, datetime.timedelta(0))),
        )
    assert e.value.kind == mod.ConfigureErrorKind.VALIDATION


def test_should_make_configure_error_kinds_unhashable_ints(mod: Any) -> None:
    kind = mod.ConfigureErrorKind.VALIDATION
    assert int(kind) == 2 and kind == 2
    with pytest.raises(TypeError):
        hash(kind)
