"""The plain records of one crawl: a Site being crawled, a Task (one request to make) and the
Result a fetch thread hands back.

In: URLs. Out: mutable per-site counters (owned by the scheduler thread), frozen tasks, and
results that carry page events and what was discovered (links, feeds, sitemap entries, robots).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from xpostcheck.models import Fetched, PageState, Skipped
from xpostcheck.net.robots import RobotsPolicy
from xpostcheck.pages.sitemaps import SitemapEntry

TaskKind = Literal["robots", "page", "sitemap", "feed"]


def bare(host: str) -> str:
    """A host name without its leading `www.`."""
    return host[4:] if host.startswith("www.") else host


def host_key(url: str) -> str:
    """The politeness key of a URL: its host and port (`host:port`), lower-cased."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return (parts.netloc or "").lower()


@dataclass
class Site:
    """A start URL and its counters; a crawled site spans its host with and without `www.`."""

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

    @classmethod
    def crawled(cls, url: str) -> Site:
        """The site to crawl from `url` (a valid http(s) URL)."""
        parts = urlsplit(url)
        return cls(
            start=url,
            crawl=True,
            bare_host=bare((parts.hostname or "").lower().rstrip(".")),
            port=parts.port,
        )

    def contains(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        host = (parts.hostname or "").lower().rstrip(".")
        return bare(host) == self.bare_host and port == self.port


@dataclass(frozen=True)
class Task:
    kind: TaskKind
    url: str
    depth: int = 0
    site: Site | None = field(default=None, compare=False)
    lastmod: str | None = None
    declared: bool = True  # sitemaps: False for the guessed /sitemap.xml
    state: PageState | None = None  # from `known`, looked up by the scheduler thread

    def follows(self, max_depth: int) -> bool:
        """Whether links are followed from this page: a crawled site, above the depth cap."""
        return self.site is not None and self.site.crawl and self.depth < max_depth


@dataclass
class Result:
    """What one task's fetch gave: events to yield and what it discovered."""

    events: list[Fetched | Skipped] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    sitemap_pages: list[SitemapEntry] = field(default_factory=list)
    sitemap_children: list[str] = field(default_factory=list)
    robots: RobotsPolicy | None = None
    retry_after: float | None = None
    final_url: str = ""
    end: float = 0.0  # monotonic time the fetch ended
