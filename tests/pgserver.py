"""A throwaway PostgreSQL server for tests and benchmarks: its data folder in a temp directory,
listening on a free loopback port, stopped and removed when the block ends. Nothing is left
running.

`pg_server()` is a context manager yielding the server's `postgresql://` URL. It raises
`PgUnavailable` (with one line saying why) when no server can be started here; tests turn that
into a skip locally and a failure in CI (`CI` set), where `.ci/run` installs the server.

As root (CI), the server runs as the `postgres` system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["PgUnavailable", "pg_server", "pg_bindir", "create_database"]


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be started on this machine."""


def pg_bindir() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not candidates:
        raise PgUnavailable(
            "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin); "
            "install Debian's postgresql package"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_user() -> tuple[list[str], int | None, int | None]:
    """The command prefix and ids to run the server with: itself, or `postgres` under root."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PgUnavailable("running as root and there is no 'postgres' user") from exc
    return [], entry.pw_uid, entry.pw_gid


def _run(cmd: list[str], uid: int | None, gid: int | None, **kw: object) -> None:
    def demote() -> None:
        if gid is not None:
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)

    result = subprocess.run(
        cmd,
        preexec_fn=demote if uid is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        **kw,  # type: ignore[arg-type]
    )
    if result.returncode != 0:
        raise PgUnavailable(
            f"{Path(cmd[0]).name} failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}"
        )


@contextmanager
def pg_server() -> Iterator[str]:
    """Start a server, yield `postgresql://postgres@127.0.0.1:PORT/postgres`, then stop it."""
    bindir = pg_bindir()
    _, uid, gid = _as_user()
    top = Path(tempfile.mkdtemp(prefix="xpostcheck-pg-"))
    data = top / "data"
    if uid is not None:
        os.chown(top, uid, gid if gid is not None else -1)
    port = _free_port()
    started = False
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            uid,
            gid,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={top} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(top / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            uid,
            gid,
        )
        started = True
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise PgUnavailable(f"server did not listen on 127.0.0.1:{port}") from None
                time.sleep(0.1)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            with suppress(PgUnavailable):
                _run(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                    uid,
                    gid,
                )
        shutil.rmtree(top, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """Create database `name` on the server at `admin_url`; return its URL."""
    import psycopg  # the test extra installs it

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"
