"""The HTML report in a real browser: headless Chromium (Debian's `chromium` package).

The report's filters live in inline script, so only a browser can show they work. Chromium's
`--dump-dom` prints the DOM after the page has loaded and its scripts have run:
- the report opened with a filter in its URL (`#new=1`, `#site=...`, `#rule=...`) shows only
  the matching copies;
- a small driver page in the same folder loads the report in an iframe, changes the filter
  controls as a person would, and writes what is visible into its own DOM.

In CI this test never skips. Elsewhere it skips, with a message, only when /usr/bin/chromium is
missing (install it with `apt-get install -y chromium`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from test_report import sample_context, sample_report

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


DRIVER = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<pre id="out"></pre>
<iframe id="r" src="report.html"></iframe>
<script>
document.getElementById("r").addEventListener("load", function () {
  var d = this.contentDocument, out = [];
  function state(label) {
    var rows = [];
    d.querySelectorAll("tr.copy-row").forEach(function (r) {
      if (!r.hidden) { rows.push(r.dataset.copy); }
    });
    out.push(label + ": " + rows.join(",") + " | " + d.getElementById("shown").textContent +
             " | " + this_hash());
  }
  function this_hash() { return d.defaultView.location.hash; }
  function set(id, value) {
    var el = d.getElementById(id);
    if (el.type === "checkbox") { el.checked = value; } else { el.value = value; }
    el.dispatchEvent(new Event("change"));
  }
  state("start");
  set("f-new", true); state("new only");
  set("f-new", false); set("f-site", "quay-times.example"); state("site");
  set("f-rule", "gr-copyright"); state("site+rule");
  set("f-site", ""); set("f-rule", ""); state("cleared");
  document.getElementById("out").textContent = out.join("\\n");
});
</script></body></html>
"""


def test_filter_controls_work(report_file: Path, tmp_path: Path) -> None:
    driver = report_file.parent / "driver.html"
    driver.write_text(DRIVER, encoding="utf-8")
    doc = dump_dom(driver.as_uri(), tmp_path)
    assert doc.get_element_by_id("out").text_content().splitlines() == [
        "start: copy-1,copy-2,copy-3 | Showing 3 of 3 copies | ",
        "new only: copy-1 | Showing 1 of 3 copies | #new=1",
        "site: copy-2,copy-3 | Showing 2 of 3 copies | #site=quay-times.example",
        "site+rule: copy-2 | Showing 1 of 3 copies | #site=quay-times.example&rule=gr-copyright",
        "cleared: copy-1,copy-2,copy-3 | Showing 3 of 3 copies | ",
    ]
