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

        reservation = held_reservation(None, [], lock, outcomes, remote)
        return execute_result(reservation, [])

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


def _amount(delta: int, absolute: int, scale: int) -> OutcomeAmount:
    from ..builtins.spot_funds import _position_size

    return OutcomeAmount(delta=_position_size(delta, scale), absolute=_position_size(absolute, scale))


def holding_door(engine: Any, registrations: list[Any], book: Any) -> HoldingDoor | None:
    """The door for an engine with Spot Funds (its adjust hook wired), else None."""
    from ..builtins.spot_funds import SpotFunds, adjust

    for entry in registrations:
        if not getattr(entry, "is_builtin", False):
            continue
        policy = book.policy(entry.index)
        if isinstance(policy, SpotFunds):
            entry.adjust = lambda ctx, account_id, item, p=policy: adjust(
                p, book, account_id.value, item
            )
            return HoldingDoor(book, policy)
    return None
