"""The object door of engines with a holding builtin (Spot Funds): real reservations.

An all-builtin engine otherwise decides an order with the start stage alone and
returns ``accepted_nothing_held()``. When a builtin takes holds in its main
stage, the order goes through the batch door's kernel (``Book.process``, one
``MSG_ORDER`` record: gate, start, main, holds taken into a reservation slot),
and the reservation returned finalizes that slot through ``Book.finalize``
(``MSG_COMMIT`` / ``MSG_ROLLBACK``): the same kernels, so exactly once.

It also wires the holding builtin's account-adjustment hook into the
registration (``BuiltinEntry.adjust``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layout.records import MSG_COMMIT, MSG_ROLLBACK, ORDER_DTYPE, RECORD_TAG_SHIFT, SIDE_BUY
from ..layout.state import SH_RECORD_TAG
from ..layout.view import V_QUOTES_ADDR, V_QUOTES_CAP
from ..param import Price
from ..param.lock import Lock
from ..pretrade.request import held_reservation
from ..pretrade.results import (
    AccountAdjustmentOutcome,
    AccountOutcomeEntry,
    OutcomeAmount,
    execute_result,
)

__all__ = ["HoldingDoor", "holding_door"]


class HoldingDoor:
    """Spot Funds' per-order path of one in-process engine."""

    def __init__(self, book: Any, policy: Any) -> None:
        self.book = book
        self.policy = policy
        self.record = np.zeros(1, dtype=ORDER_DTYPE)
        self.position = 0  #: the registration index (orders the post-trade results)

    def _snapshot(self, account: int, assets: tuple[str, str]) -> dict[str, tuple[int, int, int]]:
        return {a: self.policy.holdings(self.book, account, a) for a in assets}

    def execute(self, engine: Any, order: Any) -> Any:
        book = self.book
        self.record.view(np.uint8)[:] = np.frombuffer(book.request_record, dtype=np.uint8)[:64]
        self.record["ref"] = int(book.shared[SH_RECORD_TAG]) << RECORD_TAG_SHIFT
        op = order._operation
        assets: tuple[str, str] = ("", "")
        account = 0
        if op is not None and op._account_id is not None:
            underlying, settlement = (str(x) for x in op._instrument._key)
            account = op._account_id.value
            buy = int(self.record["side"][0]) == SIDE_BUY
            assets = (settlement, underlying) if buy else (underlying, settlement)
            before = self._snapshot(account, assets)
        out = engine._out
        _, n = book.process(self.record, out, engine._clock())
        res = out[0]
        if int(res["code"]) != 0 or int(res["count"]) != 0:
            return execute_result(None, [r for _, r in engine._reader.rejects(n, order)])
        handle = int(res["reservation"])
        after = self._snapshot(account, assets)
        gid = self.policy.policy_group_id
        outcomes = []
        for asset in assets:
            (a0, h0, i0), (a1, h1, i1) = before[asset], after[asset]
            held = {}
            if h1 != h0:
                held["balance"] = _amount(a1 - a0, a1, book.scale)
                held["held"] = _amount(h1 - h0, h1, book.scale)
            if i1 != i0:
                held["incoming"] = _amount(i1 - i0, i1, book.scale)
            if held:
                entry = AccountOutcomeEntry(asset=asset, **held)
                outcomes.append(AccountAdjustmentOutcome(policy_group_id=gid, entry=entry))
        lock = Lock()
        price = self._lock_price(handle)
        if price is not None:
            lock.push(gid, price)

        def remote(commit: bool, defer: bool = False) -> None:
            scratch = np.zeros(len(out), dtype=out.dtype)
            book.finalize(scratch, handle, MSG_COMMIT if commit else MSG_ROLLBACK)
            if commit and handle != 0:
                self._retire(handle)

        reservation = held_reservation(None, [], lock, outcomes, remote)
        return execute_result(reservation, [])

    def dry(self, engine: Any, order: Any) -> Any:
        """``execute_pre_trade_dry_run``: the kernels' dry decision, then the holds it would take.

        The decision is the pipeline's ``MSG_DRY_ORDER`` (no state change, nothing
        latched). For a pass, Spot Funds' main stage proposes its legs into a scratch
        request view (taking them is the pipeline's job, which a view alone never
        reaches): they give openpit's would-be lock and outcomes.
        """
        from ..kernels import spot_funds as SF
        from ..kernels.pipeline import view_open
        from ..layout.records import MSG_DRY_ORDER
        from ..layout.view import (
            LEG_AMOUNT,
            LEG_AT,
            LEG_WORDS,
            V_LEGS,
            V_LOCK_PRICE,
            V_QUOTES_ADDR,
            V_QUOTES_CAP,
            VIEW_WORDS,
        )
        from ..layout.view import V_N_LEGS as N_LEGS
        from ..pretrade.results import dry_run_report

        book = self.book
        self.record.view(np.uint8)[:] = np.frombuffer(book.request_record, dtype=np.uint8)[:64]
        self.record["ref"] = int(book.shared[SH_RECORD_TAG]) << RECORD_TAG_SHIFT
        self.record["kind"] = MSG_DRY_ORDER
        out = engine._out
        now = engine._clock()
        _, n = book.process(self.record, out, now)
        if int(out[0]["code"]) != 0 or int(out[0]["count"]) != 0:
            rejects = [r for _, r in engine._reader.rejects(n, order)]
            row = engine._rows.order(order)
            return dry_run_report(rejects, Lock(), [], engine._would_block(row, rejects))
        view = np.zeros(VIEW_WORDS, dtype=np.int64)
        view[V_QUOTES_ADDR:V_QUOTES_CAP + 1] = book._request[V_QUOTES_ADDR:V_QUOTES_CAP + 1]
        view_open(book.state, view, self.record.view(np.int64), now, False, 0)
        view[N_LEGS] = 0
        scratch = np.zeros(len(out), dtype=out.dtype).view(np.int64).reshape(-1, 8)
        SF.main(book.state, book.shared, view, scratch, 0, 0)
        lock = Lock()
        gid = self.policy.policy_group_id
        if int(view[N_LEGS]):
            lock.push(gid, _price(int(view[V_LOCK_PRICE]), book.scale))
        outcomes = []
        legs = [(int(view[V_LEGS + i * LEG_WORDS + LEG_AT]),
                 int(view[V_LEGS + i * LEG_WORDS + LEG_AMOUNT])) for i in range(int(view[N_LEGS]))]
        for asset in self._assets(order):
            row = self.policy.row(book, order._operation._account_id.value, asset)
            avail, held, inc = self.policy.holdings(book, order._operation._account_id.value, asset)
            fields: dict[str, Any] = {}
            hold = sum(a for at, a in legs if at == row + SF.SF_HELD)
            coming = sum(a for at, a in legs if at == row + SF.SF_INCOMING)
            if hold:
                fields["balance"] = _amount(-hold, avail - hold, book.scale)
                fields["held"] = _amount(hold, held + hold, book.scale)
            if coming:
                fields["incoming"] = _amount(coming, inc + coming, book.scale)
            if fields:
                entry = AccountOutcomeEntry(asset=asset, **fields)
                outcomes.append(AccountAdjustmentOutcome(policy_group_id=gid, entry=entry))
        return dry_run_report(None, lock, outcomes, None)

    def _assets(self, order: Any) -> tuple[str, ...]:
        """The order's assets in openpit's outcome order (BUY: settlement first)."""
        underlying, settlement = (str(x) for x in order._operation._instrument._key)
        buy = int(self.record["side"][0]) == SIDE_BUY
        return (settlement, underlying) if buy else (underlying, settlement)

    def _retire(self, handle: int) -> None:
        """The committed slot of ``handle`` retires; its holds stay in the rows (openpit)."""
        from ..kernels.spot_fill import retire_committed
        from ..layout.handles import handle_index
        from ..layout.state import H_RES_BASE, W_RES

        st = self.book.state
        retire_committed(st, int(st[H_RES_BASE]) + handle_index(handle) * W_RES)

    def _lock_price(self, handle: int) -> Any:
        """The lock price the main stage recorded in the reservation slot of ``handle``."""
        from ..builtins.numbers import fixed_to_decimal
        from ..layout.handles import handle_index
        from ..layout.state import H_RES_BASE, RS_LOCK_PRICE, W_RES

        if handle == 0:
            return None
        st = self.book.state
        raw = int(st[int(st[H_RES_BASE]) + handle_index(handle) * W_RES + RS_LOCK_PRICE])
        return Price(str(fixed_to_decimal(raw, self.book.scale).normalize() + 0))


