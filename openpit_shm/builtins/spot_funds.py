"""Spot Funds (openpit ``SpotFundsPolicy``): the policy object, its adjustments and texts.

Kernel: ``kernels.spot_funds`` (rows, main stage, fill hook). This module:

* ``parse_spec``: the ``_add_builtin_spot_funds`` keywords (market data: the
  service, pricing source, slippage and overrides; without it market orders are
  unsupported);
* ``SpotFunds.install``: the module's tables, the global limit mode, the pricing
  source and the slippage cascade (override tables keyed by market-data ids);
* ``wire_market_data``: the engine's quote table fed by the service, and the
  instrument map (asset pair -> market-data id) written once per registration;
* ``SpotFunds.adjust``: openpit's ``apply_account_adjustment`` for Spot Funds
  (``BalanceOperation`` amounts as delta/absolute, bounds, outcomes), returning
  mutations that restore the touched words on rollback;
* ``configure_spot_funds``: limit modes (global, account and group pins) and
  position limits at runtime;
* ``describe``: openpit's texts of the kernel's records.
"""

from __future__ import annotations

import decimal
from typing import Any

from openpit_shm.kernels import control as KC
from openpit_shm.kernels import spot_funds as SF
from openpit_shm.layout.state import H_KIND_ROOT, TB_SIZE

from .base import BuiltinPolicy, validation_error
from .book_arena import bump
from .book_rows import BookRows, signed
from .numbers import fixed, fixed_to_decimal
from .texts import Description, Record, missing_field

__all__ = [
    "SETTINGS_TYPE",
    "InstrumentMap",
    "SpotFunds",
    "configure_spot_funds",
    "parse_spec",
    "wire_market_data",
]

SETTINGS_TYPE = "spot_funds::market_data::SpotFundsSettings"
_TABLE_CAP = 1 << 12
_MODES = {"Enforce": SF.MODE_ENFORCE, "TrackOnly": SF.MODE_TRACK_ONLY}
_SOURCES = {"Mark": SF.SRC_MARK, "BookTop": SF.SRC_BOOK_TOP}
_SLIPPAGE_TEXT = "slippage {} bps is out of range (must be <= 10 000 bps)"


def _check_slippage(bps: Any, error: Any = ValueError) -> int:
    if isinstance(bps, bool) or not isinstance(bps, int):
        raise TypeError(f"'{type(bps).__name__}' object cannot be interpreted as an integer")
    if bps < 0 or bps > 0xFFFF:
        raise OverflowError("can't convert negative int to unsigned" if bps < 0
                            else "out of range integral type conversion attempted")
    if bps > 10_000:
        raise error(_SLIPPAGE_TEXT.format(bps))
    return bps


def _source(value: Any) -> int:
    text = getattr(value, "value", value)
    if text not in _SOURCES:
        raise TypeError("pricing_source must be openpit.pretrade.policies.SpotFundsPricingSource")
    return _SOURCES[text]


def _overrides(entries: Any, error: Any = ValueError) -> tuple[tuple[int, int, int, Any], ...]:
    """``SpotFundsOverrideEntry`` items as (table word, md instrument, key, bps | None)."""
    out = []
    for entry in entries or ():
        target, bps = entry.target, entry.override.slippage_bps
        if bps is not None:
            _check_slippage(bps, error)
        iid = int(getattr(target.instrument, "_value", target.instrument))
        if hasattr(target, "account_id"):
            out.append((SF.SFB_OVR_ACC_T, iid, signed(target.account_id.value), bps))
        elif hasattr(target, "account_group_id"):
            gid = int(getattr(target.account_group_id, "value", target.account_group_id))
            out.append((SF.SFB_OVR_GRP_T, iid, gid, bps))
        else:
            out.append((SF.SFB_OVR_INS_T, iid, 0, bps))
    return tuple(out)


def parse_spec(
    *, market_data: Any = None, global_slippage_bps: Any = 0, pricing_source: Any = None,
    overrides: Any = (),
) -> dict[str, Any]:  # fmt: skip
    """The builder's keywords: the service, source, slippage and overrides (openpit's
    ``SpotFundsSettings::new`` checks: every slippage <= 10 000 bps)."""
    if global_slippage_bps is None:
        global_slippage_bps = 0
    _check_slippage(global_slippage_bps)
    return {
        "market_data": market_data,
        "global_slippage_bps": global_slippage_bps,
        "pricing_source": None if market_data is None else _source(pricing_source or "Mark"),
        "overrides": _overrides(overrides),
    }


def configure_spot_funds(self: Any, name: str, **settings: Any) -> None:
    """``configure().spot_funds(name, *, global_limit_mode=..., account_limit_modes=..., ...)``."""
    self._apply(name, "spot_funds", "spot_funds", **settings)


