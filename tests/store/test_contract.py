"""The store contract: what every backend must do, through the `Store` protocol only.

The `store` fixture is the one place that knows the backends (SQLite, and PostgreSQL on the
throwaway server of `tests/pgserver.py`, a new database per test); every test here runs
unchanged on each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from xpostcheck.errors import StoreError
from xpostcheck.models import (
    Copy,
    Fetched,
    Finding,
    PageState,
    Passage,
    Report,
    Resolved,
    ScanInfo,
    SkipCode,
    Skipped,
)
from xpostcheck.store import TRIAGE_STATUSES, ScanSummary, Store, open_store
from xpostcheck.store.evidence import read_responses

PAGE = "http://blog.example/posts/harbor.html"
OTHER = "http://blog.example/posts/library.html"
SRC = "https://pub.example/harbor"
SRC_2 = "https://pub.example/library"
T1, T2, T3 = (f"2024-05-{d:02d}T06:00:00+00:00" for d in (6, 13, 20))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each backend (on PostgreSQL, a new database per test)."""
    if request.param == "sqlite":
        spec = str(tmp_path / "contract.db")
    elif request.param == "postgres":
        from tests.pgserver import create_database

        pg_url = request.getfixturevalue("pg_url")
        spec = create_database(pg_url, f"contract_{tmp_path.name.lower()[-40:]}")
    else:  # pragma: no cover - a backend is added here, and only here
        raise AssertionError(f"unknown backend {request.param}")
    with open_store(spec) as opened:
        yield opened


def fetched(
    url: str = PAGE,
    body: bytes = b"<p>harbor</p>",
    *,
    status: int = 200,
    at: str = "2024-05-06T06:00:01+00:00",
    headers: tuple[tuple[str, str], ...] = (("ETag", '"v1"'), ("Cache-Control", "max-age=60")),
    links: tuple[str, ...] = (),
    final_url: str | None = None,
) -> Fetched:
    full = status == 200
    return Fetched(
        url=url,
        final_url=final_url or url,
        status=status,
        headers=(("Content-Type", "text/html"), *headers),
        body=body if full else b"",
        text=body.decode() if full else "",
        encoding="utf-8",
        fetched_at=at,
        content_hash=hashlib.sha256(body).hexdigest() if full else "",
        links=links,
    )


def check(rule: str, kind: str, passed: bool) -> Finding:
    return Finding(rule, kind, passed, "error", "ok" if passed else f"{kind} missing", "ev")


def a_copy(url: str = PAGE, *checks: Finding, source: str = SRC) -> Copy:
    checks = checks or (check("link", "link_to_original", False),)
    verdict = "violation" if any(not f.passed for f in checks) else "compliant"
    return Copy(
        url=url,
        site="blog.example",
        source_url=source,
        coverage=0.9,
        kind="full",
        verdict=verdict,
        passages=(Passage(0, 100, 20, 121),),
        checks=checks,
        title="Harbor",
        source_title="Harbor plan",
        fetched_at=T1,
    )


def a_report(
    started: str, *copies: Copy, skipped: tuple[Skipped, ...] = (), fetched: int = 2
) -> Report:
    info = ScanInfo(started, started, 1, fetched, sites=("http://blog.example/",), rules="pub")
    return Report(scan=info, copies=copies, skipped=skipped)


def scan(store: Store, report: Report, *pages: Fetched, key: str = "k") -> Report:
    """One scan: begin, record `pages` (each holding a copy when the report has one for it),
    finish."""
    scan_id = store.begin_scan(key, report.scan.started, "fp")
    copied = {c.url for c in report.copies}
    for page in pages:
        store.record_page(scan_id, page, is_copy=page.url in copied)
    return store.finish_scan(scan_id, report)


def failing(report: Report) -> dict[tuple[str, str], tuple[bool | None, str | None, str | None]]:
    return {
        (c.url, f.rule): (f.new, f.first_seen, f.triage)
        for c in report.copies
        for f in c.checks
        if not f.passed
    }