def _price(raw: int, scale: int) -> Any:
    from ..builtins.numbers import fixed_to_decimal

    return Price(str(fixed_to_decimal(raw, scale).normalize() + 0))


def _amount(delta: int, absolute: int, scale: int) -> OutcomeAmount:
    from ..builtins.spot_funds import _position_size

    return OutcomeAmount(
        delta=_position_size(delta, scale), absolute=_position_size(absolute, scale)
    )


def holding_door(engine: Any, registrations: list[Any], book: Any) -> HoldingDoor | None:
    """The door for an engine with Spot Funds (its adjust hook wired), else None."""
    from ..builtins.spot_funds import SpotFunds, adjust, wire_market_data

    for entry in registrations:
        if not getattr(entry, "is_builtin", False):
            continue
        policy = book.policy(entry.index)
        if isinstance(policy, SpotFunds):
            entry.adjust = lambda ctx, account_id, item, p=policy: adjust(
                p, book, account_id.value, item
            )
            door = HoldingDoor(book, policy)
            door.position = entry.index
            wire_market_data(engine, book, policy)
            return door
    return None


# ---- post-trade: an execution report's fill (kernels.spot_fill) ------------------------------

_REASONS = ("ARITHMETIC_OVERFLOW", "MISSING_ACCOUNT_CURRENCY", "MISSING_FX",
            "MISSING_COST_BASIS", "MISSING_INITIAL_PNL")  # fmt: skip


