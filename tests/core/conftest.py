"""Fixtures for the core tests."""

from __future__ import annotations

import importlib

import pytest

import openpit_shm.pretrade as pretrade


@pytest.fixture
def lock_cls(monkeypatch: pytest.MonkeyPatch) -> type:
    """``openpit_shm.pretrade.Lock``, the type fill details require.

    Until the pretrade package exports it, the class from ``pretrade.lock`` is
    exposed under that name for the duration of the test; without either the
    test is skipped.
    """
    if hasattr(pretrade, "Lock"):
        return pretrade.Lock
    try:
        module = importlib.import_module("openpit_shm.pretrade.lock")
    except ImportError:
        pytest.skip("openpit_shm.pretrade.Lock is not available yet")
    monkeypatch.setattr(pretrade, "Lock", module.Lock, raising=False)
    return module.Lock
