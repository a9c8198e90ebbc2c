"""The Book's blocks: account, account-group and engine-wide blocks, and kernel-latched causes.

Account and group blocks live in the arena (account rows, the group table);
the engine-wide block and the live-block count live in the ``shared`` array,
so in a sharded engine every shard's gate sees them at once. A block the
kernels latch (a kill switch) keeps its cause's six numeric words in the
account row; ``block_cause_record`` turns them back into a record that
``describe`` words.
"""

from __future__ import annotations

from typing import Any

from openpit_shm.kernels import control as KC
from openpit_shm.layout import state as L

from .book_rows import BookRows, signed
from .record import Record

__all__ = ["BookBlocks"]


class BookBlocks(BookRows):
    """Block / unblock accounts, groups and the engine; read block causes."""

    _space_call: Any  # (hot path, ``book.py``: a control kernel call with room to allocate)

    def block_account(self, account: int, replace: bool = False) -> bool:
        """Block with a cause the engine holds; False if already blocked (first cause wins).

        ``replace=True`` takes an existing block over (``replace_block_reason``).
        """
        return self._space_call(KC.ctl_block_external, self.shared, signed(account), replace) == 1

    def unblock_account(self, account: int) -> None:
        KC.ctl_unblock(self.state, self.shared, signed(account))

    def is_account_blocked(self, account: int) -> bool:
        return int(KC.ctl_is_blocked(self.state, signed(account))) != L.BLOCK_NONE

    def block_cause(self, account: int) -> tuple[int, ...] | None:
        """The six numeric words of a kernel-latched block (head, d0..d4), else None."""
        row = self.find_account_row(account)
        if row == 0 or int(self.state[row + L.AC_BLOCK]) & 0xFF != L.BLOCK_KERNEL:
            return None
        return tuple(int(x) for x in self.state[row + L.AC_CAUSE : row + L.AC_CAUSE + 6])

    def block_cause_record(self, account: int) -> Record | None:
        """A kernel-latched block as a decoded record (``describe`` gives its texts)."""
        cause = self.block_cause(account)
        if cause is None:
            return None
        return Record.of([0, 0, *cause])

    def set_group(self, account: int, group: int) -> None:
        self._space_call(KC.ctl_set_group, signed(account), group)

    def block_group(self, group: int) -> None:
        self._space_call(KC.ctl_block_group, self.shared, group, True)

    def unblock_group(self, group: int) -> None:
        self._space_call(KC.ctl_block_group, self.shared, group, False)

    def block_engine(self) -> bool:
        """Set the engine-wide block (a cause the engine holds); False if one is already set.

        The block lives in the ``shared`` array, so in a sharded engine every
        shard's gate sees it at once; doing it again through another shard's
        Book (a broadcast) changes nothing.
        """
        return int(KC.ctl_engine_block(self.shared, L.ENGINE_BLOCK_EXTERNAL)) == 1

    def unblock_engine(self) -> bool:
        """Clear the engine-wide block, whatever set it (the kill switch too); False if none."""
        return int(KC.ctl_engine_block(self.shared, L.ENGINE_BLOCK_NONE)) == 1

    def engine_block(self) -> int:
        """The engine-wide block: ``ENGINE_BLOCK_NONE`` / ``_EXTERNAL`` / ``_KILL_SWITCH``."""
        return int(self.shared[L.SH_ENGINE_BLOCK])

    def blocks_anywhere(self) -> int:
        """Live blocks over every shard sharing this Book's ``shared`` array (see layout.state)."""
        return int(self.shared[L.SH_N_BLOCKED])
