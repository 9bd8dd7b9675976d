"""`PostgresStore`: the shared table classes over a pool of PostgreSQL connections.

In: a `postgresql://` URL. Out: a `Store`. Opening connects once (so that a server that is
down, a wrong password or a missing database is one StoreError line naming the URL, password
masked), migrates (`store.postgres.schema`, safe from several processes at once), then opens a
`psycopg_pool.ConnectionPool` that every call borrows from (`connection.PgConnection`). WARC
evidence goes into the database (`archive.WarcRows`).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from xpostcheck.errors import StoreError
from xpostcheck.store.base import EvidenceArchive
from xpostcheck.store.dburl import redact_db_url
from xpostcheck.store.postgres.archive import WarcRows
from xpostcheck.store.postgres.connection import PgConnection, one_line, pg_failure
from xpostcheck.store.postgres.schema import migrate, schema_version
from xpostcheck.store.sqlite.pages import PageTables
from xpostcheck.store.sqlite.scans import ScanTables

__all__ = ["POOL_SIZE", "PostgresStore", "connect"]

POOL_SIZE = 8  # connections per store: crawl threads and site units of one process
CONNECT_TIMEOUT = 10  # seconds to reach the server before giving up


def connect(url: str, where: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """One autocommit connection to `url`, or a StoreError saying what to check."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **kwargs)
    except psycopg.Error as exc:
        first = one_line(exc)
        raise StoreError(
            f"cannot connect to the database ({_advice(first)})", where=where
        ) from None


def _advice(message: str) -> str:
    """The server's or libpq's words, and what to do about them."""
    low = message.lower()
    if "password" in low or "authentication" in low:
        return f"{message}; check the user name and password in the URL"
    if "does not exist" in low:
        return f"{message}; create the database (createdb) or fix its name in the URL"
    if "refused" in low or "timeout" in low or "could not translate" in low:
        return f"{message}; check that the server is up and the host and port are right"
    return message


def _check_writable(conn: psycopg.Connection[Any], where: str) -> None:
    row = conn.execute(
        "SELECT has_table_privilege('pages', 'INSERT') AND has_table_privilege('scans', 'UPDATE')"
    ).fetchone()
    if not (row and row[0]):
        raise StoreError(
            "this database user may not write the scan tables; GRANT it INSERT, UPDATE and "
            "DELETE on them, or use the user that created them",
            where=where,
        )


class PostgresStore(ScanTables, PageTables):
    """The shared store: one PostgreSQL database that scans and workers on several machines
    write at once. The pooled connection is also the table classes' lock: holding it means
    the calling thread has a connection of its own (see `connection.PgConnection`)."""

    _db: PgConnection

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        archive: EvidenceArchive | None = None,
        check: bool = False,
    ) -> None:
        """With `check` (a scan, before it crawls), also make sure the user may write."""
        self.url = url
        self._where = redact_db_url(url)
        with connect(url, self._where) as conn:
            migrate(conn, self._where)
            if check:
                _check_writable(conn, self._where)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            check=ConnectionPool.check_connection,  # a server restart costs no call
            name="xpostcheck",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT * 3)
        except psycopg.Error as exc:
            self._pool.close()
            raise pg_failure(exc, self._where, during_scan=False) from None
        self._db = PgConnection(self._pool, self._where)
        self._lock = self._db
        self.archive = archive or WarcRows(self._db, self._where)

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            return schema_version(conn)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
