"""Building a ShardedEngine: segments, shard arenas, workers, then the client object."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.builder import EngineFactory
from ..engine.engine import log_slow_build
from ..engine.registry import BuiltinEntry, CustomEntry, Registration, validate_registrations
from ..kernels.entries import (
    SHARDED_CLIENT,
    WORKER_KERNELS,
    WORKER_OBJECTS,
    Entry,
    compile_all,
    notice_if_cold,
)
from ..kernels.ring import IDLE_BACKOFF, IDLE_BUSY_SPIN, idle_backoff, idle_backoff_for
from ..layout.records import new_record_tag
from ..layout.ring import ring_capacity_check

__all__ = ["SHARDED_FACTORY", "ShardedSettings", "build_sharded"]

_MAX_WORKERS = 64


@dataclass(frozen=True)
class ShardedSettings:
    """The ``sharded(...)`` options, validated."""

    workers: int
    idle: tuple[int, int, int, int]
    ring_capacity: int
    batch: int
    external_clients: int
    timeout: float
    start_timeout: float
    external_quotes: bool = False  #: a named quote table C producers can push to

    @classmethod
    def of(
        cls,
        *,
        workers: int,
        idle: Any,
        ring_capacity: int,
        batch: int,
        external_clients: int,
        timeout: float,
        start_timeout: float,
        external_quotes: bool = False,
    ) -> ShardedSettings:
        if not isinstance(workers, int) or not 1 <= workers <= _MAX_WORKERS:
            raise ValueError(f"workers must be an integer in 1..={_MAX_WORKERS}")
        if idle == "backoff":  # the workers and the client that feeds them
            strategy = tuple(int(x) for x in idle_backoff_for(workers + 1))
        elif idle == "busy":
            strategy = (IDLE_BUSY_SPIN, 0, 0, 1)
        elif isinstance(idle, tuple) and len(idle) == 3:
            spins, yields, park_ns = idle
            strategy = tuple(int(x) for x in idle_backoff(spins, yields, park_ns))
        else:
            raise ValueError('idle must be "backoff", "busy" or (spins, yields, park_ns)')
        capacity = ring_capacity_check(ring_capacity)
        if not 1 <= batch <= capacity // 2:
            raise ValueError("batch must be in 1..ring_capacity/2")
        if not 0 <= external_clients <= 16:
            raise ValueError("external_clients must be in 0..=16")
        if timeout <= 0 or start_timeout <= 0:
            raise ValueError("timeouts must be positive")
        assert strategy[0] in (IDLE_BACKOFF, IDLE_BUSY_SPIN)
        return cls(
            workers,
            strategy,  # type: ignore[arg-type]
            capacity,
            batch,
            external_clients,
            float(timeout),
            float(start_timeout),
            bool(external_quotes),
        )


def _pickled(registrations: list[Registration]) -> bytes:
    try:
        return pickle.dumps(registrations, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(
            "the custom policies of a sharded engine are pickled into every worker: define "
            f"them as module-level classes with picklable state ({exc})"
        ) from exc


def _compile_in_background(entries: Sequence[Entry]) -> Callable[[], None]:
    """Compile ``entries`` in a thread while the workers start; returns a join that re-raises.

    The workers compile their duty cycle meanwhile (``worker._compile_serving``),
    so a cold first build pays for the slower of the two, not their sum.
    """
    failed: list[BaseException] = []

    def run() -> None:
        try:
            compile_all(entries)
        except BaseException as exc:  # re-raised by join(), in the building thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="openpit_shm-compile", daemon=True)
    thread.start()

    def join() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return join


def build_sharded(registrations: list[Registration], settings: Any) -> Any:
    """Create the segments and shard arenas, start the workers, return the ShardedEngine."""
    # lazy: a spawned worker imports openpit_shm; it must not load the client, supervisor
    # and Numba kernel modules a build needs (they load when the first sharded engine is built)
    from ..builtins.book import Book
    from .book_io import create_shard_books
    from .client import assemble
    from .supervisor import Supervisor
    from .topology import Topology
    from .worker import WorkerSpec, answer_scratch_rows

    started = time.perf_counter()
    validate_registrations(registrations)
    s: ShardedSettings = settings.sharded
    builtins = [e for e in registrations if isinstance(e, BuiltinEntry)]
    n_policies = len(registrations)
    blob = _pickled(registrations)
    customs = any(isinstance(e, CustomEntry) for e in registrations)
    workers = WORKER_OBJECTS if customs else WORKER_KERNELS
    notice_if_cold("a sharded engine's kernels", [*workers, *SHARDED_CLIENT])
    client_compiled = _compile_in_background(SHARDED_CLIENT)
    # The client's replica: the builtins' configuration for texts and instrument ids. One
    # record tag for the replica and every shard: records are tagged for the engine.
    tag = new_record_tag()
    replica = Book.create(builtins, n_policies=n_policies, scale=settings.scale, record_tag=tag)
    topology = Topology.create(
        n_shards=s.workers,
        n_slots=1 + s.external_clients,
        capacity=s.ring_capacity,
        scale=settings.scale,
        scratch_rows=answer_scratch_rows(s.batch, n_policies),
        named_quotes=s.external_quotes,
    )
    supervisor = None
    try:
        descriptions = create_shard_books(topology, builtins, n_policies, settings.scale, tag)
        specs = [
            WorkerSpec(
                shard=k,
                names=topology.names,
                registrations=blob,
                book=descriptions[k],
                idle=s.idle,
                batch=s.batch,
                text_slots=(0,),
            )
            for k in range(s.workers)
        ]
        supervisor = Supervisor(topology, specs, s.start_timeout)
        supervisor.start()
        client_compiled()
        engine = assemble(
            registrations=registrations,
            replica=replica,
            topology=topology,
            supervisor=supervisor,
            settings=settings,
            idle=np.array(s.idle, dtype=np.int64),
            timeout=s.timeout,
        )
        log_slow_build(f"a sharded engine ({s.workers} workers)", registrations, started)
        return engine
    except BaseException:
        if supervisor is not None:
            supervisor.stop()
        topology.close()
        raise


#: What the builder's ``sharded(...)`` and ``build()`` call (wired in ``openpit_shm``).
SHARDED_FACTORY = EngineFactory(build_sharded, ShardedSettings.of)
