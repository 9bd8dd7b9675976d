"""What a store backend offers: narrow protocols, one per concern, and `Store` combining them.

In and out: model records (Fetched, PageState, Copy, Report) and plain values. The rules of
history, triage and 304 merging are not here but in `xpostcheck.pipeline.history`, which
every backend calls; a backend only reads and writes.
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from xpostcheck.models import Copy, Fetched, PageState, PrefilterCounts, Report, SeenPage
from xpostcheck.store.evidence import EvidenceRecord

__all__ = [
    "TRIAGE_STATUSES",
    "CopyLog",
    "EvidenceArchive",
    "HeldLock",
    "PageLog",
    "ScanLog",
    "ScanSummary",
    "SiteTrend",
    "Store",
    "TriageLog",
]

TRIAGE_STATUSES = ("false-positive", "licensed", "notified", "ignored")


@dataclass(frozen=True)
class ScanSummary:
    """One line of `xpostcheck history`."""

    scan: int
    started: str
    finished: str | None  # None: the scan did not finish (crashed or still running);
    # "interrupted": stopped by Ctrl-C or SIGTERM (`ScanLog.mark_interrupted`)
    rules: str
    pages: int
    copies: int
    violations: int
    new: int
    resolved: int
    skipped: int


@dataclass(frozen=True)
class SiteTrend:
    """One line of `xpostcheck history --site HOST`: what one finished scan saw on the site.

    `violations` and `new` count copies (a copy with a new violation counts once); `resolved`
    counts findings on the site's pages that this scan saw fixed or gone."""

    scan: int
    started: str
    copies: int
    violations: int
    new: int
    resolved: int


class ScanLog(Protocol):
    """Scans: begun, finished with their report (annotated with history), delivered, listed,
    read back.

    History changes only when a scan is delivered: `finish_scan(..., pending=True)` records
    the scan and its annotated report, and `deliver(scan_id)` (once the report went out)
    merges what it saw into the ledger of findings, the newest look at each finding winning.
    `pending=False` (the default) delivers at once. `undelivered(scan_id)` counts the
    findings that earlier scans of the same key reported new in reports that never went out.
    `note_prefilter` keeps, per part of a scan of WARC files (a file's job, or the whole set),
    what the pre-filter counted; the finished report's `scan.prefilter` is their sum.
    """

    def begin_scan(self, key: str, started: str, fingerprint: str = "") -> int: ...
    def finish_scan(
        self,
        scan_id: int,
        report: Report,
        *,
        sources: Container[str] | None = None,
        pending: bool = False,
    ) -> Report: ...
    def deliver(self, scan_id: int) -> None: ...
    def note_prefilter(self, scan_id: int, part: str, counts: PrefilterCounts) -> None: ...
    def undelivered(self, scan_id: int) -> int: ...
    def mark_interrupted(self, scan_id: int) -> None: ...
    def history(self, limit: int = 20) -> list[ScanSummary]: ...
    def site_trend(self, host: str, limit: int = 20) -> list[SiteTrend]: ...
    def page_text_at(self, url: str, scan_id: int) -> str | None: ...
    def report(self, scan_id: int) -> Report | None: ...


class PageLog(Protocol):
    """Pages as fetched (for conditional requests), their last texts, and the sources each
    scan matched against. `record_seen_pages` records, in one go, pages a scan looked at
    without analysing them (a WARC scan's pages the pre-filter kept out: no copy), so that
    history counts them as looked at."""

    def page_state(self, url: str) -> PageState | None: ...
    def page_states(self, host: str) -> dict[str, PageState]: ...
    def record_page(
        self, scan_id: int, fetched: Fetched, *, is_copy: bool, before: PageState | None = None
    ) -> None: ...
    def record_seen_pages(self, scan_id: int, pages: Sequence[SeenPage]) -> None: ...
    def save_page_text(
        self, scan_id: int, url: str, text: str, links: Sequence[str] = ()
    ) -> None: ...
    def page_text(self, url: str) -> str | None: ...
    def page_snapshot(self, url: str) -> tuple[str, tuple[str, ...]] | None: ...
    def note_sources(self, scan_id: int, hashes: Mapping[str, str]) -> set[str]: ...
    def sources_since(self, scan_id: int) -> list[str]: ...


class CopyLog(Protocol):
    """The copies found on a page by the latest finished scan that fetched it."""

    def previous_copies(self, url: str) -> list[Copy]: ...
    def rules_of_latest(self, url: str) -> str | None: ...


class TriageLog(Protocol):
    """Triage marks set by people on a page's failed findings (see TRIAGE_STATUSES): one mark
    per finding (page, source, rule) with the finding's evidence when marked; `triage` marks
    every failed finding of the latest scan of the page that fits its filters and returns how
    many. A delivered scan whose finding shows other evidence records its mark as lapsed.
    `untriage` removes marks and returns how many; `triage_marks(None)` lists every page's."""

    def triage(
        self,
        url: str,
        status: str,
        *,
        note: str = "",
        source_url: str | None = None,
        rule: str | None = None,
    ) -> int: ...
    def untriage(
        self, url: str, *, source_url: str | None = None, rule: str | None = None
    ) -> int: ...
    def triage_marks(self, url: str | None = None) -> list[dict[str, str]]: ...


class EvidenceArchive(Protocol):
    """Where the exact responses of copy pages are kept, one WARC record each. The store
    indexes the records by URL; the archive only writes and reads them back."""

    def write(self, scan_id: int, fetched: Fetched) -> EvidenceRecord: ...
    def read(self, record: EvidenceRecord) -> bytes: ...


class HeldLock(Protocol):
    """A lock a scan holds on its store from begin to close (a `<db>.lock` file, or an
    advisory lock on a PostgreSQL database); `release` gives it up, a second call does
    nothing."""

    def release(self) -> None: ...


class Store(ScanLog, PageLog, CopyLog, TriageLog, Protocol):
    """Everything the pipeline, the review commands and the tests use of a store."""

    @property
    def schema_version(self) -> int: ...
    def evidence(self, url: str) -> bytes | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *exc: object) -> None: ...
