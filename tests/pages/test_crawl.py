"""Crawler on real loopback sites: what it fetches, what it skips and why, discovery through
sitemaps and feeds, caps, and incremental re-scans."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from loopback import Server, html, refused_port

from xpostcheck.models import Fetched, PageState, Report, ScanInfo, SkipCode, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages import PageSource
from xpostcheck.pages.crawl import CrawlConfig, Crawler, extract_links
from xpostcheck.store import Store, open_store

FAST = CrawlConfig(delay=0.0, threads=4)


def page(*links: str, extra: str = "") -> tuple[int, dict[str, str], bytes]:
    anchors = "".join(f'<a href="{href}">{href}</a>' for href in links)
    return html(f"<html><head>{extra}</head><body><p>text</p>{anchors}</body></html>")


@pytest.fixture
def site() -> Iterator[Server]:
    srv = Server({})
    yield srv
    srv.close()


def run(
    srv: Server,
    sites: list[str],
    urls: list[str] = (),  # type: ignore[assignment]
    config: CrawlConfig = FAST,
    crawler: Crawler | None = None,
    known: dict[str, PageState] | None = None,
) -> tuple[list[Fetched], list[Skipped]]:
    if crawler is None:
        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({srv.host}), retries=0))
        crawler = Crawler(fetcher, config, known=known.get if known else None)
    events = list(crawler.crawl(sites, urls))
    fetched = [e for e in events if isinstance(e, Fetched)]
    skipped = [e for e in events if isinstance(e, Skipped)]
    return fetched, skipped


def paths(items: list[Fetched], base: str) -> list[str]:
    return sorted(f.final_url.removeprefix(base) for f in items)


def skips(items: list[Skipped], base: str) -> list[tuple[str, str]]:
    return sorted((s.url.removeprefix(base), s.reason) for s in items)


def test_crawl_follows_links_within_the_host_and_lists_every_skip(site: Server) -> None:
    b = site.base
    site.routes.update(
        {
            "/robots.txt": (
                200,
                {"Content-Type": "text/plain"},
                b"User-agent: *\nDisallow: /private/\n",
            ),
            "/": page(
                "/a",
                "b#section",
                "/files/report.pdf",
                "/private/x",
                "/missing",
                "https://elsewhere.example/",
                "mailto:x@example.org",
                "/a?utm_source=feed",
            ),
            "/a": page("/", "/c"),
            "/b": page("/a"),
            "/c": page(),
            "/private/x": page(),
        }
    )
    fetched, skipped = run(site, [b + "/"])
    assert paths(fetched, b) == ["/", "/a", "/b", "/c"]
    assert skips(skipped, b) == [
        ("/files/report.pdf", "not HTML (.pdf link)"),
        ("/missing", "HTTP 404 Not Found"),
        ("/private/x", "disallowed by robots.txt"),
    ]
    requested = site.paths()
    assert "/private/x" not in requested and "/files/report.pdf" not in requested
    assert requested.count("/a") == 1
    assert requested[0] == "/robots.txt"


def test_single_urls_are_not_crawled(site: Server) -> None:
    b = site.base
    site.routes.update({"/one": page("/two"), "/two": page()})
    fetched, skipped = run(site, [], [b + "/one"])
    assert paths(fetched, b) == ["/one"]
    assert skipped == []
    assert site.paths() == ["/robots.txt", "/one"]


def test_page_cap_and_depth_cap(site: Server) -> None:
    b = site.base
    site.routes.update({"/": page("/p1", "/p2", "/p3", "/p4"), "/p1": page("/deep")})
    for i in range(2, 5):
        site.routes[f"/p{i}"] = page()
    site.routes["/deep"] = page("/deeper")
    fetched, skipped = run(site, [b + "/"], config=CrawlConfig(delay=0, max_pages_per_site=3))
    assert paths(fetched, b) == ["/", "/p1", "/p2"]
    assert skips(skipped, b) == [
        ("/deep", "page cap of 3 per site reached"),
        ("/p3", "page cap of 3 per site reached"),
        ("/p4", "page cap of 3 per site reached"),
    ]
    fetched, skipped = run(site, [b + "/"], config=CrawlConfig(delay=0, max_depth=1))
    assert paths(fetched, b) == ["/", "/p1", "/p2", "/p3", "/p4"]
    # Links on pages at the depth cap are not read, so they are not discovered either.
    assert skipped == [] and "/deep" not in site.paths()
    site.routes["/sitemap.xml"] = (200, {}, f"{b}/deep\n".encode())
    fetched, skipped = run(site, [b + "/"], config=CrawlConfig(delay=0, max_depth=0))
    assert paths(fetched, b) == ["/"]
    assert skips(skipped, b) == [("/deep", "deeper than the depth cap (0 links)")]


def test_crawler_trap_caps(site: Server) -> None:
    b = site.base
    calendar = [f"/cal?day={i}" for i in range(5)]
    site.routes.update(
        {
            "/": page("/a/b/a/b/a/", "/x" + "y" * 100, "/q?a=1&b=2&c=3", *calendar),
            "/cal": page(),
        }
    )
    config = CrawlConfig(
        delay=0, max_url_length=60, max_query_params=2, max_query_variants=3, max_path_repeats=2
    )
    fetched, skipped = run(site, [b + "/"], config=config)
    assert paths(fetched, b) == ["/", "/cal?day=0", "/cal?day=1", "/cal?day=2"]
    assert skips(skipped, b) == [
        ("/a/b/a/b/a/", "a path segment repeats more than 2 times (crawler trap)"),
        ("/cal?day=3", "more than 3 query variants of /cal (crawler trap cap)"),
        ("/cal?day=4", "more than 3 query variants of /cal (crawler trap cap)"),
        ("/q?a=1&b=2&c=3", "more than 2 query parameters (crawler trap cap)"),
        ("/x" + "y" * 100, "URL longer than 60 characters (crawler trap cap)"),
    ]


def test_sitemaps_from_robots_index_and_gzip(site: Server) -> None:
    b = site.base
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{b}/sm-posts.xml.gz</loc></sitemap>"
        "<sitemap><loc>https://other.example/sm.xml</loc></sitemap></sitemapindex>"
    )
    posts = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{b}/orphan-1</loc></url><url><loc>{b}/orphan-2</loc></url>"
        "<url><loc>https://other.example/x</loc></url></urlset>"
    )
    site.routes.update(
        {
            "/robots.txt": (
                200,
                {},
                f"User-agent: *\nAllow: /\nSitemap: {b}/sm-index.xml\n".encode(),
            ),
            "/": page(),
            "/sm-index.xml": (200, {"Content-Type": "application/xml"}, index.encode()),
            "/sm-posts.xml.gz": (
                200,
                {"Content-Type": "application/gzip"},
                gzip.compress(posts.encode()),
            ),
            "/orphan-1": page(),
            "/orphan-2": page(),
        }
    )
    fetched, skipped = run(site, [b + "/"])
    assert paths(fetched, b) == ["/", "/orphan-1", "/orphan-2"]
    assert skipped == []
    assert "/sitemap.xml" not in site.paths()


def test_guessed_sitemap_and_feed_discovery(site: Server) -> None:
    b = site.base
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>F</title><link>/from-feed</link></item></channel></rss>"
    )
    site.routes.update(
        {
            "/": page(extra='<link rel="alternate" type="application/rss+xml" href="/feed">'),
            "/sitemap.xml": (
                200,
                {"Content-Type": "text/plain"},
                f"{b}/from-sitemap\n".encode(),
            ),
            "/feed": (200, {"Content-Type": "application/rss+xml"}, feed.encode()),
            "/from-feed": page(),
            "/from-sitemap": page(),
        }
    )
    fetched, skipped = run(site, [b + "/"])
    assert paths(fetched, b) == ["/", "/from-feed", "/from-sitemap"]
    assert skipped == []
    no_discovery = CrawlConfig(delay=0, sitemaps=False, feeds=False)
    fetched, _ = run(site, [b + "/"], config=no_discovery)
    assert paths(fetched, b) == ["/"]


def test_broken_declared_sitemap_is_listed(site: Server) -> None:
    b = site.base
    site.routes.update(
        {
            "/robots.txt": (200, {}, f"Sitemap: {b}/broken.xml\n".encode()),
            "/": page(),
            "/broken.xml": (200, {}, b"<html>oops</html>"),
        }
    )
    fetched, skipped = run(site, [b + "/"])
    assert paths(fetched, b) == ["/"]
    assert skips(skipped, b) == [
        ("/broken.xml", "sitemap not read: not a sitemap (no <urlset> or <sitemapindex>)")
    ]


def test_redirect_to_a_page_already_scanned(site: Server) -> None:
    b = site.base
    site.routes.update(
        {"/": page("/a", "/old"), "/a": page(), "/old": (301, {"Location": "/a"}, b"")}
    )
    fetched, skipped = run(site, [b + "/"])
    assert paths(fetched, b) == ["/", "/a"]
    assert skips(skipped, b) == [("/old", f"redirects to {b}/a, already scanned")]


def test_conditional_rescan_yields_304_with_the_stored_hash(site: Server) -> None:
    b = site.base

    def etagged(h) -> None:  # type: ignore[no-untyped-def]
        if h.headers.get("If-None-Match") == '"v7"':
            h.send_response(304)
            h.end_headers()
            return
        body = b"<p>article</p>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("ETag", '"v7"')
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.routes["/article"] = etagged
    state = PageState(b + "/article", etag='"v7"', content_hash="abc123")
    fetched, _ = run(site, [], [b + "/article"], known={b + "/article": state})
    assert [(f.status, f.body, f.content_hash) for f in fetched] == [(304, b"", "abc123")]
    assert site.log[-1][2]["If-None-Match"] == '"v7"'


def test_sitemap_lastmod_older_than_last_fetch_needs_no_request(site: Server) -> None:
    b = site.base
    sitemap = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{b}/old</loc><lastmod>2024-01-01</lastmod></url>"
        f"<url><loc>{b}/new</loc><lastmod>2024-06-01T10:00:00+00:00</lastmod></url>"
        f"<url><loc>{b}/today</loc><lastmod>2024-05-01</lastmod></url></urlset>"
    )
    site.routes.update(
        {
            "/": page(),
            "/sitemap.xml": (200, {}, sitemap.encode()),
            "/old": page(),
            "/new": page(),
            "/today": page(),
            "/child": page(),
        }
    )
    known = {
        b + "/old": PageState(
            b + "/old",
            content_hash="h-old",
            fetched_at="2024-05-01T00:00:00+00:00",
            links=(b + "/child",),  # still followed, though /old itself is not requested
        ),
        b + "/new": PageState(
            b + "/new", content_hash="h-new", fetched_at="2024-05-01T00:00:00+00:00"
        ),
        # A bare-date lastmod on the day of the last fetch may mean later that day: fetch it.
        b + "/today": PageState(b + "/today", fetched_at="2024-05-01T09:00:00+00:00"),
    }
    fetched, skipped = run(site, [b + "/"], known=known)
    by_path = {f.url.removeprefix(b): (f.status, f.content_hash) for f in fetched}
    assert by_path["/old"] == (304, "h-old")
    assert by_path["/child"][0] == 200
    assert by_path["/new"][0] == 200 and by_path["/today"][0] == 200
    assert "/old" not in site.paths() and "/new" in site.paths() and "/today" in site.paths()


def test_robots_is_cached_per_crawler(site: Server) -> None:
    b = site.base
    site.routes.update({"/": page()})
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({site.host})))
    crawler = Crawler(fetcher, FAST)
    run(site, [], [b + "/"], crawler=crawler)
    run(site, [], [b + "/"], crawler=crawler)
    assert site.paths().count("/robots.txt") == 1
    run(site, [], [b + "/"], crawler=Crawler(fetcher, FAST))
    assert site.paths().count("/robots.txt") == 2


def codes(items: list[Skipped], base: str) -> list[tuple[str, SkipCode]]:
    return sorted((s.url.removeprefix(base), s.code) for s in items)


def test_skips_carry_a_code_for_robots_caps_and_duplicates(site: Server) -> None:
    b = site.base
    site.routes.update(
        {
            "/robots.txt": (200, {}, b"User-agent: *\nDisallow: /private/\n"),
            "/": page("/private/x", "/a", "/old", "/file.pdf"),
            "/a": page(),
            "/old": (301, {"Location": "/a"}, b""),
        }
    )
    _, skipped = run(site, [b + "/"], config=CrawlConfig(delay=0, threads=1))
    assert codes(skipped, b) == [
        ("/file.pdf", SkipCode.NOT_HTML),
        ("/old", SkipCode.DUPLICATE),
        ("/private/x", SkipCode.ROBOTS),
    ]
    _, skipped = run(site, [b + "/"], config=CrawlConfig(delay=0, max_pages_per_site=3))
    assert codes(skipped, b) == [
        ("/file.pdf", SkipCode.NOT_HTML),
        ("/old", SkipCode.LIMIT),
        ("/private/x", SkipCode.ROBOTS),
    ]
    assert [s.reason for s in skipped if s.code is SkipCode.LIMIT] == [
        "page cap of 3 per site reached"
    ]


def test_a_refused_site_is_skipped_with_the_refused_code() -> None:
    with refused_port() as port:
        base = f"http://127.0.0.1:{port}"
        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"}), retries=0))
        events = list(Crawler(fetcher, FAST).crawl([base + "/"], [base + "/one"]))
    assert [(e.url, e.code, e.unreachable) for e in events if isinstance(e, Skipped)] == [
        (base + "/", SkipCode.REFUSED, True),
        (base + "/one", SkipCode.REFUSED, True),
    ]
    assert not any(isinstance(e, Fetched) for e in events)


def test_the_crawler_is_a_page_source() -> None:
    crawler: PageSource = Crawler(Fetcher(FetchConfig()), FAST)
    assert isinstance(crawler, PageSource)


def test_invalid_inputs_are_skipped_not_raised(site: Server) -> None:
    fetched, skipped = run(site, ["example.org"], ["ftp://x.example/", "http://[::1"])
    assert fetched == []
    assert sorted((s.url, s.reason) for s in skipped) == [
        ("example.org", "not an http(s) URL; write it with http:// or https://"),
        ("ftp://x.example/", "not an http(s) URL; write it with http:// or https://"),
        ("http://[::1", "not a valid URL"),
    ]


def test_consumer_can_stop_early(site: Server) -> None:
    b = site.base
    site.routes["/"] = page(*[f"/p{i}" for i in range(30)])
    for i in range(30):
        site.routes[f"/p{i}"] = page()
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({site.host})))
    config = CrawlConfig(delay=0.0, threads=2, queue_size=1)
    events = Crawler(fetcher, config).crawl([b + "/"])
    first = next(events)
    events.close()  # type: ignore[attr-defined]
    assert isinstance(first, Fetched) and first.final_url == b + "/"
    # Pages wait for the consumer in a bounded queue (of one page here), and the scheduler
    # stops dispatching while it cannot hand a page over. With only / taken, whatever the
    # timing, the server saw robots.txt, /, the guessed sitemap and at most /p0 (queued) and
    # /p1 (held by the scheduler) of the 30 pages.
    asked = site.paths()
    assert asked[:2] == ["/robots.txt", "/"]
    assert set(asked) <= {"/robots.txt", "/", "/sitemap.xml", "/p0", "/p1"}


def test_extract_links_from_malformed_html() -> None:
    doc = (
        "<html><head><base href='/sub/'><meta name=robots content='index, follow'>"
        "<link rel='alternate' type='application/atom+xml' href='atom.xml'></head>"
        "<body><p>unclosed <a href=one.html>one<div><a href='  /two#frag '>two"
        "<a href='javascript:void(0)'>js</a><a href=''>e</a><area href='three'>"
        "<a href='http://[bad'>bad</a></table></body>"
    )
    assert extract_links(doc, "http://h.example/x/page") == (
        ["http://h.example/sub/one.html", "http://h.example/two", "http://h.example/sub/three"],
        ["http://h.example/sub/atom.xml"],
        False,
    )
    assert extract_links("<meta name='robots' content='NOFOLLOW'><a href=/a>", "http://h/")[2]
    assert extract_links("", "http://h/") == ([], [], False)
    assert extract_links("\x00\x01garbage<<<>>>", "http://h/") == ([], [], False)


def test_links_kept_by_the_store_let_a_304_page_keep_discovery(site: Server) -> None:
    b = site.base

    def home(h) -> None:  # type: ignore[no-untyped-def]
        if h.headers.get("If-None-Match") == '"h1"':
            h.send_response(304)
            h.end_headers()
            return
        body = b"<a href='/a'>a</a> <a href='/b'>b</a> <a href='https://x.example/'>x</a>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("ETag", '"h1"')
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.routes.update({"/": home, "/a": page(), "/b": page()})
    fetched, _ = run(site, [b + "/"])
    first = {f.final_url.removeprefix(b): f.links for f in fetched}
    assert first == {"/": (b + "/a", b + "/b"), "/a": (), "/b": ()}
    state = PageState(b + "/", etag='"h1"', content_hash="c", links=(b + "/a", b + "/b"))
    fetched, skipped = run(site, [b + "/"], known={b + "/": state})
    assert [
        (f.final_url.removeprefix(b), f.status) for f in sorted(fetched, key=lambda f: f.url)
    ] == [
        ("/", 304),
        ("/a", 200),
        ("/b", 200),
    ]
    assert skipped == []


def test_rescan_of_a_site_without_sitemap_is_all_304_through_a_real_store(
    site: Server, tmp_path: Path
) -> None:
    """Pages found only by following links: the store keeps each page's links, so the second
    scan asks every page conditionally, gets 304s, and still reaches every page."""
    b = site.base
    bodies = {
        "/": page("/a", "/b", "https://elsewhere.example/x"),
        "/a": page("/a/1", "/"),
        "/b": page("/c", "/a"),
        "/c": page("/"),
        "/a/1": page("/a/2"),
        "/a/2": page("/"),  # (a page with no in-site link at all is fetched in full)
    }

    def etagged(status_headers_body: tuple[int, dict[str, str], bytes]):  # type: ignore[no-untyped-def]
        _, headers, body = status_headers_body
        tag = f'"{hashlib.sha256(body).hexdigest()[:12]}"'

        def answer(h) -> None:  # type: ignore[no-untyped-def]
            if h.headers.get("If-None-Match") == tag:
                h.send_response(304)
                h.send_header("ETag", tag)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            h.send_response(200)
            for key, value in {**headers, "ETag": tag}.items():
                h.send_header(key, value)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        return answer

    site.routes.update({path: etagged(route) for path, route in bodies.items()})
    store = open_store(tmp_path / "scans.db")

    def scan(started: str) -> list[Fetched]:
        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({site.host}), retries=0))
        crawler = Crawler(fetcher, FAST, known=store.page_state)
        scan_id = store.begin_scan("site", started)
        pages = []
        for event in crawler.crawl([b + "/"]):
            if isinstance(event, Fetched):
                store.record_page(scan_id, event, is_copy=False)
                pages.append(event)
        info = ScanInfo(started, started, 0, len(pages), sites=(b + "/",))
        store.finish_scan(scan_id, Report(scan=info, copies=()))
        fetcher.close()
        return pages

    everything = ["/", "/a", "/a/1", "/a/2", "/b", "/c"]
    first = scan("2024-05-06T06:00:00+00:00")
    assert sorted((f.final_url.removeprefix(b), f.status) for f in first) == [
        (p, 200) for p in everything
    ]
    site.log.clear()
    second = scan("2024-05-13T06:00:00+00:00")
    assert sorted((f.final_url.removeprefix(b), f.status) for f in second) == [
        (p, 304) for p in everything
    ]
    # Unchanged pages keep their hash and re-emit their stored links for the scan after.
    assert {f.url: (f.content_hash, f.links) for f in second} == {
        f.url: (f.content_hash, f.links) for f in first
    }
    assert {f.final_url.removeprefix(b): f.links for f in second}["/"] == (b + "/a", b + "/b")
    # The server saw only conditional requests for pages (robots.txt and the guessed sitemap
    # are asked plainly, and are not there).
    asked = sorted((path, headers.get("If-None-Match", "")) for _, path, headers in site.log)
    tags = {path: f'"{hashlib.sha256(bodies[path][2]).hexdigest()[:12]}"' for path in bodies}
    assert asked == sorted([*tags.items(), ("/robots.txt", ""), ("/sitemap.xml", "")])
    # A third scan still has every page's links: the 304s kept them in the store.
    state = store.page_state(b + "/b")
    assert state is not None and state.links == (b + "/c", b + "/a")
    assert len(scan("2024-05-20T06:00:00+00:00")) == len(everything)
    store.close()


def cached(body: str, **headers: str):  # type: ignore[no-untyped-def]
    """A route that answers with an ETag and the given caching headers (Cache_Control for
    Cache-Control), and 304 to a request that names its ETag."""
    data = f"<html><body>{body}</body></html>".encode()
    tag = f'"{hashlib.sha256(data).hexdigest()[:12]}"'
    extra = {name.replace("_", "-"): value for name, value in headers.items()}

    def answer(h) -> None:  # type: ignore[no-untyped-def]
        if h.headers.get("If-None-Match") == tag:
            h.send_response(304)
            h.send_header("ETag", tag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        for key, value in {"Content-Type": "text/html", "ETag": tag, **extra}.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return answer


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(timezone.utc), usegmt=True)


def record_scan(store: Store, site: Server, config: CrawlConfig, started: str) -> list[Fetched]:
    """One crawl of the site, recorded in `store` as a finished scan; `known` is the store's."""
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({site.host}), retries=0))
    crawler = Crawler(fetcher, config, known=store.page_state)
    scan_id = store.begin_scan("site", started)
    pages = []
    for event in crawler.crawl([site.base + "/"]):
        if isinstance(event, Fetched):
            store.record_page(scan_id, event, is_copy=False)
            pages.append(event)
    info = ScanInfo(started, started, 0, len(pages), sites=(site.base + "/",))
    store.finish_scan(scan_id, Report(scan=info, copies=()))
    fetcher.close()
    return pages


def freshness_site(site: Server) -> list[str]:
    """A hub that is always stale, pages fresh by each caching header, and pages stale by
    them. Every page links back to the hub, so the store keeps links for each."""
    now = datetime.now(timezone.utc)
    back = '<a href="/">home</a>'
    pages = {
        "/fresh-max-age": cached(back, Cache_Control="public, max-age=3600"),
        "/fresh-expires": cached(back, Expires=http_date(now + timedelta(days=1))),
        "/fresh-heuristic": cached(back, Last_Modified=http_date(now - timedelta(days=60))),
        "/stale-no-cache": cached(back, Cache_Control="no-cache, max-age=3600"),
        "/stale-expires": cached(
            back, Expires="0", Last_Modified=http_date(now - timedelta(days=60))
        ),
        "/stale-none": cached(back),
    }
    links = "".join(f'<a href="{path}">{path}</a>' for path in pages)
    site.routes.update({"/": cached(links, Cache_Control="max-age=0"), **pages})
    return ["/", *sorted(pages)]


def test_a_rescan_skips_fresh_pages_and_asks_stale_ones_again(site: Server, tmp_path: Path) -> None:
    b = site.base
    everything = freshness_site(site)
    store = open_store(tmp_path / "scans.db")
    first = record_scan(store, site, FAST, "2024-05-06T06:00:00+00:00")
    assert sorted((f.final_url.removeprefix(b), f.status) for f in first) == [
        (p, 200) for p in everything
    ]
    site.log.clear()
    second = record_scan(store, site, FAST, "2024-05-07T06:00:00+00:00")
    # Every page is there, unchanged; only the stale ones (and robots.txt and the guessed
    # sitemap) were asked for, conditionally.
    assert sorted((f.final_url.removeprefix(b), f.status) for f in second) == [
        (p, 304) for p in everything
    ]
    asked = sorted((path, "If-None-Match" in headers) for _, path, headers in site.log)
    assert asked == [
        ("/", True),
        ("/robots.txt", False),
        ("/sitemap.xml", False),
        ("/stale-expires", True),
        ("/stale-no-cache", True),
        ("/stale-none", True),
    ]
    # A page taken as fresh keeps the time of its last real fetch (so that freshness does
    # not renew itself), its hash and its links; an asked one is dated now.
    before = {f.url: f for f in first}
    for f in second:
        path = f.url.removeprefix(b)
        if path.startswith("/fresh"):
            assert f.fetched_at == before[f.url].fetched_at
        assert (f.content_hash, f.links) == (before[f.url].content_hash, before[f.url].links)
    # The store kept the caching headers through the 304s: a third scan skips the same pages.
    site.log.clear()
    record_scan(store, site, FAST, "2024-05-08T06:00:00+00:00")
    assert sorted(site.paths()) == [
        "/",
        "/robots.txt",
        "/sitemap.xml",
        "/stale-expires",
        "/stale-no-cache",
        "/stale-none",
    ]
    # recheck_after=0: every page is asked again.
    site.log.clear()
    every = record_scan(store, site, dataclasses.replace(FAST, recheck_after=0), "2024-05-09")
    assert len(every) == len(everything)
    assert sorted(site.paths()) == sorted([*everything, "/robots.txt", "/sitemap.xml"])
    store.close()


