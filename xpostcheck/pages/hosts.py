"""Per-host scheduling of one crawl: a queue per host, the heap of next-allowed times, and each
host's robots.txt state.

A host (`host:port`) has at most one request in flight. Its next request is due at the *end* of
its previous one plus the largest of: the configured delay, the robots.txt Crawl-delay (capped)
and any Retry-After (a Retry-After longer than the cap parks the host for this crawl: every
further URL of it is skipped). robots.txt is the first task of every host not in the Crawler's
robots cache; an unavailable robots.txt is asked again (RFC 9309) unless the connection was
refused, and then blocks the host.

In: tasks, fetch results and their end times. Out: hosts due for their next request, and the
reason (with its SkipCode) a URL of a host may not be asked. Scheduler thread only; the robots
cache it fills is read by fetch threads (for redirects), never written by them.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from xpostcheck.models import SkipCode
from xpostcheck.net.robots import RobotsPolicy, robots_url
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.polite import Politeness
from xpostcheck.pages.tasks import Result, Site, Task, host_key


@dataclass
class Host:
    key: str
    queue: deque[Task] = field(default_factory=deque)
    robots: RobotsPolicy | None = None
    robots_attempts: int = 0
    blocked: str = ""  # reason every further URL of this host is skipped
    blocked_code: SkipCode = SkipCode.OTHER
    busy: bool = False
    scheduled: bool = False
    next_at: float = 0.0
    gap: float = 0.0
    worker: int = -1  # the fetch thread that served this host last

    def refusal(self, url: str) -> tuple[str, SkipCode] | None:
        """Why `url` may not be asked of this host now (parked, or disallowed by robots.txt)."""
        if self.blocked:
            return self.blocked, self.blocked_code
        if self.robots is not None and not self.robots.allowed(url):
            return "disallowed by robots.txt", SkipCode.ROBOTS
        return None

    def sites(self) -> list[Site]:
        """The crawled sites with a task waiting on this host, each once."""
        sites: dict[int, Site] = {}
        for queued in self.queue:
            if queued.site is not None and queued.site.crawl:
                sites[id(queued.site)] = queued.site
        return list(sites.values())


class Hosts:
    """The hosts of one crawl and the heap of their next-allowed times."""

    def __init__(self, cfg: CrawlConfig, polite: Politeness) -> None:
        self.cfg = cfg
        self.polite = polite
        self.robots = polite.robots  # the scan's cache, per host key; only definite answers
        self.table: dict[str, Host] = {}
        self.heap: list[tuple[float, int, str]] = []
        self.seq = 0

    def find(self, url: str) -> Host | None:
        return self.table.get(host_key(url))

    def get(self, url: str) -> Host:
        """The host of `url`; a new one starts with its robots.txt unless that is cached."""
        key = host_key(url)
        host = self.table.get(key)
        if host is None:
            host = Host(key, gap=self.cfg.delay)
            self.table[key] = host
            cached = self.robots.get(key)
            if cached is not None:
                self.set_robots(host, cached)
            else:
                host.queue.append(Task("robots", robots_url(url)))
        return host

    def enqueue(self, task: Task) -> None:
        host = self.get(task.url)
        host.queue.append(task)
        self.schedule(host)

    def schedule(self, host: Host) -> None:
        """Put an idle host with work on the heap at its next-allowed time."""
        if host.busy or host.scheduled or not host.queue:
            return
        host.scheduled = True
        self.seq += 1
        heapq.heappush(self.heap, (host.next_at, self.seq, host.key))

    def next_due(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def pop_due(self, now: float) -> Host | None:
        """The host whose next request is due first, if one is due at `now`."""
        if not self.heap or self.heap[0][0] > now:
            return None
        _, _, key = heapq.heappop(self.heap)
        host = self.table[key]
        host.scheduled = False
        return host

    def set_robots(self, host: Host, policy: RobotsPolicy) -> None:
        host.robots = policy
        self.polite.set_robots(host.key, policy)
        if policy.crawl_delay is not None:
            host.gap = max(self.cfg.delay, min(policy.crawl_delay, self.cfg.max_crawl_delay))

    def fetched(self, host: Host, result: Result) -> None:
        """A request of `host` ended: its next one is due after the gap (or Retry-After)."""
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

    def robots_done(self, host: Host, task: Task, result: Result) -> RobotsPolicy | None:
        """A robots.txt answer: the policy once it is definite (then cached); None while it is
        asked again, or when the host is blocked for this crawl."""
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
                return None
            host.blocked = f"{policy.note}; host not crawled (RFC 9309)"
            # The host was not crawled at all: as unreachable as a refused connection.
            host.blocked_code = policy.failure or SkipCode.UNREACHABLE
            return None
        self.set_robots(host, policy)
        return policy
