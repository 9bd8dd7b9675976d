"""Extraction: one fetched HTML page -> a Page with its article text and the DOM facts checks need.

The HTML is parsed once, with lxml (the parser trafilatura itself uses). One iterative walk of
that tree builds `full_text` (all visible text in document order) and collects links, embedded
resources, canonical tags, meta robots, JSON-LD, and each element's span in `full_text`.
trafilatura then extracts the main text from the same tree (it works on its own copy). The
article region is the smallest element whose span holds at least 80% of the extracted
paragraphs; `near` is that region's enclosing <article>/<main> (else its parent) minus chrome
(nav, aside, site-level header/footer, sidebars, widgets, comments, link lists). See
docs/extraction.md.

Nothing here raises on bad input: malformed HTML, empty bodies and binary junk give a Page with
empty texts.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from xpostcheck.models import Fetched, Link, Page, Region, Resource, SourceArticle

__all__ = [
    "ARTICLE_SHARE",
    "MAX_EXTRACT_ELEMENTS",
    "article_from_html",
    "article_from_saved_html",
    "decode_html",
    "extract_html",
    "extract_page",
    "feed_links",
    "fragment_content",
    "looks_binary",
    "visible_text",
]

# The article region is the smallest element holding this share of the extracted text.
ARTICLE_SHARE = 0.8
# trafilatura costs about 0.2-0.5 ms per element; above this many elements (50 times a typical
# article page) it is skipped, and the page keeps its full text, regions and DOM facts.
MAX_EXTRACT_ELEMENTS = 40_000
# A block with at least this many links whose text is at least this share link text, and that
# holds none of the extracted text, is a link list (related, most read, tag cloud): chrome.
LINK_LIST_MIN = 3
LINK_LIST_DENSITY = 0.6
# Chrome-looking elements (by tag, role, class) holding this share of the extracted text stay.
CHROME_KEEP_SHARE = 0.2
MAX_JSONLD_OBJECTS = 1000

# fmt: off
_BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd",
    "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main",
    "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul", "legend", "option",
))
# fmt: on
# Elements whose content is never rendered as text.
_NO_TEXT = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "iframe", "object", "select"}
)
# Elements not descended at all (their content is not markup or is inert).
_NO_DESCEND = frozenset({"script", "style", "template"})
_RESOURCE_TAGS = frozenset(
    {"img", "script", "iframe", "amp-pixel", "amp-img", "amp-analytics", "source", "embed"}
)
_COLLECT = frozenset({"a", "link", "meta", "title", "h1", "script"}) | _RESOURCE_TAGS
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
    }
)
_WORD_SPLIT = re.compile(r"[\s_-]+")
_HIDDEN_STYLE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
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
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)

_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_LINK_REL = re.compile(r"""(?i)\brel\s*=\s*("[^"]*"|'[^']*'|[^;,\s]+)""")
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})

_LOG = logging.getLogger(__name__)


