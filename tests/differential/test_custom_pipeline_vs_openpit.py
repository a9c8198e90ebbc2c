"""openpit_shm and openpit decide identically through custom policies and order validation."""

from __future__ import annotations

import openpit
import pytest

import openpit_shm
from tests.differential.custom_policies import build_custom_engine
from tests.differential.scripted import make_ops, replay


@pytest.mark.parametrize("seed", range(6))
def test_should_match_openpit_on_random_streams_through_custom_policies(seed: int) -> None:
    ops = make_ops(seed, 1500)
    expected = replay(openpit, ops, build_custom_engine)
    actual = replay(openpit_shm, ops, build_custom_engine)
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert got == want, f"op {i} {ops[i]!r}"


def test_should_exercise_every_outcome_kind_in_the_streams() -> None:
    # Guards the generator: a stream that never rejects or raises proves little.
    seen = replay(openpit_shm, make_ops(0, 1500), build_custom_engine)
    kinds = {obs[0] for obs in seen}
    assert {"ok", "reject", "start reject", "main reject", "post", "dry", "raised"} <= kinds
    assert any(obs[0] == "post" and obs[1] for obs in seen), "no post-trade block happened"
