"""Admission of one crawl: which URLs become tasks and which are skipped, and why.

It owns the seen set (every canonical URL admitted or refused once), the scanned set (canonical
final URLs of pages yielded) and the per-site counters: URL validity, crawler-trap rules, depth,
page, sitemap and feed caps, links inside the site only.

In: URLs found (start URLs, links, sitemap and feed entries) and finished page and sitemap
results. Out: tasks, through `enqueue`, and skips (URL, reason, SkipCode), through `skip`.
Runs in the scheduler thread only; touches no host state and no network.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urljoin, urlsplit

from xpostcheck.models import SkipCode, Skipped
from xpostcheck.net.robots import RobotsPolicy
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.tasks import Result, Site, Task
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
SkipFn = Callable[[str, str, SkipCode], None]


class Frontier:
    """What may be asked, for one crawl."""

    def __init__(self, cfg: CrawlConfig, *, skip: SkipFn, enqueue: Callable[[Task], None]) -> None:
        self.cfg = cfg
        self.skip = skip
        self.enqueue = enqueue
        self.seen: set[str] = set()
        self.scanned: set[str] = set()  # canonical final URLs of pages yielded

    def valid(self, url: str) -> bool:
        """Whether `url` is an http(s) URL with a host; skips it when not."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            self.skip(url, "not a valid URL", SkipCode.LIMIT)
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.skip(url, "not an http(s) URL; write it with http:// or https://", SkipCode.LIMIT)
            return False
        return True

    def trap(self, url: str, site: Site) -> str | None:
        """Why `url` looks like a crawler trap (length, repeated segments, query caps), if it
        does; counts its query variant otherwise."""
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

    def admit(self, url: str, depth: int, site: Site, lastmod: str | None = None) -> None:
        """A page URL: queued once, unless a cap or trap rule of a crawled site refuses it."""
        canon = canonicalize(url)
        if canon in self.seen:
            return
        self.seen.add(canon)
        if site.crawl:
            trap = self.trap(canon, site)
            if trap:
                self.skip(url, trap, SkipCode.LIMIT)
                return
            if depth > self.cfg.max_depth:
                self.skip(
                    url, f"deeper than the depth cap ({self.cfg.max_depth} links)", SkipCode.LIMIT
                )
                return
            ext = posixpath.splitext(urlsplit(canon).path)[1].lstrip(".").lower()
            if ext in NON_HTML_EXTENSIONS:
                self.skip(url, f"not HTML (.{ext} link)", SkipCode.NOT_HTML)
                return
            if site.pages >= self.cfg.max_pages_per_site:
                self.skip(
                    url,
                    f"page cap of {self.cfg.max_pages_per_site} per site reached",
                    SkipCode.LIMIT,
                )
                return
            site.pages += 1
        self.enqueue(Task("page", url, depth, site, lastmod))

    def admit_links(self, urls: Iterable[str], depth: int, site: Site | None) -> None:
        """The links of a page (or feed) that lie inside its site, at `depth`."""
        if site is None:
            return
        for url in urls:
            if site.contains(url):
                self.admit(url, depth, site)

    def start_sitemaps(self, site: Site, policy: RobotsPolicy) -> None:
        """Sitemaps of a site: robots.txt Sitemap: lines on the site, else /sitemap.xml."""
        if not self.cfg.sitemaps:
            return
        declared = [u for u in policy.sitemaps if site.contains(u)]
        for url in declared:
            self.add_sitemap(url, site, declared=True)
        if not declared:
            self.add_sitemap(urljoin(site.start, "/sitemap.xml"), site, declared=False)

    def add_sitemap(self, url: str, site: Site, *, declared: bool) -> None:
        canon = canonicalize(url)
        if canon in self.seen:
            return
        self.seen.add(canon)
        if site.sitemaps >= self.cfg.max_sitemaps_per_site:
            self.skip(
                url,
                f"sitemap cap of {self.cfg.max_sitemaps_per_site} per site reached",
                SkipCode.LIMIT,
            )
            return
        site.sitemaps += 1
        self.enqueue(Task("sitemap", url, 0, site, declared=declared))

    def mark_scanned(self, url: str) -> None:
        """A page yielded without a request (carried over as unchanged)."""
        self.scanned.add(canonicalize(url))

    def page_done(self, task: Task, result: Result) -> None:
        """A fetched page: a redirect to a page already scanned becomes a DUPLICATE skip;
        else its links and feeds inside the site are admitted."""
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
        self.admit_links(result.links, task.depth + 1, site)
        for url in result.feeds:
            if not site.contains(url) or site.feeds >= self.cfg.max_feeds_per_site:
                continue
            canon = canonicalize(url)
            if canon in self.seen:
                continue
            self.seen.add(canon)
            site.feeds += 1
            self.enqueue(Task("feed", url, task.depth, site))

    def sitemap_done(self, task: Task, result: Result) -> None:
        """A read sitemap: child sitemaps and pages inside the site are admitted (pages at
        depth 1), and every lastmod is kept for the recrawl policy."""
        site = task.site
        assert site is not None
        if result.sitemap_pages or result.sitemap_children:
            site.sitemap_read = True
        for child in result.sitemap_children:
            if site.contains(child):
                self.add_sitemap(child, site, declared=True)
        for entry in result.sitemap_pages:
            if entry.lastmod:  # also for pages already queued from links
                site.lastmods[canonicalize(entry.url)] = entry.lastmod
            if site.contains(entry.url):
                self.admit(entry.url, 1, site, entry.lastmod)
