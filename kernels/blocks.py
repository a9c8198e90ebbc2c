"""Account, group and engine-wide blocks: the gate every order passes first, and latching.

State (``layout.state``): the low byte of an account row's ``AC_BLOCK`` word
says whether the account is blocked and who holds the cause (the rest of the
word is the account's group):

* ``BLOCK_EXTERNAL``: recorded from Python (admin ``Accounts.block``, a custom
  policy's latch, a restored cause); the engine keeps the cause object, the
  gate writes an engine record (``RSN_GATE_ACCOUNT``) that points at it;
* ``BLOCK_KERNEL``: latched by a kernel; the cause is stored as six numeric
  words (a result head and ``d0..d4``) in ``AC_CAUSE``, so any process
  attached to the state can rebuild the exact reject.

Groups are rows of the groups table (blocked flag); an account row's
``AC_BLOCK >> GROUP_SHIFT`` is its group (0 = default). ``H_N_BLOCKED_ACC`` /
``H_N_BLOCKED_GRP`` count this arena's live blocks (so the gate skips the
account lookup when none is blocked here).

What spans shards lives in the ``shared`` array (``layout.state``):
``SH_ENGINE_BLOCK`` is the engine-wide block, and ``SH_N_BLOCKED`` counts
every live block of every arena (+1 while the engine-wide block is set).
openpit rejects an order without an account (no operation, or
``ORDER_NO_ACCOUNT``) exactly while some block exists *anywhere*, and in a
sharded engine the blocked account may live in another shard; so the gate
reads ``SH_N_BLOCKED`` first (one word, the only cost when nobody is
blocked) and every kernel below that makes a real transition (not a repeat)
moves it by one. Transitions are idempotent: re-blocking, unblocking what
is not blocked, and setting the engine-wide block that is already set
(e.g. broadcast to every shard) change nothing. The count is raised before
a block becomes visible and lowered after it is gone, and a decrement never
takes it below 0.

Precedence (openpit): the account's own block, then its group's, then the
engine-wide one; the gate emits one record and runs no policy.

``state``, ``shared`` and ``out`` are ``CPointer(int64)`` (``kernels.ptr``);
Python calls these through ``kernels.control``.
"""

from __future__ import annotations

from openpit_shm.layout.records import (
    CODE_ACCOUNT_BLOCKED,
    CODE_MISSING_REQUIRED_FIELD,
    POLICY_ENGINE,
    RESULT_SCOPE_ACCOUNT,
    RESULT_W_D0,
    RESULT_W_HEAD,
)
from openpit_shm.layout.state import (
    AC_BLOCK,
    AC_CAUSE,
    BLOCK_EXTERNAL,
    BLOCK_KERNEL,
    BLOCK_NONE,
    CAUSE_WORDS,
    ENGINE_BLOCK_KILL_SWITCH,
    ENGINE_BLOCK_NONE,
    G_BLOCKED,
    GROUP_SHIFT,
    H_N_BLOCKED_ACC,
    H_N_BLOCKED_GRP,
    H_T_ACC,
    H_T_GRP,
    SH_ENGINE_BLOCK,
    SH_N_BLOCKED,
)

from .codes import (
    RSN_GATE_ACCOUNT,
    RSN_GATE_ENGINE,
    RSN_GATE_ENGINE_KILL_SWITCH,
    RSN_GATE_GROUP,
    RSN_GATE_NO_ACCOUNT,
)
from .fields import has_account
from .hashtable import tbl_find, tbl_get_or_insert
from .jit import njit
from .ptr import p_cas, p_fetch_add, p_load_relaxed
from .results import write_reject

__all__ = [
    "any_block",
    "block_external",
    "block_group",
    "engine_block",
    "gate",
    "is_blocked",
    "latch_kernel",
    "set_group",
    "unblock",
    "unblock_group",
]


_STATE_MASK = (1 << GROUP_SHIFT) - 1


@njit(cache=True, inline='always')
def _set_state(state, row, bs):  # type: ignore[no-untyped-def]
    state[row + AC_BLOCK] = (state[row + AC_BLOCK] & ~_STATE_MASK) | bs


@njit(cache=True, inline='always')
def _count_up(shared):  # type: ignore[no-untyped-def]
    p_fetch_add(shared, SH_N_BLOCKED, 1)


