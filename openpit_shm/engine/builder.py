"""The three-stage engine builder: sync mode, then policies, then build().

``Engine.builder()`` -> ``EngineBuilder`` -> ``no_sync()|full_sync()|account_sync()``
-> ``SyncedEngineBuilder`` -> ``pre_trade(policy)|builtin(builder)`` ->
``ReadyEngineBuilder`` (chainable) -> ``build()`` (single use).

openpit_shm extensions, available on every stage before ``build()``:
``with_clock(fn)`` injects the nanosecond clock the rate limit reads, and
``with_fixed_point_scale(n)`` sets the decimal scale of kernel state. After
``account_sync()``, ``sharded(workers=N, ...)`` makes ``build()`` return a
``ShardedEngine`` (``openpit_shm.sharded``): the same policies, each account
decided by one of N worker processes over shared memory.

The builder makes engines through factories (``EngineFactory``) registered by
the modules that define the engines, which sit above it: ``engine.engine``
(in process) and ``sharded.builder`` (sharded); ``openpit_shm/__init__.py``
wires both. So the builder imports neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..builtins.kinds import BuiltinHooks
from ..layout.records import FIXED_SCALE_DEFAULT
from ..marketdata.builder import MarketDataBuilder, market_data_builder
from ..param._compat import check_no_arguments, missing_attribute
from ..param._native import method_signature
from .registry import BuiltinEntry, CustomEntry, Registration, check_custom_policy

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "IN_PROCESS",
    "SHARDED",
    "EngineBuilder",
    "EngineFactory",
    "ReadyEngineBuilder",
    "SyncedEngineBuilder",
    "register_engine_factory",
]

SYNC_NONE, SYNC_FULL, SYNC_ACCOUNT = "no_sync", "full_sync", "account_sync"
_MAX_FIXED_SCALE = 18

#: Engine kinds ``build()`` makes: in process, or sharded after ``sharded(...)``.
IN_PROCESS, SHARDED = "in_process", "sharded"


@dataclass(frozen=True)
class EngineFactory:
    """How ``build()`` makes one kind of engine.

    ``build(registrations, settings)`` returns the engine; ``options(**kwargs)``
    (sharded only) validates the builder options of that kind into the value
    ``build`` reads from ``settings.sharded``.
    """

    build: Callable[[list[Registration], _Settings], Any]
    options: Callable[..., Any] | None = None


_FACTORIES: dict[str, EngineFactory] = {}


def register_engine_factory(kind: str, factory: EngineFactory) -> None:
    """Make ``kind`` (``IN_PROCESS`` or ``SHARDED``) buildable (the package's wiring calls it)."""
    if kind not in (IN_PROCESS, SHARDED):
        raise ValueError(f"unknown engine kind {kind!r}")
    _FACTORIES[kind] = factory


def _factory(kind: str) -> EngineFactory:
    factory = _FACTORIES.get(kind)
    if factory is None:  # only if openpit_shm/__init__.py did not run its wiring
        raise RuntimeError(f"no {kind} engine factory is registered (import openpit_shm)")
    return factory


class _Settings:
    """What every builder stage carries forward."""

    __slots__ = ("clock", "scale", "sharded", "sync")

    def __init__(self) -> None:
        self.sync = SYNC_NONE
        self.clock: Callable[[], int] = time.monotonic_ns
        self.scale = FIXED_SCALE_DEFAULT
        self.sharded: Any = None

    def copy(self) -> _Settings:
        s = _Settings()
        s.sync, s.clock, s.scale, s.sharded = self.sync, self.clock, self.scale, self.sharded
        return s


class _Extensions:
    """openpit_shm-only builder options (openpit has no equivalent)."""

    _settings: _Settings
    _OPENPIT_NAME: str

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute(self, name)

    def with_clock(self, clock: Callable[[], int]) -> Any:
        """Use ``clock() -> int`` (nanoseconds, monotonic) instead of ``time.monotonic_ns``."""
        if not callable(clock):
            raise TypeError("clock must be a callable returning integer nanoseconds")
        self._settings.clock = clock
        return self

    def with_fixed_point_scale(self, scale: int) -> Any:
        """Store kernel quantities, prices and P&L as ``int / 10**scale`` (default 8)."""
        if (
            not isinstance(scale, int)
            or isinstance(scale, bool)
            or not 0 <= scale <= _MAX_FIXED_SCALE
        ):
            raise ValueError(f"fixed-point scale must be an integer in 0..={_MAX_FIXED_SCALE}")
        self._settings.scale = scale
        return self


class _Sharding:
    """The ``sharded(...)`` option of the second and third builder stages."""

    _settings: _Settings

    def sharded(
        self,
        workers: int = 2,
        *,
        idle: str | tuple[int, int, int] = "backoff",
        ring_capacity: int = 1 << 14,
        batch: int = 256,
        external_clients: int = 1,
        timeout: float = 10.0,
        start_timeout: float = 300.0,
        external_quotes: bool = False,
    ) -> Any:
        """Decide orders in ``workers`` processes, each owning the accounts of one shard.

        ``idle``: ``"backoff"`` (spin, yield, then park: the default, right when
        workers share cores; it skips the spin when the workers and their client
        outnumber the CPUs, see ``kernels.ring.idle_backoff_for``), ``"busy"``
        (spin only: a dedicated core per worker) or ``(spins, yields, park_ns)``.
        ``ring_capacity``: records per ring (a power of two); ``batch``: most
        records a worker takes from one ring per duty cycle; ``external_clients``:
        extra ring pairs for C producers; ``timeout``: the bound on any wait for
        a shard (seconds); ``external_quotes``: give the quote table a name
        (``external_client()["quotes"]``) so C producers can push quotes
        (``opshm_quote_push``); off, it is unnamed like the engine's state.
        """
        if self._settings.sync != SYNC_ACCOUNT:
            raise ValueError("a sharded engine is account_sync: call .account_sync() first")
        options = _factory(SHARDED).options
        assert options is not None
        self._settings.sharded = options(
            workers=workers,
            idle=idle,
            ring_capacity=ring_capacity,
            batch=batch,
            external_clients=external_clients,
            timeout=timeout,
            start_timeout=start_timeout,
            external_quotes=external_quotes,
        )
        return self


class EngineBuilder(_Extensions):
    """First stage: choose a synchronization mode."""

    _OPENPIT_NAME = "openpit.EngineBuilder"

    __slots__ = ("_settings",)

    def __init__(self) -> None:
        self._settings = _Settings()

    def _synced(self, sync: str) -> SyncedEngineBuilder:
        settings = self._settings.copy()
        settings.sync = sync
        return SyncedEngineBuilder(settings)

    def no_sync(self, *args: Any, **kwargs: Any) -> SyncedEngineBuilder:
        """No synchronization: use the engine from the thread that built it."""
        check_no_arguments("EngineBuilder.no_sync", args, kwargs)
        return self._synced(SYNC_NONE)

    def full_sync(self, *args: Any, **kwargs: Any) -> SyncedEngineBuilder:
        """Every call is serialized: safe from any number of threads."""
        check_no_arguments("EngineBuilder.full_sync", args, kwargs)
        return self._synced(SYNC_FULL)

    def account_sync(self, *args: Any, **kwargs: Any) -> SyncedEngineBuilder:
        """Safe when each account is pinned to one thread/chain at a time.

        An in-process engine serializes its calls anyway (one results buffer).
        """
        check_no_arguments("EngineBuilder.account_sync", args, kwargs)
        return self._synced(SYNC_ACCOUNT)


# inspect reports openpit's ``(self, /)``; the catch-alls only raise CPython's no-argument errors.
for _name in ("no_sync", "full_sync", "account_sync"):
    getattr(EngineBuilder, _name).__signature__ = method_signature()
del _name

class _MarketData:
    """``market_data(default_ttl)`` of the second and third stages (openpit's)."""

    _settings: _Settings

    def market_data(self, default_ttl: Any) -> MarketDataBuilder:
        """A market-data service builder that inherits this engine's sync mode and clock."""
        return market_data_builder(
            default_ttl,
            full_sync=self._settings.sync != SYNC_NONE,
            clock=lambda: self._settings.clock(),  # with_clock() may still come after this
        )


class SyncedEngineBuilder(_Extensions, _Sharding, _MarketData):
    """Second stage: register the first policy."""

    _OPENPIT_NAME = "openpit.SyncedEngineBuilder"

    __slots__ = ("_settings",)

    def __init__(self, settings: _Settings) -> None:
        self._settings = settings

    def _ready(self) -> ReadyEngineBuilder:
        return ReadyEngineBuilder(self._settings.copy())

    def pre_trade(self, policy: Any) -> ReadyEngineBuilder:
        """Register a custom policy (an ``openpit_shm.pretrade.Policy`` or a duck-typed object)."""
        return self._ready().pre_trade(policy)

    def builtin(self, builtin_ready_builder: Any) -> ReadyEngineBuilder:
        """Register a builtin policy from its ready builder (``build_*()...``)."""
        return self._ready().builtin(builtin_ready_builder)


class ReadyEngineBuilder(_Extensions, _Sharding, _MarketData, BuiltinHooks):
    """Third stage: more policies, then ``build()`` (once)."""

    _OPENPIT_NAME = "openpit.ReadyEngineBuilder"

    __slots__ = ("_consumed", "_registrations", "_settings")

    def __init__(self, settings: _Settings) -> None:
        self._settings = settings
        self._registrations: list[Registration] = []
        self._consumed = False

    def _check_alive(self) -> None:
        if self._consumed:
            raise ValueError("engine builder is no longer available")

    def pre_trade(self, policy: Any) -> ReadyEngineBuilder:
        self._check_alive()
        self._registrations.append(CustomEntry.of(check_custom_policy(policy)))
        return self

    def builtin(self, builtin_ready_builder: Any) -> ReadyEngineBuilder:
        self._check_alive()
        builtin_ready_builder._build(self)
        return self

    # -- the hook the builtin builders' _build() reach through ``BuiltinHooks``' methods
    # (``_add_builtin_<kind>``, one per registry row; same keywords as openpit's) --------

    def _add_builtin(self, kind: str, **params: Any) -> None:
        from ..builtins.specs import make_spec

        self._check_alive()
        self._registrations.append(BuiltinEntry(make_spec(kind, **params)))

    def build(self) -> Engine:
        """Validate the registrations and build the engine. The builder is then consumed."""
        self._check_alive()
        self._consumed = True
        kind = IN_PROCESS if self._settings.sharded is None else SHARDED
        return _factory(kind).build(self._registrations, self._settings)  # type: ignore[no-any-return]
