"""Rate limit (``RateLimitPolicy``): configuration, runtime retune and texts.

Kernel: ``kernels.rate_limit``. Where each axis lives:

* broker and asset barriers: fixed-window rows in the ``shared`` array
  (``FW_*``: configured flag, max, window, live start/count);
* account and account+asset barriers: the account / account+asset rows
  (``*_RL_GEN/MAX/WINDOW``) plus each key's sliding log (``*_RL_LOG``).

Retune rules (openpit): ``None`` keeps an axis, a list replaces it, ``[]``
clears it; ``broker`` replaces, ``clear_broker=True`` removes (both at once
is an error). Surviving keys keep their live counters; a removed broker or
asset barrier loses its window (re-added, it starts fresh), while account and
account+asset logs survive removal untouched (nothing is recorded while the
barrier is absent) and resume if the key comes back. Validation happens before
anything changes.
"""

from __future__ import annotations

import datetime
from typing import Any

from openpit_shm.kernels import codes as K
from openpit_shm.kernels.control import ctl_fw_reset
from openpit_shm.kernels.sliding_log import log_class_for
from openpit_shm.layout.state import (
    AA_RL_GEN,
    AA_RL_MAX,
    AA_RL_WINDOW,
    AC_RL_GEN,
    AC_RL_MAX,
    AC_RL_WINDOW,
    FW_MAX,
    FW_ON,
    FW_WINDOW,
    GEN_SHIFT,
    H_LOG_CAP,
    H_RL_AA_GEN,
    H_RL_ACC_GEN,
    H_RL_N_AA,
    H_RL_N_ACC,
    H_RL_N_ASSET,
    H_T_AA,
    H_T_ACC,
    SH_ASSET_CAP,
    SH_BROKER,
)
from openpit_shm.param._compat import pyo3_check_call
from openpit_shm.pretrade.policies import (
    RateLimit,
    RateLimitAccountAssetBarrier,
    RateLimitAccountBarrier,
    RateLimitAssetBarrier,
    RateLimitBrokerBarrier,
)

from .arguments import (
    check_account_value,
    check_asset,
    check_max_orders,
    check_window_ns,
)
from .base import BuiltinPolicy, account_of, asset_of, flag, sequence_of, typed, validation_error
from .book_rows import BookRows
from .numbers import fmt_duration
from .registry import table_rows
from .texts import Description, Record, missing_field

__all__ = ["SETTINGS_TYPE", "RateLimitPolicy", "configure_rate_limit", "parse_spec", "u64_bits"]

_U64 = 1 << 64
_U64_MAX = _U64 - 1
_WINDOW_ERROR = "rate limit window must be positive and fit in u64 nanoseconds, got {}"
_AXIS = {
    K.RSN_RL_BROKER: "broker barrier",
    K.RSN_RL_ASSET: "asset barrier",
    K.RSN_RL_ACCOUNT: "account barrier",
    K.RSN_RL_ACCOUNT_ASSET: "account+asset barrier",
}

Rate = tuple[int, int]  # (max_orders, window ns), both u64

#: openpit's settings type (``configure()``'s TYPE_MISMATCH text names it).
SETTINGS_TYPE = "rate_limit::RateLimitSettings"


def u64_bits(value: int) -> int:
    """A u64 as the int64 bit pattern the state stores."""
    return value - _U64 if value >= 1 << 63 else value


def _window_rate(sh: Any, row: int) -> Rate | None:
    """(max_orders, window ns) of a configured fixed window in ``shared``, else None."""
    if not sh[row + FW_ON]:
        return None
    return int(sh[row + FW_MAX]) & _U64_MAX, int(sh[row + FW_WINDOW]) & _U64_MAX


def _duration_ns(window: Any) -> int:
    """openpit's runtime conversion of a ``timedelta`` (a Rust ``Duration``) to ns."""
    if not isinstance(window, datetime.timedelta):
        raise TypeError("RateLimit.window must be datetime.timedelta")
    if window < datetime.timedelta(0):
        raise ValueError("RateLimit.window must not be negative")
    return (window.days * 86_400 + window.seconds) * 1_000_000_000 + window.microseconds * 1_000


# ---- build: the ``_add_builtin_rate_limit`` keyword arguments ------------------------------------


def _rate(max_orders: Any, window: Any) -> Rate:
    return check_max_orders(max_orders), check_window_ns(window)


