"""The shard function: which worker owns an account.

::

    shard_of(account, n_shards) = ((account * 0x9E3779B97F4A7C15 mod 2**64) >> 32) % n_shards

Fibonacci hashing: multiply the u64 account id by 2**64 / golden ratio
(wrapping), keep bits 32..63 (the well-mixed high half), then reduce modulo
the shard count. Consecutive account ids spread evenly, and the function is
cheap in every language. ``account`` is the u64 ``AccountId.value``; its int64
bit pattern (negative for values >= 2**63, as records carry it) gives the same
shard. The same function is ``shard_of_nb`` (Numba) and ``opshm_shard_of`` in
the generated C header; ``tests/transport/test_shard.py`` checks all three
agree, so a C producer routes exactly as Python does.

A record goes to its account's shard, except ``MSG_EXECUTE``, ``MSG_COMMIT``
and ``MSG_ROLLBACK``: they carry a handle instead of an account, and go to
the shard the handle names (``layout.handles``). ``record_shard_nb`` (and
``opshm_record_shard`` in C) routes both; a handle naming no shard of this
engine goes to shard 0, which refuses it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .handles import handle_shard_nb
from .records import MSG_COMMIT, MSG_EXECUTE, MSG_FILL, MSG_ROLLBACK

__all__ = [
    "SHARD_HASH_MULTIPLIER",
    "record_shard_nb",
    "shard_of",
    "shard_of_array",
    "shard_of_nb",
]

#: 2**64 / golden ratio, odd.
SHARD_HASH_MULTIPLIER = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def shard_of(account: int, n_shards: int) -> int:
    """The shard (``0 <= shard < n_shards``) that owns ``account`` (a u64, or its int64 pattern)."""
    if n_shards <= 0:
        raise ValueError(f"n_shards must be positive, got {n_shards}")
    return ((((account & _U64) * SHARD_HASH_MULTIPLIER) & _U64) >> 32) % n_shards


@njit(cache=True)
def shard_of_nb(account, n_shards):  # type: ignore[no-untyped-def]
    """``shard_of`` for Numba kernels (``account`` as int64 or uint64; ``n_shards > 0``)."""
    # All-uint64 arithmetic: mixing int64 and uint64 in Numba promotes to float64.
    h = (np.uint64(account) * np.uint64(SHARD_HASH_MULTIPLIER)) >> np.uint64(32)
    return np.int64(h % np.uint64(n_shards))


@njit(cache=True)
def shard_of_array(accounts, n_shards, out):  # type: ignore[no-untyped-def]
    """``out[i] = shard_of(accounts[i], n_shards)`` for an int64/uint64 array."""
    for i in range(accounts.shape[0]):
        out[i] = shard_of_nb(accounts[i], n_shards)


@njit(cache=True)
def record_shard_nb(account, kind, ref, n_shards):  # type: ignore[no-untyped-def]
    """The shard a record goes to: its handle's for a finalization, else its account's.

    ``kind`` is the record's message byte, ``ref`` its handle word. Callable
    from Python too (``ref`` as a Python int in int64 range).
    """
    if kind in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK, MSG_FILL):
        named = handle_shard_nb(ref)
        return named if named < n_shards else 0
    return shard_of_nb(account, n_shards)
