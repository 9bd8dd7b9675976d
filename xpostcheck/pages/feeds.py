"""Feeds and sitemaps: parsers shared by the crawler (discovery) and the sources loader.

Both parsers take the raw bytes of a document and the URL it came from (used to resolve
relative links and to name the document in errors). Neither touches the network.

Sitemaps are parsed with lxml's iterparse with entity resolution, DTD loading and network access
off, and with `huge_tree` off; a document that declares entities at all is refused before
parsing, which covers both XML bombs ("billion laughs") and XXE.
"""

from __future__ import annotations

import calendar
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree

from xpostcheck.errors import SourceError

# A sitemap may hold at most 50,000 URLs and 50 MB uncompressed (sitemaps.org); allow some slack.
MAX_SITEMAP_BYTES = 64 * 1024 * 1024
MAX_SITEMAP_URLS = 50_000
_SNIFF_BYTES = 4096
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str = ""
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601
    html: str = ""  # full content if the feed has it, else summary, else ""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None  # as written in the sitemap (W3C datetime), when given


# --- sniffing --------------------------------------------------------------------------------


def _head(data: bytes, size: int = _SNIFF_BYTES) -> bytes:
    """The first bytes of a document, gunzipped when it is gzip, BOM and leading space removed."""
    if data[:2] == _GZIP_MAGIC:
        try:
            data = zlib.decompressobj(wbits=31).decompress(data, size)
        except zlib.error:
            return b""
    head = data[:size]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            if bom != b"\xef\xbb\xbf":  # UTF-16: drop the NULs so the byte patterns below match
                head = head.replace(b"\x00", b"")
            break
    return head.lstrip()


def looks_like_feed(data: bytes) -> bool:
    """True when the bytes start like an RSS, RDF or Atom document."""
    head = _head(data).lower()
    if not head.startswith(b"<"):
        return False
    if b"<rss" in head or b"<rdf:rdf" in head:
        return True
    return re.search(rb"<(\w+:)?feed[\s>]", head) is not None and b"atom" in head


def looks_like_sitemap(data: bytes) -> bool:
    """True when the bytes (plain or gzip) start like a sitemap or a sitemap index."""
    head = _head(data).lower()
    return re.search(rb"<(\w+:)?(urlset|sitemapindex)[\s>]", head) is not None


# --- sitemaps --------------------------------------------------------------------------------


def _gunzip(data: bytes, where: str) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise SourceError(f"broken gzip data in sitemap ({exc})", where=where) from exc
    if len(out) > MAX_SITEMAP_BYTES or d.unconsumed_tail:
        raise SourceError(
            f"sitemap is larger than {MAX_SITEMAP_BYTES // (1024 * 1024)} MB once uncompressed; "
            "refused (split it into a sitemap index)",
            where=where,
        )
    if not d.eof:
        raise SourceError("broken gzip data in sitemap (truncated)", where=where)
    return out


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _absolute(href: str, base_url: str) -> str | None:
    href = href.strip()
    if not href:
        return None
    url = urljoin(base_url, href) if base_url else href
    return url if urlsplit(url).scheme in ("http", "https") else None


