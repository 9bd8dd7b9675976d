"""Extraction on invented fixture pages (tests/fixtures/extract), with exact expected values."""

from __future__ import annotations

from pathlib import Path

import pytest

from xpostcheck.extract.page import (
    article_from_html,
    decode_html,
    extract_html,
    extract_page,
    looks_binary,
    visible_text,
)
from xpostcheck.models import Fetched, Link, Page, Resource

FIXTURES = Path(__file__).parents[1] / "fixtures" / "extract"
URL = "https://copy.example/story/"


def page_of(name: str, **kwargs: object) -> Page:
    html = decode_html((FIXTURES / name).read_bytes())
    return extract_html(URL, html, **kwargs)  # type: ignore[arg-type]


GAUGES = [
    "For forty years the tide gauge at Pellow Point sent a reading every six minutes to the "
    "regional office, and for forty years nobody thought much about it.",
    "That changed last winter, when a storm tore the housing from its pier and the readings "
    "stopped. Engineers found that three other gauges on the same stretch had failed quietly "
    "months earlier.",
    "Without them, the county's flood warnings now rely on a model fed by a single station "
    "sixty kilometres to the north, which forecasters say is not good enough for the narrow "
    "inlets.",
    '"We are flying half blind," said Maren Okafor, who runs the county emergency desk. She has '
    "asked the state for money to replace all four gauges before the autumn storms.",
]
GAUGES_CREDIT = (
    "This article was originally published by the Harbor Ledger and is republished with permission."
)


class TestCreditAfterBody:
    @pytest.fixture(scope="class")
    @classmethod
    def page(cls) -> Page:
        return page_of("credit_after_body.html", status=200, fetched_at="2025-01-02T03:04:05Z")

    def test_texts(self, page: Page) -> None:
        assert page.title == "Tide gauges fall silent along the coast"
        assert page.text == "\n".join(
            ["Tide gauges fall silent along the coast", *GAUGES, GAUGES_CREDIT]
            + ["© 2024 Ines Valdez, Harbor Ledger"]
        )
        article = [
            "Tide gauges fall silent along the coast",
            "By Ines Valdez",
            *GAUGES,
            GAUGES_CREDIT,
            "© 2024 Ines Valdez, Harbor Ledger",
        ]
        assert page.near_text == "\n".join(article)
        assert page.chrome_text == "\n".join(
            [
                "Marsh Weekly",
                "News About us",
                "Previous: Ferry fares rise",
                "Friends of the paper",
                "Harbor Ledger",
                "Dunes Daily",
                "© 2025 Marsh Weekly. All rights reserved.",
                "Privacy",
            ]
        )
        # Scripts and styles never reach the text.
        assert page.full_text == "\n".join(
            ["Marsh Weekly", "News About us", *article, "Previous: Ferry fares rise"]
            + ["Friends of the paper", "Harbor Ledger", "Dunes Daily"]
            + ["© 2025 Marsh Weekly. All rights reserved.", "Privacy"]
        )

    def test_links_and_regions(self, page: Page) -> None:
        original = "https://harborledger.example/2024/03/tide-gauges/?utm_source=republish"
        assert page.links == (
            Link("https://copy.example/", "Marsh Weekly", (), "chrome"),
            Link("https://copy.example/news/", "News", (), "chrome"),
            Link("https://copy.example/about/", "About us", (), "chrome"),
            Link(original, "originally published by the Harbor Ledger", (), "near"),
            Link("https://copy.example/2024/03/ferry-fares/", "Previous: Ferry fares rise"),
            Link("https://harborledger.example/", "Harbor Ledger", (), "chrome"),
            Link("https://dunesdaily.example/", "Dunes Daily", (), "chrome"),
            Link("https://copy.example/privacy/", "Privacy", (), "chrome"),
        )

    def test_metadata(self, page: Page) -> None:
        assert page.url == URL
        assert page.status == 200
        assert page.fetched_at == "2025-01-02T03:04:05Z"
        assert page.canonicals == ("https://harborledger.example/2024/03/tide-gauges/",)
        assert page.authors == ("Ines Valdez",)
        assert page.published == "2024-03-05T08:30:00+00:00"
        assert page.meta_robots == ()
        assert page.resources == ()
        assert page.license_urls == ()


