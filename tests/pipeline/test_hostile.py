"""Servers that misbehave: each one must end in a Skipped (or a FetchError) with a clear reason,
cut off by the deadline or the size cap (the server sees the client hang up mid-answer), without
blowing up memory, and without stopping the rest of the crawl."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import brotli
import pytest
from loopback import Server, html

from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages.crawl import CrawlConfig, Crawler

MB = 1024 * 1024
ZEROS = b"<html><body>" + b"\0" * (64 * MB)
GZIP_BOMB = gzip.compress(ZEROS, compresslevel=6)
BROTLI_BOMB = brotli.compress(ZEROS, quality=5)


class Endings:
    """How each streamed answer ended, by request path (query included): True when the server
    wrote all of it, False when the client hung up first."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.done: dict[str, bool] = {}

    def route(self, write: Callable[[BaseHTTPRequestHandler], None]) -> Callable[..., None]:
        def answer(h: BaseHTTPRequestHandler) -> None:
            completed = True
            try:
                write(h)
            except OSError:
                completed = False
            h.close_connection = True
            with self.cond:
                self.done[h.path] = completed
                self.cond.notify_all()

        return answer

    def wait(self, path: str) -> bool | None:
        """How the answer to `path` ended; None if it has not ended within a minute (longer
        than any of these answers takes when the client reads to the end)."""
        with self.cond:
            self.cond.wait_for(lambda: path in self.done, timeout=60)
            return self.done.get(path)


ENDINGS = Endings()


def drip_headers(h: BaseHTTPRequestHandler) -> None:
    """Sends the status line one byte every 50 ms, 1000 bytes (50 s) in all."""
    for _ in range(1000):
        h.wfile.write(b"H")
        h.wfile.flush()
        time.sleep(0.05)


def drip_body(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Content-Length", "1000")
    h.end_headers()
    for _ in range(1000):
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.05)


