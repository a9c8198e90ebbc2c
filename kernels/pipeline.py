"""The fused builtin pipeline: one decision procedure for every door.

* ``start_one`` — the object door's call for one order: the block gate, then
  every builtin's start-stage check in registration order (each writes at
  most one reject record), then latching of the first account-scope reject.
* ``report_one`` — the post-trade report (the P&L kill switch).
* ``process`` — the batch door and the shard worker: every message kind of
  ``ORDER_DTYPE`` over a record array, writing ``RESULT_DTYPE`` records.
* ``drop_copy_answer`` — ``MSG_DROP_COPY`` (``apply_drop_copy``): no gate, both
  stages, rejects that do not enforce; the object door's call is ``drop_copy_at``.

``process`` calls the same ``start_core``/``report_core`` the object door
calls, so the three doors decide identically by construction.

The entry points (``start_one``, ``gate_one``, ``report_one``, ``process``)
take NumPy arrays and hand raw pointers (``kernels.ptr``) to everything
inside, which keeps Numba's per-call reference counting off the hot path.

Mutating calls first check the arena can hold whatever the call may allocate
(``space_needed``) and return ``ST_NEED_SPACE`` *before* changing anything
otherwise; the Book grows the arena and calls again.

Result records of one request occupy ``out[0..n)``; ``finish`` stamps
status, count and index. Records from a dry run carry ``RESULT_DRY_RUN``;
the record whose reject latched (or, dry, would latch) an account block
carries ``RESULT_BLOCK_LATCHED``.
"""

from __future__ import annotations

import numpy as np

from openpit_shm.layout.quotes import QT_HEADER_WORDS, QT_INDEX_WORDS, QUOTE_ROW_WORDS
from openpit_shm.layout.records import (
    CODE_ACCOUNT_BLOCKED,
    CODE_INVALID_FIELD_FORMAT,
    CODE_INVALID_FIELD_VALUE,
    CODE_MISSING_REQUIRED_FIELD,
    CODE_OTHER,
    CODE_SYSTEM_UNAVAILABLE,
    CODE_UNKNOWN_INSTRUMENT,
    FILL_FLAGS_KNOWN,
    MSG_COMMIT,
    MSG_DROP_COPY,
    MSG_DRY_ORDER,
    MSG_DRY_START,
    MSG_EXECUTE,
    MSG_FILL,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
    ORDER_AUTO_COMMIT,
    ORDER_FLAGS_KNOWN,
    ORDER_HAS_LOCK_PRICE,
    ORDER_HAS_OPERATION,
    ORDER_NO_ACCOUNT,
    ORDER_NO_AMOUNT,
    ORDER_NO_SIDE,
    ORDER_PRICE_SOURCE_MASK,
    ORDER_PRICE_SOURCE_SHIFT,
    POLICY_ENGINE,
    PRICE_SOURCE_BOOK_TOP,
    RECORD_REF_LOW_MASK,
    RECORD_TAG_SHIFT,
    REPORT_FLAGS_KNOWN,
    REPORT_SCALE_MAX,
    REPORT_SCALE_SHIFT,
    RESULT_ABORTS_DROP_COPY,
    RESULT_ACCOUNT_BLOCKED,
    RESULT_BLOCK_LATCHED,
    RESULT_COMMITTED,
    RESULT_DRY_RUN,
    RESULT_SCOPE_ACCOUNT,
    RESULT_W_HEAD,
    RESULT_W_RESERVATION,
    RESULT_W_SEQ,
    SIDE_BUY,
    SIDE_SELL,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_REJECTED,
    W2_FLAGS_SHIFT,
    W2_KIND_SHIFT,
    W2_SIDE_SHIFT,
    word2_instrument_nb,
)
from openpit_shm.layout.shard import shard_of_nb
from openpit_shm.layout.state import (
    ENGINE_BLOCK_KILL_SWITCH,
    H_EXEC,
    H_INSTR_BASE,
    H_N_BUILTINS,
    H_N_INSTR,
    H_N_POLICIES,
    H_N_SHARDS,
    H_POLICY_INDEX,
    H_RES_CAP,
    H_RES_FRESH,
    H_SCALE,
    H_SHARD_ID,
    H_T_AA,
    H_T_ACC,
    H_T_GRP,
    I_SETTLEMENT,
    I_UNDERLYING,
    RES_HELD,
    RES_REQUEST,
    RES_REQUEST_NO_ACCOUNT,
    RES_RESERVED,
    RS_LEGS,
    RS_N_LEGS,
    SCALE_SHIFT,
    SH_RECORD_TAG,
    TB_CAP,
    TB_COUNT,
    TB_KEYW,
    TB_ROWW,
    W_INSTR,
    W_RES,
)
from openpit_shm.layout.view import (
    NO_LATCH,
    V_ACCOUNT,
    V_AMOUNT,
    V_CLIENT,
    V_DRY,
    V_FEE,
    V_FLAGS,
    V_INSTRUMENT,
    V_KIND,
    V_LATCH_BEFORE,
    V_LOCK_PRICE,
    V_LOCK_PRICE_IN,
    V_N_LEGS,
    V_NOW,
    V_PNL,
    V_QUOTES_ADDR,
    V_QUOTES_CAP,
    V_REF,
    V_RUN_GATE,
    V_SCALES,
    V_SETTLEMENT,
    V_SHARED_ADDR,
    V_SIDE,
    V_SKIP_MAIN,
    V_STATE_ADDR,
    V_UNDERLYING,
    V_WORD2,
    VIEW_WORDS,
)

