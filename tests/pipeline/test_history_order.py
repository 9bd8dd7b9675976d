"""History ordered by when each page was seen, and only over the sources a scan looked for:
the pure rules (`judge_history`, `merge_observations`) on plain data."""

from __future__ import annotations

from xpostcheck.models import Copy, Finding, Report, Resolved, ScanInfo, SkipCode, Skipped
from xpostcheck.pipeline.history import OpenFinding, judge_history, merge_observations

A = "http://blog.example/a"
SRC = "https://pub.example/harbor"
SRC_B = "https://pub.example/library"
T0, T1, T2, T3 = (f"2024-05-{d:02d}T06:00:00+00:00" for d in (6, 13, 20, 27))
LINK = (A, SRC, "link")


def failed(rule: str = "link") -> Finding:
    return Finding(rule, "link_to_original", False, "error", "m")


def passed(rule: str = "link") -> Finding:
    return Finding(rule, "link_to_original", True, "error", "m")


def copy(*checks: Finding, source: str = SRC, at: str = "") -> Copy:
    return Copy(A, "blog.example", source, 0.9, "full", "violation", (), checks, fetched_at=at)


def report(started: str, *copies: Copy, skipped: tuple[Skipped, ...] = ()) -> Report:
    return Report(scan=ScanInfo(started, started, 2, 3), copies=copies, skipped=skipped)


def test_an_older_look_does_not_reopen_what_a_newer_look_saw_fixed() -> None:
    # A newer scan saw the page fixed at T2: the ledger row is closed, seen at T2.
    ledger = {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T2, open=False)}
    # A slower scan (started T1) fetched the page at T1, before the fix, and finishes now.
    outcome = judge_history(report(T1, copy(failed())), ledger, {}, looked_at={A: T1})
    [f] = outcome.report.copies[0].checks
    assert (f.new, f.first_seen) == (False, T0)  # not an alert, and first seen unchanged
    assert outcome.observed == {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T1)}
    assert merge_observations(ledger, outcome.observed) == {}  # the ledger stays closed


def test_an_older_look_does_not_resolve_what_a_newer_look_saw_failing() -> None:
    ledger = {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T2)}
    outcome = judge_history(report(T1, copy(passed())), ledger, {}, looked_at={A: T1})
    assert outcome.report.resolved == ()
    assert list(outcome.still_open) == [LINK]
    # The same look after the newer one resolves it, and says when.
    later = judge_history(report(T3, copy(passed())), ledger, {}, looked_at={A: T3})
    assert later.report.resolved == (Resolved(A, SRC, "link", "link_to_original"),)
    assert later.observed == {LINK: OpenFinding(A, "link_to_original", T0, T3, open=False)}


def test_failing_again_after_a_fix_is_new() -> None:
    ledger = {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T1, open=False)}
    outcome = judge_history(report(T2, copy(failed())), ledger, {}, looked_at={A: T2})
    [f] = outcome.report.copies[0].checks
    assert (f.new, f.first_seen) == (True, T2)
    assert merge_observations(ledger, outcome.observed) == {
        LINK: OpenFinding(A, "link_to_original", T2, seen_at=T2)
    }


def test_the_page_time_comes_from_the_copy_then_the_scan_start() -> None:
    outcome = judge_history(report(T1, copy(failed(), at=T2)), {}, {}, looked_at=())
    assert outcome.observed[LINK].seen_at == T2
    outcome = judge_history(report(T1, copy(failed())), {}, {}, looked_at={A})
    assert outcome.observed[LINK].seen_at == T1


def test_a_gone_page_is_seen_at_the_scan_start() -> None:
    ledger = {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T2)}
    gone = (Skipped(A, "HTTP 410 Gone", SkipCode.GONE),)
    assert judge_history(report(T1, skipped=gone), ledger, {}, ()).report.resolved == ()
    assert len(judge_history(report(T3, skipped=gone), ledger, {}, ()).report.resolved) == 1


def test_merge_keeps_the_newer_look_and_the_first_sighting() -> None:
    ledger = {
        LINK: OpenFinding(A, "link_to_original", T0, seen_at=T1),
        (A, SRC, "old"): OpenFinding(A, "k", T0, seen_at=None),  # from before times were kept
    }
    observed = {
        LINK: OpenFinding(A, "link_to_original", T2, seen_at=T2),
        (A, SRC, "old"): OpenFinding(A, "k", T0, seen_at=T1, open=False),
        (A, SRC, "new"): OpenFinding(A, "k", T2, seen_at=T2),
    }
    assert merge_observations(ledger, observed) == {
        LINK: OpenFinding(A, "link_to_original", T0, seen_at=T2),  # first seen stays T0
        (A, SRC, "old"): OpenFinding(A, "k", T0, seen_at=T1, open=False),
        (A, SRC, "new"): OpenFinding(A, "k", T2, seen_at=T2),
    }
    # Equal times: the later delivery wins (sequential scans within one second).
    closed = {LINK: OpenFinding(A, "link_to_original", T0, seen_at=T2, open=False)}
    assert merge_observations(ledger, closed) == closed


def test_a_source_not_in_this_scans_index_is_not_looked_at() -> None:
    ledger = {
        LINK: OpenFinding(A, "link_to_original", T0, seen_at=T1),
        (A, SRC_B, "link"): OpenFinding(A, "link_to_original", T0, seen_at=T1),
    }
    # This scan's index holds SRC only: the page still copies SRC_B, but nobody looked.
    outcome = judge_history(
        report(T2, copy(passed())), ledger, {}, looked_at={A: T2}, sources={SRC}
    )
    assert outcome.report.resolved == (Resolved(A, SRC, "link", "link_to_original"),)
    assert list(outcome.still_open) == [(A, SRC_B, "link")]
    assert (A, SRC_B, "link") not in outcome.observed
    # Without the sources named, every open finding on a page looked at is judged (as before).
    assert len(judge_history(report(T2), ledger, {}, looked_at={A: T2}).report.resolved) == 2
