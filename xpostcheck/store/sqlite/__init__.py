"""The SQLite backend: one file in WAL mode, and an evidence archive beside it.

In and out: the `Store` protocol of `store.base`. `SqliteStore` is assembled from one class
per group of tables (pages, copies and triage, scans), which share a connection and a lock
(`tables.Tables`). The schema and its migrations are in `store.schema`.
"""

from xpostcheck.store.sqlite.store import SqliteStore
from xpostcheck.store.sqlite.tables import connect

__all__ = ["SqliteStore", "connect"]