def parse_sitemap_entries(data: bytes, base_url: str) -> tuple[list[SitemapEntry], list[str]]:
    """(page entries with lastmod, child sitemap URLs) of a sitemap or sitemap index.

    Accepts gzip bytes and plain-text sitemaps (one URL a line). Raises SourceError for XML
    that declares entities (bombs, XXE), for oversized documents and for anything that is
    not a sitemap.
    """
    where = base_url or "sitemap"
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, where)
    if len(data) > MAX_SITEMAP_BYTES:
        raise SourceError("sitemap is larger than 64 MB; refused", where=where)
    head = _head(data)
    if not head.startswith(b"<"):
        return _parse_text_sitemap(data, base_url, where), []
    if _ENTITY_DECL.search(data):
        raise SourceError(
            "sitemap declares XML entities (a possible XML bomb or XXE); refused", where=where
        )
    if not looks_like_sitemap(data):
        raise SourceError("not a sitemap (no <urlset> or <sitemapindex>)", where=where)
    pages: list[SitemapEntry] = []
    children: list[str] = []
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
    )
    loc: str | None = None
    lastmod: str | None = None
    try:
        for _event, elem in events:
            name = _local(elem.tag)
            if name == "loc":
                loc = (elem.text or "").strip()
            elif name == "lastmod":
                lastmod = (elem.text or "").strip() or None
            elif name in ("url", "sitemap"):
                url = _absolute(loc or "", base_url)
                if url:
                    if name == "url":
                        pages.append(SitemapEntry(url, lastmod))
                    else:
                        children.append(url)
                loc = lastmod = None
                elem.clear()
                if len(pages) + len(children) > MAX_SITEMAP_URLS:
                    raise SourceError(
                        f"sitemap lists more than {MAX_SITEMAP_URLS} URLs; refused", where=where
                    )
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"sitemap is not well-formed XML ({exc})", where=where) from exc
    return pages, children


def _parse_text_sitemap(data: bytes, base_url: str, where: str) -> list[SitemapEntry]:
    text = data.decode("utf-8", errors="replace")
    out: list[SitemapEntry] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if urlsplit(line).scheme not in ("http", "https"):
            raise SourceError(
                f"not a sitemap: line {lineno} is neither XML nor an http(s) URL",
                where=where,
            )
        out.append(SitemapEntry(line))
    if not out:
        raise SourceError("sitemap is empty", where=where)
    return out


def parse_sitemap(data: bytes, base_url: str) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index; see parse_sitemap_entries."""
    pages, children = parse_sitemap_entries(data, base_url)
    return [p.url for p in pages], children


# --- feeds -----------------------------------------------------------------------------------


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        stamp = calendar.timegm(parsed)
    except (TypeError, ValueError, OverflowError):
        return None
    return datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _authors(entry: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = (author.get("name") or "").strip() if isinstance(author, dict) else ""
        if name and name not in names:
            names.append(name)
    if not names:
        single = (entry.get("author") or "").strip()
        if single:
            names.append(single)
    return tuple(names)


def _entry_html(entry: Any) -> str:
    contents: Iterable[Any] = entry.get("content") or []
    best = ""
    for content in contents:
        value = content.get("value") or ""
        if len(value) > len(best):
            best = value
    if best:
        return str(best)
    return str(entry.get("summary") or "")


def parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """The entries of an RSS 0.9x/1.0/2.0 or Atom feed, with absolute URLs.

    Tolerates broken feeds as feedparser does; raises SourceError(where=base_url) when the
    bytes are not a feed at all. Entries without a link are left out.
    """
    where = base_url or "feed"
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, where)
    if _ENTITY_DECL.search(data[: 64 * 1024]):
        raise SourceError(
            "feed declares XML entities (a possible XML bomb or XXE); refused", where=where
        )
    headers = {"content-location": base_url} if base_url else {}
    try:
        parsed = feedparser.parse(data, response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser is lenient, but never let a broken feed escape raw
        raise SourceError(f"cannot read feed ({exc})", where=where) from exc
    if not parsed.get("version") and not parsed.entries:
        raise SourceError(
            "not an RSS or Atom feed; give a feed URL or file, a sitemap or a JSON Lines file",
            where=where,
        )
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            guid = entry.get("id") or ""
            link = guid if urlsplit(guid).scheme in ("http", "https") else ""
        url = _absolute(link, base_url)
        if not url:
            continue
        entries.append(
            FeedEntry(
                url=url,
                title=str(entry.get("title") or "").strip(),
                authors=_authors(entry),
                published=_iso(entry.get("published_parsed") or entry.get("updated_parsed")),
                html=_entry_html(entry),
            )
        )
    return entries
