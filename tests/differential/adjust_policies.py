"""Account-adjustment streams run identically against openpit and openpit_shm engines.

``Tracer`` is a custom policy written once against either package (named by
``package``), module level so shard workers can unpickle it. What it does with
an item is spelled in the item's asset: ``"A"`` then one digit per tracer slot:

* 0: accept, registering a mutation that moves the tracer's value for the
  account eagerly (rollback moves it back), and report an outcome;
* 1 / 2: reject with order / account scope (after registering the mutation);
* 3: accept and report an account block;
* 4: accept with two mutations and two outcomes;
* 5: block the account through ``ctx.account_control`` right away, then accept.

Every call, commit and rollback is logged per (package, account). The first
tracer answers a ``PROBE`` order with a reject whose details are that state as
JSON, so a test reads it wherever the policy runs (a shard worker included).

``run_stream(engine, mod, seed, steps)`` drives a seeded stream of batches,
orders and probes and returns one comparable tuple per step.
"""

from __future__ import annotations

import importlib
import json
import random
from typing import Any

#: (package, account) -> {"value": {policy: int}, "log": [...]}; per process.
STATE: dict[tuple[str, int], dict[str, Any]] = {}

ACCOUNTS = (1, 2, 3, 4, 5, 6, 7, 8)
GROUPED = {3: 7, 6: 7, 8: 9}  #: account -> group, registered before the stream
SLOTS = 3


def _state(package: str, account: int) -> dict[str, Any]:
    return STATE.setdefault((package, account), {"value": {}, "log": []})


class Tracer:
    """A custom policy whose account-adjustment behaviour the items dictate (see module)."""

    def __init__(self, package: str, slot: int, group: int = 0) -> None:
        self.package = package
        self.slot = slot
        self.group = group

    @property
    def name(self) -> str:
        return f"Tracer{self.slot}"

    @property
    def policy_group_id(self) -> int:
        return self.group

    def _mod(self) -> Any:
        return importlib.import_module(self.package)

    def check_pre_trade_start(self, ctx: Any, order: Any) -> Any:
        op = order.operation
        if self.slot != 0 or op.instrument.underlying_asset != "PROBE":
            return ()
        st = _state(self.package, op.account_id.value)
        details = json.dumps(st, sort_keys=True)
        st["log"] = []
        P = self._mod().pretrade
        return (P.PolicyReject(code="Other", reason="probe", details=details),)

    def perform_pre_trade_check(self, ctx: Any, order: Any) -> Any:
        return self._mod().pretrade.PolicyPreTradeResult()

    def apply_execution_report(self, ctx: Any, report: Any) -> Any:
        return None

    def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
        mod = self._mod()
        P, param = mod.pretrade, mod.param
        account = account_id.value
        asset = adjustment.operation.asset
        action = int(asset[1 + self.slot])
        st = _state(self.package, account)
        log, values = st["log"], st["value"]
        group = ctx.account_group
        log.append([
            "call", self.name, asset, type(account_id).__name__,
            None if group is None else group.value, ctx.account_control is not None,
        ])  # fmt: skip
        mutations, outcomes = [], []
        for k in range(2 if action == 4 else 1):
            step = (self.slot + 1) * 10 + k

            def commit(asset: str = asset, k: int = k) -> None:
                log.append(["commit", self.name, asset, k])

            def rollback(asset: str = asset, k: int = k, step: int = step) -> None:
                values[self.name] -= step
                log.append(["rollback", self.name, asset, k])

            values[self.name] = values.get(self.name, 0) + step
            mutations.append(mod.Mutation(commit=commit, rollback=rollback))
            outcomes.append(
                P.AccountOutcomeEntry(
                    asset="USD",
                    balance=P.OutcomeAmount(
                        delta=param.PositionSize(step),
                        absolute=param.PositionSize(values[self.name]),
                    ),
                )
            )
        rejects, blocks = [], []
        if action in (1, 2):
            scope = P.RejectScope.ACCOUNT if action == 2 else P.RejectScope.ORDER
            rejects.append(
                P.PolicyReject(
                    code="RiskLimitExceeded", reason=f"{self.name} rejects",
                    details=f"item {asset}", scope=scope, user_data=account,
                )
            )  # fmt: skip
        if action == 3:
            blocks.append(
                P.AccountBlock(policy=self.name, code="Other", reason="reported",
                               details=f"item {asset}", user_data=self.slot)
            )  # fmt: skip
        if action == 5:
            ctx.account_control.block(
                P.AccountBlock(policy=self.name, code="ComplianceRestriction",
                               reason="ctx block", details=f"item {asset}")
            )  # fmt: skip
        return P.PolicyAccountAdjustmentResult(
            rejects=tuple(rejects), mutations=tuple(mutations),
            account_adjustments=tuple(outcomes), account_blocks=tuple(blocks),
        )  # fmt: skip


