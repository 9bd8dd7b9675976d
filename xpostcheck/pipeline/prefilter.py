"""The cheap look at a page that decides whether it gets the full analysis.

Most pages of a web archive hold no copy of any source. Extraction (trafilatura and the DOM
walk) costs milliseconds a page; this look costs a fraction of that: the page's plain text by
regular expressions (script, style and template content and comments dropped, block elements
as line breaks, inline tags as nothing, entities decoded) and one look-up of its shingles in
the source index's retrieval arrays. A page whose shingles make no source a candidate cannot
hold a copy: the plain text holds every word of the page's visible text in the same order
(and some more: the title, hidden text), so the page's full text has no shingle the plain
text lacks, and the retrieval's estimates only grow with more shingles. `benchmarks/warc.py`
measures it: every copy found with the full analysis of every page is found with it.

In: a page's HTML and URL, the SourceIndex. Out: `Glance` (the plain text's lines and the
page's link hrefs, for the site profile and the candidate list) and whether the page may hold
a copy.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urljoin

from xpostcheck.extract.walk import BLOCK
from xpostcheck.match.align import prepare
from xpostcheck.match.index import SourceIndex

__all__ = ["Glance", "Prefilter", "base_of", "glance", "plain_text", "raw_hrefs", "resolve"]


def _any_case(name: str) -> str:
    """A pattern for an ASCII tag name in any case. Tag names are case-insensitive in ASCII
    only; re.IGNORECASE would also take "ſ" for "s", and is slower here."""
    return "".join(f"[{c}{c.upper()}]" for c in name)


_HIDDEN_NAMES = ("script", "style", "template")
# Where text that is never shown starts (a comment, a script, a style sheet, a template) ...
_HIDDEN_START = re.compile(r"<(?:!--|(" + "|".join(map(_any_case, _HIDDEN_NAMES)) + r")\b)")
# ... and where it ends.
_HIDDEN_END = {name: re.compile(rf"</{_any_case(name)}\s*>") for name in _HIDDEN_NAMES}
# A tag, its name (with the slash of an end tag) captured; comments and doctypes uncaptured.
# (The "<" written once, before the alternatives, is searched for as a literal: faster.)
_TAG = re.compile(r"<(?:(/?[a-zA-Z][a-zA-Z0-9-]*)|[!?/])[^>]*>")
_BREAKS = frozenset(BLOCK) | frozenset("/" + name for name in BLOCK)
# Inline and other common tags (HTML and inline SVG) that stand for nothing in the text.
_INLINE_WORDS = (
    "a abbr b bdi bdo big button cite code data del dfn em font i img input ins kbd label link "
    "mark meta picture q s samp small source span strong sub sup time tt u var wbr svg path g "
    "use symbol defs stop circle rect line polygon polyline ellipse lineargradient "
    "radialgradient clippath mask text tspan image iframe noscript head title area map track "
    "video audio canvas embed object param select textarea"
)
_INLINE_NAMES = frozenset(_INLINE_WORDS.split())
_HREF = re.compile(
    r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE | re.DOTALL
)
_BASE_REACH = 65536
_BASE = re.compile(r"<base\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


def _shown(markup: str) -> str:
    """The markup without comments, scripts, style sheets and templates (a regular expression
    with a lazy `.*?` over them costs six times as much)."""
    out: list[str] = []
    pos = 0
    while (start := _HIDDEN_START.search(markup, pos)) is not None:
        out.append(markup[pos : start.start()])
        out.append(" ")
        name = start.group(1)
        if name is None:
            end = markup.find("-->", start.end())
            pos = end + 3 if end >= 0 else len(markup)
        else:
            close = _HIDDEN_END[name.lower()].search(markup, start.end())
            pos = close.end() if close is not None else len(markup)
    out.append(markup[pos:])
    return "".join(out)


def _known_tags() -> Mapping[str | None, str]:
    """What each tag name written in lower or upper case stands for in the plain text (a
    comment or doctype, captured as None, stands for nothing); other spellings are looked up
    folded."""
    known: dict[str | None, str] = {None: ""}
    for names, shown in ((_INLINE_NAMES, ""), (BLOCK, "\n")):
        for name in names:
            for spelt in (name, "/" + name):
                known[spelt] = known[spelt.upper()] = shown
    return MappingProxyType(known)


_KNOWN = _known_tags()


def plain_text(markup: str) -> str:
    """The page's text without parsing it: one line per block element, inline tags gone."""
    parts = _TAG.split(_shown(markup))
    names = parts[1::2]
    # One dict look-up per tag in C; a name spelt otherwise (mixed case, a custom element)
    # comes back None and is folded here.
    shown = list(map(_KNOWN.get, names))
    at = -1
    try:
        while True:
            at = shown.index(None, at + 1)
            shown[at] = "\n" if names[at].lower() in _BREAKS else ""
    except ValueError:
        pass
    parts[1::2] = shown
    text = "".join(parts)
    return html.unescape(text) if "&" in text else text


def raw_hrefs(markup: str) -> list[str]:
    """The href of every <a>, as written (entities decoded)."""
    out = []
    for m in _HREF.finditer(markup):
        raw = (m.group(1) or m.group(2) or m.group(3) or "").strip()
        if raw and not raw.startswith("#"):
            out.append(html.unescape(raw) if "&" in raw else raw)
    return out


def resolve(url: str, markup_base: str | None, hrefs: list[str]) -> tuple[str, ...]:
    """Hrefs made absolute against the page (or its <base>), as extraction gives links."""
    base = urljoin(url, markup_base) if markup_base else url
    out = []
    for raw in hrefs:
        try:
            out.append(urljoin(base, raw))
        except ValueError:
            continue
    return tuple(out)


def base_of(markup: str) -> str | None:
    """The page's <base href>, if it has one."""
    # Looked for where the regular expression looks: the head, in the first 64 KiB.
    if all(markup.find(spelt, 0, _BASE_REACH) < 0 for spelt in ("<base", "<BASE", "<Base")):
        return None
    m = _BASE.search(markup, 0, _BASE_REACH)
    return html.unescape(m.group(1)) if m else None


@dataclass(frozen=True)
class Glance:
    text: str  # plain text, one line per block
    hrefs: tuple[str, ...]  # absolute link targets

    def lines(self) -> list[str]:
        return [ln for ln in self.text.splitlines() if ln.strip()]


def glance(url: str, markup: str) -> Glance:
    """The plain text and absolute link hrefs of a page, without parsing it."""
    return Glance(plain_text(markup), resolve(url, base_of(markup), raw_hrefs(markup)))


class Prefilter:
    """Whether a page's plain text makes any source of the index a candidate."""

    def __init__(self, index: SourceIndex) -> None:
        self.index = index
        self.looked = 0
        self.passed = 0

    def may_hold_copy(self, text: str) -> bool:
        self.looked += 1
        cfg = self.index.config
        # The index's own token hashes (format 1 index files keep blake2b ones in a cache).
        page = prepare(text, cfg.shingle, getattr(self.index, "_hash_cache", None))
        # Most pages share no shingle with any source: one look-up of the shingles as they
        # come says so, without sorting them; the others are ranked as a crawled page is.
        shingles = page.shingles
        found = self.index.shares_shingle(shingles) and bool(self.index.candidates(shingles))
        self.passed += found
        return found
