"""The Book's arena lifecycle: create, attach, describe, grow, and the header checks.

A Book's kernel state is one int64 arena (``state``) plus the cross-shard
``shared`` array (``layout.state``). This module lays a fresh arena out
(``create``), re-opens an existing one without touching its kernel state
(``attach`` / ``from_description``: the arena is self-describing, so a
restarted worker needs only the arrays and the static, picklable
``description()``), and grows it.

Growth: mutating kernels return ``ST_NEED_SPACE`` *before* changing anything
when the arena could run short; the Book then doubles the arena (a copy,
amortized like a list's) and calls again. Tables inside the arena grow
incrementally (``kernels.hashtable``) and never pause.

Which builtins exist is read from the registry (``Book.kind_row``: the row of
``kinds.KINDS``): this module never names a builtin.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from openpit_shm.kernels import control as KC
from openpit_shm.layout import state as L
from openpit_shm.layout.records import FIXED_SCALE_DEFAULT, RECORD_TAG_BITS, new_record_tag

from .arguments import BuiltinSpec
from .kind_table import BuiltinKind
from .memory import Allocate, Memory, Release, checked
from .registry import read_assets, read_instruments

__all__ = ["SLOW_INSTALL_S", "BookArena", "BookDescription", "bump"]

#: The Book's logger keeps the name operators configure (``openpit_shm.builtins.book``).
log = logging.getLogger("openpit_shm.builtins.book")

#: Installing a builtin slower than this is logged: the progress of a big build.
SLOW_INSTALL_S = 0.5


@dataclass(frozen=True)
class BookDescription:
    """The static part of a Book (``Book.description()``): picklable, never updated.

    With the ``state`` and ``shared`` arrays it is all ``Book.from_description``
    needs: everything that changes at runtime is in the arrays.
    """

    specs: tuple[tuple[int, BuiltinSpec], ...]  #: (registration index, spec), by index
    n_policies: int
    scale: int


class BookArena:
    """Arena lifecycle of a Book: ``create`` / ``attach`` / ``description`` / growth."""

    #: The registry row of a builtin kind (``book.py``: ``kinds.KINDS``, read at each call).
    kind_row: ClassVar[Callable[[str], BuiltinKind]]

    state: np.ndarray
    shared: np.ndarray
    scale: int
    policies: list[Any]
    _memory: Memory
    _specs: tuple[tuple[int, BuiltinSpec], ...]
    _assets: dict[str, int]
    _asset_names: list[str]
    _instruments: dict[tuple[str, str], int]
    _refresh: Callable[[], None]  # (hot path, ``book.py``: re-reads the arrays' addresses)

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
    ) -> Any:
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
        for k in range(L.MAX_KINDS):
            st[L.H_POLICY_INDEX + k] = L.NO_POLICY
        for g in (L.H_RL_ACC_GEN, L.H_RL_AA_GEN, L.H_OSL_AA_GEN, L.H_PNL_AA_GEN):
            st[g] = 1
        st[L.H_T_ACC] = KC.ctl_tbl_create(st, 1, table_cap, L.W_ACC)
        st[L.H_T_AA] = KC.ctl_tbl_create(st, 2, table_cap, L.W_AA)
        st[L.H_T_GRP] = KC.ctl_tbl_create(st, 1, 64, L.W_GRP)
        st[L.H_ASSET_BASE] = bump(st, asset_cap * L.W_ASSET)
        st[L.H_ASSET_CAP] = asset_cap
        st[L.H_ANAME_BASE] = bump(st, asset_cap * L.W_ANAME)
        st[L.H_INSTR_BASE] = bump(st, L.INSTR_CAP_DEFAULT * L.W_INSTR)
        st[L.H_INSTR_CAP] = L.INSTR_CAP_DEFAULT
        st[L.H_RES_BASE] = bump(st, L.RES_CAP_DEFAULT * L.W_RES)
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
            kind = cls.kind_row(spec.kind)
            self.policies[index] = kind.policy_class(spec, index)
            st[L.H_POLICY_INDEX + kind.kind_id] = index
            st[L.H_EXEC + pos] = kind.kind_id
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
    ) -> Any:
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
        _check_header(st, sh, scale, n_policies, [cls.kind_row(s.kind).kind_id for _, s in order],
                      [index for index, _ in order])  # fmt: skip
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
            policy = cls.kind_row(spec.kind).policy_class(spec, index)
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
    ) -> Any:
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
    ) -> Any:
        self = object.__new__(cls)
        self.scale = scale
        self._specs = tuple(order)
        self._memory = memory
        self._assets = {}
        self._asset_names = []
        self._instruments = {}
        self._out_src: Any = None
        self._out_view: Any = None
        self._out_addr = 0
        self.policies = [None] * n_policies
        return self

    # ---- growth ------------------------------------------------------------------------------

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
        base = bump(st, cap * L.W_ASSET)
        old = int(st[L.H_ASSET_BASE])
        st[base : base + old_cap * L.W_ASSET] = st[old : old + old_cap * L.W_ASSET]
        names = bump(st, cap * L.W_ANAME)
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


def _log_slow_install(spec: BuiltinSpec, shard: tuple[int, int] | None, seconds: float) -> None:
    if seconds < SLOW_INSTALL_S:
        return
    barriers = sum(len(v) for v in spec.config.values() if isinstance(v, dict))
    where = "" if shard is None else f" (shard {shard[0]} of {shard[1]})"
    log.info("%s: %s barriers installed in %.1f s%s", spec.name, f"{barriers:,}", seconds, where)


def _initial_words(asset_cap: int, table_cap: int) -> int:
    """Arena words ``create`` bump-allocates, plus room for the first rows."""
    tables = 3 * L.TB_SIZE + table_cap * (2 + 3) + 64 * 2  # accounts, pairs, groups
    fixed = L.INSTR_CAP_DEFAULT * L.W_INSTR + L.RES_CAP_DEFAULT * L.W_RES
    return L.H_SIZE + tables + asset_cap * (L.W_ASSET + L.W_ANAME) + fixed + (1 << 12)


def bump(st: np.ndarray, n: int) -> int:
    """Bump-allocate ``n`` arena words; their offset (``MemoryError`` past the capacity)."""
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
    st: np.ndarray, sh: np.ndarray, scale: int, n_policies: int, kinds: list[int],
    indexes: list[int],
) -> None:  # fmt: skip
    """``ValueError`` unless the arrays hold a Book of this layout and configuration.

    ``kinds``/``indexes``: the kind id and registration index of each builtin, by index.
    """
    if int(st[L.H_MAGIC]) != L.STATE_MAGIC or int(sh[L.SH_MAGIC]) != L.SHARED_MAGIC:
        raise ValueError("not a Book arena / shared array (bad magic)")
    for name, version in (("arena", int(st[L.H_VERSION])), ("shared", int(sh[L.SH_VERSION]))):
        if version != L.STATE_VERSION:
            raise ValueError(f"{name} layout version {version}, this build reads {L.STATE_VERSION}")
    if int(st[L.H_SCALE]) != scale:
        raise ValueError(f"arena scale {int(st[L.H_SCALE])}, expected {scale}")
    if int(st[L.H_N_POLICIES]) != n_policies:
        raise ValueError(f"arena has {int(st[L.H_N_POLICIES])} policies, expected {n_policies}")
    stored = [int(st[L.H_EXEC + pos]) for pos in range(int(st[L.H_N_BUILTINS]))]
    at = [int(st[L.H_POLICY_INDEX + k]) for k in kinds]
    if stored != kinds or at != indexes:
        raise ValueError(
            f"arena builtins (kinds {stored}) differ from the specs (kinds {kinds} at {indexes})"
        )
    _checked_tag(int(sh[L.SH_RECORD_TAG]))
    if (sh.shape[0] - L.SH_ASSETS) // L.W_SH_ASSET < int(sh[L.SH_ASSET_CAP]):
        raise ValueError("the shared array is shorter than its recorded asset capacity")