def _block(code: str, reason: str, details: str) -> Any:
    from ..pretrade import AccountBlock

    return AccountBlock(policy="SpotFundsPolicy", code=code, reason=reason, details=details)


def _missing(what: str, field: str) -> Any:
    return _block("MissingRequiredField", f"failed to access required field '{what}'",
                  f"failed to access field '{field}'")  # fmt: skip


def report_fill(door: HoldingDoor, report: Any, currency: str | None,
                now: int = 0) -> tuple[list, list, list]:  # fmt: skip
    """Spot Funds' part of ``apply_execution_report``: (blocks, account P&Ls, adjustments).

    The report ties itself to the held funds by its lock (this policy group's one
    price), its account, instrument and side, as in openpit: balances move per
    (account, asset); no reservation slot is involved.
    """
    from ..kernels import spot_fill as K

    book, policy = door.book, door.policy
    gid = policy.policy_group_id
    op = report._operation
    if op is None or op._account_id is None:
        return [_missing("account ID", "operation.account_id")], [], []
    fill = report._fill
    if fill is None or fill._remaining_reserved_quantity is None:
        return [_missing("remaining reserved quantity", "fill.remaining_reserved_quantity")], [], []
    if fill._is_final is None:
        return [_missing("order finality", "fill.is_final")], [], []
    trade, fee = fill._last_trade, fill._fee
    scale = book.scale
    remaining = fill._remaining_reserved_quantity._to_fixed(scale)
    final = bool(fill._is_final)
    prices = fill._lock.prices_of(gid)
    lock_blocks = []
    if len(prices) != 1:
        # each step that needs the lock price blocks on its own (openpit): a trade
        # (then its fee is not applied either), and the final release
        purposes = ["settlement fill"] if trade is not None else []
        if final and remaining != 0:
            purposes.append("settlement release")
        for purpose in purposes:
            if prices:
                lock_blocks.append(_block(
                    "Other", f"pre-trade lock has multiple prices for {purpose}; two "
                    "SpotFundsPolicies share a group_id", f"group {gid}"))  # fmt: skip
            else:
                lock_blocks.append(_block("MissingRequiredField",
                                          f"pre-trade lock has no price for {purpose}",
                                          f"group {gid}"))  # fmt: skip
        if trade is not None:
            return lock_blocks, [], []
        final = False
    underlying, settlement = (str(x) for x in op._instrument._key)
    p = np.zeros(K.P_WORDS, dtype=np.int64)
    p[K.P_ACCOUNT] = op._account_id.value if op._account_id.value < 1 << 63 else \
        op._account_id.value - (1 << 64)  # fmt: skip
    p[K.P_UNDERLYING] = book.asset_id(underlying)
    p[K.P_SETTLEMENT] = book.asset_id(settlement)
    p[K.P_BUY] = 1 if int(_side_code(op._side)) == SIDE_BUY else 0
    if trade is not None:
        p[K.P_HAS_TRADE] = 1
        p[K.P_PRICE] = trade.price._to_fixed(scale)
        p[K.P_QTY] = trade.quantity._to_fixed(scale)
    if fee is not None:
        p[K.P_HAS_FEE] = 1
        p[K.P_FEE_ASSET] = book.asset_id(str(fee.currency))
        p[K.P_FEE] = fee.amount._to_fixed(scale)
    p[K.P_REMAINING] = remaining
    p[K.P_FINAL] = 1 if final else 0
    p[K.P_LOCK] = prices[0]._to_fixed(scale) if len(prices) == 1 else 0
    p[K.P_CCY] = -1 if currency is None else book.asset_id(currency)
    p[K.P_QUOTES_ADDR:K.P_QUOTES_CAP + 1] = book._request[V_QUOTES_ADDR:V_QUOTES_CAP + 1]
    p[K.P_NOW] = now
    o = np.zeros(K.O_WORDS, dtype=np.int64)
    status = K.execution_report(book.state, p, o)
    if status != 0:
        return [_block("ArithmeticOverflow", "arithmetic overflow",
                       f"fill overflow: asset {settlement}")], [], []  # fmt: skip
    adjustments = [a for a in (_leg_outcome(book, gid, o, leg) for leg in range(3)) if a]
    pnls = []
    acc = K.O_ACCOUNT
    if o[acc] != 0:
        from ..pretrade.results import AccountPnlOutcome

        pnls.append(AccountPnlOutcome(policy_group_id=gid, account_id=op._account_id,
                                      **_pnl_fields(o[acc], o[acc + 1], o[acc + 2], o[acc + 3],
                                                    scale)))  # fmt: skip
    return lock_blocks, pnls, adjustments


