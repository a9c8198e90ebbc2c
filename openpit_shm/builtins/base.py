"""The common shape of a builtin policy object, and runtime-configuration argument checks.

A builtin policy object is the Python side of one registered builtin: it
keeps the configuration as decimals (for texts and for the replace/keep rules
of ``engine.configure()``), writes it into the kernel state as fixed point
(``install``/``configure``), and turns the kernel's records back into
openpit's texts (``describe``). The kernels do the deciding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpit_shm.errors import ConfigureErrorKind, PolicyConfigureError
from openpit_shm.param._compat import downcast_error
from openpit_shm.param.asset import asset_text

from .arguments import BuiltinSpec, account_of, typed
from .book_rows import BookRows
from .texts import Description, Record

__all__ = [
    "BuiltinPolicy",
    "account_of",
    "asset_of",
    "flag",
    "sequence_of",
    "typed",
    "validation_error",
]


class BuiltinPolicy:
    """One registered builtin: its registration index, name, kind and live configuration.

    Its kind (``spec.kind``) names its row in the registry (``kinds.KINDS``),
    which is where the kind id, spec parser and configure methods are found.
    The Book a policy is handed is typed as ``book_rows.BookRows``: the
    registries and rows a policy reads and writes.
    """

    def __init__(self, spec: BuiltinSpec, index: int) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.name = spec.name
        self.index = index
        self.policy_group_id = spec.policy_group_id

    def install(self, book: BookRows) -> None:
        """Write the build-time configuration into the kernel state."""

    def restore(self, book: BookRows) -> None:
        """Rebuild the live configuration from the kernel state (``Book.attach``).

        The arena is authoritative: runtime retunes survive a restart because
        they are read back from the rows and header words ``install`` and
        ``configure`` wrote, never from a copy kept elsewhere.
        """

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        """Apply a runtime retune (``engine.configure().<method>(name, **settings)``)."""
        raise PolicyConfigureError(f"no configurable policy named {self.name}")

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        """openpit's texts for one of this policy's records (``subject``: the order/report)."""
        raise NotImplementedError


def validation_error(policy: str, message: str) -> PolicyConfigureError:
    """openpit's VALIDATION error: ``policy <name> rejected the update: <message>``."""
    return PolicyConfigureError(
        f"policy {policy} rejected the update: {message}", ConfigureErrorKind.VALIDATION
    )


def sequence_of(value: Any) -> Sequence[Any]:
    """A list/tuple argument (openpit: ``'X' object is not an instance of 'Sequence'``)."""
    if isinstance(value, str):
        raise TypeError("Can't extract `str` to `Vec`")
    if isinstance(value, bytes) or not isinstance(value, Sequence):
        raise downcast_error(value, "Sequence")
    return value


def asset_of(value: Any) -> str:
    """A runtime-configuration asset (openpit: ``asset must be a str`` / ``... not be empty``)."""
    return asset_text(value)


def flag(value: Any) -> bool:
    """A ``bool`` keyword (openpit: ``'int' object is not an instance of 'bool'``)."""
    if not isinstance(value, bool):
        raise downcast_error(value, "bool")
    return value
