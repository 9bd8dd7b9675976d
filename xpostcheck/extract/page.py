"""Extraction: one fetched HTML page -> a Page with its article text and the DOM facts checks need.

In: Fetched, or a URL and decoded HTML. Out: Page; for a publisher's own pages, SourceArticle.

The HTML is parsed once, with lxml (the parser trafilatura itself uses). One iterative walk of
that tree (extract.walk) builds `full_text` (all visible text in document order) and collects
links, embedded resources, canonical tags, meta robots, JSON-LD, and each element's span in
`full_text`. trafilatura then extracts the main text from the same tree (extract.maintext).
The regions (article, near, chrome) come from extract.regions, the metadata (authors, dates,
robots, captions) from extract.metadata. See docs/extraction.md.

Nothing here raises on bad input: malformed HTML, empty bodies and binary junk give a Page with
empty texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from xpostcheck import options
from xpostcheck.extract.decode import decode_html, looks_binary, parse_html, without_surrogates
from xpostcheck.extract.links import absolute, feed_links, header_links, keep_first
from xpostcheck.extract.maintext import main_text
from xpostcheck.extract.metadata import (
    authors,
    captions,
    declared_url,
    first_meta,
    jsonld_facts,
    markup_published,
    robots,
)
from xpostcheck.extract.regions import ARTICLE_SHARE, find_regions, region_texts
from xpostcheck.extract.walk import WS, Node, Scan, walk
from xpostcheck.models import Fetched, Link, Page, Resource, SourceArticle

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

# trafilatura costs about 0.2-0.5 ms per element; above this many elements (50 times a typical
# article page) it is skipped, and the page keeps its full text, regions and DOM facts.
MAX_EXTRACT_ELEMENTS = 40_000


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
        meta_robots=robots(Scan(base=url), headers),
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
    html = without_surrogates(html)  # unencodable: lxml, JSON and SQLite would all choke
    try:
        tree = parse_html(html)
        if tree is None:
            return _empty(url, status, headers, fetched_at, html), _Extras()
        if own_url:
            url = declared_url(tree, url)
        return _extract_tree(tree, url, html, headers, status, fetched_at)
    except RecursionError:  # absurdly deep documents inside third-party code
        return _empty(url, status, headers, fetched_at, html), _Extras()


def _extract_tree(
    tree: Any,
    url: str,
    html: str,
    headers: tuple[tuple[str, str], ...],
    status: int,
    fetched_at: str,
) -> tuple[Page, _Extras]:
    scan = walk(tree, url)
    full = scan.text.text()
    # What checks read in the markup, taken before trafilatura sees the tree.
    page_captions = captions(tree)
    stated = markup_published(tree)
    if full and len(scan.nodes) <= MAX_EXTRACT_ELEMENTS:
        text, t_title, t_author, t_date = main_text(tree, url)
    else:
        text, t_title, t_author, t_date = "", "", None, None
    regions = find_regions(scan, text, full)
    near_text, chrome_text = region_texts(scan, full, regions)

    nodes = scan.nodes

    def in_article(entry: tuple[Any, ...]) -> bool:
        return regions.of(entry[0]) == "article"

    cap = options.MAX_LINKS_PER_PAGE
    links = tuple(
        Link(
            href=href,
            text=_anchor_text(nodes[i], full),
            rel=rel,
            region=regions.of(i),
            hidden=nodes[i].hidden,
        )
        for i, href, _, rel in keep_first(scan.links, in_article, cap)
    )
    resources = tuple(
        Resource(tag=tag, url=src, hidden=nodes[i].hidden, alt=alt, region=regions.of(i))
        for i, tag, src, alt in keep_first(scan.resources, in_article, cap)
    )
    ld_authors, ld_published = jsonld_facts(scan)
    published = (
        first_meta(scan, "article:published_time", "datepublished")
        or ld_published
        or t_date
        or None
    )
    title = t_title or first_meta(scan, "og:title") or scan.h1 or scan.title
    page = Page(
        url=url,
        status=status,
        headers=headers,
        fetched_at=fetched_at,
        title=WS.sub(" ", title).strip(),
        text=text,
        full_text=full,
        near_text=near_text,
        chrome_text=chrome_text,
        links=links,
        resources=resources,
        canonicals=tuple(scan.canonicals) + header_links(headers, "canonical", scan.base),
        meta_robots=robots(scan, headers),
        authors=authors(scan, ld_authors, t_author),
        published=published,
        license_urls=tuple(
            dict.fromkeys((*scan.licenses, *header_links(headers, "license", scan.base)))
        ),
        html=html,
        captions=page_captions,
        markup_published=stated,
    )
    og_url = first_meta(scan, "og:url")
    og_image = first_meta(scan, "og:image")
    return page, _Extras(
        og_url=absolute(scan.base, og_url) if og_url else "",
        og_image=absolute(scan.base, og_image) if og_image else "",
    )


def _anchor_text(node: Node, full: str) -> str:
    if node.hidden:
        text = WS.sub(" ", node.el.text_content()).strip()
    else:
        text = WS.sub(" ", full[node.start : node.end]).strip()
    if text:
        return text
    alts = (img.get("alt", "") for img in node.el.iter("img"))
    return WS.sub(" ", " ".join(a for a in alts if a)).strip()


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
    tree = parse_html(html)
    if tree is None:
        return "", ()
    scan = walk(tree, base_url)
    images = (
        src
        for i, tag, src, _ in scan.resources
        if tag in {"img", "amp-img"} and not scan.nodes[i].hidden
    )
    return scan.text.text(), tuple(
        dict.fromkeys(u for u in images if urlsplit(u).scheme in {"http", "https"})
    )


def visible_text(html: str) -> str:
    """All visible text of an HTML document or fragment (what full_text holds), no extraction."""
    return fragment_content(html)[0]
