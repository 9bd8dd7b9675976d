"""Each publisher pack on a copy that follows its terms (every finding passes) and on a bare
copy (the pack's error rules that a bare copy breaks all fail)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from xpostcheck.checks.registry import run_checks
from xpostcheck.models import Link, Match, Page, Passage, Resource, SourceArticle
from xpostcheck.rules.loader import load_ruleset

BODY = "\n".join(
    [
        "The county commission voted four to one on Tuesday to close the river crossing for "
        "eighteen months of repairs, sending school buses on a forty-minute detour.",
        "Engineers found corrosion in three of the bridge's five piers during an inspection "
        "last spring, and the state has promised to pay most of the cost.",
        "Parents at the meeting asked for a temporary ferry; the commission said it would "
        "study the idea and report back in the autumn.",
    ]
)
COPY = "https://valley-voice.example/2025/06/bridge-closure/"


@dataclass
class Terms:
    pack: str
    original: str
    publisher: str
    top: list[str] = field(default_factory=list)
    bottom: list[str] = field(default_factory=list)
    licence: str = ""
    pixel: str = ""
    failing: tuple[str, ...] = ()  # error rules a bare copy must fail


TERMS = [
    Terms(
        "propublica",
        "https://www.propublica.org/article/river-bridge-closure",
        "ProPublica",
        top=["by Dana Whitlock, ProPublica", "This story was originally published by ProPublica."],
        bottom=["Republished under CC BY-NC-ND 3.0."],
        licence="https://creativecommons.org/licenses/by-nc-nd/3.0/us/",
        pixel="https://pixel.propublica.org/pixel.gif?id=river-bridge-closure",
        failing=("cc-author", "cc-source", "pp-credit", "pp-pixel"),
    ),
    Terms(
        "theconversation",
        "https://theconversation.com/river-bridge-closure-240001",
        "The Conversation",
        top=["Dana Whitlock, Northfield State University"],
        bottom=[
            "This article is republished from The Conversation under a Creative Commons "
            "license. Read the original article."
        ],
        licence="https://creativecommons.org/licenses/by-nd/4.0/",
        pixel="https://counter.theconversation.com/content/240001/count.gif?distributor=x",
        failing=("cc-author", "cc-source", "cc-license", "tc-credit", "tc-counter"),
    ),
    Terms(
        "globalvoices",
        "https://globalvoices.org/2025/06/03/river-bridge-closure/",
        "Global Voices",
        top=["This story by Dana Whitlock originally appeared on Global Voices on June 3, 2025."],
        licence="https://creativecommons.org/licenses/by/3.0/",
        failing=("cc-author", "cc-source", "gv-credit"),
    ),
    Terms(
        "montanafreepress",
        "https://montanafreepress.org/2025/06/03/river-bridge-closure/",
        "Montana Free Press",
        top=["Dana Whitlock, Montana Free Press"],
        licence="https://creativecommons.org/licenses/by-nc-nd/3.0/us/",
        failing=("cc-author", "cc-source"),
    ),
    Terms(
        "calmatters",
        "https://calmatters.org/politics/2025/06/river-bridge-closure/",
        "CalMatters",
        top=["By Dana Whitlock, CalMatters", "This story was originally published by CalMatters."],
        licence="https://creativecommons.org/licenses/by-nd/4.0/",
        pixel="https://calmatters.org/?republication-pixel=true&post=9001",
        failing=("cc-author", "cm-credit"),  # a link is one of cm-credit's alternatives
    ),
    Terms(
        "floodlight",
        "https://floodlightnews.org/river-bridge-closure/",
        "Floodlight",
        top=["Dana Whitlock, Floodlight", "This story was originally published by Floodlight."],
        licence="https://creativecommons.org/licenses/by-nc-nd/4.0/",
        failing=("cc-author", "cc-source", "fl-credit"),  # no licence notice is asked for
    ),
]


def source(t: Terms) -> SourceArticle:
    return SourceArticle(
        url=t.original,
        title="County closes river bridge for repairs",
        text=BODY,
        authors=("Dana Whitlock",),
        published="2025-06-03T09:00:00-06:00",
        publisher=t.publisher,
    )


def copy_page(t: Terms, *, compliant: bool) -> Page:
    top = t.top if compliant else []
    bottom = t.bottom if compliant else []
    near = "\n".join(["County closes river bridge for repairs", *top, BODY, *bottom])
    links: list[Link] = []
    resources: list[Resource] = []
    if compliant:
        links.append(Link(t.original, "the original story", region="article"))
        if t.licence:
            links.append(Link(t.licence, "Creative Commons licence", region="near"))
        if t.pixel:
            resources.append(Resource("img", t.pixel, region="article"))
    return Page(
        url=COPY,
        status=200,
        headers=(),
        fetched_at="",
        title="County closes river bridge for repairs",
        text=BODY,
        full_text=near,
        near_text=near,
        chrome_text="Valley Voice\nNews Sports Obituaries",
        links=tuple(links),
        resources=tuple(resources),
        published="2025-06-05T07:00:00-06:00",
    )


def match_for(t: Terms, page: Page) -> Match:
    start = page.full_text.index(BODY)
    return Match(t.original, 0.99, "full", (Passage(0, len(BODY), start, start + len(BODY)),))


@pytest.mark.parametrize("terms", TERMS, ids=[t.pack for t in TERMS])
def test_a_copy_that_follows_the_terms_passes_every_rule(terms: Terms) -> None:
    page = copy_page(terms, compliant=True)
    found = run_checks(load_ruleset(terms.pack), page, source(terms), match_for(terms, page))
    assert [(f.rule, f.message) for f in found if not f.passed] == []


@pytest.mark.parametrize("terms", TERMS, ids=[t.pack for t in TERMS])
def test_a_bare_copy_breaks_the_terms(terms: Terms) -> None:
    page = copy_page(terms, compliant=False)
    found = run_checks(load_ruleset(terms.pack), page, source(terms), match_for(terms, page))
    failed_errors = tuple(f.rule for f in found if not f.passed and f.severity == "error")
    assert failed_errors == terms.failing