def _mode(value: Any) -> int:
    text = getattr(value, "value", value)
    if text not in _MODES:
        raise TypeError("mode must be openpit.pretrade.policies.SpotFundsLimitMode")
    return _MODES[text]


def _dec(raw: int, scale: int) -> decimal.Decimal:
    return fixed_to_decimal(int(raw), scale).normalize() + 0


class SpotFunds(BuiltinPolicy):
    """Per-(account, asset) available/held/incoming; holds through ``kernels.holds``."""

    def __init__(self, spec: Any, index: int) -> None:
        super().__init__(spec, index)
        self.config = dict(spec.config)

    # ---- arena -------------------------------------------------------------------------------

    def install(self, book: BookRows) -> None:
        tables = {SF.SFB_T: (2, _TABLE_CAP, SF.W_SF), SF.SFB_ACC_T: (1, 256, SF.W_SFA),
                  SF.SFB_GRP_T: (1, 64, SF.W_SFG), SF.SFB_MD_T: (2, 64, SF.W_MD),
                  SF.SFB_OVR_ACC_T: (2, 64, SF.W_OVR), SF.SFB_OVR_GRP_T: (2, 64, SF.W_OVR),
                  SF.SFB_OVR_INS_T: (2, 64, SF.W_OVR)}  # fmt: skip
        book.grow(SF.W_SFB + sum(TB_SIZE + (k + 1) * cap for k, cap, _ in tables.values()))
        st = book.state
        block = bump(st, SF.W_SFB)
        for word, (keyw, cap, roww) in tables.items():
            st[block + word] = KC.ctl_tbl_create(st, keyw, cap, roww)
        st[block + SF.SFB_MODE] = SF.MODE_ENFORCE
        st[block + SF.SFB_SOURCE] = self.config["pricing_source"] or SF.SRC_NONE
        st[block + SF.SFB_SLIP] = self.config["global_slippage_bps"]
        st[H_KIND_ROOT + SF.KIND] = block  # last: the kernels read nothing before it is set
        self._write_overrides(book, self.config["overrides"])

    def _write_overrides(self, book: BookRows, overrides: Any) -> None:
        for word, iid, key, bps in overrides:
            row = book._row(self._word(book, word), iid, key)
            book.state[row + SF.OVR_SET] = 0 if bps is None else 1
            book.state[row + SF.OVR_BPS] = 0 if bps is None else bps

    def map_instrument(self, book: BookRows, key: tuple[str, str], value: int) -> None:
        """Record that market data calls (underlying, settlement) ``value`` (kernels read it
        for market-order prices and FX)."""
        u, s = (book.asset_id(a) for a in key)
        row = book._row(self._word(book, SF.SFB_MD_T), u, s)
        book.state[row] = value + 1

    def restore(self, book: BookRows) -> None:
        """Everything lives in the arena (its block and rows): nothing to rebuild."""

    @staticmethod
    def _word(book: BookRows, word: int) -> int:
        """The arena index of word ``word`` (``SFB_*``) of this builtin's block."""
        return int(book.state[H_KIND_ROOT + SF.KIND]) + word

    def row(self, book: BookRows, account: int, asset: str) -> int:
        """The (account, asset) row, created if absent."""
        return book._row(self._word(book, SF.SFB_T), signed(account), book.asset_id(asset))

    def holdings(self, book: BookRows, account: int, asset: str) -> tuple[int, int, int]:
        """(available, held, incoming) raw fixed point of (account, asset); zeros if absent."""
        st = book.state
        table = int(st[self._word(book, SF.SFB_T)])
        row = int(KC.ctl_tbl_find(st, table, signed(account), book.asset_id(asset)))
        if row == 0:
            return 0, 0, 0
        total, held, inc = (int(st[row + w]) for w in (SF.SF_TOTAL, SF.SF_HELD, SF.SF_INCOMING))
        return total - held, held, inc

    # ---- runtime configuration ---------------------------------------------------------------

    def configure(self, book: BookRows, method: str, **settings: Any) -> None:
        def invalid(text: str) -> Exception:
            return validation_error(self.name, text)

        slip = settings.get("global_slippage_bps")
        if slip is not None:
            _check_slippage(slip, invalid)
        overrides = _overrides(settings.get("overrides"), invalid)
        source = settings.get("pricing_source")
        if source is not None:
            source = _source(source)
        if slip is not None:
            book.state[self._word(book, SF.SFB_SLIP)] = slip
        if source is not None and book.state[self._word(book, SF.SFB_SOURCE)] != SF.SRC_NONE:
            book.state[self._word(book, SF.SFB_SOURCE)] = source
        self._write_overrides(book, overrides)
        mode = settings.get("global_limit_mode")
        if mode is not None:
            book.state[self._word(book, SF.SFB_MODE)] = _mode(mode)
        for entry in settings.get("account_limit_modes") or ():
            row = book._row(self._word(book, SF.SFB_ACC_T), signed(entry.account_id.value), 0)
            book.state[row + SF.SFA_MODE] = 0 if entry.mode is None else _mode(entry.mode)
        for entry in settings.get("account_group_limit_modes") or ():
            gid = int(getattr(entry.account_group_id, "value", entry.account_group_id))
            row = book._row(self._word(book, SF.SFB_GRP_T), gid, 0)
            book.state[row + SF.SFG_MODE] = 0 if entry.mode is None else _mode(entry.mode)
        for entry in settings.get("position_limits") or ():
            row = self.row(book, entry.account_id.value, str(entry.asset))
            if entry.limit is None:
                book.state[row + SF.SF_POS_SET] = 0
            else:
                limit = fixed(entry.limit.to_decimal() if hasattr(entry.limit, "to_decimal")
                              else decimal.Decimal(str(entry.limit)), book.scale, "limit")
                book.state[row + SF.SF_POS_LIMIT] = limit
                book.state[row + SF.SF_POS_SET] = 1

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, book: BookRows, rec: Record, subject: Any = None) -> Description:
        rsn, d = rec.reason, rec.d
        es = book.scale
        if rsn == SF.RSN_SF_INSUFFICIENT:
            asset = book.asset_name(int(d[0]))
            return (
                self.name, "InsufficientFunds", "spot funds insufficient",
                f"asset {asset}: available {_dec(d[1], es)}, requested {_dec(d[2], es)}",
                rec.scope, 0,
            )  # fmt: skip
        if rsn == SF.RSN_SF_POSITION:
            asset = book.asset_name(int(d[0]))
            side = "long" if d[1] == 1 else "short"
            return (
                self.name, "PositionLimitExceeded", "position limit exceeded",
                f"asset {asset}, side {side}, projected worst-case position "
                f"{_dec(d[2], es)}, limit {_dec(d[3], es)}",
                rec.scope, 0,
            )  # fmt: skip
        if rsn == SF.RSN_SF_MARKET:
            return (self.name, "UnsupportedOrderType", "market orders not supported", "",
                    rec.scope, 0)  # fmt: skip
        if rsn == SF.RSN_SF_MARK_UNAVAILABLE:
            return (self.name, "MarkPriceUnavailable", "mark price unavailable", "",
                    rec.scope, 0)  # fmt: skip
        if rsn == SF.RSN_SF_PRICE_CALC:
            return (self.name, "OrderValueCalculationFailed", "price calculation failed", "",
                    rec.scope, 0)  # fmt: skip
        if rsn == SF.RSN_SF_VALUE:
            return (self.name, "OrderValueCalculationFailed", "order value calculation failed",
                    "", rec.scope, 0)  # fmt: skip
        if rsn in (SF.RSN_SF_HOLD_OVERFLOW, SF.RSN_SF_INCOMING_OVERFLOW):
            asset = book.asset_name(int(d[0]))
            what = "hold" if rsn == SF.RSN_SF_HOLD_OVERFLOW else "incoming"
            return (self.name, "ArithmeticOverflow", "arithmetic overflow",
                    f"pre-trade {what} overflow: asset {asset}, requested {_dec(d[1], es)}",
                    rec.scope, 0)  # fmt: skip
        if rec.d[0] == SF.FIELD_SIDE:
            return (self.name, "MissingRequiredField", "failed to access required field 'side'",
                    "failed to access field 'operation.side'", rec.scope, 0)  # fmt: skip
        return missing_field(self.name, rec)


