"""A scan of WARC files finds the copies a live crawl of the same pages finds, with the same
verdicts, names each copy's record, lists candidates, and reads on past bad records."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from loopback import Server, html
from warcfix import PUBLISHER_SITE, RULES, articles, site_pages, write_sources, write_warc

from xpostcheck.config import Settings
from xpostcheck.models import ArchiveCandidate, Copy, SkipCode
from xpostcheck.pipeline.prefilter import Prefilter, plain_text
from xpostcheck.pipeline.scan import ScanResult, run_scan
from xpostcheck.pipeline.warcscan import _SiteMatcher, _spotter, run_warc_scan


def _settings(tmp: Path, name: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "sources": (str(write_sources(tmp / "sources.jsonl", articles())),),
        "rules": str(RULES),
        "db": str(tmp / f"{name}.db"),
        "delay": 0.0,
        "workers": 1,
    }
    values.update(extra)
    return Settings(**values)


def _key(copies: tuple[Copy, ...]) -> list[tuple[Any, ...]]:
    return sorted(
        (c.url, c.source_url, c.kind, c.verdict, tuple((f.rule, f.passed) for f in c.checks))
        for c in copies
    )


@pytest.fixture()
def site() -> Any:
    pages = site_pages(articles())
    with Server({p: html(body) for p, body in pages.items()}) as server:
        yield server, pages


def _archive(
    tmp: Path, base: str, pages: dict[str, str], *, reverse: bool = True, whole: bool = False
) -> Path:
    """The site's pages in an archive, the home page first (as a crawl meets them) unless
    `reverse` is False; gzipped per record, or gzipped `whole` (its pages cannot be read
    again by offset)."""
    records: list[Any] = [(base + path, "200 OK", body.encode()) for path, body in pages.items()]
    records = records[::-1] if reverse else records
    if not whole:
        return write_warc(tmp / "site.warc.gz", records)
    plain = write_warc(tmp / "site.warc", records, gzip=False)
    out = tmp / "whole.warc.gz"
    out.write_bytes(gzip.compress(plain.read_bytes()))
    return out


def test_the_archive_gives_the_live_crawl_s_copies_and_verdicts(tmp_path: Path, site: Any) -> None:
    server, pages = site
    live: ScanResult = run_scan(_settings(tmp_path, "live", sites=(server.base + "/",)))
    warc = _archive(tmp_path, server.base, pages)
    on = run_warc_scan(_settings(tmp_path, "on"), [str(warc)])
    off = run_warc_scan(_settings(tmp_path, "off"), [str(warc)], prefilter=False)
    expected = [
        (f"{server.base}/posts/one.html", f"{PUBLISHER_SITE}/news/story-0", "full", "compliant"),
        (
            f"{server.base}/posts/three.html",
            f"{PUBLISHER_SITE}/news/story-2",
            "partial",
            "violation",
        ),
        (f"{server.base}/posts/two.html", f"{PUBLISHER_SITE}/news/story-1", "full", "violation"),
    ]
    assert [k[:4] for k in _key(live.report.copies)] == expected
    assert _key(on.report.copies) == _key(live.report.copies)
    assert _key(off.report.copies) == _key(live.report.copies)
    assert on.report.scan.pages_fetched == len(pages) == live.report.scan.pages_fetched
    assert on.report.scan.sites == (str(warc),)
    for copy in on.report.copies:
        assert copy.record.startswith(f"{warc}#") and "<urn:uuid:" in copy.record
    # Every page of the site links to the publisher (its blogroll), and three hold copies.
    assert on.report.candidates == (
        ArchiveCandidate(server.base + "/", 3, len(pages) - 3, f"{server.base}/posts/one.html"),
    )


@pytest.mark.parametrize("whole", [False, True])
def test_chrome_is_told_from_pages_the_prefilter_kept_out(tmp_path: Path, whole: bool) -> None:
    """A sidebar credit on every page of the site is chrome, not a credit for one copy: the
    pages that skip the full analysis still count for the site's profile, read again from
    the file by offset, or (a file gzipped whole) from the spool of their plain text."""
    aside = "<p>This article was originally published by The Lakeside Ledger.</p>"
    pages = site_pages(articles(), aside=aside)
    with Server({p: html(body) for p, body in pages.items()}) as server:
        live = run_scan(_settings(tmp_path, "live", sites=(server.base + "/",)))
        warc = _archive(tmp_path, server.base, pages, whole=whole)
    on = run_warc_scan(_settings(tmp_path, "on"), [str(warc)])
    assert _key(on.report.copies) == _key(live.report.copies)
    [three] = [c for c in on.report.copies if c.url.endswith("/posts/three.html")]
    attribution = {f.kind: f.passed for f in three.checks}["attribution"]
    assert attribution is False  # the sidebar's line counts for nothing


def test_the_prefilter_lets_copies_through_and_stops_the_rest(tmp_path: Path) -> None:
    from xpostcheck.match.index import MatchConfig, SourceIndex
    from xpostcheck.sources.loader import load_sources

    index = SourceIndex(MatchConfig())
    index.add(load_sources([str(write_sources(tmp_path / "s.jsonl", articles()))]))
    filt = Prefilter(index)
    pages = site_pages(articles())
    through = sorted(p for p, body in pages.items() if filt.may_hold_copy(plain_text(body)))
    assert through == ["/posts/one.html", "/posts/three.html", "/posts/two.html"]
    assert (filt.looked, filt.passed) == (len(pages), 3)


def test_plain_text_keeps_words_whole_and_blocks_apart() -> None:
    markup = (
        "<html><head><title>T</title><style>p{}</style></head><body><!-- note -->"
        "<p>Ferry <b>sch</b>edule &amp; tides</p><div>Harbor<br>news</div>"
        "<script>var x = '<p>no</p>';</script><SCRIPT>x</SCRIPT>a &lt; b</body></html>"
    )
    text = plain_text(markup)
    assert " ".join(text.split()) == "T Ferry schedule & tides Harbor news a < b"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    assert lines == ["T", "Ferry schedule & tides", "Harbor", "news", "a < b"]


def test_bad_records_are_skipped_by_offset_and_the_rest_is_scanned(
    tmp_path: Path, site: Any
) -> None:
    server, pages = site
    warc = _archive(tmp_path, server.base, pages, reverse=False)
    data = warc.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) - 300])  # the last record is the home page
    result = run_warc_scan(_settings(tmp_path, "cut"), [str(cut), str(tmp_path / "none.warc")])
    assert len(result.report.copies) == 3
    reasons = [(s.code, s.reason) for s in result.report.skipped]
    assert len(reasons) == 2, reasons
    assert reasons[0][0] is SkipCode.SOURCE and reasons[0][1].startswith(f"{cut}#")
    assert "truncated" in reasons[0][1]
    assert reasons[1] == (
        SkipCode.SOURCE,
        f"cannot read WARC {tmp_path / 'none.warc'}: No such file or directory",
    )


def test_a_page_links_to_the_publisher_by_an_absolute_href_or_through_its_base() -> None:
    own = _SiteMatcher([f"{PUBLISHER_SITE}/news/story-0"])
    page = "https://shore.example/posts/a.html"
    pub = PUBLISHER_SITE.removeprefix("https://")

    def linked(body: str, url: str = page) -> bool:
        return own.linked_from(url, f"<html><head>{body}</body></html>")

    assert linked(f'<a href="{PUBLISHER_SITE}/news/x">x</a>')
    assert linked(f"<a href='//{pub}/'>x</a>")  # a protocol-relative href
    assert not linked(f'<a href="/{pub}/x">x</a>')  # the name in a path on the page's own site
    assert not linked(f'<a href="https://shore.example/?u={pub}">x</a>')
    assert linked(f'<base href="{PUBLISHER_SITE}/"><p>{pub}</p><a href="news/x">x</a>')
    assert not linked(f'<p>{pub}</p><a href="news/x">x</a>')
    assert not linked(f'<a href="{PUBLISHER_SITE}/">x</a>', url=f"{PUBLISHER_SITE}/about")


def test_a_link_to_the_publisher_counts_whatever_the_case_of_its_host_name() -> None:
    own = _SiteMatcher([f"{PUBLISHER_SITE}/news/story-0"])
    pub = PUBLISHER_SITE.removeprefix("https://")
    page = "https://shore.example/posts/a.html"
    for spelt in (pub.upper(), pub.title(), pub.capitalize(), "WWW." + pub.upper()):
        markup = f'<html><body><A HREF="HTTPS://{spelt}/news/x">x</A></body></html>'
        assert own.linked_from(page, markup), spelt
    # The name's pieces apart, or another host that ends with the name, are not a link.
    head, _, tail = pub.partition(".")
    assert not own.linked_from(page, f'<a href="https://{head}.other.{tail}/">x</a>')
    assert not own.linked_from(page, f'<a href="https://x{head.upper()}.{tail}/">x</a>')
    assert not own.linked_from(page, f"<p>.{tail.upper()}</p>")


def test_the_host_name_is_spotted_wherever_lower_casing_would_find_it() -> None:
    # The spotter only lets pages through to the exact comparison of their hrefs: it must take
    # every spelling whose lower case holds the name (the Kelvin sign lower-cases to "k").
    spots = _spotter("lakesideledger.example")
    for markup in (
        "see LakesideLedger.EXAMPLE/news",
        "lakesideledger.example",
        "la\u212aesideledger.Example",
        "<a href=//www.LAKESIDELEDGER.example>",
    ):
        assert spots(markup) == ("lakesideledger.example" in markup.lower()) is True, markup
    for markup in ("lakesideledger.examplx", "lakeside.example", "ledger.example", ".EXAMPLE"):
        assert not spots(markup), markup


@pytest.mark.parametrize(
    "raw",
    [
        "https://Ledger.example/news/Story-1/",
        "HTTP://www.ledger.example:80/news/story-1?utm_source=x#top",
        "//ledger.example/news/story-1",
        "/news/story-1/index.html",
        "../news/./story-1",
        "story-1/..",
        "story-%31",
        "a%2Fb",
        "/",
        "https://ledger.example",
        "https://ledger.example?page=2",
        "?page=2",
        "javascript:void(0)",
        "mailto:someone@ledger.example",
        "news/story;v=1",
        "/news//story-1//",
    ],
)
def test_a_raw_href_s_tail_is_its_article_key_s_tail_or_unknown(raw: str) -> None:
    """The cheap look at an href (which links a joining page's profile may skip) never tells
    a tail its article key does not have: a skipped link can never be one asked about."""
    from urllib.parse import urljoin

    from xpostcheck.pipeline.warcscan import _key_tail, _raw_tail
    from xpostcheck.util.urls import article_key

    for base in ("https://shore.example/posts/a.html", "https://shore.example/"):
        tail = _raw_tail(raw)
        if tail is not None:
            assert tail == _key_tail(article_key(urljoin(base, raw))), (base, raw)
    assert _raw_tail("https://Ledger.example/news/Story-1/") == "story-1"
    assert _raw_tail("/") == _raw_tail("https://ledger.example?page=2") == ""
    assert _raw_tail("story-%31") is None and _raw_tail("?page=2") is None
