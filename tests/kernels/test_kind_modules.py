"""Builtin kinds come from one place: ``kernels.dispatch.KIND_MODULES``.

A new builtin's kernel module defines ``KIND`` and the lifecycle (``dispatch.LIFECYCLE``)
and is listed in ``KIND_MODULES`` with a branch in each ``*_kind`` dispatcher; the C
header, the entry catalogue and the arena header need no edit. These tests hold that.
"""

from __future__ import annotations

import ast
import inspect

from openpit_shm.kernels import dispatch
from openpit_shm.kernels.dispatch import KIND_MODULES, LIFECYCLE
from openpit_shm.layout import cheader
from openpit_shm.layout import state as L


def _short(module: object) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def test_should_give_every_kind_module_a_distinct_kind_and_the_whole_lifecycle() -> None:
    kinds = [m.KIND for m in KIND_MODULES]
    assert len(set(kinds)) == len(kinds) and len(kinds) <= L.MAX_KINDS
    assert all(isinstance(k, int) and 0 <= k < L.MAX_KINDS for k in kinds)
    for module in KIND_MODULES:
        for name in LIFECYCLE:
            assert callable(getattr(module, name, None)), f"{_short(module)}.{name} is missing"


def test_should_dispatch_every_lifecycle_call_of_every_kind() -> None:
    tree = ast.parse(inspect.getsource(dispatch))
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    for stage in LIFECYCLE:
        fn = functions[f"{stage}_kind"]
        branches = {  # ``if kind == <module>.KIND``
            (n.comparators[0].attr, n.comparators[0].value.id)
            for n in ast.walk(fn)
            if isinstance(n, ast.Compare) and isinstance(n.comparators[0], ast.Attribute)
        }
        called = {
            (c.func.value.id, c.func.attr)
            for c in ast.walk(fn)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
        }
        for module in KIND_MODULES:
            assert ("KIND", _short(module)) in branches, f"{stage}_kind: no branch for {module}"
            assert (_short(module), stage) in called, f"{stage}_kind never calls {module}.{stage}"


def test_should_keep_the_c_header_free_of_per_kind_lines() -> None:
    """Adding a builtin must not change the shipped header (the recipe's five files)."""
    text = cheader.generate()
    for module in KIND_MODULES:
        assert f"OPSHM_KIND_{_short(module).upper()}" not in text
    assert f"#define OPSHM_MAX_KINDS {L.MAX_KINDS}\n" in text


def test_should_keep_the_first_builtins_python_names_equal_to_their_kernel_kinds() -> None:
    for module in KIND_MODULES:
        legacy = getattr(L, f"KIND_{_short(module).upper()}", None)
        assert legacy is None or legacy == module.KIND
