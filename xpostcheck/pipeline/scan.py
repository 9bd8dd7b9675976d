"""One scan, wired from the stages: begin, one unit of work per site, finish.

In: Settings (and a progress callback). Out: a `ScanResult`: the Report, annotated with history
by the store, and what report formats need beyond it (a RenderContext with the sources and the
page texts behind the passages). `begin` (begin.py) loads rules, store and index; `scan_site`
(site.py) crawls, analyses, judges and records one site; `run_sites` (runner.py) runs the units
side by side in this process; `finish` aggregates the units, decides whether the scan failed,
records the scan through the store and builds the result. History changes only when the
result is delivered: `run_scan` hands it to the caller's `deliver` (which writes the report)
and then tells the store; a delivery that fails leaves the scan's findings new for the next
scan. This module holds no click and prints nothing: the CLI drives it, and so can any Python
caller.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xpostcheck.config import Settings
from xpostcheck.errors import ScanFailed
from xpostcheck.models import Report, RuleSet, ScanInfo, SkipCode, Skipped
from xpostcheck.pipeline.analyse import analyse
from xpostcheck.pipeline.begin import (
    ProgressFn,
    Scan,
    begin,
    fingerprint,
    index_path_for,
    match_config,
    now_iso,
    scan_key,
)
from xpostcheck.pipeline.runner import run_sites
from xpostcheck.pipeline.site import SiteResult, SiteUnit, scan_site, units_of
from xpostcheck.pipeline.texts import PageTexts
from xpostcheck.report.base import RenderContext
from xpostcheck.store.dburl import is_postgres_url, without_password

log = logging.getLogger(__name__)

__all__ = [
    "ProgressFn",
    "Scan",
    "ScanResult",
    "SiteResult",
    "SiteUnit",
    "analyse",
    "begin",
    "finish",
    "fingerprint",
    "index_path_for",
    "match_config",
    "run_scan",
    "scan_key",
    "scan_site",
    "units_of",
]


@dataclass(frozen=True)
class ScanResult:
    report: Report
    context: RenderContext
    ruleset: RuleSet
    # Findings that earlier scans of the same sites reported new in reports that never went
    # out (a report that could not be written): they are new again in this one.
    undelivered: int = 0


def finish(scan: Scan, results: Sequence[SiteResult], *, pending: bool = False) -> ScanResult:
    """Aggregate the units' results into the report; raise ScanFailed when no page could be
    fetched (`nothing_fetched` says why); else record the scan in the store (with its
    history unless `pending`: then `scan.store.deliver(scan.scan_id)` once the report went
    out) and return the report with what formats need to render it. The store stays open."""
    copies = sorted(
        (c for r in results for c in r.copies), key=lambda c: (c.site, c.url, c.source_url)
    )
    crawl_skips = [s for r in results for s in r.skipped]
    fetched = sum(r.fetched for r in results)
    if fetched == 0 and not any(s.code is SkipCode.GONE for s in crawl_skips):
        # No page fetched (every site unreachable, every page an HTTP error, over the size
        # cap, or kept out by robots.txt): the scan failed. A page that answered 404 or 410
        # is an answer, not a failure: it is gone, and its findings are resolved (a copy
        # taken down after a notice is the outcome the user waits for).
        raise ScanFailed(nothing_fetched(crawl_skips))
    settings = scan.settings
    info = ScanInfo(
        started=scan.started,
        finished=now_iso(),
        sources=len(scan.index),
        pages_fetched=fetched,
        sites=settings.sites + settings.urls,
        rules=scan.ruleset.name,
        pages_unchanged=sum(r.unchanged for r in results),
    )
    skipped = scan.source_skips + tuple(crawl_skips)
    report = Report(scan=info, copies=tuple(copies), skipped=skipped)
    undelivered = scan.store.undelivered(scan.scan_id)
    # A finding of a source not in this scan's index was not looked for: not resolved.
    report = scan.store.finish_scan(scan.scan_id, report, sources=scan.index, pending=pending)
    texts = {url: text for r in results for url, text in r.texts.items()}
    carried = (c.url for r in results for c in r.carried)
    pages = PageTexts.from_store(scan.store, texts, carried)
    sources = {c.source_url: a for c in copies if (a := scan.index.get(c.source_url))}
    return ScanResult(
        report,
        RenderContext(
            sources=sources,
            pages=pages,
            db=_as_printed(settings.db),
            rules=_as_printed(settings.rules),
        ),
        scan.ruleset,
        undelivered,
    )


_WHY = {
    SkipCode.ROBOTS: "robots.txt disallows every page",
    SkipCode.HTTP_ERROR: "every page answered an error",
    SkipCode.TOO_LARGE: "every page is over the size cap",
    SkipCode.UNREACHABLE: "every site is unreachable",
    SkipCode.REFUSED: "every site refused the connection",
}


def nothing_fetched(skips: Sequence[Skipped]) -> str:
    """The one line that says why a scan fetched no page: the reason all its skips share,
    if they share one, and the first few URLs with theirs."""
    codes = {s.code for s in skips}
    why = _WHY.get(next(iter(codes))) if len(codes) == 1 else None
    if codes and codes <= {SkipCode.UNREACHABLE, SkipCode.REFUSED}:
        why = "every site is unreachable"
    reasons = "; ".join(f"{s.url}: {s.reason}" for s in skips[:5]) or "nothing to fetch"
    return f"no page could be fetched{': ' + why if why else ''} ({reasons})"


def run_scan(
    settings: Settings,
    *,
    progress: ProgressFn | None = None,
    deliver: Callable[[ScanResult], None] | None = None,
) -> ScanResult:
    """Run a whole scan in this process: begin, every site unit side by side, finish. With
    `deliver`, the result is handed to it (to write the report) before the scan's findings
    count as seen: if it raises, they stay new for the next scan. Without, returning the
    result is the delivery."""
    scan = begin(settings, progress)
    try:
        results = run_sites(scan, units_of(settings.sites, settings.urls))
        result = finish(scan, results, pending=deliver is not None)
        if deliver is not None:
            deliver(result)
            scan.store.deliver(scan.scan_id)
        return result
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as the CLI raises it: history says so
        mark_interrupted(scan)
        raise
    finally:
        scan.close()


def mark_interrupted(scan: Scan) -> None:
    try:
        scan.store.mark_interrupted(scan.scan_id)
    except Exception as exc:  # the interruption is what the user must hear about
        log.warning("could not mark scan #%s as interrupted: %s", scan.scan_id, exc)


def _as_printed(value: str) -> str:
    """A database or rules setting as the commands a report prints should give it: a file
    that exists by its absolute path (the commands then work from any folder), anything else
    (a pack name, a database URL without its password) as it is."""
    if value and "://" not in value and os.path.isfile(value):
        return os.path.abspath(value)
    return without_password(value) if is_postgres_url(value) else value
