"""Regions of a page: the article element, its surroundings (near) and the site chrome.

In: the Scan of a page's tree and the extractor's main text. Out: Regions, which name the
region of any element, and the near and chrome texts. The article region is the smallest
element whose span holds ARTICLE_SHARE of the extracted paragraphs; near is that region's
enclosing <article>/<main> (else its parent) minus chrome (nav, aside, site-level header and
footer, sidebars, widgets, comments, link lists). See docs/extraction.md.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xpostcheck.extract.walk import BLOCK, WS, Node, Scan
from xpostcheck.models import Region

__all__ = [
    "ARTICLE_SHARE",
    "CHROME_KEEP_SHARE",
    "LINK_LIST_DENSITY",
    "LINK_LIST_MIN",
    "Regions",
    "find_regions",
    "region_texts",
]

# The article region is the smallest element holding this share of the extracted text.
ARTICLE_SHARE = 0.8
# trafilatura costs about 0.2-0.5 ms per element; above this many elements (50 times a typical
# A block with at least this many links whose text is at least this share link text, and that
# holds none of the extracted text, is a link list (related, most read, tag cloud): chrome.
LINK_LIST_MIN = 3
LINK_LIST_DENSITY = 0.6
# Chrome-looking elements (by tag, role, class) holding this share of the extracted text stay.
CHROME_KEEP_SHARE = 0.2
_SECTIONING = frozenset({"article", "section", "main"})
_CHROME_ROLES = frozenset({"navigation", "complementary", "banner", "contentinfo", "search"})
# class/id words that mark site chrome inside an article's container.
_CHROME_WORDS = frozenset(
    {
        "sidebar",
        "widget",
        "widgets",
        "blogroll",
        "menu",
        "nav",
        "navbar",
        "navigation",
        "breadcrumb",
        "breadcrumbs",
        "comments",
        "comment",
        "related",
        "colophon",
        "masthead",
        # Widgets CMSs put inside the entry content: related posts (WordPress core, Jetpack,
        # YARPP, Contextual Related Posts, Blogger, Ghost, Drupal), share bars, newsletter and
        # subscription boxes (Substack, Ghost, Medium), tag lists.
        "relatedposts",
        "related_posts",
        "yarpp",
        "crp_related",
        "sharedaddy",
        "sharing",
        "share",
        "sharebar",
        "social",
        "newsletter",
        "subscribe",
        "subscription",
        "tagcloud",
        "tags",
        "recommended",
        "recirculation",
        "readmore",
    }
)
_WORD_SPLIT = re.compile(r"[\s_-]+")


def _paragraph_spans(extracted: str, full: str) -> list[tuple[int, int]]:
    """Where each extracted paragraph sits in full_text (sorted, paragraphs not found left out)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for line in extracted.split("\n"):
        para = WS.sub(" ", line).strip()
        if len(para) < 3:
            continue
        at = full.find(para, cursor)
        if at < 0:
            at = full.find(para)
        if at < 0 and len(para) > 60:
            # Extractors sometimes rejoin inline pieces; anchor on the paragraph's start.
            at = full.find(para[:60], cursor)
        if at < 0:
            continue
        spans.append((at, at + len(para)))
        cursor = at + len(para)
    spans.sort()
    return spans


class _Paragraphs:
    """The extracted paragraphs' positions in full_text, to ask how much of them an element
    holds."""

    def __init__(self, extracted: str, full: str) -> None:
        spans = _paragraph_spans(extracted, full)
        self.starts = [s for s, _ in spans]
        self.prefix = [0]
        for s, e in spans:
            self.prefix.append(self.prefix[-1] + (e - s))
        self.total = self.prefix[-1]

    def held(self, node: Node) -> int:
        lo = bisect_left(self.starts, node.start)
        hi = bisect_left(self.starts, node.end)
        return self.prefix[hi] - self.prefix[lo]


def _article_node(nodes: list[Node], paragraphs: _Paragraphs, size_limit: int) -> int:
    """Index of the smallest element holding ARTICLE_SHARE of the extracted paragraphs."""
    body = next((i for i, n in enumerate(nodes) if n.tag == "body"), 0)
    if not paragraphs.total or not nodes:
        return body
    need = ARTICLE_SHARE * paragraphs.total
    best, best_size = body, size_limit + 1
    for i, node in enumerate(nodes):
        size = node.end - node.start
        if node.hidden or size >= best_size or size < need:
            continue
        if paragraphs.held(node) >= need:
            best, best_size = i, size
    return best


def _ancestors(nodes: list[Node], i: int) -> Iterator[int]:
    i = nodes[i].parent
    while i >= 0:
        yield i
        i = nodes[i].parent


class _LinkDensity:
    """Per element: visible characters, characters inside links, and number of links."""

    def __init__(self, scan: Scan) -> None:
        chunks = scan.text.chunks
        nodes = scan.nodes
        self.starts = [start for start, _, _ in chunks]
        self.total = [0]
        self.linked = [0]
        for start, end, node in chunks:
            self.total.append(self.total[-1] + end - start)
            self.linked.append(self.linked[-1] + (end - start if nodes[node].in_link else 0))
        self.links = [i for i, _, _, _ in scan.links]  # pre-order, so sorted

    def is_link_list(self, node: Node, index: int) -> bool:
        """A block of LINK_LIST_MIN links or more whose text is mostly link text: a related or
        most-read list, a tag cloud, a blogroll."""
        count = bisect_right(self.links, node.last) - bisect_right(self.links, index)
        count += 1 if node.tag == "a" else 0
        if count < LINK_LIST_MIN:
            return False
        lo = bisect_left(self.starts, node.start)
        hi = bisect_left(self.starts, node.end)
        total = self.total[hi] - self.total[lo]
        return total > 0 and (self.linked[hi] - self.linked[lo]) >= LINK_LIST_DENSITY * total