# -- decoding ---------------------------------------------------------------------------------


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Decode saved HTML bytes with the same policy as fetched pages (fetch.decode_body): BOM,
    then `declared` (e.g. from Content-Type), then the meta charset, then a sniff."""
    from xpostcheck.net.decode import decode_body

    return decode_body(data, f"text/html; charset={declared}" if declared else None)[0]


def looks_binary(text: str) -> bool:
    """True for decoded binary junk: many control or replacement characters near the start."""
    head = text[:4096]
    if not head:
        return False
    bad = len(_CONTROL.findall(head)) + head.count("\ufffd")
    return bad > max(8, len(head) // 20)


# -- the walk ---------------------------------------------------------------------------------


class _TextBuilder:
    """Visible text with whitespace collapsed, one line per block."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.newline = False
        self.space = False
        self.chunks: list[tuple[int, int, int]] = []  # (start, end, node index)

    def block(self) -> None:
        self.newline = True

    def add(self, raw: str | None, node: int) -> None:
        if not raw:
            return
        text = _WS.sub(" ", raw)
        if text.startswith(" "):
            self.space = True
        text = text.strip()
        if not text:
            return
        if self.pos:
            if self.newline:
                self._emit("\n")
            elif self.space:
                self._emit(" ")
        self.newline = self.space = False
        start = self.pos
        self._emit(text)
        self.chunks.append((start, self.pos, node))
        if raw[-1:].isspace():
            self.space = True

    def _emit(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass(slots=True)
class _Node:
    el: Any
    tag: str
    parent: int
    hidden: bool
    start: int = 0
    end: int = 0
    last: int = 0  # pre-order index of the last descendant
    in_link: bool = False  # the element is an <a> or inside one


@dataclass
class _Scan:
    base: str
    nodes: list[_Node] = field(default_factory=list)
    text: _TextBuilder = field(default_factory=_TextBuilder)
    links: list[tuple[int, str, str, tuple[str, ...]]] = field(default_factory=list)
    resources: list[tuple[int, str, str, str]] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[str] = field(default_factory=list)
    title: str = ""
    h1: str = ""
    origin: str = ""  # scheme://host[:port] of base, for the root-relative fast path

    def resolve(self, href: str) -> str:
        href = href.strip()
        if (
            self.origin
            and href.startswith("/")
            and not href.startswith("//")
            and "/." not in href
            and "\\" not in href
        ):
            return self.origin + href  # what urljoin gives, at a tenth of the cost
        return _absolute(self.base, href)


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme in {"http", "https"} and parts.netloc and "@" not in parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def _is_hidden(el: Any, tag: str) -> bool:
    # el.get, not el.attrib: each .attrib access builds a proxy object (a hot path).
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return bool(tag == "input" and (el.get("type") or "").lower() == "hidden")


def _absolute(base: str, href: str) -> str:
    href = href.strip()
    if href.startswith(("https://", "http://")):  # already absolute; urljoin is slow
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def _base_url(url: str, root: Any) -> str:
    for base in root.iter("base"):
        href = base.get("href")
        if href:
            return _absolute(url, href)
    return url


def _walk(root: Any, url: str) -> _Scan:
    base = _base_url(url, root)
    scan = _Scan(base=base, origin=_origin(base))
    nodes = scan.nodes
    tb = scan.text
    # stack items: (element, parent index, parent hidden, parent text-off, closing?)
    stack: list[tuple[Any, int, bool, bool, int]] = [(root, -1, False, False, -1)]
    while stack:
        el, parent, p_hidden, p_notext, closing = stack.pop()
        if closing >= 0:
            node = nodes[closing]
            node.end = tb.pos
            node.last = len(nodes) - 1
            if node.tag in _BLOCK:
                tb.block()
            if not (p_hidden or p_notext):
                tb.add(el.tail, parent)
            continue
        tag = el.tag
        if not isinstance(tag, str):  # comment, processing instruction, entity
            if not (p_hidden or p_notext):
                tb.add(el.tail, parent)
            continue
        tag = tag.lower()
        hidden = p_hidden or _is_hidden(el, tag)
        notext = p_notext or tag in _NO_TEXT
        index = len(nodes)
        in_link = tag == "a" or (parent >= 0 and nodes[parent].in_link)
        nodes.append(_Node(el, tag, parent, hidden, start=tb.pos, in_link=in_link))
        if tag in _COLLECT:
            _collect(scan, el, tag, index)
        if tag in _BLOCK:
            tb.block()
        stack.append((el, parent, p_hidden, p_notext, index))
        if tag in _NO_DESCEND:
            continue
        if not (hidden or notext):
            tb.add(el.text, index)
        for child in reversed(el):
            stack.append((child, index, hidden, notext, -1))
    return scan


def _collect(scan: _Scan, el: Any, tag: str, index: int) -> None:
    attrib = el.attrib
    # Only the tags in _COLLECT come here.
    if tag == "a" or tag == "link":
        href = attrib.get("href")
        rel = tuple(attrib.get("rel", "").lower().split())
        if href is not None:
            absolute = scan.resolve(href)
            if tag == "a":
                scan.links.append((index, absolute, "", rel))
            if "canonical" in rel and tag == "link":
                scan.canonicals.append(absolute)
            if "license" in rel:
                scan.licenses.append(absolute)
        return
    if tag == "meta":
        name = (
            attrib.get("name") or attrib.get("property") or attrib.get("itemprop") or ""
        ).lower()
        content = attrib.get("content")
        if name and content is not None:
            scan.meta.setdefault(name.strip(), []).append(content.strip())
        return
    if tag == "title" and not scan.title:
        scan.title = _WS.sub(" ", el.text_content()).strip()
        return
    if tag == "h1" and not scan.h1:
        scan.h1 = _WS.sub(" ", el.text_content()).strip()
    if tag == "script" and attrib.get("type", "").lower() == "application/ld+json":
        scan.jsonld.append(el.text or "")
    if tag in _RESOURCE_TAGS:
        for src in _resource_urls(el, tag):
            scan.resources.append((index, tag, scan.resolve(src), attrib.get("alt", "")))


def _resource_urls(el: Any, tag: str) -> list[str]:
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


# -- regions ----------------------------------------------------------------------------------


def _paragraph_spans(extracted: str, full: str) -> list[tuple[int, int]]:
    """Where each extracted paragraph sits in full_text (sorted, paragraphs not found left out)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for line in extracted.split("\n"):
        para = _WS.sub(" ", line).strip()
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

    def held(self, node: _Node) -> int:
        lo = bisect_left(self.starts, node.start)
        hi = bisect_left(self.starts, node.end)
        return self.prefix[hi] - self.prefix[lo]


def _article_node(nodes: list[_Node], paragraphs: _Paragraphs, size_limit: int) -> int:
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


def _ancestors(nodes: list[_Node], i: int) -> Iterator[int]:
    i = nodes[i].parent
    while i >= 0:
        yield i
        i = nodes[i].parent


class _LinkDensity:
    """Per element: visible characters, characters inside links, and number of links."""

    def __init__(self, scan: _Scan) -> None:
        chunks = scan.text.chunks
        nodes = scan.nodes
        self.starts = [start for start, _, _ in chunks]
        self.total = [0]
        self.linked = [0]
        for start, end, node in chunks:
            self.total.append(self.total[-1] + end - start)
            self.linked.append(self.linked[-1] + (end - start if nodes[node].in_link else 0))
        self.links = [i for i, _, _, _ in scan.links]  # pre-order, so sorted

    def is_link_list(self, node: _Node, index: int) -> bool:
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
    nodes: list[_Node],
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
    if tag not in _BLOCK:  # an inline element inside a credit line is part of that line
        return False
    words = f"{attrib.get('class', '')} {attrib.get('id', '')}".lower()
    if words.strip() and not _CHROME_WORDS.isdisjoint(_WORD_SPLIT.split(words)):
        return True
    return held == 0 and density is not None and density.is_link_list(node, i)


def _near_node(nodes: list[_Node], article: int) -> int:
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
class _Regions:
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
    nodes: list[_Node],
    article: int,
    density: _LinkDensity | None = None,
    paragraphs: _Paragraphs | None = None,
) -> _Regions:
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
    return _Regions(a_span, n_span, tuple(excluded))


def _region_texts(scan: _Scan, full: str, regions: _Regions) -> tuple[str, str]:
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


# -- metadata ---------------------------------------------------------------------------------


def _robots(scan: _Scan, headers: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    found: list[str] = []
    for name in ("robots", "googlebot"):
        for content in scan.meta.get(name, []):
            found.extend(_WS.sub("", d.lower()) for d in content.split(","))
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
                found.append(_WS.sub("", part.lower()))
    return tuple(dict.fromkeys(d for d in found if d))


def _header_links(headers: Sequence[tuple[str, str]], rel: str, base: str) -> tuple[str, ...]:
    """URLs of a given rel in HTTP `Link` headers (RFC 8288), e.g. a canonical sent in a header."""
    found: list[str] = []
    for key, value in headers:
        if key.lower() != "link":
            continue
        for target, params in _LINK_VALUE.findall(value):
            rels = _LINK_REL.search(params)
            if rels and rel in rels.group(1).strip("\"'").lower().split():
                found.append(_absolute(base, target))
    return tuple(found)


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


def _jsonld_facts(scan: _Scan) -> tuple[list[str], str | None]:
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


def _authors(scan: _Scan, jsonld: list[str], byline: str | None) -> tuple[str, ...]:
    found: list[str] = []
    found += scan.meta.get("author", [])
    found += [a for a in scan.meta.get("article:author", []) if not _is_url(a)]
    found += jsonld
    if byline:
        found += byline.split(";")
    seen: dict[str, str] = {}
    for name in found:
        clean = _WS.sub(" ", name).strip()
        key = clean.casefold()
        if clean and not _is_url(clean) and key not in seen:
            seen[key] = clean
    return tuple(seen.values())


def _first_meta(scan: _Scan, *names: str) -> str:
    for name in names:
        for value in scan.meta.get(name, []):
            if value:
                return value
    return ""


# -- trafilatura ------------------------------------------------------------------------------


def _parse(html: str) -> Any:
    """The lxml tree trafilatura would build, or a plain lxml parse of fragments; None if junk."""
    if not html.strip() or looks_binary(html):
        return None
    html = _CONTROL.sub("", html)
    if _SURROGATE.search(html):  # lone surrogates make lxml drop the rest of the text
        html = _SURROGATE.sub("\ufffd", html)
    try:
        from trafilatura.utils import load_html

        tree = load_html(html)
        if tree is not None:
            return tree
    except Exception:  # trafilatura's loader is a convenience; fall back to lxml
        _LOG.debug("trafilatura.load_html failed", exc_info=True)
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _trafilatura(tree: Any, url: str) -> tuple[str, str, str | None, str | None]:
    """(text, title, author, date) from trafilatura; empty on failure."""
    try:
        from trafilatura import bare_extraction

        doc = bare_extraction(
            tree,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            favor_precision=True,
            # No extensive search: it guesses dates from copyright years and "today".
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
    except ImportError:  # a broken install, not a bad page: say so (seen with lxml 6.1)
        raise
    except Exception:  # a third-party extractor must not stop a scan
        _LOG.debug("trafilatura failed on %s", url, exc_info=True)
        return "", "", None, None
    if doc is None:
        return "", "", None, None
    get = doc.get if isinstance(doc, dict) else lambda key: getattr(doc, key, None)
    text, title, author, date = (get(k) for k in ("text", "title", "author", "date"))
    return (
        text if isinstance(text, str) else "",
        title if isinstance(title, str) else "",
        author if isinstance(author, str) else None,
        date if isinstance(date, str) else None,
    )


# -- public API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Extras:
    og_url: str = ""
    og_image: str = ""


def _empty(
    url: str, status: int, headers: Sequence[tuple[str, str]], fetched_at: str, html: str
) -> Page:
    return Page(
        url=url,
        status=status,
        headers=tuple(headers),
        fetched_at=fetched_at,
        title="",
        text="",
        full_text="",
        near_text="",
        chrome_text="",
        meta_robots=_robots(_Scan(base=url), headers),
        html=html,
    )


def _extract(
    url: str,
    html: str,
    headers: Sequence[tuple[str, str]],
    status: int,
    fetched_at: str,
    *,
    own_url: bool = False,
) -> tuple[Page, _Extras]:
    """The Page and a few extras. With own_url, `url` is only a fallback: the page's own
    canonical or og:url becomes its URL (and the base for its relative links)."""
    headers = tuple((str(k), str(v)) for k, v in headers)
    if _SURROGATE.search(html):  # unencodable: lxml, JSON and SQLite would all choke on them
        html = _SURROGATE.sub("\ufffd", html)
    try:
        tree = _parse(html)
        if tree is None:
            return _empty(url, status, headers, fetched_at, html), _Extras()
        if own_url:
            url = _own_url(tree, url)
        return _extract_tree(tree, url, html, headers, status, fetched_at)
    except RecursionError:  # absurdly deep documents inside third-party code
        return _empty(url, status, headers, fetched_at, html), _Extras()


def _own_url(tree: Any, fallback: str) -> str:
    canonicals: list[str] = []
    og_url = ""
    for el in tree.iter("link", "meta"):
        if el.tag == "link" and "canonical" in el.get("rel", "").lower().split():
            canonicals.append(_absolute(fallback, el.get("href", "")))
        elif el.tag == "meta" and el.get("property", "").lower() == "og:url" and not og_url:
            og_url = _absolute(fallback, el.get("content", ""))
    return _self_url(canonicals, og_url, fallback)


def _extract_tree(
    tree: Any,
    url: str,
    html: str,
    headers: tuple[tuple[str, str], ...],
    status: int,
    fetched_at: str,
) -> tuple[Page, _Extras]:
    scan = _walk(tree, url)
    full = scan.text.text()
    if full and len(scan.nodes) <= MAX_EXTRACT_ELEMENTS:
        text, t_title, t_author, t_date = _trafilatura(tree, url)
    else:
        text, t_title, t_author, t_date = "", "", None, None
    if scan.nodes:
        paragraphs = _Paragraphs(text, full)
        article = _article_node(scan.nodes, paragraphs, len(full))
        regions = _regions(scan.nodes, article, _LinkDensity(scan), paragraphs)
    else:
        regions = _Regions((0, -1), (0, -1), ())
    near_text, chrome_text = _region_texts(scan, full, regions)

    nodes = scan.nodes
    links = tuple(
        Link(
            href=href,
            text=_anchor_text(nodes[i], full),
            rel=rel,
            region=regions.of(i),
            hidden=nodes[i].hidden,
        )
        for i, href, _, rel in scan.links
    )
    resources = tuple(
        Resource(tag=tag, url=src, hidden=nodes[i].hidden, alt=alt, region=regions.of(i))
        for i, tag, src, alt in scan.resources
    )
    ld_authors, ld_published = _jsonld_facts(scan)
    published = (
        _first_meta(scan, "article:published_time", "datepublished")
        or ld_published
        or t_date
        or None
    )
    title = t_title or _first_meta(scan, "og:title") or scan.h1 or scan.title
    page = Page(
        url=url,
        status=status,
        headers=headers,
        fetched_at=fetched_at,
        title=_WS.sub(" ", title).strip(),
        text=text,
        full_text=full,
        near_text=near_text,
        chrome_text=chrome_text,
        links=links,
        resources=resources,
        canonicals=tuple(scan.canonicals) + _header_links(headers, "canonical", scan.base),
        meta_robots=_robots(scan, headers),
        authors=_authors(scan, ld_authors, t_author),
        published=published,
        license_urls=tuple(
            dict.fromkeys((*scan.licenses, *_header_links(headers, "license", scan.base)))
        ),
        html=html,
    )
    og_url = _first_meta(scan, "og:url")
    og_image = _first_meta(scan, "og:image")
    return page, _Extras(
        og_url=_absolute(scan.base, og_url) if og_url else "",
        og_image=_absolute(scan.base, og_image) if og_image else "",
    )


def _anchor_text(node: _Node, full: str) -> str:
    if node.hidden:
        text = _WS.sub(" ", node.el.text_content()).strip()
    else:
        text = _WS.sub(" ", full[node.start : node.end]).strip()
    if text:
        return text
    alts = (img.get("alt", "") for img in node.el.iter("img"))
    return _WS.sub(" ", " ".join(a for a in alts if a)).strip()


def extract_html(
    url: str,
    html: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    status: int = 200,
    fetched_at: str = "",
) -> Page:
    """Extract a page from decoded HTML. Never raises on bad HTML: junk gives empty texts."""
    return _extract(url, html, headers, status, fetched_at)[0]


def extract_page(fetched: Fetched) -> Page:
    """Extract a fetched page (final URL, decoded text, headers, status and fetch time)."""
    return extract_html(
        fetched.final_url,
        fetched.text,
        headers=fetched.headers,
        status=fetched.status,
        fetched_at=fetched.fetched_at,
    )


def _self_url(canonicals: Sequence[str], og_url: str, fallback: str) -> str:
    for candidate in (*canonicals, og_url):
        if candidate and urlsplit(candidate).scheme in {"http", "https"}:
            return candidate
    return fallback


def _article(url: str, page: Page, extras: _Extras, html: str, publisher: str) -> SourceArticle:
    images = [
        r.url
        for r in page.resources
        if r.tag in {"img", "amp-img"} and r.region == "article" and not r.hidden
    ]
    if extras.og_image:
        images.append(extras.og_image)
    return SourceArticle(
        url=url,
        title=page.title,
        text=page.text or page.near_text,
        authors=page.authors,
        published=page.published,
        publisher=publisher,
        images=tuple(dict.fromkeys(u for u in images if urlsplit(u).scheme in {"http", "https"})),
        html=html,
    )


def article_from_html(url: str, html: str, *, publisher: str = "") -> SourceArticle:
    """A publisher's article from its page: title, authors, date, main text and images.

    The text is trafilatura's main text, falling back to the article region's text when the
    extractor finds nothing. Images are those of the article region, then og:image.
    """
    page, extras = _extract(url, html, (), 200, "")
    return _article(url, page, extras, html, publisher)


def article_from_saved_html(html: str, fallback_url: str, *, publisher: str = "") -> SourceArticle:
    """Like article_from_html for a saved page, whose URL is its own <link rel=canonical>
    (the first http(s) one), else its og:url, else `fallback_url` (e.g. a file:// URL)."""
    page, extras = _extract(fallback_url, html, (), 200, "", own_url=True)
    return _article(page.url, page, extras, html, publisher)


def fragment_content(html: str, base_url: str = "") -> tuple[str, tuple[str, ...]]:
    """(visible text, absolute image URLs) of an HTML fragment such as a feed entry's content.
    No main-text extraction: the fragment is the content."""
    if "<html" not in html[:2048].lower():
        html = f"<html><body>{html}</body></html>"
    tree = _parse(html)
    if tree is None:
        return "", ()
    scan = _walk(tree, base_url)
    images = (
        src
        for i, tag, src, _ in scan.resources
        if tag in {"img", "amp-img"} and not scan.nodes[i].hidden
    )
    return scan.text.text(), tuple(
        dict.fromkeys(u for u in images if urlsplit(u).scheme in {"http", "https"})
    )


def feed_links(html: str, base_url: str) -> list[str]:
    """Absolute URLs of the RSS/Atom feeds a page names with <link rel=alternate type=...>."""
    tree = _parse(html)
    if tree is None:
        return []
    found: list[str] = []
    for el in tree.iter("link"):
        rel = el.get("rel", "").lower().split()
        kind = el.get("type", "").lower().strip()
        href = el.get("href", "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            found.append(_absolute(base_url, href))
    return list(dict.fromkeys(found))


def visible_text(html: str) -> str:
    """All visible text of an HTML document or fragment (what full_text holds), no extraction."""
    return fragment_content(html)[0]