from .arena import arena_free
from .atomics import compiler_fence
from .blocks import engine_block, gate, is_blocked, latch_kernel
from .codes import (
    RSN_BAD_AMOUNT,
    RSN_BAD_FLAGS,
    RSN_BAD_HANDLE,
    RSN_BAD_INSTRUMENT,
    RSN_BAD_KIND,
    RSN_BAD_SIDE,
    RSN_DROP_COPY_NO_ACCOUNT,
    RSN_FILL_REFUSED,
    RSN_RES_FULL,
    RSN_WRONG_ENGINE,
    RSN_WRONG_SHARD,
    ST_NEED_SPACE,
)
from .dispatch import MAIN_STAGE_KINDS, main_kind, report_kind, start_kind
from .fields import foreign_tag, has_account
from .hashtable import tbl_find, tbl_need, tbl_prefetch
from .holds import fill_hooks, holds_commit, holds_fill, holds_rollback, holds_take
from .jit import njit
from .journal import journal_word
from .ptr import addr_ptr, as_ptr, p_offset, p_store_release, prefetch
from .rate_limit import rl_log_words_needed
from .redo import redo_recover
from .reservations import (
    res_account,
    res_alloc,
    res_lookup,
    res_need,
    res_refusal,
    res_release,
    res_set_state,
)
from .results import head_flags, head_policy, set_flags, write_reject

__all__ = [
    "bulk_needed",
    "drop_copy_answer",
    "drop_copy_at",
    "fault_at",
    "field_fault",
    "finalize_at",
    "finalize_core",
    "finish",
    "gate_at",
    "gate_one",
    "main_core",
    "norm_scale",
    "process",
    "report_at",
    "report_core",
    "space_needed",
    "start_at",
    "start_core",
    "view_open",
]

_KEEP_HEAD = 0x0000FFFFFFFFFFFF & ~(0xFF << 32)  # code, policy, reason, flags
_NO_LATCH_LIMIT = 255
_CHUNK = 256  # records per bulk space check in ``process``
_PF = 16  # how many records ahead ``process`` starts fetching account state
_PF_MIN_KEYS = 1 << 14  # below this many keys a table stays in cache: no prefetching


@njit(cache=True)
def space_needed(state):  # type: ignore[no-untyped-def]
    """Most arena words one request can allocate (rows, table growth, logs, handles)."""
    return (
        tbl_need(state, state[H_T_ACC])
        + tbl_need(state, state[H_T_AA])
        + tbl_need(state, state[H_T_GRP])
        + rl_log_words_needed(state)
        + res_need(state)
    )


@njit(cache=True)
def _table_bulk(state, t, k):  # type: ignore[no-untyped-def]
    """Most words ``k`` inserts into table ``t`` can allocate (rows + every growth)."""
    cap = state[t + TB_CAP]
    final = cap
    while (state[t + TB_COUNT] + k) * 4 > final * 3:
        final *= 2
    need = k * state[t + TB_ROWW]
    if final > cap:
        need += 2 * final * (state[t + TB_KEYW] + 1)
    return need


@njit(cache=True)
def bulk_needed(state, k):  # type: ignore[no-untyped-def]
    """Most arena words ``k`` requests can allocate together (a bound for ``process``)."""
    cap = state[H_RES_CAP]
    final = cap
    while state[H_RES_FRESH] + k > final:
        final *= 2
    need = 2 * final * W_RES if final > cap else 0
    return (
        need
        + _table_bulk(state, state[H_T_ACC], k)
        + _table_bulk(state, state[H_T_AA], k)
        + _table_bulk(state, state[H_T_GRP], k)
        + k * rl_log_words_needed(state)
    )


@njit(cache=True, inline='always')
def finish(out, n, status, extra_flags):  # type: ignore[no-untyped-def]
    """Stamp status, count, index (and extra flags) on records ``out[0..n)``."""
    for j in range(n):
        head = out[j * 8 + RESULT_W_HEAD] & _KEEP_HEAD
        head |= (status & 0xFF) << 32
        head |= (extra_flags & 0xFF) << 40
        head |= (n & 0xFF) << 48
        head |= (j & 0xFF) << 56
        out[j * 8 + RESULT_W_HEAD] = head


@njit(cache=True, inline='always')
def view_open(state, view, rec, now, dry, client):  # type: ignore[no-untyped-def]
    """Fill the request view from record ``rec`` (8 words): the one place word 2 is unpacked."""
    for w in range(8):
        view[w] = rec[w]
    w2 = rec[V_WORD2]
    instrument = word2_instrument_nb(w2)
    flags = (w2 >> W2_FLAGS_SHIFT) & 0xFFFF
    view[V_INSTRUMENT] = instrument
    view[V_KIND] = (w2 >> W2_KIND_SHIFT) & 0xFF
    view[V_SIDE] = (w2 >> W2_SIDE_SHIFT) & 0xFF
    view[V_FLAGS] = flags
    underlying = -1
    settlement = -1
    if flags & ORDER_HAS_OPERATION:
        underlying, settlement = _assets(state, instrument)
    view[V_UNDERLYING] = underlying
    view[V_SETTLEMENT] = settlement
    view[V_NOW] = now
    view[V_DRY] = 1 if dry else 0
    view[V_CLIENT] = client
    view[V_LATCH_BEFORE] = NO_LATCH
    view[V_RUN_GATE] = 1
    view[V_SCALES] = -1
    view[V_LOCK_PRICE] = view[V_LOCK_PRICE_IN] if flags & ORDER_HAS_LOCK_PRICE else 0
    view[V_N_LEGS] = 0


