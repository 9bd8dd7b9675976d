"""What the SQLite table classes share: the connection, its lock, and URL keys.

In: nothing from outside the backend. Out: `Tables` (the attributes every table class uses),
`locked` (one call at a time on the connection), `connect`, `url_key_of`, `now_iso`.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from xpostcheck.store.base import EvidenceArchive
from xpostcheck.util.urls import canonicalize

__all__ = ["Tables", "connect", "locked", "now_iso", "url_key_of"]


def connect(path: str) -> sqlite3.Connection:
    """The store's connection: shared by threads (the store serialises calls), autocommit."""
    return sqlite3.connect(path, check_same_thread=False, isolation_level=None)


class Tables:
    """The state every table class works on; `SqliteStore` sets it up."""

    path: Path
    archive: EvidenceArchive
    _db: sqlite3.Connection
    _lock: threading.RLock


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
    """One call at a time on the store's connection, whichever thread makes it."""

    @functools.wraps(method)
    def wrapper(self: _T, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper
