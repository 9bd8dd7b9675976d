"""Crawler throughput, politeness, memory and re-scan cost, against loopback hosts.

N hosts (one server each on 127.0.0.10, .11, ...; a host is host:port for politeness) x M pages,
every answer delayed by a simulated latency. Each host has a home page linking to its M
articles, a robots.txt and (for the sitemap runs) a sitemap. Articles carry realistic
Last-Modified dates (1 to 120 days ago; the sitemap's lastmod says the same); the home page is
a hub regenerated on every request, its Last-Modified the time of the answer, so it is never
fresh. No page sends Cache-Control or Expires: freshness comes from the Last-Modified heuristic.

Defaults: 16 hosts x 40 pages, delay 0.4 s, latency 40 ms. Real crawls run with the 1 s delay
and 50-100 ms of latency; what shapes the figures is the latency:delay ratio (it sets how far
the real ceiling lies below hosts / delay), so the defaults keep a ratio of 1:10, the
conservative end of the real 1:10 to 1:20, scaled down to keep the run under two minutes. (The
earlier defaults, 8 hosts at 0.25 s and 50 ms, had a ratio of 1:5, which no real crawl has.)
16 hosts rather than 8 because a scheduled scan covers many sites, and because with a 1:10
ratio a crawl of fewer than (delay + latency) / latency = 11 hosts is held below a plain
sequential loop that waits for nobody.

Prints ONE JSON line:
- pages_per_s of the crawler, and the bounds it is held to:
  bound_brief = min(threads / latency, hosts / delay) as the issue states it, and
  bound_polite = min(threads / latency, hosts / (delay + latency)), the real ceiling since the
  delay runs from the END of the previous fetch; share_of_bound_brief and
  share_of_bound_polite are pages_per_s over each (the first scan also asks robots.txt and the
  sitemap of each host, which are not pages: requests_per_s_share_of_bound_polite counts them);
- min_same_host_gap_s: the smallest time between the end of one answer and the arrival of the next
  request on one host (must be >= delay), and min_same_host_arrival_gap_s;
- rescan_share_sitemap: wall time of an unchanged re-scan (sitemap lastmod + conditional requests)
  as a share of the first scan;
- rescan_share_no_sitemap_fresh: the same for sites without sitemaps (pages found by following
  links), run right after the first scan with the default recheck_after: articles still fresh
  by their Last-Modified (10% of their age, at most 12 h) are carried over without a request,
  the stale home page is asked conditionally (304) and its stored links followed;
- rescan_share_no_sitemap: the same re-scan with recheck_after=0, the cost of revalidating
  every page (each asked conditionally, answered 304, its links taken from the store): held
  by the per-host delay, as much as the first scan; rescan_share_no_sitemap_without_links: the
  same when the store has no links (before schema 3: hub pages fetched in full). These re-scans
  read the page states from a real SqliteStore (a temporary file) filled by the first scan;
  *_requests and *_body_bytes count what the servers saw and sent;
- sequential_pages_per_s: a plain `requests` loop over the same pages, one after another;
- peak_rss_mb: peak resident memory of this process (servers included), after also fetching a
  1 GB gzip bomb and a 1 GB brotli bomb through the Fetcher.

Run: /work/venv/bin/python benchmarks/crawl.py [--hosts 16 --pages 40 --delay 0.4 --latency 0.04]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import resource
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import brotli
import requests

from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, PageState, Report, ScanInfo
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages.crawl import CrawlConfig, Crawler
from xpostcheck.store.sqlite import SqliteStore

PARAGRAPH = (
    "<p>The council met on Tuesday to discuss the winter ferry timetable, the harbor dredging "
    "contract and the library's Sunday hours. Residents asked for clearer notice of changes.</p>"
)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing early (as the Fetcher does on a bomb) is expected here


class Host:
    def __init__(self, address: str, pages: int, latency: float) -> None:
        self.log: list[tuple[float, float, str]] = []  # (arrival, end, path)
        self.sent = 0  # body bytes sent
        self.ports: set[int] = set()  # client ports seen: one per connection
        self.lock = threading.Lock()
        host = self
        now = datetime.now(timezone.utc).replace(microsecond=0)
        # Articles last changed 1 to 120 days ago, spread over the range.
        modified = {
            f"/story/{i}": now - timedelta(days=1 + (i * 37) % 120, hours=i % 24)
            for i in range(pages)
        }
        self.last_modified = {
            path: format_datetime(when, usegmt=True) for path, when in modified.items()
        }
        links = "".join(f'<a href="/story/{i}">Story {i}</a> ' for i in range(pages))
        self.bodies: dict[str, bytes] = {
            "/": f"<html><head><title>Home</title></head><body>{links}</body></html>".encode(),
            "/robots.txt": b"User-agent: *\nDisallow: /admin/\n",
        }
        for i in range(pages):
            self.bodies[f"/story/{i}"] = (
                f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>"
                + PARAGRAPH * 20
                + '<a href="/">Home</a></article></body></html>'
            ).encode()
        self.sitemap = (
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(
                f"<url><loc>http://{{base}}/story/{i}</loc>"
                f"<lastmod>{modified[f'/story/{i}'].isoformat()}</lastmod></url>"
                for i in range(pages)
            )
            + "</urlset>"
        )

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 64 * 1024  # headers and body in one segment (no Nagle/delayed-ACK stall)
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                arrival = time.monotonic()
                time.sleep(latency)
                if self.path == "/sitemap.xml" and host.serve_sitemap:
                    body: bytes | None = host.sitemap.replace(
                        "{base}", self.headers["Host"]
                    ).encode()
                else:
                    body = host.bodies.get(self.path)
                etag = f'"{zlib.crc32(body)}"' if body else ""
                modified = host.last_modified.get(self.path)
                if self.path == "/":  # the hub: regenerated for each answer
                    modified = format_datetime(datetime.now(timezone.utc), usegmt=True)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    if modified:
                        self.send_header("Last-Modified", modified)
                    self.end_headers()
                else:
                    self.send_response(200)
                    kind = "text/plain" if self.path.endswith(".txt") else "text/html"
                    if self.path.endswith(".xml"):
                        kind = "application/xml"
                    self.send_header("Content-Type", kind + "; charset=utf-8")
                    self.send_header("ETag", etag)
                    if modified:
                        self.send_header("Last-Modified", modified)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    with host.lock:
                        host.sent += len(body)
                with host.lock:
                    host.log.append((arrival, time.monotonic(), self.path))
                    host.ports.add(self.client_address[1])

        self.serve_sitemap = True
        self.httpd = QuietServer((address, 0), H)
        self.httpd.daemon_threads = True
        self.base = f"http://{address}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def gaps(self) -> tuple[float, float]:
        """(smallest end-to-next-arrival gap, smallest arrival-to-arrival gap)."""
        with self.lock:
            log = sorted(self.log)
        ends = [b[0] - a[1] for a, b in zip(log, log[1:], strict=False)]
        arrivals = [b[0] - a[0] for a, b in zip(log, log[1:], strict=False)]
        return min(ends, default=0.0), min(arrivals, default=0.0)


def timed_crawl(
    hosts: list[Host],
    config: CrawlConfig,
    known: Callable[[str], PageState | None] | None = None,
) -> tuple[float, list[Fetched]]:
    fetcher = Fetcher(
        FetchConfig(allowed_hosts=frozenset(h.base.split("//")[1].split(":")[0] for h in hosts))
    )
    crawler = Crawler(fetcher, config, known=known)
    for h in hosts:
        with h.lock:
            h.log.clear()
            h.ports.clear()
            h.sent = 0
    start = time.monotonic()
    pages = [e for e in crawler.crawl([h.base + "/" for h in hosts]) if isinstance(e, Fetched)]
    elapsed = time.monotonic() - start
    fetcher.close()
    return elapsed, pages


def states(pages: list[Fetched], *, links: bool = True) -> Callable[[str], PageState | None]:
    """Page states as a dict (validators, hash, time and, with `links`, the in-site links)."""
    table = {
        p.url: PageState(
            p.url,
            p.header("ETag"),
            p.header("Last-Modified"),
            p.content_hash,
            p.fetched_at,
            links=p.links if links else (),
        )
        for p in pages
    }
    return table.get


def stored(pages: list[Fetched], path: Path) -> SqliteStore:
    """A real store that recorded `pages` as one finished scan (its page_state is `known`)."""
    store = SqliteStore(path)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    scan_id = store.begin_scan("bench", started)
    for page in pages:
        store.record_page(scan_id, page, is_copy=False)
    store.finish_scan(scan_id, Report(ScanInfo(started, started, 0, len(pages)), copies=()))
    return store


def bombs(address: str) -> dict[str, int]:
    """Serve a 1 GB gzip bomb and a 1 GB brotli bomb; fetch both through the Fetcher."""
    zeros = b"\0" * (1024 * 1024)
    member = zlib.compressobj(9, zlib.DEFLATED, 31)
    one = member.compress(zeros) + member.flush()
    gz = one * 1024  # 1024 gzip members of 1 MB each: 1 GB inflated
    br = brotli.Compressor(quality=5)
    br_parts = [br.process(zeros) for _ in range(1024)]
    br_parts.append(br.finish())
    payloads = {"/gz": (gz, "gzip"), "/br": (b"".join(br_parts), "br")}

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body, encoding = payloads[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

    httpd = QuietServer((address, 0), H)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    base = f"http://{address}:{httpd.server_address[1]}"
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({address})))
    sizes = {}
    for path, (body, _) in payloads.items():
        sizes[f"bomb{path.replace('/', '_')}_wire_bytes"] = len(body)
        with contextlib.suppress(FetchError):
            fetcher.fetch(base + path)
    httpd.shutdown()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.4)
    parser.add_argument("--latency", type=float, default=0.04)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    hosts = [Host(f"127.0.0.{10 + i}", args.pages, args.latency) for i in range(args.hosts)]
    config = CrawlConfig(delay=args.delay, threads=args.threads)

    first_time, first = timed_crawl(hosts, config)
    gap_end, gap_arrival = min(h.gaps()[0] for h in hosts), min(h.gaps()[1] for h in hosts)
    requests_first = sum(len(h.log) for h in hosts)
    connections_first = sum(len(h.ports) for h in hosts)
    tmp = tempfile.TemporaryDirectory(prefix="xpostcheck-bench-")
    store = stored(first, Path(tmp.name) / "sitemap.db")
    rescan_time, rescan = timed_crawl(hosts, config, known=store.page_state)
    store.close()
    requests_rescan = sum(len(h.log) for h in hosts)

    for h in hosts:
        h.serve_sitemap = False
    no_sitemap = CrawlConfig(delay=args.delay, threads=args.threads, sitemaps=False)
    plain_time, plain = timed_crawl(hosts, no_sitemap)
    plain_bytes = sum(h.sent for h in hosts)
    store = stored(plain, Path(tmp.name) / "links.db")
    fresh_time, fresh = timed_crawl(hosts, no_sitemap, known=store.page_state)
    fresh_requests, fresh_bytes = sum(len(h.log) for h in hosts), sum(h.sent for h in hosts)
    revalidate = dataclasses.replace(no_sitemap, recheck_after=0)
    cond_time, cond = timed_crawl(hosts, revalidate, known=store.page_state)
    store.close()
    cond_requests, cond_bytes = sum(len(h.log) for h in hosts), sum(h.sent for h in hosts)
    bare_time, bare = timed_crawl(hosts, revalidate, known=states(plain, links=False))
    bare_requests, bare_bytes = sum(len(h.log) for h in hosts), sum(h.sent for h in hosts)
    tmp.cleanup()

    urls = sorted(p.final_url for p in first)
    session = requests.Session()
    start = time.monotonic()
    for url in urls:
        session.get(url, timeout=10).content  # noqa: B018
    sequential_time = time.monotonic() - start

    bomb_sizes = bombs("127.0.0.9")
    for h in hosts:
        h.httpd.shutdown()

    pages_per_s = len(first) / first_time
    bound_brief = min(args.threads / args.latency, args.hosts / args.delay)
    bound_polite = min(args.threads / args.latency, args.hosts / (args.delay + args.latency))
    print(
        json.dumps(
            {
                "hosts": args.hosts,
                "pages_per_host": args.pages,
                "threads": args.threads,
                "delay_s": args.delay,
                "latency_s": args.latency,
                "pages": len(first),
                "requests_first_scan": requests_first,
                "first_scan_s": round(first_time, 2),
                "pages_per_s": round(pages_per_s, 2),
                "bound_brief_pages_per_s": round(bound_brief, 2),
                "bound_polite_pages_per_s": round(bound_polite, 2),
                "share_of_bound_brief": round(pages_per_s / bound_brief, 3),
                "share_of_bound_polite": round(pages_per_s / bound_polite, 3),
                "requests_per_s_share_of_bound_polite": round(
                    requests_first / first_time / bound_polite, 3
                ),
                "connections_first_scan": connections_first,
                "min_same_host_gap_s": round(gap_end, 3),
                "min_same_host_arrival_gap_s": round(gap_arrival, 3),
                "rescan_s": round(rescan_time, 2),
                "rescan_requests": requests_rescan,
                "rescan_unchanged_pages": sum(p.status == 304 for p in rescan),
                "rescan_share_sitemap": round(rescan_time / first_time, 3),
                "no_sitemap_first_s": round(plain_time, 2),
                "no_sitemap_first_body_bytes": plain_bytes,
                "rescan_share_no_sitemap_fresh": round(fresh_time / plain_time, 3),
                "rescan_no_sitemap_fresh_pages": len(fresh),
                "rescan_no_sitemap_fresh_304s": sum(p.status == 304 for p in fresh),
                "rescan_no_sitemap_fresh_requests": fresh_requests,
                "rescan_no_sitemap_fresh_body_bytes": fresh_bytes,
                "rescan_share_no_sitemap": round(cond_time / plain_time, 3),
                "rescan_no_sitemap_pages": len(cond),
                "rescan_no_sitemap_304s": sum(p.status == 304 for p in cond),
                "rescan_no_sitemap_requests": cond_requests,
                "rescan_no_sitemap_body_bytes": cond_bytes,
                "rescan_share_no_sitemap_without_links": round(bare_time / plain_time, 3),
                "rescan_no_sitemap_without_links_304s": sum(p.status == 304 for p in bare),
                "rescan_no_sitemap_without_links_requests": bare_requests,
                "rescan_no_sitemap_without_links_body_bytes": bare_bytes,
                "sequential_s": round(sequential_time, 2),
                "sequential_pages_per_s": round(len(urls) / sequential_time, 2),
                "crawler_vs_sequential": round(pages_per_s / (len(urls) / sequential_time), 2),
                **bomb_sizes,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