class TestCaptionCredit:
    def test_caption_is_near_not_dropped(self) -> None:
        page = page_of("caption_credit.html")
        caption = (
            "Empty crates at the Brenner orchard. Photo and story first published by Upland "
            "Courier."
        )
        body = [
            "Thieves emptied two rows of late apples from the Brenner family orchard overnight "
            "on Tuesday, the third raid in the valley this month.",
            "The family found tyre tracks leading from the back gate to the county road and "
            "estimates the loss at about four tonnes of fruit, most of it already sold to a "
            "cider press.",
            "Sheriff's deputies said they were looking into whether the raids are linked, and "
            "asked growers to report any trucks seen parked near orchards after dark.",
        ]
        # The extractor drops the caption; the near region keeps it.
        assert page.text == "\n".join(["Orchard thieves strike again", *body])
        assert page.near_text == "\n".join(["Orchard thieves strike again", caption, *body])
        assert page.chrome_text == "Valley Notes Contact\nValley Notes is a volunteer newsletter."
        assert page.resources == (
            Resource(
                "img",
                "https://copy.example/media/orchard.jpg",
                alt="Empty apple crates stacked by a gate",
                region="near",
            ),
        )


class TestSidebarCredit:
    def test_blogroll_credit_is_chrome(self) -> None:
        page = page_of("sidebar_credit.html")
        assert "Source: The River Post" not in page.near_text
        assert page.chrome_text == (
            "Blogroll\nThe River Post\nSource: The River Post\nCopyright 2024 Town Crier Blog"
        )
        assert page.near_text.startswith("Library hours cut for the summer\nThe town library")
        assert page.near_text.endswith("look at moving staff to cover it.")
        assert page.links == (Link("https://riverpost.example/", "The River Post", (), "chrome"),)


def test_jsonld_author_and_date_from_the_article_object() -> None:
    page = page_of("jsonld.html")
    # The WebPage's 2019 date and the broken second script are ignored.
    assert page.authors == ("Tomas Reyes", "Ada Lindqvist")
    assert page.published == "2024-05-02T17:45:00-04:00"
    assert page.title == "Bridge vote delayed"
    assert page.chrome_text == ""


class TestAmpRobots:
    @pytest.fixture(scope="class")
    @classmethod
    def page(cls) -> Page:
        headers = [
            ("Content-Type", "text/html"),
            ("X-Robots-Tag", "noarchive, unavailable_after: 2030-01-01"),
            ("x-robots-tag", "otherbot: noindex, nofollow"),
            ("X-Robots-Tag", "googlebot: NoImageIndex, max-snippet: 20"),
        ]
        return page_of("amp_robots.html", headers=headers)

    def test_meta_robots_from_meta_and_header(self, page: Page) -> None:
        assert page.meta_robots == (
            "noindex",
            "follow",
            "nosnippet",
            "noarchive",
            "unavailable_after:2030-01-01",
            "noimageindex",
            "max-snippet:20",
        )
        assert page.header("content-type") == "text/html"

    def test_two_canonicals_both_kept(self, page: Page) -> None:
        assert page.canonicals == (
            "https://coastwire.example/ferry-timetable/",
            "https://copy.example/amp/ferry-timetable/",
        )

    def test_resources_pixels_and_hidden(self, page: Page) -> None:
        px = "https://pixel.coastwire.example/"
        assert page.resources == (
            Resource(
                "amp-img",
                "https://coastwire.example/img/ferry.jpg",
                False,
                "The ferry at the pier",
                "article",
            ),
            Resource("amp-pixel", px + "pv?url=ferry-timetable", False, "", "article"),
            Resource(
                "amp-analytics", "https://stats.coastwire.example/hit?p=ferry", False, "", "article"
            ),
            # A 1x1 pixel is not hidden; display:none and the hidden attribute are.
            Resource("img", px + "t.gif", False, "", "article"),
            Resource("img", px + "hidden.gif", True, "", "article"),
            Resource("img", px + "in-hidden-div.gif", True, "", "article"),
        )

    def test_hidden_text_and_links(self, page: Page) -> None:
        assert "Invisible words" not in page.full_text
        assert "secret link" not in page.full_text
        assert page.links == (
            Link(
                "https://coastwire.example/ferry-timetable/",
                "secret link",
                (),
                "article",
                hidden=True,
            ),
            Link(
                "https://creativecommons.org/licenses/by-nd/4.0/",
                "CC BY-ND 4.0",
                ("license", "nofollow"),
                "article",
            ),
        )

    def test_license_urls_deduplicated(self, page: Page) -> None:
        assert page.license_urls == ("https://creativecommons.org/licenses/by-nd/4.0/",)


