"""URLs in a page: resolving hrefs against the page's base, the URLs an embedding element loads,
canonical and license URLs sent in HTTP Link headers, and the feeds a page names.

In: URLs, lxml elements, response headers, HTML text. Out: absolute URL strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from xpostcheck.extract.decode import parse_html

__all__ = [
    "absolute",
    "base_url",
    "feed_links",
    "header_links",
    "keep_first",
    "origin",
    "resource_urls",
]

_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_LINK_REL = re.compile(r"""(?i)\brel\s*=\s*("[^"]*"|'[^']*'|[^;,\s]+)""")
T = TypeVar("T")
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})


def origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme in {"http", "https"} and parts.netloc and "@" not in parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def absolute(base: str, href: str) -> str:
    href = href.strip()
    if href.startswith(("https://", "http://")):  # already absolute; urljoin is slow
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def base_url(url: str, root: Any) -> str:
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return absolute(url, href)
    return url


def resource_urls(el: Any, tag: str) -> list[str]:
    attrib = el.attrib
    if tag == "amp-analytics":
        urls = [attrib["config"]] if attrib.get("config") else []
        for script in el.iter("script"):
            try:
                config = json.loads(script.text or "")
            except ValueError:
                continue
            requests = config.get("requests") if isinstance(config, dict) else None
            if isinstance(requests, dict):
                urls.extend(v for v in requests.values() if isinstance(v, str) and "//" in v)
        return urls
    src = attrib.get("src") or attrib.get("data-src")
    if src and src.strip():
        return [src]
    srcset = attrib.get("srcset")
    if srcset:
        first = srcset.strip().split(",")[0].split()
        return [str(first[0])] if first else []
    return []


def header_links(headers: Sequence[tuple[str, str]], rel: str, base: str) -> tuple[str, ...]:
    """URLs of a given rel in HTTP `Link` headers (RFC 8288), e.g. a canonical sent in a header."""
    found: list[str] = []
    for key, value in headers:
        if key.lower() != "link":
            continue
        for target, params in _LINK_VALUE.findall(value):
            rels = _LINK_REL.search(params)
            if rels and rel in rels.group(1).strip("\"'").lower().split():
                found.append(absolute(base, target))
    return tuple(found)


def feed_links(html: str, base_url: str) -> list[str]:
    """Absolute URLs of the RSS/Atom feeds a page names with <link rel=alternate type=...>."""
    tree = parse_html(html)
    if tree is None:
        return []
    found: list[str] = []
    for el in tree.iter("link"):
        rel = el.get("rel", "").lower().split()
        kind = el.get("type", "").lower().strip()
        href = el.get("href", "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            found.append(absolute(base_url, href))
    return list(dict.fromkeys(found))


def keep_first(items: Sequence[T], favoured: Callable[[T], bool], limit: int) -> list[T]:
    """At most `limit` of `items`, in their order: the favoured ones (a page's article links)
    first, then the others from the start. Memory for a page's links stays bounded however
    many links the page holds."""
    if len(items) <= limit:
        return list(items)
    keep = [i for i, item in enumerate(items) if favoured(item)][:limit]
    if len(keep) < limit:
        chosen = set(keep)
        keep.extend(i for i in range(len(items)) if i not in chosen)
        keep = sorted(keep[:limit])
    return [items[i] for i in keep]
