"""The package's import graph has no cycles and no arrow pointing up the layers.

The graph is built from the source with ``ast`` (nothing is imported), over
``openpit_shm/`` and ``kernels/`` (installed as ``openpit_shm.kernels``).

What counts as an arrow ``a -> b``:

* every ``import`` / ``from ... import`` in ``a``, at module level *and* inside
  function bodies: a function-level import is still a dependency, only a later one;
* except those under ``if TYPE_CHECKING:`` (annotations only, never executed);
* except a function-level import whose line (or the comment lines right above
  it) carries ``# lazy: <reason>``; the mark also covers the imports that
  directly follow it in the same block. That is allowed only where an import must wait: a module
  a spawned worker must not load before it has set itself up, or a Numba
  compile the caller must not pay for at import time. The reason is required.

``from p import name`` points at ``p.name`` when that is a module, else at
``p`` (the name comes from the package's ``__init__``). Importing ``p.q`` from
outside ``p`` also points at ``p``: Python runs ``p/__init__.py`` first, and
everything it imports. From inside ``p`` it does not (``p`` is already running).

Layers, top to bottom (an arrow may point to its own rank or lower; a cycle
within a rank is still a cycle). Ranks follow ``DESIGN.md`` section 2:
front doors > engine > policies > kernels > layout, with the openpit API
types (``pretrade``) under the builtin policies that use them, and the plain
value types (``param``, ``core``) and shared-memory handles (``shm``) under that:

====  ==========================================================================
rank  modules
====  ==========================================================================
 8    front doors and wiring: ``openpit_shm`` (``__init__``), ``__main__``,
      ``batch``, ``columns``, ``demo``, ``warmup``, ``stat``, ``hostinfo``
 7    ``sharded``: the engine over shard workers (it builds on ``engine``)
 6    ``engine``: builder, in-process engine, results, record door, accounts
 5    ``builtins``: builtin policy objects (own their state arrays, call kernels)
 4    ``pretrade``: openpit's pre-trade API (rejects, results, Policy, requests,
      reservations, builtin policy builders)
 3    ``core`` (Order, ExecutionReport), ``instrument``, ``account_adjustment``,
      ``adjustment_context``, ``reference_book``, ``param`` (values, ids),
      ``errors``, ``shm`` (segments and ring handles in Python)
 1    ``kernels`` (Numba: arrays in, codes out); ``layout.cheader``, which
      writes the C header from the layout *and* the kernels' reason codes
 0    ``layout``: record and segment descriptors
====  ==========================================================================

So kernels import only kernels and layout, and nothing below rank 4 knows the
engine exists.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "openpit_shm"
KERNELS = "openpit_shm.kernels"

#: Module-name prefix -> rank. The longest matching prefix wins.
RANKS: dict[str, int] = {
    "openpit_shm": 8,
    "openpit_shm.__main__": 8,
    "openpit_shm.batch": 8,
    "openpit_shm.columns": 8,
    "openpit_shm.demo": 8,
    "openpit_shm.warmup": 8,
    "openpit_shm.stat": 8,
    "openpit_shm.hostinfo": 8,
    "openpit_shm.sharded": 7,
    "openpit_shm.engine": 6,
    "openpit_shm.builtins": 5,
    "openpit_shm.pretrade": 4,
    "openpit_shm.core": 3,
    "openpit_shm.instrument": 3,
    "openpit_shm.account_adjustment": 3,
    "openpit_shm.adjustment_context": 3,
    "openpit_shm.reference_book": 3,
    "openpit_shm.marketdata": 3,
    "openpit_shm.param": 3,
    "openpit_shm.errors": 3,
    "openpit_shm.shm": 3,
    "openpit_shm.kernels": 1,
    "openpit_shm.layout.cheader": 1,
    "openpit_shm.layout": 0,
    "openpit_shm.include": 0,
}

@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    path: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = "in a function" if self.in_function else "module level"
        return f"{self.source} -> {self.target}  ({self.path}:{self.line}, {where})"


@dataclass(frozen=True)
class LazyMark:
    path: str
    line: int
    reason: str
    in_function: bool


def _module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top, name in ((ROOT / "openpit_shm", PACKAGE), (ROOT / "kernels", KERNELS)):
        for path in sorted(top.rglob("*.py")):
            parts = list(path.relative_to(top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([name, *parts])] = path
    return found


MODULES = _module_files()


def _is_type_checking(test: ast.expr) -> bool:
    text = ast.unparse(test)
    return text in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _lazy_reason(lines: list[str], node: ast.stmt) -> str | None:
    """The ``# lazy: <reason>`` on the import's lines or the comment lines above, if any."""
    first = node.lineno - 1
    last = (node.end_lineno or node.lineno) - 1
    above = first - 1
    while above >= 0 and lines[above].strip().startswith("#"):
        above -= 1
    for i in range(above + 1, last + 1):
        _, marker, reason = lines[i].partition("# lazy:")
        if marker:
            return reason.strip()
    return None


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules ``node`` imports (the longest existing module of each name)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[: len(base) - (node.level - 1)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        for alias in node.names:
            candidate = f"{origin}.{alias.name}"
            names.append(candidate if candidate in MODULES else origin)
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        # The packages Python runs on the way to ``name`` (the root always runs already).
        parent = name.rpartition(".")[0]
        while parent and parent != PACKAGE:
            if not (module + ".").startswith(parent + ".") and parent not in out:
                out.append(parent)
            parent = parent.rpartition(".")[0]
        if name and name != module and name not in out:
            out.append(name)
    return out


def _scan_module(module: str, path: Path) -> tuple[list[Arrow], list[LazyMark]]:
    arrows: list[Arrow] = []
    marks: list[LazyMark] = []
    source = path.read_text()
    lines = source.splitlines()
    rel = str(path.relative_to(ROOT))
    is_package = path.name == "__init__.py"

    def walk(body: list[ast.stmt], in_function: bool) -> None:
        group: str | None = None  # the lazy mark of the run of imports ``node`` continues
        for node in body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                group = None
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                walk(node.orelse, in_function)
                continue
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                reason = _lazy_reason(lines, node)
                reason = group = reason if reason is not None else group
                if reason is not None:
                    marks.append(LazyMark(rel, node.lineno, reason, in_function))
                    if in_function:
                        continue
                for target in _targets(module, is_package, node):
                    arrows.append(Arrow(module, target, rel, node.lineno, in_function))
                continue
            inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for field in ("body", "orelse", "finalbody"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    walk([c for c in children if isinstance(c, ast.stmt)], inner)
            for handler in getattr(node, "handlers", None) or ():
                walk(handler.body, inner)
            if isinstance(node, ast.Match):
                for case in node.cases:
                    walk(case.body, inner)

    walk(ast.parse(source, rel).body, False)
    return arrows, marks


def _scan() -> tuple[list[Arrow], list[LazyMark]]:
    arrows: list[Arrow] = []
    marks: list[LazyMark] = []
    for module, path in MODULES.items():
        found, marked = _scan_module(module, path)
        arrows += found
        marks += marked
    return arrows, marks


ARROWS, LAZY_MARKS = _scan()


def rank_of(module: str) -> int:
    best = ""
    for prefix in RANKS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise KeyError(module)
    return RANKS[best]


def _cycles(arrows: list[Arrow]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a in arrows:
        graph[a.source].add(a.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _describe_cycles(arrows: list[Arrow]) -> str:
    lines = []
    for component in _cycles(arrows):
        members = set(component)
        lines.append("cycle: " + ", ".join(component))
        lines += [f"    {a}" for a in arrows if a.source in members and a.target in members]
    return "\n".join(lines)


def test_the_scan_sees_the_package() -> None:
    """Guards the scan itself: it finds both trees and the arrows everyone knows exist."""
    assert "openpit_shm.engine.engine" in MODULES
    assert "openpit_shm.kernels.codes" in MODULES
    pairs = {(a.source, a.target) for a in ARROWS}
    assert ("openpit_shm.engine.engine", "openpit_shm.pretrade.results") in pairs
    assert ("openpit_shm.kernels.ring", "openpit_shm.layout.ring") in pairs


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in MODULES:
        try:
            rank_of(module)
        except KeyError:
            missing.append(module)
    assert not missing, f"give these modules a rank in RANKS: {missing}"


def test_no_import_cycles() -> None:
    report = _describe_cycles(ARROWS)
    assert not report, "import cycles:\n" + report


def test_no_arrow_points_up_the_layers() -> None:
    upward = [
        f"{a}  [rank {rank_of(a.source)} -> {rank_of(a.target)}]"
        for a in ARROWS
        if rank_of(a.target) > rank_of(a.source)
    ]
    assert not upward, "imports pointing up the layers:\n" + "\n".join(upward)


def test_lazy_imports_say_why_and_sit_in_functions() -> None:
    bad = [
        f"{m.path}:{m.line}"
        + (" (empty reason)" if not m.reason else "")
        + ("" if m.in_function else " (module level: a lazy mark only exempts function imports)")
        for m in LAZY_MARKS
        if not m.reason or not m.in_function
    ]
    assert not bad, "bad '# lazy:' marks:\n" + "\n".join(bad)
