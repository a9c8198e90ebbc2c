"""openpit_shm has openpit 0.10.0's public surface: same paths, signatures, enum members.

``tests/parity/surface.py`` walks the installed openpit (see there for what is
walked and how standard-library imports are told apart). Every entry must match,
except:

- ``ALLOW_LIST``: ``__module__`` strings whose classes' members are not walked,
  each with its reason. Nothing else may be allowed.
- ``PENDING``: known gaps, each naming the issue/branch that closes it. A new
  gap or a regression fails ``test_surface_matches_openpit``; a gap that has been
  closed fails ``test_pending_gaps_are_still_open`` until its entry is removed,
  so the list only shrinks.
"""

from __future__ import annotations

import pytest

from tests.parity.surface import surface_problems

# __module__ strings whose members are not walked, with the reason.
ALLOW_LIST: dict[str, str] = {}

_SPOT_FUNDS = "issue 11: the Spot Funds P&L-bounds preset and its limit-mode entries"
_STATIC_FACTORIES = (
    "issue 12: value types share classmethod factories (one copy per class for "
    "PyO3's argument-error texts); openpit's are staticmethods"
)

PENDING: dict[str, str] = {
    "core.AccountControl": "issue 12",
    "pretrade.AccountBlockOutcome": "issue 12: returned by Accounts.unblock_all-style bulk calls",
    "pretrade.AccountBlockOutcomes": "issue 12",
    "pretrade.PolicyConfigurationResult": "issue 12",
    "pretrade.policies.marketdata": _SPOT_FUNDS + " (pretrade/policies.py imports it)",
    "pretrade.policies.SpotFundsLimitModeAccountEntry.__init__": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsLimitModeAccountEntry.mode": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsLimitModeAccountGroupEntry.__init__": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsLimitModeAccountGroupEntry.mode": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsPnlBoundsAccountBarrier": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsPnlBoundsAccountGroupBarrier": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsPnlBoundsBarrier": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsPnlBoundsKillswitchBuilder": _SPOT_FUNDS,
    "pretrade.policies.SpotFundsPnlBoundsKillswitchReadyBuilder": _SPOT_FUNDS,
    "pretrade.policies.build_spot_funds_pnl_bounds_killswitch": _SPOT_FUNDS,
    **{
        f"param.{kind}.{factory}": _STATIC_FACTORIES
        for kind in (
            "CashFlow",
            "Fee",
            "Notional",
            "Pnl",
            "PositionSize",
            "Price",
            "Quantity",
            "Volume",
        )
        for factory in (
            "from_decimal",
            "from_decimal_rounded",
            "from_float",
            "from_float_rounded",
            "from_int",
            "from_string",
            "from_string_rounded",
        )
    },
}


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return surface_problems(ALLOW_LIST)


def test_allow_list_holds_module_strings_with_reasons() -> None:
    for module, reason in ALLOW_LIST.items():
        assert (module.startswith("openpit") and "." in module) or module == "openpit", module
        assert reason.strip(), f"{module}: no reason"


def test_surface_is_walked(problems: dict[str, list[str]]) -> None:
    # Guards the walk itself: a bug that walks nothing would pass everything.
    for key in (
        "openpit",
        "Engine.start_pre_trade",
        "param.Leverage.__init__",
        "pretrade.RejectCode.INSUFFICIENT_FUNDS",
    ):
        assert key in problems, key
    assert len(problems) > 900


def test_surface_matches_openpit(problems: dict[str, list[str]]) -> None:
    gaps = {key: found for key, found in problems.items() if found and key not in PENDING}
    assert not gaps, "\n".join(f"{key}: {'; '.join(found)}" for key, found in sorted(gaps.items()))


def test_pending_gaps_are_still_open(problems: dict[str, list[str]]) -> None:
    closed = sorted(key for key in PENDING if not problems.get(key))
    assert not closed, f"no longer missing, remove from PENDING: {closed}"
