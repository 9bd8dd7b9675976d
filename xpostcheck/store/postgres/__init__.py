"""The PostgreSQL backend: the shared store of several machines (psycopg 3 and its pool).

In and out: the `Store` protocol of `store.base`, through the same table classes as SQLite
(`store.sqlite`), whose SQL runs on both (`connection` translates what differs). The schema
is SQLite's, translated where needed (`schema`); WARC evidence lives in the database
(`archive`); a scan's lock is an advisory lock (`scanlock`). Importing this package needs
psycopg (`pip install 'xpostcheck[postgres]'`); nothing else in xpostcheck imports it.
"""

from xpostcheck.store.postgres.scanlock import AdvisoryLock
from xpostcheck.store.postgres.store import PostgresStore

__all__ = ["AdvisoryLock", "PostgresStore"]
