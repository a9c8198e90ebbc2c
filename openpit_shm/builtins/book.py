"""The Book: the kernel state of one engine (or shard) and the Python API over it.

It owns the int64 arena (``state``) and the cross-shard ``shared`` array
(``layout.state``), the asset and instrument registries, and the builtin
policy objects; it calls the kernels (``kernels.pipeline``) and turns their
records back into texts (``describe``).

Hot calls (``start``, ``gate``, ``apply_report``) go straight to each
kernel's compiled ``entry_point`` (about 3x cheaper than the Numba
dispatcher) and pass the arrays as their addresses (ints unbox ~20 ns faster
than arrays); the Book keeps the arrays alive and refreshes the addresses
whenever it reallocates one. ``out`` is the engine's ``RESULT_DTYPE`` array;
its address is cached per array object.

Growth: mutating kernels return ``ST_NEED_SPACE`` *before* changing anything
when the arena could run short; the Book then doubles the arena (a copy,
amortized like a list's) and calls again. Tables inside the arena grow
incrementally (``kernels.hashtable``) and never pause.

Memory (``builtins.memory``): NumPy arrays by default; ``allocate``/``release``
hooks put both arrays (and every grown arena) where the caller wants, e.g.
shared-memory segments. ``Book.attach`` rebuilds a Book over an existing
arena without touching its kernel state: the arena is self-describing (asset
names, instruments, every policy's live configuration, runtime retunes
included), so what a restarted worker needs besides the two arrays is the
static, picklable ``Book.description()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from openpit_shm.kernels import codes as K
from openpit_shm.kernels import control as KC
from openpit_shm.kernels import entries as E
from openpit_shm.layout import state as L
from openpit_shm.layout.records import (
    FIXED_SCALE_DEFAULT,
    MSG_ORDER,
    MSG_REPORT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_STRUCT,
    POLICY_ENGINE,
    RECORD_TAG_BITS,
    RESULT_DTYPE,
    RecordFormat,
    new_record_tag,
)
from openpit_shm.layout.shard import shard_of_array
from openpit_shm.layout.view import V_SHARED_ADDR, V_STATE_ADDR, VIEW_WORDS

from .base import BuiltinPolicy
from .memory import Allocate, Memory, Release, checked
from .order_size import OrderSizeLimitPolicy
from .order_validation import OrderValidation
from .pnl_bounds import PnlBoundsKillSwitch
from .rate_limit import RateLimitPolicy
from .registry import name_words, read_assets, read_instruments, table_rows, write_name
from .specs import BuiltinSpec
from .texts import Description, Record, engine_description

__all__ = ["Book", "BookDescription"]

log = logging.getLogger(__name__)

_POLICY_CLASSES: dict[str, type[BuiltinPolicy]] = {
    cls.kind: cls
    for cls in (OrderValidation, RateLimitPolicy, OrderSizeLimitPolicy, PnlBoundsKillSwitch)
}


#: Installing a builtin slower than this is logged: the progress of a big build.
SLOW_INSTALL_S = 0.5
#: The progress word ``process`` notes for a shard's supervisor (``kernels.journal``); in
#: process nobody reads it.
_NO_JOURNAL = np.zeros(1, dtype=np.int64)
_RECORD = ORDER_STRUCT  # how the object door writes its request view's record


def _log_slow_install(spec: BuiltinSpec, shard: tuple[int, int] | None, seconds: float) -> None:
    if seconds < SLOW_INSTALL_S:
        return
    barriers = sum(len(v) for v in spec.config.values() if isinstance(v, dict))
    where = "" if shard is None else f" (shard {shard[0]} of {shard[1]})"
    log.info("%s: %s barriers installed in %.1f s%s", spec.name, f"{barriers:,}", seconds, where)


def _signed(account: int) -> int:
    """An account id as the int64 bit pattern the kernels use (u64 values wrap negative)."""
    return account - (1 << 64) if account >= 1 << 63 else account


def account_words(accounts: Sequence[int]) -> np.ndarray:
    """Account ids (u64) as the int64 bit patterns the kernels key on."""
    return np.array(accounts, dtype=np.uint64).view(np.int64)


def _words(arr: np.ndarray) -> np.ndarray:
    """An ``int64[n, 8]`` view of a ``RESULT_DTYPE``/``ORDER_DTYPE`` array (or the array)."""
    if arr.dtype == np.int64 and arr.ndim == 2:
        return arr
    if not arr.flags.c_contiguous:
        raise ValueError("record arrays must be C-contiguous")
    return arr.view(np.int64).reshape(-1, 8)


class Book:
    """Kernel state + registries + builtin policy objects of one engine."""

    def __init__(self) -> None:
        raise TypeError("use Book.create(...)")

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        specs: Sequence[Any],
        *,
        n_policies: int,
        scale: int = FIXED_SCALE_DEFAULT,
        reserve_words: int = L.RESERVE_WORDS_DEFAULT,
        log_cap: int = L.LOG_CAP_DEFAULT,
        asset_cap: int = L.ASSET_CAP_DEFAULT,
        table_cap: int = L.TABLE_CAP_DEFAULT,
        allocate: Allocate | None = None,
        release: Release | None = None,
        shard: tuple[int, int] | None = None,
        record_tag: int | None = None,
    ) -> Book:
        """A fresh Book for ``specs`` (builtin specs; see ``_indexed`` for how indexes are read).

        ``n_policies`` counts every registered policy (custom ones too);
        ``scale`` is the engine-wide fixed-point scale (0..18);
        ``log_cap`` bounds the sliding-log ring per key (a power of two <= 64);
        ``asset_cap`` sizes the asset rows and the ``shared`` array (which a
        sharded engine should size for every asset it will see: growing
        ``shared`` gives this Book a new array the other shards do not see);
        ``allocate``/``release``: where the arrays live (``builtins.memory``);
        ``shard``: ``(k, n_shards)`` for shard ``k``'s arena, which installs only
        the barriers of its own accounts and refuses records of others;
        ``record_tag``: the engine's record tag (``layout.records``; every shard
        of one engine shares it), a fresh random one when None.
        """
        if not 0 <= scale <= 18:
            raise ValueError("fixed-point scale must be in 0..=18")
        if log_cap not in (1, 2, 4, 8, 16, 32, 64):
            raise ValueError("log_cap must be a power of two in 1..=64")
        order = _ordered(specs, n_policies)
        self = cls._blank(scale, order, n_policies, Memory(allocate, release))
        st = self._memory.new(max(reserve_words, _initial_words(asset_cap, table_cap)), "state")
        st[L.H_MAGIC] = L.STATE_MAGIC
        st[L.H_VERSION] = L.STATE_VERSION
        st[L.H_SCALE] = scale
        st[L.H_POW10] = 10**scale
        st[L.H_TOP] = L.H_SIZE
        st[L.H_CAP] = st.shape[0]
        st[L.H_N_POLICIES] = n_policies
        st[L.H_LOG_CAP] = log_cap
        if shard is not None:
            st[L.H_SHARD_ID], st[L.H_N_SHARDS] = shard
        for k in range(L.N_KINDS):
            st[L.H_POLICY_INDEX + k] = L.NO_POLICY
        for g in (L.H_RL_ACC_GEN, L.H_RL_AA_GEN, L.H_OSL_AA_GEN, L.H_PNL_AA_GEN):
            st[g] = 1
        st[L.H_T_ACC] = KC.ctl_tbl_create(st, 1, table_cap, L.W_ACC)
        st[L.H_T_AA] = KC.ctl_tbl_create(st, 2, table_cap, L.W_AA)
        st[L.H_T_GRP] = KC.ctl_tbl_create(st, 1, 64, L.W_GRP)
        st[L.H_ASSET_BASE] = _bump(st, asset_cap * L.W_ASSET)
        st[L.H_ASSET_CAP] = asset_cap
        st[L.H_ANAME_BASE] = _bump(st, asset_cap * L.W_ANAME)
        st[L.H_INSTR_BASE] = _bump(st, L.INSTR_CAP_DEFAULT * L.W_INSTR)
        st[L.H_INSTR_CAP] = L.INSTR_CAP_DEFAULT
        st[L.H_RES_BASE] = _bump(st, L.RES_CAP_DEFAULT * L.W_RES)
        st[L.H_RES_CAP] = L.RES_CAP_DEFAULT
        self.state = st
        sh = self._memory.new(L.shared_words(asset_cap), "shared")
        sh[L.SH_MAGIC] = L.SHARED_MAGIC
        sh[L.SH_VERSION] = L.STATE_VERSION
        sh[L.SH_ASSET_CAP] = asset_cap
        sh[L.SH_WRITERS] = 1  # a sharded engine says how many processes share it
        sh[L.SH_RECORD_TAG] = _checked_tag(new_record_tag() if record_tag is None else record_tag)
        self.shared = sh
        self._refresh()
        for pos, (index, spec) in enumerate(order):
            policy = _POLICY_CLASSES[spec.kind](spec, index)
            self.policies[index] = policy
            st[L.H_POLICY_INDEX + policy.kind_id] = index
            st[L.H_EXEC + pos] = policy.kind_id
        st[L.H_N_BUILTINS] = len(order)
        for index, _ in order:
            policy = self.policies[index]
            assert policy is not None
            started = time.perf_counter()
            policy.install(self)
            _log_slow_install(policy.spec, shard, time.perf_counter() - started)
        return self

    @classmethod
    def attach(
        cls,
        specs: Sequence[Any],
        *,
        n_policies: int,
        scale: int,
        state: np.ndarray,
        shared: np.ndarray,
        allocate: Allocate | None = None,
        release: Release | None = None,
    ) -> Book:
        """A Book over an existing arena and shared array (a restarted shard worker's).

        Nothing in the kernel state is re-initialized: the asset and instrument
        registries are read back from the arena, and so is each builtin's live
        configuration (runtime retunes included; the arena is authoritative).
        ``specs``/``n_policies``/``scale`` must be the ones the arena was
        created with (checked: ``ValueError`` names the mismatch). Growth then
        goes through ``allocate``/``release`` like a created Book's.
        """
        order = _ordered(specs, n_policies)
        self = cls._blank(scale, order, n_policies, Memory(allocate, release))
        st = checked(state, L.H_SIZE, "state")
        sh = checked(shared, L.SH_ASSETS, "shared")
        _check_header(st, sh, scale, n_policies, order)
        if int(st[L.H_CAP]) > st.shape[0]:
            raise ValueError(f"the arena records {int(st[L.H_CAP])} words, the array has fewer")
        st[L.H_CAP] = st.shape[0]  # an arena handed back larger (grown in place) uses it all
        self.state, self.shared = st, sh
        self._refresh()
        self._asset_names = read_assets(st)
        self._assets = {name: aid for aid, name in enumerate(self._asset_names)}
        for iid, (u, s) in enumerate(read_instruments(st)):
            self._instruments[(self._asset_names[u], self._asset_names[s])] = iid
        for index, spec in order:
            policy = _POLICY_CLASSES[spec.kind](spec, index)
            self.policies[index] = policy
            policy.restore(self)
        return self

    @classmethod
    def from_description(
        cls,
        description: BookDescription,
        *,
        state: np.ndarray,
        shared: np.ndarray,
        allocate: Allocate | None = None,
        release: Release | None = None,
    ) -> Book:
        """``attach`` with what ``Book.description()`` returned (e.g. in another process)."""
        return cls.attach(
            description.specs, n_policies=description.n_policies, scale=description.scale,
            state=state, shared=shared, allocate=allocate, release=release,
        )  # fmt: skip

    def description(self) -> BookDescription:
        """The static, picklable part of this Book: ``Book.from_description`` + the arrays.

        It never changes after ``create``: everything that does (assets,
        instruments, retunes, blocks, P&L, windows) lives in the arrays.
        """
        return BookDescription(self._specs, len(self.policies), self.scale)

    @classmethod
    def _blank(
        cls, scale: int, order: list[tuple[int, BuiltinSpec]], n_policies: int, memory: Memory
    ) -> Book:
        self = object.__new__(cls)
        self.scale = scale
        self._specs = tuple(order)
        self._memory = memory
        self._assets: dict[str, int] = {}
        self._asset_names: list[str] = []
        self._instruments: dict[tuple[str, str], int] = {}
        self._out_src: Any = None
        self._out_view: Any = None
        self._out_addr = 0
        self.policies: list[BuiltinPolicy | None] = [None] * n_policies
        return self

    def policies_by_kind(self) -> dict[str, BuiltinPolicy]:
        return {p.kind: p for p in self.policies if p is not None}

    def policy(self, index: int) -> BuiltinPolicy | None:
        return self.policies[index] if 0 <= index < len(self.policies) else None

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
            write_name(self.state, aid, name, _bump(self.state, words))
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
            base = _bump(st, cap * L.W_INSTR)
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

    # ---- arena -------------------------------------------------------------------------------

    def _ensure(self, words: int) -> None:
        """Grow the arena (a zero-extended copy) until ``words`` more fit."""
        st = self.state
        free = int(st[L.H_CAP]) - int(st[L.H_TOP])
        if free >= words:
            return
        cap = int(st[L.H_CAP])
        new_cap = max(2 * cap, int(st[L.H_TOP]) + words + (1 << 16))
        grown = self._memory.new(new_cap, "state")
        top = int(st[L.H_TOP])
        grown[:top] = st[:top]  # (the rest is zero: never-written arena words)
        grown[L.H_CAP] = grown.shape[0]
        self.state = grown
        self._refresh()
        self._memory.drop(st)

    def grow(self, words: int = 0) -> None:
        """Make room for the kernels' next request (after ``ST_NEED_SPACE``) plus ``words``."""
        self._ensure(int(KC.ctl_space_needed(self.state)) + words + (1 << 16))

    def _grow_for_kernel(self) -> None:
        self._ensure(int(KC.ctl_space_needed(self.state)) + (1 << 16))

    def _grow_assets(self, cap: int) -> None:
        # The shared array first: an allocator that cannot grow it (a sharded engine's,
        # shared by every shard) fails here, before the arena is touched.
        old_sh = self.shared
        if (old_sh.shape[0] - L.SH_ASSETS) // L.W_SH_ASSET < cap:
            sh = self._memory.new(L.shared_words(cap), "shared")
            sh[: old_sh.shape[0]] = old_sh
            self.shared = sh
        st = self.state
        old_cap = int(st[L.H_ASSET_CAP])
        self._ensure(cap * (L.W_ASSET + L.W_ANAME))
        st = self.state
        base = _bump(st, cap * L.W_ASSET)
        old = int(st[L.H_ASSET_BASE])
        st[base : base + old_cap * L.W_ASSET] = st[old : old + old_cap * L.W_ASSET]
        names = _bump(st, cap * L.W_ANAME)
        old = int(st[L.H_ANAME_BASE])
        st[names : names + old_cap * L.W_ANAME] = st[old : old + old_cap * L.W_ANAME]
        st[L.H_ANAME_BASE] = names
        st[L.H_ASSET_BASE] = base
        st[L.H_ASSET_CAP] = cap
        if int(self.shared[L.SH_ASSET_CAP]) < cap:  # (a pre-sized shared array just says so)
            self.shared[L.SH_ASSET_CAP] = cap
        self._refresh()
        if self.shared is not old_sh:
            self._memory.drop(old_sh)

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
        return self._row(L.H_T_ACC, _signed(account), 0)

    def pair_row(self, account: int, asset_id: int) -> int:
        """The account+asset row, created if absent."""
        return self._row(L.H_T_AA, _signed(account), asset_id)

    def find_account_row(self, account: int) -> int:
        return int(KC.ctl_tbl_find(self.state, int(self.state[L.H_T_ACC]), _signed(account), 0))

    def find_pair_row(self, account: int, asset_id: int) -> int:
        st = self.state
        return int(KC.ctl_tbl_find(st, int(st[L.H_T_AA]), _signed(account), asset_id))

    def asset_row(self, asset_id: int) -> int:
        return int(self.state[L.H_ASSET_BASE]) + asset_id * L.W_ASSET

    def shared_asset_row(self, asset_id: int) -> int:
        return L.SH_ASSETS + asset_id * L.W_SH_ASSET

    # ---- hot path ----------------------------------------------------------------------------

    def _out(self, out: np.ndarray) -> int:
        """Address of ``out``'s records (validated and cached per array object)."""
        if out is self._out_src:
            return self._out_addr
        view = _words(out)
        if view.shape[0] < int(self.state[L.H_N_POLICIES]) + 1:
            raise ValueError("out must hold n_policies + 1 result records")
        self._out_src, self._out_view, self._out_addr = out, view, view.ctypes.data
        return self._out_addr

    def _refresh(self) -> None:
        """Cache the arrays' addresses (after creating or reallocating one).

        The request view (``layout.view``) keeps them too: the object door's kernels
        take the view's address and read the arrays' from it.
        """
        self._sa = self.state.ctypes.data
        self._ha = self.shared.ctypes.data
        if self._ha % L.SH_ALIGN_BYTES:
            # The fixed windows are swapped with a 16-byte CAS, which faults off alignment.
            raise ValueError(f"the shared array must be {L.SH_ALIGN_BYTES}-byte aligned")
        request = getattr(self, "_request", None)
        if request is None:
            # One request view per Book, alive as long as it: the object door writes each
            # order, report or finalization record into its first 8 words (``_RECORD``).
            request = self._request = np.zeros(VIEW_WORDS, dtype=np.int64)
            self._request_bytes = memoryview(request).cast("B")
            self._ra = request.ctypes.data
            self._iid_of_ids: dict[tuple[int, int], int] = {}
        request[V_STATE_ADDR] = self._sa
        request[V_SHARED_ADDR] = self._ha

    # The per-order fast path for callers that want to skip this class's ``start``: write
    # the order record (``write_order``, or ``RowMaker(book, requests=True).order``), then
    # ``Book.start_kernel()(book.request_addr, book.out_addr(out), now, dry, latch_before,
    # gate)`` returns what ``start`` returns, except that ``ST_NEED_SPACE`` (-2) must be
    # retried through ``start`` (which grows the arena).

    @property
    def record_format(self) -> RecordFormat:
        """The scale and record tag this Book's records must carry (``layout.records``)."""
        return RecordFormat(self.scale, int(self.shared[L.SH_RECORD_TAG]))

    @property
    def state_addr(self) -> int:
        return self._sa

    @property
    def shared_addr(self) -> int:
        return self._ha

    @property
    def request_addr(self) -> int:
        """Address of the Book's request view (its record: the last one written)."""
        return self._ra

    @property
    def request_record(self) -> memoryview:
        """The request view's bytes: its first 64 are the record (``ORDER_STRUCT``)."""
        return self._request_bytes

    def out_addr(self, out: np.ndarray) -> int:
        """Address of an ``out`` array's records (validated once per array object)."""
        return self._out(out)

    @staticmethod
    def start_kernel() -> Any:
        """The compiled entry point of ``kernels.pipeline.start_at``."""
        return E.START_AT.compile()

    def instrument_of(self, underlying: int, settlement: int) -> int:
        """The instrument id of a pair of asset ids (registered on first use; -1 if unknown)."""
        key = (underlying, settlement)
        iid = self._iid_of_ids.get(key)
        if iid is None:
            names = self._asset_names
            if not (0 <= underlying < len(names) and 0 <= settlement < len(names)):
                return -1
            iid = self._iid_of_ids[key] = self.instrument_id(names[underlying], names[settlement])
        return iid

    def write_order(
        self, account: int, underlying: int, settlement: int, side: int, flags: int, price: int,
        amount: int,
    ) -> None:  # fmt: skip
        """Write one ``MSG_ORDER`` record (``ORDER_DTYPE``) into the request view."""
        iid = self._iid_of_ids.get((underlying, settlement))
        if iid is None:
            iid = self.instrument_of(underlying, settlement)
        _RECORD.pack_into(
            self._request_bytes, 0, 0, account, iid, MSG_ORDER, side, flags, price, amount, 0, 0, 0
        )

    def start(
        self,
        out: np.ndarray,
        account: int,
        underlying: int,
        settlement: int,
        side: int,
        flags: int,
        price: int,
        amount: int,
        now: int,
        dry: bool,
        latch_before: int,
        gate: bool = True,
    ) -> int:
        """Gate (if ``gate``) + builtin start stage for one order; returns the reject count.

        Records land in ``out[0..n)``. ``latch_before``: registration index of
        the first account-scope reject from a custom policy (255 if none).
        """
        ep = E.START_AT.compile()
        oa = self._out(out)
        self.write_order(account, underlying, settlement, side, flags, price, amount)
        while True:
            n = ep(self._ra, oa, now, dry, latch_before, gate)
            if n != K.ST_NEED_SPACE:
                return n
            self._grow_for_kernel()

    def field_fault(
        self, instrument: int, kind: int, side: int, flags: int, amount: int
    ) -> tuple[int, int, int]:
        """``(code, reason, detail)`` of a record's first malformed field; ``(0, 0, 0)`` if none.

        The kernels' own check (``kernels.pipeline.field_fault``), for doors that
        decide records in Python.
        """
        _RECORD.pack_into(
            self._request_bytes, 0, 0, 0, instrument, kind, side, flags, 0, amount, 0, 0, 0
        )
        return E.FAULT_AT.compile()(self._ra)

    def gate(self, out: np.ndarray, account: int, flags: int = ORDER_HAS_OPERATION) -> int:
        """The block gate alone (main stage); 1 record if the account may not trade, else 0."""
        ep = E.GATE_AT.compile()
        return ep(self._sa, self._ha, self._out(out), account, flags)

    def apply_report(
        self,
        out: np.ndarray,
        account: int,
        underlying: int,
        settlement: int,
        side: int,
        flags: int,
        pnl: int,
        fee: int,
        latch: bool = True,
        scales: int = -1,
    ) -> int:
        """Post-trade report; returns the number of block records written to ``out``.

        ``latch``: record the first block on the account (the engine passes
        False when custom policies may produce an earlier block). ``scales``:
        ``pnl_scale | fee_scale << 8`` of the report's decimals (-1: shortest
        exact form), so texts print the accumulated P&L as openpit does.
        A report without an account never sets the engine-wide block here.
        """
        ep = E.REPORT_AT.compile()
        oa = self._out(out)
        iid = self._iid_of_ids.get((underlying, settlement))
        if iid is None:
            iid = self.instrument_of(underlying, settlement)
        # ``ref`` carries the scales as a record's low 16 bits do (the object door has no tag).
        _RECORD.pack_into(
            self._request_bytes, 0, 0, account, iid, MSG_REPORT, side, flags, 0, 0, pnl, fee,
            scales if scales >= 0 else -1,
        )  # fmt: skip
        while True:
            n = ep(self._ra, oa, latch)
            if n != K.ST_NEED_SPACE:
                return n
            self._grow_for_kernel()

    def process(
        self,
        records: np.ndarray,
        results: np.ndarray,
        now: int,
        first_only: bool = False,
        client: int = 0,
    ) -> tuple[int, int]:
        """The batch door: ``ORDER_DTYPE`` records in, ``RESULT_DTYPE`` records out.

        Handles every message kind (see ``kernels.pipeline.process``); returns
        ``(records consumed, results written)``. Each request writes one
        record per reject (one if accepted); with ``first_only`` just its first
        (``count`` still tells how many rejects), so ``results[i]`` answers
        ``records[i]``. It stops early only when ``results`` lacks room for the
        next request's records (``n_policies + 2``, used as scratch even with
        ``first_only``); the caller continues with the rest. ``client``: the
        client slot the records come from (handles are bound to it).
        """
        if records.dtype != ORDER_DTYPE and records.dtype != np.int64:
            raise TypeError("records must be an ORDER_DTYPE array")
        if results.dtype != RESULT_DTYPE and results.dtype != np.int64:
            raise TypeError("results must be a RESULT_DTYPE array")
        ep = E.PROCESS.compile()
        recs = _words(records)
        res = _words(results)
        done = written = 0
        while done < recs.shape[0]:
            i, w, status = ep(
                self.state, self.shared, recs[done:], res[written:], now, first_only, client,
                _NO_JOURNAL, 0,
            )
            done += i
            written += w
            if status != K.ST_NEED_SPACE:
                break  # all consumed, or ``results`` is full
            self._grow_for_kernel()
        return done, written

    def finalize(
        self, out: np.ndarray, handle: int, kind: int, client: int = 0, qty: int = 0,
        price: int = 0, remaining: int = 0, flags: int = 0, fee: int = 0, fee_asset: int = 0,
    ) -> int:  # fmt: skip
        """Commit (``MSG_COMMIT``), roll back (``MSG_ROLLBACK``) or fill (``MSG_FILL``) a handle.

        The same kernel (``kernels.pipeline.finalize_core``) the batch door and the
        shard workers run for those records: holds are settled, released or
        reconciled exactly once; a second finalization is an error record. Returns
        the number of records written to ``out`` (1).
        """
        _RECORD.pack_into(
            self._request_bytes, 0, 0, 0, fee_asset, kind, 0, flags, price, qty, remaining, fee,
            handle,
        )  # fmt: skip
        return int(E.FINALIZE_AT.compile()(self._ra, self._out(out), client))

    # ---- blocks ------------------------------------------------------------------------------

    def _space_call(self, fn: Any, *args: Any) -> int:
        """``fn(state, *args)`` once the arena can hold what any kernel may allocate."""
        while True:
            st = self.state
            if int(KC.ctl_arena_free(st)) >= int(KC.ctl_space_needed(st)):
                return int(fn(st, *args))
            self._grow_for_kernel()

    def block_account(self, account: int, replace: bool = False) -> bool:
        """Block with a cause the engine holds; False if already blocked (first cause wins).

        ``replace=True`` takes an existing block over (``replace_block_reason``).
        """
        return self._space_call(KC.ctl_block_external, self.shared, _signed(account), replace) == 1

    def unblock_account(self, account: int) -> None:
        KC.ctl_unblock(self.state, self.shared, _signed(account))

    def is_account_blocked(self, account: int) -> bool:
        return int(KC.ctl_is_blocked(self.state, _signed(account))) != L.BLOCK_NONE

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
        self._space_call(KC.ctl_set_group, _signed(account), group)

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

    # ---- configuration -----------------------------------------------------------------------

    def configure(self, index: int, method: str, **settings: Any) -> None:
        """Runtime retune of the builtin at registration ``index`` (``engine.configure()``)."""
        policy = self.policy(index)
        if policy is None:
            raise ValueError(f"policy {index} is not a builtin")
        policy.configure(self, method, **settings)

    # ---- texts -------------------------------------------------------------------------------

    def describe(self, record: Any, subject: Any = None) -> Description | None:
        """``(policy, code, reason, details, scope, user_data)`` of a kernel record.

        ``subject`` is the order (or report) the record answers, when the
        object door has it: texts then print its own decimals. Returns None for
        gate records pointing at a block cause the engine holds
        (``RSN_GATE_ACCOUNT`` / ``RSN_GATE_GROUP`` / ``RSN_GATE_ENGINE``).
        """
        rec = record if record.__class__ is Record else Record.of(record)
        index = rec[3]  # policy (a field read on every rejected order: no property call)
        if index == POLICY_ENGINE:
            return engine_description(rec)
        policy = self.policies[index] if index < len(self.policies) else None
        if policy is None:
            raise ValueError(f"record from policy {index}, which is not a builtin")
        return policy.describe(self, rec, subject)

    # ---- introspection -----------------------------------------------------------------------

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


@dataclass(frozen=True)
class BookDescription:
    """The static part of a Book (``Book.description()``): picklable, never updated.

    With the ``state`` and ``shared`` arrays it is all ``Book.from_description``
    needs: everything that changes at runtime is in the arrays.
    """

    specs: tuple[tuple[int, BuiltinSpec], ...]  #: (registration index, spec), by index
    n_policies: int
    scale: int


def _initial_words(asset_cap: int, table_cap: int) -> int:
    """Arena words ``create`` bump-allocates, plus room for the first rows."""
    tables = 3 * L.TB_SIZE + table_cap * (2 + 3) + 64 * 2  # accounts, pairs, groups
    fixed = L.INSTR_CAP_DEFAULT * L.W_INSTR + L.RES_CAP_DEFAULT * L.W_RES
    return L.H_SIZE + tables + asset_cap * (L.W_ASSET + L.W_ANAME) + fixed + (1 << 12)


def _bump(st: np.ndarray, n: int) -> int:
    top = int(st[L.H_TOP])
    if top + n > int(st[L.H_CAP]):
        raise MemoryError("state arena too small for its initial tables")
    st[L.H_TOP] = top + n
    return top


def _indexed(specs: Sequence[Any]) -> list[tuple[int, BuiltinSpec]]:
    """(registration index, spec) pairs from what the engine passes.

    Accepted items: ``(index, spec)`` pairs, objects with ``.spec`` and
    ``.index`` (the engine's ``BuiltinEntry``), or bare specs; bare specs are
    assumed to be registered in order at positions 0, 1, ... (correct when
    every policy of the engine is builtin).
    """
    out: list[tuple[int, BuiltinSpec]] = []
    for pos, item in enumerate(specs):
        if isinstance(item, tuple):
            out.append((int(item[0]), item[1]))
        elif hasattr(item, "spec") and hasattr(item, "index"):
            out.append((int(item.index), item.spec))
        elif getattr(item, "index", None) is not None:
            out.append((int(item.index), item))
        else:
            out.append((pos, item))
    return out


def _ordered(specs: Sequence[Any], n_policies: int) -> list[tuple[int, BuiltinSpec]]:
    """(registration index, spec) pairs by index, checked (one per kind, indexes in range)."""
    order = sorted(_indexed(specs), key=lambda pair: pair[0])
    kinds = [spec.kind for _, spec in order]
    if len(set(kinds)) != len(kinds):
        raise ValueError("each builtin policy can be registered at most once per engine")
    for index, _ in order:
        if not 0 <= index < n_policies:
            raise ValueError(f"builtin registration index {index} outside 0..{n_policies - 1}")
    return order


def _checked_tag(tag: int) -> int:
    """A valid record tag (1..2**RECORD_TAG_BITS-1), or ValueError."""
    if not 0 < tag < 1 << RECORD_TAG_BITS:
        raise ValueError(f"record tag {tag} is not in 1..2**{RECORD_TAG_BITS}-1")
    return tag


def _check_header(
    st: np.ndarray, sh: np.ndarray, scale: int, n_policies: int,
    order: list[tuple[int, BuiltinSpec]],
) -> None:  # fmt: skip
    """``ValueError`` unless the arrays hold a Book of this layout and configuration."""
    if int(st[L.H_MAGIC]) != L.STATE_MAGIC or int(sh[L.SH_MAGIC]) != L.SHARED_MAGIC:
        raise ValueError("not a Book arena / shared array (bad magic)")
    for name, version in (("arena", int(st[L.H_VERSION])), ("shared", int(sh[L.SH_VERSION]))):
        if version != L.STATE_VERSION:
            raise ValueError(f"{name} layout version {version}, this build reads {L.STATE_VERSION}")
    if int(st[L.H_SCALE]) != scale:
        raise ValueError(f"arena scale {int(st[L.H_SCALE])}, expected {scale}")
    if int(st[L.H_N_POLICIES]) != n_policies:
        raise ValueError(f"arena has {int(st[L.H_N_POLICIES])} policies, expected {n_policies}")
    kinds = [_POLICY_CLASSES[spec.kind].kind_id for _, spec in order]
    stored = [int(st[L.H_EXEC + pos]) for pos in range(int(st[L.H_N_BUILTINS]))]
    indexes = [int(st[L.H_POLICY_INDEX + k]) for k in kinds]
    if stored != kinds or indexes != [index for index, _ in order]:
        raise ValueError(
            f"arena builtins (kinds {stored}) differ from the specs (kinds {kinds} at "
            f"{[index for index, _ in order]})"
        )
    _checked_tag(int(sh[L.SH_RECORD_TAG]))
    if (sh.shape[0] - L.SH_ASSETS) // L.W_SH_ASSET < int(sh[L.SH_ASSET_CAP]):
        raise ValueError("the shared array is shorter than its recorded asset capacity")