def test_malformed_html_still_gives_text_and_links() -> None:
    page = page_of("malformed.html")
    assert page.full_text == (
        "Opening paragraph without a closing tag about the harbour festival and its fireworks\n"
        "Second paragraph bold nested wrong order and a stray close\n"
        "cell one\ncell two\n"
        "bad link ok link after comment\n"
        "Last line & an entity © &unknownentity;"
    )
    assert page.title == "Broken <b>page"
    assert page.links == (
        Link("http://[broken", "bad link", (), "article"),
        Link("https://copy.example/ok", "ok link", (), "article"),
    )


def test_windows_1252_bytes_decode_from_meta_charset() -> None:
    raw = (FIXTURES / "cp1252.html").read_bytes()
    assert "“".encode("cp1252") in raw
    html = decode_html(raw)
    assert "Café owners weigh the “terrace rules”" in html


def test_windows_1252_text_already_decoded() -> None:
    html = (FIXTURES / "cp1252.html").read_bytes().decode("cp1252")
    page = extract_html(URL, html)
    assert page.title == "Café owners weigh the “terrace rules”"
    assert page.text.splitlines()[1] == (
        "Owners of the three cafés on Mühlen Square say the town’s new terrace rules — fewer "
        "tables, earlier closing — will cost them about €400 a week each in summer."
    )
    assert page.full_text.endswith(
        "gathered 1,200 signatures… and the council will hear it in June."
    )
    assert page.full_text == page.near_text


@pytest.mark.parametrize(
    "body",
    ["", "   \n\t ", "\x00\x01\x02\x89PNG\r\n\x1a\n" + "\x00\xff" * 500, "\ufffd" * 300],
    ids=["empty", "whitespace", "binary", "replacement-chars"],
)
def test_empty_and_binary_bodies_give_empty_texts(body: str) -> None:
    page = extract_html(URL, body, headers=[("X-Robots-Tag", "noindex")], status=200)
    assert (page.title, page.text, page.full_text, page.near_text, page.chrome_text) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert page.links == () and page.resources == ()
    assert page.meta_robots == ("noindex",)
    assert page.html == body


def test_looks_binary() -> None:
    assert looks_binary("\x00\x01\x02" * 100)
    assert not looks_binary("<p>plain text</p>")
    assert not looks_binary("")


@pytest.mark.parametrize(
    "html",
    [
        "<p>only a fragment",
        "<<<>>><<",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>",
        "<html>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</html>",
        "</body></html><body><p>reversed</p>",
    ],
    ids=["fragment", "brackets", "xml-decl", "deep", "reversed"],
)
def test_junk_html_never_raises(html: str) -> None:
    page = extract_html(URL, html)
    assert isinstance(page.full_text, str)


def test_fragment_text() -> None:
    assert extract_html(URL, "<p>only a fragment").full_text == "only a fragment"
    assert visible_text("<p>One <b>two</b></p><p>three<script>x()</script></p>") == (
        "One two\nthree"
    )


def test_extract_page_uses_final_url_and_headers() -> None:
    html = (FIXTURES / "jsonld.html").read_text(encoding="utf-8")
    fetched = Fetched(
        url="http://copy.example/old",
        final_url="https://copy.example/new/",
        status=200,
        headers=(("X-Robots-Tag", "none"),),
        body=html.encode(),
        text=html,
        encoding="utf-8",
        fetched_at="2025-06-01T00:00:00Z",
    )
    page = extract_page(fetched)
    assert (page.url, page.status, page.fetched_at) == (
        "https://copy.example/new/",
        200,
        "2025-06-01T00:00:00Z",
    )
    assert page.meta_robots == ("none",)
    assert page.headers == (("X-Robots-Tag", "none"),)