def test_freshness_is_capped_and_needs_the_links_and_a_crawled_site(site: Server) -> None:
    b = site.base
    site.routes.update({"/": page("/a", "/b"), "/a": page("/"), "/b": page("/")})
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    home = PageState(
        b + "/",
        content_hash="h",
        fetched_at=hour_ago,
        links=(b + "/a", b + "/b"),
        cache_control="max-age=86400",
    )
    known = {
        b + "/": home,
        b + "/a": dataclasses.replace(home, url=b + "/a", links=(b + "/",)),
        # Fresh, but the store kept no links and no sitemap lists the site: asked, so that
        # the links it has are found.
        b + "/b": dataclasses.replace(home, url=b + "/b", links=()),
    }
    # Fresh for a day by their header, but an hour old is past a recheck_after of 30 min.
    run(site, [b + "/"], config=dataclasses.replace(FAST, recheck_after=1800), known=known)
    assert sorted(site.paths()) == ["/", "/a", "/b", "/robots.txt", "/sitemap.xml"]
    site.log.clear()
    fetched, _ = run(site, [b + "/"], known=known)  # the default cap, 12 h
    assert sorted(site.paths()) == ["/b", "/robots.txt", "/sitemap.xml"]
    assert {f.url.removeprefix(b): (f.status, f.fetched_at == hour_ago) for f in fetched} == {
        "/": (304, True),
        "/a": (304, True),
        "/b": (200, False),
    }
    # A single page (--url) is always asked, however fresh.
    site.log.clear()
    fetched, _ = run(site, [], [b + "/"], known=known)
    assert site.paths() == ["/robots.txt", "/"]
    assert [f.status for f in fetched] == [200]
