"""Order validation (``OrderValidationPolicy``): no state, no runtime configuration."""

from __future__ import annotations

from typing import Any

from openpit_shm.kernels import codes as K

from .base import BuiltinPolicy
from .book_rows import BookRows
from .texts import Description, Record, missing_field

__all__ = ["OrderValidation", "parse_spec"]


def parse_spec() -> dict[str, Any]:
    """No configuration (``_add_builtin_order_validation`` takes only ``policy_group_id``)."""
    return {}


class OrderValidation(BuiltinPolicy):
    """Zero quantity / volume -> InvalidFieldValue; no trade amount -> MissingRequiredField."""

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        if rec.reason == K.RSN_MISSING_FIELD:
            return missing_field(self.name, rec)
        what = "volume" if rec.reason == K.RSN_OV_ZERO_VOLUME else "quantity"
        return (
            self.name,
            rec.code_name,
            f"order {what} must be non-zero",
            f"requested {what} 0 is not allowed",
            rec.scope,
            0,
        )
