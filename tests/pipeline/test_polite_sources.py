"""The publisher's own articles, named as sources by URL, are fetched through the scan's
politeness layer like every other request: robots.txt first, its disallowed paths never asked
(the source is skipped with SkipCode.ROBOTS), and two requests to the publisher's host never
closer than its Crawl-delay. Read from the server's own log; only lower bounds on gaps."""

from __future__ import annotations

from pathlib import Path

from loopback import Server

from xpostcheck.config import Settings
from xpostcheck.demo.web import load_corpus
from xpostcheck.models import SkipCode
from xpostcheck.pipeline.scan import run_scan

DELAY = 0.3


def _html(title: str, text: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{paras}</article></body></html>"
    ).encode()


def test_source_urls_go_through_robots_txt_and_the_host_delay(tmp_path: Path) -> None:
    records = list(load_corpus().values())[:3]
    publisher = Server({})
    site = Server({}, host="127.0.0.2")
    try:
        robots = f"User-agent: *\nDisallow: /drafts/\nCrawl-delay: {DELAY}\n"
        publisher.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots.encode())
        paths = ["/news/a", "/news/b", "/drafts/c"]
        for path, record in zip(paths, records, strict=True):
            page = _html(record["title"], record["text"])
            publisher.routes[path] = (200, {"Content-Type": "text/html"}, page)
        site.routes["/"] = (200, {"Content-Type": "text/html"}, _html("Home", "nothing copied"))
        urls = tmp_path / "articles.txt"
        urls.write_text("".join(f"{publisher.base}{p}\n" for p in paths), encoding="utf-8")
        settings = Settings(
            sources=(str(urls),),
            rules="globalresearch",
            sites=(site.base + "/",),
            db=str(tmp_path / "x.db"),
            delay=0.0,
            workers=1,
            timeout=5.0,
            # URLs inside a sources file are not named on the command line: allow the host.
            allow_private=(publisher.base.removeprefix("http://"),),
        )
        result = run_scan(settings)
    finally:
        publisher.close()
        site.close()
    asked = [path for _, path, _ in publisher.log]
    assert asked[0] == "/robots.txt"
    assert "/drafts/c" not in asked
    assert sorted(asked[1:]) == ["/news/a", "/news/b"]
    skipped = {s.url: s.code for s in result.report.skipped}
    assert skipped[f"{publisher.base}/drafts/c"] is SkipCode.ROBOTS
    times = [t for t, _, _ in publisher.log]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= DELAY * 0.95  # arrival gaps; the delay runs from a request's end
    assert all(h.get("User-Agent", "").startswith("xpostcheck/") for _, _, h in publisher.log)
