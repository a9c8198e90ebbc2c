"""The registry of builtin policies: one :class:`~.kind_table.BuiltinKind` row per builtin.

Everything else reads this table: the Book (policy classes and kind ids),
``specs.make_spec`` (names and spec parsers), the engine builder (the
``_add_builtin_<name>`` hooks, :data:`BuiltinHooks`), ``engine.configure()``
(methods and settings types) and the texts (each policy class words its own
records). Adding a builtin adds one row here; see ``docs/internals.md``,
"Adding a builtin policy".

Kind ids: one name per builtin, imported below; it is the id the builtin's
kernel module dispatches on.
"""

from __future__ import annotations

from openpit_shm.kernels.order_size import KIND as ORDER_SIZE_ID
from openpit_shm.kernels.order_validation import KIND as ORDER_VALIDATION_ID
from openpit_shm.kernels.pnl_bounds import KIND as PNL_BOUNDS_ID
from openpit_shm.kernels.rate_limit import KIND as RATE_LIMIT_ID
from openpit_shm.kernels.restricted_instruments import KIND as RESTRICTED_INSTRUMENTS_ID
from openpit_shm.kernels.spot_funds import KIND as SPOT_FUNDS_ID

from . import (
    order_size,
    order_validation,
    pnl_bounds,
    rate_limit,
    restricted_instruments,
    spot_funds,
)
from .kind_table import BuiltinKind, BuiltinKinds, builder_hooks

__all__ = ["KINDS", "BuiltinHooks"]

KINDS = BuiltinKinds([
    BuiltinKind(
        name="order_validation",
        kind_id=ORDER_VALIDATION_ID,
        policy_name="OrderValidationPolicy",
        policy_class=order_validation.OrderValidation,
        parse_spec=order_validation.parse_spec,
    ),
    BuiltinKind(
        name="rate_limit",
        kind_id=RATE_LIMIT_ID,
        policy_name="RateLimitPolicy",
        policy_class=rate_limit.RateLimitPolicy,
        parse_spec=rate_limit.parse_spec,
        settings_type=rate_limit.SETTINGS_TYPE,
        configure={"rate_limit": rate_limit.configure_rate_limit},
    ),
    BuiltinKind(
        name="order_size_limit",
        kind_id=ORDER_SIZE_ID,
        policy_name="OrderSizeLimitPolicy",
        policy_class=order_size.OrderSizeLimitPolicy,
        parse_spec=order_size.parse_spec,
        settings_type=order_size.SETTINGS_TYPE,
        configure={"order_size_limit": order_size.configure_order_size_limit},
    ),
    BuiltinKind(
        name="pnl_bounds_killswitch",
        kind_id=PNL_BOUNDS_ID,
        policy_name="PnlBoundsKillSwitchPolicy",
        policy_class=pnl_bounds.PnlBoundsKillSwitch,
        parse_spec=pnl_bounds.parse_spec,
        settings_type=pnl_bounds.SETTINGS_TYPE,
        configure={
            "pnl_bounds_killswitch": pnl_bounds.configure_pnl_bounds_killswitch,
            "set_account_pnl": pnl_bounds.configure_set_account_pnl,
        },
    ),
    BuiltinKind(
        name="spot_funds",
        kind_id=SPOT_FUNDS_ID,
        policy_name="SpotFundsPolicy",
        policy_class=spot_funds.SpotFunds,
        parse_spec=spot_funds.parse_spec,
        settings_type=spot_funds.SETTINGS_TYPE,
        configure={"spot_funds": spot_funds.configure_spot_funds},
    ),
    BuiltinKind(
        name="restricted_instruments",
        kind_id=RESTRICTED_INSTRUMENTS_ID,
        policy_name="RestrictedInstrumentsPolicy",
        policy_class=restricted_instruments.RestrictedInstrumentsPolicy,
        parse_spec=restricted_instruments.parse_spec,
        settings_type=restricted_instruments.SETTINGS_TYPE,
        configure={
            "restricted_instruments": restricted_instruments.configure_restricted_instruments
        },
    ),
])  # fmt: skip

#: The engine builder's ``_add_builtin_<name>`` methods, one per row (a mixin).
BuiltinHooks = builder_hooks(KINDS, __name__)
