"""One scan at a time per PostgreSQL database: a session-level advisory lock, the
counterpart of the `<db>.lock` file of a SQLite store.

In: the database URL, whether to wait, what to call once while waiting. Out: a held
`AdvisoryLock` (released by `release`, or by the server when the holding process dies and its
connection drops, even by kill -9), or `LockBusy` (exit 3) when another scan holds it and
waiting was refused.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import psycopg

from xpostcheck.store.dburl import redact_db_url
from xpostcheck.store.postgres.store import connect
from xpostcheck.util.lock import LockBusy

__all__ = ["SCAN_LOCK", "AdvisoryLock"]

SCAN_LOCK = 0x78706300_00000003  # advisory lock key held by a running scan

_APP = "xpostcheck scan pid {}"


class AdvisoryLock:
    """The scan lock of one PostgreSQL database, held by a connection of its own."""

    def __init__(self, conn: psycopg.Connection[Any] | None) -> None:
        self._conn = conn

    @classmethod
    def acquire(
        cls, url: str, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> AdvisoryLock:
        where = redact_db_url(url)
        conn = connect(url, where, application_name=_APP.format(os.getpid()))
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (SCAN_LOCK,)).fetchone()
            if not (row and row[0]):
                holder = _holder(conn)
                by = f" ({holder})" if holder else ""
                if not wait:
                    raise LockBusy(
                        f"another scan of this database is running{by}; run again when it has "
                        "finished, or leave out --no-wait to wait for it",
                        where=where,
                    )
                if on_wait is not None:
                    on_wait(f"waiting for another scan of {where} to finish{by} ...")
                conn.execute("SELECT pg_advisory_lock(%s)", (SCAN_LOCK,))
        except BaseException:
            conn.close()
            raise
        return cls(conn)

    @property
    def held(self) -> bool:
        return self._conn is not None

    def release(self) -> None:
        """Give the lock up; a second call does nothing."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCAN_LOCK,))
            conn.close()  # closing the session releases it in any case

    def __enter__(self) -> AdvisoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(conn: psycopg.Connection[Any]) -> str:
    """The application name of the session holding the lock ("xpostcheck scan pid N")."""
    with contextlib.suppress(psycopg.Error):
        row = conn.execute(
            """SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
               WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
                     SELECT oid FROM pg_database WHERE datname = current_database())
                 AND (l.classid::bigint << 32) + l.objid::bigint = %s""",
            (SCAN_LOCK,),
        ).fetchone()
        if row and row[0]:
            return str(row[0])
    return ""
