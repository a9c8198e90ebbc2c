"""The two implementations side by side, and how a differential test compares one call on each.

``THEIRS`` is openpit 0.10 (the oracle), ``OURS`` openpit_shm; each is a
namespace with ``aa`` (account_adjustment), ``core``, ``param`` and
``pretrade``. A case is a function of one namespace; ``same(case)`` runs it on
both and compares what happened (the return value's type name and repr with
addresses masked, or the exception type and message).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from tests.param._support import outcome

pytest.importorskip("openpit")


def _side(root: str) -> SimpleNamespace:
    return SimpleNamespace(
        name=root,
        aa=importlib.import_module(f"{root}.account_adjustment"),
        core=importlib.import_module(f"{root}.core"),
        param=importlib.import_module(f"{root}.param"),
        pretrade=importlib.import_module(f"{root}.pretrade"),
        top=importlib.import_module(root),
    )


THEIRS = _side("openpit")
OURS = _side("openpit_shm")
SIDES = (THEIRS, OURS)

Case = Callable[[SimpleNamespace], Any]


def same(case: Case, compare: Callable[[Any], Any] | None = None) -> Any:
    """Run ``case`` on both sides; assert the outcomes match and return openpit's."""
    if compare is None:
        theirs = outcome(lambda: case(THEIRS))
        ours = outcome(lambda: case(OURS))
    else:
        theirs = _capture(lambda: compare(case(THEIRS)))
        ours = _capture(lambda: compare(case(OURS)))
    assert ours == theirs
    return theirs


def _capture(fn: Callable[[], Any]) -> Any:
    try:
        return ("return", fn())
    except Exception as exc:
        return ("raise", type(exc).__name__, str(exc))


def public_properties(obj: object) -> dict[str, str]:
    """``{name: repr(value)}`` for every public property of ``obj``'s class (addresses masked)."""
    names = sorted(
        {
            n
            for cls in type(obj).__mro__
            for n, v in vars(cls).items()
            if not n.startswith("_") and type(v).__name__ in ("property", "getset_descriptor")
        }
    )
    return {n: outcome(lambda n=n: getattr(obj, n)) for n in names}
