"""layout.shard: Python, Numba and the C header route every account to the same shard."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openpit_shm.layout.shard import shard_of, shard_of_array, shard_of_nb

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
