"""The polite crawler: per-host queues, one scheduler, a pool of fetch threads.

Shape of one crawl (`_Run`, wiring the modules that each own one part):
- A scheduler thread owns every piece of crawl state; nothing else touches it, so it needs no
  locks. `frontier.Frontier` admits URLs (validity, trap rules, caps, seen sets);
  `hosts.Hosts` keeps per-host queues, the heap of next-allowed times and robots.txt state;
  `recrawl.Recrawl` carries pages known to be unchanged over without a request.
- Fetch jobs run in `work.FetchPool` (one `requests.Session` per thread, inside the Fetcher);
  a host goes back to the worker that served it last when that one is idle, so its kept-alive
  connection is reused. A job (`work.Work`) fetches and parses (links, feeds, sitemaps,
  robots.txt) and hands a result back on a queue.
- At most one request is in flight per host. A host's next request is due at the *end* of its
  previous one plus the largest of: the configured delay, the robots.txt Crawl-delay (capped),
  and any Retry-After (a longer Retry-After than the cap parks the host for this crawl).
- With `known` (the store's page states), a page of a crawled site is yielded as unchanged
  (a 304 with its stored hash and links) without a request when its sitemap lastmod is older
  than our last fetch, or when its last response is still fresh by its own caching headers
  (`net.cache.is_fresh`, capped at `recheck_after`); else it is asked conditionally.
- Pages and skips go out through a bounded queue, which `crawl()` yields from in the caller's
  thread; a slow consumer slows the crawl instead of filling memory.

A host, for politeness, is the URL's host *and port* (`host:port`): two ports on one machine
count as two hosts. Two names of one server (www. and bare) also count as two hosts.

In: a Fetcher, a CrawlConfig, sites and single URLs, and optionally `known`. Out: page events
(`Fetched | Skipped`, each Skipped with its SkipCode); the Crawler is a `base.PageSource`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from xpostcheck.models import Fetched, PageState, SkipCode, Skipped
from xpostcheck.net.fetch import Fetcher
from xpostcheck.net.robots import RobotsPolicy
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.frontier import NON_HTML_EXTENSIONS, Frontier
from xpostcheck.pages.hosts import Host, Hosts
from xpostcheck.pages.links import FEED_TYPES, MAX_LINKS_PER_PAGE, extract_links
from xpostcheck.pages.polite import Politeness
from xpostcheck.pages.recrawl import Recrawl, carried
from xpostcheck.pages.tasks import Result, Site, Task
from xpostcheck.pages.work import FetchPool, Work

__all__ = [
    "FEED_TYPES",
    "MAX_LINKS_PER_PAGE",
    "NON_HTML_EXTENSIONS",
    "CrawlConfig",
    "Crawler",
    "extract_links",
]


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
        polite: Politeness | None = None,
        on_queued: Callable[[str], None] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.config = config or CrawlConfig()
        self.known = known
        # Every request (pages, robots.txt, sitemaps, feeds, and the link checks' redirects
        # through `polite.resolve_redirect`) goes through this one politeness layer.
        self.polite = polite or Politeness(fetcher, self.config)
        self._robots: dict[str, RobotsPolicy] = self.polite.robots  # only definite answers
        self.on_queued = on_queued  # told each page URL queued (progress: pages known)

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
    """One crawl: its scheduler thread, wiring frontier, hosts, recrawl and the fetch pool."""

    def __init__(self, crawler: Crawler, sites: Sequence[str], urls: Sequence[str]) -> None:
        cfg = self.cfg = crawler.config
        self.out: queue.Queue[Fetched | Skipped | BaseException | None] = queue.Queue(
            maxsize=max(1, cfg.queue_size)
        )
        self.stopping = threading.Event()
        self.hosts = Hosts(cfg, crawler.polite)
        self.frontier = Frontier(cfg, skip=self._skip, enqueue=self._queued(crawler.on_queued))
        self.recrawl = Recrawl(cfg, crawler.known) if crawler.known is not None else None
        work = Work(crawler.fetcher, cfg, crawler._robots, crawler.polite)
        self.pool = FetchPool(work, cfg.threads, self.stopping)
        self.sites = list(sites)
        self.urls = list(urls)
        self.thread = threading.Thread(target=self._main, name="xpostcheck-crawl", daemon=True)

    def _queued(self, on_queued: Callable[[str], None] | None) -> Callable[[Task], None]:
        if on_queued is None:
            return self.hosts.enqueue

        def enqueue(task: Task) -> None:
            self.hosts.enqueue(task)
            if task.kind == "page":
                on_queued(task.url)

        return enqueue

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.pool.start()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        while True:  # unblock a scheduler waiting to hand over a page
            try:
                self.out.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout=5)
        self.pool.stop()

    def _emit(self, item: Fetched | Skipped | BaseException | None) -> None:
        while not self.stopping.is_set():
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _skip(self, url: str, reason: str, code: SkipCode) -> None:
        self._emit(Skipped(url, reason, code))

    def _main(self) -> None:
        try:
            self._seed()
            self._loop()
        except BaseException as exc:  # hand it to the consumer, never die silently
            self._emit(exc)
        finally:
            self._emit(None)

    def _seed(self) -> None:
        frontier = self.frontier
        for url in self.sites:
            if not frontier.valid(url):
                continue
            site = Site.crawled(url)
            frontier.admit(url, 0, site)
            host = self.hosts.find(url)
            if host is not None and host.robots is not None:  # robots.txt cached: start now
                frontier.start_sitemaps(site, host.robots)
        for url in self.urls:
            if frontier.valid(url):
                frontier.admit(url, 0, Site(start=url, crawl=False))

    # -- the loop ---------------------------------------------------------------------------

    def _loop(self) -> None:
        hosts, pool = self.hosts, self.pool
        while not self.stopping.is_set():
            now = time.monotonic()
            while pool.idle and (host := hosts.pop_due(now)) is not None:
                if not host.busy:  # else its finish schedules it again
                    self._dispatch(host)
            due = hosts.next_due()
            if due is None and pool.inflight == 0:
                return
            timeout = 0.5
            if due is not None and pool.idle:
                timeout = min(timeout, max(0.0, due - time.monotonic()))
            try:
                key, task, result, worker = pool.done.get(timeout=timeout)
            except queue.Empty:
                continue
            pool.finished(worker)
            self._finish(hosts.table[key], task, result)

    def _dispatch(self, host: Host) -> None:
        """Start the host's next task, after resolving the ones that need no request."""
        while host.queue:
            task = host.queue.popleft()
            if task.kind != "robots":
                refusal = host.refusal(task.url)
                if refusal is not None:
                    self._skip(task.url, *refusal)
                    continue
            if task.kind == "page" and self.recrawl is not None:
                task, carried_at = self.recrawl.resolve(task)
                if carried_at is not None:
                    self._carry(task, carried_at)
                    continue
            host.busy = True
            host.worker = self.pool.submit(host.key, task, prefer=host.worker)
            return

    def _carry(self, task: Task, fetched_at: str) -> None:
        """Yield a page known to be unchanged without asking for it; its stored links are
        followed as a fetch's would be."""
        assert task.state is not None
        self.frontier.mark_scanned(task.url)
        follow = task.follows(self.cfg.max_depth)
        self._emit(carried(task, fetched_at, follow=follow))
        if follow:
            self.frontier.admit_links(task.state.links, task.depth + 1, task.site)

    def _finish(self, host: Host, task: Task, result: Result) -> None:
        self.hosts.fetched(host, result)
        if task.kind == "robots":
            policy = self.hosts.robots_done(host, task, result)
            if policy is not None:
                for site in host.sites():
                    self.frontier.start_sitemaps(site, policy)
        elif task.kind == "page":
            self.frontier.page_done(task, result)
        elif task.kind == "sitemap":
            self.frontier.sitemap_done(task, result)
        else:
            self.frontier.admit_links(result.links, task.depth + 1, task.site)
        for event in result.events:
            self._emit(event)
        if host.blocked:  # nothing more will be asked of this host: say so now
            while host.queue:
                self._skip(host.queue.popleft().url, host.blocked, host.blocked_code)
        self.hosts.schedule(host)