# ---- market data: the engine's quote table and the instrument map -------------------------


class InstrumentMap:
    """A service mirror that writes each registered instrument's id into Spot Funds' map.

    openpit resolves ``market_data.resolve(instrument)`` per order; here the
    resolution happens once, when the service registers the instrument (or, for
    instruments it already had, when the engine is wired), into an arena table
    the kernels read (``kernels.spot_funds.md_instrument``).
    """

    __slots__ = ("book", "policy")

    def __init__(self, book: BookRows, policy: SpotFunds) -> None:
        self.book = book
        self.policy = policy

    def prepare(self, targets: Any, quote: Any) -> None:
        return None

    def on_push(self, targets: Any, encoded: Any, pushed_ns: int, age_ns: int) -> None:
        """Quotes are the quote table's business."""

    def on_clear(self, instrument: int) -> None:
        """Quotes are the quote table's business."""

    def on_config(self, kind: int, instrument: int, key: int, ttl: Any) -> None:
        """TTLs are the quote table's business (the id comes with ``on_register``)."""

    def on_register(self, key: tuple[str, str], value: int) -> None:
        self.policy.map_instrument(self.book, key, value)

    def sync(self, service: Any) -> None:
        for key, value in list(service._by_instrument.items()):
            self.policy.map_instrument(self.book, key, value)