def endless_chunked(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"<p>" + b"a" * 65_530 + b"</p>"
    for _ in range(10_000):  # 650 MB if nobody stops reading
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    h.wfile.write(b"0\r\n\r\n")


STREAMED = {"/drip-headers": drip_headers, "/drip-body": drip_body, "/endless": endless_chunked}


HOSTILE = {
    **{path: ENDINGS.route(write) for path, write in STREAMED.items()},
    "/gzip-bomb": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, GZIP_BOMB),
    "/brotli-bomb": (200, {"Content-Type": "text/html", "Content-Encoding": "br"}, BROTLI_BOMB),
    "/huge": (200, {"Content-Type": "text/html"}, b"<p>" + b"a" * (3 * MB)),
    "/binary": (200, {"Content-Type": "text/html"}, b"<html>\x00\x01\x02\xff\xfe" * 100),
    "/octets": (200, {"Content-Type": "application/octet-stream"}, b"\x7fELF" + b"\0" * 100),
    "/bad-gzip": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, b"\x1f\x8bnope"),
    "/zstd": (200, {"Content-Type": "text/html", "Content-Encoding": "zstd"}, b"(\xb5/\xfd"),
    "/loop": (302, {"Location": "/loop2"}, b""),
    "/loop2": (302, {"Location": "/loop"}, b""),
    "/busy": (503, {"Retry-After": "3600"}, b""),
    "/bad-utf8": (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        b"<p>caf\xe9 \xff\xfe broken</p>",
    ),
    "/malformed": html("<p><b>unclosed <a href='/good'>good<table><td></tr></p></b></div>"),
    "/good": html("<p>fine</p>"),
}
REASONS = {
    "/drip-headers": "deadline of 1 s exceeded (server too slow)",
    "/drip-body": "deadline of 1 s exceeded (server too slow)",
    "/gzip-bomb": "body larger than 1048576 bytes once decompressed",
    "/brotli-bomb": "body larger than 1048576 bytes once decompressed",
    "/huge": "body larger than 1048576 bytes",
    "/endless": "body larger than 1048576 bytes once decompressed",
    "/binary": "binary body served as HTML",
    "/octets": "not HTML (content type application/octet-stream)",
    "/bad-gzip": "broken gzip body (cannot decompress it)",
    "/zstd": "unsupported content encoding 'zstd'",
    "/loop": "redirect loop (2 hops, back to {base}/loop)",
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[Server]:
    srv = Server(dict(HOSTILE))
    yield srv
    srv.close()


def fetcher(srv: Server) -> Fetcher:
    return Fetcher(
        FetchConfig(
            allowed_hosts=frozenset({srv.host}),
            deadline=1.0,
            read_timeout=5.0,
            max_bytes=MB,
            retries=0,
        )
    )


def test_bombs_are_small_on_the_wire() -> None:
    assert len(GZIP_BOMB) < 200_000 and len(BROTLI_BOMB) < 200_000


@pytest.mark.parametrize("path", sorted(REASONS))
def test_each_hostile_page_fails_with_its_reason(hostile: Server, path: str) -> None:
    # A streamed answer is asked under a query of its own, to find how that answer ended.
    asked = f"{path}?case={uuid.uuid4().hex}" if path in STREAMED else path
    seen = len(hostile.paths())
    with pytest.raises(FetchError) as err:
        fetcher(hostile).fetch(hostile.base + asked)
    assert err.value.reason == REASONS[path].format(base=hostile.base)
    # One request each (no retries), both hops of the loop, and nothing after the failure.
    assert hostile.paths()[seen:] == (["/loop", "/loop2"] if path == "/loop" else [asked])
    if path in STREAMED:
        # The deadline or the size cap cut the answer off: the server saw the client hang
        # up before it had sent all of it (the drips take 50 s, /endless is 650 MB).
        assert ENDINGS.wait(asked) is False


def test_bad_bytes_in_a_declared_encoding_are_replaced(hostile: Server) -> None:
    got = fetcher(hostile).fetch(hostile.base + "/bad-utf8")
    assert got.text == "<p>caf\ufffd \ufffd\ufffd broken</p>"


def test_a_hostile_site_is_crawled_to_the_end(hostile: Server) -> None:
    # /busy is left out: its Retry-After parks the whole host (see test_politeness.py).
    links = "".join(f"<a href='{p}'>{p}</a>" for p in sorted(HOSTILE) if p != "/busy")
    hostile.routes["/"] = html(f"<html><body>{links}</body></html>")
    config = CrawlConfig(delay=0.0, threads=8)
    events = list(Crawler(fetcher(hostile), config).crawl([hostile.base + "/"]))
    fetched = sorted(
        e.final_url.removeprefix(hostile.base) for e in events if isinstance(e, Fetched)
    )
    skipped = {e.url.removeprefix(hostile.base): e.reason for e in events if isinstance(e, Skipped)}
    assert fetched == ["/", "/bad-utf8", "/good", "/malformed"]
    expected = {p: r.format(base=hostile.base) for p, r in REASONS.items()}
    expected["/loop2"] = f"redirect loop (2 hops, back to {hostile.base}/loop2)"
    assert skipped == expected


# --- hostile pages: bounded links, bounded site profiles -----------------------------------


def _link_flood(n: int) -> str:
    """A page whose chrome holds `n` links before the article, which links the original."""
    flood = "".join(f'<li><a href="/tag/{i}">tag {i}</a></li>' for i in range(n))
    article = (
        "<article><h1>Harbour cranes fall silent</h1>"
        + "".join(
            f"<p>Paragraph {i} of the copied article about the strike at the port of Velden, "
            "where cranes stood still for a third week while talks stalled.</p>"
            for i in range(12)
        )
        + '<p>Originally published by <a href="https://pub.example/cranes">Global Research'
        "</a>.</p></article>"
    )
    return f"<html><body><nav><ul>{flood}</ul></nav>{article}</body></html>"


def test_a_page_keeps_at_most_the_capped_links_the_articles_first() -> None:
    from xpostcheck import options
    from xpostcheck.extract.page import extract_html

    cap = options.MAX_LINKS_PER_PAGE
    page = extract_html("https://copy.example/cranes", _link_flood(cap + 500))
    assert len(page.links) == cap
    # The article's link to the original survives although it comes after the flood.
    kept = [link for link in page.links if link.href == "https://pub.example/cranes"]
    assert [(link.region, link.text) for link in kept] == [("article", "Global Research")]
    # The rest are the chrome's first links, in document order.
    assert page.links[0].href == "https://copy.example/tag/0"
    assert page.links[-1] is kept[0]


def test_a_site_profile_counts_at_most_its_cap_of_distinct_links_and_lines() -> None:
    from xpostcheck.checks.siteprofile import SiteProfile

    profile = SiteProfile(max_keys=100)
    hrefs = [f"https://copy.example/p/{i}" for i in range(1000)]
    text = "\n".join(f"line number {i}" for i in range(1000))
    for n in range(3):
        profile.add_parts(f"https://copy.example/{n}", text, hrefs)
    assert profile.entries() == (100, 100)
    # What was counted is still told as chrome; what the cap left out is not.
    assert profile.is_chrome_link("https://copy.example/p/0") is True
    assert profile.is_chrome_link("https://copy.example/p/999") is False
    assert profile.is_chrome_text("line number 0") is True


# --- a scan that fetched no page fails (exit 3) with one line saying why -------------------

_ARTICLE = {
    "url": "https://pub.example/cranes",
    "title": "Harbour cranes fall silent",
    "text": "The cranes along the eastern quay stood motionless as the strike went on.",
}


def _scan(tmp_path: Any, site: str) -> Any:
    from click.testing import CliRunner

    from xpostcheck.cli.main import main

    sources = tmp_path / "sources.jsonl"
    sources.write_text(json.dumps(_ARTICLE) + "\n", encoding="utf-8")
    args = ["scan", "--sources", str(sources), "--rules", "globalresearch", site]
    args += ["--db", str(tmp_path / "x.db"), "--delay", "0", "--workers", "1", "--timeout", "5"]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _one_failure_line(result: Any) -> str:
    assert result.exit_code == 3, result.output
    # The loopback server's threads share stderr here (a client hanging up makes them print a
    # traceback of their own): the tool's lines are the ones that name it.
    lines = [line for line in result.stderr.splitlines() if line.startswith("xpostcheck")]
    assert len(lines) == 1 and lines[0].startswith("xpostcheck: error: "), result.stderr
    return str(lines[0].removeprefix("xpostcheck: error: "))


@pytest.mark.parametrize("status", [403, 429, 500])
def test_a_scan_whose_every_page_answers_an_error_exits_3(tmp_path: Any, status: int) -> None:
    answer = (status, {"Content-Type": "text/html", "Retry-After": "0"}, b"<p>no</p>")
    srv = Server({"/": answer, "/robots.txt": (404, {}, b"")})
    try:
        line = _one_failure_line(_scan(tmp_path, srv.base + "/"))
    finally:
        srv.close()
    assert line.startswith(f"no page could be fetched: every page answered an error ({srv.base}/")
    assert f"HTTP {status}" in line


def test_a_scan_whose_start_page_is_over_the_size_cap_exits_3(tmp_path: Any) -> None:
    def big(h: BaseHTTPRequestHandler) -> None:  # 10.1 MB, written until the client hangs up
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        h.close_connection = True
        try:
            for _ in range(101):
                h.wfile.write(b"<p>" + b"a" * 99_993 + b"</p>")
        except OSError:
            pass

    srv = Server({"/": big, "/robots.txt": (404, {}, b"")})
    try:
        line = _one_failure_line(_scan(tmp_path, srv.base + "/"))
    finally:
        srv.close()
    assert line == (
        f"no page could be fetched: every page is over the size cap ({srv.base}/: "
        "body larger than 10000000 bytes once decompressed)"
    )


def test_a_scan_that_robots_txt_keeps_out_entirely_exits_3(tmp_path: Any) -> None:
    robots = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n")
    srv = Server({"/": html("<p>home</p>"), "/robots.txt": robots})
    try:
        line = _one_failure_line(_scan(tmp_path, srv.base + "/"))
    finally:
        srv.close()
    assert line.startswith(
        f"no page could be fetched: robots.txt disallows every page ({srv.base}/: "
        "disallowed by robots.txt"
    )
    assert "/" not in [p for p in srv.paths() if p != "/robots.txt"]


# --- a per-page analysis deadline: a runaway page is skipped, its worker replaced ----------


def hang_or_analyse(fetched: Fetched) -> Any:
    """Runs in the pool's worker processes: a page named 'hang' never ends (a runaway parse)."""
    import dataclasses
    import os
    import time as _time

    from xpostcheck.pipeline import analyse

    if "hang" in fetched.url:
        _time.sleep(3600)
    page, matches = analyse._analyse_in_worker(fetched)
    return dataclasses.replace(page, title=str(os.getpid())), matches  # who analysed it


def _fetched(url: str) -> Fetched:
    body = f"<html><body><p>Page at {url}</p></body></html>"
    return Fetched(url, url, 200, (), body.encode(), body, "utf-8", "2025-03-05T10:00:00+00:00")


def test_a_page_past_the_analysis_deadline_is_skipped_and_its_worker_replaced() -> None:
    from xpostcheck.match.index import MatchConfig, SourceIndex
    from xpostcheck.models import SkipCode, SourceArticle
    from xpostcheck.pipeline.analyse import Analysed, Analyser

    index = SourceIndex(MatchConfig())
    index.add([SourceArticle(url="https://pub.example/a", title="A", text=_ARTICLE["text"])])
    analyser = Analyser(index, "", MatchConfig(), workers=2)
    # Generous for a one-line page (however loaded the machine), short next to an hour.
    analyser.deadline = 8.0
    analyser.work = hang_or_analyse
    urls = [f"https://copy.example/{name}" for name in ("a", "hang", "b", "c", "d")]
    try:
        events = list(analyser.pages([_fetched(u) for u in urls], lambda f: False))
    finally:
        analyser.close()
    assert [type(e).__name__ for e in events] == ["Analysed"] + ["Skipped"] + ["Analysed"] * 3
    skipped = events[1]
    assert isinstance(skipped, Skipped)
    assert (skipped.url, skipped.code, skipped.reason) == (
        "https://copy.example/hang",
        SkipCode.EXTRACTION_FAILED,
        "analysis took longer than 8 s (the per-page deadline); skipped",
    )
    # Pages after the runaway one were analysed by fresh workers, not in-process.
    pids = {e.page.title for e in events if isinstance(e, Analysed)}
    assert str(os.getpid()) not in pids and all(pid.isdigit() for pid in pids)