# --- scans: begin, finish, history, report -----------------------------------------------------


def test_scans_round_trip(store: Store) -> None:
    assert store.schema_version >= 1
    assert store.history() == []
    skipped = (
        Skipped("http://blog.example/gone", "HTTP 404 Not Found", SkipCode.GONE),
        Skipped("http://blog.example/slow", "read timed out", SkipCode.UNREACHABLE),
        Skipped("http://blog.example/x", "something else"),
    )
    out = scan(store, a_report(T1, a_copy(), skipped=skipped), fetched())
    assert out.scan.scan_id is not None
    assert store.report(out.scan.scan_id) == out
    assert store.report(out.scan.scan_id + 100) is None
    assert out.skipped == skipped  # codes and all
    with pytest.raises(StoreError):
        store.finish_scan(out.scan.scan_id, out)
    with pytest.raises(StoreError):
        store.finish_scan(out.scan.scan_id + 100, out)
    unfinished = store.begin_scan("k", T2)
    assert store.history() == [
        ScanSummary(unfinished, T2, None, "", 0, 0, 0, 0, 0, 0),
        ScanSummary(out.scan.scan_id, T1, T1, "pub", 2, 1, 1, 1, 0, 3),
    ]
    assert [s.scan for s in store.history(limit=1)] == [unfinished]


def test_history_new_ongoing_resolved_per_key(store: Store) -> None:
    link, copyright_ = check("link", "link_to_original", False), check("c", "copyright", False)
    r1 = scan(store, a_report(T1, a_copy(PAGE, link, copyright_)), fetched())
    assert failing(r1) == {(PAGE, "link"): (True, T1, None), (PAGE, "c"): (True, T1, None)}
    other_key = scan(store, a_report(T2, a_copy(OTHER)), fetched(OTHER), key="other")
    assert other_key.resolved == ()
    r2 = scan(
        store,
        a_report(T2, a_copy(PAGE, link, check("c", "copyright", True))),
        fetched(at=T2),
    )
    assert failing(r2) == {(PAGE, "link"): (False, T1, None)}
    assert r2.resolved == (Resolved(PAGE, SRC, "c", "copyright"),)
    assert r2.new_violations == ()
    # A skipped page keeps its findings open; a page gone resolves them.
    r3 = scan(store, a_report(T3, skipped=(Skipped(PAGE, "timed out", SkipCode.UNREACHABLE),)))
    assert r3.resolved == ()
    r4 = scan(store, a_report(T3, skipped=(Skipped(PAGE, "HTTP 410 Gone", SkipCode.GONE),)))
    assert r4.resolved == (Resolved(PAGE, SRC, "link", "link_to_original"),)
    summaries = store.history()
    assert [(s.new, s.resolved) for s in summaries] == [(0, 1), (0, 0), (0, 1), (1, 0), (1, 0)]


# --- pages -------------------------------------------------------------------------------------