def parse_spec(
    *,
    broker: Any = None,
    asset_barriers: Any = (),
    account_barriers: Any = (),
    account_asset_barriers: Any = (),
) -> dict[str, Any]:
    """The configuration: ``broker`` ``(max, window_ns)`` or None; ``assets``
    ``{asset: (max, ns)}``; ``accounts`` ``{account: (max, ns)}``; ``account_assets``
    ``{(account, asset): (max, ns)}``. Later duplicates replace earlier ones."""
    broker_rate = None if broker is None else _rate(*broker)
    assets: dict[str, Rate] = {}
    for asset, max_orders, ns in asset_barriers:
        assets[check_asset(asset)] = _rate(max_orders, ns)
    accounts: dict[int, Rate] = {}
    for account, max_orders, ns in account_barriers:
        accounts[check_account_value(account)] = _rate(max_orders, ns)
    pairs: dict[tuple[int, str], Rate] = {}
    for account, asset, max_orders, ns in account_asset_barriers:
        pairs[(check_account_value(account), check_asset(asset))] = _rate(max_orders, ns)
    return {"broker": broker_rate, "assets": assets, "accounts": accounts, "account_assets": pairs}


# ---- runtime: ``engine.configure().rate_limit(...)`` ---------------------------------------------


def configure_rate_limit(
    self: Any,
    name: str,
    *extra: Any,
    broker: Any = None,
    clear_broker: bool = False,
    asset_barriers: list[Any] | None = None,
    account_barriers: list[Any] | None = None,
    account_asset_barriers: list[Any] | None = None,
) -> None:
    """Retune a rate limit: ``None`` keeps an axis, a list replaces it, ``[]`` clears it."""
    pyo3_check_call("Configurator.rate_limit", 1, extra, {})
    self._apply(
        name,
        "rate_limit",
        "rate_limit",
        broker=broker,
        clear_broker=clear_broker,
        asset_barriers=asset_barriers,
        account_barriers=account_barriers,
        account_asset_barriers=account_asset_barriers,
    )


