"""Each check kind on pages built directly: passing and failing cases, with exact findings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from loopback import Route, Server

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.registry import KINDS, run_checks
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.extract.page import extract_html
from xpostcheck.models import (
    Finding,
    Link,
    Match,
    Page,
    Passage,
    Resource,
    Rule,
    RuleSet,
    SourceArticle,
)

ORIGINAL = "https://www.globalresearch.ca/harbour-cranes-fall-silent/5880001"
COPY_URL = "https://riverside-commons.example/2025/03/harbour-cranes/"
PARAGRAPHS = [
    "The cranes along the eastern quay of Port Velden stood motionless on Tuesday as dockworkers "
    "entered the third week of a strike over shift rotations.",
    "Union representatives said talks with the port authority had stalled over a proposal to "
    "replace night crews with remotely operated gantries.",
    "Shipping agents estimate that each idle day costs regional exporters several million in "
    "demurrage, and fruit growers have begun diverting cargo.",
    "Strikers have set up a kitchen and a library in a disused warehouse near the ferry "
    "terminal, and local musicians have played evening concerts there.",
]
SOURCE = SourceArticle(
    url=ORIGINAL,
    title="Harbour Cranes Fall Silent as Port Strike Enters Third Week",
    text="\n".join(PARAGRAPHS),
    authors=("Maren Ostrowski",),
    published="2025-03-03T14:00:00-05:00",
    publisher="Global Research",
    images=("https://www.globalresearch.ca/wp-content/uploads/2025/03/velden-quay-cranes.jpg",),
)
BODY = "\n".join(PARAGRAPHS)
FULL = Match(
    source_url=ORIGINAL,
    coverage=0.98,
    kind="full",
    passages=(Passage(0, len(BODY), 60, 60 + len(BODY)),),
)
RULESET = RuleSet(name="t", publisher="Global Research", rules=(), aliases=("globalresearch.ca",))


def make_page(
    near: str = "",
    chrome: str = "Riverside Commons\nAbout Contact",
    *,
    url: str = COPY_URL,
    title: str = SOURCE.title,
    top: str = "",
    links: tuple[Link, ...] = (),
    **fields: Any,
) -> Page:
    near_text = "\n".join(x for x in (top, SOURCE.title, BODY, near) if x)
    if fields.get("html"):  # what extraction reads from the markup, as a fetched page has it
        parsed = extract_html(url, fields["html"])
        fields.setdefault("captions", parsed.captions)
        fields.setdefault("markup_published", parsed.markup_published)
    return Page(
        url=url,
        status=200,
        headers=fields.pop("headers", ()),
        fetched_at="2025-03-05T10:00:00+00:00",
        title=title,
        text=BODY,
        full_text=chrome + "\n" + near_text,
        near_text=near_text,
        chrome_text=chrome,
        links=links,
        **fields,
    )


def judge(
    kind: str,
    page: Page,
    *,
    source: SourceArticle = SOURCE,
    match: Match = FULL,
    profile: SiteProfile | None = None,
    resolve: Any = None,
    **options: Any,
) -> Finding:
    rule = Rule(id=f"r-{kind}", kind=kind, severity="error", options=options)
    ctx = CheckContext(rule, RULESET, page, source, match, profile=profile, resolve=resolve)
    return KINDS[kind](ctx)


def verdict(f: Finding) -> tuple[bool, str, str | None]:
    return f.passed, f.message, f.evidence


def link(href: str, text: str = "the original", region: str = "article", **kw: Any) -> Link:
    return Link(href=href, text=text, region=region, **kw)  # type: ignore[arg-type]


# --- attribution ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "The original source of this article is Global Research",
        "the original source of this article is GLOBAL RESEARCH.",
        "This article was originally published by Global Research.",
        "Originally published on Global Research",
        "originally published at Global Research!",
        "Source: Global Research",
        "SOURCE - global research",
        "First published by Global Research",
        "This story was first published by globalresearch.ca",
        "The original source of this article is Global Reseach",  # a typo, fuzzily
    ],
)
def test_attribution_accepts_the_usual_phrasings(line: str) -> None:
    f = judge("attribution", make_page(line))
    assert verdict(f) == (True, "credit line found", line)
    assert (f.rule, f.kind, f.severity) == ("r-attribution", "attribution", "error")


@pytest.mark.parametrize(
    "line",
    [
        "This article was originally published on Mideast Discourse.",
        "Global Research, March 3, 2025",
        "Source: Reuters",
    ],
)
def test_attribution_rejects_other_credits(line: str) -> None:
    f = judge(
        "attribution",
        make_page(line),
        phrases=["Source: {publisher}", "originally published on {publisher}"],
    )
    assert verdict(f) == (
        False,
        "no credit line naming the original",
        'looked for "Source: Global Research", "Source: globalresearch.ca", '
        '"originally published on Global Research", "originally published on globalresearch.ca"',
    )


def test_attribution_only_in_chrome_fails() -> None:
    page = make_page("", chrome="Riverside Commons\nWe republish stories from Global Research")
    f = judge("attribution", page, phrases=["stories from {publisher}"])
    assert verdict(f) == (
        False,
        "credit appears only in the site's chrome (shown on every page), not with this article",
        "We republish stories from Global Research",
    )


def test_attribution_in_a_sidebar_the_site_repeats_is_chrome() -> None:
    """The extractor put the sidebar next to the article, but the site shows it everywhere."""
    mention = "Source: Global Research"
    copy = make_page(mention)
    profile = SiteProfile()
    profile.add(copy, is_copy=True)
    for path in ("about", "contact", "events"):
        other = Page(
            url=f"https://riverside-commons.example/{path}",
            status=200,
            headers=(),
            fetched_at="",
            title=path,
            text=f"Our {path} page.",
            full_text=f"Our {path} page.\n{mention}",
            near_text=f"Our {path} page.",
            chrome_text=mention,
        )
        profile.add(other, is_copy=False)
    f = judge("attribution", copy, profile=profile)
    assert verdict(f) == (
        False,
        "credit appears only in the site's chrome (shown on every page), not with this article",
        mention,
    )
    assert verdict(judge("attribution", copy)) == (True, "credit line found", mention)


def test_attribution_repeated_under_every_copy_is_not_chrome() -> None:
    """A republisher that credits every copied article the same way is doing it right."""
    mention = "The original source of this article is Global Research"
    profile = SiteProfile()
    pages = [make_page(mention, url=f"{COPY_URL}{i}") for i in range(3)]
    for p in pages:
        profile.add(p, is_copy=True)
    home = make_page("", url="https://riverside-commons.example/")
    profile.add(home, is_copy=False)
    assert profile.is_chrome_text(mention) is False
    assert profile.is_chrome_text("Riverside Commons") is True
    assert verdict(judge("attribution", pages[0], profile=profile)) == (
        True,
        "credit line found",
        mention,
    )


def test_attribution_in_an_image_caption_does_not_credit_the_article() -> None:
    html = (
        "<article><p>text</p><figure><img src='x.jpg'>"
        "<figcaption>Photo source: Global Research</figcaption></figure></article>"
    )
    page = make_page("Photo source: Global Research", html=html)
    f = judge("attribution", page)
    assert verdict(f) == (
        False,
        "credit appears only in an image caption, which credits the picture, not the article",
        "Photo source: Global Research",
    )
    # The same words as a line of the article do count.
    assert judge("attribution", make_page("Photo source: Global Research")).passed is True


def test_attribution_position_top_and_bottom() -> None:
    line = "This article was originally published by Global Research"
    bottom = make_page(line)
    top = make_page("", top=line)
    assert verdict(judge("attribution", bottom, position="bottom")) == (
        True,
        "credit line found",
        line,
    )
    assert verdict(judge("attribution", top, position="top")) == (True, "credit line found", line)
    assert verdict(judge("attribution", bottom, position="top")) == (
        False,
        "credit line found, but not at the top",
        line,
    )


def test_attribution_with_author_and_title_placeholders() -> None:
    line = f'"{SOURCE.title}" by Maren Ostrowski first appeared on Global Research'
    f = judge(
        "attribution",
        make_page(line),
        phrases=['"{title}" by {author} first appeared on {publisher}'],
    )
    assert verdict(f) == (True, "credit line found", line)
    bare = SourceArticle(url=ORIGINAL, title="T", text=BODY)
    f = judge(
        "attribution",
        make_page(line),
        source=bare,
        phrases=["by {author}"],
        builtin_credits=False,
    )
    assert verdict(f) == (
        True,
        "nothing to look for: the phrases need an author or title the original lacks",
        None,
    )
    # The built-in credit forms still read the line when the pack's phrases cannot apply.
    f = judge("attribution", make_page(line), source=bare, phrases=["by {author}"])
    assert verdict(f) == (True, "credit line found", line)


# --- byline --------------------------------------------------------------------------------


def test_byline_plain_and_formatted() -> None:
    page = make_page("", top="By Maren Ostrowski")
    assert verdict(judge("byline", page)) == (True, "byline found", "By Maren Ostrowski")
    f = judge("byline", page, format="{author}, {publisher}")
    assert verdict(f) == (
        False,
        'byline missing: looked for "Maren Ostrowski, Global Research"',
        None,
    )
    formatted = make_page("", top="Maren Ostrowski, Global Research")
    assert verdict(judge("byline", formatted, format="{author}, {publisher}")) == (
        True,
        "byline found",
        "Maren Ostrowski, Global Research",
    )


def test_byline_missing_and_from_metadata() -> None:
    assert verdict(judge("byline", make_page(""))) == (
        False,
        'byline missing: looked for "Maren Ostrowski"',
        None,
    )
    meta = make_page("", authors=("Maren Ostrowski",))
    assert verdict(judge("byline", meta)) == (
        True,
        "byline found",
        "author metadata: Maren Ostrowski",
    )


def test_byline_two_authors_all_or_any() -> None:
    two = SourceArticle(url=ORIGINAL, title="T", text=BODY, authors=("Ana Lind", "Bo Kragh"))
    page = make_page("", top="By Ana Lind")
    assert verdict(judge("byline", page, source=two)) == (
        False,
        'byline missing: looked for "Bo Kragh"',
        "By Ana Lind",
    )
    assert verdict(judge("byline", page, source=two, require="any")) == (
        True,
        "byline found",
        "By Ana Lind",
    )


# --- copyright -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Copyright © Maren Ostrowski, Global Research, 2025",
        "© 2025 Global Research",
        "(c) 2025 Maren Ostrowski",
        "copyright 2025 global research",
    ],
)
def test_copyright_line_found(line: str) -> None:
    assert verdict(judge("copyright_notice", make_page(line))) == (
        True,
        "copyright line found",
        line,
    )


def test_copyright_year_mismatch() -> None:
    line = "Copyright © Maren Ostrowski, Global Research, 2023"
    page = make_page(line)
    assert judge("copyright_notice", page).passed is True  # any year
    assert verdict(judge("copyright_notice", page, year="original")) == (
        False,
        "copyright year 2023 differs from the original's 2025",
        line,
    )


def test_copyright_without_year_or_name_or_only_in_chrome() -> None:
    assert verdict(judge("copyright_notice", make_page("© Global Research"))) == (
        False,
        "copyright line has no year",
        "© Global Research",
    )
    disclaimer = (
        "Permission to cross-post as long as the source and copyright are acknowledged "
        "together with a hyperlink to the original Global Research article."
    )
    assert judge("copyright_notice", make_page(disclaimer)).message == (
        "no copyright line (©, 'Copyright' or '(c)' with the author or the publisher and a year)"
    )
    f = judge("copyright_notice", make_page("© 2025 Riverside Commons"))
    assert verdict(f) == (
        False,
        "no copyright line (©, 'Copyright' or '(c)' with the author or the publisher and a year)",
        'looked for a copyright line naming "Maren Ostrowski", "Global Research", '
        '"globalresearch.ca"',
    )
    chrome = make_page("", chrome="Menu\n© 2025 Global Research")
    assert verdict(judge("copyright_notice", chrome)) == (
        False,
        "copyright line appears only in the site's chrome, not with this article",
        "© 2025 Global Research",
    )


def test_copyright_year_optional() -> None:
    """year = "optional": terms that ask for the copyright to be acknowledged, not for a year."""
    for line in ("© Global Research", "Copyright Maren Ostrowski, Global Research."):
        assert verdict(judge("copyright_notice", make_page(line), year="optional")) == (
            True,
            "copyright line found",
            line,
        )
    disclaimer = (
        "Permission to cross-post as long as the source and copyright are acknowledged "
        "together with a hyperlink to the original Global Research article."
    )
    for text in (disclaimer, "© Riverside Commons"):
        assert judge("copyright_notice", make_page(text), year="optional").message == (
            "no copyright line (©, 'Copyright' or '(c)' with the author or the publisher)"
        )


def test_copyright_names_author_and_publisher() -> None:
    page = make_page("© 2025 Maren Ostrowski")
    assert judge("copyright_notice", page, names="author").passed is True
    assert judge("copyright_notice", page, names="author_and_publisher").passed is False
    assert judge("copyright_notice", page, names="publisher").passed is False


# --- link to original ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    [
        ORIGINAL,
        "http://www.globalresearch.ca/harbour-cranes-fall-silent/5880001",  # http
        "https://globalresearch.ca/harbour-cranes-fall-silent/5880001",  # no www
        "https://www.globalresearch.ca/harbour-cranes-fall-silent/5880001/",  # trailing slash
        ORIGINAL + "?utm_source=newsletter&utm_medium=email&utm_campaign=x",  # utm_*
        ORIGINAL + "#comments",
        "HTTP://WWW.GLOBALRESEARCH.CA/harbour-cranes-fall-silent/5880001/?fbclid=abc",
    ],
)
def test_link_to_original_after_normalisation(href: str) -> None:
    page = make_page(links=(link(href),))
    assert verdict(judge("link_to_original", page)) == (
        True,
        "link to the original found",
        f'<a href="{href}">the original</a>',
    )


def test_link_to_home_page_does_not_count_unless_allowed() -> None:
    page = make_page(links=(link("https://www.globalresearch.ca/", "Global Research"),))
    evidence = '<a href="https://www.globalresearch.ca/">Global Research</a>'
    assert verdict(judge("link_to_original", page)) == (
        False,
        "links only to the publisher's home page, not to the original article",
        evidence,
    )
    assert verdict(judge("link_to_original", page, allow_home_page=True)) == (
        True,
        "link to the publisher's home page (the rule accepts it)",
        evidence,
    )


def test_blogroll_home_link_repeated_on_the_site_never_counts() -> None:
    blogroll = link("https://www.globalresearch.ca/", "Global Research", region="near")
    copy = make_page(links=(blogroll,))
    profile = SiteProfile()
    profile.add(copy, is_copy=True)
    about = make_page(url="https://riverside-commons.example/about", links=(blogroll,))
    profile.add(about, is_copy=False)
    f = judge("link_to_original", copy, profile=profile, allow_home_page=True)
    assert verdict(f) == (
        False,
        "no link to the original article",
        f"looked for a link to {ORIGINAL}",
    )


def test_link_to_another_article_or_only_in_chrome() -> None:
    other = make_page(links=(link("https://www.globalresearch.ca/other-story/5870000"),))
    assert verdict(judge("link_to_original", other)) == (
        False,
        "links to another page of the publisher, not to the original article",
        '<a href="https://www.globalresearch.ca/other-story/5870000">the original</a>',
    )
    chrome = make_page(links=(link(ORIGINAL, "Most read", region="chrome"),))
    assert verdict(judge("link_to_original", chrome)) == (
        False,
        "a link to the original appears only outside the near region (site chrome)",
        f'<a href="{ORIGINAL}">Most read</a>',
    )
    assert judge("link_to_original", chrome, region="page").passed is True
    hidden = make_page(links=(link(ORIGINAL, hidden=True),))
    assert verdict(judge("link_to_original", hidden)) == (
        False,
        "the link to the original is hidden from readers",
        f'<a href="{ORIGINAL}">the original</a>',
    )


def test_nofollow_link_and_anchor_text() -> None:
    page = make_page(links=(link(ORIGINAL, "Global Research", rel=("nofollow",)),))
    evidence = f'<a href="{ORIGINAL}" rel=nofollow>Global Research</a>'
    assert verdict(judge("link_to_original", page)) == (
        True,
        "link to the original found",
        evidence,
    )
    assert verdict(judge("link_to_original", page, allow_nofollow=False)) == (
        False,
        "the link to the original is rel=nofollow, which the rule forbids",
        evidence,
    )
    assert judge("link_to_original", page, anchor_text=["{publisher}"]).passed is True
    assert verdict(judge("link_to_original", page, anchor_text=["{title}"])) == (
        False,
        f'link to the original found, but its anchor text is not "{SOURCE.title}"',
        evidence,
    )


def _redirect(location: str, status: int = 301) -> tuple[int, dict[str, str], bytes]:
    return status, {"Location": location}, b""


@pytest.fixture()
def shortener() -> Iterator[str]:
    routes: dict[str, Route] = {
        "/s/gr1": _redirect(ORIGINAL + "?utm_source=short"),
        "/s/hop": _redirect("/s/gr1", 302),
        "/s/elsewhere": _redirect("https://www.globalresearch.ca/"),
    }
    with Server(routes) as server:  # anything else: 404
        yield server.base


def resolve(url: str) -> str | None:
    """What Fetcher.resolve_redirect does: one request, no following, the Location."""
    response = requests.get(url, allow_redirects=False, timeout=5)
    if 300 <= response.status_code < 400:
        return response.headers.get("Location")
    return None


def test_shortlink_301_is_resolved(shortener: str) -> None:
    page = make_page(links=(link(f"{shortener}/s/gr1", "read it"),))
    f = judge("link_to_original", page, resolve=resolve)
    assert verdict(f) == (
        True,
        "link to the original found (through a redirect)",
        f'<a href="{shortener}/s/gr1 -> {ORIGINAL}?utm_source=short">read it</a>',
    )
    two_hops = make_page(links=(link(f"{shortener}/s/hop", "read it"),))
    assert judge("link_to_original", two_hops, resolve=resolve).passed is True
    offline = judge("link_to_original", page)
    assert verdict(offline) == (
        False,
        "no link to the original article",
        f"looked for a link to {ORIGINAL}",
    )
    elsewhere = make_page(links=(link(f"{shortener}/s/elsewhere"),))
    assert judge("link_to_original", elsewhere, resolve=resolve).passed is False
    assert (
        judge("link_to_original", page, resolve=resolve, resolve_shortlinks=False).passed is False
    )


# --- canonical and noindex -----------------------------------------------------------------


def test_canonical_cases() -> None:
    good = make_page(canonicals=(ORIGINAL + "/",))
    assert verdict(judge("canonical", good)) == (
        True,
        "rel=canonical points to the original",
        ORIGINAL + "/",
    )
    none = make_page()
    assert verdict(judge("canonical", none)) == (
        False,
        "no rel=canonical",
        f"looked for one pointing to {ORIGINAL}",
    )
    own = make_page(canonicals=(COPY_URL,))
    assert verdict(judge("canonical", own)) == (
        False,
        "rel=canonical points to the copy's own site",
        COPY_URL,
    )
    two = make_page(canonicals=(ORIGINAL, COPY_URL))
    assert verdict(judge("canonical", two)) == (
        False,
        "2 rel=canonical tags disagree; search engines ignore them all",
        f"{ORIGINAL}, {COPY_URL}",
    )
    same_twice = make_page(
        canonicals=(ORIGINAL, "http://globalresearch.ca/harbour-cranes-fall-silent/5880001/")
    )
    assert verdict(judge("canonical", same_twice)) == (
        True,
        "rel=canonical points to the original (2 identical tags)",
        ORIGINAL,
    )
    header = make_page(headers=(("Link", f'<{ORIGINAL}>; rel="canonical"'),))
    assert judge("canonical", header).passed is True


def test_amp_page_canonical_to_its_own_site() -> None:
    amp = make_page(
        url="https://amp.riverside-commons.example/harbour-cranes.amp.html",
        canonicals=("https://riverside-commons.example/2025/03/harbour-cranes/",),
    )
    assert verdict(judge("canonical", amp)) == (
        False,
        "rel=canonical points to the copy's own site",
        "https://riverside-commons.example/2025/03/harbour-cranes/",
    )
    elsewhere = make_page(canonicals=("https://aggregator.example/story/1",))
    assert verdict(judge("canonical", elsewhere)) == (
        False,
        "rel=canonical points elsewhere, not to the original",
        "https://aggregator.example/story/1",
    )
    amp_same_host = make_page(
        url="https://riverside-commons.example/amp/harbour-cranes/",
        canonicals=("https://riverside-commons.example/2025/03/harbour-cranes/",),
    )
    assert verdict(judge("canonical", amp_same_host))[:2] == (
        False,
        "rel=canonical points to the copy's own site",
    )


def test_noindex_and_alternatives() -> None:
    meta = make_page(meta_robots=("noindex, follow",))
    assert verdict(judge("noindex", meta)) == (
        True,
        "the copy is kept out of search",
        "noindex, follow",
    )
    header = make_page(headers=(("X-Robots-Tag", "googlebot: noindex"),))
    assert verdict(judge("noindex", header)) == (
        True,
        "the copy is kept out of search",
        "googlebot: noindex",
    )
    indexed = make_page(meta_robots=("index, follow",))
    assert verdict(judge("noindex", indexed)) == (
        False,
        "no noindex or none in meta robots or X-Robots-Tag",
        "robots directives found: index, follow",
    )
    canon = make_page(canonicals=(ORIGINAL,))
    assert judge("noindex", canon).passed is False
    assert verdict(judge("noindex", canon, accept_canonical=True)) == (
        True,
        "rel=canonical points to the original instead",
        ORIGINAL,
    )
    assert verdict(judge("canonical", meta, accept_noindex=True)) == (
        True,
        "the copy is kept out of search (noindex) instead",
        "noindex, follow",
    )


# --- licence -------------------------------------------------------------------------------


def test_license_notice_cases() -> None:
    deed = "https://creativecommons.org/licenses/by-nd/4.0/"
    line = "This article is republished under a Creative Commons license (CC BY-ND 4.0)."
    linked = make_page(line, links=(link(deed, "CC BY-ND 4.0", region="near"),))
    assert verdict(judge("license_notice", linked, license="by-nd")) == (
        True,
        "CC BY-ND 4.0 licence linked",
        f"{deed} ({line})",
    )
    named = make_page(line)
    assert verdict(judge("license_notice", named, license="by-nd")) == (
        False,
        "CC BY-ND 4.0 is named but not linked to its deed",
        line,
    )
    assert verdict(judge("license_notice", named, license="by-nd", require_link=False)) == (
        True,
        "CC BY-ND 4.0 licence named",
        line,
    )
    long_name = make_page("Licensed under Creative Commons Attribution-NoDerivatives 4.0")
    assert judge("license_notice", long_name, license="by-nd", require_link=False).passed
    wrong = make_page(links=(link("https://creativecommons.org/licenses/by-sa/4.0/"),))
    assert verdict(judge("license_notice", wrong, license="by-nd")) == (
        False,
        "names a different licence; expected CC BY-ND 4.0",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    )
    rel = make_page(license_urls=("https://creativecommons.org/licenses/by-nc-nd/3.0/us/",))
    assert judge("license_notice", rel, license="by-nc-nd", version="3.0").passed is True
    assert judge("license_notice", rel, license="by-nc-nd", version="4.0").passed is False
    assert verdict(judge("license_notice", make_page(), license="by")) == (
        False,
        "no CC BY 4.0 licence notice",
        "looked for a link to https://creativecommons.org/licenses/by/4.0/ or rel=license, "
        "key creativecommons.org/licenses/by/4.0",
    )


# --- tracking pixel ------------------------------------------------------------------------

PIXEL = r"counter\.theconversation\.com/content/\d+/count\.gif"


def test_tracking_pixel_present_hidden_missing() -> None:
    url = "https://counter.theconversation.com/content/123456/count.gif?distributor=republish"
    img = make_page(resources=(Resource("img", url, region="article"),))
    assert verdict(judge("tracking_pixel", img, patterns=[PIXEL])) == (
        True,
        "tracking pixel present (img)",
        url,
    )
    hidden = make_page(resources=(Resource("img", url, hidden=True),))
    assert verdict(judge("tracking_pixel", hidden, patterns=[PIXEL])) == (
        False,
        "tracking pixel present but hidden (img)",
        url,
    )
    assert judge("tracking_pixel", hidden, patterns=[PIXEL], allow_hidden=True).passed
    commented = make_page(html=f"<p>x</p><!-- <img src='{url}'> -->")
    f = judge("tracking_pixel", commented, patterns=[PIXEL])
    assert (f.passed, f.message) == (
        False,
        "the pixel's URL is in the markup but nothing loads it (commented out?)",
    )
    assert f.evidence == f"<p>x</p><!-- <img src='{url}'> -->"
    assert verdict(judge("tracking_pixel", make_page(), patterns=[PIXEL])) == (
        False,
        "no tracking pixel",
        f'looked for amp-analytics, amp-img, amp-pixel, iframe, img, script matching "{PIXEL}"',
    )


def test_amp_pixel_counts() -> None:
    url = "https://pixel.example-publisher.org/pixel.gif?post=42"
    amp = make_page(resources=(Resource("amp-pixel", url),))
    assert verdict(judge("tracking_pixel", amp, patterns=[r"pixel\.example-publisher\.org"])) == (
        True,
        "tracking pixel present (amp-pixel)",
        url,
    )
    only_img = judge("tracking_pixel", amp, patterns=[r"pixel\.example"], tags=["img"])
    assert only_img.passed is False


# --- integrity -----------------------------------------------------------------------------


def test_integrity_coverage_headline_and_excerpts() -> None:
    page = make_page()
    assert verdict(judge("integrity", page)) == (
        True,
        "no edits beyond what the rule allows",
        "coverage 98%, deleted 2%",
    )
    cut = Match(ORIGINAL, 0.6, "partial", (Passage(0, 260, 60, 320),))
    assert verdict(judge("integrity", page, match=cut)) == (
        False,
        "the copy is edited or cut: 60% of the original is reproduced "
        "(the rule asks for at least 90%, at most 100% deleted)",
        "coverage 60%, deleted 40%",
    )
    assert judge("integrity", page, match=FULL, max_deleted=0.01).passed is False
    renamed = make_page(title="Dockers Win Big in Port Showdown")
    assert judge("integrity", renamed).passed is True
    assert verdict(judge("integrity", renamed, allow_headline_change=False)) == (
        False,
        "the headline was changed",
        f'"Dockers Win Big in Port Showdown" (original: "{SOURCE.title}")',
    )
    suffixed = make_page(title=SOURCE.title + " | Riverside Commons")
    assert judge("integrity", suffixed, allow_headline_change=False).passed is True

    first = len(PARAGRAPHS[0])
    excerpt = Match(ORIGINAL, 0.25, "excerpt", (Passage(0, first, 60, 60 + first),))
    linked = make_page(links=(link(ORIGINAL),))
    assert verdict(judge("integrity", linked, match=excerpt, max_excerpt_paragraphs=2)) == (
        True,
        "an excerpt of 1 paragraph(s) with a link to the original",
        "coverage 25%, deleted 75%",
    )
    assert verdict(judge("integrity", page, match=excerpt, max_excerpt_paragraphs=2)) == (
        False,
        "an excerpt of 1 paragraph(s) without a link to the original",
        "coverage 25%, deleted 75%",
    )
    three = Match(ORIGINAL, 0.7, "partial", (Passage(0, len(BODY) - 200, 60, 400),))
    assert verdict(judge("integrity", linked, match=three, max_excerpt_paragraphs=2)) == (
        False,
        "a partial copy of 3 paragraphs: neither the whole article (at least 90%) nor an "
        "excerpt of at most 2",
        "coverage 70%, deleted 30%",
    )


# --- non-commercial ------------------------------------------------------------------------


def test_non_commercial_ads_and_paywall() -> None:
    clean = make_page(
        html="<html><body><p>Ads sold through media.net and taboola.com worry editors.</p>"
        '<a href="https://socialmedia.network/">share</a></body>'
    )
    assert verdict(judge("non_commercial", clean)) == (
        True,
        "no ad network or paywall markup",
        None,
    )
    ads = make_page(
        html='<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js">'
        '</script><ins class="adsbygoogle"></ins>'
    )
    assert verdict(judge("non_commercial", ads)) == (
        False,
        "commercial use: the page carries ads or a paywall; commercial sites must ask first",
        "ad network: googlesyndication.com; ad network: adsbygoogle",
    )
    paywall = make_page(
        html='<script type="application/ld+json">{"isAccessibleForFree": false}</script>'
    )
    assert judge("non_commercial", paywall).evidence == 'paywall: "isAccessibleForFree": false'
    assert judge("non_commercial", paywall, check_paywall=False).passed is True
    taboola = make_page(resources=(Resource("script", "https://cdn.taboola.com/libtrc/x.js"),))
    assert judge("non_commercial", taboola).evidence == "ad network: taboola.com"


# --- embargo -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copy_time", "options", "passed"),
    [
        ("2025-03-04T09:00:00+00:00", {"not_before": "next_day", "utc_offset": "-05:00"}, True),
        # 23:30 the same evening in the publisher's zone (next day in UTC): too early
        ("2025-03-04T04:30:00+00:00", {"not_before": "next_day", "utc_offset": "-05:00"}, False),
        ("2025-03-04T05:00:00+00:00", {"not_before": "next_day", "utc_offset": "-05:00"}, True),
        ("2025-03-04", {"not_before": "next_day", "utc_offset": "-05:00"}, True),
        ("2025-03-03", {"not_before": "next_day", "utc_offset": "-05:00"}, False),
        ("2025-03-04T13:59:00-05:00", {"delay_hours": 24}, False),
        ("2025-03-04T14:00:00-05:00", {"delay_hours": 24}, True),
        ("2025-03-04T19:00:00Z", {"delay_hours": 24}, True),
    ],
)
def test_embargo(copy_time: str, options: dict[str, Any], passed: bool) -> None:
    # the copy's own markup states the time (a date read only from its text is another case:
    # tests/checks/test_time.py)
    f = judge("embargo", make_page(published=copy_time, markup_published=copy_time), **options)
    assert f.passed is passed
    assert f.message == (
        "published after the embargo" if passed else "published before the embargo ended"
    )


def test_embargo_time_from_markup_and_unknown() -> None:
    html = '<meta property="article:published_time" content="2025-03-03T20:00:00-05:00">'
    f = judge("embargo", make_page(html=html), delay_hours=24)
    assert verdict(f) == (
        False,
        "published before the embargo ended",
        "copy published 2025-03-03T20:00:00-05:00; original 2025-03-03T14:00:00-05:00; "
        "earliest allowed 2025-03-04T19:00+00:00",
    )
    jsonld = (
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"datePublished": "2025-03-06T08:00:00Z"}]}</script>'
    )
    assert judge("embargo", make_page(html=jsonld), delay_hours=24).passed is True
    unknown = judge("embargo", make_page(), delay_hours=24)
    assert verdict(unknown) == (
        True,
        "the copy's publication time is unknown; not judged",
        "looked in article:published_time, JSON-LD datePublished and <time datetime>",
    )
    assert judge("embargo", make_page(), delay_hours=24, unknown="fail").passed is False


# --- media and eligibility -----------------------------------------------------------------


def test_media_reuse() -> None:
    resized = "https://riverside-commons.example/uploads/velden-quay-cranes-1024x683.jpg"
    page = make_page(resources=(Resource("img", resized, region="article"),))
    hotlinked = (
        "https://globalresearch.ca/wp-content/uploads/2025/03/velden-quay-cranes-300x200.jpg"
    )
    assert (
        judge("media", make_page(resources=(Resource("img", hotlinked),)), reuse="forbid").passed
        is False
    )
    # a short, common file name on another site tells nothing
    own = make_page(resources=(Resource("img", "https://riverside-commons.example/cranes.jpg"),))
    short = SourceArticle(
        url=ORIGINAL,
        title="T",
        text=BODY,
        images=("https://www.globalresearch.ca/uploads/cranes.jpg",),
    )
    assert judge("media", own, source=short, reuse="forbid").passed is True
    assert verdict(judge("media", page, reuse="forbid")) == (
        False,
        "reuses 1 of the original's 1 images, which the licence does not cover",
        resized,
    )
    assert verdict(judge("media", make_page(), reuse="forbid")) == (
        True,
        "none of the original's images are reused",
        None,
    )
    assert verdict(judge("media", page, reuse="require")) == (
        True,
        "1 of the original's 1 images reused",
        resized,
    )
    assert verdict(judge("media", make_page(), reuse="require")) == (
        False,
        "the original's images are missing",
        f'looked for "{SOURCE.images[0]}"',
    )


def test_eligibility_lists() -> None:
    page = make_page()
    assert verdict(judge("eligibility", page)) == (
        True,
        "any site may republish",
        "riverside-commons.example",
    )
    assert verdict(judge("eligibility", page, deny=["riverside-commons.example"])) == (
        False,
        "this site is on the publisher's deny list",
        "riverside-commons.example matches riverside-commons.example",
    )
    assert verdict(judge("eligibility", page, allow=["partner.example"])) == (
        False,
        "this site is not one of the allowed partners",
        'riverside-commons.example is not in "partner.example"',
    )
    sub = make_page(url="https://news.partner.example/a")
    assert judge("eligibility", sub, allow=["partner.example"]).passed is True
    assert verdict(judge("eligibility", page, licensed=["www.riverside-commons.example"])) == (
        True,
        "licensed partner: exempt from the republishing conditions",
        "riverside-commons.example matches www.riverside-commons.example",
    )


# --- run_checks ----------------------------------------------------------------------------


def _ruleset(*rules: Rule) -> RuleSet:
    return RuleSet(name="t", publisher="Global Research", rules=rules)


def test_run_checks_one_finding_per_rule_in_order() -> None:
    rs = _ruleset(
        Rule("a", "attribution"),
        Rule("l", "link_to_original", severity="warning"),
        Rule("n", "non_commercial", severity="info"),
    )
    page = make_page("Source: Global Research")
    out = run_checks(rs, page, SOURCE, FULL)
    assert [(f.rule, f.kind, f.passed, f.severity) for f in out] == [
        ("a", "attribution", True, "error"),
        ("l", "link_to_original", False, "warning"),
        ("n", "non_commercial", True, "info"),
    ]


def test_licensed_partner_is_exempt_from_every_check() -> None:
    rs = _ruleset(
        Rule("a", "attribution"),
        Rule("e", "eligibility", options={"licensed": ["riverside-commons.example"]}),
    )
    out = run_checks(rs, make_page(), SOURCE, FULL)
    assert [(f.rule, f.passed, f.message) for f in out] == [
        ("a", True, "licensed partner: exempt"),
        ("e", True, "licensed partner: exempt from the republishing conditions"),
    ]


def test_a_crashing_check_becomes_a_failed_finding() -> None:
    rs = _ruleset(
        Rule("bad", "tracking_pixel", severity="warning", options={"patterns": ["("]}),
        Rule("a", "attribution"),
    )
    out = run_checks(rs, make_page("Source: Global Research"), SOURCE, FULL)
    assert out[0].passed is False
    assert out[0].severity == "warning"
    assert out[0].message.startswith("the check errored: error: missing ), unterminated subpattern")
    assert out[1].passed is True


def test_odd_pages_never_raise() -> None:
    empty = Page(
        url="https://x.example/",
        status=200,
        headers=(),
        fetched_at="",
        title="",
        text="",
        full_text="",
        near_text="",
        chrome_text="",
        html="<<<>>>\x00",
    )
    rules = tuple(
        Rule(f"r-{kind}", kind, options={"patterns": ["x"]} if kind == "tracking_pixel" else {})
        for kind in KINDS
    )
    bare = SourceArticle(url="not a url", title="", text="")
    out = run_checks(_ruleset(*rules), empty, bare, Match("not a url", 0.0, "excerpt"))
    assert [f.kind for f in out] == list(KINDS)
    assert not any(f.message.startswith("the check errored") for f in out)


def test_registry_is_immutable() -> None:
    with pytest.raises(TypeError):
        KINDS["new"] = KINDS["attribution"]  # type: ignore[index]


def test_byline_and_link_position() -> None:
    top = make_page("", top="By Maren Ostrowski")
    bottom = make_page("By Maren Ostrowski")
    assert verdict(judge("byline", top, position="top")) == (
        True,
        "byline found",
        "By Maren Ostrowski",
    )
    assert verdict(judge("byline", bottom, position="top")) == (
        False,
        "byline found, but not at the top",
        "By Maren Ostrowski",
    )
    first = link(ORIGINAL, "Read the original at Global Research")
    at_top = make_page("", top="Read the original at Global Research", links=(first,))
    at_foot = make_page("Read the original at Global Research", links=(first,))
    evidence = f'<a href="{ORIGINAL}">Read the original at Global Research</a>'
    assert verdict(judge("link_to_original", at_top, position="top")) == (
        True,
        "link to the original found",
        evidence,
    )
    assert verdict(judge("link_to_original", at_foot, position="top")) == (
        False,
        "link to the original found, but not at the top",
        evidence,
    )
    assert judge("link_to_original", at_foot, position="bottom").passed is True


def test_license_in_the_site_footer_is_not_the_copys() -> None:
    deed = "https://creativecommons.org/licenses/by-nd/4.0/"
    footer = make_page(
        links=(link(deed, "Some rights reserved", region="chrome", rel=("license",)),),
        license_urls=(deed,),
    )
    assert judge("license_notice", footer, license="by-nd").passed is False
    assert judge("license_notice", footer, license="by-nd", region="page").passed is True
    near = make_page(
        links=(link(deed, "CC BY-ND 4.0", region="near", rel=("license",)),),
        license_urls=(deed,),
    )
    assert verdict(judge("license_notice", near, license="by-nd")) == (
        True,
        "CC BY-ND 4.0 licence linked",
        deed,
    )


def test_long_paragraph_evidence_is_a_window_around_the_credit() -> None:
    filler = "Residents gathered at the quay to watch the idle cranes. " * 8
    line = filler + "This article was originally published by Global Research. " + filler
    f = judge("attribution", make_page(line))
    assert f.passed is True
    assert f.evidence is not None
    assert len(f.evidence) <= 202
    assert "originally published by Global Research" in f.evidence
    assert f.evidence.startswith("\u2026") and f.evidence.endswith("\u2026")


def test_the_publishers_name_alone_is_not_a_credit() -> None:
    """A long alias ("Centre for Research on Globalization") dominates a fuzzy score; the
    phrase's own words ("source", "originally published by") must be there too."""
    line = (
        "Disclaimer: The Centre for Research on Globalization will not be responsible for any "
        "inaccurate statement in this article."
    )
    ruleset = RuleSet(
        name="t",
        publisher="Global Research",
        rules=(),
        aliases=("Centre for Research on Globalization",),
    )
    rule = Rule(id="a", kind="attribution")
    f = KINDS["attribution"](CheckContext(rule, ruleset, make_page(line), SOURCE, FULL))
    assert (f.passed, f.message) == (False, "no credit line naming the original")
    credit = make_page("Source - Centre for Research on Globalisation")
    f = KINDS["attribution"](CheckContext(rule, ruleset, credit, SOURCE, FULL))
    assert verdict(f) == (
        True,
        "credit line found",
        "Source - Centre for Research on Globalisation",
    )


