"""The shape of the builtin registry: one :class:`BuiltinKind` row per builtin, and the table.

The rows themselves are in ``kinds`` (``KINDS``); this module holds only
their type, so the Book's arena code can read a table without importing
every builtin. Everything the package knows about a builtin comes from its
row:

============== ===================================================================
``name``       the kind name: ``BuiltinSpec.kind``, the builder hook's suffix
``kind_id``    the arena's id (``H_POLICY_INDEX + id``, the exec list) and the
               kernels' dispatch key; from the builtin's kernel module
``policy_name`` openpit's fixed registration name (``RateLimitPolicy``)
``policy_class`` the ``BuiltinPolicy`` subclass: install/restore/configure/describe
``parse_spec`` the hook's keyword arguments (without ``policy_group_id``) -> config
``settings_type`` openpit's settings type (``configure()``'s TYPE_MISMATCH text);
               None when the builtin has no runtime configuration
``configure``  ``Configurator`` methods: method name -> function(configurator, ...)
============== ===================================================================

The builder hook is ``_add_builtin_<name>`` (:attr:`BuiltinKind.hook`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpit_shm.layout.state import MAX_KINDS

__all__ = ["HOOK_PREFIX", "BuiltinKind", "BuiltinKinds", "builder_hooks", "configure_methods"]

#: openpit's builders call ``builder._add_builtin_<name>(**kwargs)``.
HOOK_PREFIX = "_add_builtin_"


@dataclass(frozen=True)
class BuiltinKind:
    """One builtin policy kind: the row every part of the package reads."""

    name: str
    kind_id: int
    policy_name: str
    policy_class: type
    parse_spec: Callable[..., dict[str, Any]]
    settings_type: str | None = None
    configure: Mapping[str, Callable[..., None]] = field(default_factory=dict)

    @property
    def hook(self) -> str:
        """The engine builder method openpit's builders call: ``_add_builtin_<name>``."""
        return HOOK_PREFIX + self.name


class BuiltinKinds:
    """The table of builtin kinds, checked: unique names, ids and methods; ids fit the arena."""

    def __init__(self, rows: Iterator[BuiltinKind] | list[BuiltinKind] | tuple[BuiltinKind, ...]):
        self._rows = tuple(rows)
        self._by_name = {row.name: row for row in self._rows}
        self._by_id = {row.kind_id: row for row in self._rows}
        self._methods = {m: row for row in self._rows for m in row.configure}
        if len(self._by_name) != len(self._rows):
            raise ValueError("two builtin kinds share a name")
        if len(self._by_id) != len(self._rows):
            raise ValueError("two builtin kinds share a kind id")
        if len(self._methods) != sum(len(row.configure) for row in self._rows):
            raise ValueError("two builtin kinds define the same configure() method")
        for row in self._rows:
            if not 0 <= row.kind_id < MAX_KINDS:
                raise ValueError(
                    f"builtin {row.name}: kind id {row.kind_id} is outside the arena's "
                    f"0..{MAX_KINDS - 1}"
                )

    def __iter__(self) -> Iterator[BuiltinKind]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def row(self, name: str) -> BuiltinKind:
        """The row of kind ``name`` (``KeyError`` if none)."""
        return self._by_name[name]

    def get(self, name: str) -> BuiltinKind | None:
        return self._by_name.get(name)

    def by_id(self, kind_id: int) -> BuiltinKind:
        """The row of arena kind id ``kind_id`` (``KeyError`` if none)."""
        return self._by_id[kind_id]

    def names(self) -> tuple[str, ...]:
        """Kind names, in table order."""
        return tuple(self._by_name)

    def policy_names(self) -> dict[str, str]:
        """Kind name -> openpit's fixed registration name."""
        return {row.name: row.policy_name for row in self._rows}

    def configure_methods(self) -> dict[str, tuple[BuiltinKind, Callable[..., None]]]:
        """``Configurator`` method name -> (its row, the function)."""
        return {m: (row, row.configure[m]) for m, row in self._methods.items()}

    def replaced(self, *rows: BuiltinKind, drop: tuple[str, ...] = ()) -> BuiltinKinds:
        """A copy without the kinds named in ``drop`` and with ``rows`` added (or replacing
        the rows of the same name)."""
        names = {row.name for row in rows} | set(drop)
        return BuiltinKinds([r for r in self._rows if r.name not in names] + list(rows))


def builder_hooks(table: BuiltinKinds, module: str = __name__) -> type:
    """A mixin with one ``_add_builtin_<name>(**kwargs)`` method per row of ``table``.

    Each calls ``self._add_builtin(name, **kwargs)`` (the engine builder's
    one hook), so an engine builder inheriting it accepts every builtin
    builder's ``_build(builder)``, openpit's own included.
    """

    def hook_for(kind: str) -> Callable[..., None]:
        def hook(self: Any, **params: Any) -> None:
            self._add_builtin(kind, **params)

        hook.__name__ = hook.__qualname__ = HOOK_PREFIX + kind
        return hook

    methods: dict[str, Any] = {row.hook: hook_for(row.name) for row in table}
    return type("BuiltinHooks", (), {"__slots__": (), "__module__": module, **methods})


def configure_methods(table: BuiltinKinds, owner: str) -> dict[str, Callable[..., None]]:
    """The ``configure()`` methods of every row, named as methods of class ``owner``."""
    methods = {}
    for method, (_, fn) in table.configure_methods().items():
        fn.__name__, fn.__qualname__ = method, f"{owner}.{method}"
        methods[method] = fn
    return methods