@njit(cache=True)
def start_core(state, shared, view, out):  # type: ignore[no-untyped-def]
    """Gate (``V_RUN_GATE``) + every builtin's start stage + latching; returns the reject count.

    ``view[V_LATCH_BEFORE]``: the registration index of the first account-scope
    reject a custom policy produced (255 if none); the kernel latches its own
    first account-scope reject only if it comes earlier in registration order.
    """
    account = view[V_ACCOUNT]
    flags = view[V_FLAGS]
    dry = view[V_DRY] != 0
    if view[V_RUN_GATE] != 0:
        g = gate(state, shared, out, account, flags)
        if g != 0:
            finish(out, g, STATUS_REJECTED, RESULT_DRY_RUN if dry else 0)
            return g
    n = 0
    for i in range(state[H_N_BUILTINS]):
        kind = state[H_EXEC + i]
        n = start_kind(kind, state, shared, view, out, n, state[H_POLICY_INDEX + kind])
    if n == 0:
        return 0
    latch_before = view[V_LATCH_BEFORE]
    for j in range(n):
        head = out[j * 8 + RESULT_W_HEAD]
        if head_flags(head) & RESULT_SCOPE_ACCOUNT:
            if head_policy(head) < latch_before and has_account(flags):
                if dry:
                    if is_blocked(state, account) == 0:
                        set_flags(out, j, RESULT_BLOCK_LATCHED)
                elif latch_kernel(state, shared, account, out, j, CODE_ACCOUNT_BLOCKED) == 1:
                    set_flags(out, j, RESULT_BLOCK_LATCHED)
            break
    finish(out, n, STATUS_REJECTED, RESULT_DRY_RUN if dry else 0)
    return n


@njit(cache=True)
def main_core(state, shared, view, out):  # type: ignore[no-untyped-def]
    """Every builtin's main stage; returns the reject count (proposed holds stay in the view)."""
    n = 0
    for i in range(state[H_N_BUILTINS]):
        kind = state[H_EXEC + i]
        n = main_kind(kind, state, shared, view, out, n, state[H_POLICY_INDEX + kind])
    if n != 0:
        view[V_N_LEGS] = 0  # a rejected order holds nothing
        finish(out, n, STATUS_REJECTED, RESULT_DRY_RUN if view[V_DRY] != 0 else 0)
    return n


@njit(cache=True)
def start_at(view_addr, out_addr, now, dry, latch_before, run_gate):  # type: ignore[no-untyped-def]
    """The object door's start stage for the order record in a request view's first 8 words.

    ``view_addr``: a ``VIEW_WORDS`` request view whose words ``V_STATE_ADDR`` and
    ``V_SHARED_ADDR`` hold the arrays' addresses (the Book keeps one per engine and
    keeps those words current). Records land at ``out_addr``. Returns the reject
    count, or ``ST_NEED_SPACE`` before changing anything.
    """
    v = addr_ptr(view_addr)
    state = addr_ptr(v[V_STATE_ADDR])
    redo_recover(state)
    if not dry and arena_free(state) < space_needed(state):
        return ST_NEED_SPACE
    view_open(state, v, v, now, dry, 0)
    v[V_LATCH_BEFORE] = latch_before
    v[V_RUN_GATE] = 1 if run_gate else 0
    return start_core(state, addr_ptr(v[V_SHARED_ADDR]), v, addr_ptr(out_addr))


@njit(cache=True)
def report_at(view_addr, out_addr, latch):  # type: ignore[no-untyped-def]
    """The object door's post-trade call for the ``MSG_REPORT`` record in a request view.

    The record's ``ref`` holds the report's scales (``pnl | fee << 8``, -1: not
    known), read as ``process`` reads them. The engine sets engine-wide blocks itself.
    """
    v = addr_ptr(view_addr)
    state = addr_ptr(v[V_STATE_ADDR])
    redo_recover(state)
    if arena_free(state) < space_needed(state):
        return ST_NEED_SPACE
    view_open(state, v, v, 0, False, 0)
    v[V_SCALES] = _report_scales(state, v[V_REF], v[V_PNL], v[V_FEE])
    return report_core(state, addr_ptr(v[V_SHARED_ADDR]), v, addr_ptr(out_addr), latch, False)


@njit(cache=True)
def finalize_at(view_addr, out_addr, client):  # type: ignore[no-untyped-def]
    """``finalize_core`` for the ``MSG_COMMIT``/``MSG_ROLLBACK``/``MSG_FILL`` record in a view.

    The in-process reservation's call (``Book.finalize``); the batch door and the
    shard workers reach the same ``finalize_core`` through ``process``.
    """
    v = addr_ptr(view_addr)
    state = addr_ptr(v[V_STATE_ADDR])
    redo_recover(state)
    view_open(state, v, v, 0, False, client)
    return finalize_core(state, addr_ptr(v[V_SHARED_ADDR]), v, addr_ptr(out_addr), client)


@njit(cache=True)
def fault_at(view_addr):  # type: ignore[no-untyped-def]
    """``field_fault`` of the record in a request view (the record door's check)."""
    v = addr_ptr(view_addr)
    state = addr_ptr(v[V_STATE_ADDR])
    view_open(state, v, v, 0, False, 0)
    return field_fault(state, v)


