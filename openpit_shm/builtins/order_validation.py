"""Order validation (``OrderValidationPolicy``): no state, no runtime configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpit_shm.kernels import codes as K
from openpit_shm.layout.state import KIND_ORDER_VALIDATION

from .base import BuiltinPolicy
from .texts import Description, Record, missing_field

if TYPE_CHECKING:
    from .book import Book

__all__ = ["OrderValidation"]


class OrderValidation(BuiltinPolicy):
    """Zero quantity / volume -> InvalidFieldValue; no trade amount -> MissingRequiredField."""

    kind = "order_validation"
    kind_id = KIND_ORDER_VALIDATION

    def describe(self, book: Book, rec: Record, subject: Any = None) -> Description:
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
