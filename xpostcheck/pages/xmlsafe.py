"""Byte-level guards shared by the feed and sitemap parsers: sniffing a document's head, a
bounded gunzip, the XML entity-declaration check and absolute http(s) links.

In: raw document bytes (plain or gzip) and the URL they came from. Out: bytes, booleans and
URLs; SourceError (with the document's URL) for broken or oversized gzip data. No network.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import urljoin, urlsplit

from xpostcheck.errors import SourceError

# A sitemap may hold at most 50,000 URLs and 50 MB uncompressed (sitemaps.org); allow some slack.
MAX_SITEMAP_BYTES = 64 * 1024 * 1024
SNIFF_BYTES = 4096
ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"


def head(data: bytes, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a document, gunzipped when it is gzip, BOM and leading space removed."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = zlib.decompressobj(wbits=31).decompress(data, size)
        except zlib.error:
            return b""
    first = data[:size]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if first.startswith(bom):
            first = first[len(bom) :]
            if bom != b"\xef\xbb\xbf":  # UTF-16: drop the NULs so the byte patterns below match
                first = first.replace(b"\x00", b"")
            break
    return first.lstrip()


def gunzip(data: bytes, where: str) -> bytes:
    """gzip bytes inflated, refused beyond MAX_SITEMAP_BYTES (a gzip bomb) or when broken."""
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


def absolute(href: str, base_url: str) -> str | None:
    """`href` resolved against `base_url` when that gives an http(s) URL, else None."""
    href = href.strip()
    if not href:
        return None
    url = urljoin(base_url, href) if base_url else href
    return url if urlsplit(url).scheme in ("http", "https") else None
