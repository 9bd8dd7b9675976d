"""Report formats: the registry, the JSON contract, CSV and HTML against golden files.

Golden files live in tests/golden/. After an intended change to a format, regenerate them on
purpose with `UPDATE_GOLDEN=1 pytest tests/report/test_report.py` and review the diff before
committing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from xpostcheck.models import (
    Copy,
    Finding,
    Passage,
    Report,
    Resolved,
    ScanInfo,
    SkipCode,
    Skipped,
    SourceArticle,
)
from xpostcheck.report.base import RenderContext, ReportError, summary_line
from xpostcheck.report.csv import CSV_COLUMNS
from xpostcheck.report.formats import FORMATS
from xpostcheck.report.html import Segment, highlight
from xpostcheck.report.jsonfmt import report_from_dict, report_to_dict

GOLDEN = Path(__file__).parents[1] / "golden"

# Every check kind named in DESIGN.md.
CHECK_KINDS = (
    "attribution",
    "copyright_notice",
    "link_to_original",
    "canonical",
    "noindex",
    "byline",
    "license_notice",
    "tracking_pixel",
    "integrity",
    "non_commercial",
    "embargo",
    "media",
    "eligibility",
)

SOURCE_A = SourceArticle(
    url="https://harbor-news.example/2024/dredging-plan",
    title="Harbor dredging plan approved",
    text=(
        "The county board approved the harbor dredging plan on Tuesday.\n\n"
        "Work starts in October and will close the north channel for six weeks.\n\n"
        "Fishing crews asked for night access; the board said it would consider it."
    ),
    authors=("Ana Ruiz",),
    published="2024-03-02",
    publisher="Harbor News",
)
SOURCE_B = SourceArticle(
    url="https://harbor-news.example/2024/library-sundays",
    title="Library opens on Sundays <again>",
    text="The library will open on Sundays from May.\n\nVolunteers will staff the front desk.",
    authors=("Tom Okafor",),
    published="2024-04-11",
    publisher="Harbor News",
)

PAGE_1 = (
    "Coastal Blog | Home | About\n"
    "The county board approved the harbor dredging plan on Tuesday.\n\n"
    "Work starts in October and will close the north channel for six weeks.\n\n"
    "Fishing crews asked for night access; the board said it would consider it.\n"
    "Originally published by Harbor News.\n"
    "Comments are closed."
)


def finding(
    rule: str,
    kind: str,
    passed: bool,
    message: str,
    evidence: str | None = None,
    *,
    severity: str = "error",
    new: bool | None = None,
    first_seen: str | None = None,
    triage: str | None = None,
    triage_note: str = "",
) -> Finding:
    return Finding(
        rule=rule,
        kind=kind,
        passed=passed,
        severity=severity,  # type: ignore[arg-type]
        message=message,
        evidence=evidence,
        new=new,
        first_seen=first_seen,
        triage=triage,
        triage_note=triage_note,
    )


def sample_report() -> Report:
    """Two sites, three copies: a new violation, an ongoing one with a triaged finding, and a
    compliant excerpt; plus a skipped page and a resolved violation."""
    c1 = Copy(
        url="http://coastal-blog.example/posts/dredging.html",
        site="coastal-blog.example",
        source_url=SOURCE_A.url,
        coverage=1.0,
        kind="full",
        verdict="violation",
        passages=(Passage(0, 62, 28, 90), Passage(64, 210, 92, 238)),
        checks=(
            finding(
                "gr-attribution",
                "attribution",
                True,
                "credit line found",
                "Originally published by Harbor News",
            ),
            finding(
                "gr-copyright",
                "copyright_notice",
                False,
                "no copyright line with a year and a holder",
                'looked for "©", "Copyright", "(c)" with a year',
                new=True,
                first_seen="2024-05-06T06:00:00+00:00",
            ),
            finding(
                "gr-link",
                "link_to_original",
                False,
                "links to the publisher's home page only",
                "https://harbor-news.example/",
                new=True,
                first_seen="2024-05-06T06:00:00+00:00",
            ),
            finding(
                "gr-ads",
                "non_commercial",
                False,
                "ad network markup on the page",
                "pagead2 script",
                severity="warning",
                new=False,
                first_seen="2024-04-29T06:00:00+00:00",
            ),
        ),
        title="Dredging plan approved",
        source_title=SOURCE_A.title,
        fetched_at="2024-05-06T06:00:03+00:00",
    )
    c2 = Copy(
        url="https://quay-times.example/library",
        site="quay-times.example",
        source_url=SOURCE_B.url,
        coverage=0.8123,
        kind="partial",
        verdict="violation",
        passages=(Passage(0, 42, 10, 52),),
        checks=(
            finding(
                "gr-attribution",
                "attribution",
                False,
                "no credit line naming the original",
                'looked for "Source: Harbor News"',
                new=False,
                first_seen="2024-04-29T06:00:00+00:00",
            ),
            finding(
                "gr-copyright",
                "copyright_notice",
                False,
                "no copyright line with a year and a holder",
                None,
                new=False,
                first_seen="2024-04-29T06:00:00+00:00",
                triage="licensed",
                triage_note="signed agreement, Feb 2024",
            ),
            finding(
                "gr-link",
                "link_to_original",
                True,
                "link to the original found",
                SOURCE_B.url,
            ),
        ),
        title='Sunday hours <script>alert("x")</script>',
        source_title=SOURCE_B.title,
        fetched_at="2024-05-06T06:00:05+00:00",
    )
    c3 = Copy(
        url="https://quay-times.example/dredging-brief",
        site="quay-times.example",
        source_url=SOURCE_A.url,
        coverage=0.2,
        kind="excerpt",
        verdict="compliant",
        passages=(Passage(64, 135, 0, 71),),
        checks=(
            finding(
                "gr-attribution", "attribution", True, "credit line found", "Source: Harbor News"
            ),
            finding(
                "gr-link", "link_to_original", True, "link to the original found", SOURCE_A.url
            ),
        ),
        title="In brief: dredging",
        source_title=SOURCE_A.title,
        fetched_at="2024-05-06T06:00:06+00:00",
    )
    return Report(
        scan=ScanInfo(
            started="2024-05-06T06:00:00+00:00",
            finished="2024-05-06T06:01:10+00:00",
            sources=2,
            pages_fetched=12,
            sites=("http://coastal-blog.example/", "https://quay-times.example/"),
            rules="harbornews",
            pages_unchanged=3,
            scan_id=7,
        ),
        copies=(c1, c2, c3),
        skipped=(
            Skipped(
                "https://quay-times.example/private/",
                "disallowed by robots.txt",
                SkipCode.ROBOTS,
            ),
        ),
        resolved=(
            Resolved(
                "https://quay-times.example/ferry", SOURCE_A.url, "gr-link", "link_to_original"
            ),
        ),
    )


def sample_context() -> RenderContext:
    # The page text of the third copy is missing on purpose: the HTML shows what it has.
    return RenderContext(
        sources={SOURCE_A.url: SOURCE_A, SOURCE_B.url: SOURCE_B},
        pages={
            "http://coastal-blog.example/posts/dredging.html": PAGE_1,
            "https://quay-times.example/library": (
                "Quay Times\nThe library will open on Sundays from May.\nLocal news."
            ),
        },
    )


def all_kinds_report() -> Report:
    checks = tuple(
        finding(
            f"r-{kind}",
            kind,
            i % 2 == 0,
            f"{kind} message",
            f"{kind} evidence" if i % 3 else None,
            severity=("error", "warning", "info")[i % 3],
            new=None if i % 2 == 0 else bool(i % 4 == 1),
            first_seen=None if i % 2 == 0 else "2024-01-01T00:00:00+00:00",
        )
        for i, kind in enumerate(CHECK_KINDS)
    )
    copy = Copy(
        url="http://a.example/p",
        site="a.example",
        source_url="https://pub.example/a",
        coverage=0.5,
        kind="partial",
        verdict="violation",
        passages=(Passage(0, 4, 0, 4),),
        checks=checks,
    )
    return Report(
        scan=ScanInfo("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:09+00:00", 1, 1),
        copies=(copy,),
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from its golden file; see tests/test_report.py"


# --- the registry ----------------------------------------------------------------------------


def test_registry_names_and_immutability() -> None:
    assert list(FORMATS) == ["table", "json", "csv", "html"]
    assert all(fmt.name == name for name, fmt in FORMATS.items())
    with pytest.raises(TypeError):
        FORMATS["xml"] = FORMATS["json"]  # type: ignore[index]


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_shows_every_check_kind(name: str) -> None:
    report = all_kinds_report()
    text = FORMATS[name].render(report, RenderContext())
    failed = [k for i, k in enumerate(CHECK_KINDS) if i % 2 == 1]
    # The table lists failed checks by rule id; the other formats list every check's kind.
    shown = failed if name == "table" else list(CHECK_KINDS)
    for kind in shown:
        assert kind in text, f"{name}: {kind} missing"
    if name == "json":
        assert [c["kind"] for c in json.loads(text)["copies"][0]["checks"]] == list(CHECK_KINDS)
    if name == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert [r["check_kind"] for r in rows] == list(CHECK_KINDS)
    if name == "html":
        assert text.count('<tr class="check" ') == len(CHECK_KINDS)


# --- JSON contract ---------------------------------------------------------------------------


def test_json_round_trip_and_golden() -> None:
    report = sample_report()
    text = FORMATS["json"].render(report, sample_context())
    check_golden("report.json", text)
    data = json.loads(text)
    assert report_from_dict(data) == report
    assert data["schema_version"] == 1
    assert data["summary"] == {
        "copies": 3,
        "violations": 2,
        "new_violations": 1,
        "skipped": 1,
        "resolved": 1,
    }
    first = data["copies"][0]["checks"]
    assert "first_seen" not in first[0] and "new" not in first[0]  # a passed check
    assert first[1]["new"] is True and first[1]["first_seen"] == "2024-05-06T06:00:00+00:00"
    assert data["copies"][1]["checks"][1]["triage"] == "licensed"
    assert data["copies"][1]["checks"][1]["triage_note"] == "signed agreement, Feb 2024"
    assert data["resolved"] == [
        {
            "url": "https://quay-times.example/ferry",
            "source_url": SOURCE_A.url,
            "rule": "gr-link",
            "kind": "link_to_original",
        }
    ]


def test_all_kinds_round_trip() -> None:
    report = all_kinds_report()
    assert report_from_dict(json.loads(json.dumps(report_to_dict(report)))) == report


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d.update(schema_version=2),
            "schema_version 2 is not supported (this xpostcheck reads 1)",
        ),
        (lambda d: d.pop("copies"), "missing field $.copies"),
        (lambda d: d["scan"].update(sources="2"), "field $.scan.sources should be int, not str"),
        (
            lambda d: d["copies"][0]["checks"][0].update(passed=1),
            "field $.copies[0].checks[0].passed should be bool, not int",
        ),
        (
            lambda d: d["copies"][1].update(kind="most"),
            "field $.copies[1].kind is 'most'; expected one of full, partial, excerpt",
        ),
        (
            lambda d: d["copies"][0]["passages"].append([1, 2]),
            "expected an object at $.copies[0].passages[2]",
        ),
    ],
)
def test_report_from_dict_names_the_field_at_fault(mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = report_to_dict(sample_report())
    mutate(data)
    with pytest.raises(ReportError) as err:
        report_from_dict(data)
    assert str(err.value) == f"report JSON: {message}"


def test_summary_line() -> None:
    assert summary_line(sample_report()) == (
        "xpostcheck: 3 copies, 2 violations (1 new), 1 skipped, 12 pages, 1 resolved"
    )
    one = all_kinds_report()
    assert summary_line(one) == "xpostcheck: 1 copy, 1 violation (1 new), 0 skipped, 1 page"


# --- CSV -------------------------------------------------------------------------------------


def test_csv_exact() -> None:
    text = FORMATS["csv"].render(sample_report(), RenderContext())
    check_golden("report.csv", text)
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 4 + 3 + 2  # one row per finding
    assert rows[6] == [
        "2024-05-06T06:00:00+00:00",
        "quay-times.example",
        "https://quay-times.example/library",
        'Sunday hours <script>alert("x")</script>',
        SOURCE_B.url,
        SOURCE_B.title,
        "partial",
        "0.8123",
        "violation",
        "gr-copyright",
        "copyright_notice",
        "error",
        "no",
        "no copyright line with a year and a holder",
        "",
        "no",
        "2024-04-29T06:00:00+00:00",
        "licensed",
        "signed agreement, Feb 2024",
    ]
    assert text.endswith("\r\n") and text.count("\r\n") == len(rows)


def test_csv_copy_without_checks_keeps_a_row() -> None:
    report = sample_report()
    bare = Report(scan=report.scan, copies=(replace(report.copies[2], checks=()),))
    rows = list(csv.reader(io.StringIO(FORMATS["csv"].render(bare, RenderContext()))))
    assert rows[1][:9] == [
        "2024-05-06T06:00:00+00:00",
        "quay-times.example",
        "https://quay-times.example/dredging-brief",
        "In brief: dredging",
        SOURCE_A.url,
        SOURCE_A.title,
        "excerpt",
        "0.2000",
        "compliant",
    ]
    assert rows[1][9:] == [""] * 10


# --- table -----------------------------------------------------------------------------------


def test_table_golden() -> None:
    text = FORMATS["table"].render(sample_report(), sample_context())
    check_golden("report.txt", text)
    assert "\x1b[" not in text  # no terminal escapes when rendered to a string
    assert text.splitlines()[-1] == summary_line(sample_report())


def test_table_without_copies() -> None:
    report = Report(
        scan=ScanInfo("2024-01-01T00:00:00+00:00", "2024-01-01T00:00:01+00:00", 4, 9), copies=()
    )
    assert FORMATS["table"].render(report, RenderContext()) == (
        "xpostcheck scan 2024-01-01T00:00:00+00:00: no copies found.\n"
        "xpostcheck: 0 copies, 0 violations (0 new), 0 skipped, 9 pages\n"
    )


# --- HTML ------------------------------------------------------------------------------------


def test_highlight_segments() -> None:
    assert highlight("abcdefghij", [(2, 4), (3, 6), (8, 20), (5, 5)]) == [
        Segment("ab", None),
        Segment("cdef", 1),
        Segment("gh", None),
        Segment("ij", 3),
    ]
    assert highlight("", [(0, 3)]) == []
    assert highlight("abc", []) == [Segment("abc", None)]


def test_html_golden_and_self_contained() -> None:
    html = FORMATS["html"].render(sample_report(), sample_context())
    check_golden("report.html", html)
    # One file: no external stylesheet, script, font or image.
    assert not re.search(r"<link\b|<script\s+src|<img\b|@import|url\(", html)
    # Escaped, never executed: the copy's title carried a script tag.
    assert "<script>alert" not in html
    assert "Sunday hours &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Library opens on Sundays &lt;again&gt;" in html


def test_html_side_by_side_marks_passages() -> None:
    html = FORMATS["html"].render(sample_report(), sample_context())
    section = html.split('<section class="copy" id="copy-1"')[1].split("</section>")[0]
    source_box = section.split('<div class="text source">')[1].split("</div>")[0]
    page_box = section.split('<div class="text page">')[1].split("</div>")[0]
    assert source_box.count("<mark") == 2 and page_box.count("<mark data-p") == 2
    assert (
        '<mark data-p="1">The county board approved the harbor dredging plan on Tuesday.</mark>'
        in page_box
    )
    # The copy pane shows the article, not the site navigation before it; the credit line a
    # check found is marked with the rule that found it.
    assert page_box.startswith(
        '<span class="cut">[site navigation and other text before the article: 28 characters '
        'not shown]</span><mark data-p="1">'
    )
    assert "Coastal Blog | Home" not in page_box
    assert (
        '<mark class="found" title="credit line found by gr-attribution">'
        "Originally published by Harbor News</mark>." in page_box
    )
    assert page_box.endswith(
        '<span class="cut">[text after the article: 21 characters not shown]</span>'
    )
    assert "link to the original found by gr-link" not in section  # that check failed
    # Times carry their zone.
    assert '<time datetime="2024-05-06T06:00:03+00:00">2024-05-06 06:00:03 UTC</time>' in section
    # A text the report does not have is said to be missing, with the offsets it knows.
    third = html.split('<section class="copy" id="copy-3"')[1].split("</section>")[0]
    assert '<div class="text source">' in third
    assert "The page text is not in this report" in third
    assert "Matched: characters 0&ndash;71." in third


def test_html_filter_attributes() -> None:
    html = FORMATS["html"].render(sample_report(), sample_context())
    rows = re.findall(r'<tr class="copy-row" (.*?) data-search="([^"]*)">', html)
    assert [r[0] for r in rows] == [
        'data-copy="copy-1" data-site="coastal-blog.example" '
        'data-rules="gr-ads gr-copyright gr-link" data-new="1" data-verdict="violation" '
        'data-triaged="0"',
        'data-copy="copy-2" data-site="quay-times.example" '
        'data-rules="gr-attribution gr-copyright" data-new="0" data-verdict="violation" '
        'data-triaged="0"',
        'data-copy="copy-3" data-site="quay-times.example" data-rules="" data-new="0" '
        'data-verdict="compliant" data-triaged="0"',
    ]
    assert rows[1][1].startswith("https://quay-times.example/library sunday hours")
    assert "signed agreement" in rows[1][1] and "no credit line naming" in rows[1][1]


def test_html_violations_first_with_urls_in_the_overview() -> None:
    report = sample_report()
    reordered = replace(report, copies=(report.copies[2], report.copies[1], report.copies[0]))
    html = FORMATS["html"].render(reordered, sample_context())
    titles = re.findall(r'<section class="copy" id="copy-\d+"[^>]*>\n<h2>([^<]*)', html)
    assert [t.split(" <")[0].strip() for t in titles] == [
        "Dredging plan approved",  # the new violation
        "Sunday hours &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",  # an ongoing one
        "In brief: dredging",  # compliant
    ]
    site_order = r'<section class="site" id="[^"]*" data-site="([^"]*)"'
    assert re.findall(site_order, html) == ["coastal-blog.example", "quay-times.example"]
    fixed = replace(report.copies[0], verdict="compliant", checks=report.copies[0].checks[:1])
    html = FORMATS["html"].render(
        replace(report, copies=(fixed, *report.copies[1:])), RenderContext()
    )
    # The site with violations comes before the site without.
    assert re.findall(site_order, html) == ["quay-times.example", "coastal-blog.example"]
    assert '<span class="url">https://quay-times.example/dredging-brief</span>' in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2024-05-06T06:00:00+00:00", "2024-05-06 06:00:00 UTC"),
        ("2024-05-06T08:00:00+02:00", "2024-05-06 08:00:00 +02:00"),
        ("2024-05-06T01:30:00-04:30", "2024-05-06 01:30:00 -04:30"),
        ("2024-05-06T06:00:00", "2024-05-06 06:00:00 (zone unknown)"),
        ("yesterday", "yesterday"),
        ("", ""),
    ],
)
def test_times_are_shown_with_their_zone(value: str, shown: str) -> None:
    from xpostcheck.report.html import when

    assert when(value) == shown


def test_table_shows_brackets_as_written() -> None:
    report = sample_report()
    odd = replace(report.copies[2], source_title="[bold]Budget[/bold] [red]vote")
    text = FORMATS["table"].render(replace(report, copies=(odd,)), RenderContext())
    assert "[bold]Budget[/bold]" in text
    assert "[red]vote" in text


def test_csv_cells_never_become_formulas() -> None:
    report = sample_report()
    hostile = replace(
        report.copies[2],
        title='=HYPERLINK("http://evil.example","click")',
        checks=(
            finding("gr-attribution", "attribution", True, "credit line found", "+1 Source: X"),
            finding("gr-link", "link_to_original", True, "@found", "-link"),
        ),
    )
    text = FORMATS["csv"].render(replace(report, copies=(hostile,)), RenderContext())
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example","click")'
    assert (rows[1][13], rows[1][14]) == ("credit line found", "'+1 Source: X")
    assert (rows[2][13], rows[2][14]) == ("'@found", "'-link")


def test_html_next_steps_only_for_violations() -> None:
    html = FORMATS["html"].render(sample_report(), sample_context())
    url = "http://coastal-blog.example/posts/dredging.html"
    assert (
        f"Next steps: draft a request to the site with <code>xpostcheck notice {url} --rules "
        f"harbornews</code>; export the page as it was seen with <code>xpostcheck evidence "
        f"{url}</code>; if the site has permission, mark it with <code>xpostcheck triage {url} "
        "--as licensed</code>."
    ) in html
    assert html.count('<p class="next">') == 2  # the compliant excerpt has none


def test_long_unmatched_stretches_are_elided() -> None:
    from xpostcheck.report.html import elide

    text = "n" * 5000 + "MATCH" + "t" * 100
    segments = elide(highlight(text, [(5000, 5005)]), keep=10, limit=200)
    assert segments == [
        Segment("n" * 10, None, 4980),
        Segment("n" * 10, None),
        Segment("MATCH", 1),
        Segment("t" * 100, None),
    ]
    report = sample_report()
    # A long unmatched stretch inside the article (comments between two passages) is elided;
    # what lies before and after the article is cut, and said so.
    long_page = "x" * 3000 + PAGE_1[:90] + "y" * 6000 + PAGE_1[90:] + "comment " * 1000
    ctx = replace(sample_context(), pages={report.copies[0].url: long_page})
    first, second = report.copies[0].passages
    moved = replace(
        report.copies[0],
        passages=(
            replace(first, page_start=first.page_start + 3000, page_end=first.page_end + 3000),
            replace(second, page_start=second.page_start + 9000, page_end=second.page_end + 9000),
        ),
    )
    html = FORMATS["html"].render(replace(report, copies=(moved,)), ctx)
    assert (
        '<span class="elided">[&hellip; 3,002 characters not shown; the whole page is in the '
        "evidence &hellip;]</span>"
    ) in html
    assert "before the article: 3,028 characters not shown" in html
    assert "[text after the article: 8,021 characters not shown]" in html
    assert html.count("<mark data-p") == 4  # both passages, on both sides


def test_every_format_and_csv_column_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text("utf-8")
    for name in FORMATS:
        assert f"| `{name}` |" in doc, f"format {name} missing from docs/reports.md"
    columns = doc.split("The columns are ")[1].split("`.")[0]
    assert [c.strip(" `\n") for c in columns.split(",")] == list(CSV_COLUMNS)
