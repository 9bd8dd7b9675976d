"""What the SQLite table classes share: the connection, its lock, and URL keys.

In: nothing from outside the backend. Out: `Tables` (the attributes every table class uses),
`locked` (one call at a time on the connection, and SQLite's errors as one StoreError line),
`store_failure`, `connect`, `url_key_of`, `now_iso`.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from xpostcheck.errors import StoreError
from xpostcheck.store.base import EvidenceArchive
from xpostcheck.store.schema import (
    SQLITE_BUSY,
    SQLITE_CANTOPEN,
    SQLITE_CORRUPT,
    SQLITE_FULL,
    SQLITE_IOERR,
    SQLITE_NOTADB,
    SQLITE_READONLY,
)
from xpostcheck.util.urls import canonicalize

__all__ = [
    "Connection",
    "Cursor",
    "StoreFailed",
    "Tables",
    "connect",
    "locked",
    "now_iso",
    "store_failure",
    "transaction",
    "url_key_of",
]


class StoreFailed(StoreError):
    """The database failed during a scan (a full disk, a damaged page): the scan failed, exit 3."""

    exit_code = 3


# SQLite's primary result codes -> what happened and what to do about it.
_FAILURES = {
    SQLITE_FULL: "the disk is full ({}); free some space, then run the scan again",
    SQLITE_READONLY: (
        "the database is read-only ({}); make the file and its folder writable, or choose "
        "another --db"
    ),
    SQLITE_CORRUPT: (
        "the database is damaged ({}); restore it from a backup, or choose another --db "
        "(sqlite3's .recover command can save what is left)"
    ),
    SQLITE_NOTADB: "this is not an SQLite database ({}); choose another --db",
    SQLITE_IOERR: "cannot read or write the database ({}); check the disk, then run again",
    SQLITE_CANTOPEN: (
        "cannot open the database ({}); make the file and its folder readable and writable"
    ),
    SQLITE_BUSY: ("the database is locked by another program ({}); run again when it has finished"),
}


def store_failure(exc: sqlite3.Error, where: str, *, during_scan: bool = True) -> StoreError:
    """One line for an SQLite error: what happened to the file and what to do. A failed
    ROLLBACK ("no transaction is active": SQLite ended the transaction itself, as on a full
    disk) is reported as the error that caused it."""
    cause: BaseException = exc
    while "no transaction is active" in str(cause) and isinstance(cause.__context__, sqlite3.Error):
        cause = cause.__context__
    code = getattr(cause, "sqlite_errorcode", 0) & 0xFF
    template = _FAILURES.get(code, "database error ({}); run again, or choose another --db")
    kind = StoreFailed if during_scan or code in (SQLITE_FULL, SQLITE_IOERR) else StoreError
    return kind(template.format(cause), where=where)


def connect(path: str) -> sqlite3.Connection:
    """The store's connection: shared by threads (the store serialises calls), autocommit."""
    return sqlite3.connect(path, check_same_thread=False, isolation_level=None)


class Cursor(Protocol):
    """What the table classes use of a cursor (sqlite3's, or the PostgreSQL adapter's)."""

    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the table classes use of a connection: sqlite3's, or `store.postgres`'s adapter,
    which runs the same SQL (qmark parameters, `BEGIN IMMEDIATE` for one writer at a time)."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Any, /) -> Cursor: ...


class Tables:
    """The state every table class works on; `SqliteStore` (or `PostgresStore`) sets it up.

    The SQL of the table classes is written for both backends: standard upserts (ON CONFLICT),
    no JSON functions, `rowid` only on tables that PostgreSQL gives a column of that name."""

    archive: EvidenceArchive
    _where: str  # what error messages name: the file, or the URL without its password
    _db: Connection
    _lock: AbstractContextManager[Any]  # held around every call (re-entrant)


@contextmanager
def transaction(db: Connection) -> Iterator[Connection]:
    """One write transaction on the connection (`BEGIN IMMEDIATE`: one writer at a time),
    committed at the end of the block and rolled back on any error, a failed COMMIT too."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def url_key_of(url: str) -> str:
    """How the tables key a page: its canonical URL."""
    return canonicalize(url)


_T = TypeVar("_T", bound=Tables)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def locked(
    method: Callable[Concatenate[_T, _P], _R],
) -> Callable[Concatenate[_T, _P], _R]:
    """One call at a time on the store's connection, whichever thread makes it; an SQLite
    error (a full disk, a damaged page, a read-only file) becomes one StoreFailed line."""

    @functools.wraps(method)
    def wrapper(self: _T, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_failure(exc, self._where) from None

    return wrapper