def _is_chrome(
    nodes: list[Node],
    i: int,
    density: _LinkDensity | None = None,
    paragraphs: _Paragraphs | None = None,
) -> bool:
    """Chrome by tag, role or class/id word, unless it holds CHROME_KEEP_SHARE of the extracted
    text; or a link list that holds none of it (a paragraph dense with name links is not)."""
    node = nodes[i]
    held = paragraphs.held(node) if paragraphs is not None and paragraphs.total else 0
    if paragraphs is not None and held >= CHROME_KEEP_SHARE * paragraphs.total > 0:
        return False
    tag = node.tag
    if tag in {"nav", "aside"}:
        return True
    attrib = node.el.attrib
    if attrib.get("role", "").lower() in _CHROME_ROLES:
        return True
    if tag in {"header", "footer"} and not any(
        nodes[a].tag in _SECTIONING for a in _ancestors(nodes, i)
    ):
        return True
    if tag not in BLOCK:  # an inline element inside a credit line is part of that line
        return False
    words = f"{attrib.get('class', '')} {attrib.get('id', '')}".lower()
    if words.strip() and not _CHROME_WORDS.isdisjoint(_WORD_SPLIT.split(words)):
        return True
    return (
        held == 0
        and density is not None
        and density.is_link_list(node, i)
        and not _holds_byline(node.el)
    )


def _holds_byline(el: Any) -> bool:
    """An element with the author's markup (itemprop=author, rel=author, a byline or vcard
    class): a post's own header or footer line, not a list of links to other pages."""
    for sub in el.iter():
        if sub.get("itemprop") == "author" or "author" in (sub.get("rel") or "").split():
            return True
        words = _WORD_SPLIT.split((sub.get("class") or "").lower())
        if "byline" in words or "vcard" in words:
            return True
    return False


def _near_node(nodes: list[Node], article: int) -> int:
    for a in _ancestors(nodes, article):
        node = nodes[a]
        if node.tag in {"body", "html"}:
            break
        if node.tag in {"article", "main"} or node.el.get("role", "").lower() in {
            "article",
            "main",
        }:
            return a
    parent = nodes[article].parent
    if parent < 0 or nodes[article].tag in {"body", "html"}:
        return article
    return parent if nodes[parent].tag != "html" else article


@dataclass(frozen=True)
class Regions:
    """Pre-order index spans of the article and near elements; `excluded` (sorted, disjoint)
    is the chrome inside the near element, the article included."""

    article: tuple[int, int]
    near: tuple[int, int]
    excluded: tuple[tuple[int, int], ...]

    def _is_excluded(self, i: int) -> bool:
        at = bisect_right(self.excluded, (i, sys.maxsize)) - 1
        return at >= 0 and self.excluded[at][0] <= i <= self.excluded[at][1]

    def of(self, i: int) -> Region:
        if not (self.near[0] <= i <= self.near[1]) or self._is_excluded(i):
            return "chrome"
        return "article" if self.article[0] <= i <= self.article[1] else "near"


def _regions(
    nodes: list[Node],
    article: int,
    density: _LinkDensity | None = None,
    paragraphs: _Paragraphs | None = None,
) -> Regions:
    """Chrome inside the near element is excluded, inside the article too (a share bar or a
    most-read box within <article>), unless it holds a fifth of the extracted text: then the
    extractor says it is content whatever its class says."""
    near = _near_node(nodes, article)
    a_span = (article, nodes[article].last)
    n_span = (near, nodes[near].last)
    excluded: list[tuple[int, int]] = []
    i = near + 1
    while i <= n_span[1]:
        node = nodes[i]
        contains_article = i <= article <= node.last
        if not contains_article and _is_chrome(nodes, i, density, paragraphs):
            excluded.append((i, node.last))
            i = node.last + 1
            continue
        i += 1
    return Regions(a_span, n_span, tuple(excluded))


def region_texts(scan: Scan, full: str, regions: Regions) -> tuple[str, str]:
    near: list[str] = []
    chrome: list[str] = []
    last_end = {"near": -1, "chrome": -1}
    for start, end, node in scan.text.chunks:
        region = regions.of(node)
        key = "chrome" if region == "chrome" else "near"
        out = chrome if key == "chrome" else near
        prev = last_end[key]
        if out:
            gap = full[prev:start]
            out.append(gap if gap in ("", " ", "\n") else "\n")
        out.append(full[start:end])
        last_end[key] = end
    return "".join(near), "".join(chrome)


def find_regions(scan: Scan, extracted: str, full: str) -> Regions:
    """The regions of a walked page, given the extractor's main text (may be empty)."""
    if not scan.nodes:
        return Regions((0, -1), (0, -1), ())
    paragraphs = _Paragraphs(extracted, full)
    article = _article_node(scan.nodes, paragraphs, len(full))
    return _regions(scan.nodes, article, _LinkDensity(scan), paragraphs)
