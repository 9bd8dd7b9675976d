"""What the pre-filter of a scan of WARC files counted (`ScanLog.note_prefilter`), per part.

In: per part of a scan (a file's job on a worker, or the whole set in one process), how many
pages the pre-filter looked at and let through to the full analysis. Out: their sum, for the
report's `scan.prefilter`. Kept in the `info` object of the scan's row (both backends), one
entry per part, so that a retried job replaces its own counts instead of adding them twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xpostcheck.models import PrefilterCounts
from xpostcheck.store.sqlite.tables import locked, transaction
from xpostcheck.store.sqlite.trends import TrendTables, info_of

__all__ = ["PrefilterTables", "prefilter_of"]


class PrefilterTables(TrendTables):
    """`note_prefilter` and what reads it back."""

    @locked
    def note_prefilter(self, scan_id: int, part: str, counts: PrefilterCounts) -> None:
        """Keep what the pre-filter counted in one part of a scan of WARC files (`part`: a
        file's job, or "" for the whole set at once). A part noted again (a retried job)
        replaces its counts; a finished scan is left as it is."""
        db = self._db
        with transaction(db):  # read the info and write it in one transaction
            row = db.execute(
                "SELECT info FROM scans WHERE id = ? AND finished IS NULL", (scan_id,)
            ).fetchone()
            if row is not None:
                info = info_of(row[0])
                parts = info.get("prefilter")
                parts = dict(parts) if isinstance(parts, dict) else {}
                parts[part] = [counts.looked, counts.analysed]
                info["prefilter"] = parts
                db.execute("UPDATE scans SET info = ? WHERE id = ?", (json.dumps(info), scan_id))

    def _prefilter(self, scan_id: int) -> PrefilterCounts | None:
        row = self._db.execute("SELECT info FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return prefilter_of(info_of(row[0] if row else None))

    def _prefilter_parts(self, scan_id: int, counts: PrefilterCounts) -> dict[str, Any]:
        """What a finished scan's info keeps: the parts as noted, else `counts` as one."""
        row = self._db.execute("SELECT info FROM scans WHERE id = ?", (scan_id,)).fetchone()
        parts = info_of(row[0] if row else None).get("prefilter")
        if isinstance(parts, dict) and parts:
            return parts
        return {"": [counts.looked, counts.analysed]}


def prefilter_of(info: Mapping[str, Any]) -> PrefilterCounts | None:
    """The pre-filter's counts over the parts noted in a scan's info (None: not a scan of WARC
    files, or one from before they were kept)."""
    parts = info.get("prefilter")
    if not isinstance(parts, dict) or not parts:
        return None
    looked = analysed = 0
    for value in parts.values():
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
            looked, analysed = looked + value[0], analysed + value[1]
    return PrefilterCounts(looked, analysed)
