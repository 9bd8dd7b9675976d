"""The queue's own tables, beside procrastinate's in the same PostgreSQL database.

In: a postgresql:// URL. Out: `QueueDB`, one psycopg connection with the few statements the
jobs and the commands need. `QueueDB.open(url)` creates procrastinate's schema and these
tables when they are missing, under an advisory lock, so that several workers starting at
once never race (the second waits, then finds them there).

- `xpostcheck_q_scans`: one row per queued scan: its settings, the store's scan id, the
  digest of its source index, what the site jobs share (modified sources, source skips), how
  many units it has, whether a command waits to deliver its report, and its state.
- `xpostcheck_q_units`: one row per site unit: the unit, its state and its result (JSON).
- `xpostcheck_q_pages`: the pages a unit recorded in the store, so that a job run again after
  its worker died records no page twice.
- `xpostcheck_q_hosts`: when each host may be asked again (the end of the last job on it plus
  the delay), so that the next job for the host, of any scan, keeps the delay too.
- `xpostcheck_q_indexes`: source index files by digest (see docs/deploy.md: the index lives
  in the database, so workers need no shared storage).
- `xpostcheck_q_schedules`: periodic scans (name, cron expression, settings, last run).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from xpostcheck.errors import StoreError, XPostCheckError
from xpostcheck.store.dburl import redact_db_url as _redact

__all__ = ["QueueDB", "QueueError", "QueueUnavailable"]

_LOCK_KEY = 0x7870_6F73  # advisory lock for schema set-up ("xpos")

_TABLES = """
CREATE TABLE IF NOT EXISTS xpostcheck_q_scans (
    id BIGSERIAL PRIMARY KEY,
    store_scan BIGINT NOT NULL,
    store TEXT NOT NULL,
    settings JSONB NOT NULL,
    fingerprint TEXT NOT NULL,
    started TEXT NOT NULL,
    index_digest TEXT NOT NULL,
    modified JSONB NOT NULL DEFAULT '[]',
    source_skips JSONB NOT NULL DEFAULT '[]',
    units INTEGER NOT NULL,
    waiting BOOLEAN NOT NULL DEFAULT false,
    finish_queued BOOLEAN NOT NULL DEFAULT false,
    state TEXT NOT NULL DEFAULT 'running',
    error TEXT,
    undelivered INTEGER NOT NULL DEFAULT 0,
    schedule TEXT,
    created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS xpostcheck_q_units (
    scan BIGINT NOT NULL REFERENCES xpostcheck_q_scans(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    unit JSONB NOT NULL,
    state TEXT NOT NULL DEFAULT 'todo',
    attempts INTEGER NOT NULL DEFAULT 0,
    result JSONB,
    error TEXT,
    PRIMARY KEY (scan, n)
);
CREATE TABLE IF NOT EXISTS xpostcheck_q_pages (
    scan BIGINT NOT NULL REFERENCES xpostcheck_q_scans(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    PRIMARY KEY (scan, url)
);
CREATE TABLE IF NOT EXISTS xpostcheck_q_hosts (
    key TEXT PRIMARY KEY,
    free_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS xpostcheck_q_indexes (
    digest TEXT PRIMARY KEY,
    data BYTEA NOT NULL,
    created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS xpostcheck_q_schedules (
    name TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    settings JSONB NOT NULL,
    last_run TIMESTAMPTZ,
    created TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""


class QueueUnavailable(StoreError):
    """The queue's database cannot be reached or set up (exit 2)."""


class QueueError(XPostCheckError):
    """A queued scan cannot go on (exit 3)."""

    exit_code = 3


class QueueDB:
    """One connection to the queue's database (autocommit; `transaction()` for more)."""

    def __init__(self, conn: Any, url: str) -> None:
        self.conn = conn
        self.url = url

    @classmethod
    def open(cls, url: str, *, setup: bool = True) -> QueueDB:
        """Connect, and (with `setup`) create what is missing. QueueUnavailable names the
        server (password hidden) and says what to check."""
        import psycopg

        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or ["no answer"])[0]
            raise QueueUnavailable(
                f"cannot connect to the queue's PostgreSQL server ({first}); check that it "
                "runs and that the URL, user and password are right",
                where=_redact(url),
            ) from None
        db = cls(conn, url)
        if setup:
            try:
                db._setup()
            except BaseException:
                conn.close()
                raise
        return db

    def _setup(self) -> None:
        from procrastinate.schema import SchemaManager

        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            found = self.conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is None or found[0] is None:
                self.conn.execute(SchemaManager.get_schema())
            self.conn.execute(_TABLES)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> QueueDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.conn.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(sql, params).fetchall()]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.conn.execute(sql, params).rowcount)