@njit(cache=True)
def gate_at(state_addr, shared_addr, out_addr, account, flags):  # type: ignore[no-untyped-def]
    """The block gate alone, taking the arrays' addresses (the main stage's re-check)."""
    out = addr_ptr(out_addr)
    n = gate(addr_ptr(state_addr), addr_ptr(shared_addr), out, account, flags)
    if n != 0:
        finish(out, n, STATUS_REJECTED, 0)
    return n


@njit(cache=True)
def gate_one(state_arr, shared_arr, out_arr, account, flags):  # type: ignore[no-untyped-def]
    """The block gate alone (the main stage's re-check): 1 record or 0."""
    n = gate(as_ptr(state_arr), as_ptr(shared_arr), as_ptr(out_arr), account, flags)
    if n != 0:
        finish(as_ptr(out_arr), n, STATUS_REJECTED, 0)
    return n


@njit(cache=True)
def norm_scale(value, scale):  # type: ignore[no-untyped-def]
    """The smallest decimal scale that shows a fixed-point value exactly (no trailing zeros)."""
    if value == 0:
        return 0
    s = scale
    while s > 0 and value % 10 == 0:
        value //= 10
        s -= 1
    return s


@njit(cache=True, inline='always')
def _report_scales(state, ref, pnl, fee):  # type: ignore[no-untyped-def]
    """The ``scales`` of a ``MSG_REPORT`` record from its ``ref`` word (see ``layout.records``).

    ``ref`` here is the word's low 16 bits (``process`` checked the record tag
    above them): ``pnl_scale | fee_scale << 8`` (0..28 each) gives the decimals of
    the report as written ("-2101.00": 2), so texts print the accumulated
    P&L as openpit does; anything else (negative, out of range, high bits)
    is -1: each value's shortest exact form. Each scale is raised to the
    value's shortest exact one if that is larger, so a producer that does
    not know the scales and sends 0 gets the shortest form too (never the
    value widened to all the engine's decimals), and a true scale is kept.
    """
    pnl_scale = ref & 0xFF
    fee_scale = (ref >> REPORT_SCALE_SHIFT) & 0xFF
    if (
        ref < 0 or ref >> (2 * REPORT_SCALE_SHIFT) != 0
        or pnl_scale > REPORT_SCALE_MAX or fee_scale > REPORT_SCALE_MAX
    ):  # fmt: skip
        return -1
    sc = state[H_SCALE]
    pnl_scale = max(pnl_scale, norm_scale(pnl, sc))
    fee_scale = max(fee_scale, norm_scale(fee, sc))
    return pnl_scale | (fee_scale << SCALE_SHIFT)


@njit(cache=True)
def report_core(state, shared, view, out, latch, engine_latch):  # type: ignore[no-untyped-def]
    """Apply one execution report; returns the number of block records (or ST_NEED_SPACE).

    ``view[V_SCALES]``: ``pnl_scale | fee_scale << 8`` of the report's decimals,
    or -1 to use each value's shortest exact form. ``latch``: record the first
    block on the account; ``engine_latch``: a report without an account that
    produces a block sets the engine-wide kill-switch block.
    """
    if view[V_SCALES] < 0:
        sc = state[H_SCALE]
        view[V_SCALES] = norm_scale(view[V_PNL], sc) | (norm_scale(view[V_FEE], sc) << SCALE_SHIFT)
    n = 0
    for i in range(state[H_N_BUILTINS]):
        kind = state[H_EXEC + i]
        n = report_kind(kind, state, shared, view, out, n, state[H_POLICY_INDEX + kind])
        if n < 0:
            return ST_NEED_SPACE
    if n == 0:
        return 0
    if has_account(view[V_FLAGS]):
        if latch and latch_kernel(state, shared, view[V_ACCOUNT], out, 0, -1) == 1:
            set_flags(out, 0, RESULT_BLOCK_LATCHED)
    elif engine_latch:
        engine_block(shared, ENGINE_BLOCK_KILL_SWITCH)
    finish(out, n, STATUS_OK, 0)
    return n


@njit(cache=True)
def _error(out, code, rsn, d0):  # type: ignore[no-untyped-def]
    write_reject(out, 0, code, POLICY_ENGINE, rsn, 0, d0, 0, 0, 0, 0)
    finish(out, 1, STATUS_ERROR, 0)
    return 1


@njit(cache=True, inline='always')
def _foreign(state, account, kind, flags):  # type: ignore[no-untyped-def]
    """The shard owning a record's account when it is not this arena's, else -1.

    A producer that routes an account to the wrong shard would give that
    account a second, independent set of limits: such records are refused.
    Finalizations carry a handle, not an account: the handle names its shard
    (``_refused_handle``).
    """
    n_shards = state[H_N_SHARDS]
    if n_shards <= 1 or kind in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK, MSG_FILL):
        return -1
    if not has_account(flags):
        return -1
    home = shard_of_nb(account, n_shards)
    return -1 if home == state[H_SHARD_ID] else home


@njit(cache=True, inline='always')
def _accepted(out, reservation, flags):  # type: ignore[no-untyped-def]
    """The single record of an accepted request: code 0, count 0, status OK."""
    write_reject(out, 0, 0, 0, 0, flags, 0, 0, 0, 0, 0)
    out[RESULT_W_RESERVATION] = reservation
    return 1


@njit(cache=True, inline='always')
def _known_instrument(state, instrument):  # type: ignore[no-untyped-def]
    return 0 <= instrument < state[H_N_INSTR]


@njit(cache=True, inline='always')
def _assets(state, instrument):  # type: ignore[no-untyped-def]
    """(underlying, settlement) of an instrument id, or (-1, -1) if unknown."""
    if not _known_instrument(state, instrument):
        return -1, -1
    r = state[H_INSTR_BASE] + instrument * W_INSTR
    return state[r + I_UNDERLYING], state[r + I_SETTLEMENT]


