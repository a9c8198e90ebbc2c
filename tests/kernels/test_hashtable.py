"""Open-addressing tables in the arena: lookups, incremental growth, capacity, space checks."""

from __future__ import annotations

import numpy as np

from openpit_shm.kernels.hashtable import MIGRATE_STEP
from openpit_shm.layout.state import (
    H_RETIRED,
    H_SCRAP,
    H_SCRAP_END,
    H_TOP,
    TB_CAP,
    TB_COUNT,
    TB_OLD_CAP,
    W_ACC,
)

from ._support import bare_arena, find_all, insert_all, new_table


def _keys(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.unique(rng.integers(-(2**63), 2**63 - 1, n + n // 10, dtype=np.int64))[:n]


def test_should_find_every_key_inserted_across_many_growths() -> None:
    st = bare_arena(1 << 22)
    t = new_table(st, 1, 16, 4)
    keys = _keys(50_000)
    zeros = np.zeros_like(keys)
    steps = np.zeros_like(keys)
    assert insert_all(st, t, keys, zeros, steps) == -1
    rows = np.zeros_like(keys)
    find_all(st, t, keys, zeros, rows)
    assert (rows > 0).all()
    assert (st[rows] == keys).all()  # every key maps to its own row
    assert st[t + TB_COUNT] == keys.size
    assert st[t + TB_CAP] >= keys.size * 4 // 3


def test_should_not_find_keys_never_inserted() -> None:
    st = bare_arena(1 << 20)
    t = new_table(st, 1, 16, 4)
    keys = _keys(2000)
    insert_all(st, t, keys[:1000], np.zeros(1000, np.int64), np.zeros(1000, np.int64))
    rows = np.zeros(1000, np.int64)
    find_all(st, t, keys[1000:], np.zeros(1000, np.int64), rows)
    assert (rows == 0).all()


def test_should_grow_incrementally_with_a_bounded_pause_per_insert() -> None:
    st = bare_arena(1 << 22)
    t = new_table(st, 1, 16, 4)
    keys = _keys(20_000)
    steps = np.zeros_like(keys)
    insert_all(st, t, keys, np.zeros_like(keys), steps)
    # no insert migrates more than MIGRATE_STEP old slots (no stop-the-world rehash)
    assert steps.max() <= MIGRATE_STEP
    assert steps.sum() > 0  # and migration did happen


def test_should_find_keys_still_in_the_old_region_during_migration() -> None:
    st = bare_arena(1 << 20)
    t = new_table(st, 1, 64, 4)
    keys = _keys(49)  # 48 fit under the 3/4 load of 64 slots; the 49th starts a migration
    insert_all(st, t, keys, np.zeros_like(keys), np.zeros_like(keys))
    assert st[t + TB_OLD_CAP] == 64  # still migrating: 8 of 64 old slots moved
    rows = np.zeros_like(keys)
    find_all(st, t, keys, np.zeros_like(keys), rows)
    assert (rows > 0).all() and (st[rows] == keys).all()


def test_should_keep_pair_keys_distinct_from_their_mirror() -> None:
    st = bare_arena(1 << 20)
    t = new_table(st, 2, 16, 4)
    a = np.array([1, 2, 7, -5], dtype=np.int64)
    b = np.array([2, 1, 7, 3], dtype=np.int64)
    insert_all(st, t, a, b, np.zeros(4, np.int64))
    rows = np.zeros(4, np.int64)
    find_all(st, t, a, b, rows)
    assert len(set(rows.tolist())) == 4
    find_all(st, t, b[:2], a[:2], rows[:2])  # (2,1) and (1,2) are each other's mirrors
    assert rows[0] != rows[1]
    missing = np.zeros(1, np.int64)
    find_all(st, t, np.array([3], np.int64), np.array([-5], np.int64), missing)
    assert missing[0] == 0


def test_should_fit_one_million_accounts_in_a_small_footprint() -> None:
    st = bare_arena(1 << 27)
    t = new_table(st, 1, 1024, W_ACC)
    keys = _keys(1_000_000, seed=7)
    zeros = np.zeros_like(keys)
    assert insert_all(st, t, keys, zeros, np.zeros_like(keys)) == -1
    rows = np.zeros_like(keys)
    find_all(st, t, keys, zeros, rows)
    assert (rows > 0).all()
    used = (int(st[H_TOP]) - (int(st[H_SCRAP_END]) - int(st[H_SCRAP]))) * 8
    per_account = used / keys.size
    # the row itself plus table slots (16 bytes each at a load of 3/8..3/4)
    assert per_account < W_ACC * 8 + 64, per_account
    assert st[H_RETIRED] * 8 / keys.size < 16  # retired regions are mostly reused as scrap


def test_should_refuse_an_insert_without_space_and_change_nothing() -> None:
    st = bare_arena(4096)
    t = new_table(st, 1, 16, 64)
    keys = np.arange(1, 200, dtype=np.int64)
    failed = insert_all(st, t, keys, np.zeros_like(keys), np.zeros_like(keys))
    assert failed > 0
    count = int(st[t + TB_COUNT])
    rows = np.zeros(failed, np.int64)
    find_all(st, t, keys[:failed], np.zeros(failed, np.int64), rows)
    assert (rows > 0).all() and count == failed
    missing = np.zeros(1, np.int64)
    find_all(st, t, keys[failed : failed + 1], np.zeros(1, np.int64), missing)
    assert missing[0] == 0
