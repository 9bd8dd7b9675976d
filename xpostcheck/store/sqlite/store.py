"""`SqliteStore`: the table classes over one SQLite connection, and an evidence archive.

In: a database path, optionally an `EvidenceArchive` and a `connect` function. Out: a `Store`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from xpostcheck.errors import StoreError
from xpostcheck.store.base import EvidenceArchive
from xpostcheck.store.evidence import WarcFolder
from xpostcheck.store.schema import (
    SQLITE_BUSY,
    SQLITE_ERROR,
    SQLITE_NOTADB,
    migrate,
    schema_version,
)
from xpostcheck.store.sqlite.pages import PageTables
from xpostcheck.store.sqlite.scans import ScanTables
from xpostcheck.store.sqlite.tables import connect, store_failure

__all__ = ["SqliteStore"]

_BUSY_TRIES = 20  # set-up attempts when SQLite answers "database is locked" without waiting


class SqliteStore(ScanTables, PageTables):
    """The default store: one SQLite file in WAL mode, and an evidence archive (by default a
    folder of WARC files beside it). `connect` opens the connection (sqlite3's, shared by
    threads); every statement runs under the store's lock. With `check` (a scan opens it so,
    before it crawls) the file must be writable and pass SQLite's quick_check, so that a
    read-only or damaged database is one line before the crawl rather than an error after."""

    _db: sqlite3.Connection

    def __init__(
        self,
        path: Path,
        *,
        archive: EvidenceArchive | None = None,
        connect: Callable[[str], sqlite3.Connection] = connect,
        check: bool = False,
    ) -> None:
        self.path = path
        self._where = str(path)
        self.archive = archive or WarcFolder(path.with_name(f"{path.stem}-evidence"))
        self._lock = threading.RLock()  # the crawler asks page_state from its own thread
        if path.is_dir():
            raise StoreError("is a folder; give a database file path for --db", where=str(path))
        if not path.parent.is_dir():
            raise StoreError(
                "the database's folder does not exist; create it or choose another --db",
                where=str(path),
            )
        if check:
            _check_writable(path)
        try:
            self._db = connect(str(path))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database: {exc}", where=str(path)) from None
        try:
            with self._lock:
                self._set_up(check)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code in (SQLITE_ERROR, SQLITE_NOTADB, 0):
                raise StoreError(
                    f"not a usable xpostcheck database ({exc}); choose another --db",
                    where=str(path),
                ) from None
            raise store_failure(exc, str(path), during_scan=False) from None
        except BaseException:
            self._db.close()
            raise

    def _set_up(self, check: bool) -> None:
        """Pragmas, migrations and (with `check`) the quick check. Another process setting up
        a new file at the same moment can make SQLite answer "database is locked" without
        waiting (switching to WAL, recovering its index): a bounded number of tries."""
        for attempt in range(_BUSY_TRIES):
            try:
                self._db.execute("PRAGMA busy_timeout=10000")  # first: WAL waits for others
                self._db.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last
                # commits, which a re-run of the scan restores. FULL costs an fsync per page.
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                migrate(self._db, str(self.path))
                break
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY
                if not busy or attempt == _BUSY_TRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        if check:
            self._quick_check()

    def _quick_check(self) -> None:
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)").fetchall()]
        if problems != ["ok"]:
            raise StoreError(
                f"the database is damaged ({'; '.join(problems)}); restore it from a backup, "
                "or choose another --db (sqlite3's .recover command can save what is left)",
                where=str(self.path),
            )

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_writable(path: Path) -> None:
    """A scan writes the database, its -wal and -shm files beside it: refuse a read-only file
    or folder now, not after the crawl."""
    for target, what in ((path, "file"), (path.parent, "folder")):
        if target.exists() and not os.access(target, os.W_OK):
            raise StoreError(
                f"the database is read-only (its {what} cannot be written); make the file and "
                "its folder writable, or choose another --db",
                where=str(path),
            )
