"""P&L bounds kill switch (``PnlBoundsKillSwitchPolicy``): configuration, retune, texts.

Kernel: ``kernels.pnl_bounds``. Broker barriers live in asset rows (one per
settlement asset; the last of several for one asset wins, as in openpit's
map), account+asset barriers in account+asset rows tagged with the axis
generation, next to the accumulator they judge. ``initial_pnl`` seeds the
accumulator at build only.

Retune (openpit): ``broker_barriers`` / ``account_barriers`` replace their
axis (``None`` keeps it); account barriers come as
``PnlBoundsAccountAssetBarrierUpdate`` and never touch accumulators. Checks
run in openpit's order: broker bounds, "at least one barrier" against the
new broker axis and the current account axis, account bounds, "at least one
barrier" again. ``set_account_pnl`` force-sets one accumulator (value and
display scale) and never clears a block.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any

from openpit_shm.kernels import codes as K
from openpit_shm.layout.state import (
    A_PNL_FLAGS,
    A_PNL_LOWER,
    A_PNL_SCALES,
    A_PNL_UPPER,
    AA_PNL,
    AA_PNL_FLAGS,
    AA_PNL_GEN,
    AA_PNL_LOWER,
    AA_PNL_SCALE,
    AA_PNL_SCALES,
    AA_PNL_UPPER,
    BOUND_LOWER,
    BOUND_UPPER,
    H_PNL_AA_GEN,
    H_PNL_N_AA,
    H_PNL_N_BROKER,
    H_T_AA,
    SCALE_SHIFT,
)
from openpit_shm.param import Pnl
from openpit_shm.param._compat import REQUIRED, pyo3_check_call
from openpit_shm.param.asset import asset_text
from openpit_shm.pretrade.policies import (
    PnlBoundsAccountAssetBarrier,
    PnlBoundsAccountAssetBarrierUpdate,
    PnlBoundsBrokerBarrier,
)

from .base import BuiltinPolicy, account_of, asset_of, sequence_of, typed, validation_error
from .book_rows import BookRows
from .numbers import (
    PAIR_FIRST,
    PAIR_SECOND,
    as_decimal,
    decimal_scale,
    fixed,
    fixed_text,
    fixed_to_decimal,
    pair_of,
    pair_words,
)
from .registry import table_rows
from .texts import Description, Record, missing_field

__all__ = [
    "SETTINGS_TYPE",
    "Bounds",
    "PnlBoundsKillSwitch",
    "bounds_of",
    "configure_pnl_bounds_killswitch",
    "configure_set_account_pnl",
    "parse_spec",
    "pnl",
]

_MASK = (1 << SCALE_SHIFT) - 1
_NONE_ERROR = "at least one broker or account+asset barrier must be configured"


_U64_MAX = (1 << 64) - 1
_ASSET_WORDS = (A_PNL_FLAGS, A_PNL_LOWER, A_PNL_UPPER, A_PNL_SCALES)
_PAIR_WORDS = (AA_PNL_FLAGS, AA_PNL_LOWER, AA_PNL_UPPER, AA_PNL_SCALES)


assert (BOUND_LOWER, BOUND_UPPER) == (PAIR_FIRST, PAIR_SECOND)


#: openpit's settings type (``configure()``'s TYPE_MISMATCH text names it).
SETTINGS_TYPE = "pnl_bounds_killswitch::PnlBoundsKillSwitchSettings"


@dataclass(frozen=True)
class Bounds:
    """P&L bounds (strict); ``None`` means that side is open."""

    lower: decimal.Decimal | None
    upper: decimal.Decimal | None


# ---- build: the ``_add_builtin_pnl_bounds_killswitch`` keyword arguments -------------------------


def pnl(value: Any) -> decimal.Decimal:
    """A P&L value (Pnl, or anything ``Pnl(...)`` accepts) as a Decimal."""
    if not isinstance(value, Pnl):
        value = Pnl(value)
    return as_decimal(value)


def bounds_of(barrier: Any) -> tuple[str, Bounds]:
    """(settlement asset, bounds) of a ``PnlBoundsBrokerBarrier`` (at least one bound)."""
    typed(barrier, PnlBoundsBrokerBarrier, "PnlBoundsBrokerBarrier")
    asset = asset_text(barrier.settlement_asset)
    lower = None if barrier.lower_bound is None else pnl(barrier.lower_bound)
    upper = None if barrier.upper_bound is None else pnl(barrier.upper_bound)
    if lower is None and upper is None:
        raise ValueError(
            "at least one of lower_bound or upper_bound must be configured "
            f"for settlement asset {asset}"
        )
    return asset, Bounds(lower, upper)


def parse_spec(*, broker_barriers: Any = (), account_barriers: Any = ()) -> dict[str, Any]:
    """The configuration: ``broker`` ``{asset: Bounds}``; ``accounts``
    ``{(account, asset): (Bounds, initial_pnl)}``; at least one barrier."""
    broker: dict[str, Bounds] = {}
    for barrier in broker_barriers:
        asset, bounds = bounds_of(barrier)
        broker[asset] = bounds
    accounts: dict[tuple[int, str], tuple[Bounds, decimal.Decimal]] = {}
    for entry in account_barriers:
        typed(entry, PnlBoundsAccountAssetBarrier, "PnlBoundsAccountAssetBarrier")
        asset, bounds = bounds_of(entry.barrier)
        account = account_of(entry.account_id)
        accounts[(account, asset)] = (bounds, pnl(entry.initial_pnl))
    if not broker and not accounts:
        raise ValueError("at least one broker or account+asset barrier must be configured")
    return {"broker": broker, "accounts": accounts}


# ---- runtime: ``engine.configure().pnl_bounds_killswitch(...)`` / ``.set_account_pnl(...)`` ------


def configure_pnl_bounds_killswitch(
    self: Any,
    name: str,
    *extra: Any,
    broker_barriers: list[Any] | None = None,
    account_barriers: list[Any] | None = None,
) -> None:
    """Retune P&L bounds; accumulated P&L is kept."""
    pyo3_check_call("Configurator.pnl_bounds_killswitch", 1, extra, {})
    self._apply(
        name,
        "pnl_bounds_killswitch",
        "pnl_bounds_killswitch",
        broker_barriers=broker_barriers,
        account_barriers=account_barriers,
    )


def configure_set_account_pnl(
    self: Any,
    name: str,
    *extra: Any,
    account: Any = REQUIRED,
    settlement_asset: Any = REQUIRED,
    pnl: Any = REQUIRED,
) -> None:
    """Force-set the accumulated P&L of (account, settlement asset); blocks are not cleared.

    ``account``, ``settlement_asset`` and ``pnl`` are required keywords.
    """
    keywords = {"account": account, "settlement_asset": settlement_asset, "pnl": pnl}
    pyo3_check_call("Configurator.set_account_pnl", 1, extra, keywords)
    self._apply(
        name,
        "pnl_bounds_killswitch",
        "set_account_pnl",
        account=account,
        settlement_asset=settlement_asset,
        pnl=pnl,
    )


# ---- state words ---------------------------------------------------------------------------------


def _bounds_of(flags: int, lower: int, upper: int, scales: int, es: int) -> Bounds | None:
    """The Bounds that ``_bound_words`` wrote (same values, same decimal scales), or None."""
    pair = pair_of(flags, lower, upper, scales, es)
    return None if pair is None else Bounds(*pair)


def _bound_words(bounds: Bounds, scale: int) -> tuple[int, int, int, int]:
    """(flags, lower, upper, scales) of a barrier in fixed point."""
    return pair_words(bounds.lower, bounds.upper, scale, ("P&L lower_bound", "P&L upper_bound"))


class PnlBoundsKillSwitch(BuiltinPolicy):
    """Realized P&L per (account, settlement asset) against broker and account+asset bounds."""

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        cfg = spec.config
        self.broker: dict[str, Bounds] = dict(cfg["broker"])
        self.accounts: dict[tuple[int, str], Bounds] = {k: v[0] for k, v in cfg["accounts"].items()}
        self._initial = {k: v[1] for k, v in cfg["accounts"].items()}

    # ---- state writes ------------------------------------------------------------------------

    def _write_broker(self, book: BookRows, old: dict[str, Bounds]) -> None:
        for asset in old:
            book.state[book.asset_row(book.asset_id(asset)) + A_PNL_FLAGS] = 0
        for asset, bounds in self.broker.items():
            words = _bound_words(bounds, book.scale)
            book.write_limit_words(book.asset_row(book.asset_id(asset)), _ASSET_WORDS, words)
        book.state[H_PNL_N_BROKER] = len(self.broker)

    def _write_accounts(self, book: BookRows) -> None:
        book.state[H_PNL_AA_GEN] += 1
        gen = book.state[H_PNL_AA_GEN]
        owned = book.owned_pair_rows(self.accounts)
        st = book.state
        for pair, row in owned:
            book.write_limit_words(row, _PAIR_WORDS, _bound_words(self.accounts[pair], book.scale))
            st[row + AA_PNL_GEN] = gen
        book.state[H_PNL_N_AA] = len(self.accounts)

    def _check_fixed(self, book: BookRows, bounds: Any) -> None:
        for b in bounds:
            _bound_words(b, book.scale)

    def install(self, book: BookRows) -> None:
        self._check_fixed(book, [*self.broker.values(), *self.accounts.values()])
        seeds = {k: fixed(v, book.scale, "initial_pnl") for k, v in self._initial.items()}
        self._write_broker(book, {})
        self._write_accounts(book)
        for (account, asset), raw in seeds.items():
            self._set_pnl(book, account, asset, raw, decimal_scale(self._initial[(account, asset)]))

    def restore(self, book: BookRows) -> None:
        st, es = book.state, book.scale
        names = book.asset_names()
        self.broker = {}
        for aid, name in enumerate(names):
            row = book.asset_row(aid)
            bounds = _bounds_of(*(int(st[row + w]) for w in _ASSET_WORDS), es)
            if bounds is not None:
                self.broker[name] = bounds
        accounts, assets, rows = table_rows(st, H_T_AA)
        live = (st[rows + AA_PNL_GEN] == st[H_PNL_AA_GEN]) & (st[rows + AA_PNL_FLAGS] != 0)
        self.accounts = {}
        for a, k, row in zip(accounts[live].tolist(), assets[live].tolist(), rows[live].tolist(),
                             strict=True):  # fmt: skip
            bounds = _bounds_of(*(int(st[row + w]) for w in _PAIR_WORDS), es)
            self.accounts[(a & _U64_MAX, names[k])] = bounds  # type: ignore[assignment]
        self._initial = {}  # seeds are applied once, at build; the accumulators are in the rows
        # (counters a crash mid-retune left behind the rows: make them agree)
        st[H_PNL_N_BROKER] = len(self.broker)
        book.restore_account_count(H_PNL_N_AA, len(self.accounts))

    @staticmethod
    def _set_pnl(book: BookRows, account: int, asset: str, raw: int, scale: int) -> None:
        row = book.pair_row(account, book.asset_id(asset))
        book.state[row + AA_PNL] = raw
        book.state[row + AA_PNL_SCALE] = scale

    # ---- runtime retune ----------------------------------------------------------------------

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        if method == "pnl_bounds_killswitch":
            self.retune(book, **settings)
        elif method == "set_account_pnl":
            self.set_account_pnl(book, **settings)
        else:
            super().configure(book, method, **settings)

    def retune(
        self, book: BookRows, *, broker_barriers: Any = None, account_barriers: Any = None
    ) -> None:
        # 1. convert (Python-level errors)
        brokers = None
        if broker_barriers is not None:
            brokers = []
            for b in sequence_of(broker_barriers):
                typed(b, PnlBoundsBrokerBarrier, "PnlBoundsBrokerBarrier")
                brokers.append(self._convert(b))
        updates = None
        if account_barriers is not None:
            updates = []
            for u in sequence_of(account_barriers):
                typed(u, PnlBoundsAccountAssetBarrierUpdate, "PnlBoundsAccountAssetBarrierUpdate")
                account = account_of(u.account_id)
                typed(u.barrier, PnlBoundsBrokerBarrier, "PnlBoundsBrokerBarrier")
                updates.append((account, self._convert(u.barrier)))
        # 2. validate in openpit's order
        new_broker = self.broker
        if brokers is not None:
            new_broker = {}
            for asset, lower, upper in brokers:
                new_broker[asset] = self._bounds(asset, lower, upper)
        if not new_broker and not self.accounts:
            raise validation_error(self.name, _NONE_ERROR)
        new_accounts = self.accounts
        if updates is not None:
            new_accounts = {}
            for account, (asset, lower, upper) in updates:
                new_accounts[(account, asset)] = self._bounds(asset, lower, upper)
        if not new_broker and not new_accounts:
            raise validation_error(self.name, _NONE_ERROR)
        self._check_fixed(book, [*new_broker.values(), *new_accounts.values()])
        # 3. apply
        if brokers is not None:
            old, self.broker = self.broker, new_broker
            self._write_broker(book, old)
        if updates is not None:
            self.accounts = new_accounts
            self._write_accounts(book)

    @staticmethod
    def _convert(barrier: Any) -> tuple[str, decimal.Decimal | None, decimal.Decimal | None]:
        asset = asset_of(barrier.settlement_asset)
        lower = None if barrier.lower_bound is None else pnl(barrier.lower_bound)
        upper = None if barrier.upper_bound is None else pnl(barrier.upper_bound)
        return asset, lower, upper

    def _bounds(self, asset: str, lower: Any, upper: Any) -> Bounds:
        if lower is None and upper is None:
            raise validation_error(
                self.name,
                "at least one of lower_bound or upper_bound must be configured "
                f"for settlement asset {asset}",
            )
        return Bounds(lower, upper)

    def set_account_pnl(
        self, book: BookRows, *, account: Any, settlement_asset: Any, pnl: Any
    ) -> None:
        key = account_of(account)
        asset = asset_text(settlement_asset)
        value = pnl if isinstance(pnl, Pnl) else Pnl(pnl)
        d = value.decimal
        self._set_pnl(book, key, asset, fixed(d, book.scale, "pnl"), decimal_scale(d))

    # ---- introspection -----------------------------------------------------------------------

    def account_pnl(self, book: BookRows, account: int, asset: str) -> decimal.Decimal:
        """The accumulated P&L of (account, asset) as openpit would print it."""
        row = book.find_pair_row(account, book.asset_id(asset))
        if row == 0:
            return decimal.Decimal(0)
        st = book.state
        return fixed_to_decimal(int(st[row + AA_PNL]), book.scale, int(st[row + AA_PNL_SCALE]))

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        rsn = rec.reason
        if rsn == K.RSN_MISSING_FIELD:
            return missing_field(self.name, rec)
        d0, d1, d2, d3, d4 = rec.d
        asset = book.asset_name(d3)
        es = book.scale

        def num(raw: int, scale: int) -> str:
            return fixed_text(raw, es, scale)

        if rsn == K.RSN_PNL_POST:
            return (
                self.name, rec.code_name, "pnl kill switch triggered",
                f"realized pnl {num(d0, d4 & _MASK)}, settlement asset {asset}", rec.scope, 0,
            )  # fmt: skip
        if rsn in (K.RSN_PNL_ACC_OVERFLOW, K.RSN_PNL_SUM_OVERFLOW):
            pnl_scale = (d4 >> K.PNL_LOWER_SCALE_SHIFT) & _MASK
            fee_scale = (d4 >> K.PNL_FEE_SCALE_SHIFT) & _MASK
            if rsn == K.RSN_PNL_SUM_OVERFLOW:
                details = (
                    f"pnl + fee overflow: pnl {num(d1, pnl_scale)}, fee {num(d2, fee_scale)}, "
                    f"settlement asset {asset}"
                )
            else:
                inc = num(d1 - d2, max(pnl_scale, fee_scale))
                details = (
                    f"realized pnl + pnl_with_fee overflow: previous {num(d0, d4 & _MASK)}, "
                    f"increment {inc}, settlement asset {asset}"
                )
            return (self.name, rec.code_name, "pnl accumulation overflow", details, rec.scope, 0)
        bflags = (d4 >> K.PNL_BOUNDS_SHIFT) & 3
        hit = (d4 >> K.PNL_BREACH_SHIFT) & 3
        which = {BOUND_LOWER: "lower", BOUND_UPPER: "upper"}.get(hit, "lower and upper")
        parts = [f"{which} bound breached: realized pnl {num(d0, d4 & _MASK)}"]
        if bflags & BOUND_LOWER:
            parts.append(f"lower bound {num(d1, (d4 >> K.PNL_LOWER_SCALE_SHIFT) & _MASK)}")
        if bflags & BOUND_UPPER:
            parts.append(f"upper bound {num(d2, (d4 >> K.PNL_UPPER_SCALE_SHIFT) & _MASK)}")
        parts.append(f"settlement asset {asset}")
        barrier = "broker barrier" if rsn == K.RSN_PNL_BROKER else "account + asset barrier"
        return (
            self.name, rec.code_name, f"pnl kill switch triggered: {barrier}", ", ".join(parts),
            rec.scope, 0,
        )  # fmt: skip
