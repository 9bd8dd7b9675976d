"""Sources: the publisher's own articles, read from files, folders, feeds, sitemaps or URLs.

A spec (one `--sources` value) is one of:
- an http(s) URL of a feed, a sitemap or an article page (sniffed from the fetched bytes);
- a folder of saved HTML pages (*.html, *.htm, *.html.gz, searched recursively);
- a file, sniffed from its bytes: an RSS/Atom feed, a sitemap (plain or gzip), a saved HTML
  page, a JSON Lines file ({url, title, author, published, text|html} per line) or a text file
  of article URLs (one a line; blank lines and `#` comments are ignored).

Bad files raise SourceError naming the file (and line). A source that can be reached but not
read as an article is not an error: `load_sources_report` returns it in its skipped list with
the reason. That covers a URL that cannot be fetched, a page that is not HTML (a PDF, an image),
a page or saved file without article text, and a JSON Lines record whose body is empty.
`describe_skipped` puts the first few reasons on one line, for an error message.
"""

from __future__ import annotations

import codecs
import gzip
import inspect
import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xpostcheck.errors import FetchError, SourceError, XPostCheckError
from xpostcheck.extract.page import (
    article_from_html,
    article_from_saved_html,
    decode_html,
    feed_links,
    fragment_content,
)
from xpostcheck.models import Fetched, SkipCode, Skipped, SourceArticle
from xpostcheck.util.urls import article_key, is_home_page

__all__ = [
    "FULL_CONTENT_WORDS",
    "MAX_SITEMAP_DEPTH",
    "MAX_SITEMAPS",
    "describe_skipped",
    "load_sources",
    "load_sources_report",
]

FetchFn = Callable[[str], Fetched]

# A feed entry with fewer words than this (or ending like a teaser) is a summary: fetch the page.
FULL_CONTENT_WORDS = 100
MAX_SITEMAP_DEPTH = 3  # sitemap index -> sitemap -> sitemap
MAX_SITEMAPS = 200
MAX_FILE_BYTES = 256 * 1024 * 1024  # once decompressed
_SAVED_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
_TEASER_END = re.compile(
    r"(\.\.\.|…|\[…\]|\[\.\.\.\]|read more|continue reading|more\s*»|»)\s*$", re.I
)
_WORD = re.compile(r"\w+")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REASON_CHARS = 200  # describe_skipped cuts longer reasons
_HOW = (
    "give a JSON Lines file, an RSS/Atom feed, a sitemap, a text file of article URLs, "
    "a folder of saved HTML pages, or an http(s) URL"
)


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
    loader = _Loader(fetch, publisher)
    for spec in specs:
        loader.load(spec)
    return list(loader.articles.values()), list(loader.skipped.values())


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