@njit(cache=True, inline='always')
def field_fault(state, view):  # type: ignore[no-untyped-def]
    """The first malformed field of an order or report record, as ``(code, reason, detail)``.

    ``(0, 0, 0)`` when every field is well formed. The one check of every door:
    ``_handle_one`` (batch, shard workers) and the record door (custom policies,
    through ``fault_at``). In order: flags a message of this kind does not
    define; then, inside an operation, an unknown instrument, a side that is
    neither BUY nor SELL, and (orders) a negative amount. A field flagged absent
    is not read, so it cannot be malformed.
    """
    instrument = view[V_INSTRUMENT]
    kind = view[V_KIND]
    side = view[V_SIDE]
    flags = view[V_FLAGS]
    amount = view[V_AMOUNT]
    report = kind == MSG_REPORT
    if kind == MSG_FILL:
        if flags & ~FILL_FLAGS_KNOWN:
            return CODE_INVALID_FIELD_FORMAT, RSN_BAD_FLAGS, np.int64(flags)
        return 0, 0, np.int64(0)
    if flags & ~(REPORT_FLAGS_KNOWN if report else ORDER_FLAGS_KNOWN):
        return CODE_INVALID_FIELD_FORMAT, RSN_BAD_FLAGS, np.int64(flags)
    if (flags & ORDER_PRICE_SOURCE_MASK) >> ORDER_PRICE_SOURCE_SHIFT > PRICE_SOURCE_BOOK_TOP:
        return CODE_INVALID_FIELD_FORMAT, RSN_BAD_FLAGS, np.int64(flags)
    if flags & ORDER_HAS_OPERATION:
        if not _known_instrument(state, instrument):
            return CODE_UNKNOWN_INSTRUMENT, RSN_BAD_INSTRUMENT, np.int64(instrument)
        if flags & ORDER_NO_SIDE == 0 and side != SIDE_BUY and side != SIDE_SELL:
            return CODE_INVALID_FIELD_VALUE, RSN_BAD_SIDE, np.int64(side)
        if not report and flags & ORDER_NO_AMOUNT == 0 and amount < 0:
            return CODE_INVALID_FIELD_VALUE, RSN_BAD_AMOUNT, np.int64(amount)
    return 0, 0, np.int64(0)


@njit(cache=True)
def _refused_handle(state, out, ref, client):  # type: ignore[no-untyped-def]
    """The error record of a handle ``client`` may not use here, or 0 if it may look it up."""
    rsn, d1, d2 = res_refusal(state, ref, client)
    if rsn == 0:
        return 0
    write_reject(out, 0, CODE_OTHER, POLICY_ENGINE, rsn, 0, ref, d1, d2, 0, 0)
    finish(out, 1, STATUS_ERROR, 0)
    return 1


@njit(cache=True, inline='always')
def _reserved(state, view, out, s, h, auto_commit):  # type: ignore[no-untyped-def]
    """Slot ``s`` (handle ``h``) of an accepted order: take its holds, commit if asked.

    An order whose accept took holds always answers its real handle (fills name
    it), even auto-committed; one without holds that is auto-committed answers 0.
    """
    if view[V_N_LEGS] == 0:
        if auto_commit:
            res_release(state, s)
            return _accepted(out, 0, RESULT_COMMITTED)
        res_set_state(state, s, RES_RESERVED)
        return _accepted(out, h, 0)
    res_set_state(state, s, RES_RESERVED)
    holds_take(state, view, s)
    if auto_commit:
        holds_commit(state, s)
        return _accepted(out, h, RESULT_COMMITTED)
    return _accepted(out, h, 0)


@njit(cache=True)
def finalize_core(state, shared, view, out, client):  # type: ignore[no-untyped-def]
    """``MSG_COMMIT`` / ``MSG_ROLLBACK`` / ``MSG_FILL`` of the handle in ``view[V_REF]``.

    A fill first goes through each holding kind's ``fill`` hook (``holds.fill_hooks``;
    a refusal is an ``RSN_FILL_REFUSED`` error and changes nothing), then the generic
    reconcile applies the legs and the hooks' deltas in one journaled transition.

    The one finalization of every door: the batch door and the shard workers
    (``process``) and the in-process reservation (``Book.finalize``). Each state
    change happens once: a handle finalized, rolled back or finally filled no
    longer matches its slot, so a second call is an error result, never a second effect.
    """
    ref = view[V_REF]
    kind = view[V_KIND]
    refused = _refused_handle(state, out, ref, client)
    if refused:
        return refused
    if kind == MSG_FILL:
        s = res_lookup(state, ref, RES_HELD, client)
        if s < 0:
            return _error(out, CODE_OTHER, RSN_BAD_HANDLE, ref)
        code, by = fill_hooks(state, shared, view, s)
        if code != 0:
            write_reject(out, 0, CODE_OTHER, POLICY_ENGINE, RSN_FILL_REFUSED, 0, ref, code, by,
                         0, 0)  # fmt: skip
            finish(out, 1, STATUS_ERROR, 0)
            return 1
        final = holds_fill(state, view, s)
        return _accepted(out, 0 if final else ref, 0)
    s = res_lookup(state, ref, RES_RESERVED, client)
    if s < 0:
        return _error(out, CODE_OTHER, RSN_BAD_HANDLE, ref)
    commit = kind == MSG_COMMIT
    if state[s + RS_N_LEGS] == 0:
        res_release(state, s)
        return _accepted(out, 0, RESULT_COMMITTED if commit else 0)
    if commit:
        holds_commit(state, s)  # the holds live on until the final fill
        return _accepted(out, ref, RESULT_COMMITTED)
    holds_rollback(state, s)
    return _accepted(out, 0, 0)


