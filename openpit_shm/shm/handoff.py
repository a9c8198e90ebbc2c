"""Hand unnamed segments' descriptors to another process over a Unix socket (``SCM_RIGHTS``).

An unnamed (memfd) segment has no name another process could open: the
process that holds it sends the descriptors themselves. ``send_fds`` and
``recv_fds`` do that over a ``multiprocessing`` connection whose handle is a
Unix stream socket (``Pipe()``'s duplex end on Linux), interleaved with the
connection's own pickled messages::

    parent: conn.send(spec); send_fds(conn, [a.fileno(), b.fileno()])
    child:  spec = conn.recv(); fd_a, fd_b = recv_fds(conn, 2)

Each batch travels as one byte (the count) that carries the descriptors;
the connection's framed messages never read into it, because they read
exactly their own length. The receiver gets new descriptors of its own (the
sender keeps its copies) and must close them (``Segment.attach`` takes
them over).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from multiprocessing.connection import Connection

__all__ = ["recv_fds", "send_fds"]

#: At most this many descriptors per batch (the kernel's SCM_MAX_FD is 253).
MAX_FDS = 253


def _socket_of(conn: Connection) -> socket.socket:
    """A socket object over a duplicate of ``conn``'s handle (closing it leaves ``conn`` open)."""
    return socket.socket(fileno=os.dup(conn.fileno()))


def send_fds(conn: Connection, fds: Sequence[int]) -> None:
    """Send ``fds`` (at most ``MAX_FDS``) to the process at the other end of ``conn``."""
    if not 1 <= len(fds) <= MAX_FDS:
        raise ValueError(f"send 1..{MAX_FDS} descriptors at a time, not {len(fds)}")
    with _socket_of(conn) as sock:
        socket.send_fds(sock, [bytes([len(fds)])], list(fds))


def recv_fds(conn: Connection, count: int) -> list[int]:
    """Receive exactly ``count`` descriptors sent with ``send_fds``; ``OSError`` otherwise.

    Descriptors of a malformed batch are closed before the error is raised.
    """
    with _socket_of(conn) as sock:
        data, fds, flags, _ = socket.recv_fds(sock, 1, MAX_FDS)
    if data == bytes([count]) and len(fds) == count and not flags & socket.MSG_CTRUNC:
        return fds
    for fd in fds:
        os.close(fd)
    raise OSError(f"expected {count} descriptors, got {len(fds)} (message {data!r})")
