"""Loopback HTTP helpers the test modules share (`from loopback import Server, html`).

- `Server`: a real ThreadingHTTPServer on a loopback address, bound to port 0 (the kernel
  picks a free port, so two tests never race for one), serving a dict of routes.
- `refused_port()`: a port on which connections are refused for as long as the block runs.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Handler", "QuietHTTPServer", "Route", "Server", "html", "refused_port"]

Handler = Callable[[BaseHTTPRequestHandler], None]
Route = tuple[int, dict[str, str], bytes] | Handler


class QuietHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that keeps a handler's exceptions in `errors` instead of printing them.

    socketserver prints a handler's traceback to sys.stderr. A client that hangs up early (a
    crawler giving up on a slow page) makes such a traceback, and a test that runs the CLI under
    click's CliRunner, which swaps sys.stderr process-wide, would see it in the command's stderr.
    """

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errors: list[BaseException] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


class Server:
    """A ThreadingHTTPServer on a loopback address and port 0, serving `routes`.

    A route is (status, headers, body) or a function that writes the answer itself. Every
    request is logged on arrival as (monotonic time, path, headers). Routes may be added after
    the server starts (a page that names the server's own URL needs `base` first).
    """

    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1") -> None:
        self.routes = routes
        self.log: list[tuple[float, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                with server.lock:
                    server.log.append((time.monotonic(), self.path, dict(self.headers)))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, {"Content-Type": "text/html"}, b"<p>not found</p>")
                elif callable(route):
                    route(self)
                else:
                    self._send(*route)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = QuietHTTPServer((host, 0), H)
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def paths(self) -> list[str]:
        with self.lock:
            return [entry[1] for entry in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def html(body: str, *, charset: str = "utf-8") -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": f"text/html; charset={charset}"}, body.encode(charset)


@contextmanager
def refused_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port on `host` that refuses connections while the block runs.

    The socket is bound but never listens: a connection to it is refused at once, and no other
    process can take the port until the block ends (closing first and connecting later races).
    """
    with socket.socket() as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]
