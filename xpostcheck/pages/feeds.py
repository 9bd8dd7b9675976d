"""RSS 0.9x/1.0/2.0 and Atom feeds: parser shared by the crawler (discovery) and the sources
loader.

In: the raw bytes of a feed (plain or gzip) and the URL it came from (to resolve relative links
and to name the document in errors). Out: FeedEntry records with absolute URLs; or SourceError.
No network. A feed that declares XML entities is refused before feedparser sees it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser

from xpostcheck.errors import SourceError
from xpostcheck.pages.xmlsafe import ENTITY_DECL, GZIP_MAGIC, absolute, gunzip, head

__all__ = ["FeedEntry", "looks_like_feed", "parse_feed"]


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str = ""
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601
    html: str = ""  # full content if the feed has it, else summary, else ""


def looks_like_feed(data: bytes) -> bool:
    """True when the bytes start like an RSS, RDF or Atom document."""
    first = head(data).lower()
    if not first.startswith(b"<"):
        return False
    if b"<rss" in first or b"<rdf:rdf" in first:
        return True
    return re.search(rb"<(\w+:)?feed[\s>]", first) is not None and b"atom" in first


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
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, where)
    if ENTITY_DECL.search(data[: 64 * 1024]):
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
        url = absolute(link, base_url)
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
