"""Where pages come from: the PageSource protocol, the polite crawler, feeds and sitemaps.

In: sites (to crawl) and single URLs (to read alone). Out: a stream of page events, `Fetched`
pages and `Skipped` URLs (each with its SkipCode).

`PageSource` (pages/base.py) is the seam: anything with `crawl(sites, urls) -> Iterator[Fetched
| Skipped]`. The pipeline asks a PageSource for pages and does not care how they were found.
`Crawler` (pages/crawl.py) implements it; a WARC reader and discovered sites are meant to.

Modules:
- base: the PageSource protocol and the PageEvent type.
- crawl: Crawler and the run loop of one crawl, wiring the modules below (public API:
  `Crawler`, `CrawlConfig`, `extract_links`, `MAX_LINKS_PER_PAGE`).
- config: CrawlConfig, the caps, delays and switches of a crawl.
- tasks: the crawl's plain records (Site, Task, Result) and host keys.
- frontier: admission (URL validity, crawler-trap rules, caps, seen and scanned sets).
- hosts: per-host queues and timing (delay, Crawl-delay, Retry-After) and robots.txt state.
- recrawl: re-scan policy (sitemap lastmod, RFC 9111 freshness, carrying unchanged pages over).
- work: what fetch threads do (robots.txt, page, sitemap, feed) and the thread pool.
- links: the links, feed links and nofollow of an HTML page.
- feeds: RSS/Atom parsing; sitemaps: sitemap parsing; xmlsafe: their shared byte guards
  (sniffing, bounded gunzip, the XML-entity refusal). Also used by the sources loader.
"""

from xpostcheck.pages.base import PageEvent, PageSource

__all__ = ["PageEvent", "PageSource"]
