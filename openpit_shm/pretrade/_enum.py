"""Reject scopes and the 44 openpit reject codes, as string enums."""

from __future__ import annotations

import enum

from ..layout.records import REJECT_CODES

__all__ = ["EVALUATION_FAILURE_CODES", "RejectCode", "RejectScope"]


@enum.unique
class RejectScope(enum.StrEnum):
    """Whether a reject applies to the order alone or to its whole account."""

    ORDER = "order"
    ACCOUNT = "account"

    @classmethod
    def _missing_(cls, value: object) -> RejectScope | None:
        raise ValueError("scope must be either 'order' or 'account'")


#: Codes that mean "the engine could not evaluate", not "the order is bad".
EVALUATION_FAILURE_CODES = frozenset(
    {
        "MissingRequiredField",
        "UnknownInstrument",
        "UnknownAccount",
        "UnknownVenue",
        "UnknownClearingAccount",
        "UnknownCollateralAsset",
        "RiskConfigurationMissing",
        "ReferenceDataUnavailable",
        "OrderValueCalculationFailed",
        "SystemUnavailable",
        "MarkPriceUnavailable",
        "ArithmeticOverflow",
    }
)


@enum.unique
class RejectCode(enum.StrEnum):
    """Stable machine-readable reject codes; each value is the CamelCase code string."""

    MISSING_REQUIRED_FIELD = "MissingRequiredField"
    INVALID_FIELD_FORMAT = "InvalidFieldFormat"
    INVALID_FIELD_VALUE = "InvalidFieldValue"
    UNSUPPORTED_ORDER_TYPE = "UnsupportedOrderType"
    UNSUPPORTED_TIME_IN_FORCE = "UnsupportedTimeInForce"
    UNSUPPORTED_ORDER_ATTRIBUTE = "UnsupportedOrderAttribute"
    DUPLICATE_CLIENT_ORDER_ID = "DuplicateClientOrderId"
    TOO_LATE_TO_ENTER = "TooLateToEnter"
    EXCHANGE_CLOSED = "ExchangeClosed"
    UNKNOWN_INSTRUMENT = "UnknownInstrument"
    UNKNOWN_ACCOUNT = "UnknownAccount"
    UNKNOWN_VENUE = "UnknownVenue"
    UNKNOWN_CLEARING_ACCOUNT = "UnknownClearingAccount"
    UNKNOWN_COLLATERAL_ASSET = "UnknownCollateralAsset"
    INSUFFICIENT_FUNDS = "InsufficientFunds"
    INSUFFICIENT_MARGIN = "InsufficientMargin"
    INSUFFICIENT_POSITION = "InsufficientPosition"
    CREDIT_LIMIT_EXCEEDED = "CreditLimitExceeded"
    RISK_LIMIT_EXCEEDED = "RiskLimitExceeded"
    ORDER_EXCEEDS_LIMIT = "OrderExceedsLimit"
    ORDER_QTY_EXCEEDS_LIMIT = "OrderQtyExceedsLimit"
    ORDER_NOTIONAL_EXCEEDS_LIMIT = "OrderNotionalExceedsLimit"
    POSITION_LIMIT_EXCEEDED = "PositionLimitExceeded"
    CONCENTRATION_LIMIT_EXCEEDED = "ConcentrationLimitExceeded"
    LEVERAGE_LIMIT_EXCEEDED = "LeverageLimitExceeded"
    RATE_LIMIT_EXCEEDED = "RateLimitExceeded"
    PNL_KILL_SWITCH_TRIGGERED = "PnlKillSwitchTriggered"
    ACCOUNT_BLOCKED = "AccountBlocked"
    ACCOUNT_NOT_AUTHORIZED = "AccountNotAuthorized"
    COMPLIANCE_RESTRICTION = "ComplianceRestriction"
    INSTRUMENT_RESTRICTED = "InstrumentRestricted"
    JURISDICTION_RESTRICTION = "JurisdictionRestriction"
    WASH_TRADE_PREVENTION = "WashTradePrevention"
    SELF_MATCH_PREVENTION = "SelfMatchPrevention"
    SHORT_SALE_RESTRICTION = "ShortSaleRestriction"
    RISK_CONFIGURATION_MISSING = "RiskConfigurationMissing"
    REFERENCE_DATA_UNAVAILABLE = "ReferenceDataUnavailable"
    ORDER_VALUE_CALCULATION_FAILED = "OrderValueCalculationFailed"
    SYSTEM_UNAVAILABLE = "SystemUnavailable"
    MARK_PRICE_UNAVAILABLE = "MarkPriceUnavailable"
    ACCOUNT_ADJUSTMENT_BOUNDS_EXCEEDED = "AccountAdjustmentBoundsExceeded"
    ARITHMETIC_OVERFLOW = "ArithmeticOverflow"
    CUSTOM = "Custom"
    OTHER = "Other"

    def is_evaluation_failure(self) -> bool:
        """True for codes meaning the engine could not evaluate the request."""
        return self.value in EVALUATION_FAILURE_CODES


# The wire table (layout/records.py) and this enum must never drift apart.
assert tuple(c.value for c in RejectCode) == REJECT_CODES
KNOWN_CODES = frozenset(REJECT_CODES)