def test_page_states_and_a_304_merge(store: Store) -> None:
    assert store.page_state(PAGE) is None and store.page_states("blog.example") == {}
    s1 = store.begin_scan("k", T1, "fp-1")
    store.record_page(s1, fetched(links=(OTHER,)), is_copy=False)
    assert store.page_state(PAGE) is None  # the scan has not finished
    store.finish_scan(s1, a_report(T1))
    first = PageState(
        url=PAGE,
        etag='"v1"',
        content_hash=hashlib.sha256(b"<p>harbor</p>").hexdigest(),
        fetched_at="2024-05-06T06:00:01+00:00",
        links=(OTHER,),
        cache_control="max-age=60",
        fingerprint="fp-1",
        scan_id=s1,
    )
    assert store.page_state(PAGE) == first
    # A 304 without headers keeps what the full answer said, with its own time and scan.
    s2 = store.begin_scan("k", T2, "fp-2")
    store.record_page(s2, fetched(status=304, at=T2, headers=()), is_copy=False, before=first)
    store.finish_scan(s2, a_report(T2))
    second = replace(first, fetched_at=T2, fingerprint="fp-2", scan_id=s2)
    assert store.page_state(PAGE) == second
    # Without `before`, the store looks the earlier state up itself.
    s3 = store.begin_scan("k", T3, "fp-2")
    store.record_page(s3, fetched(status=304, at=T3, headers=()), is_copy=False)
    store.finish_scan(s3, a_report(T3))
    assert store.page_state(PAGE) == replace(second, fetched_at=T3, scan_id=s3)
    # page_states(host): by requested and by final URL, only that host.
    s4 = store.begin_scan("k", T3, "fp-2")
    store.record_page(s4, fetched("http://blog.example/p?id=7", final_url=OTHER), is_copy=False)
    store.record_page(s4, fetched("http://elsewhere.example/"), is_copy=False)
    store.finish_scan(s4, a_report(T3))
    states = store.page_states("blog.example")
    assert sorted(states) == sorted([PAGE, "http://blog.example/p?id=7", OTHER])
    for url, state in states.items():
        assert state == store.page_state(url)
    assert states[OTHER].url == OTHER and states[OTHER].etag == '"v1"'


def test_page_texts_and_snapshots(store: Store) -> None:
    assert store.page_text(PAGE) is None and store.page_snapshot(PAGE) is None
    store.save_page_text(1, PAGE, "Harbor « déjà vu » 🚢", [SRC, OTHER])
    assert store.page_snapshot(PAGE) == ("Harbor « déjà vu » 🚢", (SRC, OTHER))
    store.save_page_text(2, PAGE + "?utm_source=x", "Second")  # the same page: replaced
    assert store.page_text(PAGE) == "Second"
    assert store.page_snapshot(PAGE) == ("Second", ())


def test_sources_by_the_scan_their_text_arrived_in(store: Store) -> None:
    s1 = store.begin_scan("k", T1)
    assert store.note_sources(s1, {SRC: "h1", SRC_2: "h2"}) == set()
    assert store.sources_since(0) == [SRC, SRC_2]
    s2 = store.begin_scan("k", T2)
    assert store.note_sources(s2, {SRC: "h1b", SRC_2: "h2", SRC + "/3": "h3"}) == {SRC}
    assert store.sources_since(s1) == [SRC, SRC + "/3"]
    assert store.sources_since(s2) == []


# --- copies and triage -------------------------------------------------------------------------


def test_previous_copies_with_triage_marks(store: Store) -> None:
    assert store.previous_copies(PAGE) == [] and store.rules_of_latest(PAGE) is None
    link, copyright_ = check("link", "link_to_original", False), check("c", "copyright", False)
    r1 = scan(
        store,
        a_report(T1, a_copy(PAGE, link, copyright_), a_copy(PAGE, link, source=SRC_2)),
        fetched(),
    )
    assert store.previous_copies(PAGE) == list(r1.copies)
    assert store.previous_copies(PAGE + "#top") == list(r1.copies)  # by canonical URL
    assert store.rules_of_latest(PAGE) == "pub"
    # Marks apply to previous copies as they stand now: the most specific mark wins.
    assert store.triage(PAGE, "licensed", note="signed", source_url=SRC) == 2
    assert store.triage(PAGE, "notified", source_url=SRC, rule="c") == 1
    marked = store.previous_copies(PAGE)
    assert [(f.rule, f.triage, f.triage_note) for f in marked[0].checks] == [
        ("link", "licensed", "signed"),
        ("c", "notified", ""),
    ]
    assert [c.verdict for c in marked] == ["compliant", "violation"]
    # And to the next scan's findings, which keep their history.
    r2 = scan(
        store,
        a_report(T2, a_copy(PAGE, link, copyright_), a_copy(PAGE, link, source=SRC_2)),
        fetched(at=T2),
    )
    assert [(f.rule, f.new, f.first_seen, f.triage) for f in r2.copies[0].checks] == [
        ("link", False, T1, "licensed"),
        ("c", False, T1, "notified"),
    ]
    assert [c.verdict for c in r2.copies] == ["compliant", "violation"]
    # The page no longer holds a copy: nothing carries over.
    scan(store, a_report(T3), fetched(body=b"<p>other</p>", at=T3))
    assert store.previous_copies(PAGE) == []


