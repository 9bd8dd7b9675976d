"""The fetch work of a crawl and the pool of threads that does it.

`Work` turns one task into a Result: fetch robots.txt, a page (conditionally when its stored
validators allow), a sitemap or a feed, and parse what came back (links, feeds, sitemap
entries). It touches no crawl state; the only shared thing it reads is the robots cache, to
refuse a redirect into a disallowed path.

`FetchPool` runs Work in worker threads, each with its own inbox, so that a host goes back to
the thread (and so the `requests.Session`, and its kept-alive connection) that served it last
when that one is idle. Results come back on `done` with the host key and the end time.

In: tasks (from the scheduler thread). Out: (host key, task, Result, worker) on `done`.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Mapping

from xpostcheck.errors import FetchError, XPostCheckError
from xpostcheck.models import SkipCode, Skipped
from xpostcheck.net.fetch import Fetcher, HTTPStatusError
from xpostcheck.net.robots import RobotsPolicy, fetch_robots
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.feeds import parse_feed
from xpostcheck.pages.links import extract_links
from xpostcheck.pages.polite import Politeness
from xpostcheck.pages.sitemaps import parse_sitemap_entries
from xpostcheck.pages.tasks import Result, Task, host_key


class Work:
    """What a fetch thread does with one task. Safe to call from several threads at once."""

    def __init__(
        self,
        fetcher: Fetcher,
        cfg: CrawlConfig,
        robots: Mapping[str, RobotsPolicy],
        polite: Politeness | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.cfg = cfg
        self.robots = robots  # read only here
        self.polite = polite

    def __call__(self, task: Task) -> Result:
        """The task's request, in its host's slot of the politeness layer (the scheduler has
        timed it already; the slot keeps other parts of the scan, such as link checks, from
        asking the same host too soon before or after)."""
        if self.polite is None:
            return self._do(task)
        with self.polite.slot(task.url):
            return self._do(task)

    def _do(self, task: Task) -> Result:
        if task.kind == "robots":
            return Result(robots=fetch_robots(self.fetcher, task.url))
        if task.kind == "sitemap":
            return self.sitemap(task)
        if task.kind == "feed":
            return self.feed(task)
        return self.page(task)

    def page(self, task: Task) -> Result:
        site = task.site
        assert site is not None
        follow = task.follows(self.cfg.max_depth)
        state = task.state
        # A 304 carries no links: ask conditionally only when the links are not needed, when
        # the store kept the page's links from the last full fetch, or when a sitemap already
        # lists the site's pages.
        conditional = state is not None and (not follow or bool(state.links) or site.sitemap_read)
        hops: list[str] = []
        try:
            got = self.fetcher.fetch(
                task.url,
                etag=state.etag if conditional and state else None,
                last_modified=state.last_modified if conditional and state else None,
                check_redirect=self._redirect_check(task.url, hops),
            )
        except HTTPStatusError as exc:
            return Result(
                events=[Skipped(task.url, exc.reason, exc.code)], retry_after=exc.retry_after
            )
        except FetchError as exc:
            return Result(events=[Skipped(task.url, exc.reason, exc.code)])
        finally:
            if self.polite is not None:
                self.polite.hopped(task.url, hops)
        result = Result(final_url=got.final_url)
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

    def _redirect_check(self, url: str, hops: list[str]) -> Callable[[str], str | None]:
        """robots_refusal for each redirect hop (collected in `hops`), which also waits for the
        hop's host's turn and tells the politeness layer the answer, so that the link checks
        never ask again for a redirect the crawl has already followed."""
        if self.polite is None:
            return self.robots_refusal
        polite = self.polite

        def check(target: str) -> str | None:
            polite.remember_redirect(hops[-1] if hops else url, target)
            refusal = self.robots_refusal(target)
            if refusal is None:  # each hop is a request: it waits for its host's turn
                polite.hop(url, target)
                hops.append(target)
            return refusal

        return check

    def robots_refusal(self, url: str) -> str | None:
        """For redirects: 'disallowed by robots.txt' when the target's host has rules (already
        read in this crawl) that disallow it."""
        policy = self.robots.get(host_key(url))
        if policy is not None and not policy.allowed(url):
            return "disallowed by robots.txt"
        return None

    def sitemap(self, task: Task) -> Result:
        try:
            got = self.fetcher.fetch(task.url, html_only=False)
            pages, children = parse_sitemap_entries(got.body, got.final_url)
        except FetchError as exc:
            if not task.declared:  # a guessed /sitemap.xml that is not there is no news
                return Result()
            return Result(events=[Skipped(task.url, f"sitemap not read: {exc.reason}", exc.code)])
        except XPostCheckError as exc:
            if not task.declared:
                return Result()
            return Result(
                events=[Skipped(task.url, f"sitemap not read: {_message(exc)}", SkipCode.OTHER)]
            )
        return Result(sitemap_pages=pages, sitemap_children=children)

    def feed(self, task: Task) -> Result:
        try:
            got = self.fetcher.fetch(task.url, html_only=False)
            entries = parse_feed(got.body, got.final_url)
        except FetchError as exc:
            return Result(events=[Skipped(task.url, f"feed not read: {exc.reason}", exc.code)])
        except XPostCheckError as exc:
            return Result(
                events=[Skipped(task.url, f"feed not read: {_message(exc)}", SkipCode.OTHER)]
            )
        return Result(links=[e.url for e in entries])


def _message(exc: XPostCheckError) -> str:
    """The message of an error without its 'where: ' prefix (the Skipped carries the URL)."""
    text = str(exc)
    prefix = f"{exc.where}: " if exc.where else ""
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text


Job = tuple[str, Task]
Done = tuple[str, Task, Result, int]


class FetchPool:
    """Worker threads running `work`; `submit` and `finished` are for the scheduler thread."""

    def __init__(
        self, work: Callable[[Task], Result], threads: int, stopping: threading.Event
    ) -> None:
        self.work = work
        self.stopping = stopping
        count = max(1, threads)
        self.inboxes: list[queue.SimpleQueue[Job | None]] = [
            queue.SimpleQueue() for _ in range(count)
        ]
        self.idle: set[int] = set(range(count))
        self.inflight = 0
        self.done: queue.Queue[Done] = queue.Queue()
        self.threads = [
            threading.Thread(
                target=self._serve, args=(i,), name=f"xpostcheck-fetch-{i}", daemon=True
            )
            for i in range(count)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """Workers end after their current fetch."""
        for inbox in self.inboxes:
            inbox.put(None)

    def submit(self, key: str, task: Task, *, prefer: int) -> int:
        """Hand `task` of host `key` to an idle worker, `prefer` when it is idle; its index."""
        self.inflight += 1
        worker = prefer if prefer in self.idle else min(self.idle)
        self.idle.discard(worker)
        self.inboxes[worker].put((key, task))
        return worker

    def finished(self, worker: int) -> None:
        """A result of `worker` was taken from `done`: the worker is idle again."""
        self.inflight -= 1
        self.idle.add(worker)

    def _serve(self, index: int) -> None:
        """A fetch thread: runs the jobs of its inbox and reports each on the done queue."""
        inbox = self.inboxes[index]
        while True:
            job = inbox.get()
            if job is None or self.stopping.is_set():
                return
            key, task = job
            try:
                result = self.work(task)
            except Exception as exc:  # one bad page never stops the crawl
                result = Result(
                    events=[Skipped(task.url, f"internal error: {exc!r}", SkipCode.OTHER)]
                )
            result.end = time.monotonic()
            self.done.put((key, task, result, index))
