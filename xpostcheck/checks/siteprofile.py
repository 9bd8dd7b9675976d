"""Tell a site's chrome (sidebars, blogrolls, footers) apart by comparing its pages.

A line of text or a link that a site shows on many of its pages is chrome: a blogroll link to
the publisher's home page or a sidebar "we republish Global Research" is not attribution for
one particular copy. A credit line that a republisher puts under every copied article is not
chrome, though it repeats too; so when the caller says which pages hold copies, a repeated line
counts as chrome only if it also shows on a page that holds no copy (the home, about or contact
page of the site).

In: pages (or their text and link hrefs). Out: whether a line or link is the site's chrome.
A profile counts at most `max_keys` distinct lines and as many distinct links (the first ones
met, in page order): a site whose pages each carry 500,000 links of their own keeps a bounded
profile; a line or link met only past the cap is not told as chrome.
Keys are stable 64-bit digests, the same in every process, so a profile can be persisted or
built by several workers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from xpostcheck import options
from xpostcheck.checks.textutil import norm
from xpostcheck.models import Page
from xpostcheck.util.urls import article_key


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def line_key(line: str) -> int | None:
    """A compact, stable key for a line: a 64-bit digest of its normalised text (None for
    near-empty lines). Digests, not strings, keep a profile of thousands of pages small."""
    text = norm(line)
    return _digest(text) if len(text) >= 3 else None


def link_key(href: str) -> int:
    """A compact, stable key for a link: a 64-bit digest of its article key."""
    return _digest(article_key(href))


class SiteProfile:
    """Counts, per site, on how many pages each line and each link appears (by stable keys:
    `line_key`, `link_key`)."""

    min_pages = 2  # a line must be seen on at least this many pages
    share = 0.5  # ... and on at least this share of the site's pages

    def __init__(self, *, max_keys: int = options.MAX_PROFILE_KEYS) -> None:
        self.max_keys = max_keys
        self.pages = 0
        self.copy_aware = False
        self._lines: Counter[int] = Counter()
        self._links: Counter[int] = Counter()
        self._lines_off_copies: Counter[int] = Counter()
        self._links_off_copies: Counter[int] = Counter()
        self._seen: set[str] = set()

    def add(self, page: Page, *, is_copy: bool | None = None) -> None:
        """Count one page. `is_copy`: whether it holds a copy of a source (None: unknown)."""
        text = page.full_text or "\n".join(
            t for t in (page.near_text, page.chrome_text, page.text) if t
        )
        self.add_parts(page.url, text, [link.href for link in page.links], is_copy=is_copy)

    def add_parts(
        self, url: str, text: str, hrefs: Iterable[str], *, is_copy: bool | None = None
    ) -> None:
        """Count one page from its full text and link hrefs (a page kept from an earlier scan
        and not fetched again counts as much as a fresh one)."""
        self.add_keys(
            url,
            (k for ln in text.splitlines() if (k := line_key(ln)) is not None),
            (link_key(href) for href in hrefs if href),
            is_copy=is_copy,
        )

    def add_keys(
        self,
        url: str,
        line_keys: Iterable[int],
        link_keys: Iterable[int],
        *,
        is_copy: bool | None = None,
    ) -> None:
        """Count one page from its lines' and links' keys, in page order (`line_key` of each
        line, None left out, and `link_key` of each href): `add_parts` for a caller that has
        the keys already."""
        if url in self._seen:
            return
        self._seen.add(url)
        self.pages += 1
        if is_copy is not None:
            self.copy_aware = True
        lines = self._admit(self._lines, line_keys)
        links = self._admit(self._links, link_keys)
        self._lines.update(lines)
        self._links.update(links)
        if not is_copy:
            self._lines_off_copies.update(lines)
            self._links_off_copies.update(links)

    def _admit(self, counts: Counter[int], keys: Iterable[int]) -> list[int]:
        """The distinct keys of one page that `counts` may count: the ones it counts already,
        and new ones while it holds fewer than `max_keys`."""
        room = self.max_keys - len(counts)
        admitted: list[int] = []
        for key in dict.fromkeys(keys):
            if key in counts:
                admitted.append(key)
            elif room > 0:
                admitted.append(key)
                room -= 1
        return admitted

    def entries(self) -> tuple[int, int]:
        """How many distinct lines and links the profile counts."""
        return len(self._lines), len(self._links)

    def _repeated(self, count: int, off_copies: int) -> bool:
        if self.pages < self.min_pages or count < self.min_pages:
            return False
        if count < self.share * self.pages:
            return False
        return off_copies > 0 if self.copy_aware else True

    def is_chrome_text(self, line: str) -> bool:
        """A line that appears on many pages of the site (>= 2 pages and >= half of them)."""
        key = line_key(line)
        if key is None:
            return False
        return self._repeated(self._lines[key], self._lines_off_copies[key])

    def is_chrome_link(self, href: str) -> bool:
        """A link (compared by article key) that appears on many pages of the site."""
        key = link_key(href)
        return self._repeated(self._links[key], self._links_off_copies[key])
