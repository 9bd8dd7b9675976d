"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package).

The report's filters live in inline script, so only a browser can show they work:
- Chromium's `--dump-dom` prints the DOM after the page has loaded and its scripts have run:
  the report opened with a filter in its URL (`#new=1`, `#site=...`, `#rule=...`) shows only
  the matching copies;
- `cdp.Browser` drives Chromium over the DevTools protocol: it clicks every filter with real
  mouse events, picks options with the keyboard, types a search, and takes whole-page
  screenshots at 1400 and 390 pixels wide (kept in SCREENSHOT_DIR when it is set).

In CI this test never skips. Elsewhere it skips, with a message, only when /usr/bin/chromium is
missing (install it with `apt-get install -y chromium`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest
from cdp import Browser
from test_report import sample_context, sample_report

from xpostcheck.models import Report
from xpostcheck.report.formats import FORMATS

CHROMIUM = "/usr/bin/chromium"


def _browser() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: apt-get install -y chromium")
    pytest.skip("headless Chromium not installed (apt-get install -y chromium); CI runs this test")


def dump_dom(url: str, tmp_path: Path) -> lxml.html.HtmlElement:
    profile = tmp_path / "chromium-profile"
    cmd = [
        _browser(),
        "--headless",
        "--no-sandbox",  # CI runs as root, where the sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--allow-file-access-from-files",  # the driver page reads the report in its iframe
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<html" in done.stdout, done.stderr[-2000:]
    return lxml.html.fromstring(done.stdout)


def visible(doc: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """Which copies, copy sections and site sections are not hidden, and the status line."""
    return {
        "rows": [
            r.get("data-copy")
            for r in doc.xpath("//tr[@class='copy-row']")
            if r.get("hidden") is None
        ],
        "copies": [
            s.get("id") for s in doc.xpath("//section[@class='copy']") if s.get("hidden") is None
        ],
        "sites": [
            s.get("data-site")
            for s in doc.xpath("//section[@class='site']")
            if s.get("hidden") is None
        ],
        "shown": [doc.get_element_by_id("shown").text_content()],
    }


@pytest.fixture()
def report_file(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(FORMATS["html"].render(sample_report(), sample_context()), encoding="utf-8")
    return path


def test_report_opens_and_shows_the_violations(report_file: Path, tmp_path: Path) -> None:
    doc = dump_dom(report_file.as_uri(), tmp_path)
    assert visible(doc) == {
        "rows": ["copy-1", "copy-2", "copy-3"],
        "copies": ["copy-1", "copy-2", "copy-3"],
        "sites": ["coastal-blog.example", "quay-times.example"],
        "shown": ["Showing 3 of 3 copies"],
    }
    assert doc.get_element_by_id("count-violations").text_content() == "2"
    assert doc.get_element_by_id("count-new").text_content() == "1"
    verdicts = [td.text_content() for td in doc.xpath("//tr[@class='copy-row']/td[5]")]
    assert verdicts == ["violationnew", "violation", "compliant"]
    marks = doc.xpath("//section[@id='copy-1']//div[contains(@class,'page')]/mark")
    assert [m.text_content() for m in marks][0] == (
        "The county board approved the harbor dredging plan on Tuesday."
    )


@pytest.mark.parametrize(
    ("fragment", "rows", "sites", "shown"),
    [
        ("#new=1", ["copy-1"], ["coastal-blog.example"], "Showing 1 of 3 copies"),
        (
            "#site=quay-times.example",
            ["copy-2", "copy-3"],
            ["quay-times.example"],
            "Showing 2 of 3 copies",
        ),
        ("#rule=gr-attribution", ["copy-2"], ["quay-times.example"], "Showing 1 of 3 copies"),
        (
            "#rule=gr-copyright&site=coastal-blog.example",
            ["copy-1"],
            ["coastal-blog.example"],
            "Showing 1 of 3 copies",
        ),
        ("#new=1&site=quay-times.example", [], [], "Showing 0 of 3 copies"),
        (
            "#site=unknown.example",
            ["copy-1", "copy-2", "copy-3"],
            ["coastal-blog.example", "quay-times.example"],
            "Showing 3 of 3 copies",
        ),
    ],
)
def test_filters_from_the_url(
    report_file: Path, tmp_path: Path, fragment: str, rows: list[str], sites: list[str], shown: str
) -> None:
    doc = dump_dom(report_file.as_uri() + fragment, tmp_path)
    assert visible(doc) == {"rows": rows, "copies": rows, "sites": sites, "shown": [shown]}


def browser_report() -> Report:
    """The sample report and one more site whose only copy has every failure triaged (it
    comes third: compliant copies follow the violations, by site)."""
    report = sample_report()
    triaged = replace(
        report.copies[1],
        url="https://harbor-digest.example/library",
        site="harbor-digest.example",
        verdict="compliant",
        title="Digest: library hours",
        checks=tuple(
            replace(f, triage="licensed", triage_note="agreement") if not f.passed else f
            for f in report.copies[1].checks
        ),
    )
    return replace(report, copies=(*report.copies, triaged))


def state(browser: Browser) -> tuple[list[str], list[str], str, str]:
    """Visible overview rows, visible copy sections, the status line and the URL hash."""
    rows, copies, shown, hash_ = browser.eval(
        "[Array.from(document.querySelectorAll('tr.copy-row')).filter(function (r) {"
        " return !r.hidden; }).map(function (r) { return r.dataset.copy; }),"
        " Array.from(document.querySelectorAll('section.copy')).filter(function (s) {"
        " return !s.hidden && s.offsetParent !== null; }).map(function (s) { return s.id; }),"
        " document.getElementById('shown').textContent, location.hash]"
    )
    assert sorted(rows) == sorted(copies)  # the overview and the details always agree
    return sorted(rows), copies, shown, hash_


def test_every_filter_by_clicking(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(FORMATS["html"].render(browser_report(), sample_context()), "utf-8")
    all4 = ["copy-1", "copy-2", "copy-3", "copy-4"]
    with Browser(_browser(), tmp_path / "profile") as b:
        b.open(report.as_uri())
        assert state(b)[0] == all4 and state(b)[2] == "Showing 4 of 4 copies"
        # Violations first: the new violation, the ongoing one, then the compliant copies.
        titles = b.eval(
            "Array.from(document.querySelectorAll('section.copy h2')).map(function (h) {"
            " return h.firstChild.textContent.trim(); })"
        )
        assert titles[:2] == ["Dredging plan approved", 'Sunday hours <script>alert("x")</script>']

        b.click("#f-violations")
        assert state(b)[0] == ["copy-1", "copy-2"]
        assert state(b)[2:] == ("Showing 2 of 4 copies", "#violations=1")
        b.click("#f-violations")
        assert state(b)[0] == all4

        b.click("#f-new")
        assert state(b)[0] == ["copy-1"] and state(b)[3] == "#new=1"
        b.click("#f-new")

        triaged_checks = "section#copy-2 tr.check[data-triaged='1']"
        assert b.eval(f"document.querySelector({json.dumps(triaged_checks)}).hidden") is False
        b.click("#f-triaged")
        assert state(b)[0] == ["copy-1", "copy-2", "copy-4"]  # the all-triaged copy is hidden
        assert state(b)[3] == "#triaged=hide"
        assert b.eval(f"document.querySelector({json.dumps(triaged_checks)}).hidden") is True
        b.click("#f-triaged")
        assert b.eval(f"document.querySelector({json.dumps(triaged_checks)}).hidden") is False

        b.choose("#f-site", "quay-times.example")
        assert state(b)[0] == ["copy-2", "copy-4"]
        b.choose("#f-rule", "gr-copyright")
        assert state(b)[0] == ["copy-2"]
        assert state(b)[3] == "#site=quay-times.example&rule=gr-copyright"
        b.choose("#f-site", "")
        assert state(b)[0] == ["copy-1", "copy-2", "copy-3"]
        b.choose("#f-rule", "")

        b.click("#f-text")
        b.type("LIBRARY agreement")  # words of a title and of a triage note, any case
        assert state(b)[0] == ["copy-2", "copy-3"]
        assert state(b)[3] == "#q=LIBRARY+agreement"
        b.click("#f-violations")  # filters combine
        assert state(b)[0] == ["copy-2"]
        assert state(b)[2] == "Showing 1 of 4 copies"
        b.click("#f-text")
        b.press("End")
        for _ in range(len("LIBRARY agreement")):
            b.press("Backspace")
        assert state(b)[0] == ["copy-1", "copy-2"]
        b.click("#f-violations")
        assert state(b)[0] == all4 and state(b)[3] == ""

        # The overview names each copy's URL; the copy pane marks what the checks found.
        assert b.eval("document.querySelector('tr[data-copy=copy-4] .url').textContent") == (
            "https://quay-times.example/dredging-brief"
        )
        found = b.eval(
            "Array.from(document.querySelectorAll('#copy-1 .page mark.found')).map(function (m)"
            " { return m.title + ': ' + m.textContent; })"
        )
        assert found == ["credit line found by gr-attribution: Originally published by Harbor News"]


@pytest.mark.parametrize(("width", "mobile"), [(1400, False), (390, True)])
def test_screenshots_at_desktop_and_phone_width(tmp_path: Path, width: int, mobile: bool) -> None:
    """Screenshots as files (SCREENSHOT_DIR keeps them for people to look at); at either
    width nothing runs off the side of the page."""
    report = tmp_path / "report.html"
    report.write_text(FORMATS["html"].render(browser_report(), sample_context()), "utf-8")
    out = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"report-{width}.png"
    with Browser(_browser(), tmp_path / "profile") as b:
        b.open(report.as_uri())
        page_width, page_height = b.screenshot(png, width, mobile=mobile)
        filters_fit = b.eval(
            "document.getElementById('filters').getBoundingClientRect().right <= innerWidth"
        )
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == width
    assert page_width == width  # no horizontal scrolling
    assert page_height > 900 and filters_fit
