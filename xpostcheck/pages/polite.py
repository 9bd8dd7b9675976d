"""The politeness layer every request of a scan goes through: crawl pages, robots.txt,
sitemaps, feeds, and the redirects the link checks follow.

One `Politeness` per crawl (the Crawler makes it, or is handed a shared one) holds:
- the robots.txt cache per host key (`host:port`), definite answers only, read by the crawler's
  scheduler and fetch threads and by `resolve_redirect`;
- a clock per host: the end time of its last request and its gap (the configured delay, or the
  robots.txt Crawl-delay, capped). `slot(url)` waits for the host's turn, holds the host for
  the request, and records when it ended, so two requests to one host are never closer than
  the gap, whichever part of the scan sends them;
- the answers of `resolve_redirect` (a shortlink's Location), asked once per scan.

Requests themselves go through the scan's Fetcher, so the address policy and the User-Agent are
those of every other request.

In: URLs. Out: redirect targets (None when a URL may not or cannot be asked), timed slots.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from xpostcheck.errors import FetchError
from xpostcheck.models import Fetched, SkipCode
from xpostcheck.net.fetch import BodyStream, Fetcher, stream_body
from xpostcheck.net.robots import RobotsPolicy, fetch_robots
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.tasks import host_key

__all__ = ["Politeness"]


class _HostClock:
    __slots__ = ("gap", "last_end", "lock")

    def __init__(self, gap: float) -> None:
        self.lock = threading.Lock()
        self.last_end: float | None = None
        self.gap = gap


class Politeness:
    """Robots cache, per-host timing and redirect answers for one scan. Thread-safe."""

    def __init__(self, fetcher: Fetcher, cfg: CrawlConfig | None = None) -> None:
        self.fetcher = fetcher
        self.cfg = cfg or CrawlConfig()
        self.robots: dict[str, RobotsPolicy] = {}  # per host key; only definite answers
        self._unavailable: dict[str, RobotsPolicy] = {}  # asked by resolve_redirect, failed
        self._clocks: dict[str, _HostClock] = {}
        self._redirects: dict[str, str | None] = {}
        self._lock = threading.Lock()

    # -- timing -----------------------------------------------------------------------------

    def _clock(self, key: str) -> _HostClock:
        with self._lock:
            clock = self._clocks.get(key)
            if clock is None:
                clock = self._clocks[key] = _HostClock(self.cfg.delay)
                policy = self.robots.get(key)
                if policy is not None:
                    clock.gap = self._gap_for(policy)
            return clock

    def _gap_for(self, policy: RobotsPolicy) -> float:
        if policy.crawl_delay is None:
            return self.cfg.delay
        return max(self.cfg.delay, min(policy.crawl_delay, self.cfg.max_crawl_delay))

    def set_robots(self, key: str, policy: RobotsPolicy) -> None:
        """A definite robots.txt answer for host `key`: cached, and its Crawl-delay applies."""
        self.robots[key] = policy
        self._clock(key).gap = self._gap_for(policy)

    def gap(self, url: str) -> float:
        return self._clock(host_key(url)).gap

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Hold `url`'s host for one request: wait until its gap since the end of the host's
        previous request has passed, and record the end of this one."""
        clock = self._clock(host_key(url))
        with clock.lock:
            if clock.last_end is not None:
                wait = clock.last_end + clock.gap - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                yield
            finally:
                clock.last_end = time.monotonic()

    def hop(self, holding: str, target: str) -> None:
        """Before a redirect hop to `target` inside a request made in `holding`'s slot: wait
        for the target host's turn (the previous hop has just ended). Call `hopped` once the
        request is over."""
        key = host_key(target)
        if key == host_key(holding):
            time.sleep(self._clock(key).gap)
            return
        # Without taking the other host's lock: its holder may be waiting for ours.
        clock = self._clock(key)
        last = clock.last_end
        if last is not None and (wait := last + clock.gap - time.monotonic()) > 0:
            time.sleep(wait)
        clock.last_end = time.monotonic()

    def hopped(self, holding: str, targets: list[str]) -> None:
        """A request made in `holding`'s slot, whose redirects led to `targets`, ended: the
        other hosts' clocks start now (the slot's own host is timed by the slot)."""
        end = time.monotonic()
        for key in {host_key(t) for t in targets} - {host_key(holding)}:
            clock = self._clock(key)  # lock-free, as in hop()
            clock.last_end = max(clock.last_end or 0.0, end)

    # -- robots.txt -------------------------------------------------------------------------

    def robots_for(self, url: str) -> RobotsPolicy:
        """The host's robots.txt policy, fetched (in the host's slot) when not yet known."""
        key = host_key(url)
        policy = self.robots.get(key) or self._unavailable.get(key)
        if policy is not None:
            return policy
        with self.slot(url):
            policy = self.robots.get(key)  # another thread may have read it meanwhile
            if policy is None:
                policy = fetch_robots(self.fetcher, url)
        if policy.state == "unavailable":
            self._unavailable[key] = policy  # disallowed for the rest of this scan
        else:
            self.set_robots(key, policy)
        return policy

    # -- single fetches ---------------------------------------------------------------------

    def fetch(self, url: str, *, html_only: bool = True) -> Fetched:
        """One request outside the crawl (the publisher's own articles, feeds and sitemaps
        named as sources), after robots.txt allows it and in its host's slot. Raises
        FetchError (SkipCode.ROBOTS when robots.txt disallows it)."""
        if not self.robots_for(url).allowed(url):
            raise FetchError(url, "disallowed by robots.txt", SkipCode.ROBOTS)

        def refusal(target: str) -> str | None:  # a redirect's host, by what is known of it
            policy = self.robots.get(host_key(target))
            return "disallowed by robots.txt" if policy and not policy.allowed(target) else None

        with self.slot(url):
            return self.fetcher.fetch(url, html_only=html_only, check_redirect=refusal)

    @contextmanager
    def stream(self, url: str) -> Iterator[BodyStream]:
        """One download read as a stream (a WARC file), after robots.txt allows it, holding
        its host's slot until the stream is closed. Raises FetchError."""
        if not self.robots_for(url).allowed(url):
            raise FetchError(url, "disallowed by robots.txt", SkipCode.ROBOTS)
        with self.slot(url), stream_body(self.fetcher, url) as body:
            yield body

    def api_get(self, url: str, headers: Mapping[str, str]) -> Fetched:
        """One call to an API the user configured (a search provider), in its host's slot,
        through the Fetcher (address policy, User-Agent, deadline, Retry-After) with the
        API's own headers. robots.txt is not asked: it speaks to crawlers, and a self-hosted
        search engine's robots.txt disallows the very queries its API exists to answer.
        Raises FetchError."""
        with self.slot(url):
            return self.fetcher.fetch_api(url, headers)

    # -- link checks ------------------------------------------------------------------------

    def remember_redirect(self, url: str, location: str) -> None:
        """A redirect the crawl followed: `url` answered with `location`."""
        with self._lock:
            self._redirects.setdefault(url, location)

    def resolve_redirect(self, url: str) -> str | None:
        """The Location a shortlink answers with (one request, not followed), or None when the
        URL is not a redirect, robots.txt disallows it, or it cannot be asked. Asked once per
        scan, in the host's slot, through the scan's Fetcher (address policy, User-Agent)."""
        with self._lock:
            if url in self._redirects:
                return self._redirects[url]
        answer: str | None = None
        if url.lower().startswith(("http://", "https://")) and self.robots_for(url).allowed(url):
            with self.slot(url):
                answer = self.fetcher.resolve_redirect(url)
        with self._lock:
            self._redirects[url] = answer
        return answer
