"""The Book's registries and rows: asset and instrument ids, and the table rows policies write.

Asset ids are dense and registered on first use (their names kept in the
arena, ``registry``); instrument ids are what order records carry. Account
and account+asset rows live in the arena's hash tables; a shard's Book
creates rows only for the accounts it owns (``owned``). Builtin policy
objects (``base.BuiltinPolicy``) see the Book through this interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from openpit_shm.kernels import control as KC
from openpit_shm.layout import state as L
from openpit_shm.layout.shard import shard_of_array

from .book_arena import BookArena, bump
from .registry import name_words, write_name

__all__ = ["BookRows", "account_words", "signed"]


def signed(account: int) -> int:
    """An account id as the int64 bit pattern the kernels use (u64 values wrap negative)."""
    return account - (1 << 64) if account >= 1 << 63 else account


def account_words(accounts: Sequence[int]) -> np.ndarray:
    """Account ids (u64) as the int64 bit patterns the kernels key on."""
    return np.array(accounts, dtype=np.uint64).view(np.int64)


class BookRows(BookArena):
    """Asset / instrument registries and account / account+asset rows of a Book."""

    # ---- registries --------------------------------------------------------------------------

    def asset_id(self, asset: str) -> int:
        """The dense id of an asset (registered on first use, name kept in the arena)."""
        aid = self._assets.get(asset)
        if aid is None:
            name = str(asset)
            aid = len(self._asset_names)
            if aid >= int(self.state[L.H_ASSET_CAP]):
                self._grow_assets(2 * (aid + 1))
            words = name_words(name)
            self._ensure(words)
            write_name(self.state, aid, name, bump(self.state, words))
            self._assets[name] = aid
            self._asset_names.append(name)
        return aid

    def asset_names(self) -> list[str]:
        """Registered asset names, in id order."""
        return list(self._asset_names)

    def asset_name(self, aid: int) -> str:
        return self._asset_names[aid]

    def instrument_id(self, underlying: str, settlement: str) -> int:
        """The id of the instrument (underlying, settlement) that order records carry."""
        key = (str(underlying), str(settlement))
        iid = self._instruments.get(key)
        if iid is not None:
            return iid
        u, s = self.asset_id(key[0]), self.asset_id(key[1])
        st = self.state
        iid = int(st[L.H_N_INSTR])
        if iid >= int(st[L.H_INSTR_CAP]):
            cap = 2 * int(st[L.H_INSTR_CAP])
            self._ensure(cap * L.W_INSTR)
            st = self.state
            base = bump(st, cap * L.W_INSTR)
            old = int(st[L.H_INSTR_BASE])
            st[base : base + iid * L.W_INSTR] = st[old : old + iid * L.W_INSTR]
            st[L.H_INSTR_BASE] = base
            st[L.H_INSTR_CAP] = cap
        row = int(st[L.H_INSTR_BASE]) + iid * L.W_INSTR
        st[row + L.I_UNDERLYING] = u
        st[row + L.I_SETTLEMENT] = s
        st[L.H_N_INSTR] = iid + 1
        self._instruments[key] = iid
        return iid

    def instruments(self) -> list[tuple[str, str]]:
        """Registered instruments (underlying, settlement), in id order."""
        return sorted(self._instruments, key=self._instruments.__getitem__)

    def instrument_assets(self, iid: int) -> tuple[str, str]:
        row = int(self.state[L.H_INSTR_BASE]) + iid * L.W_INSTR
        st = self.state
        return self._asset_names[st[row]], self._asset_names[st[row + 1]]

    # ---- rows --------------------------------------------------------------------------------

    def _row(self, table_word: int, k0: int, k1: int) -> int:
        while True:
            st = self.state
            t = int(st[table_word])
            if int(KC.ctl_arena_free(st)) >= int(KC.ctl_tbl_need(st, t)):
                row = int(KC.ctl_tbl_get_or_insert(st, t, k0, k1))
                if row > 0:
                    return row
            self._ensure(int(KC.ctl_tbl_need(st, t)) + (1 << 16))

    def rows_of(self, table_word: int, k0: np.ndarray, k1: np.ndarray) -> np.ndarray:
        """Rows of many keys of one table (``L.H_T_ACC``/``L.H_T_AA``), created if absent.

        ``k0``/``k1``: int64 arrays (account ids as their int64 bit pattern).
        The arena grows once for all of them rather than key by key.
        """
        n = k0.shape[0]
        rows = np.zeros(n, dtype=np.int64)
        done = 0
        while True:
            done = int(KC.ctl_tbl_get_or_insert_many(self.state, table_word, k0, k1, done, rows))
            if done == n:
                return rows
            st = self.state
            t = int(st[table_word])
            rest = (n - done) * int(st[t + L.TB_ROWW])
            self._ensure(int(KC.ctl_tbl_need(st, t)) + rest + (1 << 16))

    def owned(self, accounts: np.ndarray) -> np.ndarray:
        """Which of ``accounts`` (int64 bit patterns) this Book decides: its shard's, or all.

        A shard arena installs only its own accounts' barriers (the others can
        never reach it: misrouted records are refused), which halves a
        two-shard engine's build time and per-shard memory.
        """
        n_shards = int(self.state[L.H_N_SHARDS])
        if n_shards <= 0:
            return np.ones(accounts.shape[0], dtype=np.bool_)
        shards = np.empty(accounts.shape[0], dtype=np.int64)
        shard_of_array(accounts, n_shards, shards)
        return shards == int(self.state[L.H_SHARD_ID])

    def owned_rows(self, table_word: int, accounts: Sequence[int], k1: Sequence[int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """``(indexes, rows)``: the rows of the keys this Book owns, and where they stand.

        ``accounts`` are account ids (u64); ``k1`` the second key words (asset
        ids) of a pair table, or None (0) for the account table.
        """
        keys = account_words(accounts)
        second = np.zeros_like(keys) if k1 is None else np.asarray(k1, dtype=np.int64)
        indexes = np.flatnonzero(self.owned(keys))
        return indexes, self.rows_of(table_word, keys[indexes], second[indexes])

    def write_limit_words(self, row: int, offsets: Sequence[int], words: Sequence[int]) -> None:
        """Write a barrier's ``(flags, first, second, scales)`` (``numbers.pair_words``) at
        ``row + offsets``, the flags word last: a flag is never set before its values."""
        st = self.state
        st[row + offsets[1]] = words[1]
        st[row + offsets[2]] = words[2]
        st[row + offsets[3]] = words[3]
        st[row + offsets[0]] = words[0]

    def restore_account_count(self, word: int, restored: int) -> None:
        """Set a per-account barrier counter (``word``) from the ``restored`` live rows.

        The counters gate the kernels (any account barrier makes the account a
        required field), so they hold the configured total. A shard arena's
        rows are its own accounts only: there the counter keeps the total and
        is only raised to what the rows show (a retune cut short by a crash
        may have left it behind them); elsewhere it becomes the row count.
        """
        st = self.state
        st[word] = restored if int(st[L.H_N_SHARDS]) <= 0 else max(restored, int(st[word]))

    def owned_pair_rows(self, pairs: Sequence[tuple[int, str]]) -> list[tuple[Any, int]]:
        """``(pair, row)`` of each ``(account, asset name)`` pair this Book owns (rows created)."""
        keys = list(pairs)
        assets = [self.asset_id(asset) for _, asset in keys]
        at, rows = self.owned_rows(L.H_T_AA, [a for a, _ in keys], assets)
        return [(keys[i], row) for i, row in zip(at.tolist(), rows.tolist(), strict=True)]

    def account_row(self, account: int) -> int:
        """The account row of ``account`` (u64 or int64 bits), created if absent."""
        return self._row(L.H_T_ACC, signed(account), 0)

    def pair_row(self, account: int, asset_id: int) -> int:
        """The account+asset row, created if absent."""
        return self._row(L.H_T_AA, signed(account), asset_id)

    def find_account_row(self, account: int) -> int:
        return int(KC.ctl_tbl_find(self.state, int(self.state[L.H_T_ACC]), signed(account), 0))

    def find_pair_row(self, account: int, asset_id: int) -> int:
        st = self.state
        return int(KC.ctl_tbl_find(st, int(st[L.H_T_AA]), signed(account), asset_id))

    def asset_row(self, asset_id: int) -> int:
        return int(self.state[L.H_ASSET_BASE]) + asset_id * L.W_ASSET

    def shared_asset_row(self, asset_id: int) -> int:
        return L.SH_ASSETS + asset_id * L.W_SH_ASSET
