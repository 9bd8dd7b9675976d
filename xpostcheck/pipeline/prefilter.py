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
from dataclasses import dataclass
from urllib.parse import urljoin

from xpostcheck.extract.walk import BLOCK
from xpostcheck.match.align import prepare
from xpostcheck.match.index import SourceIndex

__all__ = ["Glance", "Prefilter", "glance"]

_DROP = re.compile(
    r"<!--.*?-->|<(script|style|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>|<![^>]*>|<\?[^>]*>")
_HREF = re.compile(
    r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE | re.DOTALL
)
_BASE = re.compile(r"<base\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_BLANKS = re.compile(r"[ \t\r\f\v]+")


def _tag(m: re.Match[str]) -> str:
    name = m.group(2)
    return "\n" if name is not None and name.lower() in BLOCK else ""


@dataclass(frozen=True)
class Glance:
    text: str  # plain text, one line per block
    hrefs: tuple[str, ...]  # absolute link targets

    def lines(self) -> list[str]:
        return [ln for ln in self.text.splitlines() if ln.strip()]


def glance(url: str, markup: str) -> Glance:
    """The plain text and link hrefs of a page, without parsing it."""
    body = _DROP.sub(" ", markup)
    text = html.unescape(_TAG.sub(_tag, body))
    text = _BLANKS.sub(" ", text)
    base = url
    if (m := _BASE.search(markup, 0, 65536)) is not None:
        base = urljoin(url, html.unescape(m.group(1)))
    hrefs: list[str] = []
    for m in _HREF.finditer(body):
        raw = html.unescape(m.group(1) or m.group(2) or m.group(3) or "").strip()
        if raw and not raw.startswith("#"):
            try:
                hrefs.append(urljoin(base, raw))
            except ValueError:
                continue
    return Glance(text, tuple(hrefs))


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
        found = bool(page.shingles.size) and bool(self.index.candidates(page.shingles))
        self.passed += found
        return found
