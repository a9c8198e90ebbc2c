"""AccountAdjustmentContext and AccountAdjustmentBatchResult: the engine-built handles.

Users cannot build either, in openpit or here. openpit's real objects come
from an engine batch; ours from the constructors the engine step will use
(``account_adjustment_context``, ``batch_result``), fed the same contents.
"""

from __future__ import annotations

import pickle
import re
from types import SimpleNamespace
from typing import Any

import pytest

from openpit_shm.adjustment_context import account_adjustment_context
from openpit_shm.pretrade.adjustment_result import AccountAdjustmentBatchResult, batch_result
from tests.param._support import outcome
from tests.refdata._sides import OURS, THEIRS, same

_ADDR = re.compile(r"0x[0-9a-f]+")


def _theirs_batch(reject: bool, items: int) -> tuple[Any, Any]:
    """An openpit batch result (and the context its policy saw) for ``items`` adjustments."""
    pt, seen = THEIRS.pretrade, {}

    class Probe(pt.Policy):
        @property
        def name(self) -> str:
            return "Probe"

        def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
            return None

        def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
            seen["ctx"] = ctx
            if not reject:
                return pt.PolicyAccountAdjustmentResult()
            policy_reject = pt.PolicyReject(
                code=pt.RejectCode.OTHER, reason="r", details="d", scope=pt.RejectScope.ACCOUNT
            )
            return pt.PolicyAccountAdjustmentResult(rejects=(policy_reject,))

    engine = THEIRS.top.Engine.builder().no_sync().pre_trade(policy=Probe()).build()
    adjustments = [THEIRS.aa.Adjustment() for _ in range(items)]
    result = engine.apply_account_adjustment(THEIRS.param.AccountId.from_int(1), adjustments)
    return result, seen.get("ctx")


def _ours_batch(reject: bool) -> Any:
    if reject:
        return batch_result(0, ["reject"], [], [])
    return batch_result(None, [], [], [])


def _handles(m: SimpleNamespace) -> tuple[Any, Any]:
    if m is THEIRS:
        return _theirs_batch(True, 2)[0], THEIRS.core.AccountAdjustmentContext
    return AccountAdjustmentBatchResult, OURS.core.AccountAdjustmentContext


@pytest.mark.parametrize("reject", [False, True])
def test_should_report_a_batch_as_openpit_does(reject: bool) -> None:
    theirs, _ = _theirs_batch(reject, 2)
    ours = _ours_batch(reject)
    for view in (repr, str, bool, lambda r: r.ok, lambda r: r.failed_index):
        assert outcome(lambda v=view: v(ours)) == outcome(lambda v=view: v(theirs))
    for name in ("rejects", "outcomes", "account_blocks"):
        assert len(getattr(ours, name)) == len(getattr(theirs, name))
        assert getattr(ours, name) is not getattr(ours, name)  # a fresh list each time


def test_should_refuse_to_build_or_extend_the_handles() -> None:
    theirs_result = type(_theirs_batch(False, 0)[0])
    cases = {
        "result": lambda m: (theirs_result if m is THEIRS else AccountAdjustmentBatchResult)(),
        "result-kw": lambda m: (theirs_result if m is THEIRS else AccountAdjustmentBatchResult)(
            ok=True
        ),
        "context": lambda m: m.core.AccountAdjustmentContext(),
        "context-arg": lambda m: m.core.AccountAdjustmentContext(1),
        "context-subclass": lambda m: type("S", (m.core.AccountAdjustmentContext,), {}),
        "result-subclass": lambda m: type(
            "S", (theirs_result if m is THEIRS else AccountAdjustmentBatchResult,), {}
        ),
    }
    for case in cases.values():
        same(case)


def test_should_keep_the_handles_read_only_and_unpicklable() -> None:
    theirs_result, theirs_ctx = _theirs_batch(False, 1)
    ours_result = _ours_batch(False)
    ours_ctx = account_adjustment_context("control", None)
    pairs = [(theirs_result, ours_result), (theirs_ctx, ours_ctx)]
    for theirs, ours in pairs:
        for action in (
            lambda o: setattr(o, "ok", False),
            lambda o: setattr(o, "account_group", None),
            lambda o: setattr(o, "foo", 1),
            pickle.dumps,
        ):
            assert outcome(lambda a=action, o=ours: a(o)) == outcome(
                lambda a=action, o=theirs: a(o)
            )
    assert _ADDR.sub("?", repr(ours_ctx)) == _ADDR.sub("?", repr(theirs_ctx))


def test_should_expose_the_context_fields() -> None:
    _, theirs_ctx = _theirs_batch(False, 1)
    control = object()
    group = OURS.param.AccountGroupId.from_int(7)
    ours_ctx = account_adjustment_context(control, group)
    assert ours_ctx.account_control is control and ours_ctx.account_group is group
    assert theirs_ctx.account_group is None
    assert account_adjustment_context(control, None).account_group is None
