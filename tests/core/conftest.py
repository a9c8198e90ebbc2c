"""Fixtures for the core tests."""

from __future__ import annotations

import pytest

import openpit_shm.pretrade as pretrade


@pytest.fixture
def lock_cls() -> type:
    """``openpit_shm.pretrade.Lock``, the type fill details require."""
    return pretrade.Lock
