"""``configure()`` of a sharded engine: validate on the client's replica, then every shard.

The replica (the client's copy of the builtins' configuration, used for
texts) applies the change first, so a VALIDATION error is raised before any
shard changed; then every worker applies it between two batches. A shard
whose worker is down (or dies while applying it) gets it before its
restarted worker serves again (``ShardedEngine._control_everywhere``): all
shards or none, never a permanent disagreement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine.configure import Configurator

if TYPE_CHECKING:
    from .client import ShardedEngine

__all__ = ["sharded_configurator"]


class _ShardedConfigurator(Configurator):
    __slots__ = ()

    def _apply(self, name: str, kind: str, method: str, **settings: Any) -> None:
        entry = self._find(name, kind)
        engine: ShardedEngine = self._engine  # type: ignore[assignment]
        with engine._control_lock:
            engine._replica.configure(entry.index, method, **settings)
            engine._control_everywhere("configure", (entry.index, method, settings))


def sharded_configurator(engine: ShardedEngine) -> Configurator:
    c = object.__new__(_ShardedConfigurator)
    c._engine = engine
    return c
