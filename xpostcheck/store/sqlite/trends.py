"""SQLite reads over past scans for trends and re-rendering: the scans, one site over time,
and a page's text as a given scan saw it.

In: a limit, a host, a scan id, a URL. Out: `ScanSummary` and `SiteTrend` rows, newest first;
page texts. Read only.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from xpostcheck.store.base import ScanSummary, SiteTrend
from xpostcheck.store.sqlite.copies import CopyTables
from xpostcheck.store.sqlite.tables import locked, url_key_of
from xpostcheck.util.urls import host_of

__all__ = ["TrendTables", "info_of"]


class TrendTables(CopyTables):
    """The reads of `ScanLog` over past scans (`history`, `site_trend`, `page_text_at`)."""

    @locked
    def history(self, limit: int = 20) -> list[ScanSummary]:
        rows = self._db.execute(
            """SELECT id, started, finished, info, rules, pages, copies, violations, new,
                      resolved, skipped FROM scans ORDER BY id DESC LIMIT ?""",
            (max(0, limit),),
        ).fetchall()
        out = []
        for scan, started, finished, info, *counts in rows:
            if finished is None and info_of(info).get("interrupted"):
                finished = "interrupted"
            out.append(ScanSummary(scan, started, finished, *counts))
        return out

    @locked
    def site_trend(self, host: str, limit: int = 20) -> list[SiteTrend]:
        """Per finished scan that looked at `host` (a copy there or a finding resolved there),
        newest first: its copies, violations, new violations and resolved findings on it."""
        host = host.strip().lower().rstrip(".")
        scans = self._db.execute(
            "SELECT id, started FROM scans WHERE finished IS NOT NULL ORDER BY id DESC"
        ).fetchall()
        out: list[SiteTrend] = []
        for scan_id, started in scans:
            if len(out) >= max(0, limit):
                break
            copies, violations = self._db.execute(
                """SELECT count(*),
                          coalesce(sum(CASE WHEN verdict = 'violation' THEN 1 ELSE 0 END), 0)
                   FROM copies WHERE scan_id = ? AND site = ?""",
                (scan_id, host),
            ).fetchone()
            (new,) = self._db.execute(
                """SELECT count(DISTINCT c.id) FROM copies c JOIN findings f ON f.copy_id = c.id
                   WHERE c.scan_id = ? AND c.site = ? AND c.verdict = 'violation'
                     AND f.new = 1 AND f.passed = 0 AND f.severity = 'error'
                     AND f.triage IS NULL""",
                (scan_id, host),
            ).fetchone()
            resolved = sum(
                1
                for (url,) in self._db.execute(
                    "SELECT url FROM resolved WHERE scan_id = ?", (scan_id,)
                )
                if host_of(url) == host
            )
            if copies or resolved:
                out.append(SiteTrend(scan_id, started, copies, violations, new, resolved))
        return out

    @locked
    def page_text_at(self, url: str, scan_id: int) -> str | None:
        """The page's full text as scan `scan_id` saw it, when it is still kept: only the last
        analysed text is, so a page analysed again by a later scan gives None."""
        row = self._db.execute(
            "SELECT text FROM page_texts WHERE url_key = ? AND scan_id <= ?",
            (url_key_of(url), scan_id),
        ).fetchone()
        if row is None:
            return None
        try:
            return zlib.decompress(row[0]).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            return None


def info_of(text: str | None) -> dict[str, Any]:
    """A scan's stored `info` (a JSON object) back as a dict; anything else counts as empty."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
