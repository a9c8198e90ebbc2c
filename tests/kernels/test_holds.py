"""Hold lifecycle at kernel level: take, commit, rollback, fill, final fill; exactly once.

No builtin holds yet, so a small kernel here takes holds the way a main stage
would (``propose_leg`` + ``holds_take`` on a fresh slot); every finalization
then goes through the one finalization kernel (``Book.finalize``, the same
``finalize_core`` the batch door and the shard workers run).
"""

from __future__ import annotations

import random

import numpy as np
from numba import njit

from openpit_shm.builtins.book import Book
from openpit_shm.builtins.specs import make_spec
from openpit_shm.kernels.arena import arena_alloc
from openpit_shm.kernels.dispatch import KIND_MODULES
from openpit_shm.kernels.fixed import mul_div
from openpit_shm.kernels.holds import holds_fill, holds_take, propose_fill_delta, propose_leg
from openpit_shm.kernels.ptr import as_ptr
from openpit_shm.kernels.redo import redo_put, redo_recover
from openpit_shm.kernels.reservations import res_alloc, res_lookup
from openpit_shm.layout import state as L
from openpit_shm.layout.records import (
    FILL_FINAL,
    MSG_COMMIT,
    MSG_FILL,
    MSG_ROLLBACK,
    RESULT_DTYPE,
    STATUS_ERROR,
    STATUS_OK,
)
from openpit_shm.layout.view import (
    HOLD_BASIS_NOTIONAL,
    HOLD_BASIS_QUANTITY,
    V_FILL_QTY,
    V_FLAGS,
    V_LOCK_PRICE,
    V_N_LEGS,
    VIEW_WORDS,
)

S8 = 10**8


@njit(cache=False)
def _counters(state_arr, n):  # type: ignore[no-untyped-def]
    return arena_alloc(as_ptr(state_arr), n)


@njit(cache=False)
def _take(state_arr, ats, amounts, bases, lock):  # type: ignore[no-untyped-def]
    st = as_ptr(state_arr)
    h = res_alloc(st, 1, L.RES_RESERVED, 0)
    s = res_lookup(st, h, L.RES_RESERVED, 0)
    view = np.zeros(VIEW_WORDS, dtype=np.int64)
    v = as_ptr(view)
    v[V_LOCK_PRICE] = lock
    for i in range(ats.shape[0]):
        propose_leg(v, 0, ats[i], amounts[i], bases[i])
    holds_take(st, v, s)
    return h


@njit(cache=False)
def _crash_mid_transition(state_arr, word, value):  # type: ignore[no-untyped-def]
    """A writer that published a one-entry transition and died before applying it."""
    st = as_ptr(state_arr)
    redo_put(st, 0, word, value)
    st[L.H_REDO_N] = 1


@njit(cache=False)
def _recover(state_arr):  # type: ignore[no-untyped-def]
    return redo_recover(as_ptr(state_arr))


def _book() -> Book:
    return Book.create([(0, make_spec("order_validation"))], n_policies=1)


def _final(book: Book, out: np.ndarray, h: int, kind: int, **kw: int) -> tuple[int, int]:
    book.finalize(out, h, kind, **kw)
    return int(out[0]["status"]), int(out[0]["reservation"])


def test_should_follow_every_hold_through_a_seeded_random_lifecycle() -> None:
    rng = random.Random(10)
    book = _book()
    out = np.zeros(4, dtype=RESULT_DTYPE)
    base = _counters(book.state, 3)
    assert base > 0
    model = [0, 0, 0]
    live: dict[int, dict] = {}  # handle -> {"legs": [[at, left, basis]], "held": bool}
    done: list[int] = []
    for _ in range(600):
        op = rng.random()
        if op < 0.3 or not live:
            n = rng.randint(1, 3)
            legs = [[rng.randrange(3), rng.randint(1, 50) * S8, rng.choice(
                (HOLD_BASIS_QUANTITY, HOLD_BASIS_NOTIONAL))] for _ in range(n)]
            lock = rng.randint(1, 5) * S8
            h = _take(book.state, np.array([base + a for a, _, _ in legs], dtype=np.int64),
                      np.array([x for _, x, _ in legs], dtype=np.int64),
                      np.array([b for _, _, b in legs], dtype=np.int64), lock)
            for a, x, _ in legs:
                model[a] += x
            live[h] = {"legs": legs, "held": False, "lock": lock}
        elif op < 0.4 and done:  # a finalized handle is refused, whatever the call
            h = rng.choice(done)
            kind = rng.choice((MSG_COMMIT, MSG_ROLLBACK, MSG_FILL))
            assert _final(book, out, h, kind, qty=S8)[0] == STATUS_ERROR
        else:
            h = rng.choice(list(live))
            r = live[h]
            if not r["held"]:
                if rng.random() < 0.5:
                    assert _final(book, out, h, MSG_COMMIT) == (STATUS_OK, h)
                    r["held"] = True
                    # committing twice is refused, and changes nothing
                    assert _final(book, out, h, MSG_COMMIT)[0] == STATUS_ERROR
                else:
                    assert _final(book, out, h, MSG_ROLLBACK) == (STATUS_OK, 0)
                    for a, left, _ in r["legs"]:
                        model[a] -= left
                    del live[h]
                    done.append(h)
            else:
                qty = rng.randint(0, 20) * S8
                final = rng.random() < 0.3
                status, kept = _final(book, out, h, MSG_FILL, qty=qty,
                                      flags=FILL_FINAL if final else 0)
                assert status == STATUS_OK
                for leg in r["legs"]:
                    a, left, basis = leg
                    used = qty if basis == HOLD_BASIS_QUANTITY else qty * r["lock"] // S8
                    used = left if final else min(left, used)
                    model[a] -= used
                    leg[1] = left - used
                if final:
                    assert kept == 0
                    del live[h]
                    done.append(h)
                else:
                    assert kept == h
        assert [int(book.state[base + k]) for k in range(3)] == model
    assert int(book.state[L.H_RES_LIVE]) == len(live)


