"""Engine-level exceptions, named and shaped as openpit 0.10 names and shapes them."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccountBlockError",
    "AccountGroupRegistrationError",
    "ConfigureErrorKind",
    "EngineClosedError",
    "PolicyConfigureError",
    "RejectError",
    "ReservationLostError",
    "ShardUnavailableError",
]


class RejectError(Exception):
    """Raised for binding misuse or callback-level failures (business rejects are results)."""


class AccountBlockError(Exception):
    """An account or group block operation was not valid (e.g. not blocked, default group)."""


class AccountGroupRegistrationError(Exception):
    """An account-group (un)registration was not valid; nothing was moved."""


class ConfigureErrorKind:
    """Why a runtime policy reconfiguration failed (0 UNKNOWN, 1 TYPE_MISMATCH, 2 VALIDATION).

    Like openpit's, members compare equal to their integer value, convert with
    ``int()`` and are deliberately unhashable.
    """

    UNKNOWN: ClassVar[ConfigureErrorKind]
    TYPE_MISMATCH: ClassVar[ConfigureErrorKind]
    VALIDATION: ClassVar[ConfigureErrorKind]

    __slots__ = ("_name", "_value")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str, value: int) -> None:
        self._name = name
        self._value = value

    def __int__(self) -> int:
        return self._value

    def __index__(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConfigureErrorKind):
            return self._value == other._value
        if isinstance(other, int) and not isinstance(other, bool):
            return self._value == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"ConfigureErrorKind.{self._name}"


ConfigureErrorKind.UNKNOWN = ConfigureErrorKind("UNKNOWN", 0)
ConfigureErrorKind.TYPE_MISMATCH = ConfigureErrorKind("TYPE_MISMATCH", 1)
ConfigureErrorKind.VALIDATION = ConfigureErrorKind("VALIDATION", 2)


class PolicyConfigureError(Exception):
    """Runtime policy reconfiguration failed; ``kind`` says why. The prior settings still apply."""

    kind: ConfigureErrorKind

    def __init__(self, message: str, kind: ConfigureErrorKind = ConfigureErrorKind.UNKNOWN) -> None:
        super().__init__(message)
        self.kind = kind


class ShardUnavailableError(RuntimeError):
    """A sharded engine could not reach a worker in bounded time (full ring, dead shard)."""


class ReservationLostError(ShardUnavailableError):
    """A sharded engine's reservation could not be finalized: the worker that held it is gone.

    Custom policies keep a reservation's mutations in the shard worker's
    memory; when that worker dies they are neither committed nor rolled back,
    and its restarted successor refuses the old handle.
    """


class EngineClosedError(ShardUnavailableError):
    """The sharded engine was closed: every call after ``close()`` (and one in flight) raises it."""