@njit(cache=True, inline='always')
def _keep_aborting(out, n):  # type: ignore[no-untyped-def]
    """Keep only the records flagged ``RESULT_ABORTS_DROP_COPY`` (compacted); their count."""
    k = 0
    for j in range(n):
        if head_flags(out[j * 8 + RESULT_W_HEAD]) & RESULT_ABORTS_DROP_COPY:
            if k != j:
                for w in range(8):
                    out[k * 8 + w] = out[j * 8 + w]
            k += 1
    return k


@njit(cache=True)
def drop_copy_answer(state, shared, view, out, client):  # type: ignore[no-untyped-def]
    """``MSG_DROP_COPY``: record an order executed elsewhere (openpit's ``apply_drop_copy``).

    No block gate. Every builtin runs its start stage, then its main stage, with
    ``view[V_KIND] == MSG_DROP_COPY`` (a kind that behaves differently for drop
    copies reads it there); their rejects do not enforce. A reject a builtin
    flags ``RESULT_ABORTS_DROP_COPY`` aborts: only those are answered
    (``STATUS_REJECTED``), after the stage that produced them; nothing is latched
    or held. Otherwise the first account-scope reject is the operation's
    account block: answered as one ``STATUS_OK`` record with code
    ``AccountBlocked``, and latched (``RESULT_BLOCK_LATCHED``) when the account
    is free and its policy comes before ``view[V_LATCH_BEFORE]`` (the object door
    passes 0 and latches in Python, merging custom policies). Rate-limit attempts
    stay spent either way. Every ``STATUS_OK`` record carries
    ``RESULT_ACCOUNT_BLOCKED`` when the gate would refuse the account at the end
    (its own, its group's or the engine-wide block), and the
    handle of the holds the main stages proposed (0: none; ``ORDER_AUTO_COMMIT``
    commits them at once). Returns the number of records written.
    """
    flags = view[V_FLAGS]
    if not has_account(flags):
        write_reject(out, 0, CODE_MISSING_REQUIRED_FIELD, POLICY_ENGINE,
                     RSN_DROP_COPY_NO_ACCOUNT, 0, 0, 0, 0, 0, 0)  # fmt: skip
        finish(out, 1, STATUS_REJECTED, 0)
        return 1
    account = view[V_ACCOUNT]
    n = 0
    for i in range(state[H_N_BUILTINS]):
        kind = state[H_EXEC + i]
        n = start_kind(kind, state, shared, view, out, n, state[H_POLICY_INDEX + kind])
    k = _keep_aborting(out, n)
    if k == 0:
        for i in range(state[H_N_BUILTINS]):
            kind = state[H_EXEC + i]
            n = main_kind(kind, state, shared, view, out, n, state[H_POLICY_INDEX + kind])
        k = _keep_aborting(out, n)
    if k != 0:
        view[V_N_LEGS] = 0  # an aborted drop copy holds nothing
        finish(out, k, STATUS_REJECTED, 0)
        return k
    count = 0
    latched = 0
    for j in range(n):
        head = out[j * 8 + RESULT_W_HEAD]
        if head_flags(head) & RESULT_SCOPE_ACCOUNT:
            if j != 0:
                for w in range(8):
                    out[w] = out[j * 8 + w]
            out[RESULT_W_HEAD] = (head & ~0xFFFF) | CODE_ACCOUNT_BLOCKED
            if (
                head_policy(head) < view[V_LATCH_BEFORE]
                and latch_kernel(state, shared, account, out, 0, CODE_ACCOUNT_BLOCKED) == 1
            ):
                latched = RESULT_BLOCK_LATCHED
            count = 1
            break
    # What the gate would say now (account, group or engine-wide), into a scratch record.
    blocked = RESULT_ACCOUNT_BLOCKED if gate(state, shared, p_offset(out, 8), account, flags) else 0
    h = 0
    committed = 0
    if view[V_N_LEGS] != 0:
        h = res_alloc(state, account, RES_RESERVED, client)
        if h == 0:
            return _error(out, CODE_SYSTEM_UNAVAILABLE, RSN_RES_FULL, 0)
        s = res_lookup(state, h, RES_RESERVED, client)
        res_set_state(state, s, RES_RESERVED)
        holds_take(state, view, s)
        if flags & ORDER_AUTO_COMMIT:
            holds_commit(state, s)
            committed = RESULT_COMMITTED
    elif flags & ORDER_AUTO_COMMIT:
        committed = RESULT_COMMITTED
    if count == 0:
        write_reject(out, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    finish(out, 1, STATUS_OK, blocked | latched | committed)
    if count == 0:  # an accepted record: count 0, as ``_accepted`` writes it
        out[RESULT_W_HEAD] &= ~(0xFF << 48)
    out[RESULT_W_RESERVATION] = h
    return 1


@njit(cache=True)
def drop_copy_at(view_addr, out_addr, now, latch_before):  # type: ignore[no-untyped-def]
    """The object door's drop copy of the ``MSG_DROP_COPY`` record in a request view.

    ``latch_before``: 0 when Python latches (custom policies may request a block
    first), ``NO_LATCH`` to let the kernel latch as the batch door does. Returns
    the number of records, or ``ST_NEED_SPACE`` before changing anything.
    """
    v = addr_ptr(view_addr)
    state = addr_ptr(v[V_STATE_ADDR])
    redo_recover(state)
    if arena_free(state) < space_needed(state):
        return ST_NEED_SPACE
    view_open(state, v, v, now, False, 0)
    v[V_LATCH_BEFORE] = latch_before
    return drop_copy_answer(state, addr_ptr(v[V_SHARED_ADDR]), v, addr_ptr(out_addr), 0)


@njit(cache=True)
def _handle_one(state, shared, out, view):  # type: ignore[no-untyped-def]
    out[RESULT_W_RESERVATION] = 0
    kind = view[V_KIND]
    flags = view[V_FLAGS]
    client = view[V_CLIENT]
    if kind in (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER, MSG_REPORT, MSG_FILL,
                MSG_DROP_COPY):  # fmt: skip
        code, rsn, detail = field_fault(state, view)
        if code != 0:
            return _error(out, code, rsn, detail)
    if kind == MSG_DROP_COPY:
        return drop_copy_answer(state, shared, view, out, client)
    if kind in (MSG_ORDER, MSG_START, MSG_DRY_START, MSG_DRY_ORDER):
        dry = kind in (MSG_DRY_START, MSG_DRY_ORDER)
        view[V_DRY] = 1 if dry else 0
        n = start_core(state, shared, view, out)
        if n > 0:
            return n
        if kind == MSG_DRY_START:
            return _accepted(out, 0, RESULT_DRY_RUN)
        account = view[V_ACCOUNT] if has_account(flags) else 0
        if kind == MSG_START:  # the execute gate must know whether there is an account to check
            st = RES_REQUEST if has_account(flags) else RES_REQUEST_NO_ACCOUNT
            h = res_alloc(state, account, st, client)
            if h == 0:
                return _error(out, CODE_SYSTEM_UNAVAILABLE, RSN_RES_FULL, 0)
            s = res_lookup(state, h, st, client)
            for w in range(8):  # the main stage (MSG_EXECUTE) reads the order from here
                state[s + RS_LEGS + w] = view[w]
            return _accepted(out, h, 0)
        n = main_core(state, shared, view, out) if view[V_SKIP_MAIN] == 0 else 0
        if n > 0:
            return n
        if dry:
            return _accepted(out, 0, RESULT_DRY_RUN)
        if view[V_N_LEGS] == 0 and flags & ORDER_AUTO_COMMIT:
            return _accepted(out, 0, RESULT_COMMITTED)
        h = res_alloc(state, account, RES_RESERVED, client)
        if h == 0:
            return _error(out, CODE_SYSTEM_UNAVAILABLE, RSN_RES_FULL, 0)
        s = res_lookup(state, h, RES_RESERVED, client)
        return _reserved(state, view, out, s, h, flags & ORDER_AUTO_COMMIT != 0)
    if kind == MSG_EXECUTE:
        ref = view[V_REF]
        refused = _refused_handle(state, out, ref, client)
        if refused:
            return refused
        gate_flags = ORDER_HAS_OPERATION
        s = res_lookup(state, ref, RES_REQUEST, client)
        if s < 0:
            gate_flags = ORDER_HAS_OPERATION | ORDER_NO_ACCOUNT
            s = res_lookup(state, ref, RES_REQUEST_NO_ACCOUNT, client)
        if s < 0:
            return _error(out, CODE_OTHER, RSN_BAD_HANDLE, ref)
        g = gate(state, shared, out, res_account(state, s), gate_flags)
        if g != 0:
            res_release(state, s)
            finish(out, g, STATUS_REJECTED, 0)
            return g
        auto_commit = flags & ORDER_AUTO_COMMIT != 0
        view_open(state, view, p_offset(state, s + RS_LEGS), view[V_NOW], False, client)
        n = main_core(state, shared, view, out)
        if n > 0:
            res_release(state, s)
            return n
        return _reserved(state, view, out, s, ref, auto_commit)
    if kind in (MSG_COMMIT, MSG_ROLLBACK, MSG_FILL):
        return finalize_core(state, shared, view, out, client)
    if kind == MSG_REPORT:
        view[V_SCALES] = _report_scales(
            state, view[V_REF] & RECORD_REF_LOW_MASK, view[V_PNL], view[V_FEE]
        )
        n = report_core(state, shared, view, out, True, True)
        if n > 0:
            return n
        return _accepted(out, 0, 0)
    return _error(out, CODE_OTHER, RSN_BAD_KIND, kind)


@njit(cache=True, inline='always')
def _settlement_of(state, word2):  # type: ignore[no-untyped-def]
    instrument = np.int32(word2 & 0xFFFFFFFF)
    if instrument < 0 or instrument >= state[H_N_INSTR]:
        return -1
    return state[state[H_INSTR_BASE] + instrument * W_INSTR + I_SETTLEMENT]


@njit(cache=True, inline='always')
def _prefetch_ahead(state, rec, i, total, t_acc, t_aa, pf_acc, pf_aa):  # type: ignore[no-untyped-def]
    """Two-stage software prefetch: table slots 2*PF records ahead, rows PF ahead."""
    j = i + 2 * _PF
    if j < total:
        a = rec[j * 8 + 1]
        if pf_acc:
            tbl_prefetch(state, t_acc, a, 0)
        if pf_aa:
            tbl_prefetch(state, t_aa, a, _settlement_of(state, rec[j * 8 + 2]))
    k = i + _PF
    if k < total:
        a = rec[k * 8 + 1]
        if pf_acc:
            row = tbl_find(state, t_acc, a, 0)
            if row != 0:  # the barrier and its inline log: the row's first two lines
                prefetch(state, row)
                prefetch(state, row + 8)
        if pf_aa:
            row = tbl_find(state, t_aa, a, _settlement_of(state, rec[k * 8 + 2]))
            if row != 0:
                prefetch(state, row)
                prefetch(state, row + 8)


@njit(cache=True)
def process(  # type: ignore[no-untyped-def]
    state_arr, shared_arr, records_arr, results_arr, now, first_only, client, journal, journal_at,
    quotes,
):
    """Run ``records`` (``int64[n, 8]`` order records) into ``results`` (``int64[m, 8]``).

    ``client``: the client slot the records came from (0 for the engine's own
    client); the handles it gets are its own, and it may use no others.

    Every request gets its records (one per reject, or one if accepted); with
    ``first_only`` only the first record of each request is kept (its
    ``count`` still says how many rejects there were), so ``results[i]``
    answers ``records[i]``. Returns ``(consumed, written, status)``: it stops
    early when ``results`` cannot hold another request's records (status 0)
    or when the arena must grow first (``ST_NEED_SPACE``; nothing of that
    record was applied).

    ``journal[journal_at]`` gets the progress word (``kernels.journal``)
    before and after each record, so a shard worker's supervisor knows
    exactly how far a dying worker got; other callers pass a scratch word.
    """
    state = as_ptr(state_arr)
    shared = as_ptr(shared_arr)
    rec = as_ptr(records_arr)
    res = as_ptr(results_arr)
    progress = as_ptr(journal)
    room = state[H_N_POLICIES] + 2
    i = 0
    w = 0
    total = records_arr.shape[0]
    limit = results_arr.shape[0]
    safe = 0  # records below this index are known to fit in the arena
    # With many accounts, each order's account row is a cache miss behind a table
    # miss; fetching them PF and 2*PF records ahead overlaps those misses.
    t_acc = state[H_T_ACC]
    t_aa = state[H_T_AA]
    pf_acc = state[t_acc + TB_COUNT] >= _PF_MIN_KEYS
    pf_aa = state[t_aa + TB_COUNT] >= _PF_MIN_KEYS
    tag = shared[SH_RECORD_TAG]
    redo_recover(state)  # a worker that died mid-transition: finish it before reading
    view = np.empty(VIEW_WORDS, dtype=np.int64)  # the request view, refilled per record
    v = as_ptr(view)
    # The engine's quote table (``kernels.market_data``); an empty array: none. Its slot
    # count comes from the array's length, never from the (writable by producers) header.
    n_quotes = quotes.shape[0]
    v[V_QUOTES_ADDR] = quotes.ctypes.data if n_quotes > 0 else 0
    v[V_QUOTES_CAP] = (
        (n_quotes - QT_HEADER_WORDS) // (QT_INDEX_WORDS + QUOTE_ROW_WORDS) if n_quotes > 0 else 0
    )
    registered = 0
    for b in range(state[H_N_BUILTINS]):
        registered |= 1 << state[H_EXEC + b]
    v[V_SKIP_MAIN] = 1 if registered & MAIN_STAGE_KINDS == 0 else 0
    while i < total:
        if pf_acc or pf_aa:
            _prefetch_ahead(state, rec, i, total, t_acc, t_aa, pf_acc, pf_aa)
        if limit - w < room:
            break
        if i >= safe:
            k = min(_CHUNK, total - i)
            if arena_free(state) >= bulk_needed(state, k):
                safe = i + k
            elif arena_free(state) >= space_needed(state):
                safe = i + 1
            else:
                return i, w, ST_NEED_SPACE
        p_store_release(progress, journal_at, journal_word(w, i, 1))  # record i: in flight
        compiler_fence()
        r = i * 8
        view_open(state, v, p_offset(rec, r), now, False, client)
        kind = v[V_KIND]
        out = p_offset(res, w * 8)
        home = _foreign(state, rec[r + 1], kind, v[V_FLAGS])
        if foreign_tag(tag, kind, rec[r + 7]):  # built for another engine: ids mean nothing here
            out[RESULT_W_RESERVATION] = 0
            write_reject(out, 0, CODE_INVALID_FIELD_VALUE, POLICY_ENGINE, RSN_WRONG_ENGINE, 0,
                         rec[r + 7] >> RECORD_TAG_SHIFT, tag, 0, 0, 0)  # fmt: skip
            finish(out, 1, STATUS_ERROR, 0)
            n = 1
        elif home >= 0:
            out[RESULT_W_RESERVATION] = 0
            write_reject(out, 0, CODE_INVALID_FIELD_VALUE, POLICY_ENGINE, RSN_WRONG_SHARD, 0,
                         rec[r + 1], home, state[H_SHARD_ID], 0, 0)  # fmt: skip
            finish(out, 1, STATUS_ERROR, 0)
            n = 1
        else:
            n = _handle_one(state, shared, out, v)
        seq = rec[r]
        if first_only:
            out[RESULT_W_SEQ] = seq
            w += 1
        else:
            for j in range(n):
                out[j * 8 + RESULT_W_SEQ] = seq
                if j != 0:  # a ring slot keeps an older answer's word; only record 0 has one
                    out[j * 8 + RESULT_W_RESERVATION] = 0
            w += n
        i += 1
        compiler_fence()
        p_store_release(progress, journal_at, journal_word(w, i, 0))  # decided, answers written
    return i, w, 0
