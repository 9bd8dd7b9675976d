"""Bylines of several authors: one line names them all, joined as bylines join names."""

from __future__ import annotations

import pytest

from tests.checks.test_checks import BODY, ORIGINAL, SourceArticle, judge, make_page, verdict

TWO = SourceArticle(url=ORIGINAL, title="T", text=BODY, authors=("Ben Alvarez", "Marisol Vega"))
THREE = SourceArticle(
    url=ORIGINAL, title="T", text=BODY, authors=("Kathryn Hale", "Tom Rourke", "Ann Bee")
)


@pytest.mark.parametrize(
    "line",
    [
        "By Ben Alvarez and Marisol Vega, Global Research",
        "Ben Alvarez & Marisol Vega, Global Research",
        "Por Ben Alvarez y Marisol Vega, Global Research",
        "Par Ben Alvarez et Marisol Vega, Global Research",
        "Von Ben Alvarez und Marisol Vega, Global Research",
    ],
)
def test_a_joint_byline_in_the_packs_format_names_both_authors(line: str) -> None:
    f = judge("byline", make_page("", top=line), source=TWO, format="{author}, {publisher}")
    assert verdict(f) == (True, "byline found", line)


def test_three_authors_with_a_serial_comma() -> None:
    line = "By Kathryn Hale, Tom Rourke, and Ann Bee, Global Research"
    f = judge("byline", make_page("", top=line), source=THREE, format="{author}, {publisher}")
    assert verdict(f) == (True, "byline found", line)


@pytest.mark.parametrize(
    ("line", "missing"),
    [
        ("By Ben Alvarez, Global Research", '"Marisol Vega, Global Research"'),
        (
            "By Ben Alvarez and Marisol Vega",
            '"Ben Alvarez, Global Research", "Marisol Vega, Global Research"',
        ),
        (
            "By Ben Alvarez and Marisol Vega, CalMatters",
            '"Ben Alvarez, Global Research", "Marisol Vega, Global Research"',
        ),
    ],
)
def test_a_joint_byline_still_needs_every_author_and_the_format(line: str, missing: str) -> None:
    f = judge("byline", make_page("", top=line), source=TWO, format="{author}, {publisher}")
    assert f.passed is False
    assert f.message == f"byline missing: looked for {missing}"
