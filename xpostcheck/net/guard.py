"""The address policy and the deadline, enforced inside each connection requests opens.

In: an AddressPolicy and, per thread, the Watch of the exchange in progress. Out: a requests
adapter (`GuardedAdapter`) whose connections check the address the socket really connected to
(so a DNS answer that changed since the check before the request cannot slip through) and
report their socket to the watch, which shuts it down when the fetch's deadline passes. A
refused address raises `Blocked` inside the exchange; the fetcher turns it into FetchError."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from xpostcheck.net.policy import AddressPolicy


class Blocked(Exception):
    """Raised inside a connection when the connected address breaks the address policy."""


# --- deadline watchdog -------------------------------------------------------------------------


class Watch:
    """Shuts down the socket of one exchange when its deadline passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.expired = False
        self.done = False

    def attach(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            if self.expired and not self.done:
                _shutdown(sock)

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            if self.sock is not None:
                _shutdown(self.sock)

    def finish(self) -> None:
        with self.lock:
            self.done = True


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class Guard:
    """What a Fetcher's connections need: the address policy and the thread's current watch."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.local = threading.local()

    def watch(self) -> Watch | None:
        return getattr(self.local, "watch", None)


def guarded_pools(guard: Guard) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pool classes whose connections check the peer address and report their socket
    to the current watch."""

    def check(conn: Any, sock: socket.socket) -> None:
        try:
            peer = str(sock.getpeername()[0])
        except OSError:
            peer = ""
        host = str(conn.host)
        port = conn.port if isinstance(conn.port, int) else None
        if not guard.policy.ip_allowed(host, peer, port):
            sock.close()
            raise Blocked(
                f"refused: {host} connected to non-public {peer or '?'}; "
                f"to scan it, pass --allow-private {host}"
            )

    class Guarded(urllib3.connection.HTTPConnection):
        """Checks the connected address, and hands the socket to the deadline's watch."""

        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check(self, sock)
            return sock

        def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
            watch = guard.watch()
            if watch is not None and self.sock is not None:
                watch.attach(self.sock)
            return super().getresponse()

    class Conn(Guarded):
        pass

    class SConn(Guarded, urllib3.connection.HTTPSConnection):
        pass

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class SPool(HTTPSConnectionPool):
        ConnectionCls = SConn

    return {"http": Pool, "https": SPool}


class GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        super().__init__(pool_connections=16, pool_maxsize=4, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = guarded_pools(self._guard)
