"""Scans of web archives take part in history: scans of WARC files with the same rules share
one history whatever the files are called, a page that a later archive holds again without
its copy resolves its findings (it is recorded even though the pre-filter kept it out of the
full analysis), a page a later archive does not hold keeps them open, and what the
pre-filter counted reaches the report. Real SQLite files, WARC files of our own pages.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from warcdated import FEB, JAN, MAR, SITE, TAKEN_DOWN, write_archive
from warcfix import RULES, articles, site_pages, write_sources

from xpostcheck.config import Settings
from xpostcheck.models import Fetched, PrefilterCounts, Report, SkipCode
from xpostcheck.pipeline.begin import scan_key
from xpostcheck.pipeline.scan import ScanResult
from xpostcheck.pipeline.warcscan import run_warc_scan
from xpostcheck.pipeline.warcseen import KeptOut
from xpostcheck.report.jsonfmt import report_from_dict, report_to_dict
from xpostcheck.rules.loader import load_ruleset
from xpostcheck.store import open_store

TWO = SITE + "/posts/two.html"  # a copy credited without a link: a violation
THREE = SITE + "/posts/three.html"  # a partial copy with neither: a violation


def settings(tmp: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "sources": (str(write_sources(tmp / "sources.jsonl", articles())),),
        "rules": str(RULES),
        "db": str(tmp / "history.db"),
        "delay": 0.0,
        "workers": 1,
    }
    values.update(extra)
    return Settings(**values)


def scan(tmp: Path, archive: Path) -> ScanResult:
    return run_warc_scan(settings(tmp), [str(archive)])


def failing(report: Report, url: str) -> dict[tuple[str, str], tuple[bool | None, str | None]]:
    """(source, rule) -> (new, first_seen) of the failed checks of the copy at `url`."""
    return {
        (c.source_url, f.rule): (f.new, f.first_seen)
        for c in report.copies
        if c.url == url
        for f in c.checks
        if not f.passed
    }


def resolved(report: Report) -> set[tuple[str, str, str]]:
    return {(r.url, r.source_url, r.rule) for r in report.resolved}


def test_a_later_archive_holding_the_page_without_the_copy_resolves_its_findings(
    tmp_path: Path,
) -> None:
    pages = site_pages(articles())
    first = scan(tmp_path, write_archive(tmp_path / "2026-01.warc.gz", pages, JAN))
    before = failing(first.report, TWO)
    assert before and all(new for new, _ in before.values())
    assert first.report.exit_code("new") == 1

    # next month's archive, under another name: the copy is gone from the page
    later = write_archive(
        tmp_path / "2026-02.warc.gz",
        {**pages, "/posts/two.html": TAKEN_DOWN},
        FEB,
    )
    second = scan(tmp_path, later)
    assert resolved(second.report) == {(TWO, src, rule) for src, rule in before}
    assert not failing(second.report, TWO)
    # the partial copy still violates: ongoing, not new, first seen in the first scan
    assert failing(second.report, THREE) == {
        k: (False, first.report.scan.started) for k in failing(first.report, THREE)
    }
    assert second.report.exit_code("new") == 0
    assert second.report.exit_code("any") == 1
    # every page of the archive is recorded, the kept-out ones without a hash or links
    with sqlite3.connect(tmp_path / "history.db") as db:
        rows = db.execute(
            "SELECT url, fetched_at, content_hash, links FROM pages WHERE scan_id = ?",
            (second.report.scan.scan_id,),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(SITE + p for p in pages)
    assert {r[1] for r in rows} == {FEB}
    kept_out = [r for r in rows if r[0] not in (SITE + "/posts/one.html", THREE)]
    assert kept_out and all(r[2] is None and r[3] == "[]" for r in kept_out)


def test_a_page_captured_twice_in_the_later_scan_resolves_its_findings(tmp_path: Path) -> None:
    """The second capture of a page in one scan is a duplicate skip, but the page was looked
    at (its first capture was checked): its findings resolve as with one capture."""
    pages = site_pages(articles())
    first = scan(tmp_path, write_archive(tmp_path / "jan.warc.gz", pages, JAN))
    before = failing(first.report, TWO)
    assert before
    gone = {**pages, "/posts/two.html": TAKEN_DOWN}
    files = [write_archive(tmp_path / f"feb-{n}.warc.gz", gone, FEB) for n in (1, 2)]
    second = run_warc_scan(settings(tmp_path), [str(f) for f in files])
    assert TWO in {s.url for s in second.report.skipped if s.code is SkipCode.DUPLICATE}
    assert resolved(second.report) == {(TWO, src, rule) for src, rule in before}


def test_a_later_archive_without_the_page_leaves_its_findings_open(tmp_path: Path) -> None:
    pages = site_pages(articles())
    first = scan(tmp_path, write_archive(tmp_path / "a.warc.gz", pages, JAN))
    before = failing(first.report, TWO)
    assert before
    # an archive of the site's pages that hold no copy at all (every one kept out by the
    # pre-filter): the copy pages were not captured, so nothing is known of them
    plain = {p: body for p, body in pages.items() if not p.startswith("/posts/")}
    second = scan(tmp_path, write_archive(tmp_path / "b.warc.gz", plain, FEB))
    assert second.report.resolved == ()
    assert second.report.copies == ()
    # a third archive holds the page again, still copied without a link: ongoing, not new
    third = scan(tmp_path, write_archive(tmp_path / "c.warc.gz", pages, MAR))
    assert failing(third.report, TWO) == {k: (False, first.report.scan.started) for k in before}
    assert third.report.exit_code("new") == 0


def test_a_later_archive_still_holding_the_violation_reports_it_ongoing(tmp_path: Path) -> None:
    pages = site_pages(articles())
    first = scan(tmp_path, write_archive(tmp_path / "x.warc.gz", pages, JAN))
    second = scan(tmp_path, write_archive(tmp_path / "y.warc.gz", pages, FEB))
    for url in (TWO, THREE):
        was = failing(first.report, url)
        assert was and all(new for new, _ in was.values())
        assert failing(second.report, url) == {k: (False, first.report.scan.started) for k in was}
    assert second.report.resolved == ()
    assert second.report.new_violations == ()
    assert (second.report.exit_code("new"), second.report.exit_code("any")) == (0, 1)


def test_an_older_capture_scanned_later_resolves_nothing(tmp_path: Path) -> None:
    """History follows the capture dates (WARC-Date), not the order of the scans: an archive
    captured before the one that saw the violation does not resolve it; a newer one does."""
    pages = site_pages(articles())
    fixed = {**pages, "/posts/two.html": TAKEN_DOWN}
    first = scan(tmp_path, write_archive(tmp_path / "feb.warc.gz", pages, FEB))
    before = failing(first.report, TWO)
    older = scan(tmp_path, write_archive(tmp_path / "jan.warc.gz", fixed, JAN))
    assert older.report.resolved == ()
    newer = scan(tmp_path, write_archive(tmp_path / "mar.warc.gz", fixed, MAR))
    assert resolved(newer.report) == {(TWO, src, rule) for src, rule in before}


def test_warc_scans_share_a_key_by_rules_and_crawls_keep_theirs(tmp_path: Path) -> None:
    ruleset = load_ruleset(str(RULES))
    base = settings(tmp_path)

    def key_of(**extra: Any) -> str:
        return scan_key(Settings(**{**base.__dict__, **extra}), ruleset)

    # a crawl's key: its sites, single URLs and rules, as it always was
    crawl = key_of(
        sites=("https://b.example/", "https://a.example/"), urls=("https://c.example/x",)
    )
    parts = ["https://a.example/", "https://b.example/", "--url", "https://c.example/x"]
    parts += ["--rules", ruleset.name]
    assert crawl == hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    # archives: the same key whatever the files, another for other rules, none a crawl's
    jan = key_of(warc=("/data/2026-01.warc.gz",), urls=("/data/2026-01.warc.gz",))
    feb = key_of(warc=("/data/2026-02.warc.gz", "https://cc.example/x.warc.gz"))
    assert jan == feb
    assert jan != key_of(urls=("/data/2026-01.warc.gz",))
    other = load_ruleset("globalresearch")
    assert jan != scan_key(Settings(**{**base.__dict__, "warc": ("/data/a.warc.gz",)}), other)


def test_the_prefilter_counts_reach_the_report_and_the_store(tmp_path: Path) -> None:
    pages = site_pages(articles())
    result = scan(tmp_path, write_archive(tmp_path / "a.warc.gz", pages, JAN))
    counts = PrefilterCounts(looked=len(pages), analysed=3)  # the three copy pages
    assert result.report.scan.prefilter == counts
    data = report_to_dict(result.report)
    assert data["scan"]["prefilter"] == {"looked": len(pages), "analysed": 3}
    assert report_from_dict(json.loads(json.dumps(data))).scan.prefilter == counts
    scan_id = result.report.scan.scan_id
    assert scan_id is not None
    with open_store(str(tmp_path / "history.db")) as store:
        stored = store.report(scan_id)
    assert stored is not None and stored.scan.prefilter == counts


def test_a_crawl_s_report_has_no_prefilter_counts() -> None:
    from xpostcheck.models import ScanInfo

    report = Report(scan=ScanInfo("2026-01-01T00:00:00+00:00", "", 1, 1), copies=())
    assert "prefilter" not in report_to_dict(report)["scan"]
    assert report_from_dict(report_to_dict(report)).scan.prefilter is None


def page(path: str, when: str, content_hash: str = "") -> Fetched:
    url = SITE + path
    return Fetched(url, url, 200, (), b"", "", "utf-8", when, content_hash=content_hash)


def test_kept_out_pages_are_recorded_in_batches_and_once(tmp_path: Path) -> None:
    """Recorded in batches of `batch` (one transaction each) and the rest on `flush`; a page
    the scan recorded already (analysed, or by an earlier attempt) keeps its row."""
    from xpostcheck.pipeline.begin import begin

    run = begin(settings(tmp_path, warc=("a.warc.gz",), urls=("a.warc.gz",)))
    try:
        run.store.record_page(run.scan_id, page("/a", JAN, "abc"), is_copy=True)
        kept = KeptOut(run, batch=2)
        for path in ("/a", "/p1", "/p2", "/p3", "/p4"):
            kept.add(page(path, "2026-01-06T00:00:00Z"))
        with sqlite3.connect(tmp_path / "history.db") as db:
            count = "SELECT count(*) FROM pages WHERE scan_id = ?"
            assert db.execute(count, (run.scan_id,)).fetchone() == (4,)  # two batches
            kept.flush()
            assert db.execute(count, (run.scan_id,)).fetchone() == (5,)
            row = db.execute(
                "SELECT content_hash, is_copy FROM pages WHERE url = ?", (SITE + "/a",)
            ).fetchone()
        assert row == ("abc", 1)
    finally:
        run.close()


def test_the_cli_says_what_the_prefilter_let_through(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from jsonschema import Draft202012Validator

    from xpostcheck.cli.main import main

    pages = site_pages(articles())
    archive = write_archive(tmp_path / "a.warc.gz", pages, JAN)
    base = settings(tmp_path)
    args = ["scan", "--warc", str(archive), "-s", base.sources[0], "-r", str(RULES)]
    args += ["--db", base.db, "-f", "json"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert f", {len(pages)} pages, pre-filter: 3 of {len(pages)} analysed, " in result.stderr
    report = json.loads(result.stdout)
    assert report["scan"]["prefilter"] == {"looked": len(pages), "analysed": 3}
    schema = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"
    Draft202012Validator(json.loads(schema.read_text(encoding="utf-8"))).validate(report)
    # the table's last line is the same summary
    table = CliRunner().invoke(main, [*args[:-2], "-f", "table"], catch_exceptions=False)
    assert f"pre-filter: 3 of {len(pages)} analysed" in table.stdout.strip().splitlines()[-1]
