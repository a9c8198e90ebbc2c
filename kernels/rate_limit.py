"""Rate limit (openpit ``RateLimitPolicy``): four axes, flood semantics, one reject by priority.

Start stage only. Every attempt is counted on **every applicable axis before
deciding**, rejected attempts included, and slots are never given back
(openpit's flood semantics). The axes:

* broker (always) and asset (the order's settlement asset): openpit's
  approximate **fixed-window** counter: the window starts at the first push;
  when ``now - start >= window`` it restarts with a count of 1. These rows
  live in the ``shared`` array (``FW_*``), common to every shard, and are
  **lock-free** (see ``fw_push``), so one broker limit holds exactly across
  shards, every attempt is counted exactly once, and no shard can block the
  others: one descheduled or SIGKILLed at any instant leaves the window
  either before or after its push (there is no lock to hold, hence no
  timeout, no ``SystemUnavailable`` and nothing to release after a death);
* account and account+asset: openpit's **precise sliding window**, kept in
  bounded memory by ``kernels.sliding_log`` (exact while entries fit; never
  under-counts).

The breach is ``count > max_orders`` (counts include the current attempt);
one ``RateLimitExceeded`` reject with order scope is written, chosen by
priority broker -> asset -> account -> account+asset. ``max_orders`` and
windows are u64 values stored as int64 bits. Dry runs read the counters and
report what a push would count, without pushing.

The sliding logs are per shard (accounts are pinned to one shard); the
fixed windows are the only counters shards share.

Fields are read only when an axis needs them: the instrument if an asset or
account+asset axis is configured (read first), the account if an account or
account+asset axis is (``ORDER_NO_ACCOUNT``: an operation without one); an
order without them is rejected with ``MissingRequiredField`` before anything
is counted on any axis. An empty policy admits everything without reading the
order.
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    CODE_MISSING_REQUIRED_FIELD,
    CODE_RATE_LIMIT_EXCEEDED,
)
from openpit_shm.layout.state import (
    AA_RL_GEN,
    AA_RL_LOG,
    AA_RL_MAX,
    AA_RL_WINDOW,
    AC_RL_GEN,
    AC_RL_INLINE,
    AC_RL_LOG,
    AC_RL_MAX,
    AC_RL_WINDOW,
    FW_COUNT,
    FW_MAX,
    FW_NOT_STARTED,
    FW_ON,
    FW_START,
    FW_WINDOW,
    GEN_SHIFT,
    H_RL_AA_GEN,
    H_RL_ACC_GEN,
    H_RL_N_AA,
    H_RL_N_ACC,
    H_RL_N_ASSET,
    H_T_AA,
    H_T_ACC,
    LG_R,
    LG_RING,
    LOG_CAP_MAX,
    SH_ASSET_CAP,
    SH_ASSETS,
    SH_BROKER,
    SH_WRITERS,
    W_SH_ASSET,
)
from openpit_shm.layout.view import (
    V_ACCOUNT,
    V_DRY,
    V_FLAGS,
    V_NOW,
    V_SETTLEMENT,
)

from .codes import (
    FIELD_ACCOUNT,
    FIELD_INSTRUMENT,
    RSN_MISSING_FIELD,
    RSN_RL_ACCOUNT,
    RSN_RL_ACCOUNT_ASSET,
    RSN_RL_ASSET,
    RSN_RL_BROKER,
)
from .fields import has_account, has_instrument
from .hashtable import tbl_find
from .jit import njit
from .ptr import p_cas2, p_fetch_add
from .results import write_reject
from .sliding_log import log_count, log_ensure_class, log_push, ring_of, window_eff

__all__ = ["exceeds", "fw_push", "fw_reset", "rl_check", "rl_log_words_needed"]

GEN_MASK = (1 << GEN_SHIFT) - 1


@njit(cache=True, inline='always')
def exceeds(count, max_orders):  # type: ignore[no-untyped-def]
    """``count > max_orders`` with ``max_orders`` a u64 in int64 bits."""
    return max_orders >= 0 and count > max_orders


@njit(cache=True, inline='always')
def _live(start, count, now, w):  # type: ignore[no-untyped-def]
    """Whether ``now`` falls in the started window ``(start, count)``."""
    return count != 0 and start != FW_NOT_STARTED and now - start < w


@njit(cache=True)
def fw_push(shared, row, now, dry):  # type: ignore[no-untyped-def]
    """Count an attempt in the fixed window at ``shared[row:]``; returns the count it got.

    The window is the pair ``(start, count)`` (``FW_START``, ``FW_COUNT``: two
    adjacent, 16-byte aligned words; not started while ``count == 0`` or
    ``start == FW_NOT_STARTED``). Two cases:

    * ``now`` inside the live window (almost every push): one ``lock xadd``
      on ``count`` (a plain add when ``SH_WRITERS == 1``: nobody to race).
      If the window restarted between our read and the add, the add lands
      in the new one, which is exactly openpit's sequential answer for a
      push ordered after that restart: the restart had ``now' - start
      >= window`` while we had ``now - start < window``, so ``now < now'``
      and ``now`` is inside the new window too. (Whatever ``start`` we read
      was the window's start at some moment, and starts only grow, so this
      holds for stale or torn reads as well.)
    * not started, or expired: a 16-byte compare-and-swap from the pair we
      saw to ``(now, 1)`` (``ptr.p_cas2``), retried from the pair a failed
      swap returns (someone else pushed, restarted or reset meanwhile).

    Both are locked operations on one cache line, which the CPU serializes
    (x86 LOCK; arm64 exclusive monitor or LSE). ``dry``: what a push would
    count, without pushing (the pair is read with the swap, never torn).
    """
    w = window_eff(shared[row + FW_WINDOW])
    # A first guess of the pair (two plain reads: a tear only fails the swap below, and
    # the add's argument holds for it); every retry starts from what a failed swap saw.
    start = shared[row + FW_START]
    count = shared[row + FW_COUNT]
    while True:
        live = _live(start, count, now, w)
        if live and not dry:
            if shared[SH_WRITERS] == 1:  # one process pushes (0: unknown): no lock prefix needed
                shared[row + FW_COUNT] = count + 1
                return count + 1
            return p_fetch_add(shared, row + FW_COUNT, 1) + 1
        if dry:
            got = count + 1 if live else 1
            seen_start, seen_count = p_cas2(shared, row + FW_START, start, count, start, count)
        else:
            got = 1
            seen_start, seen_count = p_cas2(shared, row + FW_START, start, count, now, 1)
        if seen_start == start and seen_count == count:
            return got
        start = seen_start
        count = seen_count


@njit(cache=True)
def fw_reset(shared, row):  # type: ignore[no-untyped-def]
    """Forget the window at ``shared[row:]`` (a retune), racing pushes safely.

    It becomes ``(FW_NOT_STARTED, 0)`` in one swap. A push whose add lands
    just after it counted in the forgotten window (ordered before the reset):
    the pair then reads ``(FW_NOT_STARTED, k)``, still not started, and the
    next push starts the new window at its own ``now`` as openpit does.
    """
    start = shared[row + FW_START]
    count = shared[row + FW_COUNT]
    while True:
        seen_start, seen_count = p_cas2(shared, row + FW_START, start, count, FW_NOT_STARTED, 0)
        if seen_start == start and seen_count == count:
            return
        start = seen_start
        count = seen_count


@njit(cache=True)
def _log_touch(state, row, gen_w, max_w, win_w, log_w, inline_w, now, dry):  # type: ignore[no-untyped-def]
    """Count on the sliding log of a row's barrier; -2 if the arena is short.

    ``inline_w`` (>= 0): the row's own room for a summary-only log.
    """
    log = state[row + log_w]
    win = state[row + win_w]
    if dry:
        return 1 if log == 0 else log_count(state, log, now, win)
    cls = state[row + gen_w] & GEN_MASK
    if log == 0 or state[log + LG_R] != ring_of(cls):
        inline = row + inline_w if inline_w >= 0 else 0
        log = log_ensure_class(state, log, cls, now, win, inline)
        if log < 0:
            return -2
        state[row + log_w] = log
    return log_push(state, log, now, win)


@njit(cache=True, inline='always')
def rl_log_words_needed(state):  # type: ignore[no-untyped-def]
    """Most arena words one ``rl_check`` can allocate (two log blocks)."""
    return 2 * (LG_RING + LOG_CAP_MAX)


@njit(cache=True)
def rl_check(state, shared, out, n, pol, account, settlement, flags, now, dry):  # type: ignore[no-untyped-def]
    """Run the rate limit for one order; append its reject (if any) at ``out[n]``."""
    n_asset = state[H_RL_N_ASSET]
    n_acc = state[H_RL_N_ACC]
    n_aa = state[H_RL_N_AA]
    broker_on = shared[SH_BROKER + FW_ON] != 0
    if not broker_on and n_asset == 0 and n_acc == 0 and n_aa == 0:
        return n
    if (n_asset > 0 or n_aa > 0) and not has_instrument(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_INSTRUMENT, 0, 0, 0, 0,
        )
    if (n_acc > 0 or n_aa > 0) and not has_account(flags):
        return write_reject(
            out, n, CODE_MISSING_REQUIRED_FIELD, pol, RSN_MISSING_FIELD, 0,
            FIELD_ACCOUNT, 0, 0, 0, 0,
        )
    rsn = 0
    cnt = 0
    mx = 0
    win = 0
    if broker_on:
        c = fw_push(shared, SH_BROKER, now, dry)
        if exceeds(c, shared[SH_BROKER + FW_MAX]):
            rsn = RSN_RL_BROKER
            cnt = c
            mx = shared[SH_BROKER + FW_MAX]
            win = shared[SH_BROKER + FW_WINDOW]
    if n_asset > 0 and 0 <= settlement < shared[SH_ASSET_CAP]:
        row = SH_ASSETS + settlement * W_SH_ASSET
        if shared[row + FW_ON] != 0:
            c = fw_push(shared, row, now, dry)
            if rsn == 0 and exceeds(c, shared[row + FW_MAX]):
                rsn = RSN_RL_ASSET
                cnt = c
                mx = shared[row + FW_MAX]
                win = shared[row + FW_WINDOW]
    if n_acc > 0:
        row = tbl_find(state, state[H_T_ACC], account, 0)
        if row != 0 and state[row + AC_RL_GEN] >> GEN_SHIFT == state[H_RL_ACC_GEN]:
            c = _log_touch(
                state, row, AC_RL_GEN, AC_RL_MAX, AC_RL_WINDOW, AC_RL_LOG, AC_RL_INLINE, now, dry
            )
            if rsn == 0 and exceeds(c, state[row + AC_RL_MAX]):
                rsn = RSN_RL_ACCOUNT
                cnt = c
                mx = state[row + AC_RL_MAX]
                win = state[row + AC_RL_WINDOW]
    if n_aa > 0:
        row = tbl_find(state, state[H_T_AA], account, settlement)
        if row != 0 and state[row + AA_RL_GEN] >> GEN_SHIFT == state[H_RL_AA_GEN]:
            c = _log_touch(state, row, AA_RL_GEN, AA_RL_MAX, AA_RL_WINDOW, AA_RL_LOG, -1, now, dry)
            if rsn == 0 and exceeds(c, state[row + AA_RL_MAX]):
                rsn = RSN_RL_ACCOUNT_ASSET
                cnt = c
                mx = state[row + AA_RL_MAX]
                win = state[row + AA_RL_WINDOW]
    if rsn == 0:
        return n
    return write_reject(out, n, CODE_RATE_LIMIT_EXCEEDED, pol, rsn, 0, cnt, mx, win, 0, 0)


# ---- lifecycle (``kernels.dispatch`` calls these by ``KIND``) ------------------------------
KIND = 1  #: this builtin's kind id (< MAX_KINDS; ``dispatch.KIND_MODULES`` lists it)
MAIN_STAGE = False  #: its main stage is a no-op (``dispatch.MAIN_STAGE_KINDS``)


@njit(cache=True, inline='always')
def start(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Start stage of the rate limit over the request view; returns the record count."""
    return rl_check(
        state, shared, out, n, pol, view[V_ACCOUNT], view[V_SETTLEMENT], view[V_FLAGS],
        view[V_NOW], view[V_DRY] != 0
    )  # fmt: skip


@njit(cache=True, inline='always')
def main(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Main stage: the rate limit decides everything at start and holds nothing."""
    return n


@njit(cache=True, inline='always')
def report(state, shared, view, out, n, pol):  # type: ignore[no-untyped-def]
    """Post-trade: nothing to do."""
    return n


@njit(cache=True, inline='always')
def finalize(state, hold, commit):  # type: ignore[no-untyped-def]
    """Settle (commit) or release (rollback) this kind's legs of reservation slot ``hold``."""
    return 0


@njit(cache=True, inline='always')
def fill(state, shared, hold, view):  # type: ignore[no-untyped-def]
    """A fill of reservation slot ``hold``: this kind holds nothing to split (0: go on)."""
    return 0
