"""The scan store: scans, pages, copies, findings, triage marks and the WARC evidence index.

`open_store(spec)` gives a `Store`. A path opens (or creates) a SQLite file in WAL mode with
versioned migrations (PRAGMA user_version); the WARC evidence goes to `<db stem>-evidence/`
beside it. The stages only see the `Store` protocol, so a PostgreSQL store can follow.

History semantics (per failed check, identified by page URL, source URL and rule id):
- `new`: the previous finished scan with the same key did not have this check failing;
- `first_seen`: when the current unbroken run of failures began (the start time of the
  scan that first reported it as new);
- `resolved`: checks failing in the previous scan with the same key that no longer fail,
  except on pages skipped this time (unknown is not fixed).
Triage marks (false-positive, licensed, notified, ignored) apply to every later scan: the
finding stays in the report, marked, but no longer counts as a violation.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from xpostcheck.errors import StoreError
from xpostcheck.models import (
    Copy,
    Fetched,
    Finding,
    PageState,
    Passage,
    Report,
    Resolved,
    SkipCode,
    verdict_for,
)
from xpostcheck.store.evidence import EvidenceRecord, read_record, write_response
from xpostcheck.util.urls import canonicalize, host_of

__all__ = ["TRIAGE_STATUSES", "ScanSummary", "SqliteStore", "Store", "open_store"]

TRIAGE_STATUSES = ("false-positive", "licensed", "notified", "ignored")


@dataclass(frozen=True)
class ScanSummary:
    """One line of `xpostcheck history`."""

    scan: int
    started: str
    finished: str | None  # None: the scan did not finish (crashed or still running)
    rules: str
    pages: int
    copies: int
    violations: int
    new: int
    resolved: int
    skipped: int


class Store(Protocol):
    def page_state(self, url: str) -> PageState | None: ...
    def page_states(self, host: str) -> dict[str, PageState]: ...
    def previous_copies(self, url: str) -> list[Copy]: ...
    def rules_of_latest(self, url: str) -> str | None: ...
    def begin_scan(self, key: str, started: str, fingerprint: str = "") -> int: ...
    def record_page(
        self, scan_id: int, fetched: Fetched, *, is_copy: bool, before: PageState | None = None
    ) -> None: ...
    def finish_scan(self, scan_id: int, report: Report) -> Report: ...
    def note_sources(self, scan_id: int, hashes: Mapping[str, str]) -> set[str]: ...
    def sources_since(self, scan_id: int) -> list[str]: ...
    def save_page_text(
        self, scan_id: int, url: str, text: str, links: Sequence[str] = ()
    ) -> None: ...
    def page_text(self, url: str) -> str | None: ...
    def page_snapshot(self, url: str) -> tuple[str, tuple[str, ...]] | None: ...
    def triage(
        self,
        url: str,
        status: str,
        *,
        note: str = "",
        source_url: str | None = None,
        rule: str | None = None,
    ) -> int: ...
    def history(self, limit: int = 20) -> list[ScanSummary]: ...
    def evidence(self, url: str) -> bytes | None: ...
    def close(self) -> None: ...


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
)


def open_store(spec: str | Path) -> Store:
    """Open the store named by `spec`: a file path (SQLite) or a postgresql:// URL."""
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
    return SqliteStore(Path(text))


