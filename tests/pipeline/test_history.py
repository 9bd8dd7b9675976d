"""Scan history: new, then ongoing, then resolved; triage; --fail-on new.

First through the Store with constructed reports, then end to end: three CLI scans of a
loopback site whose pages change between scans (and answer 304 when they do not).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopback import Route, Server

from xpostcheck.models import Copy, Finding, Report, Resolved, ScanInfo, SkipCode, Skipped
from xpostcheck.store import ScanSummary, open_store

SRC = "https://pub.example/2024/harbor"
T1, T2, T3 = (f"2024-05-{d:02d}T06:00:00+00:00" for d in (6, 13, 20))


def check(rule: str, kind: str, passed: bool) -> Finding:
    return Finding(rule, kind, passed, "error", "ok" if passed else f"{kind} missing")


def copy(url: str, *checks: Finding) -> Copy:
    verdict = "violation" if any(not f.passed for f in checks) else "compliant"
    return Copy(url, "blog.example", SRC, 0.97, "full", verdict, (), tuple(checks))


def report(started: str, *copies: Copy, skipped: tuple[Skipped, ...] = ()) -> Report:
    info = ScanInfo(started, started.replace("06:00:00", "06:05:00"), 3, 10, rules="pub")
    return Report(scan=info, copies=copies, skipped=skipped)


def run(store: Any, key: str, rep: Report) -> Report:
    scan_id = store.begin_scan(key, rep.scan.started)
    out: Report = store.finish_scan(scan_id, rep)
    return out


def states(rep: Report) -> dict[tuple[str, str], tuple[bool | None, str | None, str | None]]:
    return {
        (c.url, f.rule): (f.new, f.first_seen, f.triage)
        for c in rep.copies
        for f in c.checks
        if not f.passed
    }


A = "http://blog.example/a"
B = "http://blog.example/b"


def test_new_then_ongoing_then_resolved(tmp_path: Path) -> None:
    store = open_store(tmp_path / "h.db")
    r1 = run(
        store,
        "k",
        report(
            T1,
            copy(
                A,
                check("link", "link_to_original", False),
                check("copy", "copyright_notice", False),
            ),
            copy(B, check("link", "link_to_original", True)),
        ),
    )
    assert states(r1) == {(A, "link"): (True, T1, None), (A, "copy"): (True, T1, None)}
    assert r1.resolved == () and r1.scan.scan_id == 1
    assert r1.exit_code("new") == 1

    r2 = run(
        store,
        "k",
        report(
            T2,
            copy(
                A, check("link", "link_to_original", False), check("copy", "copyright_notice", True)
            ),
            copy(B, check("link", "link_to_original", False)),
        ),
    )
    assert states(r2) == {(A, "link"): (False, T1, None), (B, "link"): (True, T2, None)}
    assert r2.resolved == (Resolved(A, SRC, "copy", "copyright_notice"),)

    r3 = run(
        store,
        "k",
        report(
            T3,
            copy(
                A, check("link", "link_to_original", True), check("copy", "copyright_notice", True)
            ),
            copy(B, check("link", "link_to_original", False)),
        ),
    )
    assert states(r3) == {(B, "link"): (False, T2, None)}
    assert r3.resolved == (Resolved(A, SRC, "link", "link_to_original"),)
    # Cron with --fail-on new stays quiet about an ongoing violation; "any" does not.
    assert (r3.exit_code("new"), r3.exit_code("any")) == (0, 1)

    assert store.history() == [
        ScanSummary(3, T3, T3.replace("06:00", "06:05"), "pub", 10, 2, 1, 0, 1, 0),
        ScanSummary(2, T2, T2.replace("06:00", "06:05"), "pub", 10, 2, 2, 1, 1, 0),
        ScanSummary(1, T1, T1.replace("06:00", "06:05"), "pub", 10, 2, 1, 1, 0, 0),
    ]
    assert [s.scan for s in store.history(limit=1)] == [3]
    store.close()


def test_a_violation_that_comes_back_is_new_again(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        run(store, "k", report(T1, copy(A, check("link", "link_to_original", False))))
        run(store, "k", report(T2, copy(A, check("link", "link_to_original", True))))
        r3 = run(store, "k", report(T3, copy(A, check("link", "link_to_original", False))))
    assert states(r3) == {(A, "link"): (True, T3, None)}


def test_history_compares_only_scans_with_the_same_key(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        run(store, "site-a", report(T1, copy(A, check("link", "link_to_original", False))))
        other = run(store, "site-b", report(T2, copy(B, check("link", "link_to_original", True))))
        again = run(store, "site-a", report(T3, copy(A, check("link", "link_to_original", False))))
    assert other.resolved == ()  # site-b never saw A
    assert states(again) == {(A, "link"): (False, T1, None)}


def test_unfinished_scans_are_not_the_previous_scan(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        run(store, "k", report(T1, copy(A, check("link", "link_to_original", False))))
        store.begin_scan("k", T2)  # crashed: never finished
        r3 = run(store, "k", report(T3, copy(A, check("link", "link_to_original", False))))
        summaries = store.history()
    assert states(r3) == {(A, "link"): (False, T1, None)}
    assert [(s.scan, s.finished) for s in summaries] == [
        (3, T3.replace("06:00", "06:05")),
        (2, None),
        (1, T1.replace("06:00", "06:05")),
    ]


def test_a_skipped_page_is_not_resolved(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        run(store, "k", report(T1, copy(A, check("link", "link_to_original", False))))
        r2 = run(store, "k", report(T2, skipped=(Skipped(A + "#top", "timed out"),)))
    assert r2.resolved == ()


def test_triage_marks_persist_and_stop_counting(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = open_store(db)
    run(
        store,
        "k",
        report(
            T1,
            copy(
                A,
                check("link", "link_to_original", False),
                check("copy", "copyright_notice", False),
            ),
            copy(B, check("link", "link_to_original", False)),
        ),
    )
    assert store.triage(A, "licensed", note="signed agreement 2024-02") == 2
    assert store.triage(B + "?utm_source=x", "false-positive", rule="link") == 1
    assert store.triage(B, "ignored", rule="no-such-rule") == 0
    assert store.triage("http://elsewhere.example/", "notified") == 0
    store.close()

    store = open_store(db)  # the marks survive a reopen
    # One mark per failed finding of the page.
    assert [
        (m["source_url"], m["rule"], m["status"], m["note"]) for m in store.triage_marks(A)
    ] == [
        (SRC, "link", "licensed", "signed agreement 2024-02"),
        (SRC, "copy", "licensed", "signed agreement 2024-02"),
    ]
    r2 = run(
        store,
        "k",
        report(
            T2,
            copy(
                A,
                check("link", "link_to_original", False),
                check("copy", "copyright_notice", False),
            ),
            copy(B, check("link", "link_to_original", False)),
        ),
    )
    assert states(r2) == {
        (A, "link"): (False, T1, "licensed"),
        (A, "copy"): (False, T1, "licensed"),
        (B, "link"): (False, T1, "false-positive"),
    }
    assert [c.verdict for c in r2.copies] == ["compliant", "compliant"]
    assert r2.violations == () and r2.exit_code("any") == 0
    # previous_copies shows the marks as they stand now.
    assert [c.verdict for c in store.previous_copies(A)] == ["compliant"]
    # Marking one finding again replaces its mark.
    assert store.triage(A, "notified", rule="copy") == 1
    r3 = run(
        store,
        "k",
        report(
            T3,
            copy(
                A,
                check("link", "link_to_original", False),
                check("copy", "copyright_notice", False),
            ),
        ),
    )
    assert states(r3)[(A, "copy")] == (False, T1, "notified")
    store.close()


def test_unknown_triage_status(tmp_path: Path) -> None:
    from xpostcheck.errors import StoreError

    with open_store(tmp_path / "h.db") as store, pytest.raises(StoreError) as err:
        store.triage(A, "wontfix")
    assert str(err.value) == (
        f"{A}: unknown triage status 'wontfix'; "
        "use one of false-positive, licensed, notified, ignored"
    )


# --- end to end: three scans of a loopback site whose pages change ---------------------------

ARTICLE = (
    "The harbor commission voted on Tuesday to dredge the north channel before the autumn "
    "storms arrive, ending two years of argument about cost and about the eelgrass beds.\n\n"
    "Fishing crews had asked for the work to begin in spring, when fewer boats use the channel, "
    "but the dredging contractor could not bring its barge north until late August this year.\n\n"
    "The commission chair said the vote was close and that night access for the crews would be "
    "reviewed each week while the channel stays closed to most traffic during the work."
)
ARTICLE_2 = (
    "The town library will open on Sundays from the first weekend of May, the trustees said "
    "after a year in which volunteers kept the reading room open on a trial basis.\n\n"
    "Volunteers will staff the front desk, and the children's room will host a story hour at "
    "eleven each Sunday morning for readers from three to seven years old.\n\n"
    "The trustees thanked the friends of the library, whose book sales paid for the extra heating "
    "and lighting that the longer opening hours will need through the winter."
)
PUB = "https://www.globalresearch.ca"
URL_1 = f"{PUB}/harbor-dredging/5800001"
URL_2 = f"{PUB}/library-sundays/5800002"


def _paras(text: str) -> str:
    return "".join(f"<p>{p}</p>" for p in text.split("\n\n"))


def _page(title: str, text: str, *, link: str | None, copyright: bool) -> str:
    # Each page words its credit differently, so the site profile does not take it for chrome.
    author, credit = {
        "Harbor to be dredged": (
            "Ana Ruiz",
            "The original source of this article is Global Research",
        ),
        "Library Sundays": ("Tom Okafor", "First published by Global Research"),
    }[title]
    credit = f"<p>{credit}</p>"
    if copyright:
        credit += f"<p>Copyright © {author}, Global Research, 2024</p>"
    if link:
        credit += f'<p><a href="{link}">Read the original</a></p>'
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        f'<nav><a href="/">Home</a></nav><main><article><h1>{title}</h1>{_paras(text)}'
        f"{credit}</article></main><footer>A community blog.</footer></body></html>"
    )


@pytest.fixture()
def changing_site() -> Iterator[tuple[str, dict[str, str]]]:
    pages: dict[str, str] = {}
    pages["not modified"] = ""  # the paths answered 304, space-separated, for the test

    def answer(request: BaseHTTPRequestHandler) -> None:
        body = pages.get(request.path)
        data = (body or "not found").encode()
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if body and request.headers.get("If-None-Match") == etag:
            pages["not modified"] += f" {request.path}"
            request.send_response(304)
            request.send_header("ETag", etag)
            request.end_headers()
            return
        request.send_response(200 if body else 404)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("ETag", etag)
        request.end_headers()
        request.wfile.write(data)

    # Every path the scans ask for gets the same answer function (robots.txt: a 404).
    routes: dict[str, Route] = {path: answer for path in ("/", "/a", "/b", "/robots.txt")}
    with Server(routes) as server:
        yield server.base, pages


def test_three_scans_of_a_changing_site(
    tmp_path: Path, changing_site: tuple[str, dict[str, str]]
) -> None:
    from xpostcheck.cli.main import main

    site, pages = changing_site
    sources = tmp_path / "sources.jsonl"
    sources.write_text(
        "".join(
            json.dumps({"url": u, "title": t, "author": a, "published": "2024-03-02", "text": x})
            + "\n"
            for u, t, a, x in (
                (URL_1, "Harbor to be dredged", "Ana Ruiz", ARTICLE),
                (URL_2, "Library Sundays", "Tom Okafor", ARTICLE_2),
            )
        ),
        encoding="utf-8",
    )
    db = tmp_path / "x.db"

    def scan(*extra: str) -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(
            main,
            [
                "scan",
                site + "/",
                "--sources",
                str(sources),
                "--rules",
                "globalresearch",
                "--format",
                "json",
                "--db",
                str(db),
                "--delay",
                "0",
                "--workers",
                "1",
                "--quiet",
                "--max-depth",  # pages at the depth limit are asked for conditionally
                "1",
                *extra,
            ],
            catch_exceptions=False,
        )
        return result.exit_code, json.loads(result.stdout)

    def failed(rep: dict[str, Any]) -> dict[tuple[str, str], tuple[bool, str]]:
        return {
            (c["url"].removeprefix(site), f["kind"]): (f["new"], f["first_seen"])
            for c in rep["copies"]
            for f in c["checks"]
            if not f["passed"] and f["severity"] == "error"
        }

    # Scan 1: /a has no link to the original, /b is compliant.
    pages["/"] = '<a href="/a">a</a> <a href="/b">b</a>'
    pages["/a"] = _page("Harbor to be dredged", ARTICLE, link=None, copyright=True)
    pages["/b"] = _page("Library Sundays", ARTICLE_2, link=URL_2, copyright=True)
    code, r1 = scan()
    t1 = r1["scan"]["started"]
    assert code == 1
    assert failed(r1) == {("/a", "link_to_original"): (True, t1)}
    assert r1["resolved"] == []

    # Scan 2: /a is unchanged (the server answers 304), /b loses its copyright line.
    pages["/b"] = _page("Library Sundays", ARTICLE_2, link=URL_2, copyright=False)
    code, r2 = scan("--fail-on", "new")
    assert code == 1  # a new violation
    # The home page and /a answered 304 (their stored links keep the crawl going) and /a's
    # findings carried over; /b changed and was fetched in full.
    assert sorted(pages["not modified"].split()) == ["/", "/a"]
    assert r2["scan"]["pages_unchanged"] == 2
    pages["not modified"] = ""
    t2 = r2["scan"]["started"]
    assert failed(r2) == {
        ("/a", "link_to_original"): (False, t1),  # ongoing since scan 1
        ("/b", "copyright_notice"): (True, t2),
    }
    assert r2["resolved"] == []

    # Scan 3: /a gets its link; /b stays as it was.
    pages["/a"] = _page("Harbor to be dredged", ARTICLE, link=URL_1, copyright=True)
    code, r3 = scan("--fail-on", "new")
    assert code == 0  # only an ongoing violation is left
    assert failed(r3) == {("/b", "copyright_notice"): (False, t2)}
    assert [(r["url"].removeprefix(site), r["kind"], r["source_url"]) for r in r3["resolved"]] == [
        ("/a", "link_to_original", URL_1)
    ]

    store = open_store(db)
    summaries = store.history()
    store.close()
    assert [(s.scan, s.copies, s.violations, s.new, s.resolved) for s in summaries] == [
        (3, 2, 1, 0, 1),
        (2, 2, 2, 1, 0),
        (1, 2, 1, 1, 0),
    ]

    # The review commands on the same database: notice, evidence, triage, history.
    runner = CliRunner()
    b_url = site + "/b"
    notice = runner.invoke(main, ["notice", b_url, "--db", str(db), "--rules", "globalresearch"])
    assert notice.exit_code == 0, notice.output
    assert 'Subject: Republishing "Library Sundays" from Global Research\n' in notice.stdout
    assert "       Copyright © 2024 Tom Okafor\n" in notice.stdout
    warc = tmp_path / "b.warc.gz"
    got = runner.invoke(main, ["evidence", b_url, "--db", str(db), "-o", str(warc)])
    assert got.exit_code == 0, got.output
    bodies = [body for body in _warc_bodies(warc.read_bytes())]
    assert len(bodies) == 2  # /b changed twice as a copy: scan 1 and scan 2 (304 in scan 3)
    assert bodies[0] == pages["/b"].encode()
    marked = runner.invoke(
        main, ["triage", b_url, "--as", "licensed", "--rule", "gr-copyright", "--db", str(db)]
    )
    assert marked.exit_code == 0, marked.output
    code, r4 = scan()
    assert code == 0 and failed(r4) == {("/b", "copyright_notice"): (False, t2)}
    assert [
        f["triage"] for c in r4["copies"] for f in c["checks"] if not f["passed"] and "triage" in f
    ] == ["licensed"]
    listing = runner.invoke(main, ["history", "--db", str(db)])
    assert listing.exit_code == 0
    assert listing.stdout.splitlines()[0].split() == [
        "scan", "started", "finished", "rules", "pages", "copies", "violations", "new",
        "resolved", "skipped",
    ]  # fmt: skip
    assert len(listing.stdout.splitlines()) == 5


def _warc_bodies(blob: bytes) -> list[bytes]:
    import io

    from warcio.archiveiterator import ArchiveIterator

    return [r.raw_stream.read() for r in ArchiveIterator(io.BytesIO(blob))]


def test_a_page_skipped_for_a_while_keeps_its_history(tmp_path: Path) -> None:
    """A timeout for two scans is not a fix: when the page is back, its finding is not new."""
    link = check("link", "link_to_original", False)
    with open_store(tmp_path / "h.db") as store:
        run(store, "k", report(T1, copy(A, link), copy(B, link)))
        r2 = run(store, "k", report(T2, copy(B, link), skipped=(Skipped(A, "read timed out"),)))
        r3 = run(store, "k", report(T3, copy(B, link), skipped=(Skipped(A, "read timed out"),)))
        r4 = run(store, "k", report("2024-05-27T06:00:00+00:00", copy(A, link), copy(B, link)))
    assert r2.resolved == () and r3.resolved == ()
    assert states(r4)[(A, "link")] == (False, T1, None)  # first seen in the first scan
    assert r4.new_violations == ()


def test_a_page_gone_resolves_its_findings(tmp_path: Path) -> None:
    link = check("link", "link_to_original", False)
    with open_store(tmp_path / "h.db") as store:
        run(store, "k", report(T1, copy(A, link)))
        r2 = run(store, "k", report(T2, skipped=(Skipped(A, "HTTP 404 Not Found", SkipCode.GONE),)))
        r3 = run(store, "k", report(T3, copy(A, link)))
    assert [(r.url, r.rule) for r in r2.resolved] == [(A, "link")]
    assert states(r3)[(A, "link")] == (True, T3, None)  # it came back: a new violation


def test_open_findings_of_an_older_database_carry_into_its_first_upgraded_scan(
    tmp_path: Path,
) -> None:
    import sqlite3

    from xpostcheck.store.schema import MIGRATIONS
    from xpostcheck.util.urls import canonicalize as _key

    path = tmp_path / "h.db"
    db = sqlite3.connect(path)
    db.executescript(";".join(MIGRATIONS[:3]) + "; PRAGMA user_version=3;")
    db.execute("INSERT INTO scans (id, key, started, finished) VALUES (1, 'k', ?, ?)", (T1, T1))
    db.execute(
        "INSERT INTO copies (id, scan_id, url, url_key, site, source_url, coverage, kind,"
        " verdict, passages) VALUES (1, 1, ?, ?, 'blog.example', ?, 0.97, 'full', 'violation',"
        " '[]')",
        (A, _key(A), SRC),
    )
    db.execute(
        "INSERT INTO findings (copy_id, scan_id, position, url, url_key, source_url, rule, kind,"
        " passed, severity, message, first_seen) VALUES (1, 1, 0, ?, ?, ?, 'link',"
        " 'link_to_original', 0, 'error', 'missing', ?)",
        (A, _key(A), SRC, T1),
    )
    db.commit()
    db.close()
    with open_store(path) as store:
        r2 = run(store, "k", report(T2, copy(A, check("link", "link_to_original", False))))
        r3 = run(store, "k", report(T3, copy(B, check("link", "link_to_original", True))))
    assert states(r2)[(A, "link")][:2] == (False, T1)
    # The migrated open finding is keyed by the page's canonical URL: a later scan resolves it.
    assert r3.resolved == (Resolved(A, SRC, "link", "link_to_original"),)
