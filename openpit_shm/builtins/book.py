"""The Book: the kernel state of one engine (or shard) and the Python API over it.

It owns the int64 arena (``state``) and the cross-shard ``shared`` array
(``layout.state``), the asset and instrument registries, and the builtin
policy objects; it calls the kernels (``kernels.pipeline``) and turns their
records back into texts (``describe``).

The class is assembled from one module per concern; this one holds the hot
path (the per-order and batch kernel calls):

* ``book_arena``: create / attach / description / growth / header checks;
* ``book_rows``: asset and instrument registries, account and pair rows;
* ``book_blocks``: account, group and engine blocks;
* ``book_policies``: the builtin policy objects, ``configure``, ``describe``;
* ``book_snapshot``: ``used_bytes``, ``table_count``, ``snapshot``.

Which builtins exist comes from the registry (``kinds.KINDS``, read through
``Book.kind_row``), never from here.

Hot calls (``start``, ``gate``, ``apply_report``) go straight to each
kernel's compiled ``entry_point`` (about 3x cheaper than the Numba
dispatcher) and pass the arrays as their addresses (ints unbox ~20 ns faster
than arrays); the Book keeps the arrays alive and refreshes the addresses
whenever it reallocates one. ``out`` is the engine's ``RESULT_DTYPE`` array;
its address is cached per array object.

Memory (``builtins.memory``): NumPy arrays by default; ``allocate``/``release``
hooks put both arrays (and every grown arena) where the caller wants, e.g.
shared-memory segments. ``Book.attach`` rebuilds a Book over an existing
arena without touching its kernel state: the arena is self-describing (asset
names, instruments, every policy's live configuration, runtime retunes
included), so what a restarted worker needs besides the two arrays is the
static, picklable ``Book.description()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openpit_shm.kernels import codes as K
from openpit_shm.kernels import control as KC
from openpit_shm.kernels import entries as E
from openpit_shm.layout import state as L
from openpit_shm.layout.quotes import quote_table_slots
from openpit_shm.layout.records import (
    MSG_DROP_COPY,
    MSG_ORDER,
    MSG_REPORT,
    ORDER_DTYPE,
    ORDER_HAS_OPERATION,
    ORDER_STRUCT,
    RESULT_DTYPE,
    RecordFormat,
)
from openpit_shm.layout.view import (
    V_QUOTES_ADDR,
    V_QUOTES_CAP,
    V_SHARED_ADDR,
    V_STATE_ADDR,
    VIEW_WORDS,
)

from . import kinds
from .book_arena import BookDescription
from .book_blocks import BookBlocks
from .book_rows import account_words
from .book_snapshot import BookSnapshot
from .kind_table import BuiltinKind

__all__ = ["Book", "BookDescription", "account_words"]

#: The progress word ``process`` notes for a shard's supervisor (``kernels.journal``); in
#: process nobody reads it.
_NO_JOURNAL = np.zeros(1, dtype=np.int64)
_NO_QUOTES = np.zeros(0, dtype=np.int64)  #: ``process``'s quote table when the engine has none
_RECORD = ORDER_STRUCT  # how the object door writes its request view's record


def _words(arr: np.ndarray) -> np.ndarray:
    """An ``int64[n, 8]`` view of a ``RESULT_DTYPE``/``ORDER_DTYPE`` array (or the array)."""
    if arr.dtype == np.int64 and arr.ndim == 2:
        return arr
    if not arr.flags.c_contiguous:
        raise ValueError("record arrays must be C-contiguous")
    return arr.view(np.int64).reshape(-1, 8)


class Book(BookBlocks, BookSnapshot):
    """Kernel state + registries + builtin policy objects of one engine."""

    @staticmethod
    def kind_row(name: str) -> BuiltinKind:
        """The registry row of builtin kind ``name`` (``kinds.KINDS``; ``KeyError`` if none)."""
        return kinds.KINDS.row(name)

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
        self._set_quote_words(getattr(self, "_quotes", _NO_QUOTES))

    def _set_quote_words(self, words: np.ndarray) -> None:
        self._quotes = words
        self._request[V_QUOTES_ADDR] = words.ctypes.data if words.shape[0] else 0
        self._request[V_QUOTES_CAP] = quote_table_slots(int(words.shape[0]))

    def set_quote_table(self, words: np.ndarray | None) -> None:
        """Let every door's kernels read the engine's quote table (``kernels.market_data``):
        ``words`` is the keyed table's int64 array (kept alive by the caller), None: none."""
        if words is None:
            words = _NO_QUOTES
        if words.dtype != np.int64 or words.ndim != 1 or not words.flags.c_contiguous:
            raise TypeError("the quote table must be a C-contiguous int64 array")
        self._set_quote_words(words)

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

    def drop_copy(
        self, out: np.ndarray, account: int, underlying: int, settlement: int, side: int,
        flags: int, price: int, amount: int, now: int, latch_before: int,
    ) -> int:  # fmt: skip
        """A ``MSG_DROP_COPY`` of one order (``kernels.pipeline.drop_copy_answer``).

        Records land in ``out[0..n)``; returns ``n``. ``latch_before``: 0 when the
        engine latches itself (custom policies), ``NO_LATCH`` (255) to let the kernel.
        """
        ep = E.DROP_COPY_AT.compile()
        oa = self._out(out)
        iid = self._iid_of_ids.get((underlying, settlement))
        if iid is None:
            iid = self.instrument_of(underlying, settlement)
        _RECORD.pack_into(
            self._request_bytes, 0, 0, account, iid, MSG_DROP_COPY, side, flags, price, amount,
            0, 0, 0,
        )  # fmt: skip
        while True:
            n = ep(self._ra, oa, now, latch_before)
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
                _NO_JOURNAL, 0, self._quotes,
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

    # ---- control calls -----------------------------------------------------------------------

    def _space_call(self, fn: Any, *args: Any) -> int:
        """``fn(state, *args)`` once the arena can hold what any kernel may allocate."""
        while True:
            st = self.state
            if int(KC.ctl_arena_free(st)) >= int(KC.ctl_space_needed(st)):
                return int(fn(st, *args))
            self._grow_for_kernel()