@njit(cache=True)
def _count_down(shared):  # type: ignore[no-untyped-def]
    """One block fewer, never below 0 (a shard killed mid-transition may have missed a +1)."""
    seen = p_load_relaxed(shared, SH_N_BLOCKED)
    while seen > 0:
        was = p_cas(shared, SH_N_BLOCKED, seen, seen - 1)
        if was == seen:
            return
        seen = was


@njit(cache=True, inline='always')
def any_block(shared):  # type: ignore[no-untyped-def]
    """Whether any account, group or engine-wide block is live in any shard."""
    return p_load_relaxed(shared, SH_N_BLOCKED) > 0


@njit(cache=True)
def gate(state, shared, out, account, flags):  # type: ignore[no-untyped-def]
    """Write the gate's reject into ``out[0]`` and return 1, or return 0 if the order may run."""
    if not any_block(shared):
        return 0
    if not has_account(flags):  # no operation, or ORDER_NO_ACCOUNT
        code = CODE_MISSING_REQUIRED_FIELD
        return write_reject(out, 0, code, POLICY_ENGINE, RSN_GATE_NO_ACCOUNT, 0, 0, 0, 0, 0, 0)
    row = 0
    if state[H_N_BLOCKED_ACC] + state[H_N_BLOCKED_GRP] > 0:  # else the blocks are elsewhere
        row = tbl_find(state, state[H_T_ACC], account, 0)
    if row != 0:
        bs = state[row + AC_BLOCK] & _STATE_MASK
        if bs == BLOCK_KERNEL:
            for i in range(CAUSE_WORDS):
                out[RESULT_W_HEAD + i] = state[row + AC_CAUSE + i]
            return 1
        if bs == BLOCK_EXTERNAL:
            return write_reject(
                out, 0, CODE_ACCOUNT_BLOCKED, POLICY_ENGINE, RSN_GATE_ACCOUNT,
                RESULT_SCOPE_ACCOUNT, account, 0, 0, 0, 0,
            )
        group = state[row + AC_BLOCK] >> GROUP_SHIFT
        if group != 0 and state[H_N_BLOCKED_GRP] > 0:
            g = tbl_find(state, state[H_T_GRP], group, 0)
            if g != 0 and state[g + G_BLOCKED] != 0:
                return write_reject(
                    out, 0, CODE_ACCOUNT_BLOCKED, POLICY_ENGINE, RSN_GATE_GROUP,
                    RESULT_SCOPE_ACCOUNT, account, group, 0, 0, 0,
                )
    eb = p_load_relaxed(shared, SH_ENGINE_BLOCK)
    if eb != ENGINE_BLOCK_NONE:
        rsn = RSN_GATE_ENGINE_KILL_SWITCH if eb == ENGINE_BLOCK_KILL_SWITCH else RSN_GATE_ENGINE
        return write_reject(
            out, 0, CODE_ACCOUNT_BLOCKED, POLICY_ENGINE, rsn, RESULT_SCOPE_ACCOUNT, 0, 0, 0, 0, 0
        )
    return 0


@njit(cache=True)
def is_blocked(state, account):  # type: ignore[no-untyped-def]
    """The account's own block state (BLOCK_*)."""
    if state[H_N_BLOCKED_ACC] == 0:
        return BLOCK_NONE
    row = tbl_find(state, state[H_T_ACC], account, 0)
    return BLOCK_NONE if row == 0 else state[row + AC_BLOCK] & _STATE_MASK


@njit(cache=True)
def latch_kernel(state, shared, account, rec, i, code):  # type: ignore[no-untyped-def]
    """Block ``account`` with record ``rec[i]`` as its numeric cause (the first cause wins).

    The stored cause keeps the record's policy, reason and detail words, with
    ``code`` as the block's code (-1 keeps the record's: post-trade blocks keep
    theirs, start/main-stage latches become ``AccountBlocked``). Returns 1 when
    the block was recorded, 0 when the account was already blocked, -1 if the
    arena is short.
    """
    row = tbl_get_or_insert(state, state[H_T_ACC], account, 0)
    if row < 0:
        return -1
    if state[row + AC_BLOCK] & _STATE_MASK != BLOCK_NONE:
        return 0
    _count_up(shared)
    _set_state(state, row, BLOCK_KERNEL)
    head = rec[i * 8 + RESULT_W_HEAD]
    if code >= 0:
        head = (head & ~0xFFFF) | code
    # keep code, policy, reason and the scope flag; status/count/index belong to the request
    state[row + AC_CAUSE] = (head & 0xFFFFFFFF) | (RESULT_SCOPE_ACCOUNT << 40)
    for k in range(CAUSE_WORDS - 1):
        state[row + AC_CAUSE + 1 + k] = rec[i * 8 + RESULT_W_D0 + k]
    state[H_N_BLOCKED_ACC] += 1
    return 1