def test_base_href_resolves_links() -> None:
    html = (
        '<html><head><base href="https://cdn.example/sub/"></head><body>'
        '<a href="page.html">p</a><img src="i.png"></body></html>'
    )
    page = extract_html(URL, html)
    assert [link.href for link in page.links] == ["https://cdn.example/sub/page.html"]
    assert [r.url for r in page.resources] == ["https://cdn.example/sub/i.png"]


def test_article_from_html() -> None:
    html = (FIXTURES / "credit_after_body.html").read_text(encoding="utf-8")
    html = html.replace(
        "<p>For forty",
        '<img src="/img/pier.jpg" alt="pier"><p>For forty',
    ).replace("</head>", '<meta property="og:image" content="https://cdn.example/og.jpg"></head>')
    article = article_from_html(
        "https://harborledger.example/2024/03/tide-gauges/", html, publisher="Harbor Ledger"
    )
    assert article.url == "https://harborledger.example/2024/03/tide-gauges/"
    assert article.title == "Tide gauges fall silent along the coast"
    assert article.authors == ("Ines Valdez",)
    assert article.published == "2024-03-05T08:30:00+00:00"
    assert article.publisher == "Harbor Ledger"
    assert article.text.splitlines()[1:5] == GAUGES
    assert article.images == (
        "https://harborledger.example/img/pier.jpg",
        "https://cdn.example/og.jpg",
    )
    assert article.html == html


def test_near_is_the_enclosing_article_minus_its_nav_and_link_lists() -> None:
    page = page_of("nested_article.html")
    body = [
        "Household water bills in Pine County will rise by nine percent in July, the utility "
        "board decided on Wednesday, to pay for a new filtration plant.",
        "The board said the old plant could no longer meet federal limits on sediment during "
        "spring floods, when the river runs brown for weeks at a time.",
        "A family using an average amount of water will pay about six dollars more each month. "
        "The board will offer a reduced rate to households on fixed incomes.",
        "Two board members voted against the increase, arguing that the county should first "
        "apply for a state loan that would spread the cost of the plant over thirty years.",
        "Construction is due to start in the autumn and take two years, during which the old "
        "plant will keep running under a temporary permit from the state.",
    ]
    # The credit two levels above the body, the article's own footer and a licence line with
    # three links are near; the article's share links, its related box and its most-read list
    # (three links, mostly link text) are chrome, as are the masthead and sidebar.
    assert page.near_text == "\n".join(
        ["Water rates to climb", "By Noor Haddad", *body, "Advertisement"]
        + ["Source: Pine County Times", "Copyright 2024 Noor Haddad, Pine County Times"]
        + [
            "Republished from Pine County Times under CC BY-ND 4.0; read the original story "
            "for photos."
        ]
    )
    assert page.chrome_text == "\n".join(
        [
            "Bayside Blog Community news since 2009",
            "Share",
            "Related",
            "Sewer fees, also from Pine County Times",
            "Most read",
            "Storm damage",
            "Budget row",
            "Ferry fares",
            "We share stories from Pine County Times",
            "© 2025 Bayside Blog",
        ]
    )
    original = "https://pinecountytimes.example/2024/06/water-rates/"
    assert [(link.href, link.region) for link in page.links] == [
        ("https://copy.example/", "chrome"),
        (original, "near"),
        ("https://social.example/share?u=x", "chrome"),
        ("https://copy.example/2024/05/sewer/", "chrome"),
        ("https://pinecountytimes.example/", "near"),
        ("https://creativecommons.org/licenses/by-nd/4.0/", "near"),
        (original, "near"),
        ("https://copy.example/storm/", "chrome"),
        ("https://copy.example/budget/", "chrome"),
        ("https://copy.example/ferry/", "chrome"),
        ("https://pinecountytimes.example/", "chrome"),
    ]
    assert page.authors == ("Noor Haddad",)


def test_chrome_inside_the_article_element_is_excluded_unless_it_holds_the_text() -> None:
    def paras(numbers: range) -> str:
        return "".join(
            f"<p>Paragraph {n} of the story about the river crossing, with words to keep.</p>"
            for n in numbers
        )

    html = (
        "<html><body><div class=story>"
        f'<div class="content">{paras(range(1, 4))}</div>'
        f'<div class="content nav-fix">{paras(range(4, 7))}</div>'
        '<nav><a href="/prev">Previous story</a></nav>'
        "<p>Originally published by The River Post.</p>"
        "</div></body></html>"
    )
    page = extract_html(URL, html)
    # The article is div.story. Inside it, "nav-fix" looks like chrome, but that element holds
    # half the story: it stays. The real nav goes.
    assert [line[:11] for line in page.near_text.splitlines()] == [
        *(f"Paragraph {n}" for n in range(1, 7)),
        "Originally ",
    ]
    assert page.chrome_text == "Previous story"
    assert [link.region for link in page.links] == ["chrome"]


