"""Texts that do not fit a result record, carried as ``STATUS_TEXT`` records on the result ring.

A shard worker answers a request with result records (numbers only). When a
reject's texts cannot be rebuilt from numbers (a custom policy's strings, a
block cause recorded in the worker) or a custom hook raised, the worker sends
the texts right behind the request's records, on the same ring, to client
slots that asked for them (Python clients; C clients only read numbers)::

    record k of n:  seq | total bytes | code=0 ... status=STATUS_TEXT | count=n | index=k
                    d0..d4 = bytes [40k, 40k + 40) of the pickled payload

The payload is a pickle of ``("texts", [text-or-None per record])`` or
``("error", exception)``. Only the client that owns the engine reads it.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from ..layout.records import STATUS_TEXT

__all__ = ["CHUNK_BYTES", "decode_texts", "encode_texts"]

CHUNK_BYTES = 40
_HEAD_SHIFT_STATUS = 32
_HEAD_SHIFT_COUNT = 48
_HEAD_SHIFT_INDEX = 56


def encode_texts(seq: int, payload: Any) -> np.ndarray:
    """The ``STATUS_TEXT`` records (``int64[n, 8]``) carrying ``payload`` for request ``seq``."""
    raw = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    n = (len(raw) + CHUNK_BYTES - 1) // CHUNK_BYTES
    if n > 255:
        raw = pickle.dumps(("error", RuntimeError("reject texts too long to send")))
        n = (len(raw) + CHUNK_BYTES - 1) // CHUNK_BYTES
    padded = raw.ljust(n * CHUNK_BYTES, b"\0")
    out = np.zeros((n, 8), dtype=np.int64)
    out[:, 0] = seq
    out[:, 1] = len(raw)
    for k in range(n):
        head = STATUS_TEXT << _HEAD_SHIFT_STATUS | n << _HEAD_SHIFT_COUNT | k << _HEAD_SHIFT_INDEX
        out[k, 2] = head - (1 << 64) if head >= 1 << 63 else head
        out[k, 3:8] = np.frombuffer(padded[k * CHUNK_BYTES : (k + 1) * CHUNK_BYTES], np.int64)
    return out


def decode_texts(chunks: list[np.ndarray]) -> Any:
    """The payload carried by a request's ``STATUS_TEXT`` records (each ``int64[8]``)."""
    total = int(chunks[0][1])
    raw = b"".join(np.ascontiguousarray(c[3:8]).tobytes() for c in chunks)[:total]
    return pickle.loads(raw)
