"""PostgreSQL under the shared table classes: pooled connections that run their SQL.

In: a psycopg_pool `ConnectionPool` and the database URL with its password masked (for
messages). Out: `PgConnection`, which the table classes of `store.sqlite` use both as their
connection (`execute`, `executemany`) and as their lock (`with`): entering it borrows a pooled
connection for the calling thread (re-entrant, so nested calls share it), leaving it gives the
connection back. Threads of one process, and processes on several machines, thus work side by
side, each on its own connection.

The table classes write SQL both backends run; what differs is translated here:
- qmark parameters (`?`) become psycopg's (`%s`), and a literal `%` is doubled;
- `BEGIN IMMEDIATE` (SQLite: one writer at a time) becomes BEGIN plus a transaction-scoped
  advisory lock, so that read-then-write transactions (delivering a scan, persisting a report,
  noting sources) run one at a time across every process on the database;
- `lastrowid` is the session's `lastval()` (the identity column's sequence);
- a NUL character in a text parameter (which PostgreSQL's text type refuses and a hostile page
  may hold) becomes U+FFFD, so that such a page never costs a report.

Errors become one `StoreFailed` line naming the URL (password masked).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from xpostcheck.errors import StoreError
from xpostcheck.store.sqlite.tables import StoreFailed

__all__ = ["WRITE_LOCK", "PgConnection", "PgCursor", "one_line", "pg_failure", "to_pyformat"]

# Advisory lock keys (bigint) of this application in a database; see docs/deploy.md.
WRITE_LOCK = 0x78706300_00000001  # BEGIN IMMEDIATE: one read-then-write transaction at a time

_GET_TIMEOUT = 60.0  # seconds a thread waits for a free pooled connection


def to_pyformat(sql: str) -> str:
    """SQL with qmark parameters as psycopg's: `?` -> `%s`, `%` -> `%%`, except inside
    quoted strings and identifiers."""
    out: list[str] = []
    quote = ""
    for char in sql:
        if quote:
            out.append("%%" if char == "%" else char)
            if char == quote:
                quote = ""  # a doubled quote closes and reopens: the same result
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


def one_line(exc: BaseException) -> str:
    """A psycopg error's message (libpq's may span lines) as one line."""
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or (
        type(exc).__name__
    )


def pg_failure(exc: BaseException, where: str, *, during_scan: bool = True) -> StoreError:
    """One line for a psycopg error: what happened and what to do. During a scan it is a
    StoreFailed (the scan failed, exit 3), else a StoreError (exit 2)."""
    first = one_line(exc)
    if isinstance(exc, PoolTimeout):
        text = (
            f"no database connection came free or could be made ({first}); check that the "
            "server is up and accepts enough connections, then run again"
        )
    elif isinstance(exc, psycopg.OperationalError):
        text = f"lost the database server ({first}); check that it is up, then run again"
    else:
        text = f"database error ({first}); run again, or report it with this line"
    kind = StoreFailed if during_scan else StoreError
    return kind(text, where=where)


def _clean(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def _params(parameters: Any) -> Any:
    if isinstance(parameters, dict):
        return {k: _clean(v) for k, v in parameters.items()}
    return tuple(_clean(v) for v in parameters)


class PgCursor:
    """The part of a DB-API cursor the table classes use, over a psycopg cursor."""

    def __init__(self, cursor: psycopg.Cursor[Any], owner: PgConnection) -> None:
        self._cursor = cursor
        self._owner = owner

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def lastrowid(self) -> int | None:
        """The id the last INSERT on this connection gave (its identity sequence)."""
        row = self._owner.execute("SELECT lastval()").fetchone()
        return None if row is None else int(row[0])

    def fetchone(self) -> Any:
        return self._owner.guard(self._cursor.fetchone)

    def fetchall(self) -> list[Any]:
        return list(self._owner.guard(self._cursor.fetchall))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """A pool seen as one connection per thread; `with` holds it (see the module's doc)."""

    def __init__(self, pool: ConnectionPool, where: str) -> None:
        self._pool = pool
        self._where = where
        self._local = threading.local()  # .conn and .depth of the calling thread
        self._translated: dict[str, str] = {}

    # -- holding a connection -----------------------------------------------------------------

    def __enter__(self) -> PgConnection:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            try:
                self._local.conn = self._pool.getconn(timeout=_GET_TIMEOUT)
            except psycopg.Error as exc:
                raise pg_failure(exc, self._where) from None
        self._local.depth = depth + 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._local.depth -= 1
        if self._local.depth == 0:
            conn, self._local.conn = self._local.conn, None
            # A transaction left open (an error between BEGIN and COMMIT) is rolled back by
            # the pool before the connection serves anyone else.
            self._pool.putconn(conn)

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None:
            raise RuntimeError("PgConnection used outside `with` (a store method without @locked)")
        return conn

    def guard(self, call: Any) -> Any:
        """Run `call()`, a psycopg error becoming one StoreFailed line."""
        try:
            return call()
        except psycopg.Error as exc:
            raise pg_failure(exc, self._where) from None

    # -- running the table classes' SQL -------------------------------------------------------

    def _sql(self, sql: str) -> str:
        done = self._translated.get(sql)
        if done is None:
            done = self._translated[sql] = to_pyformat(sql)
        return done

    def execute(self, sql: str, parameters: Any = (), /) -> PgCursor:
        conn = self._conn()
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            self.guard(lambda: conn.execute("BEGIN"))
            sql, parameters = "SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,)
        query, args = self._sql(sql), _params(parameters)
        return PgCursor(self.guard(lambda: conn.execute(query, args)), self)

    def executemany(self, sql: str, parameters: Sequence[Any], /) -> PgCursor:
        conn = self._conn()
        query, rows = self._sql(sql), [_params(p) for p in parameters]
        cursor = conn.cursor()
        if rows:
            self.guard(lambda: cursor.executemany(query, rows))
        return PgCursor(cursor, self)
