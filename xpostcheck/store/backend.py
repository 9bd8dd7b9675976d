"""Choosing a store backend from a `--db` spec: a file path (SQLite) or a postgresql:// URL.

In: the spec. Out: an open `Store`, or a StoreError naming the spec (passwords redacted).
"""

from __future__ import annotations

from pathlib import Path

from xpostcheck.errors import StoreError
from xpostcheck.store.base import Store
from xpostcheck.store.sqlite import SqliteStore

__all__ = ["open_store"]


def open_store(spec: str | Path, *, check: bool = False) -> Store:
    """Open the store named by `spec`: a file path (SQLite) or a postgresql:// URL. With
    `check` (a scan, before it crawls), also make sure it can be written and is not damaged:
    a StoreError names the file and what to do."""
    text = str(spec)
    if text.startswith(("postgresql://", "postgres://")):
        raise StoreError(
            "PostgreSQL store not available yet; use a SQLite file path for --db",
            where=_redact(text),
        )
    if "://" in text:
        raise StoreError(
            "unknown store URL; give a SQLite file path or a postgresql:// URL", where=_redact(text)
        )
    return SqliteStore(Path(text), check=check)


def _redact(url: str) -> str:
    """Drop a password from a database URL before it goes into a message."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in creds else url
