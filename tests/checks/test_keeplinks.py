"""keep_links: the original's in-body links, read from its HTML, kept in the copied text."""

from __future__ import annotations

from dataclasses import replace

from tests.checks.test_checks import BODY, SOURCE, judge, link, make_page

FIRST, SECOND = BODY.split("\n")[0], BODY.split("\n")[1]
ANCHOR_1 = " ".join(FIRST.split()[2:6])
ANCHOR_2 = " ".join(SECOND.split()[1:4])
LINKED_1 = FIRST.replace(ANCHOR_1, '<a href="/one/1">' + ANCHOR_1 + "</a>")
LINKED_2 = SECOND.replace(ANCHOR_2, '<a href="https://other.example/two">' + ANCHOR_2 + "</a>")
HTML = (
    f"<article><p>{LINKED_1}</p><p>{LINKED_2}</p>"
    '<nav><a href="/about">About this site</a></nav></article>'
)
WITH_HTML = replace(SOURCE, html=HTML)


def test_without_the_originals_html_nothing_is_judged() -> None:
    f = judge("keep_links", make_page(""))
    assert (f.passed, f.message) == (
        True,
        "the original's HTML is not known; its links are not judged",
    )


def test_links_kept_and_missing() -> None:
    one = link("https://www.globalresearch.ca/one/1", ANCHOR_1)
    two = link("https://other.example/two/", ANCHOR_2)
    both = judge("keep_links", make_page("", links=(one, two)), source=WITH_HTML)
    assert (both.passed, both.message) == (True, "2 of the original's 2 in-body links kept (100%)")
    half = judge("keep_links", make_page("", links=(one,)), source=WITH_HTML)
    assert (half.passed, half.message) == (
        False,
        "1 of the original's 2 in-body links kept (50%); the rule asks for 80%",
    )
    assert half.evidence == f'missing: "{ANCHOR_2} -> https://other.example/two"'
    assert judge("keep_links", make_page("", links=(one,)), source=WITH_HTML, min_share=0.5).passed
