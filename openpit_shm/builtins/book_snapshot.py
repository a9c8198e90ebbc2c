"""The Book's introspection: arena use, table sizes, and a door-independent state snapshot.

``snapshot`` keys everything by names (accounts, asset names), never by ids
or offsets, so two Books that saw the same requests through different doors
(objects, batches, shards) compare equal.
"""

from __future__ import annotations

from typing import Any

from openpit_shm.kernels import control as KC
from openpit_shm.layout import state as L

from .book_policies import BookPolicies
from .record import Record
from .registry import table_rows

__all__ = ["BookSnapshot"]


class BookSnapshot(BookPolicies):
    """``used_bytes`` / ``table_count`` / ``snapshot``."""

    def used_bytes(self) -> int:
        """Bytes of arena in use (allocated minus recyclable scrap)."""
        st = self.state
        scrap = int(st[L.H_SCRAP_END]) - int(st[L.H_SCRAP])
        return (int(st[L.H_TOP]) - scrap) * 8

    def table_count(self, which: str) -> int:
        word = {"accounts": L.H_T_ACC, "pairs": L.H_T_AA, "groups": L.H_T_GRP}[which]
        return int(self.state[int(self.state[word]) + L.TB_COUNT])

    def _table_rows(self, word: int) -> list[tuple[int, int, int]]:
        """(key0, key1, row) of every key in a table, sorted."""
        k0, k1, rows = table_rows(self.state, word)
        return sorted(zip(k0.tolist(), k1.tolist(), rows.tolist(), strict=True))

    def snapshot(self, now: int) -> dict[str, Any]:
        """The decision-relevant state, keyed by names (not by ids or offsets).

        Two Books that saw the same requests through different doors (objects,
        batches) hold equal snapshots even though asset ids, table layouts
        and reservation slots may differ. Sliding-log counts are read as a dry
        run at ``now`` would see them.
        """
        st = self.state
        name = self.asset_name
        accounts = {}
        for k0, _, row in self._table_rows(L.H_T_ACC):
            block = int(st[row + L.AC_BLOCK]) & 0xFF
            cause = tuple(int(x) for x in st[row + L.AC_CAUSE : row + L.AC_CAUSE + 6])
            if block == L.BLOCK_KERNEL:
                rec = Record.of([0, 0, *cause])
                cause = self.describe(rec)  # ids -> names through the texts
            log = int(st[row + L.AC_RL_LOG])
            window = int(st[row + L.AC_RL_WINDOW])
            accounts[k0] = (
                block,
                cause if block == L.BLOCK_KERNEL else None,
                int(st[row + L.AC_BLOCK]) >> L.GROUP_SHIFT,
                None if log == 0 else int(KC.ctl_log_count(st, log, now, window)),
            )
        pairs = {}
        for k0, k1, row in self._table_rows(L.H_T_AA):
            log = int(st[row + L.AA_RL_LOG])
            window = int(st[row + L.AA_RL_WINDOW])
            pairs[(k0, name(k1))] = (
                int(st[row + L.AA_PNL]),
                int(st[row + L.AA_PNL_SCALE]),
                None if log == 0 else int(KC.ctl_log_count(st, log, now, window)),
            )
        sh = self.shared
        windows = {}
        rows = [("*broker*", L.SH_BROKER)] + [
            (a, self.shared_asset_row(i)) for i, a in enumerate(self._asset_names)
        ]
        for key, r in rows:
            start, count = int(sh[r + L.FW_START]), int(sh[r + L.FW_COUNT])
            if start == L.FW_NOT_STARTED or count == 0:
                start = count = 0  # not started (never, or reset): one form for both
            if sh[r + L.FW_ON] or count:
                windows[key] = (int(sh[r + L.FW_ON]), start, count)
        return {
            "accounts": accounts,
            "pairs": pairs,
            "windows": windows,
            "blocked": (int(st[L.H_N_BLOCKED_ACC]), int(st[L.H_N_BLOCKED_GRP])),
            "engine_block": int(sh[L.SH_ENGINE_BLOCK]),
            "blocks_anywhere": int(sh[L.SH_N_BLOCKED]),
        }
