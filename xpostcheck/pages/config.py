"""CrawlConfig: the caps, delays and switches of one crawl (defaults from `options`).

In: nothing. Out: a frozen dataclass read by every crawl module (frontier, hosts, recrawl, work).
"""

from __future__ import annotations

from dataclasses import dataclass

from xpostcheck import options


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
