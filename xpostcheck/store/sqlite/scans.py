"""SQLite tables of scans: begun, finished with their copies, findings, skips and history.

In: a scan's Report. Out: the Report annotated by `pipeline.history.judge_history` (new,
first seen, resolved, triage), persisted with what stays open; summaries; reports read back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from xpostcheck.errors import StoreError
from xpostcheck.models import Passage, Report, Resolved, ScanInfo, SkipCode, Skipped
from xpostcheck.pipeline.history import FindingKey, OpenFinding, judge_history
from xpostcheck.store.base import ScanSummary
from xpostcheck.store.sqlite.copies import CopyTables
from xpostcheck.store.sqlite.tables import locked, url_key_of

__all__ = ["ScanTables"]


class ScanTables(CopyTables):
    """The `ScanLog` part of the store (it reads copies and triage marks of `CopyTables`)."""

    # -- scans ----------------------------------------------------------------------------

    @locked
    def begin_scan(self, key: str, started: str, fingerprint: str = "") -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO scans (key, started, fingerprint) VALUES (?, ?, ?)",
                (key, started, fingerprint),
            )
            return int(cur.lastrowid or 0)

    @locked
    def finish_scan(self, scan_id: int, report: Report) -> Report:
        """Persist the scan's copies and findings; return the report annotated with history
        (first_seen/new per failed check, resolved[]), triage marks and the scan id."""
        exists = self._db.execute("SELECT finished FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if exists is None:
            raise StoreError(f"no scan #{scan_id} was begun in this database", where=str(self.path))
        if exists[0] is not None:
            raise StoreError(f"scan #{scan_id} is already finished", where=str(self.path))
        scan_key = self._db.execute("SELECT key FROM scans WHERE id = ?", (scan_id,)).fetchone()[0]
        open_findings = {
            (url_key, source_url, rule): OpenFinding(url, kind, first_seen)
            for url, url_key, source_url, rule, kind, first_seen in self._db.execute(
                """SELECT url, url_key, source_url, rule, kind, first_seen FROM open_findings
                   WHERE key = ? ORDER BY rowid""",
                (scan_key,),
            )
        }
        looked_at = {
            r[0]
            for r in self._db.execute("SELECT url_key FROM pages WHERE scan_id = ?", (scan_id,))
        }
        outcome = judge_history(report, open_findings, self._triage_marks(), looked_at)
        out = replace(outcome.report, scan=replace(report.scan, scan_id=scan_id))
        self._persist(scan_id, out, scan_key, outcome.still_open)
        return out

    @locked
    def mark_interrupted(self, scan_id: int) -> None:
        """A scan stopped by Ctrl-C or SIGTERM: `history` lists it as interrupted. A finished
        scan stays finished."""
        with self._lock:
            self._db.execute(
                """UPDATE scans SET info = json_set(info, '$.interrupted', 1)
                   WHERE id = ? AND finished IS NULL""",
                (scan_id,),
            )

    def _persist(
        self,
        scan_id: int,
        report: Report,
        scan_key: str,
        still_open: Mapping[FindingKey, OpenFinding],
    ) -> None:
        s = report.scan
        info = {
            "sources": s.sources,
            "pages_fetched": s.pages_fetched,
            "pages_unchanged": s.pages_unchanged,
            "sites": list(s.sites),
        }
        keys = {c.url: url_key_of(c.url) for c in report.copies}  # canonicalize once per page
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
                    "INSERT INTO skipped (scan_id, url, reason, code) VALUES (?, ?, ?, ?)",
                    [(scan_id, k.url, k.reason, k.code.value) for k in report.skipped],
                )
                db.executemany(
                    """INSERT INTO resolved (scan_id, url, source_url, rule, kind)
                       VALUES (?, ?, ?, ?, ?)""",
                    [(scan_id, r.url, r.source_url, r.rule, r.kind) for r in report.resolved],
                )
                # What stays open for the next scan of this key, as history decided.
                db.execute("DELETE FROM open_findings WHERE key = ?", (scan_key,))
                db.executemany(
                    """INSERT INTO open_findings
                           (key, url_key, source_url, rule, url, kind, first_seen)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    [
                        (scan_key, *ident, o.url, o.kind, o.first_seen)
                        for ident, o in still_open.items()
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

    @locked
    def history(self, limit: int = 20) -> list[ScanSummary]:
        rows = self._db.execute(
            """SELECT id, started,
                      CASE WHEN finished IS NULL AND json_extract(info, '$.interrupted')
                           THEN 'interrupted' ELSE finished END,
                      rules, pages, copies, violations, new, resolved,
                      skipped FROM scans ORDER BY id DESC LIMIT ?""",
            (max(0, limit),),
        ).fetchall()
        return [ScanSummary(*row) for row in rows]

    @locked
    def report(self, scan_id: int) -> Report | None:
        """A finished scan's report as it was persisted (triage marks as they were then)."""
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
            Skipped(url, reason, _skip_code(code))
            for url, reason, code in self._db.execute(
                "SELECT url, reason, code FROM skipped WHERE scan_id = ? ORDER BY rowid",
                (scan_id,),
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


def _skip_code(value: str) -> SkipCode:
    """A stored skip code back as the enum; a value this version does not know is OTHER."""
    try:
        return SkipCode(value)
    except ValueError:
        return SkipCode.OTHER


def _passages_json(passages: tuple[Passage, ...]) -> str:
    return json.dumps([[p.source_start, p.source_end, p.page_start, p.page_end] for p in passages])
