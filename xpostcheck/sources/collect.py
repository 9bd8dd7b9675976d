"""What every source reader shares: the articles read so far, the inputs skipped, and the fetch.

In: articles and skips from the readers, URLs to fetch. Out: articles deduplicated by URL (the
first one wins) and one Skipped per input that could not be read, with its reason and code:
the FetchError's code when our fetcher could not fetch it (GONE, REFUSED, NOT_HTML, ...),
SkipCode.SOURCE otherwise. A fetched article page becomes an article here (`add_page`),
whichever reader named it."""

from __future__ import annotations

import codecs
import gzip
import inspect
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from xpostcheck.errors import FetchError, SourceError, XPostCheckError
from xpostcheck.extract.page import article_from_html
from xpostcheck.models import Fetched, SkipCode, Skipped, SourceArticle
from xpostcheck.util.urls import article_key

FetchFn = Callable[[str], Fetched]

MAX_FILE_BYTES = 256 * 1024 * 1024  # once decompressed
HOW = (
    "give a JSON Lines file, an RSS/Atom feed, a sitemap, a text file of article URLs, "
    "a folder of saved HTML pages, or an http(s) URL"
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class Collector:
    """The state of one load: articles, skips, the fetch functions and the sitemaps seen."""

    def __init__(self, fetch: FetchFn | None, publisher: str) -> None:
        self.fetch = fetch
        self.publisher = publisher
        self.articles: dict[str, SourceArticle] = {}
        self.skipped: dict[str, Skipped] = {}
        self.sitemaps_seen: set[str] = set()
        self.fetch_any: FetchFn | None = None
        if fetch is not None:
            self.fetch_any = _any_type_fetch(fetch)

    def has(self, url: str) -> bool:
        """Whether an article with this URL (or an equivalent one) is already read."""
        return article_key(url) in self.articles

    def add(self, article: SourceArticle) -> None:
        key = article_key(article.url)
        if key not in self.articles:
            self.articles[key] = article
        self.skipped.pop(article.url, None)

    def skip(self, url: str, reason: str, code: SkipCode = SkipCode.SOURCE) -> None:
        if article_key(url) not in self.articles:
            self.skipped.setdefault(url, Skipped(url, reason, code))

    def get(self, url: str, *, any_type: bool = False) -> Fetched | None:
        """Fetch `url`; None (and a skipped entry) when it cannot be fetched."""
        fetch = self.fetch_any if any_type else self.fetch
        if fetch is None:
            raise SourceError(
                "this source must be fetched over the network, but no fetcher was given; "
                "run it through `xpostcheck scan` or pass fetch=",
                where=url,
            )
        try:
            fetched = fetch(url)
        except FetchError as exc:
            self.skip(url, exc.reason, exc.code)
            return None
        except XPostCheckError as exc:
            self.skip(url, str(exc))
            return None
        except (OSError, ValueError) as exc:  # a fetch function other than ours
            self.skip(url, f"cannot fetch ({exc})")
            return None
        if not 200 <= fetched.status < 300:
            self.skip(url, f"HTTP {fetched.status}")
            return None
        return fetched

    def add_page(self, url: str, fetched: Fetched, entry: Any = None) -> None:
        """A fetched article page as an article; `entry` (a feed entry) overrides its metadata."""
        why = not_html(fetched)
        if why is not None:
            self.skip(url, why)
            return
        article = article_from_html(fetched.final_url, fetched.text, publisher=self.publisher)
        if not article.text.strip():
            self.skip(url, "no article text found on the page")
            return
        if entry is not None:  # the feed's own metadata is the publisher's word
            article = replace(
                article,
                title=entry.title or article.title,
                authors=entry.authors or article.authors,
                published=entry.published or article.published,
            )
        self.add(article)


def not_html(fetched: Fetched) -> str | None:
    """Why a fetched body cannot be read as an article page, or None when it is HTML.

    A declared content type other than HTML is refused; so is a body that is plainly not text
    (a PDF, NUL bytes), whatever type it was served as. No content type at all gives the body
    the benefit of the doubt.
    """
    ctype = (fetched.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if ctype and ctype not in _HTML_TYPES:
        return f"not an HTML page: {ctype}"
    head = fetched.body[:1024]
    served = f" served as {ctype}" if ctype else ""
    if head.lstrip().startswith(b"%PDF-"):
        return f"not an HTML page: a PDF file{served}"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return f"not an HTML page: a binary body{served}"
    return None


def _any_type_fetch(fetch: FetchFn) -> FetchFn:
    """`fetch` with html_only=False when it takes that keyword (feeds and sitemaps are XML)."""
    try:
        params = inspect.signature(fetch).parameters
    except (TypeError, ValueError):
        return fetch
    if "html_only" not in params:
        return fetch
    call: Any = fetch

    def fetch_any(url: str) -> Fetched:
        result: Fetched = call(url, html_only=False)
        return result

    return fetch_any


def gunzip(data: bytes, where: str) -> bytes:
    """`data` gunzipped when it is gzip (capped at MAX_FILE_BYTES), else as it is."""
    if data[:2] != b"\x1f\x8b":
        return data
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_FILE_BYTES + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise SourceError(f"broken gzip file ({exc})", where=where) from exc
    if len(out) > MAX_FILE_BYTES or d.unconsumed_tail:
        raise SourceError("larger than 256 MB once uncompressed; refused", where=where)
    return out


def text_of(spec: str, data: bytes) -> str:
    """A file's bytes as UTF-8 text (a BOM dropped); SourceError naming the line otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError("not UTF-8 text; save the file as UTF-8", where=f"{spec}:{line}") from exc