def test_triage_marks_and_their_validation(store: Store) -> None:
    assert store.triage(PAGE, "licensed") == 0  # nothing scanned there: nothing recorded
    assert store.triage_marks(PAGE) == []
    link, copyright_ = check("link", "link_to_original", False), check("c", "copyright", False)
    scan(store, a_report(T1, a_copy(PAGE, link, copyright_)), fetched())
    assert store.triage(PAGE, "false-positive", note="ours", rule="link") == 1
    assert store.triage(PAGE, "ignored", rule="no-such-rule") == 0
    assert store.triage(PAGE + "?utm_source=feed", "licensed") == 2
    marks = store.triage_marks(PAGE)
    # One mark per failed finding, naming its source and rule; marking again replaces.
    assert [
        {k: m[k] for k in ("url", "source_url", "rule", "status", "note", "evidence", "lapsed")}
        for m in marks
    ] == [
        {
            "url": PAGE,
            "source_url": SRC,
            "rule": "link",
            "status": "licensed",
            "note": "",
            "evidence": "ev",
            "lapsed": "",
        },
        {
            "url": PAGE,
            "source_url": SRC,
            "rule": "c",
            "status": "licensed",
            "note": "",
            "evidence": "ev",
            "lapsed": "",
        },
    ]
    assert all(m["created"] for m in marks)
    for status in TRIAGE_STATUSES:  # every status is accepted; setting one again replaces it
        assert store.triage(PAGE, status, rule="link") == 1
    assert len(store.triage_marks(PAGE)) == 2
    with pytest.raises(StoreError):
        store.triage(PAGE, "wontfix")


def test_marks_never_cover_passing_checks_nor_later_failures(store: Store) -> None:
    link, ok = check("link", "link_to_original", False), check("c", "copyright", True)
    scan(store, a_report(T1, a_copy(PAGE, link, ok)), fetched())
    assert store.triage(PAGE, "false-positive") == 1  # the failing check only
    assert [m["rule"] for m in store.triage_marks(PAGE)] == ["link"]
    # The copyright check fails later: it is new and counts, the marked one does not.
    r2 = scan(
        store,
        a_report(T2, a_copy(PAGE, link, check("c", "copyright", False))),
        fetched(at=T2),
    )
    assert failing(r2) == {
        (PAGE, "link"): (False, T1, "false-positive"),
        (PAGE, "c"): (True, T2, None),
    }
    assert r2.copies[0].verdict == "violation" and r2.exit_code("new") == 1


def test_a_mark_lapses_when_the_evidence_changes_materially(store: Store) -> None:
    def link(evidence: str) -> Finding:
        return replace(check("link", "link_to_original", False), evidence=evidence)

    scan(store, a_report(T1, a_copy(PAGE, link("Credit: Harbor News"))), fetched())
    assert store.triage(PAGE, "licensed", note="deal") == 1
    # Other spacing, case or punctuation is not a material change: still triaged.
    r2 = scan(store, a_report(T2, a_copy(PAGE, link("credit:  harbor news."))), fetched(at=T2))
    assert failing(r2) == {(PAGE, "link"): (False, T1, "licensed")}
    # Other words are: new again, counted, and the mark lapses once the report is delivered.
    r3 = scan(store, a_report(T3, a_copy(PAGE, link("Credit: Someone Else"))), fetched(at=T3))
    assert failing(r3) == {(PAGE, "link"): (True, T1, None)}
    assert r3.exit_code("new") == 1
    (mark,) = store.triage_marks(PAGE)
    assert (mark["status"], mark["evidence"]) == ("licensed", "Credit: Harbor News")
    assert mark["lapsed"]
    assert store.previous_copies(PAGE)[0].checks[0].triage is None
    # New only once: the next scan sees it ongoing and untriaged.
    t4 = "2024-05-27T06:00:00+00:00"
    r4 = scan(store, a_report(t4, a_copy(PAGE, link("Credit: Someone Else"))), fetched(at=t4))
    assert failing(r4) == {(PAGE, "link"): (False, T1, None)}
    # Marking it again records the new evidence and clears the lapse.
    assert store.triage(PAGE, "licensed") == 1
    (mark,) = store.triage_marks(PAGE)
    assert (mark["evidence"], mark["lapsed"]) == ("Credit: Someone Else", "")


