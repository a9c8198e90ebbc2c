"""Reservation and request handles: whose they are, where they live, and whether still valid.

An accepted ``MSG_ORDER`` without auto-commit answers with a reservation
handle, an accepted ``MSG_START`` with a request handle, both in the result's
``reservation`` word; ``MSG_EXECUTE``, ``MSG_COMMIT`` and ``MSG_ROLLBACK``
carry one back in ``ref``. A handle is a positive int64::

     63 62        57 56      52 51                  28 27                    0
     +--+-----------+----------+----------------------+----------------------+
     | 0|   shard   |  client  |      generation      |        index         |
     |  |  6 bits   |  5 bits  |       24 bits        |       28 bits        |
     +--+-----------+----------+----------------------+----------------------+

* ``shard``: the shard that holds it (0 in an in-process engine). Finalizations
  carry no account, so producers route them by this field (``record_shard``,
  ``opshm_record_shard`` in the C header); a shard refuses a handle naming
  another (``RSN_HANDLE_WRONG_SHARD``).
* ``client``: the client slot whose request created it (0 for the engine's
  own client and the in-process engine). Only that slot may execute or
  finalize it: the worker knows which ring a record came in on, and refuses a
  handle of another slot (``RSN_HANDLE_NOT_OWNER``) without touching it.
* ``generation`` and ``index``: in engines whose policies are all builtin, the
  handle's slot in the arena's reservation table (``kernels.reservations``)
  and that slot's reuse count: a finalized handle never matches whoever
  reuses its slot. The table is in shared memory, so these handles survive a
  worker restart and are finalized by the restarted worker. In engines with
  custom Python policies the reservation lives in the worker's memory
  (``engine.record_door``): ``index`` numbers the worker's handles and
  ``generation`` is the worker's incarnation (how many times the shard was
  started), so a handle from before a restart is refused
  (``RSN_HANDLE_LOST``) instead of naming a later reservation.

Every part is checked before a handle is used; a refused handle gets a
``STATUS_ERROR`` result and changes nothing.
"""

from __future__ import annotations

from numba import njit

__all__ = [
    "HANDLE_CLIENT_BITS",
    "HANDLE_CLIENT_SHIFT",
    "HANDLE_GEN_BITS",
    "HANDLE_GEN_SHIFT",
    "HANDLE_INDEX_BITS",
    "HANDLE_INDEX_LIMIT",
    "HANDLE_SHARD_BITS",
    "HANDLE_SHARD_SHIFT",
    "handle_client",
    "handle_client_nb",
    "handle_generation",
    "handle_generation_nb",
    "handle_index",
    "handle_index_nb",
    "handle_shard",
    "handle_shard_nb",
    "make_handle",
    "make_handle_nb",
]

HANDLE_INDEX_BITS = 28
HANDLE_GEN_SHIFT = HANDLE_INDEX_BITS
HANDLE_GEN_BITS = 24
HANDLE_CLIENT_SHIFT = HANDLE_GEN_SHIFT + HANDLE_GEN_BITS
HANDLE_CLIENT_BITS = 5
HANDLE_SHARD_SHIFT = HANDLE_CLIENT_SHIFT + HANDLE_CLIENT_BITS
HANDLE_SHARD_BITS = 6

#: Handles of one shard's reservation table (or worker) are numbered below this.
HANDLE_INDEX_LIMIT = 1 << HANDLE_INDEX_BITS
_INDEX_MASK = HANDLE_INDEX_LIMIT - 1
_GEN_MASK = (1 << HANDLE_GEN_BITS) - 1
_CLIENT_MASK = (1 << HANDLE_CLIENT_BITS) - 1
_SHARD_MASK = (1 << HANDLE_SHARD_BITS) - 1


def make_handle(shard: int, client: int, generation: int, index: int) -> int:
    """The handle of ``index`` (< 2**28) at ``generation`` (mod 2**24), held for ``client``."""
    return (
        (shard & _SHARD_MASK) << HANDLE_SHARD_SHIFT
        | (client & _CLIENT_MASK) << HANDLE_CLIENT_SHIFT
        | (generation & _GEN_MASK) << HANDLE_GEN_SHIFT
        | (index & _INDEX_MASK)
    )


def handle_shard(handle: int) -> int:
    return (handle >> HANDLE_SHARD_SHIFT) & _SHARD_MASK


def handle_client(handle: int) -> int:
    return (handle >> HANDLE_CLIENT_SHIFT) & _CLIENT_MASK


def handle_generation(handle: int) -> int:
    return (handle >> HANDLE_GEN_SHIFT) & _GEN_MASK


def handle_index(handle: int) -> int:
    return handle & _INDEX_MASK


# The same functions for kernels (one definition each).
make_handle_nb = njit(cache=True, inline="always")(make_handle)
handle_shard_nb = njit(cache=True, inline="always")(handle_shard)
handle_client_nb = njit(cache=True, inline="always")(handle_client)
handle_generation_nb = njit(cache=True, inline="always")(handle_generation)
handle_index_nb = njit(cache=True, inline="always")(handle_index)

assert HANDLE_SHARD_SHIFT + HANDLE_SHARD_BITS == 63  # bit 63 stays 0: handles are positive
