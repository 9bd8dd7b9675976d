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
  answered 404 or 410 is gone, and its findings are resolved. A finding of a source article
  that is not in this scan's index was not looked for, so it is not resolved either.
Order (overlapping scans): each look at a page has a time, when the page was fetched. The
ledger of findings (open, or closed by a resolution) keeps for each finding the newest look:
an older look changes nothing, so a slow scan that fetched a page before a fix neither
re-opens the finding nor resets its first sighting, and one that fetched it before it broke
again does not resolve it. A scan's looks reach the ledger only when its report was
delivered (`merge_observations`, applied by the store).
Triage marks (false-positive, licensed, notified, ignored) apply to every later scan: the
finding stays in the report, marked, but no longer counts as a violation. A mark names one
finding (page, source, rule) and never covers a check that passes. It records the finding's
evidence when it was set: once the evidence changes materially (other words, not other spacing,
case or punctuation), the mark no longer applies and the finding is new again; the store then
records the mark as lapsed (`lapsed_marks`). Marks without recorded evidence (set before
evidence was kept) cover the finding whatever it shows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import NamedTuple

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
    "evidence_changed",
    "judge_history",
    "lapsed_marks",
    "mark_for",
    "merge_observations",
    "merge_unchanged",
    "with_mark",
]

FindingKey = tuple[str, str, str]
"""(canonical page URL, source URL, rule id): one check on one copy, across scans."""


class Mark(NamedTuple):
    """A triage mark: its status, the note given with it, and the evidence of the finding
    when it was marked (None: not recorded; the mark covers whatever the finding shows)."""

    status: str
    note: str = ""
    evidence: str | None = None


Marks = Mapping[FindingKey, Mark]
"""Triage marks by (canonical page URL, source URL or "", rule id or ""): "" covers all."""


@dataclass(frozen=True)
class OpenFinding:
    """A finding in the ledger: where it was, when its run of failures began, when the page
    was last looked at (`seen_at`, the fetch time; None in ledgers older than it) and whether
    that look found it failing (`open`) or fixed (closed: kept, with its time, so that an
    older look cannot re-open it)."""

    url: str
    kind: str
    first_seen: str | None
    seen_at: str | None = None
    open: bool = True


@dataclass(frozen=True)
class HistoryOutcome:
    """What `judge_history` decided for one scan."""

    report: Report  # annotated: new/first_seen per failed check, triage marks, resolved[]
    still_open: dict[FindingKey, OpenFinding]  # open after this scan alone, in order
    # What this scan saw, with when: each failed check (open) and each resolution (closed);
    # the ledger takes them once the report is delivered (`merge_observations`).
    observed: dict[FindingKey, OpenFinding]


_WORD = re.compile(r"\w+")


def evidence_changed(marked: str | None, now: str | None) -> bool:
    """Whether a finding's evidence changed materially since it was marked (`marked`, None:
    not recorded, which never counts as a change): other words, not other spacing, case or
    punctuation. No evidence and empty evidence are the same."""
    if marked is None:
        return False

    def words(text: str | None) -> list[str]:
        return _WORD.findall((text or "").casefold())

    return words(marked) != words(now)


def _recorded(mark: tuple[str, ...] | Mark) -> str | None:
    """The evidence a mark recorded (a plain (status, note) pair recorded none)."""
    return mark[2] if len(mark) > 2 else None


def _idents(key: str, copy: Copy, finding: Finding) -> tuple[FindingKey, ...]:
    return (
        (key, copy.source_url, finding.rule),
        (key, copy.source_url, ""),
        (key, "", finding.rule),
        (key, "", ""),
    )


def mark_for(marks: Marks, key: str, copy: Copy, finding: Finding) -> Mark | None:
    """The most specific triage mark covering this failed finding: url+source+rule, then (marks
    of older versions) url+source, url+rule, the whole URL; a mark whose recorded evidence
    differs materially from the finding's covers nothing. `key` is the copy's canonical URL."""
    if finding.passed:
        return None
    for ident in _idents(key, copy, finding):
        mark = marks.get(ident)
        if mark is not None:
            return None if evidence_changed(_recorded(mark), finding.evidence) else mark
    return None


