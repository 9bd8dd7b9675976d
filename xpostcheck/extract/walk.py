"""The one walk of a page's lxml tree: its visible text and the raw DOM facts.

In: the lxml tree and the page URL. Out: a Scan holding full_text as built (with each text
chunk's element), every element in pre-order with its text span and hidden flag, and the
links, embedded resources, canonical and license URLs, meta tags, JSON-LD scripts, <title>
and first <h1> found on the way. Links and resources are kept up to `MAX_WALK_LINKS` each (the
rest are counted): a page with more elements than that gets no main-text extraction, so it has
no article whose links would deserve a place, and extraction keeps fewer still
(`links.keep_first`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from xpostcheck.extract.links import absolute, base_url, origin, resource_urls

__all__ = ["BLOCK", "RESOURCE_TAGS", "WS", "Node", "Scan", "TextBuilder", "walk"]

# fmt: off
BLOCK = frozenset((
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
RESOURCE_TAGS = frozenset(
    {"img", "script", "iframe", "amp-pixel", "amp-img", "amp-analytics", "source", "embed"}
)
_COLLECT = frozenset({"a", "link", "meta", "title", "h1", "script"}) | RESOURCE_TAGS
_SECTIONING = frozenset({"article", "section", "main"})
_HIDDEN_STYLE = re.compile(r"(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
WS = re.compile(r"\s+")
# As many as page.MAX_EXTRACT_ELEMENTS: a page with fewer elements loses no link to this cap.
MAX_WALK_LINKS = 40_000


class TextBuilder:
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
        text = WS.sub(" ", raw)
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
class Node:
    el: Any
    tag: str
    parent: int
    hidden: bool
    start: int = 0
    end: int = 0
    last: int = 0  # pre-order index of the last descendant
    in_link: bool = False  # the element is an <a> or inside one


@dataclass
class Scan:
    base: str
    nodes: list[Node] = field(default_factory=list)
    text: TextBuilder = field(default_factory=TextBuilder)
    links: list[tuple[int, str, str, tuple[str, ...]]] = field(default_factory=list)
    resources: list[tuple[int, str, str, str]] = field(default_factory=list)
    canonicals: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[str] = field(default_factory=list)
    title: str = ""
    h1: str = ""
    origin: str = ""  # scheme://host[:port] of base, for the root-relative fast path
    max_links: int = MAX_WALK_LINKS  # links, and as many resources, kept

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
        return absolute(self.base, href)


def _is_hidden(el: Any, tag: str) -> bool:
    # el.get, not el.attrib: each .attrib access builds a proxy object (a hot path).
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return bool(tag == "input" and (el.get("type") or "").lower() == "hidden")


def walk(root: Any, url: str, *, max_links: int = MAX_WALK_LINKS) -> Scan:
    base = base_url(url, root)
    scan = Scan(base=base, origin=origin(base), max_links=max_links)
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
            if node.tag in BLOCK:
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
        nodes.append(Node(el, tag, parent, hidden, start=tb.pos, in_link=in_link))
        if tag in _COLLECT:
            _collect(scan, el, tag, index)
        if tag in BLOCK:
            tb.block()
        stack.append((el, parent, p_hidden, p_notext, index))
        if tag in _NO_DESCEND:
            continue
        if not (hidden or notext):
            tb.add(el.text, index)
        for child in reversed(el):
            stack.append((child, index, hidden, notext, -1))
    return scan


def _collect(scan: Scan, el: Any, tag: str, index: int) -> None:
    attrib = el.attrib
    # Only the tags in _COLLECT come here.
    if tag == "a" or tag == "link":
        href = attrib.get("href")
        rel = tuple(attrib.get("rel", "").lower().split())
        if href is not None:
            if tag == "a" and len(scan.links) >= scan.max_links:
                return  # past the cap: not kept
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
        scan.title = WS.sub(" ", el.text_content()).strip()
        return
    if tag == "h1" and not scan.h1:
        scan.h1 = WS.sub(" ", el.text_content()).strip()
    if tag == "script" and attrib.get("type", "").lower() == "application/ld+json":
        scan.jsonld.append(el.text or "")
    if tag in RESOURCE_TAGS:
        if len(scan.resources) >= scan.max_links:
            return  # past the cap: not kept
        for src in resource_urls(el, tag):
            scan.resources.append((index, tag, scan.resolve(src), attrib.get("alt", "")))