def wire_market_data(engine: Any, book: BookRows, policy: SpotFunds) -> None:
    """Give ``engine``'s kernels the policy's service: quotes and instrument ids."""
    service = policy.config.get("market_data")
    if service is None:
        return
    from ..marketdata.attach import attach_market_data
    from ..marketdata.table import attach_mirror

    attach_market_data(engine, service)
    attach_mirror(service, InstrumentMap(book, policy))


# ---- account adjustments (openpit's SpotFundsPolicy.apply_account_adjustment) ----------------

_FIELD_WORDS = (("balance", SF.SF_TOTAL), ("held", SF.SF_HELD), ("incoming", SF.SF_INCOMING))


def _position_size(raw: int, scale: int) -> Any:
    from openpit_shm.param import PositionSize

    return PositionSize(str(_dec(raw, scale)))


def _bound_text(value: Any) -> str:
    return "None" if value is None else f"Some(PositionSize({value}))"


def adjust(policy: SpotFunds, book: BookRows, account: int, adjustment: Any) -> Any:
    """One adjustment item: new values, bounds, outcome entry, and a rollback mutation.

    ``balance`` is ``available`` (stored as ``total - held``): setting it moves
    ``total``; moving ``held`` keeps ``total`` so ``available`` stays as given.
    """
    from openpit_shm.account_adjustment import BalanceOperation
    from openpit_shm.core import Mutation
    from openpit_shm.pretrade import PolicyAccountAdjustmentResult, PolicyReject, RejectScope
    from openpit_shm.pretrade.results import AccountOutcomeEntry, OutcomeAmount

    amount = adjustment.amount
    op = adjustment.operation
    if not isinstance(op, BalanceOperation):
        return PolicyAccountAdjustmentResult(rejects=(PolicyReject(
            "MissingRequiredField", "failed to access required field 'balance asset'",
            "failed to access field 'balance asset'", RejectScope.ACCOUNT),))  # fmt: skip
    if amount is None:
        return PolicyAccountAdjustmentResult()
    es = book.scale
    asset = str(op.asset)
    row = policy.row(book, account, asset)
    st = book.state
    old = {w: int(st[row + w]) for _, w in _FIELD_WORDS}
    values = {"balance": old[SF.SF_TOTAL] - old[SF.SF_HELD], "held": old[SF.SF_HELD],
              "incoming": old[SF.SF_INCOMING]}  # fmt: skip
    before = dict(values)
    given = {}
    for name, _ in _FIELD_WORDS:
        a = getattr(amount, name)
        if a is None:
            continue
        if a.is_delta:
            values[name] += fixed(a.as_delta.to_decimal() if hasattr(a.as_delta, "to_decimal")
                                  else decimal.Decimal(str(a.as_delta)), es, name)  # fmt: skip
        else:
            values[name] = fixed(decimal.Decimal(str(a.as_absolute)), es, name)
        given[name] = True
    bounds = adjustment.bounds
    if bounds is not None:
        for name in ("balance", "held", "incoming"):
            lower, upper = getattr(bounds, f"{name}_lower"), getattr(bounds, f"{name}_upper")
            v = values[name]
            low = None if lower is None else fixed(decimal.Decimal(str(lower)), es, name)
            up = None if upper is None else fixed(decimal.Decimal(str(upper)), es, name)
            if (low is not None and v < low) or (up is not None and v > up):
                return PolicyAccountAdjustmentResult(rejects=(PolicyReject(
                    "AccountAdjustmentBoundsExceeded", "account adjustment bounds exceeded",
                    f"asset {asset}: {name} {_dec(v, es)}, lower {_bound_text(lower)}, "
                    f"upper {_bound_text(upper)}", RejectScope.ACCOUNT),))  # fmt: skip
    new = {SF.SF_TOTAL: values["balance"] + values["held"], SF.SF_HELD: values["held"],
           SF.SF_INCOMING: values["incoming"]}  # fmt: skip
    for w, v in new.items():
        book.state[row + w] = v

    def rollback() -> None:
        for w, v in old.items():
            book.state[row + w] = v

    entry = AccountOutcomeEntry(asset=asset, **{
        name: OutcomeAmount(delta=_position_size(values[name] - before[name], es),
                            absolute=_position_size(values[name], es))
        for name in given
    })  # fmt: skip
    return PolicyAccountAdjustmentResult(
        mutations=(Mutation(commit=lambda: None, rollback=rollback),),
        account_adjustments=(entry,),
    )
