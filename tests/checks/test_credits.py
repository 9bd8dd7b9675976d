"""Credits as people write them (checks/credits.py), and how attribution uses them: the pack's
phrases extend the built-in forms and narrow them only with builtin_credits = false."""

from __future__ import annotations

import pytest

from xpostcheck.checks.credits import credit_in, name_patterns
from xpostcheck.checks.registry import run_checks
from xpostcheck.extract.page import extract_html
from xpostcheck.models import Match, Passage, Rule, RuleSet, SourceArticle

NAMES = name_patterns(["Global Research", "globalresearch.ca", "Centre for Research"])


@pytest.mark.parametrize(
    ("line", "form"),
    [
        ("This article first appeared on Global Research", "credit"),
        ("Republished from Global Research.", "credit"),
        ("The original source of this article is Global Research", "credit"),
        ("Via globalresearch.ca", "credit"),
        ("Courtesy of Global Research", "credit"),
        ("Global Research, where this article first appeared.", "credit"),
        ("By Jane Doe, Global Research", "byline"),
        ("Jane Doe / Global Research", "byline"),
        ("Jane Doe for Global Research", "byline"),
        # es, fr, de, pt, it
        ("Publicado originalmente en Global Research", "credit"),
        ("Fuente: Global Research", "credit"),
        ("Este artículo se publicó originalmente en Global Research", "credit"),
        ("Se publicó por primera vez en Global Research", "credit"),
        ("Article publié initialement sur Global Research", "credit"),
        ("Par Jeanne Dupont, Global Research", "byline"),
        ("Quelle: Global Research", "credit"),
        ("Zuerst erschienen bei Global Research", "credit"),
        ("Publicado originalmente no Global Research", "credit"),
        ("Fonte: Global Research", "credit"),
        ("Pubblicato originariamente su Global Research", "credit"),
        ("Per gentile concessione di Global Research", "credit"),
    ],
)
def test_credit_forms_are_recognised(line: str, form: str) -> None:
    assert credit_in(line, NAMES) == form


@pytest.mark.parametrize(
    "line",
    [
        "Global Research, March 3, 2025",  # a dateline is no credit
        "This article was originally published on Mideast Discourse.",
        "Source: Reuters",
        "More from Global Research",
        "Tags: Global Research, Iraq, War",
        "The study by Global Research found that the economy grew",
        "Source: Global Researchers Network",  # not the name as whole words
        "Copyright © 2025 Global Research",  # left to copyright_notice
    ],
)
def test_other_mentions_are_not_credits(line: str) -> None:
    assert credit_in(line, NAMES, copyright=False) is None


def test_a_linked_name_is_a_credit() -> None:
    assert credit_in("Jane Doe — Global Research", NAMES, ["global research"]) == "link"
    assert credit_in("Jane Doe — Global Research", NAMES) is None


SOURCE = SourceArticle(
    url="https://www.globalresearch.ca/a/5880001",
    title="T",
    text="First paragraph of the article.\nSecond paragraph of the article.",
    publisher="Global Research",
)


def _judge(credit: str, **options: object) -> tuple[bool, str]:
    html = (
        "<html><body><article><p>First paragraph of the article.</p>"
        f"<p>Second paragraph of the article.</p><p>{credit}</p></article></body></html>"
    )
    page = extract_html("https://blog.example/copy", html)
    rule = Rule(id="attr", kind="attribution", severity="error", options=dict(options))
    ruleset = RuleSet(name="t", publisher="Global Research", rules=(rule,))
    match = Match(SOURCE.url, 1.0, "full", (Passage(0, 60, 0, 60),))
    [finding] = run_checks(ruleset, page, SOURCE, match)
    return finding.passed, finding.message


def test_pack_phrases_extend_the_built_in_forms() -> None:
    credit = "Quelle: Global Research"
    assert _judge(credit, phrases=["Thanks to {publisher}"]) == (True, "credit line found")
    assert _judge(credit, phrases=["Thanks to {publisher}"], builtin_credits=False) == (
        False,
        "no credit line naming the original",
    )
    assert _judge("Thanks to Global Research", phrases=["Thanks to {publisher}"])[0] is True