class _Loader:
    def __init__(self, fetch: FetchFn | None, publisher: str) -> None:
        self.fetch = fetch
        self.publisher = publisher
        self.articles: dict[str, SourceArticle] = {}
        self.skipped: dict[str, Skipped] = {}
        self.sitemaps_seen: set[str] = set()
        self.fetch_any: FetchFn | None = None
        if fetch is not None:
            self.fetch_any = _any_type_fetch(fetch)

    # -- bookkeeping ------------------------------------------------------------------------

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
            self.skip(url, exc.reason)
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

    # -- specs ------------------------------------------------------------------------------

    def load(self, spec: str) -> None:
        spec = spec.strip()
        if not spec:
            raise SourceError(f"empty sources entry; {_HOW}")
        if spec.lower().startswith(("http://", "https://")):
            self.load_url(spec)
            return
        path = Path(spec).expanduser()
        if path.is_dir():
            self.load_folder(spec, path)
            return
        if not path.exists():
            raise SourceError(f"no such file or folder; {_HOW}", where=spec)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read ({exc.strerror or exc})", where=spec) from exc
        self.load_file(spec, path, data)

    def load_url(self, url: str, *, feed_spec: bool = False) -> None:
        fetched = self.get(url, any_type=True)
        if fetched is None:
            return
        data, base = fetched.body, fetched.final_url
        from xpostcheck.pages.feeds import looks_like_feed, looks_like_sitemap

        if looks_like_feed(data):
            self.load_feed(data, base)
        elif looks_like_sitemap(data):
            self.load_sitemap(data, base, depth=0)
        elif (why := _not_html(fetched)) is not None:
            self.skip(url, why)
        elif is_home_page(base) and not feed_spec:
            # A site's home page is not an article: read the feed it names instead.
            feeds = feed_links(fetched.text, base)
            if not feeds:
                self.skip(
                    url,
                    "a home page, not an article, and it names no feed; "
                    "give the site's feed or sitemap URL",
                )
                return
            self.load_url(feeds[0], feed_spec=True)
        else:
            self.add_page(url, fetched)

    def load_file(self, spec: str, path: Path, data: bytes) -> None:
        from xpostcheck.pages.feeds import looks_like_feed, looks_like_sitemap

        if looks_like_sitemap(data):  # plain or gzip; discover gunzips
            self.load_sitemap(data, spec, depth=0)
            return
        data = _gunzip(data, spec)
        if looks_like_feed(data):
            self.load_feed(data, spec)
            return
        head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} or head.startswith(b"{"):
            self.load_jsonl(spec, data)
        elif head.startswith((b"<!doctype html", b"<html", b"<head", b"<!--")) or b"<html" in head:
            self.add_saved(spec, path, data)
        else:
            self.load_url_list(spec, data)

    # -- kinds ------------------------------------------------------------------------------

    def load_jsonl(self, spec: str, data: bytes) -> None:
        found = False
        for number, line in enumerate(_text(spec, data).splitlines(), 1):
            if not line.strip():
                continue
            where = f"{spec}:{number}"
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise SourceError(
                    f"not valid JSON ({getattr(exc, 'msg', exc)}); write one JSON object a line",
                    where=where,
                ) from exc
            try:
                self.add(_article_from_json(obj, where, self.publisher))
            except _NoText as exc:
                self.skip(exc.url, f"{exc.reason} ({where})")
            found = True
        if not found:
            raise SourceError(
                "no articles: the JSON Lines file is empty; write one "
                '{"url": ..., "title": ..., "text": ...} object a line',
                where=spec,
            )

    def load_url_list(self, spec: str, data: bytes) -> None:
        urls: list[str] = []
        for number, line in enumerate(_text(spec, data).splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            token = line.split()[0]
            parts = urlsplit(token)
            if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
                raise SourceError(
                    f"not an http(s) URL: {token!r}; a URL list holds one article URL a line "
                    f"(# starts a comment); otherwise {_HOW}",
                    where=f"{spec}:{number}",
                )
            urls.append(token)
        if not urls:
            raise SourceError(
                "no article URLs in the file; write one URL a line (# starts a comment)",
                where=spec,
            )
        for url in urls:
            if article_key(url) in self.articles:
                continue
            fetched = self.get(url)
            if fetched is not None:
                self.add_page(url, fetched)

    def load_folder(self, spec: str, folder: Path) -> None:
        files = sorted(
            p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(_SAVED_SUFFIXES)
        )
        if not files:
            raise SourceError(
                "the folder holds no saved pages (*.html, *.htm, *.html.gz); "
                "save the publisher's article pages there or " + _HOW,
                where=spec,
            )
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                self.skip(str(path), f"cannot read ({exc.strerror or exc})")
                continue
            try:
                data = _gunzip(data, str(path))
            except SourceError as exc:
                self.skip(str(path), str(exc).removeprefix(f"{path}: "))
                continue
            self.add_saved(str(path), path, data)

    def add_saved(self, where: str, path: Path, data: bytes) -> None:
        html = decode_html(data)
        article = article_from_saved_html(html, path.resolve().as_uri(), publisher=self.publisher)
        if not article.text.strip():
            self.skip(where, "no article text found in the saved page")
            return
        self.add(article)

    def add_page(self, url: str, fetched: Fetched, entry: Any = None) -> None:
        why = _not_html(fetched)
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

    def load_feed(self, data: bytes, base: str) -> None:
        from xpostcheck.pages.feeds import parse_feed

        for entry in parse_feed(data, base):
            if article_key(entry.url) in self.articles:
                continue
            text, images = fragment_content(entry.html, entry.url) if entry.html else ("", ())
            if _is_full_content(text) or (self.fetch is None and text):
                self.add(
                    SourceArticle(
                        url=entry.url,
                        title=entry.title,
                        text=text,
                        authors=entry.authors,
                        published=entry.published,
                        publisher=self.publisher,
                        images=images,
                    )
                )
                continue
            if self.fetch is None:
                self.skip(entry.url, "the feed entry has no content and no fetcher was given")
                continue
            fetched = self.get(entry.url)
            if fetched is not None:
                self.add_page(entry.url, fetched, entry)

    def load_sitemap(self, data: bytes, base: str, *, depth: int) -> None:
        from xpostcheck.pages.feeds import parse_sitemap

        self.sitemaps_seen.add(base)
        pages, children = parse_sitemap(data, base)
        for url in pages:
            if article_key(url) in self.articles:
                continue
            fetched = self.get(url)
            if fetched is not None:
                self.add_page(url, fetched)
        for child in children:
            if child in self.sitemaps_seen:
                continue
            if depth + 1 > MAX_SITEMAP_DEPTH:
                self.skip(child, f"sitemap nested more than {MAX_SITEMAP_DEPTH} levels deep")
                continue
            if len(self.sitemaps_seen) >= MAX_SITEMAPS:
                self.skip(child, f"more than {MAX_SITEMAPS} sitemaps; not read")
                continue
            self.sitemaps_seen.add(child)
            fetched = self.get(child, any_type=True)
            if fetched is None:
                continue
            try:
                self.load_sitemap(fetched.body, fetched.final_url, depth=depth + 1)
            except SourceError as exc:  # one broken child sitemap does not sink the rest
                self.skip(child, str(exc))


# -- helpers ----------------------------------------------------------------------------------


class _NoText(Exception):
    """A well-formed JSON Lines record whose article body is empty: skipped, not fatal."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


def _not_html(fetched: Fetched) -> str | None:
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


def _gunzip(data: bytes, where: str) -> bytes:
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


def _text(spec: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError("not UTF-8 text; save the file as UTF-8", where=f"{spec}:{line}") from exc


def _is_full_content(text: str) -> bool:
    return len(_WORD.findall(text)) >= FULL_CONTENT_WORDS and not _TEASER_END.search(text)


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise SourceError(f"'{field}' must be a string or a list of strings", where=where)


def _optional_str(obj: dict[str, Any], field: str, where: str) -> str | None:
    value = obj.get(field)
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) and value.strip() else None
    raise SourceError(f"'{field}' must be a string", where=where)


def _article_from_json(obj: Any, where: str, publisher: str) -> SourceArticle:
    if not isinstance(obj, dict):
        raise SourceError(
            f"expected a JSON object {{url, title, author, published, text|html}}, "
            f"got {type(obj).__name__}",
            where=where,
        )
    url = obj.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SourceError("missing 'url' (the original article's address)", where=where)
    url = url.strip()
    title = _optional_str(obj, "title", where) or ""
    authors = _strings(obj.get("author", obj.get("authors")), "author", where)
    published = _optional_str(obj, "published", where)
    images = _strings(obj.get("images"), "images", where)
    publisher = _optional_str(obj, "publisher", where) or publisher
    text = obj.get("text")
    html = obj.get("html")
    if text is not None and not isinstance(text, str):
        raise SourceError("'text' must be a string", where=where)
    if html is not None and not isinstance(html, str):
        raise SourceError("'html' must be a string", where=where)
    if text and text.strip():
        return SourceArticle(
            url=url,
            title=title,
            text=text,
            authors=authors,
            published=published,
            publisher=publisher,
            images=images,
            html=html,
        )
    if html and html.strip():
        article = article_from_html(url, html, publisher=publisher)
        if not article.text.strip():
            raise _NoText(url, "no article text found in 'html'")
        return replace(
            article,
            title=title or article.title,
            authors=authors or article.authors,
            published=published or article.published,
            images=images or article.images,
        )
    if text is None and html is None:
        raise SourceError("missing 'text' or 'html' (the article's body)", where=where)
    if text is not None and html is not None:
        raise _NoText(url, "no article text: 'text' and 'html' are empty")
    raise _NoText(url, f"no article text: '{'text' if text is not None else 'html'}' is empty")
