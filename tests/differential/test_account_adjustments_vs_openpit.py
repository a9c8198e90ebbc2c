"""``Engine.apply_account_adjustment`` with custom policies decides exactly as openpit 0.10.

Seeded streams (``adjust_policies``) of batches whose items make tracer
policies accept, reject with either scope, report blocks or block through the
context, in every sync mode: the same results, the same call / commit /
rollback order, the same state after rollback or commit and the same next
order decision (an account-scope reject latches nothing). Then the edges the
streams do not reach: argument errors, exceptions in hooks and finalizers,
malformed policy results.
"""

from __future__ import annotations

from typing import Any

import openpit
import pytest

import openpit_shm as op
from tests.differential import adjust_policies as ap

SYNCS = ("no_sync", "full_sync", "account_sync")


def _engine(mod: Any, sync: str) -> Any:
    engine = ap.builder(mod, sync).build()
    ap.prepare(engine, mod)
    return engine


@pytest.mark.parametrize("sync", SYNCS)
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_should_decide_every_batch_of_a_seeded_stream_as_openpit(sync: str, seed: int) -> None:
    ap.STATE.clear()
    want = ap.run_stream(_engine(openpit, sync), openpit, seed, 60)
    got = ap.run_stream(_engine(op, sync), op, seed, 60)
    for step, (w, g) in enumerate(zip(want, got)):
        assert g == w, f"step {step}"
    outcomes = [w[0] for w in want]
    assert any(not ok for ok, *_ in outcomes), "some batches fail"
    assert any(ok and n for ok, _, _, _, n, _, _ in outcomes), "some batches commit outcomes"
    assert any(r and r[0][4] == "account" for _, _, _, r, *_ in outcomes), "account scope"
    assert any(b for *_, b in outcomes), "some batches report blocks"
    assert any(not d[0] for _, d, _ in want), "some blocks gate the next order"


# ---- the edges ---------------------------------------------------------------------------------


def _trace_policy(mod: Any, name: str, trace: list, raise_at: int | None = None,
                  result: Any = None, fail: str = "") -> Any:  # fmt: skip
    P = mod.pretrade

    class Traced(P.Policy):
        @property
        def name(self) -> str:
            return name

        def apply_account_adjustment(self, ctx: Any, account_id: Any, adjustment: Any) -> Any:
            trace.append(("call", name))
            if raise_at is not None and len([t for t in trace if t == ("call", name)]) > raise_at:
                raise KeyError(f"hook {name}")
            if result is not None:
                return result(mod, trace)

            def commit() -> None:
                trace.append(("commit", name))
                if fail == "commit":
                    raise ValueError(f"commit {name}")

            def rollback() -> None:
                trace.append(("rollback", name))
                if fail == "rollback":
                    raise ValueError(f"rollback {name}")

            return P.PolicyAccountAdjustmentResult(
                mutations=(mod.Mutation(commit=commit, rollback=rollback),)
            )

    return Traced()


def _adjust(mod: Any, policies: Any, n: int = 2) -> tuple[Any, list, Any]:
    """(outcome or exception, trace, engine-wide verdict on the next order) for one batch."""
    trace: list = []
    b = mod.Engine.builder().no_sync()
    for make in policies:
        b = b.pre_trade(make(mod, trace))
    engine = b.build()
    items = ap.items_of(mod, ["A000"] * n)
    try:
        r = engine.apply_account_adjustment(mod.param.AccountId.from_int(1), items)
        outcome: Any = (r.ok, r.failed_index, ap.rejects_of(r.rejects),
                        ap.blocks_of(r.account_blocks))  # fmt: skip
    except Exception as exc:
        outcome = (type(exc).__name__, str(exc))
    order = engine.start_pre_trade(ap._order(mod, 2, "AAPL"))
    return outcome, trace, (order.ok, ap.rejects_of(order.rejects))


class _Obj:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _mutation(mod: Any, trace: list, tag: str) -> Any:
    return mod.Mutation(commit=lambda: trace.append(("commit", tag)),
                        rollback=lambda: trace.append(("rollback", tag)))  # fmt: skip


def _result(**fields: Any) -> Any:
    def make(mod: Any, trace: list) -> Any:
        base = {"rejects": [], "mutations": [_mutation(mod, trace, "m1")],
                "account_adjustments": [], "account_blocks": []}  # fmt: skip
        base.update({k: (v(mod) if callable(v) else v) for k, v in fields.items()})
        return _Obj(**{k: v for k, v in base.items() if v is not _ABSENT})

    return make


_ABSENT = object()

