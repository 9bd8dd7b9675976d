"""`SqliteStore`: the table classes over one SQLite connection, and an evidence archive.

In: a database path, optionally an `EvidenceArchive` and a `connect` function. Out: a `Store`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from xpostcheck.errors import StoreError
from xpostcheck.store.base import EvidenceArchive
from xpostcheck.store.evidence import WarcFolder
from xpostcheck.store.schema import migrate, schema_version
from xpostcheck.store.sqlite.pages import PageTables
from xpostcheck.store.sqlite.scans import ScanTables
from xpostcheck.store.sqlite.tables import connect

__all__ = ["SqliteStore"]


class SqliteStore(ScanTables, PageTables):
    """The default store: one SQLite file in WAL mode, and an evidence archive (by default a
    folder of WARC files beside it). `connect` opens the connection (sqlite3's, shared by
    threads); every statement runs under the store's lock."""

    def __init__(
        self,
        path: Path,
        *,
        archive: EvidenceArchive | None = None,
        connect: Callable[[str], sqlite3.Connection] = connect,
    ) -> None:
        self.path = path
        self.archive = archive or WarcFolder(path.with_name(f"{path.stem}-evidence"))
        self._lock = threading.RLock()  # the crawler asks page_state from its own thread
        if path.is_dir():
            raise StoreError("is a folder; give a database file path for --db", where=str(path))
        if not path.parent.is_dir():
            raise StoreError(
                "the database's folder does not exist; create it or choose another --db",
                where=str(path),
            )
        try:
            self._db = connect(str(path))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database: {exc}", where=str(path)) from None
        try:
            with self._lock:
                self._db.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last
                # commits, which a re-run of the scan restores. FULL costs an fsync per page.
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._db.execute("PRAGMA busy_timeout=10000")
                migrate(self._db, str(path))
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"not a usable xpostcheck database ({exc}); choose another --db", where=str(path)
            ) from None
        except BaseException:
            self._db.close()
            raise

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
