"""The asset and instrument registries as the arena stores them, and vectorized table reads.

Asset ids are dense and assigned on first use; the arena keeps each asset's
UTF-8 name (``layout.state``: ``H_N_ASSETS``, the ``AN_*`` directory) next to
the instrument rows (``I_*``), so a process attaching to an arena rebuilds
both registries from the arena alone. Writes go in crash-safe order: the
name's bytes, then its directory entry, then the count.

``table_rows`` lists every (key, row) of one of the arena's hash tables with
NumPy (a million-account table in well under a second), for rebuilding the
policies' account-keyed configuration from the rows.
"""

from __future__ import annotations

import numpy as np

from openpit_shm.layout import state as L

__all__ = ["name_words", "read_assets", "read_instruments", "table_rows", "write_name"]


def name_words(name: str) -> int:
    """Arena words a name's UTF-8 bytes take."""
    return (len(name.encode("utf-8")) + 7) // 8


def write_name(st: np.ndarray, aid: int, name: str, offset: int) -> None:
    """Store asset ``aid``'s name at ``offset`` (``name_words(name)`` words, bump-allocated)."""
    data = name.encode("utf-8")
    n = (len(data) + 7) // 8
    if n:
        st[offset : offset + n] = np.frombuffer(data.ljust(n * 8, b"\0"), dtype="<i8")
    entry = int(st[L.H_ANAME_BASE]) + aid * L.W_ANAME
    st[entry + L.AN_OFFSET] = offset
    st[entry + L.AN_BYTES] = len(data)
    st[L.H_N_ASSETS] = aid + 1  # last: a crash before this leaves the asset unregistered


def read_assets(st: np.ndarray) -> list[str]:
    """Asset names in id order."""
    base = int(st[L.H_ANAME_BASE])
    names = []
    for aid in range(int(st[L.H_N_ASSETS])):
        entry = base + aid * L.W_ANAME
        off, size = int(st[entry + L.AN_OFFSET]), int(st[entry + L.AN_BYTES])
        raw = st[off : off + (size + 7) // 8].tobytes()[:size]
        names.append(raw.decode("utf-8"))
    return names


def read_instruments(st: np.ndarray) -> list[tuple[int, int]]:
    """(underlying id, settlement id) of every registered instrument, in id order."""
    base = int(st[L.H_INSTR_BASE])
    rows = st[base : base + int(st[L.H_N_INSTR]) * L.W_INSTR].reshape(-1, L.W_INSTR)
    return [(int(u), int(s)) for u, s in rows[:, [L.I_UNDERLYING, L.I_SETTLEMENT]]]


def table_rows(st: np.ndarray, table_word: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key0, key1, row) arrays of every key in the table rooted at ``st[table_word]``.

    While the table migrates, keys live in two slot regions; each key's row is
    listed once. ``key1`` is 0 for one-word keys.
    """
    t = int(st[table_word])
    keyw = int(st[t + L.TB_KEYW])
    slotw = keyw + 1
    regions = [(int(st[t + L.TB_SLOTS]), int(st[t + L.TB_CAP]))]
    if int(st[t + L.TB_OLD_CAP]):
        regions.append((int(st[t + L.TB_OLD_SLOTS]), int(st[t + L.TB_OLD_CAP])))
    parts = []
    for base, cap in regions:
        slots = st[base : base + cap * slotw].reshape(cap, slotw)
        parts.append(slots[slots[:, keyw] != 0])
    live = np.concatenate(parts) if len(parts) > 1 else parts[0]
    _, first = np.unique(live[:, keyw], return_index=True)  # a row is one key
    live = live[np.sort(first)]
    k1 = live[:, 1] if keyw == 2 else np.zeros(live.shape[0], dtype=np.int64)
    return live[:, 0], k1, live[:, keyw]
