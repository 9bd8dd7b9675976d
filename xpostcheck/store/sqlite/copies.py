"""SQLite tables of copies, findings and triage marks: what a page held when last scanned.

In: URLs, triage marks set by people. Out: Copy records with the marks as they stand now
(applied by `pipeline.history.apply_marks`), and the marks themselves.
"""

from __future__ import annotations

import json
from typing import Any

from xpostcheck.errors import StoreError
from xpostcheck.models import Copy, Finding, Passage
from xpostcheck.pipeline.history import FindingKey, Mark, apply_marks, lapsed_marks
from xpostcheck.store.base import TRIAGE_STATUSES
from xpostcheck.store.sqlite.tables import Tables, locked, now_iso, url_key_of

__all__ = ["CopyTables"]


class CopyTables(Tables):
    """The `CopyLog` and `TriageLog` parts of the store."""

    def _latest_copy_scan(self, url: str) -> int | None:
        """The latest finished scan that fetched `url` (and so recorded its copies, if any)."""
        row = self._db.execute(
            """SELECT max(p.scan_id) FROM pages p JOIN scans s ON s.id = p.scan_id
               WHERE (p.url = ? OR p.final_url = ? OR p.url_key = ?) AND s.finished IS NOT NULL""",
            (url, url, url_key_of(url)),
        ).fetchone()
        if row is None or row[0] is None:
            # Reports written without record_page (e.g. from Python) still have copies.
            row = self._db.execute(
                """SELECT max(c.scan_id) FROM copies c JOIN scans s ON s.id = c.scan_id
                   WHERE c.url_key = ? AND s.finished IS NOT NULL""",
                (url_key_of(url),),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    @locked
    def rules_of_latest(self, url: str) -> str | None:
        """The rule set's name of the latest finished scan that fetched `url`."""
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return None
        row = self._db.execute("SELECT rules FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return str(row[0]) if row and row[0] else None

    @locked
    def previous_copies(self, url: str) -> list[Copy]:
        """The copies recorded for `url` by the latest finished scan that fetched it, with the
        triage marks as they stand now."""
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return []
        return apply_marks(self._copies(scan_id, url_key=url_key_of(url)), self._triage_marks())

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

    def _triage_marks(self) -> dict[FindingKey, Mark]:
        """The marks in force (not lapsed)."""
        return {
            (r[0], r[1], r[2]): Mark(r[3], r[4], r[5])
            for r in self._db.execute(
                "SELECT url_key, source_url, rule, status, note, evidence FROM triage "
                "WHERE lapsed IS NULL"
            )
        }

    def _lapse_marks(self, scan_id: int) -> None:
        """Record as lapsed the marks whose finding, as this delivered scan saw it, shows
        evidence that changed materially (inside the caller's transaction)."""
        marks = self._triage_marks()
        # Only the pages with a mark that recorded evidence: a scan of a thousand copies
        # without such marks reads nothing more.
        pages = sorted({key[0] for key, mark in marks.items() if mark.evidence is not None})
        copies = [c for url_key in pages for c in self._copies(scan_id, url_key=url_key)]
        lapsed = lapsed_marks(copies, marks)
        self._db.executemany(
            "UPDATE triage SET lapsed = ? WHERE url_key = ? AND source_url = ? AND rule = ?",
            [(now_iso(), *ident) for ident in lapsed],
        )

    # -- triage ---------------------------------------------------------------------------

    @locked
    def triage(
        self,
        url: str,
        status: str,
        *,
        note: str = "",
        source_url: str | None = None,
        rule: str | None = None,
    ) -> int:
        """Mark the failed findings of the latest scan of `url` (optionally of one source
        article, one rule): one mark per finding, with the finding's evidence, so that a mark
        never covers a check that passes, nor a rule that fails there later. Returns how many
        findings were marked; 0 records nothing."""
        if status not in TRIAGE_STATUSES:
            raise StoreError(
                f"unknown triage status {status!r}; use one of {', '.join(TRIAGE_STATUSES)}",
                where=url,
            )
        scan_id = self._latest_copy_scan(url)
        if scan_id is None:
            return 0
        key = url_key_of(url)
        sql = """SELECT source_url, rule, evidence FROM findings
                 WHERE scan_id = ? AND url_key = ? AND passed = 0"""
        args: list[Any] = [scan_id, key]
        if source_url is not None:
            sql += " AND source_url = ?"
            args.append(source_url)
        if rule is not None:
            sql += " AND rule = ?"
            args.append(rule)
        # One mark per (source, rule), with the evidence of its first failed finding.
        first: dict[tuple[str, str], str | None] = {}
        for src, r, ev in self._db.execute(sql + " ORDER BY id", args).fetchall():
            first.setdefault((src, r), ev)
        found = [(src, r, ev) for (src, r), ev in first.items()]
        if not found:
            return 0
        created = now_iso()
        with self._lock:
            self._db.executemany(
                """INSERT INTO triage (url_key, source_url, rule, status, note, created, evidence)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url_key, source_url, rule)
                   DO UPDATE SET status = excluded.status, note = excluded.note,
                                 created = excluded.created, evidence = excluded.evidence,
                                 lapsed = NULL""",
                [(key, src, r, status, note, created, ev or "") for src, r, ev in found],
            )
        return len(found)

    @locked
    def untriage(self, url: str, *, source_url: str | None = None, rule: str | None = None) -> int:
        """Remove the marks on `url` (optionally of one source article, one rule); returns how
        many were removed."""
        sql = "DELETE FROM triage WHERE url_key = ?"
        args: list[Any] = [url_key_of(url)]
        if source_url is not None:
            sql += " AND source_url = ?"
            args.append(source_url)
        if rule is not None:
            sql += " AND rule = ?"
            args.append(rule)
        with self._lock:
            return int(self._db.execute(sql, args).rowcount)

    @locked
    def triage_marks(self, url: str | None = None) -> list[dict[str, str]]:
        """The triage marks stored for `url` (every page's when None), oldest first, with
        their notes, the evidence they recorded ("" when none) and when they lapsed ("" when
        in force)."""
        sql = """SELECT url_key, source_url, rule, status, note, created,
                        coalesce(evidence, ''), coalesce(lapsed, '') FROM triage"""
        args: list[Any] = []
        if url is not None:
            sql += " WHERE url_key = ?"
            args.append(url_key_of(url))
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        keys = ("url", "source_url", "rule", "status", "note", "created", "evidence", "lapsed")
        return [dict(zip(keys, row, strict=True)) for row in rows]
