"""robots.txt: Protego rules for the `xpostcheck` token, and the RFC 9309 status policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback import Server, html, refused_port

from xpostcheck.models import Fetched, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.net.robots import RobotsPolicy, fetch_robots
from xpostcheck.pages.crawl import CrawlConfig, Crawler

ROBOTS = """
User-agent: *
Disallow: /

User-agent: xpostcheck
Disallow: /drafts/
Disallow: /*.php$
Allow: /drafts/public
Crawl-delay: 2.5
Sitemap: https://news.example/sitemap.xml
"""


def test_rules_for_the_product_token() -> None:
    policy = RobotsPolicy.parse(ROBOTS)
    assert policy.state == "rules"
    assert policy.allowed("https://news.example/2024/story")
    assert not policy.allowed("https://news.example/drafts/x")
    assert policy.allowed("https://news.example/drafts/public/x")  # longest match wins
    assert not policy.allowed("https://news.example/index.php")  # wildcards and $
    assert policy.allowed("https://news.example/index.php?x=1")
    assert policy.crawl_delay == 2.5
    assert policy.sitemaps == ("https://news.example/sitemap.xml",)


def test_other_agents_rules_do_not_apply() -> None:
    policy = RobotsPolicy.parse("User-agent: googlebot\nDisallow: /\n")
    assert policy.allowed("https://news.example/story")


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server({})
    yield srv
    srv.close()


@pytest.mark.parametrize(
    ("status", "state", "note"),
    [
        (404, "allow_all", "robots.txt answered HTTP 404"),
        (401, "allow_all", "robots.txt answered HTTP 401"),
        (403, "allow_all", "robots.txt answered HTTP 403"),
        (
            500,
            "unavailable",
            "robots.txt unavailable (HTTP 500 Internal Server Error)",
        ),
        (
            503,
            "unavailable",
            "robots.txt unavailable (HTTP 503 Service Unavailable)",
        ),
    ],
)
def test_status_policy(server: Server, status: int, state: str, note: str) -> None:
    server.routes["/robots.txt"] = (status, {"Content-Length": "0"}, b"")
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host}), retries=0))
    policy = fetch_robots(fetcher, server.base + "/any/page")
    assert (policy.state, policy.note) == (state, note)
    assert policy.allowed(server.base + "/x") is (state == "allow_all")


def test_unreachable_host_disallows() -> None:
    srv = Server({})
    port = srv.port
    srv.close()
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"})))
    policy = fetch_robots(fetcher, f"http://127.0.0.1:{port}/")
    assert (policy.state, policy.note) == (
        "unavailable",
        "connection refused",
    )


def test_crawler_retries_robots_then_skips_the_host(server: Server) -> None:
    server.routes["/robots.txt"] = (503, {"Content-Length": "0"}, b"")
    server.routes["/"] = html("<a href='/a'>a</a>")
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host}), retries=0))
    config = CrawlConfig(delay=0, robots_retries=1, robots_retry_delay=0.2)
    events = list(Crawler(fetcher, config).crawl([server.base + "/"], [server.base + "/b"]))
    reason = "robots.txt unavailable (HTTP 503 Service Unavailable); host not crawled (RFC 9309)"
    assert sorted((e.url, e.reason) for e in events if isinstance(e, Skipped)) == [
        (server.base + "/", reason),
        (server.base + "/b", reason),
    ]
    assert not any(isinstance(e, Fetched) for e in events)
    assert server.paths() == ["/robots.txt", "/robots.txt"]
    (first, _, _), (second, _, _) = server.log
    assert second - first >= 0.2


def test_robots_recovering_on_retry_lets_the_crawl_go_on(server: Server) -> None:
    answers = iter([(503, b""), (200, b"User-agent: *\nDisallow: /no\n")])

    def robots(h) -> None:  # type: ignore[no-untyped-def]
        status, body = next(answers, (200, b""))
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.routes["/robots.txt"] = robots
    server.routes["/"] = html("<a href='/no'>no</a>")
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host}), retries=0))
    config = CrawlConfig(delay=0, robots_retries=1, robots_retry_delay=0.05)
    events = list(Crawler(fetcher, config).crawl([server.base + "/"]))
    assert [(type(e).__name__, e.url) for e in events] == [
        ("Fetched", server.base + "/"),
        ("Skipped", server.base + "/no"),
    ]
    assert "/no" not in server.paths()


def test_redirect_into_a_disallowed_path_is_not_followed(server: Server) -> None:
    server.routes["/robots.txt"] = (200, {}, b"User-agent: *\nDisallow: /private/\n")
    server.routes["/"] = html("<a href='/go'>go</a>")
    server.routes["/go"] = (302, {"Location": "/private/x"}, b"")
    server.routes["/private/x"] = html("<p>secret</p>")
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({server.host})))
    events = list(Crawler(fetcher, CrawlConfig(delay=0)).crawl([server.base + "/"]))
    assert [(e.url, e.reason) for e in events if isinstance(e, Skipped)] == [
        (server.base + "/go", f"redirects to {server.base}/private/x, disallowed by robots.txt")
    ]
    assert "/private/x" not in server.paths()


def test_a_refused_connection_is_not_asked_again() -> None:
    asked: list[str] = []

    class Counting(Fetcher):
        def fetch(self, url: str, **kw):  # type: ignore[no-untyped-def,override]
            asked.append(url)
            return super().fetch(url, **kw)

    with refused_port() as port:
        base = f"http://127.0.0.1:{port}"
        fetcher = Counting(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"}), retries=0))
        config = CrawlConfig(delay=0, robots_retries=3, robots_retry_delay=0.05)
        events = list(Crawler(fetcher, config).crawl([base + "/"]))
    assert asked == [base + "/robots.txt"]
    assert [(e.url, e.reason) for e in events if isinstance(e, Skipped)] == [
        (base + "/", "connection refused; host not crawled (RFC 9309)")
    ]
