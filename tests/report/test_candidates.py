"""Candidate sites (from WARC input) in every report format: the table, CSV and HTML show
them as the JSON does, so that an editor sees which sites to scan live; a report without
candidates renders as before (the golden files of test_report.py)."""

from __future__ import annotations

import csv
import io
import json

from xpostcheck.models import ArchiveCandidate, Report, ScanInfo
from xpostcheck.report.base import RenderContext, candidate_line
from xpostcheck.report.csv import CSV_COLUMNS
from xpostcheck.report.formats import FORMATS
from xpostcheck.report.table import TableFormat

CANDIDATES = (
    ArchiveCandidate("https://shore.example/", 3, 5, "https://shore.example/posts/one.html"),
    ArchiveCandidate("https://quiet.example/", 0, 1, "https://quiet.example/links?a=1&b=<2>"),
    ArchiveCandidate("https://one.example/", 1, 0, '=HYPERLINK("x")'),
)


def _report(candidates: tuple[ArchiveCandidate, ...] = CANDIDATES) -> Report:
    info = ScanInfo(
        started="2026-03-01T10:00:00+00:00",
        finished="2026-03-01T10:01:00+00:00",
        sources=3,
        pages_fetched=40,
        sites=("/data/crawl.warc.gz",),
    )
    return Report(scan=info, copies=(), skipped=(), candidates=candidates)


def test_candidate_lines_say_what_each_site_holds() -> None:
    assert [candidate_line(c) for c in CANDIDATES] == [
        "3 pages with copies, 5 other pages linking to the publisher",
        "1 page linking to the publisher",
        "1 page with copies",
    ]


def test_the_table_lists_candidates_best_first() -> None:
    text = TableFormat(width=120, color=False).render(_report(), RenderContext())
    lines = text.splitlines()
    start = lines.index("Candidate sites for a live scan (--site):")
    assert lines[start + 1 : start + 4] == [
        "  https://shore.example/: 3 pages with copies, 5 other pages linking to the publisher; "
        "for example https://shore.example/posts/one.html",
        "  https://quiet.example/: 1 page linking to the publisher; "
        "for example https://quiet.example/links?a=1&b=<2>",
        '  https://one.example/: 1 page with copies; for example =HYPERLINK("x")',
    ]
    assert lines[-1].endswith("3 candidate sites")


def test_csv_has_one_candidate_row_per_site_after_the_findings() -> None:
    text = FORMATS["csv"].render(_report(), RenderContext())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)  # the columns are unchanged
    assert [(r["site"], r["url"], r["verdict"], r["message"], r["evidence"]) for r in rows] == [
        (
            "shore.example",
            "https://shore.example/",
            "candidate",
            "3 pages with copies, 5 other pages linking to the publisher: scan this site live",
            "https://shore.example/posts/one.html",
        ),
        (
            "quiet.example",
            "https://quiet.example/",
            "candidate",
            "1 page linking to the publisher: scan this site live",
            "https://quiet.example/links?a=1&b=<2>",
        ),
        (
            "one.example",
            "https://one.example/",
            "candidate",
            "1 page with copies: scan this site live",
            '\'=HYPERLINK("x")',  # formula-safe, as every cell from other people's pages
        ),
    ]
    assert all(r["scan_started"] == "2026-03-01T10:00:00+00:00" for r in rows)
    assert all(r["rule"] == r["passed"] == r["coverage"] == "" for r in rows)


def test_html_has_a_candidates_section_linked_from_the_summary() -> None:
    page = FORMATS["html"].render(_report(), RenderContext())
    assert '<tr><th>Candidate sites</th><td><a href="#candidates">3</a></td></tr>' in page
    assert '<h2 id="candidates">Candidate sites for a live scan</h2>' in page
    assert (
        '<td><a href="https://shore.example/">https://shore.example/</a></td>'
        '<td class="num">3</td><td class="num">5</td>'
        '<td><a href="https://shore.example/posts/one.html">'
        "https://shore.example/posts/one.html</a></td>"
    ) in page
    # an example URL from someone else's page is escaped, never markup
    assert "https://quiet.example/links?a=1&amp;b=&lt;2&gt;" in page
    assert "b=<2>" not in page
    assert page.index('id="candidates"') < page.index("<script>")


def test_formats_show_no_candidates_section_without_candidates() -> None:
    report = _report(())
    assert "Candidate" not in TableFormat(width=120, color=False).render(report, RenderContext())
    assert "candidate" not in FORMATS["csv"].render(report, RenderContext())
    assert 'id="candidates"' not in FORMATS["html"].render(report, RenderContext())
    data = json.loads(FORMATS["json"].render(report, RenderContext()))
    assert "candidates" not in data


def test_json_keeps_its_candidates_contract() -> None:
    data = json.loads(FORMATS["json"].render(_report(), RenderContext()))
    assert data["schema_version"] == 1
    assert data["summary"]["candidates"] == 3
    assert data["candidates"][0] == {
        "site": "https://shore.example/",
        "copies": 3,
        "linking": 5,
        "example": "https://shore.example/posts/one.html",
    }
