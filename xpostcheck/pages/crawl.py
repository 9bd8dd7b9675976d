"""The polite crawler: per-host queues, one scheduler, a pool of fetch threads.

Shape of one crawl:
- A scheduler thread owns every piece of crawl state (host queues, the heap of next-allowed
  times, the seen set, per-site counters). Nothing else touches it, so it needs no locks.
- Fetch jobs run in a pool of worker threads (one `requests.Session` per thread, inside the
  Fetcher); a host goes back to the worker that served it last when that one is idle, so its
  kept-alive connection is reused. A job fetches and parses (links, feeds, sitemaps,
  robots.txt) and hands a result back on a queue.
- At most one request is in flight per host. A host's next request is due at the *end* of its
  previous one plus the largest of: the configured delay, the robots.txt Crawl-delay (capped),
  and any Retry-After (a longer Retry-After than the cap parks the host for this crawl).
- With `known` (the store's page states), a page of a crawled site is yielded as unchanged
  (a 304 with its stored hash and links) without a request when its sitemap lastmod is older
  than our last fetch, or when its last response is still fresh by its own caching headers
  (`fetch.is_fresh`, capped at `recheck_after`); else it is asked conditionally.
- Pages and skips go out through a bounded queue, which `crawl()` yields from in the caller's
  thread; a slow consumer slows the crawl instead of filling memory.

A host, for politeness, is the URL's host *and port* (`host:port`): two ports on one machine
count as two hosts. Two names of one server (www. and bare) also count as two hosts.
"""

from __future__ import annotations

import dataclasses
import heapq
import posixpath
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit

from lxml import etree

from xpostcheck import options
from xpostcheck.errors import FetchError, XPostCheckError
from xpostcheck.models import Fetched, PageState, SkipCode, Skipped
from xpostcheck.net.cache import is_fresh
from xpostcheck.net.fetch import Fetcher, HTTPStatusError
from xpostcheck.net.robots import RobotsPolicy, fetch_robots, robots_url
from xpostcheck.pages.feeds import parse_feed
from xpostcheck.pages.sitemaps import SitemapEntry, parse_sitemap_entries
from xpostcheck.util.urls import canonicalize

# Links to these are not pages; they are listed as skipped without a request.
NON_HTML_EXTENSIONS = frozenset(
    [
        "7z",
        "apk",
        "avi",
        "bin",
        "bmp",
        "bz2",
        "css",
        "csv",
        "dmg",
        "doc",
        "docx",
        "eot",
        "epub",
        "exe",
        "flac",
        "gif",
        "gz",
        "ico",
        "iso",
        "jar",
        "jpeg",
        "jpg",
        "js",
        "json",
        "m4a",
        "m4v",
        "mkv",
        "mov",
        "mp3",
        "mp4",
        "mpeg",
        "mpg",
        "odp",
        "ods",
        "odt",
        "ogg",
        "otf",
        "pdf",
        "png",
        "ppt",
        "pptx",
        "ps",
        "rar",
        "rss",
        "rtf",
        "svg",
        "swf",
        "tar",
        "tgz",
        "tif",
        "tiff",
        "ttf",
        "txt",
        "wav",
        "webm",
        "webp",
        "wma",
        "wmv",
        "woff",
        "woff2",
        "xls",
        "xlsx",
        "xz",
        "zip",
    ]
)
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
MAX_LINKS_PER_PAGE = 5000


@dataclass(frozen=True)
class CrawlConfig:
    max_pages_per_site: int = options.MAX_PAGES
    max_depth: int = options.MAX_DEPTH  # links followed from the start page
    threads: int = options.THREADS
    delay: float = options.DELAY  # per host, from the END of the previous fetch
    max_crawl_delay: float = 30.0  # cap on robots.txt Crawl-delay and on Retry-After waits
    max_url_length: int = 2000
    max_path_repeats: int = 2  # a path segment seen more often than this: a crawler trap
    max_query_params: int = 8
    max_query_variants: int = 50  # distinct query strings of one path per site
    sitemaps: bool = True  # discover pages from robots.txt Sitemap: lines, else /sitemap.xml
    feeds: bool = True  # discover pages from feeds linked with <link rel=alternate>
    max_sitemaps_per_site: int = 20
    max_feeds_per_site: int = 5
    robots_retries: int = 1  # robots.txt 5xx/unreachable: try again this many times
    robots_retry_delay: float = 10.0
    trust_sitemap_lastmod: bool = True  # lastmod before our last fetch: unchanged, no request
    # A crawled page whose last response is still fresh by its own caching headers (capped at
    # this many seconds) is taken as unchanged without a request; 0 asks every page again.
    recheck_after: float = options.RECHECK_AFTER
    queue_size: int = 64  # pages waiting for the consumer before the crawl pauses


