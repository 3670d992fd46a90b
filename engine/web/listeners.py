"""Each process of ``measures web --workers N`` listens on a socket of its own.

uvicorn's supervisor binds one socket and hands it to every worker, which then race to
accept; the kernel wakes waiters last-in first-out, so the worker that won keeps
winning. In bench/web.py 18 of 20 keep-alive connections went to one of two workers,
which served them all while the other idled: half the server's cores unused, and the
p50 and p95 of a run depended on how the connections happened to fall. With
``SO_REUSEPORT`` each worker has its own listening socket in one group and Linux spreads
new connections over the group by a hash of their addresses (the way nginx's
``reuseport`` and the fix discussed in uvicorn#2472 do it).

The socket is also made with ``IPPROTO_TCP``: asyncio sets ``TCP_NODELAY`` on an accepted
connection only when its listener says so, and a socket bound by uvicorn's supervisor
does not (uvicorn#3149), so every keep-alive answer after the first waited for the
client's delayed acknowledgement.
"""

from __future__ import annotations

import socket
import sys
from typing import Any


def reuse_port_supported() -> bool:
    """Linux balances a ``SO_REUSEPORT`` group; elsewhere one socket takes everything."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def reserve(host: str, port: int) -> socket.socket:
    """Bind the address in the supervisor without listening, and keep it.

    The address is checked once, before any worker starts (a port taken by another
    program fails here, with the supervisor's error), and stays ours between a worker's
    death and its replacement. A socket that does not listen receives no connections.
    """
    sock = _socket(host)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A worker's own listening socket in the address's ``SO_REUSEPORT`` group."""
    sock = _socket(host)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class WorkerListener:
    """Stands for a listening socket in the list uvicorn's supervisor passes to each
    worker it spawns (and respawns): unpickled in the worker, it is that worker's own
    :func:`listen` socket."""

    def __init__(self, host: str, port: int, backlog: int) -> None:
        self.host, self.port, self.backlog = host, port, backlog

    def __reduce__(self) -> tuple[Any, tuple[str, int, int]]:
        return (listen, (self.host, self.port, self.backlog))