def test_shortlinks_are_resolved_in_order_and_within_budget() -> None:
    asked: list[str] = []
    final = {"https://bit.ly/3xYz": ORIGINAL}

    def fake_resolve(url: str) -> str | None:  # records what the check asks for
        asked.append(url)
        return final.get(url)

    many = tuple(link(f"https://other{i}.example/long/path/to/a/story-{i}") for i in range(8))
    page = make_page(links=(*many, link("https://bit.ly/3xYz", "via")))
    f = judge("link_to_original", page, resolve=fake_resolve)
    assert f.passed is True
    assert asked == ["https://bit.ly/3xYz"]  # the shortener first, nothing else needed
    asked.clear()
    page = make_page(links=many)
    assert judge("link_to_original", page, resolve=fake_resolve).passed is False
    assert len(asked) == 5  # max_resolve
    asked.clear()
    judge("link_to_original", page, resolve=fake_resolve, max_resolve=0)
    assert asked == []


def _site_page(path: str, text: str) -> Page:
    return Page(
        url=f"https://riverside-commons.example/{path}",
        status=200,
        headers=(),
        fetched_at="",
        title=path,
        text=text,
        full_text=text,
        near_text=text,
        chrome_text="",
    )


def test_site_profile_thresholds() -> None:
    banner = "Support community news"
    profile = SiteProfile()
    profile.add(_site_page("a", f"{banner}\nStory A"))
    assert profile.is_chrome_text(banner) is False  # one page tells nothing
    profile.add(_site_page("a", f"{banner}\nStory A"))  # the same URL again: not counted
    assert profile.pages == 1
    for path in ("b", "c", "d", "e"):
        profile.add(_site_page(path, f"Story {path}"))
    profile.add(_site_page("f", f"{banner}\nStory F"))
    assert profile.is_chrome_text(banner) is False  # 2 of 6 pages
    profile.add(_site_page("g", "  SUPPORT community news!\nStory G"))  # same line, normalised
    assert profile.is_chrome_text(banner) is False  # 3 of 7 is under half
    profile.add(_site_page("h", f"{banner}\nStory H"))
    assert profile.is_chrome_text(banner) is True  # 4 of 8 is half
    assert profile.is_chrome_text("Story H") is False
    assert profile.is_chrome_text("") is False


def test_position_looks_past_a_credit_in_the_wrong_place() -> None:
    top = "This article was originally published by Global Research"
    bottom = "The original source of this article is Global Research"
    both = make_page(bottom, top=top)
    assert verdict(judge("attribution", both, position="bottom")) == (
        True,
        "credit line found",
        bottom,
    )
    assert verdict(judge("attribution", both, position="top")) == (True, "credit line found", top)
    bylines = make_page("By Maren Ostrowski", top="By Maren Ostrowski")
    assert judge("byline", bylines, position="bottom").passed is True


@pytest.mark.parametrize(
    ("copy_time", "message"),
    [
        ("0001-01-01T00:00:00+09:00", "a publication time is out of range; not judged"),
        ("2025-02-30", "the copy's publication time is unknown; not judged"),
        ("yesterday", "the copy's publication time is unknown; not judged"),
    ],
)
def test_embargo_odd_times_are_not_judged(copy_time: str, message: str) -> None:
    f = judge("embargo", make_page(published=copy_time), delay_hours=24, utc_offset="+05:00")
    assert (f.passed, f.message) == (True, message)
