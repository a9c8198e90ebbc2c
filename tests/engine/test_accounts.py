"""engine.accounts(): groups, blocks, texts and errors, against openpit and openpit_shm."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Recorder, as_tuples, build, make_order


def _engine(mod: Any) -> tuple[Any, Any, Any, Any]:
    engine = build(mod, Recorder(mod, "A", []))
    return (
        engine,
        engine.accounts(),
        mod.param.AccountId.from_int,
        mod.param.AccountGroupId.from_int,
    )


def test_should_keep_the_first_block_reason_and_replace_it_on_request(mod: Any) -> None:
    engine, acc, A, _ = _engine(mod)
    with pytest.raises(mod.AccountBlockError, match="account is not blocked"):
        acc.replace_block_reason(A(1), "x")
    acc.block(A(1), "first")
    acc.block(A(1), "second")
    assert engine.start_pre_trade(make_order(mod)).rejects[0].reason == "first"
    acc.replace_block_reason(A(1), "third")
    assert as_tuples(engine.start_pre_trade(make_order(mod)).rejects) == [
        ("Engine", "AccountBlocked", "third", "third", "account", 0)
    ]
    acc.unblock(A(1))
    acc.unblock(A(1))
    assert engine.start_pre_trade(make_order(mod)).ok


def test_should_gate_group_members_live(mod: Any) -> None:
    engine, acc, A, G = _engine(mod)
    acc.block_group(G(5), "desk halted")
    acc.block_group(G(5), "ignored")
    acc.register_group([A(1), A(2)], G(5))
    assert engine.start_pre_trade(make_order(mod, account=2)).rejects[0].reason == "desk halted"
    acc.replace_group_block_reason(G(5), "new reason")
    assert engine.start_pre_trade(make_order(mod, account=1)).rejects[0].reason == "new reason"
    acc.unregister_group([A(2)], G(5))
    assert engine.start_pre_trade(make_order(mod, account=2)).ok
    acc.block(A(1), "own")
    assert engine.start_pre_trade(make_order(mod, account=1)).rejects[0].reason == "own"
    acc.unblock_group(G(5))
    acc.unblock(A(1))
    assert engine.start_pre_trade(make_order(mod, account=1)).ok


def test_should_restore_a_persisted_cause_with_its_own_code(mod: Any) -> None:
    engine, acc, A, _ = _engine(mod)
    cause = mod.pretrade.AccountBlock(
        policy="X", code="Custom", reason="rr", details="dd", user_data=4
    )
    acc.block_with_cause(A(9), cause)
    assert as_tuples(engine.start_pre_trade(make_order(mod, account=9)).rejects) == [
        ("X", "Custom", "rr", "dd", "account", 4)
    ]
    acc.unblock_all()  # engine-wide only: the account block stays
    assert not engine.start_pre_trade(make_order(mod, account=9)).ok


def test_should_register_groups_atomically(mod: Any) -> None:
    _, acc, A, G = _engine(mod)
    acc.register_group([A(1)], G(5))
    with pytest.raises(
        mod.AccountGroupRegistrationError,
        match="account is already registered in a different group",
    ):
        acc.register_group([A(3), A(1)], G(6))
    assert acc.group_of(A(3)) is None
    with pytest.raises(mod.AccountGroupRegistrationError, match="already registered"):
        acc.register_group([A(1)], G(5))
    with pytest.raises(mod.AccountGroupRegistrationError, match="it belongs to a different group"):
        acc.unregister_group([A(1)], G(6))
    with pytest.raises(mod.AccountGroupRegistrationError, match="it belongs to no group"):
        acc.unregister_group([A(3)], G(6))
    acc.register_group([A(4)], 7)
    assert acc.group_of(A(4)) == G(7)
    acc.unregister_group([A(1)], G(5))
    assert acc.group_of(A(1)) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda acc, m: acc.register_group(
            [m.param.AccountId.from_int(1)], m.param.AccountGroupId.DEFAULT
        ),
        lambda acc, m: acc.unregister_group(
            [m.param.AccountId.from_int(1)], m.param.AccountGroupId.DEFAULT
        ),
    ],
)
def test_should_refuse_the_default_group_for_membership(mod: Any, call: Any) -> None:
    _, acc, _, _ = _engine(mod)
    with pytest.raises(mod.AccountGroupRegistrationError, match="reserved default account group"):
        call(acc, mod)


@pytest.mark.parametrize("method", ["block_group", "unblock_group", "replace_group_block_reason"])
def test_should_refuse_the_default_group_for_group_blocks(mod: Any, method: str) -> None:
    _, acc, _, _ = _engine(mod)
    args = ("r",) if method != "unblock_group" else ()
    with pytest.raises(mod.AccountBlockError, match="reserved default account group"):
        getattr(acc, method)(mod.param.AccountGroupId.DEFAULT, *args)


def test_should_refuse_replacing_the_reason_of_an_unblocked_group(mod: Any) -> None:
    _, acc, _, G = _engine(mod)
    with pytest.raises(mod.AccountBlockError, match="account group is not blocked"):
        acc.replace_group_block_reason(G(5), "x")


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("x", "must be an AccountGroupId or integer in range 1..=4294967295"),
        (2**40, "must be an AccountGroupId or integer"),
        (-1, "must be an AccountGroupId or integer"),
        (0, "must not equal the reserved default group"),
    ],
)
def test_should_validate_group_ids(mod: Any, group: Any, message: str) -> None:
    _, acc, A, _ = _engine(mod)
    with pytest.raises(ValueError, match=message):
        acc.register_group([A(2)], group)


def test_should_type_check_accounts_and_reasons(mod: Any) -> None:
    _, acc, A, _ = _engine(mod)
    for call in (lambda: acc.block(1, "x"), lambda: acc.unblock(1), lambda: acc.group_of(1)):
        with pytest.raises(TypeError, match="account_id must be openpit.param.AccountId"):
            call()
    with pytest.raises(TypeError, match="'int' object is not an instance of 'str'"):
        acc.block(A(1), 5)
    with pytest.raises(TypeError, match="is not an instance of 'AccountBlock'"):
        acc.block_with_cause(A(1), "cause")
    with pytest.raises(TypeError):
        mod.Accounts()


def test_should_share_state_between_handles(mod: Any) -> None:
    engine, acc, A, _ = _engine(mod)
    acc.block(A(1), "via first handle")
    assert engine.accounts() is not acc
    engine.accounts().unblock(A(1))
    assert engine.start_pre_trade(make_order(mod)).ok