EDGES: dict[str, list] = {
    "hook raises mid-batch": [
        lambda m, t: _trace_policy(m, "X", t),
        lambda m, t: _trace_policy(m, "Y", t, raise_at=1),
        lambda m, t: _trace_policy(m, "Z", t),
    ],
    "commit fails (engine-wide block, first error)": [
        lambda m, t: _trace_policy(m, "X", t, fail="commit"),
        lambda m, t: _trace_policy(m, "Y", t, fail="commit"),
    ],
    "rollback fails after a reject": [
        lambda m, t: _trace_policy(m, "X", t, fail="rollback"),
        lambda m, t: _trace_policy(m, "Y", t, fail="rollback"),
        lambda m, t: _trace_policy(m, "R", t, result=_result(rejects=lambda m: [
            m.pretrade.PolicyReject(code="Other", reason="r", details="d")])),
    ],
    "hook raises and a rollback fails": [
        lambda m, t: _trace_policy(m, "X", t, fail="rollback"),
        lambda m, t: _trace_policy(m, "Y", t, raise_at=0),
    ],
    "result None": [lambda m, t: _trace_policy(m, "X", t),
                    lambda m, t: _trace_policy(m, "N", t, result=lambda m, t: None)],
    "result PolicyPreTradeResult": [
        lambda m, t: _trace_policy(m, "X", t),
        lambda m, t: _trace_policy(
            m, "N", t, result=lambda m, t: m.pretrade.PolicyPreTradeResult.accept()),
    ],
    "unsupported reject code": [lambda m, t: _trace_policy(m, "X", t), lambda m, t: _trace_policy(
        m, "B", t, result=_result(rejects=[_Obj(code="Nope", reason="r", details="d",
                                                scope="order")]))],
    "reject without user_data": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        rejects=[_Obj(code="Other", reason="r", details="d", scope="account")]))],
    "reject without scope": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        rejects=[_Obj(code="Other", reason="r", details="d")]))],
    "negative reject user_data": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        rejects=[_Obj(code="Other", reason="r", details="d", scope="order", user_data=-1)]))],
    "rejects None": [lambda m, t: _trace_policy(m, "X", t),
                     lambda m, t: _trace_policy(m, "B", t, result=_result(rejects=None))],
    "mutation without hooks": [lambda m, t: _trace_policy(m, "X", t), lambda m, t: _trace_policy(
        m, "B", t, result=_result(mutations=lambda m: [_mutation(m, [], "q"), 5]))],
    "no mutations field": [lambda m, t: _trace_policy(
        m, "B", t, result=_result(mutations=_ABSENT))],
    "outcome entry not an entry": [lambda m, t: _trace_policy(
        m, "B", t, result=_result(account_adjustments=[5]))],
    "outcomes None": [lambda m, t: _trace_policy(
        m, "B", t, result=_result(account_adjustments=None))],
    "reject next to a bad outcome": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        rejects=lambda m: [m.pretrade.PolicyReject(code="Other", reason="r", details="d")],
        account_adjustments=[5]))],
    "block not a block": [lambda m, t: _trace_policy(
        m, "B", t, result=_result(account_blocks=[5]))],
    "look-alike block": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        account_blocks=[_Obj(policy="q", code="Other", reason="r", details="d")]))],
    "look-alike block with a bad code": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        account_blocks=[_Obj(policy="q", code="Nah", reason="r", details="d")]))],
    "look-alike block with an int policy": [lambda m, t: _trace_policy(m, "B", t, result=_result(
        account_blocks=[_Obj(policy=3, code="Other", reason="r", details="d")]))],
    "look-alike block with negative user_data": [lambda m, t: _trace_policy(
        m, "B", t, result=_result(account_blocks=[
            _Obj(policy="q", code="Other", reason="r", details="d", user_data=-1)]))],
}  # fmt: skip


@pytest.mark.parametrize("case", list(EDGES))
def test_should_handle_an_edge_as_openpit(case: str) -> None:
    assert _adjust(op, EDGES[case]) == _adjust(openpit, EDGES[case])


def _bad_calls(mod: Any) -> dict[str, Any]:
    aid = mod.param.AccountId.from_int(5)
    item = ap.items_of(mod, ["A000"])[0]
    return {
        "raw int account": lambda e: e.apply_account_adjustment(5, [item]),
        "raw int account and bad items": lambda e: e.apply_account_adjustment(5, 7),
        "int items": lambda e: e.apply_account_adjustment(aid, 7),
        "None items": lambda e: e.apply_account_adjustment(aid, None),
        "str items": lambda e: e.apply_account_adjustment(aid, "ab"),
        "a bad item after a good one": lambda e: e.apply_account_adjustment(aid, [item, 3]),
        "an Amount item": lambda e: e.apply_account_adjustment(
            aid, [mod.account_adjustment.Amount()]
        ),
        "missing items": lambda e: e.apply_account_adjustment(aid),
        "an extra argument": lambda e: e.apply_account_adjustment(aid, [], 1),
        "empty": lambda e: e.apply_account_adjustment(aid, []),
        "tuple": lambda e: e.apply_account_adjustment(aid, (item,)),
        "generator": lambda e: e.apply_account_adjustment(aid, (x for x in [item])),
        "keywords": lambda e: e.apply_account_adjustment(account_id=aid, adjustments=[item]),
    }


def _outcome(call: Any, engine: Any, trace: list) -> tuple:
    trace.clear()
    try:
        r = call(engine)
        return ("ok", r.ok, r.failed_index, len(r.outcomes), repr(r), list(trace))
    except Exception as exc:
        return (type(exc).__name__, str(exc), list(trace))


@pytest.mark.parametrize("case", list(_bad_calls(op)))
@pytest.mark.parametrize("sync", SYNCS)
def test_should_check_arguments_as_openpit(case: str, sync: str) -> None:
    answers = []
    for mod in (openpit, op):
        trace: list = []
        engine = getattr(mod.Engine.builder(), sync)().pre_trade(
            _trace_policy(mod, "X", trace)
        ).build()
        answers.append(_outcome(_bad_calls(mod)[case], engine, trace))
    assert answers[1] == answers[0]