class RateLimitPolicy(BuiltinPolicy):
    """Broker / asset fixed windows and account / account+asset sliding windows."""

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        cfg = spec.config
        self.broker: Rate | None = cfg["broker"]
        self.assets: dict[str, Rate] = dict(cfg["assets"])
        self.accounts: dict[int, Rate] = dict(cfg["accounts"])
        self.account_assets: dict[tuple[int, str], Rate] = dict(cfg["account_assets"])

    # ---- state writes ------------------------------------------------------------------------

    @staticmethod
    def _set_window(book: BookRows, row: int, rate: Rate | None, keep: bool) -> None:
        sh = book.shared
        if rate is None:
            sh[row + FW_ON] = 0
        else:
            sh[row + FW_MAX] = u64_bits(rate[0])
            sh[row + FW_WINDOW] = u64_bits(rate[1])
            sh[row + FW_ON] = 1
        if not keep:  # one swap of the (start, count) pair: other shards may be pushing
            ctl_fw_reset(sh, row)

    def _write_accounts(self, book: BookRows) -> None:
        st = book.state
        st[H_RL_ACC_GEN] += 1
        gen = int(st[H_RL_ACC_GEN]) << GEN_SHIFT
        cap = int(st[H_LOG_CAP])
        accounts = list(self.accounts)
        at, rows = book.owned_rows(H_T_ACC, accounts)
        rates = [self.accounts[accounts[i]] for i in at.tolist()]
        classes = {mx: log_class_for(mx, cap) for mx in {mx for mx, _ in rates}}  # few distinct
        st = book.state
        st[rows + AC_RL_MAX] = [u64_bits(mx) for mx, _ in rates]
        st[rows + AC_RL_WINDOW] = [u64_bits(ns) for _, ns in rates]
        st[rows + AC_RL_GEN] = [gen | classes[mx] for mx, _ in rates]
        st[H_RL_N_ACC] = len(self.accounts)  # every shard: any account barrier needs an account

    def _write_account_assets(self, book: BookRows) -> None:
        st = book.state
        st[H_RL_AA_GEN] += 1
        gen = int(st[H_RL_AA_GEN]) << GEN_SHIFT
        cap = int(st[H_LOG_CAP])
        owned = book.owned_pair_rows(self.account_assets)
        st = book.state
        for pair, row in owned:
            mx, ns = self.account_assets[pair]
            st[row + AA_RL_MAX] = u64_bits(mx)
            st[row + AA_RL_WINDOW] = u64_bits(ns)
            st[row + AA_RL_GEN] = gen | log_class_for(mx, cap)
        st[H_RL_N_AA] = len(self.account_assets)

    def _write_assets(self, book: BookRows, old: dict[str, Rate]) -> None:
        for asset in old:
            if asset not in self.assets:
                self._set_window(book, book.shared_asset_row(book.asset_id(asset)), None, False)
        for asset, rate in self.assets.items():
            row = book.shared_asset_row(book.asset_id(asset))
            self._set_window(book, row, rate, asset in old)
        book.state[H_RL_N_ASSET] = len(self.assets)

    def install(self, book: BookRows) -> None:
        self._set_window(book, SH_BROKER, self.broker, False)
        self._write_assets(book, {})
        self._write_accounts(book)
        self._write_account_assets(book)

    def restore(self, book: BookRows) -> None:
        st, sh = book.state, book.shared
        names = book.asset_names()
        self.broker = _window_rate(sh, SH_BROKER)
        self.assets = {}
        for aid, name in enumerate(names[: int(sh[SH_ASSET_CAP])]):
            rate = _window_rate(sh, book.shared_asset_row(aid))
            if rate is not None:
                self.assets[name] = rate
        accounts, _, rows = table_rows(st, H_T_ACC)
        live = st[rows + AC_RL_GEN] >> GEN_SHIFT == st[H_RL_ACC_GEN]
        self.accounts = {
            a & _U64_MAX: (mx & _U64_MAX, ns & _U64_MAX)
            for a, mx, ns in zip(
                accounts[live].tolist(), st[rows[live] + AC_RL_MAX].tolist(),
                st[rows[live] + AC_RL_WINDOW].tolist(), strict=True,
            )
        }  # fmt: skip
        accounts, assets, rows = table_rows(st, H_T_AA)
        live = st[rows + AA_RL_GEN] >> GEN_SHIFT == st[H_RL_AA_GEN]
        self.account_assets = {
            (a & _U64_MAX, names[k]): (mx & _U64_MAX, ns & _U64_MAX)
            for a, k, mx, ns in zip(
                accounts[live].tolist(), assets[live].tolist(),
                st[rows[live] + AA_RL_MAX].tolist(), st[rows[live] + AA_RL_WINDOW].tolist(),
                strict=True,
            )
        }  # fmt: skip
        # The axis counters gate the kernel; a retune cut short by a crash may have left
        # them behind the rows it wrote. Make them agree with what the rows enforce.
        st[H_RL_N_ASSET] = len(self.assets)
        book.restore_account_count(H_RL_N_ACC, len(self.accounts))
        book.restore_account_count(H_RL_N_AA, len(self.account_assets))

    # ---- runtime retune ----------------------------------------------------------------------

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        if method != "rate_limit":
            super().configure(book, method, **settings)
        self.retune(book, **settings)

    def retune(
        self,
        book: BookRows,
        *,
        broker: Any = None,
        clear_broker: Any = False,
        asset_barriers: Any = None,
        account_barriers: Any = None,
        account_asset_barriers: Any = None,
    ) -> None:
        clear = flag(clear_broker)
        if broker is not None and clear:
            raise ValueError("broker and clear_broker cannot both be provided")
        # 1. convert every argument (Python-level errors), 2. validate, 3. apply.
        windows: list[int] = []

        def rate(limit: Any) -> Rate:
            typed(limit, RateLimit, "RateLimit")
            mx = check_max_orders(limit.max_orders)
            ns = _duration_ns(limit.window)
            windows.append(ns)
            return mx, ns

        new_broker = None
        if broker is not None:
            new_broker = rate(typed(broker, RateLimitBrokerBarrier, "RateLimitBrokerBarrier").limit)
        new_assets = None
        if asset_barriers is not None:
            new_assets = {}
            for b in sequence_of(asset_barriers):
                typed(b, RateLimitAssetBarrier, "RateLimitAssetBarrier")
                new_assets[asset_of(b.settlement_asset)] = rate(b.limit)
        new_accounts = None
        if account_barriers is not None:
            new_accounts = {}
            for b in sequence_of(account_barriers):
                typed(b, RateLimitAccountBarrier, "RateLimitAccountBarrier")
                new_accounts[account_of(b.account_id)] = rate(b.limit)
        new_pairs = None
        if account_asset_barriers is not None:
            new_pairs = {}
            for b in sequence_of(account_asset_barriers):
                typed(b, RateLimitAccountAssetBarrier, "RateLimitAccountAssetBarrier")
                key = (account_of(b.account_id), asset_of(b.settlement_asset))
                new_pairs[key] = rate(b.limit)
        for ns in windows:
            if ns == 0 or ns > _U64_MAX:
                raise validation_error(self.name, _WINDOW_ERROR.format(fmt_duration(ns)))
        if clear:
            self.broker = None
            self._set_window(book, SH_BROKER, None, False)
        elif new_broker is not None:
            keep = self.broker is not None
            self.broker = new_broker
            self._set_window(book, SH_BROKER, new_broker, keep)
        if new_assets is not None:
            old, self.assets = self.assets, new_assets
            self._write_assets(book, old)
        if new_accounts is not None:
            self.accounts = new_accounts
            self._write_accounts(book)
        if new_pairs is not None:
            self.account_assets = new_pairs
            self._write_account_assets(book)

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        if rec.reason == K.RSN_MISSING_FIELD:
            return missing_field(self.name, rec)
        count, mx, ns = rec.d[0], rec.d[1] & _U64_MAX, rec.d[2] & _U64_MAX
        return (
            self.name,
            "RateLimitExceeded",
            f"rate limit exceeded: {_AXIS[rec.reason]}",
            f"submitted {count} orders in {fmt_duration(ns)} window, max allowed: {mx}",
            rec.scope,
            0,
        )
