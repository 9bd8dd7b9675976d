"""Metadata of a page: robots directives, authors, publication dates, its own URL, captions.

In: the Scan of a page's tree (meta tags, JSON-LD), the tree itself, response headers and the
extractor's byline. Out: plain values for the Page fields (meta_robots, authors, published,
markup_published, captions) and the page's own URL for saved pages.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from xpostcheck.extract.links import absolute
from xpostcheck.extract.walk import WS, Scan

__all__ = [
    "MAX_JSONLD_OBJECTS",
    "authors",
    "captions",
    "declared_url",
    "first_meta",
    "jsonld_facts",
    "markup_published",
    "robots",
    "self_url",
]

MAX_JSONLD_OBJECTS = 1000
_XRT_SCOPED = re.compile(r"^\s*([a-z0-9_.-]+)\s*:\s*(.*)$", re.I)
_ROBOTS_VALUED = frozenset(
    {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
)
_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "scholarlyarticle",
        "report",
        "techarticle",
        "liveblogposting",
        "posting",
        "socialmediaposting",
    }
)


def robots(scan: Scan, headers: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("robots", "googlebot"):
        for content in scan.meta.get(name, []):
            found.extend(WS.sub("", d.lower()) for d in content.split(","))
    for key, value in headers:
        if key.lower() != "x-robots-tag":
            continue
        applies = True
        for part in value.split(","):
            part = part.strip()
            scoped = _XRT_SCOPED.match(part)
            if scoped and scoped.group(1).lower() not in _ROBOTS_VALUED:
                agent = scoped.group(1).lower()
                applies = agent in {"googlebot", "*"}
                part = scoped.group(2).strip()
            if applies and part:
                found.append(WS.sub("", part.lower()))
    return tuple(dict.fromkeys(d for d in found if d))


def _jsonld_objects(scripts: list[str]) -> Iterator[dict[str, Any]]:
    """Top-level JSON-LD objects and those in @graph, in document order (at most
    MAX_JSONLD_OBJECTS; broken or absurdly nested blocks are skipped)."""
    todo: deque[Any] = deque()
    for raw in scripts:
        try:
            todo.append(json.loads(raw, strict=False))
        except (ValueError, RecursionError):
            continue
    seen = 0
    while todo and seen < MAX_JSONLD_OBJECTS:
        item = todo.popleft()
        if isinstance(item, list):
            todo.extendleft(reversed(item))
        elif isinstance(item, dict):
            seen += 1
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                todo.extendleft(reversed(graph))


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower() for k in kinds}


def _names(value: Any, depth: int = 0) -> list[str]:
    if isinstance(value, str):
        return [value]
    if depth > 4:
        return []
    if isinstance(value, list):
        return [n for v in value[:50] for n in _names(v, depth + 1)]
    if isinstance(value, dict):
        return _names(value.get("name", ""), depth + 1)
    return []


def jsonld_facts(scan: Scan) -> tuple[list[str], str | None]:
    authors: list[str] = []
    published: str | None = None
    objects = list(_jsonld_objects(scan.jsonld))
    # Article-typed objects first: a WebPage or Organization may carry other dates.
    objects.sort(key=lambda o: 0 if _types(o) & _ARTICLE_TYPES else 1)
    for obj in objects:
        if not authors:
            authors = _names(obj.get("author"))
        if published is None and isinstance(obj.get("datePublished"), str):
            published = obj["datePublished"].strip() or None
    return authors, published


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://", "//"))


def authors(scan: Scan, jsonld: list[str], byline: str | None) -> tuple[str, ...]:
    found: list[str] = []
    found += scan.meta.get("author", [])
    found += [a for a in scan.meta.get("article:author", []) if not _is_url(a)]
    found += jsonld
    if byline:
        found += byline.split(";")
    seen: dict[str, str] = {}
    for name in found:
        clean = WS.sub(" ", name).strip()
        key = clean.casefold()
        if clean and not _is_url(clean) and key not in seen:
            seen[key] = clean
    return tuple(seen.values())


def first_meta(scan: Scan, *names: str) -> str:
    for name in names:
        for value in scan.meta.get(name, []):
            if value:
                return value
    return ""


def declared_url(tree: Any, fallback: str) -> str:
    canonicals: list[str] = []
    og_url = ""
    for el in tree.iter("link", "meta"):
        if el.tag == "link" and "canonical" in el.get("rel", "").lower().split():
            canonicals.append(absolute(fallback, el.get("href", "")))
        elif el.tag == "meta" and el.get("property", "").lower() == "og:url" and not og_url:
            og_url = absolute(fallback, el.get("content", ""))
    return self_url(canonicals, og_url, fallback)


def self_url(canonicals: Sequence[str], og_url: str, fallback: str) -> str:
    for candidate in (*canonicals, og_url):
        if candidate and urlsplit(candidate).scheme in {"http", "https"}:
            return candidate
    return fallback


# -- what checks read in the markup (PageFacts.captions and markup_published used to parse the
# page again for these) -----------------------------------------------------------------------

_CAPTIONS = etree.XPath(
    "//figcaption | //caption | //*[contains(@class, 'caption')]"
    " | //figure//*[contains(@class, 'credit')]"
)
_PUBLISHED_META = tuple(
    etree.XPath(f"//meta[@{attr}='{value}']/@content")
    for attr, value in (
        ("property", "article:published_time"),
        ("name", "article:published_time"),
        ("itemprop", "datePublished"),
        ("name", "date"),
        ("name", "dc.date"),
    )
)
_JSONLD_TEXT = etree.XPath("//script[@type='application/ld+json']/text()")
_TIME_STAMPS = etree.XPath("//time/@datetime")


def captions(tree: Any) -> tuple[str, ...]:
    """Texts of image captions and photo credits (figcaption, caption, class *caption*, class
    *credit* inside a figure), whitespace collapsed, first of each, in document order.

    No test of the markup's text first: most pages name a caption or a credit somewhere, and
    lower-casing the HTML costs more than the search."""
    texts = (" ".join(el.text_content().split()) for el in _CAPTIONS(tree))
    return tuple(dict.fromkeys(t for t in texts if t))


def markup_published(tree: Any) -> str | None:
    """The publication time the markup states: article:published_time and its kin, JSON-LD
    datePublished (anywhere in the first block that has one), or a <time datetime>."""
    for query in _PUBLISHED_META:
        for content in query(tree):
            if str(content).strip():
                return str(content).strip()
    found = _jsonld_published(_JSONLD_TEXT(tree))
    if found:
        return found
    for stamp in _TIME_STAMPS(tree):
        if str(stamp).strip():
            return str(stamp).strip()
    return None


def _jsonld_published(scripts: Iterable[Any]) -> str | None:
    def walk(node: Any) -> str | None:
        if isinstance(node, Mapping):
            value = node.get("datePublished")
            if isinstance(value, str) and value:
                return value
            for child in node.values():
                found = walk(child)
                if found:
                    return found
        elif isinstance(node, list):
            for child in node:
                found = walk(child)
                if found:
                    return found
        return None

    for script in scripts:
        try:  # absurdly nested blocks are skipped, as broken ones are
            found = walk(json.loads(str(script)))
        except (ValueError, TypeError, RecursionError):
            continue
        if found:
            return found
    return None
