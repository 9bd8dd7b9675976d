"""Re-scans: what carries over from the last scan, and what must be judged again.

A page unchanged since the last scan keeps its findings only when nothing else its verdicts
depend on has changed: the rules with their options and severities, the match settings, and
the text of the source it copies. These tests run real scans against a loopback site with a
real SQLite file, through the library (cli.py only adds flags on top).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import Route, Server

from xpostcheck.config import Settings
from xpostcheck.demo.web import load_corpus
from xpostcheck.errors import ScanFailed
from xpostcheck.pipeline.scan import ScanResult, match_config, run_scan

GR = "https://www.globalresearch.ca"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head><body>"
        '<nav><a href="/">Home</a></nav>'
        f"<main><article><h1>{title}</h1>{body}</article></main></body></html>"
    )


def _paras(text: str) -> str:
    return "".join(f"<p>{p}</p>" for p in text.split("\n\n"))


@pytest.fixture()
def corpus() -> list[dict[str, Any]]:
    return [
        {**record, "url": f"{GR}/{slug}/5{i}1234"}
        for i, (slug, record) in enumerate(load_corpus().items())
    ]


class Site:
    """A loopback site (tests/loopback.py's Server) whose pages a test may change, remove or
    disallow between scans: each path of `pages` (and robots.txt) is answered from `pages` as
    it stands at the request."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.robots = ""
        self.cache_control = ""  # sent with every page when set
        self.requests: list[str] = []
        routes: dict[str, Route] = {path: self._answer for path in [*pages, "/robots.txt"]}
        self.server = Server(routes)
        self.url = self.server.base + "/"

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        self.requests.append(h.path)
        body = self.robots if h.path == "/robots.txt" else self.pages.get(h.path)
        kind = "text/plain" if h.path == "/robots.txt" else "text/html; charset=utf-8"
        data = (body or "not found").encode()
        h.send_response(200 if body else 404)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(data)))
        if self.cache_control:
            h.send_header("Cache-Control", self.cache_control)
        h.end_headers()
        h.wfile.write(data)

    def stop(self) -> None:
        self.server.close()


@pytest.fixture()
def site(corpus: list[dict[str, Any]]) -> Iterator[Site]:
    ferry, library = corpus[0], corpus[1]
    pages = {
        # Credited and linked, but no copyright line: one failed check.
        "/ferry": _page(
            ferry["title"],
            _paras(ferry["text"])
            + "<p>The original source of this article is Global Research</p>"
            + f'<p><a href="{ferry["url"]}">Original</a></p>',
        ),
        "/library": _page(library["title"], _paras(library["text"])),  # a bare copy
    }
    pages["/"] = _page("Home", '<a href="/ferry">Ferry</a> <a href="/library">Library</a>')
    served = Site(pages)
    yield served
    served.stop()


def _settings(tmp_path: Path, site: Site, corpus: list[dict[str, Any]], **kw: Any) -> Settings:
    sources = tmp_path / "sources.jsonl"
    if not sources.exists():
        sources.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    base = Settings(
        sources=(str(sources),),
        rules="globalresearch",
        sites=(site.url,),
        db=str(tmp_path / "x.db"),
        delay=0.0,
        workers=1,
        timeout=5.0,
    )
    return replace(base, **kw)


def _verdicts(result: ScanResult) -> dict[str, dict[str, tuple[bool, str]]]:
    return {
        c.url.rsplit("/", 1)[-1]: {f.rule: (f.passed, f.severity) for f in c.checks}
        for c in result.report.copies
    }


