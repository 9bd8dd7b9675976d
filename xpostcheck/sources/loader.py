"""Sources: the publisher's own articles, read from files, folders, feeds, sitemaps or URLs.

In: `--sources` specs (paths and URLs) and a fetch function. Out: SourceArticle records,
deduplicated by URL, and the inputs skipped (Skipped, with the reason and a SkipCode).

A spec is one of:
- an http(s) URL of a feed, a sitemap or an article page (sniffed from the fetched bytes);
- a folder of saved HTML pages (*.html, *.htm, *.html.gz, searched recursively);
- a file, sniffed from its bytes: an RSS/Atom feed, a sitemap (plain or gzip), a saved HTML
  page, a JSON Lines file ({url, title, author, published, text|html} per line) or a text file
  of article URLs (one a line; blank lines and `#` comments are ignored).

This module is the dispatcher: it sniffs each spec and hands it to one reader per format
(jsonl.py, feeds.py, sitemaps.py, urllist.py, folder.py), which share a Collector (collect.py).
A new input format is a new reader module and one branch here.

Bad files raise SourceError naming the file (and line). A source that can be reached but not
read as an article is not an error: `load_sources_report` returns it in its skipped list with
the reason. That covers a URL that cannot be fetched, a page that is not HTML (a PDF, an image),
a page or saved file without article text, and a JSON Lines record whose body is empty.
`describe_skipped` puts the first few reasons on one line, for an error message.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xpostcheck.errors import SourceError
from xpostcheck.extract.page import feed_links
from xpostcheck.models import Skipped, SourceArticle
from xpostcheck.pages.feeds import looks_like_feed
from xpostcheck.pages.sitemaps import looks_like_sitemap
from xpostcheck.sources.collect import HOW, Collector, FetchFn, gunzip, not_html
from xpostcheck.sources.feeds import FULL_CONTENT_WORDS, read_feed
from xpostcheck.sources.folder import read_folder, read_saved
from xpostcheck.sources.jsonl import read_jsonl
from xpostcheck.sources.sitemaps import MAX_SITEMAP_DEPTH, MAX_SITEMAPS, read_sitemap
from xpostcheck.sources.urllist import read_url_list
from xpostcheck.util.urls import is_home_page

__all__ = [
    "FULL_CONTENT_WORDS",
    "MAX_SITEMAP_DEPTH",
    "MAX_SITEMAPS",
    "describe_skipped",
    "load_sources",
    "load_sources_report",
]

_REASON_CHARS = 200  # describe_skipped cuts longer reasons
_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<!--")


def load_sources(
    specs: Sequence[str], *, fetch: FetchFn | None = None, publisher: str = ""
) -> list[SourceArticle]:
    """The articles named by `specs`, deduplicated by URL (first one wins)."""
    return load_sources_report(specs, fetch=fetch, publisher=publisher)[0]


def load_sources_report(
    specs: Sequence[str], *, fetch: FetchFn | None = None, publisher: str = ""
) -> tuple[list[SourceArticle], list[Skipped]]:
    """(articles, skipped): like load_sources, plus every URL that could not be read and why.

    `fetch` fetches one URL (xpostcheck.fetch.Fetcher.fetch fits); when it accepts an
    `html_only` keyword, feeds and sitemaps are fetched with html_only=False. Without `fetch`,
    specs that need the network raise SourceError.
    """
    c = Collector(fetch, publisher)
    for spec in specs:
        _load(c, spec)
    return list(c.articles.values()), list(c.skipped.values())


def describe_skipped(skipped: Sequence[Skipped], *, limit: int = 3) -> str:
    """The first `limit` skipped sources and why, on one line ('' when there are none).

    For example: "https://x.example/feed: HTTP 404 Not Found; https://x.example/a.pdf: not an
    HTML page: application/pdf (and 2 more)". Meant for the error raised when no article at
    all could be read, so that it says why.
    """
    parts = []
    for item in skipped[: max(limit, 0)]:
        reason = " ".join(item.reason.split())
        if len(reason) > _REASON_CHARS:
            reason = reason[: _REASON_CHARS - 1].rstrip() + "…"
        parts.append(f"{item.url}: {reason}")
    text = "; ".join(parts)
    more = len(skipped) - len(parts)
    if more > 0:
        text += f" (and {more} more)" if parts else f"{more} skipped"
    return text


# -- the dispatcher: which reader reads a spec --------------------------------------------------


def _load(c: Collector, spec: str) -> None:
    spec = spec.strip()
    if not spec:
        raise SourceError(f"empty sources entry; {HOW}")
    if spec.lower().startswith(("http://", "https://")):
        _load_url(c, spec)
        return
    path = Path(spec).expanduser()
    if path.is_dir():
        read_folder(c, spec, path)
        return
    if not path.exists():
        raise SourceError(f"no such file or folder; {HOW}", where=spec)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read ({exc.strerror or exc})", where=spec) from exc
    _load_file(c, spec, path, data)


def _load_url(c: Collector, url: str, *, feed_spec: bool = False) -> None:
    """A URL, by what it gave: a feed, a sitemap, a home page (its feed), or an article page."""
    fetched = c.get(url, any_type=True)
    if fetched is None:
        return
    data, base = fetched.body, fetched.final_url
    if looks_like_feed(data):
        read_feed(c, data, base)
    elif looks_like_sitemap(data):
        read_sitemap(c, data, base, depth=0)
    elif (why := not_html(fetched)) is not None:
        c.skip(url, why)
    elif is_home_page(base) and not feed_spec:
        # A site's home page is not an article: read the feed it names instead.
        feeds = feed_links(fetched.text, base)
        if not feeds:
            c.skip(
                url,
                "a home page, not an article, and it names no feed; "
                "give the site's feed or sitemap URL",
            )
            return
        _load_url(c, feeds[0], feed_spec=True)
    else:
        c.add_page(url, fetched)


def _load_file(c: Collector, spec: str, path: Path, data: bytes) -> None:
    """A file, sniffed from its bytes (its suffix only tells JSON Lines apart)."""
    if looks_like_sitemap(data):  # plain or gzip; the sitemap parser gunzips
        read_sitemap(c, data, spec, depth=0)
        return
    data = gunzip(data, spec)
    if looks_like_feed(data):
        read_feed(c, data, spec)
        return
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if path.suffix.lower() in _JSONL_SUFFIXES or head.startswith(b"{"):
        read_jsonl(c, spec, data)
    elif head.startswith(_HTML_STARTS) or b"<html" in head:
        read_saved(c, spec, path, data)
    else:
        read_url_list(c, spec, data)