TaskKind = Literal["robots", "page", "sitemap", "feed"]


@dataclass
class _Site:
    start: str
    crawl: bool  # follow links; False for single pages
    bare_host: str = ""
    port: int | None = None
    pages: int = 0
    sitemaps: int = 0
    feeds: int = 0
    sitemap_read: bool = False
    query_variants: dict[str, set[str]] = field(default_factory=dict)
    lastmods: dict[str, str] = field(default_factory=dict)  # canonical URL -> sitemap lastmod

    def contains(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        host = (parts.hostname or "").lower().rstrip(".")
        return _bare(host) == self.bare_host and port == self.port


@dataclass(frozen=True)
class _Task:
    kind: TaskKind
    url: str
    depth: int = 0
    site: _Site | None = field(default=None, compare=False)
    lastmod: str | None = None
    declared: bool = True  # sitemaps: False for the guessed /sitemap.xml
    state: PageState | None = None  # from `known`, looked up by the scheduler thread


@dataclass
class _Host:
    key: str
    queue: deque[_Task] = field(default_factory=deque)
    robots: RobotsPolicy | None = None
    robots_attempts: int = 0
    blocked: str = ""  # reason every further URL of this host is skipped
    blocked_code: SkipCode = SkipCode.OTHER
    busy: bool = False
    scheduled: bool = False
    next_at: float = 0.0
    gap: float = 0.0
    worker: int = -1  # the fetch thread that served this host last


@dataclass
class _Result:
    events: list[Fetched | Skipped] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemap_pages: list[SitemapEntry] = field(default_factory=list)
    sitemap_children: list[str] = field(default_factory=list)
    robots: RobotsPolicy | None = None
    retry_after: float | None = None
    final_url: str = ""
    requested: bool = True
    end: float = 0.0


def _bare(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.netloc or "").lower()


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def extract_links(html: str, base_url: str) -> tuple[list[str], list[str], bool]:
    """(absolute link URLs, feed URLs from <link rel=alternate>, nofollow) of an HTML page.

    Tolerates malformed HTML; fragments are dropped, non-http(s) links left out."""
    if not html.strip():
        return [], [], False
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True)
    try:
        root = etree.fromstring(html.encode("utf-8", errors="replace"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return [], [], False
    if root is None:
        return [], [], False
    base = base_url
    links: list[str] = []
    feeds: list[str] = []
    nofollow = False
    for el in root.iter("base", "a", "area", "link", "meta"):
        tag = el.tag
        if tag == "base":
            href = el.get("href")
            if href and base == base_url:
                base = urljoin(base_url, href.strip())
        elif tag == "meta":
            if (el.get("name") or "").lower() in ("robots", "xpostcheck"):
                content = (el.get("content") or "").lower()
                nofollow = nofollow or "nofollow" in content or "none" in content
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            kind = (el.get("type") or "").lower().split(";")[0].strip()
            href = el.get("href")
            if href and "alternate" in rel and kind in FEED_TYPES:
                url = _absolute(base, href)
                if url:
                    feeds.append(url)
        else:
            href = el.get("href")
            if href and len(links) < MAX_LINKS_PER_PAGE:
                url = _absolute(base, href)
                if url:
                    links.append(url)
    return links, feeds, nofollow


def _absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


class Crawler:
    """Crawls sites politely. One Crawler per scan: it caches robots.txt per host.

    Not meant to run two crawls at once; run them one after the other, or use two Crawlers.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        config: CrawlConfig | None = None,
        *,
        known: Callable[[str], PageState | None] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.config = config or CrawlConfig()
        self.known = known
        self._robots: dict[str, RobotsPolicy] = {}  # per host key; only definite answers

    def crawl(self, sites: Sequence[str], urls: Sequence[str] = ()) -> Iterator[Fetched | Skipped]:
        """Yield each HTML page fetched (304-unchanged ones too) and a Skipped for every URL
        not scanned. Sites are crawled within their host up to the caps; `urls` are fetched
        without following links. robots.txt applies to both."""
        run = _Run(self, sites, urls)
        run.start()
        try:
            while True:
                item = run.out.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            run.stop()


class _Run:
    """The state of one crawl; its scheduler runs in its own thread."""

    def __init__(self, crawler: Crawler, sites: Sequence[str], urls: Sequence[str]) -> None:
        self.crawler = crawler
        self.cfg = crawler.config
        self.fetcher = crawler.fetcher
        self.out: queue.Queue[Fetched | Skipped | BaseException | None] = queue.Queue(
            maxsize=max(1, self.cfg.queue_size)
        )
        self.done: queue.Queue[tuple[_Host, _Task, _Result, int]] = queue.Queue()
        self.stopping = threading.Event()
        self.hosts: dict[str, _Host] = {}
        self.heap: list[tuple[float, int, str]] = []
        self.seq = 0
        self.seen: set[str] = set()
        self.scanned: set[str] = set()  # canonical final URLs of pages yielded
        self.inflight = 0
        self.sites = list(sites)
        self.urls = list(urls)
        # Fetch workers, each with its own inbox, so that a host goes back to the thread (and
        # so the Session, and its kept-alive connection) that served it last when it is idle.
        workers = max(1, self.cfg.threads)
        self.inboxes: list[queue.SimpleQueue[tuple[_Host, _Task] | None]] = [
            queue.SimpleQueue() for _ in range(workers)
        ]
        self.idle: set[int] = set(range(workers))
        self.workers = [
            threading.Thread(
                target=self._worker, args=(i,), name=f"xpostcheck-fetch-{i}", daemon=True
            )
            for i in range(workers)
        ]
        self.thread = threading.Thread(target=self._main, name="xpostcheck-crawl", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        while True:  # unblock a scheduler waiting to hand over a page
            try:
                self.out.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout=5)
        for inbox in self.inboxes:  # workers end after their current fetch
            inbox.put(None)

    def _emit(self, item: Fetched | Skipped | BaseException | None) -> None:
        while not self.stopping.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _skip(self, url: str, reason: str, code: SkipCode = SkipCode.LIMIT) -> None:
        self._emit(Skipped(url, reason, code))

    def _main(self) -> None:
        try:
            self._seed()
            self._loop()
        except BaseException as exc:  # hand it to the consumer, never die silently
            self._emit(exc)
        finally:
            self._emit(None)

    # -- seeding and admission --------------------------------------------------------------

    def _seed(self) -> None:
        for url in self.sites:
            if not self._valid(url):
                continue
            parts = urlsplit(url)
            site = _Site(
                start=url,
                crawl=True,
                bare_host=_bare((parts.hostname or "").lower().rstrip(".")),
                port=parts.port,
            )
            self._admit(url, 0, site)
            host = self.hosts.get(_host_key(url))
            if host is not None and host.robots is not None:  # robots.txt cached: start now
                self._start_sitemaps(site, host.robots)
        for url in self.urls:
            if self._valid(url):
                self._admit(url, 0, _Site(start=url, crawl=False))

    def _valid(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            self._skip(url, "not a valid URL")
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._skip(url, "not an http(s) URL; write it with http:// or https://")
            return False
        return True

    def _trap(self, url: str, site: _Site) -> str | None:
        cfg = self.cfg
        if len(url) > cfg.max_url_length:
            return f"URL longer than {cfg.max_url_length} characters (crawler trap cap)"
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if segments and max(segments.count(s) for s in set(segments)) > cfg.max_path_repeats:
            return f"a path segment repeats more than {cfg.max_path_repeats} times (crawler trap)"
        if parts.query:
            params = parse_qsl(parts.query, keep_blank_values=True)
            if len(params) > cfg.max_query_params:
                return f"more than {cfg.max_query_params} query parameters (crawler trap cap)"
            variants = site.query_variants.setdefault(parts.path, set())
            if parts.query not in variants:
                if len(variants) >= cfg.max_query_variants:
                    return (
                        f"more than {cfg.max_query_variants} query variants of {parts.path} "
                        "(crawler trap cap)"
                    )
                variants.add(parts.query)
        return None

    def _admit(self, url: str, depth: int, site: _Site, lastmod: str | None = None) -> None:
        canon = canonicalize(url)
        if canon in self.seen:
            return
        self.seen.add(canon)
        if site.crawl:
            trap = self._trap(canon, site)
            if trap:
                self._skip(url, trap)
                return
            if depth > self.cfg.max_depth:
                self._skip(url, f"deeper than the depth cap ({self.cfg.max_depth} links)")
                return
            ext = posixpath.splitext(urlsplit(canon).path)[1].lstrip(".").lower()
            if ext in NON_HTML_EXTENSIONS:
                self._skip(url, f"not HTML (.{ext} link)", SkipCode.NOT_HTML)
                return
            if site.pages >= self.cfg.max_pages_per_site:
                self._skip(url, f"page cap of {self.cfg.max_pages_per_site} per site reached")
                return
            site.pages += 1
        self._enqueue(_Task("page", url, depth, site, lastmod))

    def _host(self, url: str) -> _Host:
        key = _host_key(url)
        host = self.hosts.get(key)
        if host is None:
            host = _Host(key, gap=self.cfg.delay)
            self.hosts[key] = host
            cached = self.crawler._robots.get(key)
            if cached is not None:
                self._set_robots(host, cached)
            else:
                host.queue.append(_Task("robots", robots_url(url)))
        return host

    def _enqueue(self, task: _Task, *, front: bool = False) -> None:
        host = self._host(task.url)
        if front:
            host.queue.appendleft(task)
        else:
            host.queue.append(task)
        self._schedule(host)

    def _schedule(self, host: _Host) -> None:
        if host.busy or host.scheduled or not host.queue:
            return
        host.scheduled = True
        self.seq += 1
        heapq.heappush(self.heap, (host.next_at, self.seq, host.key))

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self.stopping.is_set():
            now = time.monotonic()
            while self.heap and self.heap[0][0] <= now and self.idle:
                _, _, key = heapq.heappop(self.heap)
                host = self.hosts[key]
                host.scheduled = False
                if not host.busy:  # else its finish schedules it again
                    self._dispatch(host)
            if not self.heap and self.inflight == 0:
                return
            timeout = 0.5
            if self.heap and self.idle:
                timeout = min(timeout, max(0.0, self.heap[0][0] - time.monotonic()))
            try:
                host, task, result, worker = self.done.get(timeout=timeout)
            except queue.Empty:
                continue
            self.inflight -= 1
            self.idle.add(worker)
            self._finish(host, task, result)

    def _dispatch(self, host: _Host) -> None:
        """Start the host's next task, after resolving the ones that need no request."""
        while host.queue:
            task = host.queue.popleft()
            if task.kind != "robots":
                if host.blocked:
                    self._skip(task.url, host.blocked, host.blocked_code)
                    continue
                if host.robots is not None and not host.robots.allowed(task.url):
                    self._skip(task.url, "disallowed by robots.txt", SkipCode.ROBOTS)
                    continue
            if task.kind == "page" and self.crawler.known is not None:
                lastmod = task.lastmod
                if lastmod is None and task.site is not None and task.site.lastmods:
                    lastmod = task.site.lastmods.get(canonicalize(task.url))
                task = dataclasses.replace(
                    task, state=self.crawler.known(task.url), lastmod=lastmod
                )
                if self._unchanged_by_lastmod(task):
                    self._carry(task, datetime.now(timezone.utc).isoformat(timespec="seconds"))
                    continue
                fresh_since = self._fresh_since(task)
                if fresh_since:  # dated by the last real fetch, so freshness does not renew
                    self._carry(task, fresh_since)
                    continue
            host.busy = True
            self.inflight += 1
            worker = host.worker if host.worker in self.idle else min(self.idle)
            self.idle.discard(worker)
            host.worker = worker
            self.inboxes[worker].put((host, task))
            return

    def _unchanged_by_lastmod(self, task: _Task) -> bool:
        """Whether a sitemap lastmod older than our last fetch says the page is unchanged."""
        state = task.state
        if not (self.cfg.trust_sitemap_lastmod and task.lastmod and state):
            return False
        lastmod = _parse_iso(task.lastmod)
        if lastmod is not None and len(task.lastmod or "") <= 10:
            lastmod += timedelta(days=1)  # a bare date may mean any time that day
        fetched_at = _parse_iso(state.fetched_at if state else None)
        return not (state is None or lastmod is None or fetched_at is None or lastmod > fetched_at)

    def _fresh_since(self, task: _Task) -> str | None:
        """The time of a crawled page's last real fetch when that response is still fresh by
        its own caching headers (capped at `recheck_after`), so that it need not be asked
        again; else None.

        Only pages of crawled sites (a page named with --url is always asked), and only when
        carrying the page over keeps discovery: its links are stored, links are not followed
        from it, or a sitemap lists the site's pages (the same test as for a conditional
        request, whose 304 carries no links either)."""
        state, site = task.state, task.site
        if state is None or site is None or not site.crawl or self.cfg.recheck_after <= 0:
            return None
        follow = task.depth < self.cfg.max_depth
        if follow and not state.links and not site.sitemap_read:
            return None
        fresh = is_fresh(
            fetched_at=state.fetched_at,
            cache_control=state.cache_control,
            expires=state.expires,
            last_modified=state.last_modified,
            now=datetime.now(timezone.utc),
            cap=self.cfg.recheck_after,
        )
        return state.fetched_at if fresh else None

    def _carry(self, task: _Task, fetched_at: str) -> None:
        """Yield a page known to be unchanged without asking for it: a 304 with the stored
        hash and links, dated `fetched_at`; its stored links are followed as a fetch's would be."""
        state = task.state
        assert state is not None
        self.scanned.add(canonicalize(task.url))
        site = task.site
        follow = site is not None and site.crawl and task.depth < self.cfg.max_depth
        self._emit(
            Fetched(
                url=task.url,
                final_url=task.url,
                status=304,
                headers=(),
                body=b"",
                text="",
                encoding="",
                fetched_at=fetched_at,
                content_hash=state.content_hash or "",
                links=state.links if follow else (),
            )
        )
        if follow and site is not None:
            for url in state.links:
                if site.contains(url):
                    self._admit(url, task.depth + 1, site)

    def _worker(self, index: int) -> None:
        """A fetch thread: runs the jobs of its inbox and reports each on the done queue."""
        inbox = self.inboxes[index]
        while True:
            job = inbox.get()
            if job is None or self.stopping.is_set():
                return
            host, task = job
            try:
                result = self._work(task)
            except Exception as exc:  # one bad page never stops the crawl
                result = _Result(
                    events=[Skipped(task.url, f"internal error: {exc!r}", SkipCode.OTHER)]
                )
            result.end = time.monotonic()
            self.done.put((host, task, result, index))

    # -- work done in pool threads (no crawl state touched) ---------------------------------

    def _work(self, task: _Task) -> _Result:
        if task.kind == "robots":
            return _Result(robots=fetch_robots(self.fetcher, task.url))
        if task.kind == "sitemap":
            return self._work_sitemap(task)
        if task.kind == "feed":
            return self._work_feed(task)
        return self._work_page(task)

    def _work_page(self, task: _Task) -> _Result:
        site = task.site
        assert site is not None
        follow = site.crawl and task.depth < self.cfg.max_depth
        state = task.state
        # A 304 carries no links: ask conditionally only when the links are not needed, when
        # the store kept the page's links from the last full fetch, or when a sitemap already
        # lists the site's pages.
        conditional = state is not None and (not follow or bool(state.links) or site.sitemap_read)
        try:
            got = self.fetcher.fetch(
                task.url,
                etag=state.etag if conditional and state else None,
                last_modified=state.last_modified if conditional and state else None,
                check_redirect=self._robots_refusal,
            )
        except HTTPStatusError as exc:
            return _Result(
                events=[Skipped(task.url, exc.reason, exc.code)], retry_after=exc.retry_after
            )
        except FetchError as exc:
            return _Result(events=[Skipped(task.url, exc.reason, exc.code)])
        result = _Result(final_url=got.final_url)
        if got.unchanged:
            if state and state.content_hash:
                got = dataclasses.replace(got, content_hash=state.content_hash)
            if follow and state and state.links:
                result.links = list(state.links)
                got = dataclasses.replace(got, links=state.links)
        elif follow and site.contains(got.final_url):
            links, feeds, nofollow = extract_links(got.text, got.final_url)
            if not nofollow:
                result.links = links
                inside = dict.fromkeys(u for u in links if site.contains(u))
                got = dataclasses.replace(got, links=tuple(inside))
            if self.cfg.feeds:
                result.feeds = feeds
        result.events.append(got)
        return result

    def _robots_refusal(self, url: str) -> str | None:
        """For redirects: 'disallowed by robots.txt' when the target's host has rules (already
        read in this crawl) that disallow it."""
        policy = self.crawler._robots.get(_host_key(url))
        if policy is not None and not policy.allowed(url):
            return "disallowed by robots.txt"
        return None

    def _work_sitemap(self, task: _Task) -> _Result:
        try:
            got = self.fetcher.fetch(task.url, html_only=False)
            pages, children = parse_sitemap_entries(got.body, got.final_url)
        except FetchError as exc:
            if not task.declared:  # a guessed /sitemap.xml that is not there is no news
                return _Result(requested=True)
            return _Result(events=[Skipped(task.url, f"sitemap not read: {exc.reason}", exc.code)])
        except XPostCheckError as exc:
            if not task.declared:
                return _Result()
            return _Result(
                events=[Skipped(task.url, f"sitemap not read: {_message(exc)}", SkipCode.OTHER)]
            )
        return _Result(sitemap_pages=pages, sitemap_children=children)

    def _work_feed(self, task: _Task) -> _Result:
        try:
            got = self.fetcher.fetch(task.url, html_only=False)
            entries = parse_feed(got.body, got.final_url)
        except FetchError as exc:
            return _Result(events=[Skipped(task.url, f"feed not read: {exc.reason}", exc.code)])
        except XPostCheckError as exc:
            return _Result(
                events=[Skipped(task.url, f"feed not read: {_message(exc)}", SkipCode.OTHER)]
            )
        return _Result(links=[e.url for e in entries])

    # -- results (scheduler thread) ---------------------------------------------------------

    def _finish(self, host: _Host, task: _Task, result: _Result) -> None:
        host.busy = False
        gap = host.gap
        if result.retry_after is not None:
            if result.retry_after > self.cfg.max_crawl_delay:
                host.blocked_code = SkipCode.HTTP_ERROR
                host.blocked = (
                    f"host asked to wait {result.retry_after:.0f} s (Retry-After), longer than "
                    f"the {self.cfg.max_crawl_delay:g} s cap; try again later"
                )
            gap = max(gap, min(result.retry_after, self.cfg.max_crawl_delay))
        host.next_at = result.end + gap
        if task.kind == "robots":
            self._robots_done(host, task, result)
        elif task.kind == "page":
            self._page_done(task, result)
        elif task.kind == "sitemap":
            self._sitemap_done(task, result)
        else:
            for url in result.links:
                if task.site is not None and task.site.contains(url):
                    self._admit(url, task.depth + 1, task.site)
        for event in result.events:
            self._emit(event)
        if host.blocked:  # nothing more will be asked of this host: say so now
            while host.queue:
                self._skip(host.queue.popleft().url, host.blocked, host.blocked_code)
        self._schedule(host)

    def _set_robots(self, host: _Host, policy: RobotsPolicy) -> None:
        host.robots = policy
        if policy.crawl_delay is not None:
            host.gap = max(self.cfg.delay, min(policy.crawl_delay, self.cfg.max_crawl_delay))

    def _robots_done(self, host: _Host, task: _Task, result: _Result) -> None:
        policy = result.robots
        assert policy is not None
        host.robots_attempts += 1
        if policy.state == "unavailable":
            # A refused connection means no server listens there: asking again in a few
            # seconds only makes a scan of a dead site wait. Errors and timeouts are retried.
            refused = policy.failure is SkipCode.REFUSED
            if host.robots_attempts <= self.cfg.robots_retries and not refused:
                host.queue.appendleft(task)  # RFC 9309: disallow for now, try again later
                host.next_at = result.end + max(host.gap, self.cfg.robots_retry_delay)
                return
            host.blocked = f"{policy.note}; host not crawled (RFC 9309)"
            # The host was not crawled at all: as unreachable as a refused connection.
            host.blocked_code = policy.failure or SkipCode.UNREACHABLE
            return
        self.crawler._robots[host.key] = policy
        self._set_robots(host, policy)
        for site in self._sites_on(host):
            self._start_sitemaps(site, policy)

    def _start_sitemaps(self, site: _Site, policy: RobotsPolicy) -> None:
        """Sitemaps of a site: robots.txt Sitemap: lines on the site, else /sitemap.xml."""
        if not self.cfg.sitemaps:
            return
        declared = [u for u in policy.sitemaps if site.contains(u)]
        for url in declared:
            self._add_sitemap(url, site, declared=True)
        if not declared:
            self._add_sitemap(urljoin(site.start, "/sitemap.xml"), site, declared=False)

    def _sites_on(self, host: _Host) -> list[_Site]:
        sites: dict[int, _Site] = {}
        for queued in host.queue:
            if queued.site is not None and queued.site.crawl:
                sites[id(queued.site)] = queued.site
        return list(sites.values())

    def _add_sitemap(self, url: str, site: _Site, *, declared: bool) -> None:
        canon = canonicalize(url)
        if canon in self.seen:
            return
        self.seen.add(canon)
        if site.sitemaps >= self.cfg.max_sitemaps_per_site:
            self._skip(url, f"sitemap cap of {self.cfg.max_sitemaps_per_site} per site reached")
            return
        site.sitemaps += 1
        self._enqueue(_Task("sitemap", url, 0, site, declared=declared))

    def _page_done(self, task: _Task, result: _Result) -> None:
        site = task.site
        assert site is not None
        if result.final_url:
            final = canonicalize(result.final_url)
            if final in self.scanned and final != canonicalize(task.url):
                result.events = [
                    Skipped(
                        task.url,
                        f"redirects to {result.final_url}, already scanned",
                        SkipCode.DUPLICATE,
                    )
                ]
                return
            self.scanned.add(final)
            self.seen.add(final)
        for url in result.links:
            if site.contains(url):
                self._admit(url, task.depth + 1, site)
        for url in result.feeds:
            if not site.contains(url) or site.feeds >= self.cfg.max_feeds_per_site:
                continue
            canon = canonicalize(url)
            if canon in self.seen:
                continue
            self.seen.add(canon)
            site.feeds += 1
            self._enqueue(_Task("feed", url, task.depth, site))

    def _sitemap_done(self, task: _Task, result: _Result) -> None:
        site = task.site
        assert site is not None
        if result.sitemap_pages or result.sitemap_children:
            site.sitemap_read = True
        for child in result.sitemap_children:
            if site.contains(child):
                self._add_sitemap(child, site, declared=True)
        for entry in result.sitemap_pages:
            if entry.lastmod:  # also for pages already queued from links
                site.lastmods[canonicalize(entry.url)] = entry.lastmod
            if site.contains(entry.url):
                self._admit(entry.url, 1, site, entry.lastmod)


def _message(exc: XPostCheckError) -> str:
    """The message of an error without its 'where: ' prefix (the Skipped carries the URL)."""
    text = str(exc)
    prefix = f"{exc.where}: " if exc.where else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text
