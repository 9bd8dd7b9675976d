"""Choosing a store backend from a `--db` spec: a file path (SQLite) or a postgresql:// URL.

In: the spec. Out: an open `Store`, or a StoreError naming the spec (passwords redacted);
`scan_lock(spec)`: the lock a scan holds on a PostgreSQL database (a SQLite file's is the
`<db>.lock` file that `pipeline.begin.take_locks` takes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from xpostcheck.errors import StoreError
from xpostcheck.store.base import HeldLock, Store
from xpostcheck.store.dburl import is_postgres_url, redact_db_url
from xpostcheck.store.sqlite import SqliteStore

__all__ = ["open_store", "scan_lock"]


def open_store(spec: str | Path, *, check: bool = False) -> Store:
    """Open the store named by `spec`: a file path (SQLite) or a postgresql:// URL. With
    `check` (a scan, before it crawls), also make sure it can be written and is not damaged:
    a StoreError names the file and what to do."""
    text = str(spec)
    if is_postgres_url(text):
        store: Store = _postgres(text).PostgresStore(text, check=check)
        return store
    if "://" in text:
        raise StoreError(
            "unknown store URL; give a SQLite file path or a postgresql:// URL",
            where=redact_db_url(text),
        )
    return SqliteStore(Path(text), check=check)


def scan_lock(spec: str, *, wait: bool, on_wait: Callable[[str], None]) -> HeldLock | None:
    """For a PostgreSQL store, take the lock one scan at a time holds (an advisory lock; it
    has `release()`); None for a SQLite file, whose lock is a file beside it."""
    if not is_postgres_url(spec):
        return None
    lock: HeldLock = _postgres(spec).AdvisoryLock.acquire(spec, wait=wait, on_wait=on_wait)
    return lock


def _postgres(spec: str) -> ModuleType:
    """The PostgreSQL backend, or a StoreError saying how to install it."""
    try:
        import xpostcheck.store.postgres as backend
    except ImportError as exc:
        raise StoreError(
            f"a PostgreSQL store needs psycopg ({exc}); install it with "
            "pip install 'xpostcheck[postgres]'",
            where=redact_db_url(spec),
        ) from None
    return backend
