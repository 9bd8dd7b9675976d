"""The SQLite schema: versioned migrations (PRAGMA user_version) and the runner that applies them.

In: an open sqlite3 connection in autocommit mode. Out: the database at the newest version,
or a StoreError naming the file and the migration that failed (each runs in a transaction).
"""

from __future__ import annotations

import contextlib
import sqlite3

from xpostcheck.errors import StoreError

__all__ = [
    "MIGRATIONS",
    "SQLITE_BUSY",
    "SQLITE_CANTOPEN",
    "SQLITE_CORRUPT",
    "SQLITE_ERROR",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_NOTADB",
    "SQLITE_READONLY",
    "migrate",
    "schema_version",
]

# SQLite's primary result codes (an error's sqlite_errorcode & 0xFF), as sqlite3.h names them.
SQLITE_ERROR, SQLITE_BUSY, SQLITE_READONLY, SQLITE_IOERR = 1, 5, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26

# Each entry moves the schema one version up; never edit an entry once released, append one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT,
        rules TEXT NOT NULL DEFAULT '',
        info TEXT NOT NULL DEFAULT '{}',
        pages INTEGER NOT NULL DEFAULT 0,
        copies INTEGER NOT NULL DEFAULT 0,
        violations INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        resolved INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX scans_key ON scans(key, id);
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        final_url TEXT NOT NULL,
        url_key TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT,
        is_copy INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX pages_url ON pages(url);
    CREATE INDEX pages_final_url ON pages(final_url);
    CREATE INDEX pages_url_key ON pages(url_key);
    CREATE TABLE copies (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        url_key TEXT NOT NULL,
        site TEXT NOT NULL,
        source_url TEXT NOT NULL,
        coverage REAL NOT NULL,
        kind TEXT NOT NULL,
        verdict TEXT NOT NULL,
        passages TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        source_title TEXT NOT NULL DEFAULT '',
        fetched_at TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX copies_scan ON copies(scan_id);
    CREATE INDEX copies_url_key ON copies(url_key, scan_id);
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        copy_id INTEGER NOT NULL REFERENCES copies(id),
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        position INTEGER NOT NULL,
        url TEXT NOT NULL,
        url_key TEXT NOT NULL,
        source_url TEXT NOT NULL,
        rule TEXT NOT NULL,
        kind TEXT NOT NULL,
        passed INTEGER NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        evidence TEXT,
        first_seen TEXT,
        new INTEGER,
        triage TEXT
    );
    CREATE INDEX findings_copy ON findings(copy_id, position);
    CREATE INDEX findings_scan ON findings(scan_id, passed);
    CREATE TABLE triage (
        id INTEGER PRIMARY KEY,
        url_key TEXT NOT NULL,
        source_url TEXT NOT NULL DEFAULT '',
        rule TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        UNIQUE (url_key, source_url, rule)
    );
    CREATE TABLE skipped (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE TABLE resolved (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        source_url TEXT NOT NULL,
        rule TEXT NOT NULL,
        kind TEXT NOT NULL
    );
    CREATE TABLE evidence (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url TEXT NOT NULL,
        final_url TEXT NOT NULL,
        url_key TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        file TEXT NOT NULL,
        offset INTEGER NOT NULL,
        length INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        payload_sha256 TEXT NOT NULL,
        record_id TEXT NOT NULL
    );
    CREATE INDEX evidence_url_key ON evidence(url_key);
    """,
    # 2: the reason given with a triage mark travels with each finding it covered.
    """
    ALTER TABLE findings ADD COLUMN triage_note TEXT NOT NULL DEFAULT ''
    """,
    # 3: a page's in-site links (Fetched.links, JSON list), so that a 304 on the next scan
    # still leads the crawler on without fetching the page in full.
    """
    ALTER TABLE pages ADD COLUMN links TEXT NOT NULL DEFAULT '[]'
    """,
    # 4: what a page's verdicts depended on, and how long its server said it stays fresh.
    # - scans.fingerprint digests the version, the rules (with options and severities) and
    #   the match settings: a page is carried over only into a scan with the same one.
    # - sources: each source article's text hash and the scan in which that text arrived, so
    #   that a later scan knows which sources an unchanged page was never matched against.
    # - page_texts: the latest full text of each page, compressed, to match an unchanged page
    #   against sources that arrived since, without fetching it again.
    # - pages.cache_control and pages.expires: the response's caching headers.
    # - open_findings: per scan key, each failed check not yet resolved, with its first
    #   sighting, so that a page skipped for a while (a timeout, an unreachable site) keeps
    #   its findings' history instead of coming back "new". Filled from each key's latest scan.
    """
    ALTER TABLE scans ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
    ALTER TABLE pages ADD COLUMN cache_control TEXT;
    ALTER TABLE pages ADD COLUMN expires TEXT;
    CREATE TABLE sources (
        url TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        scan_id INTEGER NOT NULL
    );
    CREATE INDEX sources_scan ON sources(scan_id);
    CREATE TABLE page_texts (
        url_key TEXT PRIMARY KEY,
        scan_id INTEGER NOT NULL,
        text BLOB NOT NULL,
        links BLOB
    );
    CREATE TABLE open_findings (
        key TEXT NOT NULL,
        url_key TEXT NOT NULL,
        source_url TEXT NOT NULL,
        rule TEXT NOT NULL,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_seen TEXT,
        PRIMARY KEY (key, url_key, source_url, rule)
    );
    INSERT OR IGNORE INTO open_findings
        SELECT s.key, f.url_key, f.source_url, f.rule, f.url, f.kind, f.first_seen
        FROM findings f JOIN scans s ON s.id = f.scan_id
        WHERE f.passed = 0 AND f.scan_id = (
            SELECT max(s2.id) FROM scans s2 WHERE s2.key = s.key AND s2.finished IS NOT NULL)
    """,
    # 5: why a URL was skipped, as a code (models.SkipCode) beside the words for people.
    """
    ALTER TABLE skipped ADD COLUMN code TEXT NOT NULL DEFAULT 'other'
    """,
    # 6: alerts are delivered before history is committed, and history is ordered by when
    # each page was seen (issue 12).
    # - scans.delivered: when the scan's report went out; a finished scan without it changed
    #   no history (its findings stay new). Scans finished before this version were.
    # - open_findings becomes the ledger of the newest look at each finding: seen_at (the
    #   page's fetch time) and open (0: that look found it fixed).
    # - observations: a finished scan's looks, waiting for its delivery to reach the ledger.
    """
    ALTER TABLE scans ADD COLUMN delivered TEXT;
    UPDATE scans SET delivered = finished WHERE finished IS NOT NULL;
    ALTER TABLE open_findings ADD COLUMN seen_at TEXT;
    ALTER TABLE open_findings ADD COLUMN open INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE observations (
        scan_id INTEGER NOT NULL REFERENCES scans(id),
        url_key TEXT NOT NULL,
        source_url TEXT NOT NULL,
        rule TEXT NOT NULL,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_seen TEXT,
        seen_at TEXT,
        open INTEGER NOT NULL,
        PRIMARY KEY (scan_id, url_key, source_url, rule)
    )
    """,
    # 7: a triage mark names one finding and records its evidence when set (NULL in marks
    # set before); `lapsed` is when a delivered scan found that evidence changed materially,
    # after which the mark covers nothing (issue 13).
    """
    ALTER TABLE triage ADD COLUMN evidence TEXT;
    ALTER TABLE triage ADD COLUMN lapsed TEXT
    """,
    # 8: one page row and one evidence row per scan and URL, so that recording a page again
    # in the same scan (a retried job on a worker) replaces its row instead of adding one.
    # Earlier duplicates within a scan are dropped, the newest (as page_state read) kept.
    """
    DELETE FROM pages WHERE id NOT IN (SELECT max(id) FROM pages GROUP BY scan_id, url);
    CREATE UNIQUE INDEX pages_scan_url ON pages(scan_id, url);
    DELETE FROM evidence WHERE id NOT IN (SELECT max(id) FROM evidence GROUP BY scan_id, url);
    CREATE UNIQUE INDEX evidence_scan_url ON evidence(scan_id, url)
    """,
)


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, where: str) -> None:
    """Bring the database up to `len(MIGRATIONS)`, one transaction per migration. Refuses a
    newer schema and a file that holds someone else's tables.

    Each step reads the version inside the write transaction that migrates it (BEGIN
    IMMEDIATE), so that processes opening a new database at once migrate it once: the others
    wait for the write lock (busy_timeout), then find the work done."""
    if schema_version(db) == len(MIGRATIONS):
        return  # the common case, without taking the write lock
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)
            _refuse(db, version, where)
            if version == len(MIGRATIONS):
                db.execute("COMMIT")
                return
            for statement in _statements(MIGRATIONS[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={version + 1}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(db)
            if _is_write_failure(exc):
                raise  # a full disk, a read-only file: the store names it
            raise StoreError(
                f"schema migration {version + 1} failed ({exc}); the database was left at "
                f"version {version}",
                where=where,
            ) from None
        except BaseException:
            _rollback(db)
            raise


def _refuse(db: sqlite3.Connection, version: int, where: str) -> None:
    if version > len(MIGRATIONS):
        raise StoreError(
            f"the database has schema version {version}, newer than this xpostcheck knows "
            f"({len(MIGRATIONS)}); upgrade xpostcheck",
            where=where,
        )
    if version == 0:
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        if tables:
            raise StoreError(
                "this SQLite file holds other tables and no xpostcheck schema; choose another --db",
                where=where,
            )


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open (SQLite ends some on its own, a full disk)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _is_write_failure(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our DDL strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]
