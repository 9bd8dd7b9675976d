"""Every request of a scan goes through one politeness layer: pages, robots.txt, sitemaps,
feeds, and the redirects the link checks resolve (shortlinks in a copy).

Read from the servers' own logs: no two requests to one host closer than its Crawl-delay, no
path robots.txt disallows ever requested, the tool's User-Agent on every request, and each
shortlink asked once. Only lower bounds on gaps are asserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loopback import Server

from xpostcheck.config import Settings
from xpostcheck.demo.web import load_corpus
from xpostcheck.models import Fetched
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages.crawl import CrawlConfig, Crawler
from xpostcheck.pages.polite import Politeness
from xpostcheck.pipeline.scan import run_scan

GR = "https://www.globalresearch.invalid"  # never asked: not a loopback host
DELAY = 0.3  # the Crawl-delay both sites ask for
ROBOTS = f"User-agent: *\nDisallow: /private/\nDisallow: /go/\nCrawl-delay: {DELAY}\n"


def _html(title: str, body: str, head: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title>{head}</head>"
        f"<body><main><article><h1>{title}</h1>{body}</article></main></body></html>"
    ).encode()


def _redirect(to: str) -> tuple[int, dict[str, str], bytes]:
    return 301, {"Location": to}, b""


@pytest.fixture()
def sites() -> Iterator[tuple[Server, Server, dict[str, Any]]]:
    record = dict(next(iter(load_corpus().values())))
    record["url"] = f"{GR}/ferry/5501234"
    a, b = Server({}), Server({}, host="127.0.0.2")
    paras = "".join(f"<p>{p}</p>" for p in record["text"].split("\n\n"))
    copy = _html(
        record["title"],
        paras
        + "<p>The original source of this article is Global Research. "
        + '<a href="/s/1">Original</a> '
        + '<a href="/private/s">private</a> '
        + f'<a href="{b.base}/go/1">elsewhere</a> <a href="{b.base}/s/9">theirs</a></p>',
        head='<link rel="alternate" type="application/rss+xml" href="/feed">',
    )
    feed = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        f"<item><title>c</title><link>{a.base}/copy</link></item></channel></rss>"
    ).encode()
    a.routes.update(
        {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS.encode()),
            "/": (200, {"Content-Type": "text/html"}, _html("Home", '<a href="/copy">c</a>')),
            "/copy": (200, {"Content-Type": "text/html"}, copy),
            "/feed": (200, {"Content-Type": "application/rss+xml"}, feed),
            "/s/1": _redirect("/s/2"),
            "/s/2": _redirect(record["url"]),
            "/private/s": _redirect(record["url"]),
        }
    )
    b.routes.update(
        {
            "/robots.txt": (200, {"Content-Type": "text/plain"}, ROBOTS.encode()),
            "/": (200, {"Content-Type": "text/html"}, _html("B", "<p>nothing here</p>")),
            "/go/1": _redirect(record["url"]),
            "/s/9": _redirect(f"{b.base}/"),
        }
    )
    yield a, b, record
    a.close()
    b.close()


def _gaps(server: Server) -> list[float]:
    times = sorted(entry[0] for entry in server.log)
    return [y - x for x, y in zip(times, times[1:], strict=False)]


def test_a_scan_with_link_checks_is_polite_on_every_path(
    tmp_path: Path, sites: tuple[Server, Server, dict[str, Any]]
) -> None:
    a, b, record = sites
    sources = tmp_path / "sources.jsonl"
    sources.write_text(json.dumps(record) + "\n", encoding="utf-8")
    settings = Settings(
        sources=(str(sources),),
        rules="globalresearch",
        sites=(a.base + "/", b.base + "/"),
        db=str(tmp_path / "x.db"),
        delay=0.0,
        workers=1,
        timeout=5.0,
    )
    result = run_scan(settings)
    [copy] = result.report.copies
    link = next(f for f in copy.checks if f.kind == "link_to_original")
    assert link.passed, link.message
    assert "through a redirect" in link.message and "/s/1 -> " in (link.evidence or "")
    a_paths, b_paths = a.paths(), b.paths()
    # Every fetching path was taken: robots.txt, pages, the guessed sitemap, the feed and the
    # shortlinks of the copy: each hop asked once, the crawl's answers reused by the checks.
    assert a_paths.count("/robots.txt") == 1 and b_paths.count("/robots.txt") == 1
    for path in ("/", "/copy", "/sitemap.xml", "/feed", "/s/1", "/s/2"):
        assert a_paths.count(path) == 1, (path, a_paths)
    assert b_paths.count("/s/9") == 1, b_paths
    # Disallowed paths were never asked, neither by the crawl nor by the link checks.
    assert not [p for p in a_paths + b_paths if p.startswith(("/private/", "/go/"))]
    for server in (a, b):
        assert min(_gaps(server)) >= DELAY, (server.base, server.log)
        agents = {entry[2].get("User-Agent", "") for entry in server.log}
        assert all(agent.startswith("xpostcheck/") for agent in agents), agents


def test_resolve_redirect_asks_robots_first_and_keeps_the_host_delay() -> None:
    server = Server(
        {
            "/robots.txt": (200, {}, b"User-agent: *\nDisallow: /no/\nCrawl-delay: 0.2\n"),
            "/a": _redirect("/x"),
            "/b": _redirect("https://elsewhere.example/y"),
            "/no/c": _redirect("/x"),
        }
    )
    try:
        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host})))
        polite = Politeness(fetcher)
        assert polite.resolve_redirect(server.base + "/a") == server.base + "/x"
        assert polite.resolve_redirect(server.base + "/a") == server.base + "/x"  # cached
        assert polite.resolve_redirect(server.base + "/b") == "https://elsewhere.example/y"
        assert polite.resolve_redirect(server.base + "/no/c") is None
        assert polite.resolve_redirect("ftp://example.invalid/x") is None
        assert server.paths() == ["/robots.txt", "/a", "/b"]
        assert min(_gaps(server)) >= 0.2
    finally:
        server.close()


def test_resolve_redirect_of_an_unnamed_private_host_is_refused() -> None:
    server = Server({"/robots.txt": (200, {}, b""), "/a": _redirect("/x")})
    try:
        polite = Politeness(Fetcher(FetchConfig()))  # the user named no host
        assert polite.resolve_redirect(server.base + "/a") is None
        assert server.paths() == []
    finally:
        server.close()


def test_amphtml_and_alternate_versions_are_discovered() -> None:
    head = (
        '<link rel="amphtml" href="/story/amp">'
        '<link rel="alternate" hreflang="fr" href="/fr/story">'
        '<link rel="alternate" type="application/pdf" href="/story.pdf">'
    )
    page = b"<html><head>" + head.encode() + b"</head><body><p>story</p></body></html>"
    html = (200, {"Content-Type": "text/html"}, b"<html><body><p>version</p></body></html>")
    server = Server(
        {
            "/robots.txt": (200, {}, b""),
            "/": (200, {"Content-Type": "text/html"}, page),
            "/story/amp": html,
            "/fr/story": html,
            "/story.pdf": html,
        }
    )
    try:
        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host})))
        events = list(Crawler(fetcher, CrawlConfig(delay=0.0)).crawl([server.base + "/"]))
        fetched = {e.final_url for e in events if isinstance(e, Fetched)}
        assert {server.base + "/story/amp", server.base + "/fr/story"} <= fetched
        assert "/story.pdf" not in server.paths()
    finally:
        server.close()