def test_page_without_a_container_still_separates_chrome() -> None:
    # No element holds the text better than <body>: the article is the body minus its chrome.
    html = (
        '<html><body><header><a href="/">Home</a></header>'
        "<p>Quote: the mayor said no.</p>"
        '<p>Read more at <a href="https://src.example/a">Source Daily</a></p>'
        '<aside><a href="https://src.example/">Source Daily</a> blogroll</aside>'
        "<footer>(c) 2024 Blog</footer></body></html>"
    )
    page = extract_html("https://b.example/x", html)
    assert page.near_text == "Quote: the mayor said no.\nRead more at Source Daily"
    assert page.chrome_text == "Home\nSource Daily blogroll\n(c) 2024 Blog"
    assert page.links == (
        Link("https://b.example/", "Home", (), "chrome"),
        Link("https://src.example/a", "Source Daily", (), "article"),
        Link("https://src.example/", "Source Daily", (), "chrome"),
    )


def test_huge_pages_skip_the_extractor_but_keep_everything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import xpostcheck.extract.page as extract

    html = (FIXTURES / "credit_after_body.html").read_text(encoding="utf-8")
    normal = extract_html(URL, html)
    monkeypatch.setattr(extract, "MAX_EXTRACT_ELEMENTS", 20)
    page = extract_html(URL, html)
    assert page.text == ""
    assert page.title == "Tide gauges fall silent along the coast"  # the <h1>
    assert page.authors == ("Ines Valdez",)
    assert page.full_text.splitlines()[4:8] == GAUGES
    assert normal.text != ""
    # Regions fall back to <body> minus its chrome, which here gives the same texts; the
    # credit link is then in the article region rather than near it.
    assert (page.near_text, page.chrome_text) == (normal.near_text, normal.chrome_text)
    assert [link.region for link in normal.links] == ["chrome"] * 3 + ["near"] + ["chrome"] * 4
    assert [link.region for link in page.links] == ["chrome"] * 3 + ["article"] + ["chrome"] * 4


def test_pixel_styled_invisible_but_displayed_is_not_hidden() -> None:
    # Publishers' own republishing snippets style their pixel 1x1 and transparent: it still
    # loads, so it is not hidden. Only display:none, visibility:hidden and [hidden] are.
    html = (
        "<html><body><article><p>Body.</p>"
        '<img src="https://counter.example/count.gif?d=republish" alt="" width="1" height="1" '
        'style="border: none !important; opacity: 0 !important; max-width: 1px !important">'
        '<img src="https://counter.example/b.gif" style="DISPLAY : NONE !important">'
        '<img src="https://counter.example/c.gif" style="visibility:hidden">'
        '<noscript><img src="https://counter.example/ns.gif"></noscript>'
        "</article></body></html>"
    )
    page = extract_html(URL, html)
    assert [(r.url.rsplit("/", 1)[1], r.hidden) for r in page.resources] == [
        ("count.gif?d=republish", False),
        ("b.gif", True),
        ("c.gif", True),
        ("ns.gif", False),
    ]


def test_lone_surrogates_and_control_characters_do_not_cut_the_text() -> None:
    html = "<html><body><p>Caf\ud800 au lait\x00 and the rest\x07 of it.</p></body></html>"
    assert extract_html(URL, html).full_text == "Caf\ufffd au lait and the rest of it."
    assert extract_html(URL, html).html == html.replace("\ud800", "\ufffd")


def test_inline_elements_are_never_cut_out_of_a_line() -> None:
    html = (
        "<html><body><article>"
        "<p>Paragraph one of the story about the river crossing, with words to keep here.</p>"
        "<p>Paragraph two of the story about the river crossing, with words to keep here.</p>"
        '<p>Source: <a class="nav-link" href="https://src.example/a">The River Post</a>, with '
        '<span class="people"><a href="/p/1">Ann</a> <a href="/p/2">Bo</a> <a href="/p/3">Cy'
        "</a></span>.</p></article></body></html>"
    )
    page = extract_html(URL, html)
    assert page.near_text.splitlines()[-1] == "Source: The River Post, with Ann Bo Cy."
    assert {link.region for link in page.links} <= {"article", "near"}
    assert page.chrome_text == ""