def test_untriage_and_every_mark(store: Store) -> None:
    link, copyright_ = check("link", "link_to_original", False), check("c", "copyright", False)
    scan(store, a_report(T1, a_copy(PAGE, link, copyright_), a_copy(OTHER, link)), fetched())
    assert store.triage(PAGE, "licensed") == 2 and store.triage(OTHER, "ignored") == 1
    assert [(m["url"], m["rule"]) for m in store.triage_marks()] == [
        (PAGE, "link"),
        (PAGE, "c"),
        (OTHER, "link"),
    ]
    assert store.untriage(PAGE + "#x", rule="nope") == 0
    assert store.untriage(PAGE + "#x", rule="c") == 1
    assert [m["rule"] for m in store.triage_marks(PAGE)] == ["link"]
    assert [f.triage for f in store.previous_copies(PAGE)[0].checks] == ["licensed", None]
    assert store.untriage(PAGE) == 1 and store.triage_marks(PAGE) == []
    assert [m["url"] for m in store.triage_marks()] == [OTHER]


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_round_trip(store: Store) -> None:
    assert store.evidence(PAGE) is None
    scan(store, a_report(T1, a_copy()), fetched(body=b"<p>one</p>"), fetched(OTHER))
    scan(store, a_report(T2, a_copy()), fetched(body=b"<p>two</p>", at=T2))
    scan(store, a_report(T3, a_copy()), fetched(status=304, at=T3))  # nothing new to keep
    assert store.evidence(OTHER) is None  # no copy there: no evidence
    blob = store.evidence("http://BLOG.example/posts/harbor.html#x")
    assert blob is not None
    records = read_responses(blob)
    assert [(r.target_uri, r.status, r.body) for r in records] == [
        (PAGE, 200, b"<p>two</p>"),
        (PAGE, 200, b"<p>one</p>"),
    ]
    assert records[0].date == "2024-05-13T06:00:00Z"


# --- delivery and the order of looks (issue 12) ------------------------------------------------


def test_a_pending_scan_changes_no_history_until_it_is_delivered(store: Store) -> None:
    s1 = store.begin_scan("k", T1, "fp")
    store.record_page(s1, fetched(at=T1), is_copy=True)
    r1 = store.finish_scan(s1, a_report(T1, a_copy()), pending=True)
    assert failing(r1) == {(PAGE, "link"): (True, T1, None)}
    assert store.report(s1) == r1  # recorded all the same
    # Its report never went out: the next scan reports the finding as new again, and says so.
    s2 = store.begin_scan("k", T2, "fp")
    assert store.undelivered(s2) == 1
    store.record_page(s2, fetched(at=T2), is_copy=True)
    r2 = store.finish_scan(s2, a_report(T2, a_copy()), pending=True)
    assert failing(r2) == {(PAGE, "link"): (True, T2, None)}
    store.deliver(s2)
    store.deliver(s2)  # delivering twice changes nothing
    s3 = store.begin_scan("k", T3, "fp")
    assert store.undelivered(s3) == 0
    store.record_page(s3, fetched(at=T3), is_copy=True)
    assert failing(store.finish_scan(s3, a_report(T3, a_copy()))) == {
        (PAGE, "link"): (False, T2, None)
    }
    with pytest.raises(StoreError):
        store.deliver(store.begin_scan("k", T3))  # not finished
    with pytest.raises(StoreError):
        store.deliver(s3 + 100)