def _side_code(side: Any) -> int:
    from ..engine.rows import _SIDES

    return _SIDES.get(side, 0)


def _pnl_fields(kind: int, delta: int, absolute: int, reason: int, scale: int) -> dict:
    from ..param import Pnl
    from ..param.halt import PnlHaltReason
    from ..pretrade.results import PnlOutcomeAmount

    if kind == 2:
        return {"halt_reason": getattr(PnlHaltReason, _REASONS[int(reason)])}
    dec = lambda raw: Pnl(str(_dec(raw, scale)))  # noqa: E731
    return {"pnl": PnlOutcomeAmount(delta=dec(delta), absolute=dec(absolute))}


def _dec(raw: int, scale: int) -> Any:
    from ..builtins.numbers import fixed_to_decimal

    return fixed_to_decimal(int(raw), scale).normalize() + 0


def _leg_outcome(book: Any, gid: int, o: np.ndarray, leg: int) -> Any:
    from ..kernels import spot_fill as K
    from ..pretrade.results import PnlOutcome

    g = leg * K.O_LEG
    if o[g + K.OL_TOUCHED] == 0:
        return None
    scale = book.scale
    fields: dict[str, Any] = {}
    for name, d, a in (("balance", K.OL_BAL_D, K.OL_AVAIL), ("held", K.OL_HELD_D, K.OL_HELD),
                       ("incoming", K.OL_INC_D, K.OL_INC)):  # fmt: skip
        if o[g + d] != 0:
            fields[name] = _amount(int(o[g + d]), int(o[g + a]), scale)
    if leg == K.LEG_UNDERLYING:
        kind = int(o[g + K.OL_PNL_KIND])
        if kind:
            fields["realized_pnl"] = PnlOutcome(**_pnl_fields(
                kind, o[g + K.OL_PNL_D], o[g + K.OL_PNL_ABS], o[g + K.OL_PNL_REASON], scale))
        if kind != 2 and o[g + K.OL_AVG_SET]:
            fields["average_entry_price"] = Price(str(_dec(o[g + K.OL_AVG], scale)))
    if not fields:
        return None
    entry = AccountOutcomeEntry(asset=book.asset_name(int(o[g + K.OL_ASSET])), **fields)
    return AccountAdjustmentOutcome(policy_group_id=gid, entry=entry)


def fill_post_trade(door: HoldingDoor, report: Any, accounts: Any, account: int,
                    has_account: bool, out: Any, now: int = 0) -> None:  # fmt: skip
    """Add Spot Funds' report results to ``out`` (the custom policies' pairs), in its slot."""
    currency = None
    if has_account:
        currency = accounts.currency.get(account)
        if currency is None:
            gid = accounts.group_of.get(account)
            if gid is not None:
                currency = accounts.group_currency.get(gid)
    blocks, pnls, adjustments = report_fill(door, report, currency, now)
    i = door.position
    out.blocks.extend((i, b) for b in blocks)
    out.pnls.extend((i, p) for p in pnls)
    out.adjustments.extend((i, a) for a in adjustments)
