"""SQLite tables of scans: begun, finished with their copies, findings, skips and history.

In: a scan's Report. Out: the Report annotated by `pipeline.history.judge_history` (new,
first seen, resolved, triage), persisted with what the scan saw; summaries; reports read back.
What a scan saw reaches the ledger of findings (`open_findings`: the newest look at each) only
when it is delivered (`deliver`, merged by `pipeline.history.merge_observations`): a scan
whose report never went out leaves its findings new for the next one.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import replace

from xpostcheck.errors import StoreError
from xpostcheck.models import Passage, Report, Resolved, ScanInfo, SkipCode, Skipped
from xpostcheck.pipeline.history import (
    FindingKey,
    OpenFinding,
    judge_history,
    merge_observations,
)
from xpostcheck.store.sqlite.prefilter import PrefilterTables, prefilter_of
from xpostcheck.store.sqlite.tables import locked, now_iso, transaction, url_key_of
from xpostcheck.store.sqlite.trends import info_of

__all__ = ["ScanTables"]


class ScanTables(PrefilterTables):
    """The `ScanLog` part of the store (it reads copies and triage marks of `CopyTables`)."""

    @locked
    def begin_scan(self, key: str, started: str, fingerprint: str = "") -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO scans (key, started, fingerprint) VALUES (?, ?, ?)",
                (key, started, fingerprint),
            )
            return int(cur.lastrowid or 0)

    @locked
    def finish_scan(
        self,
        scan_id: int,
        report: Report,
        *,
        sources: Container[str] | None = None,
        pending: bool = False,
    ) -> Report:
        """Persist the scan's copies and findings; return the report annotated with history
        (first_seen/new per failed check, resolved[]), triage marks and the scan id.
        `sources`: the source URLs of the scan's index (a finding of another source was not
        looked for). `pending`: the report has not gone out yet; the scan changes no history
        until `deliver(scan_id)` (else it is delivered now)."""
        exists = self._db.execute("SELECT finished FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if exists is None:
            raise StoreError(f"no scan #{scan_id} was begun in this database", where=self._where)
        if exists[0] is not None:
            raise StoreError(f"scan #{scan_id} is already finished", where=self._where)
        scan_key = self._db.execute("SELECT key FROM scans WHERE id = ?", (scan_id,)).fetchone()[0]
        looked_at: dict[str, str] = {}
        for url_key, fetched_at in self._db.execute(
            "SELECT url_key, fetched_at FROM pages WHERE scan_id = ? ORDER BY id", (scan_id,)
        ):
            looked_at[url_key] = max(looked_at.get(url_key, ""), fetched_at or "")
        outcome = judge_history(
            report, self._ledger(scan_key), self._triage_marks(), looked_at, sources=sources
        )
        counts = report.scan.prefilter or self._prefilter(scan_id)
        out = replace(outcome.report, scan=replace(report.scan, scan_id=scan_id, prefilter=counts))
        self._persist(scan_id, out, outcome.observed, deliver=not pending)
        return out

    def _ledger(self, scan_key: str) -> dict[FindingKey, OpenFinding]:
        """The ledger of a scan key: the newest look at each finding, open ones in the order
        they were opened."""
        return {
            (url_key, source_url, rule): OpenFinding(url, kind, first_seen, seen_at, bool(is_open))
            for url, url_key, source_url, rule, kind, first_seen, seen_at, is_open in (
                self._db.execute(
                    """SELECT url, url_key, source_url, rule, kind, first_seen, seen_at, open
                       FROM open_findings WHERE key = ? ORDER BY rowid""",
                    (scan_key,),
                )
            )
        }

    @locked
    def deliver(self, scan_id: int) -> None:
        """The scan's report went out: what it saw reaches the ledger, where for each finding
        the newest look wins. Delivering a scan again changes nothing."""
        db = self._db
        with transaction(db):  # read the ledger and write it in one transaction
            row = db.execute(
                "SELECT finished, delivered FROM scans WHERE id = ?", (scan_id,)
            ).fetchone()
            if row is None or row[0] is None:
                raise StoreError(
                    f"scan #{scan_id} is not a finished scan of this database; finish it first",
                    where=self._where,
                )
            if row[1] is None:
                self._deliver(scan_id)

    def _deliver(self, scan_id: int) -> None:
        """Merge the scan's looks into its key's ledger (inside the caller's transaction)."""
        db = self._db
        scan_key = db.execute("SELECT key FROM scans WHERE id = ?", (scan_id,)).fetchone()[0]
        observed = {
            (url_key, source_url, rule): OpenFinding(url, kind, first_seen, seen_at, bool(is_open))
            for url_key, source_url, rule, url, kind, first_seen, seen_at, is_open in db.execute(
                """SELECT url_key, source_url, rule, url, kind, first_seen, seen_at, open
                   FROM observations WHERE scan_id = ? ORDER BY rowid""",
                (scan_id,),
            )
        }
        updates = merge_observations(self._ledger(scan_key), observed)
        # A row written again moves to the end of the ledger's order, as the latest opened.
        db.executemany(
            "DELETE FROM open_findings WHERE key = ? AND url_key = ? AND source_url = ? "
            "AND rule = ?",
            [(scan_key, *ident) for ident in updates],
        )
        db.executemany(
            """INSERT INTO open_findings
                   (key, url_key, source_url, rule, url, kind, first_seen, seen_at, open)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (scan_key, *ident, o.url, o.kind, o.first_seen, o.seen_at, int(o.open))
                for ident, o in updates.items()
            ],
        )
        db.execute("DELETE FROM observations WHERE scan_id = ?", (scan_id,))
        self._lapse_marks(scan_id)
        db.execute("UPDATE scans SET delivered = ? WHERE id = ?", (now_iso(), scan_id))

    @locked
    def undelivered(self, scan_id: int) -> int:
        """How many failed checks the finished scans of this scan's key reported as new since
        its last delivered scan, in reports that never went out (so they are new again)."""
        row = self._db.execute(
            """SELECT count(*) FROM (SELECT DISTINCT f.url_key, f.source_url, f.rule
               FROM findings f JOIN scans s ON s.id = f.scan_id
               WHERE s.key = (SELECT key FROM scans WHERE id = ?) AND s.id < ?
                 AND s.finished IS NOT NULL AND s.delivered IS NULL
                 AND f.passed = 0 AND f.new = 1
                 AND s.id > coalesce((SELECT max(d.id) FROM scans d
                                      WHERE d.key = s.key AND d.delivered IS NOT NULL), 0)
               ) AS looks""",
            (scan_id, scan_id),
        ).fetchone()
        return int(row[0])

    @locked
    def mark_interrupted(self, scan_id: int) -> None:
        """A scan stopped by Ctrl-C or SIGTERM: `history` lists it as interrupted. A finished
        scan stays finished."""
        with self._lock:
            row = self._db.execute(
                "SELECT info FROM scans WHERE id = ? AND finished IS NULL", (scan_id,)
            ).fetchone()
            if row is not None:
                info = {**info_of(row[0]), "interrupted": 1}
                self._db.execute(
                    "UPDATE scans SET info = ? WHERE id = ? AND finished IS NULL",
                    (json.dumps(info), scan_id),
                )

    def _persist(
        self,
        scan_id: int,
        report: Report,
        observed: Mapping[FindingKey, OpenFinding],
        *,
        deliver: bool,
    ) -> None:
        s = report.scan
        info = {
            "sources": s.sources,
            "pages_fetched": s.pages_fetched,
            "pages_unchanged": s.pages_unchanged,
            "sites": list(s.sites),
        }
        if s.prefilter is not None:
            info["prefilter"] = self._prefilter_parts(scan_id, s.prefilter)
        keys = {c.url: url_key_of(c.url) for c in report.copies}  # canonicalize once per page
        with self._lock:
            db = self._db
            with transaction(db):
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
                # What this scan saw, for the ledger once its report is delivered.
                db.executemany(
                    """INSERT INTO observations (scan_id, url_key, source_url, rule,
                           url, kind, first_seen, seen_at, open)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        (scan_id, *ident, o.url, o.kind, o.first_seen, o.seen_at, int(o.open))
                        for ident, o in observed.items()
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
                if deliver:
                    self._deliver(scan_id)

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
            prefilter=prefilter_of(info),
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