def test_should_finish_a_transition_a_dead_writer_published_exactly_once() -> None:
    book = _book()
    base = _counters(book.state, 1)
    restarted = book.state.copy()  # the arena as a restarted worker re-attaches it
    _crash_mid_transition(restarted, base, 7 * S8)
    assert _recover(restarted) == 1 and int(restarted[base]) == 7 * S8
    assert _recover(restarted) == 0 and int(restarted[L.H_REDO_N]) == 0


def test_should_release_holds_of_a_restarted_arena_once() -> None:
    book = _book()
    out = np.zeros(4, dtype=RESULT_DTYPE)
    base = _counters(book.state, 1)
    h = _take(book.state, np.array([base], dtype=np.int64), np.array([5 * S8], dtype=np.int64),
              np.array([HOLD_BASIS_QUANTITY], dtype=np.int64), S8)
    assert int(book.state[base]) == 5 * S8
    book.state = book.state.copy()  # a restart: the same words, a new mapping
    book._refresh()
    assert _final(book, out, h, MSG_ROLLBACK) == (STATUS_OK, 0)
    assert _final(book, out, h, MSG_ROLLBACK)[0] == STATUS_ERROR
    assert int(book.state[base]) == 0


@njit(cache=False)
def _spot_like_fill(state_arr, view_arr, h, balance_word, qty, price, final):  # type: ignore[no-untyped-def]
    """What a Spot-Funds ``fill`` hook does, then the generic reconcile (as ``finalize_core``).

    The hold was taken at the lock price; the fill consumed ``qty * price`` of the
    balance (the hook's delta), and the leg gives up ``qty * lock``: the difference
    (price improvement) is released.
    """
    st = as_ptr(state_arr)
    v = as_ptr(view_arr)
    s = res_lookup(st, h, L.RES_HELD, 0)
    v[V_N_LEGS] = 0
    v[V_FILL_QTY] = qty
    v[V_FLAGS] = FILL_FINAL if final else 0
    consumed, _ = mul_div(qty, price, 10**8)
    propose_fill_delta(v, 0, balance_word, -consumed)
    return holds_fill(st, v, s)


def test_should_split_each_fill_into_consumed_at_its_price_and_released_improvement() -> None:
    rng = random.Random(11)
    book = _book()
    out = np.zeros(4, dtype=RESULT_DTYPE)
    base = _counters(book.state, 2)
    held, balance = base, base + 1
    for _ in range(40):
        book.state[balance] = 1_000_000 * S8
        lock = rng.randint(50, 100) * S8
        qty0 = rng.randint(1, 30)
        h = _take(book.state, np.array([held], dtype=np.int64),
                  np.array([qty0 * lock], dtype=np.int64),
                  np.array([HOLD_BASIS_NOTIONAL], dtype=np.int64), lock)
        assert _final(book, out, h, MSG_COMMIT) == (STATUS_OK, h)
        spent, left, view = 0, qty0, np.zeros(VIEW_WORDS, dtype=np.int64)
        while True:
            q = rng.randint(0, left)
            price = rng.randint(1, lock // S8) * S8  # at or better than the lock price
            final = q == left or rng.random() < 0.2
            assert _spot_like_fill(book.state, view, h, balance, q * S8, price, final) == final
            spent += q * price
            left -= q
            assert int(book.state[balance]) == 1_000_000 * S8 - spent
            if final:
                break
            assert int(book.state[held]) == left * lock  # released: q * (lock - price) each
        assert int(book.state[held]) == 0  # the final fill released the remainder
        assert _final(book, out, h, MSG_FILL, qty=S8)[0] == STATUS_ERROR  # retired, once


def test_should_give_every_builtin_kind_a_fill_hook_that_lets_the_fill_through() -> None:
    book = _book()
    out = np.zeros(4, dtype=RESULT_DTYPE)
    base = _counters(book.state, 1)
    for kind in range(len(KIND_MODULES)):
        h = _take_kind(book.state, base, kind)
        assert _final(book, out, h, MSG_COMMIT) == (STATUS_OK, h)
        assert _final(book, out, h, MSG_FILL, qty=S8, flags=FILL_FINAL) == (STATUS_OK, 0)
    assert int(book.state[base]) == 0


@njit(cache=False)
def _take_kind(state_arr, at, kind):  # type: ignore[no-untyped-def]
    st = as_ptr(state_arr)
    h = res_alloc(st, 1, L.RES_RESERVED, 0)
    s = res_lookup(st, h, L.RES_RESERVED, 0)
    view = np.zeros(VIEW_WORDS, dtype=np.int64)
    v = as_ptr(view)
    propose_leg(v, kind, at, 3 * S8, HOLD_BASIS_QUANTITY)
    holds_take(st, v, s)
    return h