def builder(mod: Any, sync: str) -> Any:
    """Three tracers around a builtin (which takes no part in adjustments)."""
    b = getattr(mod.Engine.builder(), sync)()
    b = b.pre_trade(Tracer(mod.__name__, 0))
    b = b.builtin(mod.pretrade.policies.build_order_validation())
    b = b.pre_trade(Tracer(mod.__name__, 1, group=3))
    return b.pre_trade(Tracer(mod.__name__, 2, group=5))


def prepare(engine: Any, mod: Any) -> None:
    for account, group in GROUPED.items():
        engine.accounts().register_group(
            [mod.param.AccountId.from_int(account)], mod.param.AccountGroupId.from_int(group)
        )


def _order(mod: Any, account: int, underlying: str) -> Any:
    param = mod.param
    return mod.Order(
        operation=mod.OrderOperation(
            instrument=mod.Instrument(underlying, "USD"),
            account_id=param.AccountId.from_int(account),
            side=param.Side.BUY,
            trade_amount=param.TradeAmount.quantity(param.Quantity(1)),
            price=param.Price(10),
        )
    )


def rejects_of(rejects: Any) -> list[tuple]:
    return [(r.policy, str(r.code), r.reason, r.details, str(r.scope), r.user_data)
            for r in rejects]  # fmt: skip


def blocks_of(blocks: Any) -> list[tuple]:
    return [(b.policy, str(b.code), b.reason, b.details, b.user_data) for b in blocks]


def _digit(rng: random.Random) -> str:
    if rng.random() < 0.8:
        return "0"
    return str(rng.choice((1, 1, 2, 2, 3, 3, 4, 5)))


def batch_plan(rng: random.Random) -> tuple[int, list[str]]:
    """(account, item assets) of one batch."""
    account = rng.choice(ACCOUNTS)
    n = rng.choice((0, 1, 1, 2, 3, 4, 5))
    return account, ["A" + "".join(_digit(rng) for _ in range(SLOTS)) for _ in range(n)]


def items_of(mod: Any, assets: list[str]) -> list[Any]:
    aa = mod.account_adjustment
    return [aa.Adjustment(operation=aa.BalanceOperation(asset=a)) for a in assets]


def apply_step(engine: Any, mod: Any, account: int, assets: list[str]) -> tuple:
    """One batch, then an order for the account (no latch unless a block was reported),
    then the tracer state (read after an admin unblock: a probe must reach the policies)."""
    AccountId = mod.param.AccountId
    r = engine.apply_account_adjustment(AccountId.from_int(account), items_of(mod, assets))
    result = (
        r.ok, bool(r), r.failed_index, rejects_of(r.rejects),
        [repr(o) for o in r.outcomes], [o.policy_group_id for o in r.outcomes],
        blocks_of(r.account_blocks),
    )  # fmt: skip
    order = engine.start_pre_trade(_order(mod, account, "AAPL"))
    decision = (order.ok, rejects_of(order.rejects))
    engine.accounts().unblock(AccountId.from_int(account))
    probe = engine.start_pre_trade(_order(mod, account, "PROBE"))
    assert [r.reason for r in probe.rejects] == ["probe"], rejects_of(probe.rejects)
    return result, decision, json.loads(probe.rejects[0].details)


def run_stream(engine: Any, mod: Any, seed: int, steps: int) -> list[tuple]:
    rng = random.Random(seed)
    return [apply_step(engine, mod, *batch_plan(rng)) for _ in range(steps)]
