"""A sharded engine with custom policies answers exactly as the in-process engine does.

Custom-policy workers decide records through the object pipeline (``RecordDoor``),
not the kernels, so two things the kernels write themselves must come out of that
door too:

* a dry run reports the block a real call would latch (``account_block``), for a
  custom account-scope reject and for the builtin P&L kill switch;
* batch results carry the in-process engine's flags, never the internal
  ``RESULT_TEXTS`` marker the per-order API uses to find the texts behind a record.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import openpit
import pytest

import openpit_shm as op
from openpit_shm.batch import order_records
from openpit_shm.layout.records import MSG_DRY_ORDER, MSG_DRY_START, MSG_ORDER, RESULT_TEXTS
from tests.engine.conftest import as_tuples, make_order, make_report
from tests.sharded.test_failures import _accounts_of

#: Accounts on shard 0 and shard 1 of a 2-worker engine.
SHARD0, SHARD1 = (int(_accounts_of(k, 2)[0]) for k in (0, 1))
CUSTOM_TARGETS = (SHARD0, SHARD1)  #: AccountScopeReject rejects these accounts' orders
KILL_SWITCHED = (int(_accounts_of(0, 2)[1]), int(_accounts_of(1, 2)[1]))


class AccountScopeReject:
    """Rejects the orders of ``CUSTOM_TARGETS`` in the start stage, with account scope.

    Module level and parameterized by the package's name, so the same policy
    runs in openpit, in process, and pickled into shard workers.
    """

    def __init__(self, package: str) -> None:
        self.package = package

    @property
    def name(self) -> str:
        return "AccountScopeReject"

    def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
        if order.operation.account_id.value not in CUSTOM_TARGETS:
            return ()
        pretrade = importlib.import_module(self.package).pretrade
        reject = pretrade.PolicyReject(
            code="RiskLimitExceeded",
            reason="account over its risk budget",
            details=f"account {order.operation.account_id.value}",
            scope=pretrade.RejectScope("account"),
            user_data=7,
        )
        return (reject,)

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        return importlib.import_module(self.package).pretrade.PolicyPreTradeResult()

    def apply_execution_report(self, ctx: Any, report: Any) -> Any:
        return None

    def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
        return None


def _builder(mod: Any) -> Any:
    pol = mod.pretrade.policies
    pnl = pol.build_pnl_bounds_killswitch().broker_barriers(
        pol.PnlBoundsBrokerBarrier("USD", mod.param.Pnl(-100), None)
    )
    return (
        mod.Engine.builder().account_sync().builtin(pnl).pre_trade(AccountScopeReject(mod.__name__))
    )


def _breach_and_unblock(engine: Any, mod: Any) -> None:
    """P&L below the bound, then an admin unblock: the next order re-triggers the kill switch."""
    for account in KILL_SWITCHED:
        post = engine.apply_execution_report(make_report(mod, account=account, pnl="-150", fee="0"))
        assert [b.code for b in post.account_blocks] == ["PnlKillSwitchTriggered"]
        engine.accounts().unblock(mod.param.AccountId.from_int(account))


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[Any, Any, Any]]:
    """(openpit, in-process openpit_shm, sharded openpit_shm), each after the same history."""
    oracle = _builder(openpit).build()
    local = _builder(op).build()
    with _builder(op).sharded(workers=2).build() as sharded:
        for engine, mod in ((oracle, openpit), (local, op), (sharded, op)):
            _breach_and_unblock(engine, mod)
        yield oracle, local, sharded


def _report(report: Any) -> tuple:
    block = report.account_block
    if block is not None:
        block = (block.policy, str(block.code), block.reason, block.details, block.user_data)
    return report.is_pass, as_tuples(report.rejects), block


@pytest.mark.parametrize("account", [*CUSTOM_TARGETS, *KILL_SWITCHED, 99_999])
@pytest.mark.parametrize("stage", ["start_pre_trade_dry_run", "execute_pre_trade_dry_run"])
def test_should_report_the_block_a_real_call_would_latch_like_in_process(
    engines: tuple[Any, Any, Any], stage: str, account: int
) -> None:
    oracle, local, sharded = engines
    want = _report(getattr(oracle, stage)(make_order(openpit, account=account)))
    assert _report(getattr(local, stage)(make_order(op, account=account))) == want
    got = _report(getattr(sharded, stage)(make_order(op, account=account)))
    assert got == want
    if account != 99_999:
        assert got[2] is not None and got[2][1] == "AccountBlocked", "a block would be latched"


def test_should_show_no_block_for_an_account_already_blocked(
    engines: tuple[Any, Any, Any],
) -> None:
    oracle, local, sharded = engines
    for engine, mod in ((oracle, openpit), (local, op), (sharded, op)):
        engine.accounts().block(mod.param.AccountId.from_int(KILL_SWITCHED[1]), reason="admin")
    reports = [
        _report(e.execute_pre_trade_dry_run(make_order(m, account=KILL_SWITCHED[1])))
        for e, m in ((oracle, openpit), (local, op), (sharded, op))
    ]
    assert reports[0] == reports[1] == reports[2]
    assert reports[2][2] is None
    for engine, mod in ((oracle, openpit), (local, op), (sharded, op)):
        engine.accounts().unblock(mod.param.AccountId.from_int(KILL_SWITCHED[1]))


def _records(engine: Any, iid: int) -> np.ndarray:
    accounts = [SHARD0, SHARD1, 99_999, KILL_SWITCHED[0], 99_999, SHARD1, 12_345]
    kinds = [MSG_DRY_START, MSG_DRY_ORDER, MSG_DRY_ORDER, MSG_DRY_START, MSG_ORDER, MSG_ORDER,
             MSG_ORDER]  # fmt: skip
    recs = order_records(
        engine, account=accounts, instrument=iid, side=1, quantity=1, price=10, units="decimal"
    )
    recs["kind"] = kinds
    recs["flags"][5:] |= op.layout.records.ORDER_AUTO_COMMIT
    recs["seq"] = np.arange(len(recs)) + 100
    return recs


def test_should_return_batch_results_with_the_in_process_flags(
    engines: tuple[Any, Any, Any],
) -> None:
    _, local, sharded = engines
    instrument = op.Instrument("AAPL", "USD")
    want = local.execute_batch(_records(local, local.register_instrument(instrument)))
    got = sharded.execute_batch(_records(sharded, sharded.register_instrument(instrument)))
    assert not (got["flags"] & RESULT_TEXTS).any(), "an internal flag leaked into the results"
    for field in ("seq", "status", "code", "policy", "count", "flags"):
        assert got[field].tolist() == want[field].tolist(), field
    # Texts were there to leak: custom rejects and kill-switch texts the kernels cannot carry.
    assert (want["count"] > 0).sum() >= 3
