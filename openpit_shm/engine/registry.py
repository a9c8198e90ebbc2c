"""What the builder records for each registered policy, and the build-time checks.

A registration is either a custom Python policy (hooks bound once, at
registration) or a builtin (a validated spec the kernels are configured from).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..param.lock import check_policy_group_id

__all__ = [
    "BuiltinEntry",
    "CustomEntry",
    "Registration",
    "check_custom_policy",
    "validate_registrations",
]


def check_custom_policy(policy: Any) -> Any:
    """Read the hooks openpit reads at registration; a missing one is an AttributeError."""
    policy.name  # noqa: B018 (openpit reads it here)
    policy.check_pre_trade_start  # noqa: B018
    policy.perform_pre_trade_check  # noqa: B018
    policy.apply_execution_report  # noqa: B018
    policy.apply_account_adjustment  # noqa: B018
    return policy


class CustomEntry:
    """A custom Python policy with its hooks bound once."""

    __slots__ = (
        "adjust",
        "dry_main",
        "dry_start",
        "index",
        "main",
        "name",
        "policy",
        "policy_group_id",
        "post_trade",
        "start",
    )
    is_builtin = False

    def __init__(self, policy: Any, name: Any, group: Any) -> None:
        self.policy = policy
        self.name = name
        self.policy_group_id = group
        self.index = -1
        self.start: Callable[..., Any] = policy.check_pre_trade_start
        self.main: Callable[..., Any] = policy.perform_pre_trade_check
        self.post_trade: Callable[..., Any] = policy.apply_execution_report
        self.adjust: Callable[..., Any] | None = policy.apply_account_adjustment
        # Optional dry-run hooks are found by attribute lookup, as in openpit.
        self.dry_start = getattr(policy, "check_pre_trade_start_dry_run", None) or self.start
        self.dry_main = getattr(policy, "perform_pre_trade_check_dry_run", None) or self.main

    @classmethod
    def of(cls, policy: Any) -> CustomEntry:
        return cls(policy, policy.name, getattr(policy, "policy_group_id", 0))


class BuiltinEntry:
    """A builtin policy: its validated spec (name, group id, parameters)."""

    __slots__ = ("adjust", "index", "spec")
    is_builtin = True

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.index = -1
        #: The builtin's account-adjustment hook (``engine.adjustments``), called like a
        #: custom policy's ``apply_account_adjustment``; None: it ignores adjustments.
        #: A builtin that reacts to adjustments (Spot Funds) sets it when the engine is
        #: assembled, and then takes part in batches in its registration slot.
        self.adjust: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def policy_group_id(self) -> int:
        return self.spec.policy_group_id


Registration = CustomEntry | BuiltinEntry


def validate_registrations(registrations: Sequence[Registration]) -> None:
    """openpit's build checks: names are strings and unique, non-default group ids unique."""
    names: set[str] = set()
    groups: set[int] = set()
    for i, entry in enumerate(registrations):
        entry.index = i
        if not isinstance(entry.name, str):
            raise ValueError("policy.name must be a string")
        gid = check_policy_group_id(entry.policy_group_id)
        if entry.name in names:
            raise ValueError(f"duplicate policy name in engine configuration: {entry.name}")
        names.add(entry.name)
        if gid != 0:
            if gid in groups:
                raise ValueError(f"duplicate non-default policy_group_id: {gid}")
            groups.add(gid)
    if len(registrations) >= 255:
        raise ValueError("an engine supports at most 254 policies")
