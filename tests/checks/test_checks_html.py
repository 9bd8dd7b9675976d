"""End to end from HTML: fixture pages -> extract_html -> run_checks with a shipped pack.

The pages in tests/fixtures/rules/html are invented for this project. Shortlinks are resolved
by the real Fetcher against a loopback server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from xpostcheck.checks.registry import run_checks
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.extract.page import extract_html
from xpostcheck.models import Match, Page, SourceArticle
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.rules.loader import apply_overrides, load_ruleset

HTML = Path(__file__).parents[1] / "fixtures" / "rules" / "html"
COPY_URL = "https://riverside-commons.example/2025/03/harbour-cranes/"
GR = SourceArticle(
    url="https://www.globalresearch.ca/harbour-cranes-fall-silent/5880001",
    title="Harbour Cranes Fall Silent as Port Strike Enters Third Week",
    text="(the original's text is not needed by these checks)",
    authors=("Maren Ostrowski",),
    published="2025-03-03T14:00:00-05:00",
    publisher="Global Research",
)
TC = SourceArticle(
    url="https://theconversation.com/why-river-otters-are-returning-to-the-city-231507",
    title="Why river otters are returning to the city",
    text="(not needed)",
    authors=("Priya Castellane",),
    published="2025-05-01T10:00:00Z",
    publisher="The Conversation",
)
NO_LINK = f"looked for a link to {GR.url}"


def page(name: str, url: str = COPY_URL, html: str | None = None) -> Page:
    return extract_html(url, html if html is not None else (HTML / f"{name}.html").read_text())


def judge(
    name: str, pack: str = "globalresearch", source: SourceArticle = GR, **kw: Any
) -> list[tuple[str, bool, str, str | None]]:
    p = kw.pop("page", None) or page(name)
    rs = load_ruleset(pack)
    if "overrides" in kw:
        rs = apply_overrides(rs, kw.pop("overrides"))
    found = run_checks(rs, p, source, Match(source.url, 0.97, "full"), **kw)
    return [(f.rule, f.passed, f.message, f.evidence) for f in found]


def test_compliant_copy_passes_every_global_research_check() -> None:
    assert judge("gr_compliant") == [
        (
            "gr-attribution",
            True,
            "credit line found",
            "The original source of this article is Global Research",
        ),
        (
            "gr-copyright",
            True,
            "copyright line found",
            "Copyright © Maren Ostrowski, Global Research, 2025",
        ),
        (
            "gr-link",
            True,
            "link to the original found",
            '<a href="http://globalresearch.ca/harbour-cranes-fall-silent/5880001/'
            '?utm_source=rss&utm_medium=feed">Harbour Cranes Fall Silent</a>',
        ),
        ("gr-non-commercial", True, "no ad network or paywall markup", None),
    ]


def test_credit_only_in_the_sidebar_and_a_blogroll_link() -> None:
    assert judge("gr_chrome_credit") == [
        (
            "gr-attribution",
            False,
            "credit appears only in the site's chrome (shown on every page), not with this article",
            "The original source of these articles is Global Research",
        ),
        (
            "gr-copyright",
            False,
            "no copyright line (©, 'Copyright' or '(c)' with the author or the publisher)",
            'looked for a copyright line naming "Maren Ostrowski", "Global Research", '
            '"globalresearch.ca", "Centre for Research on Globalization"',
        ),
        ("gr-link", False, "no link to the original article", NO_LINK),
        ("gr-non-commercial", True, "no ad network or paywall markup", None),
    ]


def test_credit_in_an_image_caption_and_a_nofollow_link() -> None:
    assert judge("gr_caption_credit")[:3] == [
        (
            "gr-attribution",
            False,
            "credit appears only in an image caption, which credits the picture, not the article",
            "Source: Global Research",
        ),
        (
            "gr-copyright",
            True,
            "copyright line found",
            "Copyright © Maren Ostrowski, Global Research, 2025",
        ),
        (
            "gr-link",
            True,
            "link to the original found",
            f'<a href="{GR.url}" rel=nofollow>Read the original</a>',
        ),
    ]
    strict = judge("gr_caption_credit", overrides={"gr-link": {"allow_nofollow": False}})
    assert strict[2] == (
        "gr-link",
        False,
        "the link to the original is rel=nofollow, which the rule forbids",
        f'<a href="{GR.url}" rel=nofollow>Read the original</a>',
    )


def test_home_page_link_and_two_canonical_tags() -> None:
    assert judge("gr_home_link_two_canonicals")[2] == (
        "gr-link",
        False,
        "links only to the publisher's home page, not to the original article",
        '<a href="https://www.globalresearch.ca/">Global Research</a>',
    )
    assert judge("gr_home_link_two_canonicals", "google-syndication") == [
        (
            "google-canonical-or-noindex",
            False,
            "2 rel=canonical tags disagree; search engines ignore them all",
            f"{GR.url}, {COPY_URL}",
        ),
    ]


class _Shortener(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/x7Qa":
            self.send_response(301)
            self.send_header("Location", GR.url + "?utm_source=twitter")
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def shortener() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shortener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_shortlink_resolved_by_the_fetcher_ads_and_copyright_year(shortener: str) -> None:
    html = (HTML / "gr_ads_shortlink.html").read_text().replace("SHORTLINK", f"{shortener}/x7Qa")
    copy = page("", html=html)
    fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({"127.0.0.1"}), deadline=10))
    try:
        found = judge(
            "",
            page=copy,
            resolve=fetcher.resolve_redirect,
            overrides={"gr-copyright": {"year": "original"}},
        )
    finally:
        fetcher.close()
    assert found == [
        (
            "gr-attribution",
            True,
            "credit line found",
            "This article was originally published by Global Research.",
        ),
        (
            "gr-copyright",
            False,
            "copyright year 2019 differs from the original's 2025",
            "(c) 2019 Global Research",
        ),
        (
            "gr-link",
            True,
            "link to the original found (through a redirect)",
            f'<a href="{shortener}/x7Qa -> {GR.url}?utm_source=twitter">short link</a>',
        ),
        (
            "gr-non-commercial",
            False,
            "commercial use: the page carries ads or a paywall; commercial sites must ask first",
            "ad network: googlesyndication.com; ad network: adsbygoogle",
        ),
    ]
    offline = judge("", page=copy)
    assert offline[2] == ("gr-link", False, "no link to the original article", NO_LINK)


def test_amp_page_with_amp_pixel_and_canonical_to_its_own_site() -> None:
    amp = page("amp_copy", url="https://amp.riverside-commons.example/harbour-cranes.amp.html")
    assert judge("", "google-syndication", page=amp) == [
        (
            "google-canonical-or-noindex",
            False,
            "rel=canonical points to the copy's own site",
            "https://riverside-commons.example/2025/03/harbour-cranes/",
        ),
    ]
    rs = load_ruleset(
        str(Path(__file__).parents[1] / "fixtures" / "rules" / "valid" / "pixel.toml")
    )
    found = run_checks(rs, amp, GR, Match(GR.url, 1.0, "full"))
    assert [(f.rule, f.passed, f.message, f.evidence) for f in found] == [
        (
            "px",
            True,
            "tracking pixel present (amp-pixel)",
            "https://pixel.globalresearch.example/count.gif?post=5880001",
        ),
    ]


def test_the_conversation_copy_and_a_hidden_counter() -> None:
    counter = (
        "https://counter.theconversation.com/content/231507/count.gif"
        "?distributor=republish-lightbox-basic"
    )
    assert judge("tc_copy", "theconversation", TC) == [
        ("cc-title", True, "credit line found", "Why river otters are returning to the city"),
        ("cc-author", True, "byline found", "Priya Castellane, University of Northmoor"),
        (
            "cc-source",
            True,
            "link to the original found",
            f'<a href="{TC.url}">original article</a>',
        ),
        (
            "cc-license",
            True,
            "met by tc-snippet (one of 2 alternatives)",
            "[tc-snippet attribution: ok] credit line found (This article is republished from "
            "The Conversation under a Creative Commons license. Read the original article.) | "
            "[cc-deed license_notice: ok] CC BY-ND licence linked "
            "(https://creativecommons.org/licenses/by-nd/4.0/)",
        ),
        (
            "cc-no-derivatives",
            True,
            "no edits beyond what the rule allows",
            "coverage 97%, deleted 3%",
        ),
        (
            "tc-credit",
            True,
            "credit line found",
            "This article is republished from The Conversation under a Creative Commons license. "
            "Read the original article.",
        ),
        ("tc-counter", True, "tracking pixel present (img)", counter),
        ("tc-images", True, "the original lists no images", None),
    ]
    hidden = judge("tc_hidden_pixel", "theconversation", TC)
    assert hidden[6] == ("tc-counter", False, "tracking pixel present but hidden (img)", counter)
    assert judge("tc_copy", "google-syndication", TC) == [
        (
            "google-canonical-or-noindex",
            True,
            "the copy is kept out of search (noindex) instead",
            "noindex",
        ),
    ]


def test_site_profile_from_html_pages_unmasks_a_promo_box() -> None:
    """The promo box sits next to the article, but the site shows it on every page."""
    copy = page("site_copy_with_promo")
    profile = SiteProfile()
    profile.add(copy, is_copy=True)
    for name in ("site_about", "site_contact"):
        profile.add(page(name, url=f"https://riverside-commons.example/{name}"), is_copy=False)
    assert judge("", page=copy)[0] == (
        "gr-attribution",
        True,
        "credit line found",
        "We republish Global Research. Source: Global Research",
    )
    assert judge("", page=copy, profile=profile)[0] == (
        "gr-attribution",
        False,
        "credit appears only in the site's chrome (shown on every page), not with this article",
        "We republish Global Research. Source: Global Research",
    )
    assert profile.is_chrome_link("https://riverside-commons.example/about/") is True
    assert profile.is_chrome_link(GR.url) is False
