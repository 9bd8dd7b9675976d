"""The feed reader: an RSS or Atom feed (a file, or the bytes a URL gave).

In: the feed's bytes and its base URL. Out: articles into the Collector. An entry whose content
is the full article (FULL_CONTENT_WORDS words or more, not ending like a teaser) is used as it
is; a summary's page is fetched, and the feed's own metadata wins over the page's. Without a
fetcher, a summary is kept as it is, and an entry without content is skipped."""

from __future__ import annotations

import re

from xpostcheck.extract.page import fragment_content
from xpostcheck.models import SourceArticle
from xpostcheck.pages.feeds import parse_feed
from xpostcheck.sources.collect import Collector

# A feed entry with fewer words than this (or ending like a teaser) is a summary: fetch the page.
FULL_CONTENT_WORDS = 100
_TEASER_END = re.compile(
    r"(\.\.\.|…|\[…\]|\[\.\.\.\]|read more|continue reading|more\s*»|»)\s*$", re.I
)
_WORD = re.compile(r"\w+")


def read_feed(c: Collector, data: bytes, base: str) -> None:
    """Every entry of an RSS/Atom feed: its own content when full, else its page fetched."""
    for entry in parse_feed(data, base):
        if c.has(entry.url):
            continue
        text, images = fragment_content(entry.html, entry.url) if entry.html else ("", ())
        if _is_full_content(text) or (c.fetch is None and text):
            c.add(
                SourceArticle(
                    url=entry.url,
                    title=entry.title,
                    text=text,
                    authors=entry.authors,
                    published=entry.published,
                    publisher=c.publisher,
                    images=images,
                )
            )
            continue
        if c.fetch is None:
            c.skip(entry.url, "the feed entry has no content and no fetcher was given")
            continue
        fetched = c.get(entry.url)
        if fetched is not None:
            c.add_page(entry.url, fetched, entry)


def _is_full_content(text: str) -> bool:
    return len(_WORD.findall(text)) >= FULL_CONTENT_WORDS and not _TEASER_END.search(text)
