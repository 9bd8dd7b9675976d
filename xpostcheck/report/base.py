"""What every report format shares: the Formatter protocol, the RenderContext it may draw on,
the summary line, and small helpers over a Copy's findings.

In: Report and RenderContext. Out: text (from each format); ReportError for a report that cannot
be read back. `RenderContext.pages` is any Mapping, so a caller may hand in a lazy one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from xpostcheck.errors import XPostCheckError
from xpostcheck.models import ArchiveCandidate, Copy, Finding, Report, SourceArticle

__all__ = [
    "Formatter",
    "RenderContext",
    "ReportError",
    "candidate_line",
    "failed_checks",
    "is_new",
    "percent",
    "summary_line",
]


class ReportError(XPostCheckError):
    """A JSON report cannot be read back (wrong schema version, missing or mistyped field)."""


@dataclass(frozen=True)
class RenderContext:
    """What a formatter may show beyond the report: the texts behind the passages."""

    sources: Mapping[str, SourceArticle] = field(default_factory=dict)  # by source_url
    pages: Mapping[str, str] = field(default_factory=dict)  # by copy url: the page's full_text
    # What the commands a report prints must carry to work as printed: the scan database
    # ("" leaves --db out) and the rules as the scan named them (a pack, or a rule file's path;
    # "" falls back to the rule set's name).
    db: str = ""
    rules: str = ""


class Formatter(Protocol):
    @property
    def name(self) -> str: ...

    def render(self, report: Report, ctx: RenderContext) -> str: ...


def summary_line(report: Report) -> str:
    """One line for cron: 'xpostcheck: 3 copies, 2 violations (1 new), 1 skipped, 12 pages';
    a scan of WARC files adds what the pre-filter let through ('pre-filter: 3 of 12 analysed')."""

    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    violations = n(len(report.violations), "violation", "violations")
    line = (
        f"xpostcheck: {n(len(report.copies), 'copy', 'copies')}, "
        f"{violations} ({len(report.new_violations)} new), "
        f"{len(report.skipped)} skipped, {n(report.scan.pages_fetched, 'page', 'pages')}"
    )
    if report.scan.prefilter is not None:  # a scan of WARC files
        counts = report.scan.prefilter
        line += f", pre-filter: {counts.analysed} of {counts.looked} analysed"
    if report.resolved:
        line += f", {len(report.resolved)} resolved"
    if report.candidates:
        line += f", {n(len(report.candidates), 'candidate site', 'candidate sites')}"
    return line


def candidate_line(c: ArchiveCandidate) -> str:
    """What a candidate site holds, in words: '3 pages with copies, 5 other pages linking to
    the publisher'."""
    parts = []
    if c.copies:
        parts.append(f"{c.copies} {'page' if c.copies == 1 else 'pages'} with copies")
    if c.linking:
        other = "other " if c.copies else ""
        parts.append(
            f"{c.linking} {other}{'page' if c.linking == 1 else 'pages'} linking to the publisher"
        )
    return ", ".join(parts) or "no pages"


def failed_checks(c: Copy) -> list[Finding]:
    """The copy's findings that did not pass."""
    return [f for f in c.checks if not f.passed]


def is_new(c: Copy) -> bool:
    """Whether the copy carries a violation first seen in this scan."""
    return any(f.counts_as_violation and f.new for f in c.checks)


def percent(x: float) -> str:
    return f"{x * 100:.0f}%"
