"""History for a scan of WARC files: the pages the pre-filter kept out, and its counts.

In: the `Scan` and the pages that got no full analysis (`Fetched`, with the WARC-Date as
their fetch time). Out: rows in the store's pages table, written in batches (one transaction
each, `Store.record_seen_pages`), so that history counts these pages as looked at: a finding
on a page that a later archive holds again without the copy resolves, as on a page a crawl
fetched again. Pages analysed in full are recorded as a crawl's are (`site.record_event`).
Also what the pre-filter counted, noted in the store (`note_prefilter`) for the report's
`scan.prefilter`. See docs/rescans.md, "Scans of web archives".
"""

from __future__ import annotations

from xpostcheck.models import Fetched, PrefilterCounts, SeenPage
from xpostcheck.pipeline.begin import Scan

__all__ = ["BATCH", "KeptOut", "note_counts"]

BATCH = 2000  # pages per transaction: a few per 20,000-page archive


class KeptOut:
    """The pages of one `scan_warcs` call that the pre-filter kept out, recorded in batches;
    `flush` records the rest once the archives are read (on an error it is not called: the
    scan does not finish, and its rows are never read)."""

    def __init__(self, scan: Scan, batch: int = BATCH) -> None:
        self.scan = scan
        self.batch = batch
        self.pending: list[SeenPage] = []

    def add(self, page: Fetched) -> None:
        """A page kept out (only its URLs, capture time and status are kept meanwhile)."""
        self.pending.append(SeenPage(page.url, page.final_url, page.fetched_at, page.status))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        pages, self.pending = self.pending, []
        self.scan.store.record_seen_pages(self.scan.scan_id, pages)


def note_counts(scan: Scan, part: str, looked: int, analysed: int) -> PrefilterCounts:
    """Note what the pre-filter counted in one part of the scan (a file's job, or "" for the
    whole set in one process) and return it."""
    counts = PrefilterCounts(looked, analysed)
    scan.store.note_prefilter(scan.scan_id, part, counts)
    return counts
