"""Politeness, read from the servers' own request logs: per-host gaps, one request in flight per
host, Crawl-delay (capped) and Retry-After. Only lower bounds on gaps are asserted."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback import Server

from xpostcheck.models import Fetched, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages.crawl import CrawlConfig, Crawler


class Site:
    """A loopback site of `n` pages linked from its home page; each answer takes 20 ms, and the
    server records how many requests it was serving at once."""

    def __init__(self, host: str, n: int, robots: str = "") -> None:
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.server = Server({}, host=host)
        links = "".join(f"<a href='/p{i}'>p{i}</a>" for i in range(n))
        self.server.routes["/"] = self._slow(f"<html><body>{links}</body></html>".encode())
        for i in range(n):
            self.server.routes[f"/p{i}"] = self._slow(b"<html><body>page</body></html>")
        if robots:
            self.server.routes["/robots.txt"] = (200, {}, robots.encode())

    def _slow(self, body: bytes):  # type: ignore[no-untyped-def]
        def route(h: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.02)
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            with self.lock:
                self.active -= 1

        return route

    def gaps(self) -> list[float]:
        times = sorted(entry[0] for entry in self.server.log)
        return [b - a for a, b in zip(times, times[1:], strict=False)]


def crawl(sites: list[Site], config: CrawlConfig, **fetch: object) -> list[Fetched | Skipped]:
    hosts = frozenset(s.server.host for s in sites)
    fetcher = Fetcher(FetchConfig(allowed_hosts=hosts, **fetch))  # type: ignore[arg-type]
    return list(Crawler(fetcher, config).crawl([s.server.base + "/" for s in sites]))


def test_per_host_gaps_and_one_request_in_flight_per_host() -> None:
    a, b = Site("127.0.0.1", 6), Site("127.0.0.2", 6)
    try:
        events = crawl([a, b], CrawlConfig(delay=0.2, threads=8))
        assert sum(isinstance(e, Fetched) for e in events) == 14
        for site in (a, b):
            assert len(site.server.log) == 9  # robots.txt, home, /sitemap.xml, 6 pages
            assert min(site.gaps()) >= 0.2
            assert site.peak == 1
        # The two hosts were crawled side by side, not one after the other.
        assert min(e[0] for e in b.server.log) < max(e[0] for e in a.server.log)
    finally:
        a.server.close()
        b.server.close()


def test_crawl_delay_from_robots_applies_and_is_capped() -> None:
    slow = Site("127.0.0.1", 3, robots="User-agent: xpostcheck\nCrawl-delay: 0.4\n")
    greedy = Site("127.0.0.2", 3, robots="User-agent: *\nCrawl-delay: 3600\n")
    try:
        crawl([slow, greedy], CrawlConfig(delay=0.05, max_crawl_delay=0.5))
        assert min(slow.gaps()[1:]) >= 0.4  # after robots.txt has been read
        assert min(greedy.gaps()[1:]) >= 0.5
        assert len(greedy.server.log) == 6  # finished despite asking for an hour per page
    finally:
        slow.server.close()
        greedy.server.close()


def test_retry_after_spaces_the_hosts_next_request() -> None:
    site = Site("127.0.0.1", 2)
    site.server.routes["/p0"] = (503, {"Retry-After": "1"}, b"")
    try:
        events = crawl([site], CrawlConfig(delay=0.0, threads=2), retries=0)
        assert [
            (e.url.removeprefix(site.server.base), e.reason)
            for e in events
            if isinstance(e, Skipped)
        ] == [("/p0", "HTTP 503 Service Unavailable")]
        log = [(t, path) for t, path, _ in site.server.log]
        after = [t for t, path in log if path == "/p1"][0]
        before = [t for t, path in log if path == "/p0"][0]
        assert after - before >= 1.0
    finally:
        site.server.close()


def test_a_long_retry_after_parks_the_host() -> None:
    site = Site("127.0.0.1", 3)
    site.server.routes["/p0"] = (429, {"Retry-After": "3600"}, b"")
    try:
        events = crawl([site], CrawlConfig(delay=0.0), retries=0)
        skipped = sorted(
            (e.url.removeprefix(site.server.base), e.reason)
            for e in events
            if isinstance(e, Skipped)
        )
        parked = (
            "host asked to wait 3600 s (Retry-After), longer than the 30 s cap; try again later"
        )
        assert skipped == [
            ("/p0", "HTTP 429 Too Many Requests"),
            ("/p1", parked),
            ("/p2", parked),
        ]
        assert "/p1" not in site.server.paths()
    finally:
        site.server.close()