def _lapsed(marks: Marks, key: str, copy: Copy, finding: Finding) -> bool:
    """Whether the most specific mark naming this failed finding no longer covers it."""
    for ident in _idents(key, copy, finding):
        mark = marks.get(ident)
        if mark is not None:
            return evidence_changed(_recorded(mark), finding.evidence)
    return False


def lapsed_marks(copies: Iterable[Copy], marks: Marks) -> list[FindingKey]:
    """The marks (by their own key) that the failed findings of `copies` (a scan's) no longer
    fit: the evidence they recorded changed materially."""
    out: list[FindingKey] = []
    for copy in copies:
        key = canonicalize(copy.url)
        for f in copy.checks:
            if f.passed:
                continue
            for ident in _idents(key, copy, f):
                mark = marks.get(ident)
                if mark is not None:
                    if evidence_changed(_recorded(mark), f.evidence) and ident not in out:
                        out.append(ident)
                    break
    return out


def with_mark(finding: Finding, mark: Mark | None) -> Finding:
    """`finding` carrying `mark` (or none)."""
    return replace(finding, triage=mark[0] if mark else None, triage_note=mark[1] if mark else "")


def apply_marks(copies: Iterable[Copy], marks: Marks) -> list[Copy]:
    """Stored copies with the triage marks as they stand now (on failed checks only), and
    their verdicts recomputed."""
    out = []
    for copy in copies:
        key = canonicalize(copy.url)
        checks = tuple(with_mark(f, mark_for(marks, key, copy, f)) for f in copy.checks)
        out.append(replace(copy, checks=checks, verdict=verdict_for(checks)))
    return out