def test_an_unchanged_rescan_carries_every_page_over(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    first = run_scan(_settings(tmp_path, site, corpus))
    second = run_scan(_settings(tmp_path, site, corpus))
    assert first.report.scan.pages_fetched == 3 and first.report.scan.pages_unchanged == 0
    assert second.report.scan.pages_unchanged == 3
    assert _verdicts(second) == _verdicts(first)
    assert _verdicts(first)["ferry"]["gr-copyright"] == (False, "error")


def test_a_changed_severity_judges_unchanged_pages_again(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    run_scan(_settings(tmp_path, site, corpus))
    softer = {"gr-copyright": {"severity": "warning"}}
    second = run_scan(_settings(tmp_path, site, corpus, rule_overrides=softer))
    assert second.report.scan.pages_unchanged == 0
    assert _verdicts(second)["ferry"]["gr-copyright"] == (False, "warning")
    # The same settings once more: now the pages carry over, with the new severity.
    third = run_scan(_settings(tmp_path, site, corpus, rule_overrides=softer))
    assert third.report.scan.pages_unchanged == 3
    assert _verdicts(third)["ferry"]["gr-copyright"] == (False, "warning")


def test_a_higher_min_coverage_matches_again_and_keeps_kinds(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    run_scan(_settings(tmp_path, site, corpus))
    # Above the default partial threshold (0.5): accepted, and the saved index is reused.
    second = run_scan(_settings(tmp_path, site, corpus, min_coverage=0.95))
    assert second.report.scan.pages_unchanged == 0
    assert {c.kind for c in second.report.copies} == {"full"}
    assert match_config(0.95).partial_coverage == match_config(0.95).full_coverage == 0.95
    assert match_config(0.6).partial_coverage == 0.6 and match_config(0.6).full_coverage == 0.9


def test_an_edited_source_judges_its_copies_again(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    run_scan(_settings(tmp_path, site, corpus))
    edited = [dict(r) for r in corpus]
    edited[1]["text"] += "\n\nA correction was added to this article after publication."
    (tmp_path / "sources.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in edited), encoding="utf-8"
    )
    second = run_scan(_settings(tmp_path, site, corpus))
    # The library page copies the edited source: judged again; the others carry over.
    assert second.report.scan.pages_unchanged == 2
    library = next(c for c in second.report.copies if c.url.endswith("/library"))
    assert library.coverage < 1.0


def test_a_site_unreachable_on_rescan_resolves_nothing(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    other = Site({"/": _page("Home", "<p>Nothing copied here.</p>")})
    try:
        first = run_scan(_settings(tmp_path, site, corpus, sites=(site.url, other.url)))
        assert first.report.violations
        site.stop()
        second = run_scan(_settings(tmp_path, site, corpus, sites=(site.url, other.url)))
    finally:
        other.stop()
    assert second.report.copies == ()
    assert second.report.resolved == ()  # the copies were not looked at, not removed
    assert any(s.url == site.url for s in second.report.skipped)


def test_every_site_unreachable_fails_the_scan(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    site.stop()
    with pytest.raises(ScanFailed, match="no page could be fetched"):
        run_scan(_settings(tmp_path, site, corpus))


def test_a_single_page_taken_down_resolves_its_findings_and_does_not_fail(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    """A --url copy that answers 404 on the next scan is gone: the scan succeeds (no page was
    fetched, but the one asked for answered) and the page's findings are resolved."""
    url = site.url + "library"
    first = run_scan(_settings(tmp_path, site, corpus, sites=(), urls=(url,)))
    assert [c.url for c in first.report.violations] == [url]
    del site.pages["/library"]
    second = run_scan(_settings(tmp_path, site, corpus, sites=(), urls=(url,)))
    assert second.report.scan.pages_fetched == 0
    assert second.report.copies == ()
    assert {r.url for r in second.report.resolved} == {url}
    assert second.report.exit_code() == 0


def test_a_site_robots_txt_keeps_out_entirely_fails_the_scan(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    # Issue 12: a scan that fetched no page fails (exit 3), even when robots.txt is the reason.
    site.robots = "User-agent: *\nDisallow: /\n"
    with pytest.raises(ScanFailed) as err:
        run_scan(_settings(tmp_path, site, corpus))
    assert str(err.value).startswith(
        f"no page could be fetched: robots.txt disallows every page ({site.url}: "
        "disallowed by robots.txt"
    )
    assert "/ferry" not in site.requests


def test_the_html_report_of_a_rescan_still_shows_carried_pages_text(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    run_scan(_settings(tmp_path, site, corpus))
    as_json = run_scan(_settings(tmp_path, site, corpus))
    as_html = run_scan(_settings(tmp_path, site, corpus, format="html"))
    assert as_html.report.scan.pages_unchanged == 3
    assert as_json.context.pages == {}  # nothing shows it: not extracted again
    ferry = next(c.url for c in as_html.report.copies if c.url.endswith("/ferry"))
    assert corpus[0]["text"].split("\n\n")[0] in as_html.context.pages[ferry]


def _write_sources(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    (tmp_path / "sources.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )


def test_a_source_added_later_is_found_in_an_unchanged_page(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    without_library = [corpus[0], *corpus[2:]]
    _write_sources(tmp_path, without_library)
    first = run_scan(_settings(tmp_path, site, corpus))
    assert [c.url.rsplit("/", 1)[-1] for c in first.report.copies] == ["ferry"]
    # The library article joins the sources; the page copying it has not changed.
    _write_sources(tmp_path, corpus)
    second = run_scan(_settings(tmp_path, site, corpus))
    assert sorted(c.url.rsplit("/", 1)[-1] for c in second.report.copies) == ["ferry", "library"]
    assert second.report.scan.pages_unchanged == 2  # home and ferry; library analysed again
    # A source that no page copies changes nothing: every page carries over.
    extra = {**corpus[0], "url": f"{GR}/unrelated/999", "title": "Unrelated"}
    extra["text"] = " ".join(f"word{i} filler{i % 7} item{i % 11}" for i in range(300))
    _write_sources(tmp_path, [*corpus, extra])
    third = run_scan(_settings(tmp_path, site, corpus))
    assert third.report.scan.pages_unchanged == 3
    assert _verdicts(third) == _verdicts(second)


def test_no_readable_source_says_why(tmp_path: Path, site: Site) -> None:
    from xpostcheck.errors import SourceError

    sources = tmp_path / "empty.jsonl"
    sources.write_text(json.dumps({"url": f"{GR}/a/1", "title": "A", "text": "  "}) + "\n")
    settings = replace(_settings(tmp_path, site, []), sources=(str(sources),))
    with pytest.raises(SourceError) as err:
        run_scan(settings)
    assert "no articles could be read from the sources" in str(err.value)
    assert f"{sources}:1" in str(err.value)  # the record at fault, by file and line


def test_site_chrome_is_told_from_unchanged_pages_too(corpus: list[dict[str, Any]]) -> None:
    """A credit box on every page of a site (home and about pages included) is chrome, not
    attribution. When one copy changes and the rest answer unchanged, the changed copy must
    still be judged against the whole site, not against itself alone."""
    box = (
        '<div class="box"><h3>About us</h3><p>We republish stories. The original source of '
        "this article is Global Research</p><p>Copyright © Global Research, 2026</p></div>"
    )
    pages = {f"/c{i}": _page(r["title"], _paras(r["text"]) + box) for i, r in enumerate(corpus[:4])}
    pages["/about"] = _page("About", "<p>A community news blog.</p>" + box)
    pages["/"] = _page("Home", " ".join(f'<a href="{p}">{p}</a>' for p in pages) + box)
    chrome = Site(pages)
    tmp = Path.cwd()
    try:
        first = run_scan(_settings(tmp, chrome, corpus))
        failed_first = {
            u: sorted(r for r, (ok, _sev) in checks.items() if not ok)
            for u, checks in _verdicts(first).items()
        }
        pages["/c0"] = pages["/c0"].replace("</article>", "<p>Updated at noon.</p></article>")
        second = run_scan(_settings(tmp, chrome, corpus))
    finally:
        chrome.stop()
    assert failed_first["c0"] == ["gr-attribution", "gr-copyright", "gr-link"]
    assert second.report.scan.pages_unchanged == 5  # all but /c0
    c0 = _verdicts(second)["c0"]
    assert c0["gr-attribution"][0] is False and c0["gr-copyright"][0] is False
    assert not [r for r in second.report.resolved if r.url.endswith("/c0")]


def test_pages_fresh_by_their_headers_are_not_asked_again(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    site.cache_control = "max-age=3600"
    first = run_scan(_settings(tmp_path, site, corpus))
    pages = {"/", "/ferry", "/library"}
    assert pages <= set(site.requests)
    site.requests.clear()
    second = run_scan(_settings(tmp_path, site, corpus))
    assert not pages & set(site.requests)  # fresh: carried over without a request
    assert second.report.scan.pages_unchanged == 3
    assert _verdicts(second) == _verdicts(first)
    # --recheck-after 0 asks for every page again.
    third = run_scan(_settings(tmp_path, site, corpus, recheck_after=0.0))
    assert pages <= set(site.requests)
    assert third.report.scan.pages_unchanged == 3  # (same bodies)


def test_notice_uses_the_pack_the_scan_used(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    from click.testing import CliRunner

    from xpostcheck.cli.main import main

    run_scan(_settings(tmp_path, site, corpus))
    ferry = site.url + "ferry"
    result = CliRunner().invoke(main, ["notice", ferry, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert "Global Research" in result.stdout
    assert corpus[0]["url"] in result.stdout  # the original it copies


def test_rebuild_index_drops_sources_no_longer_given(
    tmp_path: Path, site: Site, corpus: list[dict[str, Any]]
) -> None:
    from xpostcheck.config import build_settings

    first = run_scan(_settings(tmp_path, site, corpus))
    assert sorted(c.url.rsplit("/", 1)[-1] for c in first.report.copies) == ["ferry", "library"]
    _write_sources(tmp_path, [corpus[0]])  # the library article is withdrawn
    kept = run_scan(_settings(tmp_path, site, corpus))
    assert len(kept.report.copies) == 2  # the saved index only grows: still matched
    rebuilt = run_scan(_settings(tmp_path, site, corpus, rebuild_index=True))
    assert [c.url.rsplit("/", 1)[-1] for c in rebuilt.report.copies] == ["ferry"]
    assert rebuilt.report.scan.sources == 1
    flags = {"rebuild_index": True, "sources": ("s.jsonl",), "rules": "globalresearch"}
    assert build_settings({}, {**flags, "urls": ("https://a.example/",)}).rebuild_index