def _redact(url: str) -> str:
    """Drop a password from a database URL before it goes into a message."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in creds else url


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _key(url: str) -> str:
    return canonicalize(url)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(
    method: Callable[Concatenate[SqliteStore, _P], _R],
) -> Callable[Concatenate[SqliteStore, _P], _R]:
    """One call at a time on the store's connection, whichever thread makes it."""

    @functools.wraps(method)
    def wrapper(self: SqliteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class SqliteStore:
    """The default store: one SQLite file in WAL mode, and a folder of WARC files beside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.evidence_dir = path.with_name(f"{path.stem}-evidence")
        self._lock = threading.RLock()  # the crawler asks page_state from its own thread
        if path.is_dir():
            raise StoreError("is a folder; give a database file path for --db", where=str(path))
        if not path.parent.is_dir():
            raise StoreError(
                "the database's folder does not exist; create it or choose another --db",
                where=str(path),
            )
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database: {exc}", where=str(path)) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last
            # commits, which a re-run of the scan restores. FULL costs an fsync per page.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"not a usable xpostcheck database ({exc}); choose another --db", where=str(path)
            ) from None
        except BaseException:
            self._db.close()
            raise

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the database has schema version {version}, newer than this xpostcheck knows "
                f"({len(MIGRATIONS)}); upgrade xpostcheck",
                where=str(self.path),
            )
        if version == 0:
            tables = self._db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
            if tables:
                raise StoreError(
                    "this SQLite file holds other tables and no xpostcheck schema; "
                    "choose another --db",
                    where=str(self.path),
                )
        for number in range(version, len(MIGRATIONS)):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(MIGRATIONS[number]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={number + 1}")
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(
                    f"schema migration {number + 1} failed ({exc}); the database was left at "
                    f"version {number}",
                    where=str(self.path),
                ) from None
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- pages ----------------------------------------------------------------------------

    @_locked
    def page_state(self, url: str) -> PageState | None:
        """What the latest finished scan saw at `url`, for a conditional request."""
        row = self._db.execute(
            """SELECT p.final_url, p.etag, p.last_modified, p.content_hash, p.fetched_at,
                      p.links, p.cache_control, p.expires, s.fingerprint, p.scan_id
               FROM pages p JOIN scans s ON s.id = p.scan_id
               WHERE (p.url = ? OR p.final_url = ?) AND s.finished IS NOT NULL
                 AND (p.status BETWEEN 200 AND 299 OR p.status = 304)
               ORDER BY p.id DESC LIMIT 1""",
            (url, url),
        ).fetchone()
        if row is None:
            return None
        return PageState(
            url=url,
            etag=row[1],
            last_modified=row[2],
            content_hash=row[3],
            fetched_at=row[4],
            links=_links_from_json(row[5]),
            cache_control=row[6],
            expires=row[7],
            fingerprint=row[8],
            scan_id=row[9],
        )

    @_locked
    def page_states(self, host: str) -> dict[str, PageState]:
        """`page_state` of every URL on `host` (any port, any scheme) at once, keyed by the URL
        asked for and by its final URL: a crawl of one site loads them before it starts."""
        rows = self._db.execute(
            """SELECT p.url, p.final_url, p.etag, p.last_modified, p.content_hash, p.fetched_at,
                      p.links, p.cache_control, p.expires, s.fingerprint, p.scan_id
               FROM pages p JOIN scans s ON s.id = p.scan_id
               WHERE s.finished IS NOT NULL
                 AND (p.status BETWEEN 200 AND 299 OR p.status = 304)
               ORDER BY p.id""",
        )
        out: dict[str, PageState] = {}
        for row in rows:  # later rows win, as page_state's ORDER BY id DESC LIMIT 1 does
            if host_of(row[0]) != host and host_of(row[1]) != host:
                continue
            for url in dict.fromkeys((row[0], row[1])):
                out[url] = PageState(
                    url=url,
                    etag=row[2],
                    last_modified=row[3],
                    content_hash=row[4],
                    fetched_at=row[5],
                    links=_links_from_json(row[6]),
                    cache_control=row[7],
                    expires=row[8],
                    fingerprint=row[9],
                    scan_id=row[10],
                )
        return out

    @_locked
    def record_page(
        self, scan_id: int, fetched: Fetched, *, is_copy: bool, before: PageState | None = None
    ) -> None:
        """Record a fetched page. For a 304, `before` is its state from page_state() when the
        caller has it already (else it is looked up again)."""
        etag = fetched.header("ETag")
        last_modified = fetched.header("Last-Modified")
        content_hash = fetched.content_hash or None
        links = fetched.links
        cache_control = fetched.header("Cache-Control")
        expires = fetched.header("Expires")
        if fetched.unchanged:  # a 304 keeps what the earlier full response said
            if before is None:
                before = self.page_state(fetched.url) or self.page_state(fetched.final_url)
            if before is not None:
                etag = etag or before.etag
                last_modified = last_modified or before.last_modified
                content_hash = before.content_hash
                links = links or before.links
                cache_control = cache_control or before.cache_control
                expires = expires or before.expires
        with self._lock:
            self._db.execute(
                """INSERT INTO pages (scan_id, url, final_url, url_key, fetched_at, status,
                       etag, last_modified, content_hash, is_copy, links, cache_control,
                       expires)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    scan_id,
                    fetched.url,
                    fetched.final_url,
                    _key(fetched.final_url),
                    fetched.fetched_at,
                    fetched.status,
                    etag,
                    last_modified,
                    content_hash,
                    int(is_copy),
                    json.dumps(list(links)),
                    cache_control,
                    expires,
                ),
            )
            if is_copy and not fetched.unchanged:
                rec = write_response(self.evidence_dir, f"scan-{scan_id:06d}.warc.gz", fetched)
                self._db.execute(
                    """INSERT INTO evidence (scan_id, url, final_url, url_key, fetched_at, file,
                           offset, length, sha256, payload_sha256, record_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        scan_id,
                        fetched.url,
                        fetched.final_url,
                        _key(fetched.final_url),
                        fetched.fetched_at,
                        rec.file,
                        rec.offset,
                        rec.length,
                        rec.sha256,
                        rec.payload_sha256,
                        rec.record_id,
                    ),
                )

    # -- sources and page texts: what an unchanged page was matched against ---------------

    @_locked
    def note_sources(self, scan_id: int, hashes: Mapping[str, str]) -> set[str]:
        """Record the scan's source articles ({url: sha256 of the text}). A new article, or a
        new text of a known one, is stamped with this scan. Returns the urls whose text
        changed (not the new ones)."""
        known = dict(self._db.execute("SELECT url, sha256 FROM sources").fetchall())
        fresh = [(u, h) for u, h in hashes.items() if known.get(u) != h]
        if fresh:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO sources (url, sha256, scan_id) VALUES (?, ?, ?)",
                    [(u, h, scan_id) for u, h in fresh],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return {u for u, _h in fresh if u in known}

    @_locked
    def sources_since(self, scan_id: int) -> list[str]:
        """Sources whose current text arrived after scan `scan_id`."""
        rows = self._db.execute(
            "SELECT url FROM sources WHERE scan_id > ? ORDER BY url", (scan_id,)
        ).fetchall()
        return [r[0] for r in rows]

    @_locked
    def save_page_text(self, scan_id: int, url: str, text: str, links: Sequence[str] = ()) -> None:
        """Keep the page's full text and the hrefs of all its links, as last analysed."""
        self._db.execute(
            "INSERT OR REPLACE INTO page_texts (url_key, scan_id, text, links) VALUES (?, ?, ?, ?)",
            (
                _key(url),
                scan_id,
                zlib.compress(text.encode("utf-8"), 6),
                zlib.compress(json.dumps(list(links)).encode("utf-8"), 6),
            ),
        )

    @_locked
    def page_snapshot(self, url: str) -> tuple[str, tuple[str, ...]] | None:
        """(full text, link hrefs) of the page at `url` when it was last analysed, if kept."""
        row = self._db.execute(
            "SELECT text, links FROM page_texts WHERE url_key = ?", (_key(url),)
        ).fetchone()
        if row is None:
            return None
        try:
            text = zlib.decompress(row[0]).decode("utf-8")
            links = json.loads(zlib.decompress(row[1])) if row[1] else []
        except (zlib.error, UnicodeDecodeError, ValueError):
            return None
        return text, tuple(str(h) for h in links if isinstance(h, str))

    def page_text(self, url: str) -> str | None:
        """The full text of the page at `url` when it was last analysed, if kept."""
        snapshot = self.page_snapshot(url)
        return None if snapshot is None else snapshot[0]

    @_locked
    def evidence(self, url: str) -> bytes | None:
        """Every WARC record kept for `url`, latest first, as one .warc.gz blob."""
        rows = self._db.execute(
            """SELECT file, offset, length, sha256, payload_sha256, record_id FROM evidence
               WHERE url = ? OR final_url = ? OR url_key = ? ORDER BY id DESC""",
            (url, url, _key(url)),
        ).fetchall()
        if not rows:
            return None
        return b"".join(read_record(self.evidence_dir, EvidenceRecord(*row)) for row in rows)

    # -- scans ----------------------------------------------------------------------------

    @_locked
    def begin_scan(self, key: str, started: str, fingerprint: str = "") -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO scans (key, started, fingerprint) VALUES (?, ?, ?)",
                (key, started, fingerprint),
            )
            return int(cur.lastrowid or 0)

    def _latest_copy_scan(self, url: str) -> int | None:
        """The latest finished scan that fetched `url` (and so recorded its copies, if any)."""
        row = self._db.execute(
            """SELECT max(p.scan_id) FROM pages p JOIN scans s ON s.id = p.scan_id
               WHERE (p.url = ? OR p.final_url = ? OR p.url_key = ?) AND s.finished IS NOT NULL""",
            (url, url, _key(url)),
        ).fetchone()
        if row is None or row[0] is None:
            # Reports written without record_page (e.g. from Python) still have copies.
            row = self._db.execute(
                """SELECT max(c.scan_id) FROM copies c JOIN scans s ON s.id = c.scan_id
                   WHERE c.url_key = ? AND s.finished IS NOT NULL""",
                (_key(url),),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    @_locked
    def rules_of_latest(self, url: str) -> str | None:
        """The rule set's name of the latest finished scan that fetched `url`."""
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return None
        row = self._db.execute("SELECT rules FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return str(row[0]) if row and row[0] else None

    @_locked
    def previous_copies(self, url: str) -> list[Copy]:
        """The copies recorded for `url` by the latest finished scan that fetched it, with the
        triage marks as they stand now."""
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return []
        marks = self._triage_marks()
        copies = []
        key = _key(url)
        for copy in self._copies(scan_id, url_key=key):
            checks = tuple(
                _with_mark(f, None if f.passed else _mark_for(marks, key, copy, f))
                for f in copy.checks
            )
            copies.append(replace(copy, checks=checks, verdict=verdict_for(checks)))
        return copies

    def _copies(self, scan_id: int, *, url_key: str | None = None) -> list[Copy]:
        sql = """SELECT id, url, site, source_url, coverage, kind, verdict, passages, title,
                        source_title, fetched_at FROM copies WHERE scan_id = ?"""
        args: list[Any] = [scan_id]
        if url_key is not None:
            sql += " AND url_key = ?"
            args.append(url_key)
        out = []
        for row in self._db.execute(sql + " ORDER BY id", args).fetchall():
            findings = tuple(
                Finding(
                    rule=f[0],
                    kind=f[1],
                    passed=bool(f[2]),
                    severity=f[3],
                    message=f[4],
                    evidence=f[5],
                    first_seen=f[6],
                    new=None if f[7] is None else bool(f[7]),
                    triage=f[8],
                    triage_note=f[9],
                )
                for f in self._db.execute(
                    """SELECT rule, kind, passed, severity, message, evidence, first_seen, new,
                              triage, triage_note FROM findings WHERE copy_id = ?
                       ORDER BY position""",
                    (row[0],),
                ).fetchall()
            )
            out.append(
                Copy(
                    url=row[1],
                    site=row[2],
                    source_url=row[3],
                    coverage=row[4],
                    kind=row[5],
                    verdict=row[6],
                    passages=tuple(Passage(*p) for p in json.loads(row[7])),
                    checks=findings,
                    title=row[8],
                    source_title=row[9],
                    fetched_at=row[10],
                )
            )
        return out

    def _triage_marks(self) -> dict[tuple[str, str, str], tuple[str, str]]:
        return {
            (r[0], r[1], r[2]): (r[3], r[4])
            for r in self._db.execute("SELECT url_key, source_url, rule, status, note FROM triage")
        }

    @_locked
    def finish_scan(self, scan_id: int, report: Report) -> Report:
        """Persist the scan's copies and findings; return the report annotated with history
        (first_seen/new per failed check, resolved[]), triage marks and the scan id."""
        exists = self._db.execute("SELECT finished FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if exists is None:
            raise StoreError(f"no scan #{scan_id} was begun in this database", where=str(self.path))
        if exists[0] is not None:
            raise StoreError(f"scan #{scan_id} is already finished", where=str(self.path))
        started = report.scan.started
        scan_key = self._db.execute("SELECT key FROM scans WHERE id = ?", (scan_id,)).fetchone()[0]
        previous: dict[tuple[str, str, str], tuple[str, str, str | None]] = {}
        for url, url_key, source_url, rule, kind, first_seen in self._db.execute(
            """SELECT url, url_key, source_url, rule, kind, first_seen FROM open_findings
               WHERE key = ? ORDER BY rowid""",
            (scan_key,),
        ):
            previous[(url_key, source_url, rule)] = (url, kind, first_seen)
        marks = self._triage_marks()

        keys = {c.url: _key(c.url) for c in report.copies}  # canonicalize once per page
        copies = []
        failing: set[tuple[str, str, str]] = set()
        for copy in report.copies:
            key = keys[copy.url]
            checks = []
            for f in copy.checks:
                if f.passed:
                    checks.append(
                        replace(f, first_seen=None, new=None, triage=None, triage_note="")
                    )
                    continue
                ident = (key, copy.source_url, f.rule)
                failing.add(ident)
                before = previous.get(ident)
                history = replace(
                    f,
                    new=before is None,
                    first_seen=started if before is None else (before[2] or started),
                )
                checks.append(_with_mark(history, _mark_for(marks, key, copy, f)))
            annotated = tuple(checks)
            copies.append(replace(copy, checks=annotated, verdict=verdict_for(annotated)))

        # A page that answered 404 or 410 is gone, and its findings with it.
        gone = {_key(s.url) for s in report.skipped if s.code is SkipCode.GONE}
        skipped_keys = {_key(s.url) for s in report.skipped} - gone
        # Otherwise a finding is resolved only where this scan looked again: a page it fetched
        # (when it recorded its pages) and did not skip. A page of an unreachable site, or one
        # the crawl did not reach this time, keeps its findings open.
        seen = {
            r[0]
            for r in self._db.execute("SELECT url_key FROM pages WHERE scan_id = ?", (scan_id,))
        }
        resolved = tuple(
            Resolved(url=url, source_url=ident[1], rule=ident[2], kind=kind)
            for ident, (url, kind, _first) in previous.items()
            if ident not in failing
            and (
                ident[0] in gone
                or ident[0] not in skipped_keys
                # (a report built without record_page: any page but the skipped ones)
                and (ident[0] in seen if seen else report.scan.pages_fetched > 0)
            )
        )
        scan = replace(report.scan, scan_id=scan_id)
        out = replace(report, scan=scan, copies=tuple(copies), resolved=resolved)
        self._persist(scan_id, out, keys, scan_key, previous)
        return out

    def _persist(
        self,
        scan_id: int,
        report: Report,
        keys: dict[str, str],
        scan_key: str,
        previous: dict[tuple[str, str, str], tuple[str, str, str | None]],
    ) -> None:
        s = report.scan
        info = {
            "sources": s.sources,
            "pages_fetched": s.pages_fetched,
            "pages_unchanged": s.pages_unchanged,
            "sites": list(s.sites),
        }
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                for copy in report.copies:
                    cur = db.execute(
                        """INSERT INTO copies (scan_id, url, url_key, site, source_url, coverage,
                               kind, verdict, passages, title, source_title, fetched_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (
                            scan_id,
                            copy.url,
                            keys[copy.url],
                            copy.site,
                            copy.source_url,
                            copy.coverage,
                            copy.kind,
                            copy.verdict,
                            _passages_json(copy.passages),
                            copy.title,
                            copy.source_title,
                            copy.fetched_at,
                        ),
                    )
                    copy_id = cur.lastrowid
                    db.executemany(
                        """INSERT INTO findings (copy_id, scan_id, position, url, url_key,
                               source_url, rule, kind, passed, severity, message, evidence,
                               first_seen, new, triage, triage_note)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        [
                            (
                                copy_id,
                                scan_id,
                                i,
                                copy.url,
                                keys[copy.url],
                                copy.source_url,
                                f.rule,
                                f.kind,
                                int(f.passed),
                                f.severity,
                                f.message,
                                f.evidence,
                                f.first_seen,
                                None if f.new is None else int(f.new),
                                f.triage,
                                f.triage_note,
                            )
                            for i, f in enumerate(copy.checks)
                        ],
                    )
                db.executemany(
                    "INSERT INTO skipped (scan_id, url, reason) VALUES (?, ?, ?)",
                    [(scan_id, k.url, k.reason) for k in report.skipped],
                )
                db.executemany(
                    """INSERT INTO resolved (scan_id, url, source_url, rule, kind)
                       VALUES (?, ?, ?, ?, ?)""",
                    [(scan_id, r.url, r.source_url, r.rule, r.kind) for r in report.resolved],
                )
                # What stays open for the next scan of this key: what failed now, and what
                # was open before and neither failed nor was resolved (not looked at).
                db.executemany(
                    "DELETE FROM open_findings WHERE key = ? AND url_key = ? AND source_url = ?"
                    " AND rule = ?",
                    [(scan_key, _key(r.url), r.source_url, r.rule) for r in report.resolved],
                )
                db.executemany(
                    """INSERT OR REPLACE INTO open_findings
                           (key, url_key, source_url, rule, url, kind, first_seen)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    [
                        (
                            scan_key,
                            keys[c.url],
                            c.source_url,
                            f.rule,
                            c.url,
                            f.kind,
                            f.first_seen,
                        )
                        for c in report.copies
                        for f in c.checks
                        if not f.passed
                    ],
                )
                db.execute(
                    """UPDATE scans SET finished = ?, rules = ?, info = ?, pages = ?, copies = ?,
                           violations = ?, new = ?, resolved = ?, skipped = ? WHERE id = ?""",
                    (
                        s.finished,
                        s.rules,
                        json.dumps(info),
                        s.pages_fetched,
                        len(report.copies),
                        len(report.violations),
                        len(report.new_violations),
                        len(report.resolved),
                        len(report.skipped),
                        scan_id,
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- triage and history ---------------------------------------------------------------

    @_locked
    def triage(
        self,
        url: str,
        status: str,
        *,
        note: str = "",
        source_url: str | None = None,
        rule: str | None = None,
    ) -> int:
        """Mark the findings on `url` (optionally one source article or one rule). Returns how
        many findings of the latest scan of `url` the mark covers; 0 records nothing."""
        if status not in TRIAGE_STATUSES:
            raise StoreError(
                f"unknown triage status {status!r}; use one of {', '.join(TRIAGE_STATUSES)}",
                where=url,
            )
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return 0
        sql = "SELECT count(*) FROM findings WHERE scan_id = ? AND url_key = ?"
        args: list[Any] = [scan_id, _key(url)]
        if source_url is not None:
            sql += " AND source_url = ?"
            args.append(source_url)
        if rule is not None:
            sql += " AND rule = ?"
            args.append(rule)
        count = int(self._db.execute(sql, args).fetchone()[0])
        if count == 0:
            return 0
        with self._lock:
            self._db.execute(
                """INSERT INTO triage (url_key, source_url, rule, status, note, created)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url_key, source_url, rule)
                   DO UPDATE SET status = excluded.status, note = excluded.note,
                                 created = excluded.created""",
                (_key(url), source_url or "", rule or "", status, note, _now()),
            )
        return count

    @_locked
    def triage_marks(self, url: str) -> list[dict[str, str]]:
        """The triage marks stored for `url`, with their notes (for display)."""
        rows = self._db.execute(
            """SELECT source_url, rule, status, note, created FROM triage WHERE url_key = ?
               ORDER BY id""",
            (_key(url),),
        ).fetchall()
        keys = ("source_url", "rule", "status", "note", "created")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    @_locked
    def history(self, limit: int = 20) -> list[ScanSummary]:
        rows = self._db.execute(
            """SELECT id, started, finished, rules, pages, copies, violations, new, resolved,
                      skipped FROM scans ORDER BY id DESC LIMIT ?""",
            (max(0, limit),),
        ).fetchall()
        return [ScanSummary(*row) for row in rows]

    @_locked
    def report(self, scan_id: int) -> Report | None:
        """A finished scan's report as it was persisted (triage marks as they were then)."""
        from xpostcheck.models import ScanInfo, Skipped

        row = self._db.execute(
            """SELECT started, finished, rules, info FROM scans
               WHERE id = ? AND finished IS NOT NULL""",
            (scan_id,),
        ).fetchone()
        if row is None:
            return None
        info = json.loads(row[3])
        scan = ScanInfo(
            started=row[0],
            finished=row[1],
            sources=int(info.get("sources", 0)),
            pages_fetched=int(info.get("pages_fetched", 0)),
            sites=tuple(info.get("sites", ())),
            rules=row[2],
            pages_unchanged=int(info.get("pages_unchanged", 0)),
            scan_id=scan_id,
        )
        skipped = tuple(
            Skipped(*r)
            for r in self._db.execute(
                "SELECT url, reason FROM skipped WHERE scan_id = ? ORDER BY rowid", (scan_id,)
            )
        )
        resolved = tuple(
            Resolved(*r)
            for r in self._db.execute(
                "SELECT url, source_url, rule, kind FROM resolved WHERE scan_id = ? ORDER BY rowid",
                (scan_id,),
            )
        )
        return Report(
            scan=scan, copies=tuple(self._copies(scan_id)), skipped=skipped, resolved=resolved
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_mark(f: Finding, mark: tuple[str, str] | None) -> Finding:
    return replace(f, triage=mark[0] if mark else None, triage_note=mark[1] if mark else "")


def _mark_for(
    marks: dict[tuple[str, str, str], tuple[str, str]], key: str, copy: Copy, f: Finding
) -> tuple[str, str] | None:
    """The most specific triage mark covering this finding: url+source+rule, url+source,
    url+rule, then the whole URL."""
    for ident in (
        (key, copy.source_url, f.rule),
        (key, copy.source_url, ""),
        (key, "", f.rule),
        (key, "", ""),
    ):
        if ident in marks:
            return marks[ident]
    return None


def _links_from_json(text: str | None) -> tuple[str, ...]:
    """Stored links back as a tuple; anything but a JSON list of strings counts as none."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _passages_json(passages: tuple[Passage, ...]) -> str:
    return json.dumps([[p.source_start, p.source_end, p.page_start, p.page_end] for p in passages])


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our DDL strings)."""
    return [s.strip() for s in script.split(";") if s.strip()]
