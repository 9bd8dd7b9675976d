"""Scan history, triage marks and 304 merging: pure functions over plain data.

Every store backend reads plain rows, calls these, and writes what they return, so that the
rules below live in one place. In: a Report, the findings left open by the previous scan of
the same key, the triage marks, what the scan looked at (and, for a 304, the page's earlier
state). Out: the annotated Report, what stays open, the page state to record.

History (per failed check, identified by canonical page URL, source URL and rule id):
- `new`: the previous finished scan with the same key did not have this check failing;
- `first_seen`: when the current unbroken run of failures began (the start time of the
  scan that first reported it as new);
- `resolved`: checks open after the previous scan with the same key that no longer fail,
  except on pages skipped this time (unknown is not fixed) or not looked at; a page that
  answered 404 or 410 is gone, and its findings are resolved.
Triage marks (false-positive, licensed, notified, ignored) apply to every later scan: the
finding stays in the report, marked, but no longer counts as a violation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from xpostcheck.models import (
    Copy,
    Fetched,
    Finding,
    PageState,
    Report,
    Resolved,
    SkipCode,
    verdict_for,
)
from xpostcheck.util.urls import canonicalize

__all__ = [
    "FindingKey",
    "HistoryOutcome",
    "Mark",
    "Marks",
    "OpenFinding",
    "apply_marks",
    "judge_history",
    "mark_for",
    "merge_unchanged",
    "with_mark",
]

FindingKey = tuple[str, str, str]
"""(canonical page URL, source URL, rule id): one check on one copy, across scans."""

Mark = tuple[str, str]
"""(triage status, note)."""

Marks = Mapping[FindingKey, Mark]
"""Triage marks by (canonical page URL, source URL or "", rule id or ""): "" covers all."""


@dataclass(frozen=True)
class OpenFinding:
    """A failed check not yet resolved: where it was and when its run of failures began."""

    url: str
    kind: str
    first_seen: str | None


@dataclass(frozen=True)
class HistoryOutcome:
    """What `judge_history` decided for one scan."""

    report: Report  # annotated: new/first_seen per failed check, triage marks, resolved[]
    still_open: dict[FindingKey, OpenFinding]  # for the next scan of the same key, in order


def mark_for(marks: Marks, key: str, copy: Copy, finding: Finding) -> Mark | None:
    """The most specific triage mark covering this finding: url+source+rule, url+source,
    url+rule, then the whole URL. `key` is the copy's canonical URL."""
    for ident in (
        (key, copy.source_url, finding.rule),
        (key, copy.source_url, ""),
        (key, "", finding.rule),
        (key, "", ""),
    ):
        if ident in marks:
            return marks[ident]
    return None


def with_mark(finding: Finding, mark: Mark | None) -> Finding:
    """`finding` carrying `mark` (or none)."""
    return replace(finding, triage=mark[0] if mark else None, triage_note=mark[1] if mark else "")


def apply_marks(copies: Iterable[Copy], marks: Marks) -> list[Copy]:
    """Stored copies with the triage marks as they stand now (on failed checks only), and
    their verdicts recomputed."""
    out = []
    for copy in copies:
        key = canonicalize(copy.url)
        checks = tuple(
            with_mark(f, None if f.passed else mark_for(marks, key, copy, f)) for f in copy.checks
        )
        out.append(replace(copy, checks=checks, verdict=verdict_for(checks)))
    return out


def judge_history(
    report: Report,
    open_findings: Mapping[FindingKey, OpenFinding],
    marks: Marks,
    looked_at: Collection[str],
) -> HistoryOutcome:
    """Annotate `report` with history and triage, given what was open after the previous
    scan of the same key (in the order it was opened) and the canonical URLs of the pages
    this scan recorded (`looked_at`; empty when the report was built without recording
    pages, in which case any page but the skipped ones counts as looked at when the scan
    fetched any)."""
    started = report.scan.started
    copies = []
    failing: dict[FindingKey, OpenFinding] = {}
    for copy in report.copies:
        key = canonicalize(copy.url)
        checks = []
        for f in copy.checks:
            if f.passed:
                checks.append(replace(f, first_seen=None, new=None, triage=None, triage_note=""))
                continue
            ident = (key, copy.source_url, f.rule)
            before = open_findings.get(ident)
            annotated = replace(
                f,
                new=before is None,
                first_seen=started if before is None else (before.first_seen or started),
            )
            failing.pop(ident, None)  # a repeat moves to the end, as the latest write
            failing[ident] = OpenFinding(copy.url, f.kind, annotated.first_seen)
            checks.append(with_mark(annotated, mark_for(marks, key, copy, f)))
        judged = tuple(checks)
        copies.append(replace(copy, checks=judged, verdict=verdict_for(judged)))

    # A page that answered 404 or 410 is gone, and its findings with it.
    gone = {canonicalize(s.url) for s in report.skipped if s.code is SkipCode.GONE}
    skipped = {canonicalize(s.url) for s in report.skipped} - gone
    # Otherwise a finding is resolved only where this scan looked again: a page it fetched
    # (when it recorded its pages) and did not skip. A page of an unreachable site, or one
    # the crawl did not reach this time, keeps its findings open.
    seen = set(looked_at)
    resolved = [
        ident
        for ident in open_findings
        if ident not in failing
        and (
            ident[0] in gone
            or ident[0] not in skipped
            and (ident[0] in seen if seen else report.scan.pages_fetched > 0)
        )
    ]
    # What stays open: what was open and neither failed now nor was resolved (not looked at),
    # in its old order, then what failed now.
    closed = set(resolved)
    still_open = {
        ident: before
        for ident, before in open_findings.items()
        if ident not in closed and ident not in failing
    }
    still_open.update(failing)
    out = replace(
        report,
        copies=tuple(copies),
        resolved=tuple(
            Resolved(
                url=open_findings[i].url, source_url=i[1], rule=i[2], kind=open_findings[i].kind
            )
            for i in resolved
        ),
    )
    return HistoryOutcome(report=out, still_open=still_open)


def merge_unchanged(before: PageState | None, fetched: Fetched) -> PageState:
    """The page state to record for `fetched` (its `fingerprint` and `scan_id` are the
    recording scan's, left to the store). A 304 keeps what the earlier full response said
    (`before`), where the 304 does not say it again; its content is the earlier content."""
    state = PageState(
        url=fetched.url,
        etag=fetched.header("ETag"),
        last_modified=fetched.header("Last-Modified"),
        content_hash=fetched.content_hash or None,
        fetched_at=fetched.fetched_at,
        links=fetched.links,
        cache_control=fetched.header("Cache-Control"),
        expires=fetched.header("Expires"),
    )
    if not fetched.unchanged or before is None:
        return state
    return replace(
        state,
        etag=state.etag or before.etag,
        last_modified=state.last_modified or before.last_modified,
        content_hash=before.content_hash,
        links=state.links or before.links,
        cache_control=state.cache_control or before.cache_control,
        expires=state.expires or before.expires,
    )