def test_overlapping_scans_keep_the_newest_look(store: Store) -> None:
    """Scan A fetches the page at T1, scan B at T2 sees it fixed and finishes first; A finishes
    last: the finding stays resolved, and A does not reset when it was first seen."""
    at = {n: f"2024-05-13T06:00:0{n}+00:00" for n in range(1, 4)}
    scan(store, a_report(T1, a_copy()), fetched(at=T1))  # open since T1
    slow = store.begin_scan("k", T2, "fp")
    store.record_page(slow, fetched(at=at[1]), is_copy=True)
    fast = store.begin_scan("k", T2, "fp")
    store.record_page(fast, fetched(at=at[2], body=b"<p>fixed</p>"), is_copy=True)
    fixed = a_copy(PAGE, check("link", "link_to_original", True))
    assert len(store.finish_scan(fast, a_report(T2, fixed)).resolved) == 1
    late = store.finish_scan(slow, a_report(T2, a_copy()))
    assert failing(late) == {(PAGE, "link"): (False, T1, None)}  # not new, first seen kept
    assert late.resolved == ()
    # The next scan finds it failing again: a new run of failures, new since that scan.
    again = scan(store, a_report(T3, a_copy()), fetched(at=T3))
    assert failing(again) == {(PAGE, "link"): (True, T3, None)}


def test_an_older_look_that_saw_it_fixed_does_not_resolve_it(store: Store) -> None:
    scan(store, a_report(T1, a_copy()), fetched(at=T1))
    slow = store.begin_scan("k", T2, "fp")
    store.record_page(slow, fetched(at="2024-05-13T06:00:01+00:00"), is_copy=True)
    fast = store.begin_scan("k", T2, "fp")
    store.record_page(fast, fetched(at="2024-05-13T06:00:02+00:00"), is_copy=True)
    store.finish_scan(fast, a_report(T2, a_copy()))
    fixed = a_copy(PAGE, check("link", "link_to_original", True))
    assert store.finish_scan(slow, a_report(T2, fixed)).resolved == ()
    # Still open since T1.
    assert failing(scan(store, a_report(T3, a_copy()), fetched(at=T3))) == {
        (PAGE, "link"): (False, T1, None)
    }


def test_findings_of_sources_outside_the_scans_index_are_not_resolved(store: Store) -> None:
    scan(store, a_report(T1, a_copy(), a_copy(source=SRC_2)), fetched(at=T1))
    s2 = store.begin_scan("k", T2, "fp")
    store.record_page(s2, fetched(at=T2), is_copy=True)
    # The second scan's index lacks SRC_2 (another scan's article): the copy is not looked for.
    r2 = store.finish_scan(s2, a_report(T2, a_copy()), sources={SRC})
    assert r2.resolved == ()
    r3 = scan(store, a_report(T3, a_copy()), fetched(at=T3))
    assert r3.resolved == (Resolved(PAGE, SRC_2, "link", "link_to_original"),)


# --- retried work (a worker killed mid-job runs the job again) ---------------------------------


def test_recording_a_page_twice_in_one_scan_keeps_one_row(store: Store) -> None:
    s1 = store.begin_scan("k", T1, "fp")
    store.record_page(s1, fetched(body=b"<p>first try</p>", at=T1), is_copy=True)
    again = "2024-05-06T06:05:00+00:00"
    store.record_page(s1, fetched(body=b"<p>retried</p>", at=again), is_copy=True)
    report = store.finish_scan(s1, a_report(T1, a_copy()))
    assert failing(report) == {(PAGE, "link"): (True, T1, None)}
    # One page row (the newest fetch) and one evidence record, not two.
    state = store.page_state(PAGE)
    assert state is not None and state.fetched_at == again
    blob = store.evidence(PAGE)
    assert blob is not None
    assert [r.body for r in read_responses(blob)] == [b"<p>retried</p>"]
    assert store.history()[0].pages == 2  # as the report said, not as rows were written
