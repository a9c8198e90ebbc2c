"""Rate limit (openpit ``RateLimitPolicy``): four axes, flood semantics, one reject by priority.

Start stage only. Every attempt is counted on **every applicable axis before
deciding**, rejected attempts included, and slots are never given back
(openpit's flood semantics). The axes:

* broker (always) and asset (the order's settlement asset): openpit's
  approximate **fixed-window** counter: the window starts at the first push;
  when ``now - start >= window`` it restarts with a count of 1. These rows
  live in the ``shared`` array (``FW_*``) and are updated under a per-row
  spin lock taken with CAS, so one broker limit holds exactly across shards.
  A lock that cannot be taken in ``LOCK_SPINS`` tries (a dead holder) fails
  closed with ``SystemUnavailable``;
* account and account+asset: openpit's **precise sliding window**, kept in
  bounded memory by ``kernels.sliding_log`` (exact while entries fit; never
  under-counts).

The breach is ``count > max_orders`` (counts include the current attempt);
one ``RateLimitExceeded`` reject with order scope is written, chosen by
priority broker -> asset -> account -> account+asset. ``max_orders`` and
windows are u64 values stored as int64 bits. Dry runs read the counters and
report what a push would count, without pushing.

Fields are read only when an axis needs them: the instrument if an asset or
account+asset axis is configured (read first), the account if an account or
account+asset axis is (``ORDER_NO_ACCOUNT``: an operation without one); an
order without them is rejected with ``MissingRequiredField`` before anything
is counted on any axis. An empty policy admits everything without reading the
order.
"""

from __future__ import annotations

from numba import njit

from openpit_shm.layout.records import (
    CODE_MISSING_REQUIRED_FIELD,
    CODE_RATE_LIMIT_EXCEEDED,
    CODE_SYSTEM_UNAVAILABLE,
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
    FW_LOCK,
    FW_MAX,
    FW_ON,
    FW_START,
    FW_STARTED,
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
    W_SH_ASSET,
)

from .atomics import cpu_relax
from .codes import (
    FIELD_ACCOUNT,
    FIELD_INSTRUMENT,
    RSN_MISSING_FIELD,
    RSN_RL_ACCOUNT,
    RSN_RL_ACCOUNT_ASSET,
    RSN_RL_ASSET,
    RSN_RL_BROKER,
    RSN_RL_LOCK_TIMEOUT,
)
from .fields import has_account, has_instrument
from .hashtable import tbl_find
from .ptr import p_cas, p_store_release
from .results import write_reject
from .sliding_log import log_count, log_ensure_class, log_push, ring_of, window_eff

__all__ = ["LOCK_SPINS", "exceeds", "fw_push", "rl_check", "rl_log_words_needed"]

#: Spins before a shared window's lock is declared dead (about a millisecond of ``pause``).
LOCK_SPINS = 1 << 16
GEN_MASK = (1 << GEN_SHIFT) - 1


@njit(cache=True, inline='always')
def exceeds(count, max_orders):  # type: ignore[no-untyped-def]
    """``count > max_orders`` with ``max_orders`` a u64 in int64 bits."""
    return max_orders >= 0 and count > max_orders


@njit(cache=True)
def fw_push(shared, row, now, dry):  # type: ignore[no-untyped-def]
    """Count an attempt in the fixed window at ``shared[row:]``; -1 if its lock is dead."""
    got = False
    for _ in range(LOCK_SPINS):
        if p_cas(shared, row + FW_LOCK, 0, 1) == 0:
            got = True
            break
        cpu_relax()
    if not got:
        return -1
    w = window_eff(shared[row + FW_WINDOW])
    if shared[row + FW_STARTED] == 0 or now - shared[row + FW_START] >= w:
        count = 1
        if not dry:
            shared[row + FW_START] = now
            shared[row + FW_COUNT] = 1
            shared[row + FW_STARTED] = 1
    else:
        count = shared[row + FW_COUNT] + 1
        if not dry:
            shared[row + FW_COUNT] = count
    p_store_release(shared, row + FW_LOCK, 0)
    return count


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
        if c < 0:
            return write_reject(
                out, n, CODE_SYSTEM_UNAVAILABLE, pol, RSN_RL_LOCK_TIMEOUT, 0, 0, 0, 0, 0, 0
            )
        if exceeds(c, shared[SH_BROKER + FW_MAX]):
            rsn = RSN_RL_BROKER
            cnt = c
            mx = shared[SH_BROKER + FW_MAX]
            win = shared[SH_BROKER + FW_WINDOW]
    if n_asset > 0 and 0 <= settlement < shared[SH_ASSET_CAP]:
        row = SH_ASSETS + settlement * W_SH_ASSET
        if shared[row + FW_ON] != 0:
            c = fw_push(shared, row, now, dry)
            if c < 0:
                return write_reject(
                    out, n, CODE_SYSTEM_UNAVAILABLE, pol, RSN_RL_LOCK_TIMEOUT, 0, 0, 0, 0, 0, 0
                )
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
