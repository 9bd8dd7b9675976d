"""History, triage and 304 merging as pure functions, on plain data (no store)."""

from __future__ import annotations

from xpostcheck.models import (
    Copy,
    Fetched,
    Finding,
    PageState,
    Report,
    Resolved,
    ScanInfo,
    SkipCode,
    Skipped,
)
from xpostcheck.pipeline.history import (
    OpenFinding,
    apply_marks,
    judge_history,
    mark_for,
    merge_unchanged,
)

A = "http://blog.example/a"
B = "http://blog.example/b"
SRC = "https://pub.example/harbor"
T0, T1 = "2024-05-06T06:00:00+00:00", "2024-05-13T06:00:00+00:00"


def check(rule: str, passed: bool = False) -> Finding:
    return Finding(rule, f"kind-{rule}", passed, "error", "m")


def copy(url: str, *checks: Finding) -> Copy:
    return Copy(url, "blog.example", SRC, 0.9, "full", "violation", (), checks)


def report(*copies: Copy, skipped: tuple[Skipped, ...] = (), fetched: int = 3) -> Report:
    return Report(scan=ScanInfo(T1, T1, 1, fetched), copies=copies, skipped=skipped)


def test_new_ongoing_and_resolved() -> None:
    open_before = {
        (A, SRC, "link"): OpenFinding(A, "kind-link", T0),
        (A, SRC, "fixed"): OpenFinding(A, "kind-fixed", T0),
        (B, SRC, "link"): OpenFinding(B, "kind-link", T0),  # B was not looked at this time
    }
    outcome = judge_history(
        report(copy(A + "#top", check("link"), check("fixed", True), check("new"))),
        open_before,
        {},
        looked_at={A},
    )
    checks = outcome.report.copies[0].checks
    assert [(f.rule, f.new, f.first_seen) for f in checks] == [
        ("link", False, T0),
        ("fixed", None, None),
        ("new", True, T1),
    ]
    assert outcome.report.copies[0].verdict == "violation"
    assert outcome.report.resolved == (Resolved(A, SRC, "fixed", "kind-fixed"),)
    # What stays open: the untouched one in its place, then what failed now, in report order.
    assert list(outcome.still_open) == [(B, SRC, "link"), (A, SRC, "link"), (A, SRC, "new")]
    assert outcome.still_open[(A, SRC, "new")] == OpenFinding(A + "#top", "kind-new", T1)


def test_skipped_pages_keep_findings_and_gone_pages_resolve_them() -> None:
    open_before = {
        (A, SRC, "link"): OpenFinding(A, "kind-link", T0),
        (B, SRC, "link"): OpenFinding(B, "kind-link", T0),
    }
    skipped = (
        Skipped(A, "read timed out", SkipCode.UNREACHABLE),
        Skipped(B, "HTTP 404 Not Found", SkipCode.GONE),
    )
    outcome = judge_history(report(skipped=skipped), open_before, {}, looked_at=set())
    assert outcome.report.resolved == (Resolved(B, SRC, "link", "kind-link"),)
    assert list(outcome.still_open) == [(A, SRC, "link")]


def test_without_recorded_pages_a_scan_that_fetched_nothing_resolves_nothing() -> None:
    open_before = {(A, SRC, "link"): OpenFinding(A, "kind-link", T0)}
    idle = judge_history(report(fetched=0), open_before, {}, looked_at=())
    busy = judge_history(report(fetched=3), open_before, {}, looked_at=())
    assert (idle.report.resolved, len(busy.report.resolved)) == ((), 1)


def test_the_most_specific_mark_wins() -> None:
    marks = {
        (A, "", ""): ("licensed", "whole page"),
        (A, "", "link"): ("ignored", "rule"),
        (A, SRC, ""): ("notified", "source"),
        (A, SRC, "link"): ("false-positive", "exact"),
    }
    page = copy(A, check("link"), check("other"))
    assert mark_for(marks, A, page, check("link")) == ("false-positive", "exact")
    assert mark_for(marks, A, page, check("other")) == ("notified", "source")
    assert mark_for({(A, "", "link"): ("ignored", "")}, A, page, check("link")) == ("ignored", "")
    assert mark_for(marks, B, page, check("link")) is None


def test_marks_stop_counting_and_apply_to_stored_copies() -> None:
    marks = {(A, "", "link"): ("licensed", "signed")}
    outcome = judge_history(report(copy(A, check("link"))), {}, marks, looked_at={A})
    [judged] = outcome.report.copies[0].checks
    assert (judged.triage, judged.triage_note, judged.new) == ("licensed", "signed", True)
    assert outcome.report.copies[0].verdict == "compliant"
    # Stored copies carry the marks as they stand now; passed checks never carry one.
    stored = copy(A, check("link"), check("ok", True))
    [now] = apply_marks([stored], {(A, "", ""): ("ignored", "")})
    assert [f.triage for f in now.checks] == ["ignored", None]
    assert now.verdict == "compliant"
    [unmarked] = apply_marks([now], {})
    assert unmarked.verdict == "violation" and unmarked.checks[0].triage is None


def fetched(status: int, headers: tuple[tuple[str, str], ...], **kw: object) -> Fetched:
    return Fetched(
        url=A,
        final_url=A,
        status=status,
        headers=headers,
        body=b"",
        text="",
        encoding="utf-8",
        fetched_at=T1,
        **kw,  # type: ignore[arg-type]
    )


def test_a_304_keeps_what_the_full_answer_said() -> None:
    before = PageState(
        A, '"v1"', "Mon, 06 May 2024", "hash-1", T0, (B,), "max-age=60", "soon", "fp", 1
    )
    merged = merge_unchanged(before, fetched(304, (("ETag", '"v2"'),)))
    assert merged == PageState(
        A, '"v2"', "Mon, 06 May 2024", "hash-1", T1, (B,), "max-age=60", "soon"
    )
    # A 304 with nothing to go on keeps only its own time; a full answer ignores `before`.
    assert merge_unchanged(None, fetched(304, ())) == PageState(A, fetched_at=T1)
    full = fetched(200, (("ETag", '"v3"'),), content_hash="hash-3", links=())
    assert merge_unchanged(before, full) == PageState(
        A, '"v3"', content_hash="hash-3", fetched_at=T1
    )