def judge_history(
    report: Report,
    open_findings: Mapping[FindingKey, OpenFinding],
    marks: Marks,
    looked_at: Collection[str] | Mapping[str, str],
    *,
    sources: Container[str] | None = None,
) -> HistoryOutcome:
    """Annotate `report` with history and triage, given the ledger of the same key
    (`open_findings`: open findings in the order they were opened, and closed ones), the
    canonical URLs of the pages this scan recorded (`looked_at`, with their fetch times when
    a mapping; empty when the report was built without recording pages, in which case any
    page but the skipped ones counts as looked at when the scan fetched any), and the source
    URLs of this scan's index (`sources`; None: every source was looked for).

    A page's look is timed by `looked_at`, else by its copy's `fetched_at`, else by the
    scan's start (a page gone, 404 or 410, by the scan's start)."""
    started = report.scan.started
    times: Mapping[str, str] = looked_at if isinstance(looked_at, Mapping) else {}
    copies = []
    failing: dict[FindingKey, OpenFinding] = {}
    observed: dict[FindingKey, OpenFinding] = {}
    for copy in report.copies:
        key = canonicalize(copy.url)
        seen_at = times.get(key) or copy.fetched_at or started
        checks = []
        for f in copy.checks:
            if f.passed:
                checks.append(replace(f, first_seen=None, new=None, triage=None, triage_note=""))
                continue
            ident = (key, copy.source_url, f.rule)
            before = open_findings.get(ident)
            # Failing, after a run of failures that is still open, or seen fixed only after
            # this look (this look is older news): not new, and first seen when that run began.
            ongoing = before is not None and (before.open or _older(seen_at, before.seen_at))
            first_seen = (before.first_seen if before and ongoing else None) or started
            # A triaged finding whose evidence changed materially is new again (once: the
            # store records the mark as lapsed when the report is delivered).
            new = not ongoing or _lapsed(marks, key, copy, f)
            annotated = replace(f, new=new, first_seen=first_seen)
            failing.pop(ident, None)  # a repeat moves to the end, as the latest write
            failing[ident] = OpenFinding(copy.url, f.kind, first_seen)
            observed.pop(ident, None)
            observed[ident] = OpenFinding(copy.url, f.kind, first_seen, seen_at)
            checks.append(with_mark(annotated, mark_for(marks, key, copy, f)))
        judged = tuple(checks)
        copies.append(replace(copy, checks=judged, verdict=verdict_for(judged)))

    # A page that answered 404 or 410 is gone, and its findings with it.
    gone = {canonicalize(s.url) for s in report.skipped if s.code is SkipCode.GONE}
    # Otherwise a finding is resolved only where this scan looked again: a page it fetched
    # (when it recorded its pages) and did not skip, for a source in its index. A page of an
    # unreachable site, or one the crawl did not reach this time, keeps its findings open;
    # so does a look older than the one that last found the finding failing. A page skipped
    # as a second capture of itself (an archive holding it twice) was looked at once.
    seen = set(looked_at)
    skipped = {
        canonicalize(s.url)
        for s in report.skipped
        if not (s.code is SkipCode.DUPLICATE and canonicalize(s.url) in seen)
    } - gone
    opened = {ident: o for ident, o in open_findings.items() if o.open}

    def looked_again(ident: FindingKey) -> str | None:
        """When this scan looked at the finding's page, or None when it did not."""
        if sources is not None and ident[1] not in sources:
            return None
        if ident[0] in gone:
            return started
        if ident[0] in skipped:
            return None
        if ident[0] in seen if seen else report.scan.pages_fetched > 0:
            return times.get(ident[0]) or started
        return None

    resolved = []
    for ident, before in opened.items():
        if ident in failing:
            continue
        when = looked_again(ident)
        if when is None or _older(when, before.seen_at):
            continue
        resolved.append(ident)
        observed[ident] = replace(before, seen_at=when, open=False)
    # What stays open: what was open and neither failed now nor was resolved (not looked at),
    # in its old order, then what failed now.
    closed = set(resolved)
    still_open = {
        ident: before
        for ident, before in opened.items()
        if ident not in closed and ident not in failing
    }
    still_open.update(failing)
    out = replace(
        report,
        copies=tuple(copies),
        resolved=tuple(
            Resolved(url=opened[i].url, source_url=i[1], rule=i[2], kind=opened[i].kind)
            for i in resolved
        ),
    )
    return HistoryOutcome(report=out, still_open=still_open, observed=observed)


def merge_observations(
    ledger: Mapping[FindingKey, OpenFinding], observed: Mapping[FindingKey, OpenFinding]
) -> dict[FindingKey, OpenFinding]:
    """The ledger rows to write when a scan's looks (`observed`, from `judge_history`) are
    delivered into `ledger` as it stands now: for each finding, the newer look wins (on equal
    times, the one delivered later); a run of failures seen again keeps its first sighting."""
    out: dict[FindingKey, OpenFinding] = {}
    for ident, look in observed.items():
        row = ledger.get(ident)
        if row is None:
            out[ident] = look
            continue
        if _older(look.seen_at, row.seen_at):
            continue  # older news than the ledger's
        if look.open and row.open and row.first_seen:
            first = min(row.first_seen, look.first_seen or row.first_seen, key=_instant)
            look = replace(look, first_seen=first)
        out[ident] = look
    return out


def _instant(value: str) -> tuple[int, datetime | str]:
    """An ISO 8601 time, comparable across offsets; text that is not one compares as text
    (after every time)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return (1, value)
    return (0, when if when.tzinfo else when.replace(tzinfo=timezone.utc))


def _older(a: str | None, b: str | None) -> bool:
    """Whether the look at time `a` came strictly before the one at `b` (a look without a
    time, from a ledger older than times, came before every other)."""
    if a is None or b is None:
        return a is None and b is not None
    return _instant(a) < _instant(b)


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
