"""Recrawl policy: which pages of a re-scan are taken as unchanged without a request.

With `known` (the store's page states), a page of a crawled site is carried over as unchanged
(a 304 with its stored hash and links) when its sitemap lastmod is older than our last fetch,
or when its last response is still fresh by its own caching headers (RFC 9111, `is_fresh`,
capped at `recheck_after`); else it is asked, conditionally when its validators are known.

In: a page task and the stored PageState of its URL. Out: the task with its state and lastmod,
the time to date a carried page with (or None: ask it), and the carried Fetched event.
Scheduler thread only; no network.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from xpostcheck.models import Fetched, PageState
from xpostcheck.net.cache import is_fresh
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.tasks import Task
from xpostcheck.util.urls import canonicalize


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 time (a bare date too), UTC when it names no zone; None if unreadable."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


class Recrawl:
    """Decides, per page task, whether the stored state makes a request unnecessary."""

    def __init__(self, cfg: CrawlConfig, known: Callable[[str], PageState | None]) -> None:
        self.cfg = cfg
        self.known = known

    def resolve(self, task: Task) -> tuple[Task, str | None]:
        """The task with its stored state and sitemap lastmod, and the time to date it with when
        it is carried over unchanged (None: it must be asked)."""
        lastmod = task.lastmod
        if lastmod is None and task.site is not None and task.site.lastmods:
            lastmod = task.site.lastmods.get(canonicalize(task.url))
        task = dataclasses.replace(task, state=self.known(task.url), lastmod=lastmod)
        if self.unchanged_by_lastmod(task):
            return task, datetime.now(timezone.utc).isoformat(timespec="seconds")
        # Dated by the last real fetch, so that freshness does not renew itself.
        return task, self.fresh_since(task) or None

    def unchanged_by_lastmod(self, task: Task) -> bool:
        """Whether a sitemap lastmod older than our last fetch says the page is unchanged."""
        state = task.state
        if not (self.cfg.trust_sitemap_lastmod and task.lastmod and state):
            return False
        lastmod = parse_iso(task.lastmod)
        if lastmod is not None and len(task.lastmod or "") <= 10:
            lastmod += timedelta(days=1)  # a bare date may mean any time that day
        fetched_at = parse_iso(state.fetched_at if state else None)
        return not (state is None or lastmod is None or fetched_at is None or lastmod > fetched_at)

    def fresh_since(self, task: Task) -> str | None:
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


def carried(task: Task, fetched_at: str, *, follow: bool) -> Fetched:
    """The event of a page known to be unchanged: a 304 with the stored hash (and the stored
    links when links are followed from it), dated `fetched_at`."""
    state = task.state
    assert state is not None
    return Fetched(
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
