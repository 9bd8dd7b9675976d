"""Links of an HTML page for the crawler: anchors, the page's AMP and alternate versions
(<link rel=amphtml>, <link rel=alternate> of an HTML type), feeds named by <link rel=alternate>,
and whether the page asks not to be followed.

In: HTML text and its URL. Out: absolute http(s) URLs without fragments, and a nofollow flag.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
MAX_LINKS_PER_PAGE = 5000
_PAGE_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})


def extract_links(html: str, base_url: str) -> tuple[list[str], list[str], bool]:
    """(absolute link URLs, feed URLs from <link rel=alternate>, nofollow) of an HTML page.
    The links include the page's <link rel=amphtml> and HTML <link rel=alternate> versions.

    Tolerates malformed HTML; fragments are dropped, non-http(s) links left out."""
    if not html.strip():
        return [], [], False
    parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True)
    try:
        root = etree.fromstring(html.encode("utf-8", errors="replace"), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return [], [], False
    if root is None:
        return [], [], False
    base = base_url
    links: list[str] = []
    feeds: list[str] = []
    nofollow = False
    for el in root.iter("base", "a", "area", "link", "meta"):
        tag = el.tag
        if tag == "base":
            href = el.get("href")
            if href and base == base_url:
                base = urljoin(base_url, href.strip())
        elif tag == "meta":
            if (el.get("name") or "").lower() in ("robots", "xpostcheck"):
                content = (el.get("content") or "").lower()
                nofollow = nofollow or "nofollow" in content or "none" in content
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            kind = (el.get("type") or "").lower().split(";")[0].strip()
            href = el.get("href")
            if href and "alternate" in rel and kind in FEED_TYPES:
                url = _absolute(base, href)
                if url:
                    feeds.append(url)
            elif (
                href
                and ("amphtml" in rel or "alternate" in rel)
                and kind in _PAGE_TYPES
                and len(links) < MAX_LINKS_PER_PAGE
            ):
                # The page's AMP twin, or its other language or mobile version: pages to
                # discover like its anchors (the frontier keeps them to the site).
                url = _absolute(base, href)
                if url:
                    links.append(url)
        else:
            href = el.get("href")
            if href and len(links) < MAX_LINKS_PER_PAGE:
                url = _absolute(base, href)
                if url:
                    links.append(url)
    return links, feeds, nofollow


def _absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