@njit(cache=True)
def block_external(state, shared, account, replace):  # type: ignore[no-untyped-def]
    """Block with a cause held by Python. 1 = recorded, 0 = already blocked, -1 = no space.

    With ``replace`` an existing block (kernel-latched or not) is taken over
    by Python (``Accounts.replace_block_reason``) and 1 is returned.
    """
    row = tbl_get_or_insert(state, state[H_T_ACC], account, 0)
    if row < 0:
        return -1
    bs = state[row + AC_BLOCK] & _STATE_MASK
    if bs != BLOCK_NONE:
        if replace:
            _set_state(state, row, BLOCK_EXTERNAL)
            return 1
        return 0
    _count_up(shared)
    _set_state(state, row, BLOCK_EXTERNAL)
    state[H_N_BLOCKED_ACC] += 1
    return 1


@njit(cache=True)
def unblock(state, shared, account):  # type: ignore[no-untyped-def]
    """Lift the account's own block (idempotent)."""
    row = tbl_find(state, state[H_T_ACC], account, 0)
    if row != 0 and state[row + AC_BLOCK] & _STATE_MASK != BLOCK_NONE:
        _set_state(state, row, BLOCK_NONE)
        for k in range(CAUSE_WORDS):
            state[row + AC_CAUSE + k] = 0
        state[H_N_BLOCKED_ACC] -= 1
        _count_down(shared)


@njit(cache=True)
def set_group(state, account, group):  # type: ignore[no-untyped-def]
    """Move the account to ``group`` (0 = default); 0 ok, -1 no space."""
    if group == 0:
        row = tbl_find(state, state[H_T_ACC], account, 0)
        if row != 0:
            state[row + AC_BLOCK] &= _STATE_MASK
        return 0
    row = tbl_get_or_insert(state, state[H_T_ACC], account, 0)
    if row < 0:
        return -1
    state[row + AC_BLOCK] = (state[row + AC_BLOCK] & _STATE_MASK) | (group << GROUP_SHIFT)
    return 0


@njit(cache=True)
def block_group(state, shared, group, on):  # type: ignore[no-untyped-def]
    """Block (``on``) or unblock a group in this arena; 0 ok, -1 no space.

    A sharded engine blocks a group in every shard (its accounts are spread
    over all of them), so one group block counts once per shard in
    ``SH_N_BLOCKED``, and its unblock takes all of them back.
    """
    g = tbl_get_or_insert(state, state[H_T_GRP], group, 0)
    if g < 0:
        return -1
    was = state[g + G_BLOCKED] != 0
    if on and not was:
        _count_up(shared)
        state[g + G_BLOCKED] = 1
        state[H_N_BLOCKED_GRP] += 1
    elif not on and was:
        state[g + G_BLOCKED] = 0
        state[H_N_BLOCKED_GRP] -= 1
        _count_down(shared)
    return 0


@njit(cache=True)
def unblock_group(state, shared, group):  # type: ignore[no-untyped-def]
    return block_group(state, shared, group, False)


@njit(cache=True)
def engine_block(shared, kind):  # type: ignore[no-untyped-def]
    """Set the engine-wide block (the first cause wins) or clear it (``ENGINE_BLOCK_NONE``).

    Returns 1 when this call changed it, 0 when it was a repeat (already
    set, or already clear): only real transitions move ``SH_N_BLOCKED``.
    """
    if kind != ENGINE_BLOCK_NONE:
        if p_load_relaxed(shared, SH_ENGINE_BLOCK) != ENGINE_BLOCK_NONE:
            return 0
        _count_up(shared)  # before the block can be seen (and undone below if we lost)
        if p_cas(shared, SH_ENGINE_BLOCK, ENGINE_BLOCK_NONE, kind) == ENGINE_BLOCK_NONE:
            return 1
        _count_down(shared)
        return 0
    seen = p_load_relaxed(shared, SH_ENGINE_BLOCK)
    while seen != ENGINE_BLOCK_NONE:
        was = p_cas(shared, SH_ENGINE_BLOCK, seen, ENGINE_BLOCK_NONE)
        if was == seen:
            _count_down(shared)
            return 1
        seen = was
    return 0
