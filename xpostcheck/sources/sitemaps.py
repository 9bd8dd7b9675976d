"""The sitemap reader: a sitemap or sitemap index, plain or gzip (a file, or a URL's bytes).

In: the sitemap's bytes and its base URL. Out: every listed page fetched and read as an article
into the Collector. Child sitemaps are followed up to MAX_SITEMAP_DEPTH levels and MAX_SITEMAPS
in all (one load shares the count); a child too deep, over the count, unreachable or broken is
skipped, and the others are still read."""

from __future__ import annotations

from xpostcheck.errors import SourceError
from xpostcheck.pages.sitemaps import parse_sitemap
from xpostcheck.sources.collect import Collector

MAX_SITEMAP_DEPTH = 3  # sitemap index -> sitemap -> sitemap
MAX_SITEMAPS = 200


def read_sitemap(c: Collector, data: bytes, base: str, *, depth: int) -> None:
    """Every page of a sitemap, fetched, then its child sitemaps (an index), depth first."""
    c.sitemaps_seen.add(base)
    pages, children = parse_sitemap(data, base)
    for url in pages:
        if c.has(url):
            continue
        fetched = c.get(url)
        if fetched is not None:
            c.add_page(url, fetched)
    for child in children:
        if child in c.sitemaps_seen:
            continue
        if depth + 1 > MAX_SITEMAP_DEPTH:
            c.skip(child, f"sitemap nested more than {MAX_SITEMAP_DEPTH} levels deep")
            continue
        if len(c.sitemaps_seen) >= MAX_SITEMAPS:
            c.skip(child, f"more than {MAX_SITEMAPS} sitemaps; not read")
            continue
        c.sitemaps_seen.add(child)
        fetched = c.get(child, any_type=True)
        if fetched is None:
            continue
        try:
            read_sitemap(c, fetched.body, fetched.final_url, depth=depth + 1)
        except SourceError as exc:  # one broken child sitemap does not sink the rest
            c.skip(child, str(exc))
