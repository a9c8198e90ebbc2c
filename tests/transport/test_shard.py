"""layout.shard: Python, Numba and the C header route every record to the same shard."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openpit_shm.layout.handles import (
    handle_client,
    handle_generation,
    handle_index,
    handle_shard,
    make_handle,
)
from openpit_shm.layout.records import (
    MSG_COMMIT,
    MSG_EXECUTE,
    MSG_ORDER,
    MSG_REPORT,
    MSG_ROLLBACK,
    MSG_START,
)
from openpit_shm.layout.shard import record_shard_nb, shard_of, shard_of_array, shard_of_nb

_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include "openpit_shm.h"
int main(int argc, char **argv) {
    (void)argc;
    uint32_t n = (uint32_t)atoi(argv[1]);
    unsigned long long a;
    while (scanf("%llu", &a) == 1) printf("%u\n", opshm_shard_of((uint64_t)a, n));
    return 0;
}
"""

ACCOUNTS = [0, 1, 2, 3, 255, 256, 65535, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1]
ACCOUNTS += [int(x) for x in np.random.default_rng(7).integers(0, 2**63, 2000, dtype=np.int64)]


@pytest.mark.parametrize("n_shards", [1, 2, 3, 7, 16, 1000])
def test_should_agree_in_python_numba_and_c(c_build, n_shards):
    exe = c_build("shard", _C)
    res = subprocess.run([exe, str(n_shards)], input="\n".join(map(str, ACCOUNTS)),
                         capture_output=True, text=True, check=True)  # fmt: skip
    c = [int(x) for x in res.stdout.split()]
    py = [shard_of(a, n_shards) for a in ACCOUNTS]
    nb = [int(shard_of_nb(np.uint64(a), n_shards)) for a in ACCOUNTS]
    as_i64 = np.array(ACCOUNTS, dtype=np.uint64).view(np.int64)
    out = np.empty(len(ACCOUNTS), np.int64)
    shard_of_array(as_i64, n_shards, out)
    assert py == c == nb == out.tolist()


@given(st.integers(0, 2**64 - 1), st.integers(1, 4096))
def test_should_treat_the_int64_pattern_like_the_u64_value(account, n):
    signed = account - 2**64 if account >= 2**63 else account
    assert shard_of(signed, n) == shard_of(account, n) == int(shard_of_nb(np.int64(signed), n))
    assert 0 <= shard_of(account, n) < n


def test_should_spread_consecutive_accounts_evenly():
    counts = np.bincount([shard_of(a, 8) for a in range(80_000)], minlength=8)
    assert counts.min() > 0.9 * 10_000 and counts.max() < 1.1 * 10_000


def test_should_refuse_zero_shards():
    with pytest.raises(ValueError):
        shard_of(1, 0)


# ---- records: a finalization goes to the shard its handle names ----------------------------

_C_RECORDS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "openpit_shm.h"
int main(int argc, char **argv) {
    (void)argc;
    uint32_t n = (uint32_t)atoi(argv[1]);
    unsigned long long account;
    long long ref;
    int kind;
    opshm_order o;
    memset(&o, 0, sizeof o);
    while (scanf("%llu %d %lld", &account, &kind, &ref) == 3) {
        o.account = (uint64_t)account;
        o.kind = (uint8_t)kind;
        o.ref = (int64_t)ref;
        printf("%u\n", opshm_record_shard(&o, n));
    }
    return 0;
}
"""

_KINDS = (MSG_ORDER, MSG_START, MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK, MSG_REPORT, 0, 200)


def _record_cases() -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(9)
    refs = [0, -1, 1, 2**63 - 1, -(2**63)]
    refs += [make_handle(s, c, 5, 77) for s in (0, 1, 6, 63) for c in (0, 1, 31)]
    refs += [int(x) for x in rng.integers(-(2**63), 2**63 - 1, 200, dtype=np.int64)]
    return [(a, k, r) for a in ACCOUNTS[:20] for k in _KINDS for r in refs[:: 1 + a % 7]]


@pytest.mark.parametrize("n_shards", [1, 2, 7, 64])
def test_should_route_finalizations_by_handle_in_numba_and_c(c_build, n_shards):
    cases = _record_cases()
    exe = c_build("record_shard", _C_RECORDS)
    lines = "\n".join(f"{a} {k} {r}" for a, k, r in cases)
    res = subprocess.run([exe, str(n_shards)], input=lines, capture_output=True, text=True,
                         check=True)  # fmt: skip
    c = [int(x) for x in res.stdout.split()]
    nb = [int(record_shard_nb(np.uint64(a), k, r, n_shards)) for a, k, r in cases]
    want = [
        (handle_shard(r) if handle_shard(r) < n_shards else 0)
        if k in (MSG_EXECUTE, MSG_COMMIT, MSG_ROLLBACK)
        else shard_of(a, n_shards)
        for a, k, r in cases
    ]
    assert c == nb == want


@given(st.integers(0, 63), st.integers(0, 31), st.integers(0, 2**24 - 1), st.integers(0, 2**28 - 1))
def test_should_pack_and_unpack_every_handle_field(shard, client, generation, index):
    h = make_handle(shard, client, generation, index)
    assert h >= 0 and (h > 0 or (shard, client, generation, index) == (0, 0, 0, 0))
    got = (handle_shard(h), handle_client(h), handle_generation(h), handle_index(h))
    assert got == (shard, client, generation, index)
