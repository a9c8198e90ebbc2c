"""Surface check: openpit's account-adjustment and ReferenceBook names exist in openpit_shm
at the same import paths, with the same parameter names, kinds and defaults."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from tests.refdata._sides import OURS, THEIRS

AA_NAMES = sorted(THEIRS.aa.__all__)
CORE_ALIASES = {
    "AccountAdjustment": "Adjustment",
    "AccountAdjustmentAccountPnlOperation": "AccountPnlOperation",
    "AccountAdjustmentAmount": "Amount",
    "AccountAdjustmentBalanceOperation": "BalanceOperation",
    "AccountAdjustmentBounds": "Bounds",
    "AccountAdjustmentPositionOperation": "PositionOperation",
}
REFERENCE_NAMES = [
    "InstrumentId",
    "ReferenceBook",
    "ReferenceBookRegistrationError",
    "SettlementLag",
    "SettlementScheme",
    "SettlementUnit",
    "UnknownReferenceBookInstrumentId",
]


def _parameters(obj: Any) -> list[tuple[str, Any, Any]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def _public_members(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_should_export_the_same_account_adjustment_names() -> None:
    assert sorted(OURS.aa.__all__) == AA_NAMES


@pytest.mark.parametrize("name", AA_NAMES)
def test_should_give_each_model_openpits_signatures_and_members(name: str) -> None:
    theirs, ours = getattr(THEIRS.aa, name), getattr(OURS.aa, name)
    assert _parameters(ours) == _parameters(theirs)
    assert _parameters(ours.__init__) == _parameters(theirs.__init__)
    assert _public_members(ours) == _public_members(theirs)
    assert ours.__doc__


@pytest.mark.parametrize("alias", sorted(CORE_ALIASES))
def test_should_alias_the_models_in_core_and_the_top_level(alias: str) -> None:
    for side in (THEIRS, OURS):
        short = getattr(side.aa, CORE_ALIASES[alias])
        assert getattr(side.core, alias) is short
        assert getattr(side.top, alias) is short
        assert alias in side.core.__all__ and alias in side.top.__all__


def test_should_export_the_adjustment_context_in_core_and_the_top_level() -> None:
    for side in (THEIRS, OURS):
        assert side.core.AccountAdjustmentContext is side.top.AccountAdjustmentContext
        assert "AccountAdjustmentContext" in side.core.__all__
        assert _public_members(side.core.AccountAdjustmentContext) == {
            "account_control",
            "account_group",
        }


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_should_export_reference_names_from_core_only(name: str) -> None:
    theirs, ours = getattr(THEIRS.core, name), getattr(OURS.core, name)
    assert name in OURS.core.__all__
    assert hasattr(OURS.top, name) == hasattr(THEIRS.top, name)
    assert _public_members(ours) == _public_members(theirs)
    if isinstance(theirs, type) and issubclass(theirs, BaseException):
        assert [c.__name__ for c in ours.__mro__[1:]] == [c.__name__ for c in theirs.__mro__[1:]]
    else:
        assert _parameters(ours) == _parameters(theirs)


@pytest.mark.parametrize(
    "method",
    [
        "register",
        "register_with_id",
        "resolve",
        "set_settlement_scheme",
        "clear_settlement_scheme",
        "settlement_scheme",
    ],
)
def test_should_give_reference_book_methods_openpits_parameters(method: str) -> None:
    theirs = getattr(THEIRS.core.ReferenceBook, method)
    ours = getattr(OURS.core.ReferenceBook, method)
    assert _parameters(ours) == _parameters(theirs)
    book = OURS.core.ReferenceBook()
    assert _parameters(getattr(book, method)) == _parameters(
        getattr(THEIRS.core.ReferenceBook(), method)
    )


def test_should_give_uniform_openpits_parameters() -> None:
    assert _parameters(OURS.core.SettlementScheme.uniform) == _parameters(
        THEIRS.core.SettlementScheme.uniform
    )


def test_should_offer_the_batch_result_with_openpits_members() -> None:
    ours = OURS.pretrade.AccountAdjustmentBatchResult
    theirs = THEIRS.pretrade.AccountAdjustmentBatchResult
    assert _public_members(ours) == _public_members(theirs)
