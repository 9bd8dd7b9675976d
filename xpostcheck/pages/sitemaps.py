"""Sitemaps (XML urlset and sitemap index, gzip, plain text): parser shared by the crawler
(discovery) and the sources loader.

In: the raw bytes of a sitemap and the URL it came from (to resolve relative links and to name
the document in errors). Out: page entries with their lastmod, and child sitemap URLs; or
SourceError. No network.

Sitemaps are parsed with lxml's iterparse with entity resolution, DTD loading and network access
off, and with `huge_tree` off; a document that declares entities at all is refused before
parsing, which covers both XML bombs ("billion laughs") and XXE.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from xpostcheck.errors import SourceError
from xpostcheck.pages.xmlsafe import (
    ENTITY_DECL,
    GZIP_MAGIC,
    MAX_SITEMAP_BYTES,
    absolute,
    gunzip,
    head,
)

__all__ = [
    "MAX_SITEMAP_BYTES",
    "MAX_SITEMAP_URLS",
    "SitemapEntry",
    "looks_like_sitemap",
    "parse_sitemap",
    "parse_sitemap_entries",
]

MAX_SITEMAP_URLS = 50_000


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: str | None = None  # as written in the sitemap (W3C datetime), when given


def looks_like_sitemap(data: bytes) -> bool:
    """True when the bytes (plain or gzip) start like a sitemap or a sitemap index."""
    first = head(data).lower()
    return re.search(rb"<(\w+:)?(urlset|sitemapindex)[\s>]", first) is not None


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def parse_sitemap_entries(data: bytes, base_url: str) -> tuple[list[SitemapEntry], list[str]]:
    """(page entries with lastmod, child sitemap URLs) of a sitemap or sitemap index.

    Accepts gzip bytes and plain-text sitemaps (one URL a line). Raises SourceError for XML
    that declares entities (bombs, XXE), for oversized documents and for anything that is
    not a sitemap.
    """
    where = base_url or "sitemap"
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, where)
    if len(data) > MAX_SITEMAP_BYTES:
        raise SourceError("sitemap is larger than 64 MB; refused", where=where)
    if not head(data).startswith(b"<"):
        return _parse_text_sitemap(data, base_url, where), []
    if ENTITY_DECL.search(data):
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
                url = absolute(loc or "", base_url)
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
