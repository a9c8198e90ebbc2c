"""Order size limit (``OrderSizeLimitPolicy``): configuration, runtime retune and texts.

Kernel: ``kernels.order_size``. Caps live as fixed point with their decimal
scales (for "max allowed: 5000.0"): the broker caps in the arena header,
asset caps in asset rows (one per dense asset id), account+asset caps in
account+asset rows tagged with the axis generation.

Retune (openpit): ``None`` keeps an axis, a list replaces it (``[]`` clears),
``broker`` replaces and ``clear_broker=True`` removes; an empty
``OrderSizeLimit`` or a duplicate key is a VALIDATION error, and nothing
changes unless everything validates.

Texts print the order's own decimals when the object door passes the order
(``requested 5050.000`` for 101.0 x 50.00, ``requested 133.33...`` for a
volume order, via the param types' rust_decimal arithmetic and ``str``);
records from the batch door print the shortest exact form of the fixed-point
values. Cap texts are cached (``numbers.fixed_text``): a rejected order costs
one or two ``str`` calls, not Decimal round trips.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any

from openpit_shm.kernels.codes import (
    OSL_ASSET_BITS,
    OSL_ASSET_MASK,
    OSL_NSCALE_SHIFT,
    OSL_PRICE_BIT,
    OSL_QSCALE_SHIFT,
    OSL_VOLUME_BIT,
    RSN_MISSING_FIELD,
    RSN_OSL_BOTH,
    RSN_OSL_BOTH_BROKER,
    RSN_OSL_NO_PRICE,
    RSN_OSL_NOTIONAL,
    RSN_OSL_NOTIONAL_BROKER,
    RSN_OSL_QTY,
    RSN_OSL_QTY_BROKER,
)
from openpit_shm.layout.records import RESULT_SCOPE_ACCOUNT
from openpit_shm.layout.state import (
    A_OSL_FLAGS,
    A_OSL_NOTIONAL,
    A_OSL_QTY,
    A_OSL_SCALES,
    AA_OSL_FLAGS,
    AA_OSL_GEN,
    AA_OSL_NOTIONAL,
    AA_OSL_QTY,
    AA_OSL_SCALES,
    CAP_NOTIONAL,
    CAP_QTY,
    H_OSL_AA_GEN,
    H_OSL_BROKER_FLAGS,
    H_OSL_BROKER_NOTIONAL,
    H_OSL_BROKER_QTY,
    H_OSL_BROKER_SCALES,
    H_OSL_N_AA,
    H_OSL_N_ASSET,
    H_T_AA,
    SCALE_SHIFT,
)
from openpit_shm.param import Price, Quantity, Volume
from openpit_shm.param._compat import downcast_error, pyo3_check_call
from openpit_shm.pretrade.policies import (
    OrderSizeAccountAssetBarrier,
    OrderSizeAssetBarrier,
    OrderSizeBrokerBarrier,
    OrderSizeLimit,
)

from .arguments import check_account_value, check_asset, decimal_or_none
from .base import BuiltinPolicy, account_of, asset_of, flag, sequence_of, typed, validation_error
from .book_rows import BookRows
from .numbers import PAIR_FIRST, PAIR_SECOND, fixed_text, fixed_to_decimal, pair_of, pair_words
from .record import D2, D3, D4
from .registry import table_rows
from .texts import Description, Record, missing_field

__all__ = [
    "SETTINGS_TYPE",
    "Caps",
    "OrderSizeLimitPolicy",
    "caps_of",
    "configure_order_size_limit",
    "order_size_axes",
    "parse_spec",
]

_SCALE_MASK = (1 << SCALE_SHIFT) - 1
_CAP_NAMES = ("order size max_quantity", "order size max_notional")
_TEXTS_MAX = 1 << 12  # memoized quantity-reject texts per policy (cleared when full)
_NO_PRICE = "price not provided for evaluating cash flow/notional/volume"
_OVERFLOW = "price or quantity could not be used to evaluate order notional"


_U64_MAX = (1 << 64) - 1
_ASSET_WORDS = (A_OSL_FLAGS, A_OSL_QTY, A_OSL_NOTIONAL, A_OSL_SCALES)
_PAIR_WORDS = (AA_OSL_FLAGS, AA_OSL_QTY, AA_OSL_NOTIONAL, AA_OSL_SCALES)
_BROKER_WORDS = (H_OSL_BROKER_FLAGS, H_OSL_BROKER_QTY, H_OSL_BROKER_NOTIONAL, H_OSL_BROKER_SCALES)


assert (CAP_QTY, CAP_NOTIONAL) == (PAIR_FIRST, PAIR_SECOND)


#: openpit's settings type (``configure()``'s TYPE_MISMATCH text names it).
SETTINGS_TYPE = "order_size_limit::OrderSizeLimitSettings"


@dataclass(frozen=True)
class Caps:
    """Order size caps; ``None`` means that metric is not capped by this barrier."""

    max_quantity: decimal.Decimal | None
    max_notional: decimal.Decimal | None


# ---- build: the ``_add_builtin_order_size_limit`` keyword arguments ------------------------------


def caps_of(limit: Any) -> Caps:
    """The caps of an ``OrderSizeLimit`` (type-checked; at least one cap)."""
    if not isinstance(limit, OrderSizeLimit):
        raise downcast_error(limit, "OrderSizeLimit")
    q = decimal_or_none(limit._max_quantity)
    n = decimal_or_none(limit._max_notional)
    if q is None and n is None:
        raise ValueError("at least one of max_quantity or max_notional must be configured")
    return Caps(q, n)


def order_size_axes(
    broker: Any, asset_barriers: Any, account_asset_barriers: Any
) -> tuple[Caps | None, dict[str, Caps], dict[tuple[int, str], Caps]]:
    """Validated order-size axes; duplicate keys are errors (openpit's texts)."""
    broker_caps = None if broker is None else caps_of(broker)
    assets: dict[str, Caps] = {}
    for limit, asset in asset_barriers:
        caps = caps_of(limit)
        key = check_asset(asset)
        if key in assets:
            raise ValueError(f"duplicate asset barrier for asset {key}")
        assets[key] = caps
    pairs: dict[tuple[int, str], Caps] = {}
    for limit, account, asset in account_asset_barriers:
        caps = caps_of(limit)
        pair = (check_account_value(account), check_asset(asset))
        if pair in pairs:
            raise ValueError(f"duplicate account+asset barrier for asset {pair[1]}")
        pairs[pair] = caps
    return broker_caps, assets, pairs


def parse_spec(
    *, broker: Any = None, asset_barriers: Any = (), account_asset_barriers: Any = ()
) -> dict[str, Any]:
    """The configuration: ``broker`` :class:`Caps` or None; ``assets`` ``{asset: Caps}``;
    ``account_assets`` ``{(account, asset): Caps}`` (duplicate keys are errors, as in openpit)."""
    broker_caps, assets, pairs = order_size_axes(broker, asset_barriers, account_asset_barriers)
    return {"broker": broker_caps, "assets": assets, "account_assets": pairs}


# ---- runtime: ``engine.configure().order_size_limit(...)`` ---------------------------------------


def configure_order_size_limit(
    self: Any,
    name: str,
    *extra: Any,
    broker: Any = None,
    clear_broker: bool = False,
    asset_barriers: list[Any] | None = None,
    account_asset_barriers: list[Any] | None = None,
) -> None:
    """Retune an order size limit: ``None`` keeps an axis, a list replaces it."""
    pyo3_check_call("Configurator.order_size_limit", 1, extra, {})
    self._apply(
        name,
        "order_size_limit",
        "order_size_limit",
        broker=broker,
        clear_broker=clear_broker,
        asset_barriers=asset_barriers,
        account_asset_barriers=account_asset_barriers,
    )


# ---- state words ---------------------------------------------------------------------------------


def _caps_of(flags: int, qty: int, notional: int, scales: int, es: int) -> Caps | None:
    """The Caps that ``_cap_words`` wrote (same values, same decimal scales), or None."""
    pair = pair_of(flags, qty, notional, scales, es)
    return None if pair is None else Caps(*pair)


def _cap_words(caps: Caps, scale: int) -> tuple[int, int, int, int]:
    """(flags, max quantity, max notional, scales) of a barrier, in fixed point."""
    return pair_words(caps.max_quantity, caps.max_notional, scale, _CAP_NAMES)


class OrderSizeLimitPolicy(BuiltinPolicy):
    """Quantity / notional caps: account+asset then asset chains, plus additive broker caps."""

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        cfg = spec.config
        self.broker: Caps | None = cfg["broker"]
        self.assets: dict[str, Caps] = dict(cfg["assets"])
        self.account_assets: dict[tuple[int, str], Caps] = dict(cfg["account_assets"])
        self._qty_texts: dict[tuple[int, ...], Description] = {}

    # ---- state writes ------------------------------------------------------------------------

    def _check_fixed(self, book: BookRows) -> None:
        """Every cap must be exact in fixed point before anything is written."""
        for caps in [self.broker, *self.assets.values(), *self.account_assets.values()]:
            if caps is not None:
                _cap_words(caps, book.scale)

    def _write_broker(self, book: BookRows) -> None:
        words = (0, 0, 0, 0) if self.broker is None else _cap_words(self.broker, book.scale)
        book.write_limit_words(0, _BROKER_WORDS, words)

    def _write_assets(self, book: BookRows, old: dict[str, Caps]) -> None:
        for asset in old:
            row = book.asset_row(book.asset_id(asset))
            book.state[row + A_OSL_FLAGS] = 0
        for asset, caps in self.assets.items():
            words = _cap_words(caps, book.scale)
            book.write_limit_words(book.asset_row(book.asset_id(asset)), _ASSET_WORDS, words)
        book.state[H_OSL_N_ASSET] = len(self.assets)

    def _write_account_assets(self, book: BookRows) -> None:
        book.state[H_OSL_AA_GEN] += 1
        gen = book.state[H_OSL_AA_GEN]
        owned = book.owned_pair_rows(self.account_assets)
        st = book.state
        for pair, row in owned:
            words = _cap_words(self.account_assets[pair], book.scale)
            book.write_limit_words(row, _PAIR_WORDS, words)
            st[row + AA_OSL_GEN] = gen
        book.state[H_OSL_N_AA] = len(self.account_assets)

    def install(self, book: BookRows) -> None:
        self._check_fixed(book)
        self._write_broker(book)
        self._write_assets(book, {})
        self._write_account_assets(book)

    def restore(self, book: BookRows) -> None:
        st, es = book.state, book.scale
        self.broker = _caps_of(
            int(st[H_OSL_BROKER_FLAGS]), int(st[H_OSL_BROKER_QTY]),
            int(st[H_OSL_BROKER_NOTIONAL]), int(st[H_OSL_BROKER_SCALES]), es,
        )  # fmt: skip
        names = book.asset_names()
        self.assets = {}
        for aid, name in enumerate(names):
            row = book.asset_row(aid)
            caps = _caps_of(*(int(st[row + w]) for w in _ASSET_WORDS), es)
            if caps is not None:
                self.assets[name] = caps
        accounts, assets, rows = table_rows(st, H_T_AA)
        live = (st[rows + AA_OSL_GEN] == st[H_OSL_AA_GEN]) & (st[rows + AA_OSL_FLAGS] != 0)
        self.account_assets = {}
        for a, k, row in zip(accounts[live].tolist(), assets[live].tolist(), rows[live].tolist(),
                             strict=True):  # fmt: skip
            caps = _caps_of(*(int(st[row + w]) for w in _PAIR_WORDS), es)
            self.account_assets[(a & _U64_MAX, names[k])] = caps  # type: ignore[assignment]
        # (counters a crash mid-retune left behind the rows: make them agree)
        st[H_OSL_N_ASSET] = len(self.assets)
        book.restore_account_count(H_OSL_N_AA, len(self.account_assets))

    # ---- runtime retune ----------------------------------------------------------------------

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        if method != "order_size_limit":
            super().configure(book, method, **settings)
        self.retune(book, **settings)

    def retune(
        self,
        book: BookRows,
        *,
        broker: Any = None,
        clear_broker: Any = False,
        asset_barriers: Any = None,
        account_asset_barriers: Any = None,
    ) -> None:
        clear = flag(clear_broker)
        if broker is not None and clear:
            raise ValueError("broker and clear_broker cannot both be provided")

        def limit_of(barrier: Any) -> Any:
            if not isinstance(barrier.limit, OrderSizeLimit):
                raise TypeError("limit must be OrderSizeLimit")
            return barrier.limit

        # 1. convert (Python-level errors) ...
        b_limit = None
        if broker is not None:
            b_limit = limit_of(typed(broker, OrderSizeBrokerBarrier, "OrderSizeBrokerBarrier"))
        assets = None
        if asset_barriers is not None:
            assets = []
            for b in sequence_of(asset_barriers):
                typed(b, OrderSizeAssetBarrier, "OrderSizeAssetBarrier")
                assets.append((limit_of(b), asset_of(b.asset)))
        pairs = None
        if account_asset_barriers is not None:
            pairs = []
            for b in sequence_of(account_asset_barriers):
                typed(b, OrderSizeAccountAssetBarrier, "OrderSizeAccountAssetBarrier")
                pairs.append((limit_of(b), account_of(b.account_id), asset_of(b.asset)))
        # 2. ... validate (VALIDATION errors) ...
        try:
            new_broker, new_assets, new_pairs = order_size_axes(b_limit, assets or (), pairs or ())
        except ValueError as exc:
            raise validation_error(self.name, str(exc)) from None
        for caps in [new_broker, *new_assets.values(), *new_pairs.values()]:
            if caps is not None:
                _cap_words(caps, book.scale)  # FixedPointError before anything changes
        # 3. ... apply.
        if clear:
            self.broker = None
            self._write_broker(book)
        elif new_broker is not None:
            self.broker = new_broker
            self._write_broker(book)
        if assets is not None:
            old, self.assets = self.assets, new_assets
            self._write_assets(book, old)
        if pairs is not None:
            self.account_assets = new_pairs
            self._write_account_assets(book)

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        rsn = rec.reason
        if rsn in (RSN_OSL_QTY, RSN_OSL_QTY_BROKER):
            # The usual size reject, on the per-order path of every rejected order. Its text
            # depends only on the order's quantity (digits and scale) and the cap, and the
            # same quantities meet the same caps again and again: memoized, bounded.
            op = getattr(subject, "_operation", None)
            amount = op._trade_amount if op is not None else None
            qty = amount._quantity if amount is not None else None
            if qty is not None:
                q_scale = (rec[D4] >> OSL_QSCALE_SHIFT) & _SCALE_MASK
                key = (qty._m, qty._s, rec[D2], q_scale, rec.flags & RESULT_SCOPE_ACCOUNT)
                text = self._qty_texts.get(key)
                if text is None:
                    if len(self._qty_texts) >= _TEXTS_MAX:
                        self._qty_texts.clear()
                    cap = fixed_text(rec[D2], book.scale, q_scale)
                    text = self._qty_texts[key] = (
                        self.name, "OrderQtyExceedsLimit", "order quantity exceeded",
                        f"requested {qty!s}, max allowed: {cap}", rec.scope, 0,
                    )
                return text
        return self._describe(book, rec, subject)

    def _describe(self, book: BookRows, rec: Record, subject: Any) -> Description:
        rsn = rec.reason
        what = _WHAT.get(rsn)
        if what is None:
            if rsn == RSN_MISSING_FIELD:
                return missing_field(self.name, rec)
            details = _NO_PRICE if rsn == RSN_OSL_NO_PRICE else _OVERFLOW
            return (
                self.name, "OrderValueCalculationFailed", "order value calculation failed",
                details, rec.scope, 0,
            )
        op = getattr(subject, "_operation", None)
        amount = op._trade_amount if op is not None else None
        if amount is not None:  # the object door: the order's own values and decimals
            qty, vol, price = amount._quantity, amount._volume, op._price
        else:
            qty, vol, price = _record_values(book, rec)
        d4 = rec[D4]
        if what == _QTY:
            q_cap = fixed_text(rec[D2], book.scale, (d4 >> OSL_QSCALE_SHIFT) & _SCALE_MASK)
            q = str(qty) if qty is not None else _quantity_text(qty, vol, price)
            return (
                self.name, "OrderQtyExceedsLimit", "order quantity exceeded",
                f"requested {q}, max allowed: {q_cap}", rec.scope, 0,
            )
        n_cap = fixed_text(rec[D3], book.scale, (d4 >> OSL_NSCALE_SHIFT) & _SCALE_MASK)
        if what == _NOTIONAL:
            n = _notional_text(qty, vol, price)
            return (
                self.name, "OrderNotionalExceedsLimit", "order notional exceeded",
                f"requested {n}, max allowed: {n_cap}", rec.scope, 0,
            )
        q_cap = fixed_text(rec[D2], book.scale, (d4 >> OSL_QSCALE_SHIFT) & _SCALE_MASK)
        q = _quantity_text(qty, vol, price)
        n = _notional_text(qty, vol, price)
        if rsn == RSN_OSL_BOTH:
            underlying = book.asset_name(d4 & OSL_ASSET_MASK)
            settlement = book.asset_name((d4 >> OSL_ASSET_BITS) & OSL_ASSET_MASK)
            details = (
                f"requested quantity {q} for asset {underlying}, max allowed: {q_cap}; "
                f"requested notional {n} for asset {settlement}, max allowed: {n_cap}"
            )
        else:
            details = (
                f"requested quantity {q}, max allowed: {q_cap}; "
                f"requested notional {n}, max allowed: {n_cap}"
            )
        return (self.name, "OrderExceedsLimit", "order size exceeded", details, rec.scope, 0)


_QTY, _NOTIONAL, _BOTH = 0, 1, 2
#: Which limit a size reject names, by reason variant (other variants: no limit).
_WHAT = {
    RSN_OSL_QTY: _QTY,
    RSN_OSL_QTY_BROKER: _QTY,
    RSN_OSL_NOTIONAL: _NOTIONAL,
    RSN_OSL_NOTIONAL_BROKER: _NOTIONAL,
    RSN_OSL_BOTH: _BOTH,
    RSN_OSL_BOTH_BROKER: _BOTH,
}


def _record_values(book: BookRows, rec: Record) -> tuple[Any, Any, Any]:
    """(quantity, volume, price) of a rejected batch record, rebuilt from its detail words.

    (The object door passes the order instead: its own values print with
    their own decimals.)
    """
    d = rec.d
    is_volume = (d[4] >> OSL_VOLUME_BIT) & 1
    has_price = (d[4] >> OSL_PRICE_BIT) & 1
    value = fixed_to_decimal(d[0], book.scale)
    price = Price(fixed_to_decimal(d[1], book.scale)) if has_price else None
    if is_volume:
        return None, Volume(value), price
    return Quantity(value), None, price


# The param types print rust_decimal's Display text themselves (``str``), and their
# arithmetic is openpit's: no Decimal round trip on the reject path.


def _quantity_text(qty: Any, vol: Any, price: Any) -> str:
    if qty is not None:
        return str(qty)
    return "" if price is None else str(vol.calculate_quantity(price))


def _notional_text(qty: Any, vol: Any, price: Any) -> str:
    if qty is None:
        return str(vol)
    return "" if price is None else str(price.calculate_volume(qty))