def test_hostile_json_ld_is_ignored_not_fatal() -> None:
    big = "[" + ",".join(['{"@type": "Thing"}'] * 50_000) + "]"
    deep = "[" * 50_000 + "]" * 50_000
    html = (
        f'<html><head><script type="application/ld+json">{big}</script>'
        f'<script type="application/ld+json">{deep}</script>'
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": '
        '{"name": [[[[[[["Too Deep"]]]]]]]}, "datePublished": "2024-02-02"}</script>'
        "</head><body><p>Still here.</p></body></html>"
    )
    page = extract_html(URL, html)
    assert page.full_text == "Still here."
    assert page.authors == ()


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", None, "<p>café</p>"),
        ("<p>café</p>".encode("utf-16"), None, "<p>café</p>"),
        (b"<p>caf\xe9 \x93q\x94</p>", "iso-8859-1", "<p>café “q”</p>"),  # latin-1 is read as 1252
        (
            b'<meta charset="koi8-r"><p>\xd0\xd2\xc9\xd7\xc5\xd4</p>',
            None,
            '<meta charset="koi8-r"><p>привет</p>',
        ),
        (b"<p>caf\xc3\xa9</p>", "no-such-codec", "<p>café</p>"),
        (b"<p>caf\xe9</p>", None, "<p>café</p>"),  # not UTF-8: windows-1252
    ],
    ids=["utf8-bom", "utf16-bom", "latin1-label", "meta-charset", "bad-label", "fallback"],
)
def test_decode_html(data: bytes, declared: str | None, expected: str) -> None:
    assert decode_html(data, declared) == expected


def test_canonical_and_license_from_http_link_headers() -> None:
    html = '<html><head><link rel="canonical" href="/x"></head><body><p>t</p></body></html>'
    headers = [
        ("Link", '<https://orig.example/story/>; rel="canonical", </s.css>; rel=preload; as=style'),
        ("link", "<https://creativecommons.org/licenses/by/4.0/>; rel='license nofollow'"),
    ]
    page = extract_html("https://copy.example/a/", html, headers=headers)
    # The page's own tags first, then the header's: two canonicals, as a check should see them.
    assert page.canonicals == ("https://copy.example/x", "https://orig.example/story/")
    assert page.license_urls == ("https://creativecommons.org/licenses/by/4.0/",)


def test_captions_and_the_markup_date_come_from_the_one_parse() -> None:
    html = (
        "<html><head>"
        '<meta name="date" content=" 2023-05-06 ">'
        '<script type="application/ld+json">{"@graph": [{"datePublished": "2022-01-01"}]}'
        "</script></head><body><article><p>Body text of the story.</p>"
        '<figure><img src="/a.jpg" alt="A gauge"><figcaption> The  gauge at dawn. </figcaption>'
        '<span class="photo-credit">Photo: Ann Lee</span></figure>'
        '<div class="wp-caption-text">The gauge at dawn.</div>'
        '<span class="credit">Not in a figure</span>'
        "<table><caption>Readings</caption><tr><td>1</td></tr></table>"
        '<time datetime="2021-02-03">Feb 3</time></article></body></html>'
    )
    page = extract_html(URL, html)
    assert page.captions == ("The gauge at dawn.", "Photo: Ann Lee", "Readings")
    assert page.markup_published == "2023-05-06"  # meta first, then JSON-LD, then <time>
    no_meta = extract_html(URL, html.replace('name="date"', 'name="other"'))
    assert no_meta.markup_published == "2022-01-01"
    only_time = extract_html(URL, html.replace('name="date"', "x").replace("datePublished", "x"))
    assert only_time.markup_published == "2021-02-03"


def test_pages_without_captions_or_dates_say_so() -> None:
    page = extract_html(URL, "<html><body><p>Plain.</p></body></html>")
    assert (page.captions, page.markup_published) == ((), None)
    assert extract_html(URL, "").captions == ()
