"""Pixels from real markup: a script pixel runs whatever its CSS says, an image pixel can be
hidden, and a pixel that carries an article id must carry this article's id."""

from __future__ import annotations

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.registry import KINDS
from xpostcheck.extract.page import extract_html
from xpostcheck.models import Finding, Match, Rule, RuleSet, SourceArticle

SOURCE = SourceArticle(
    url="https://theconversation.com/why-river-otters-are-returning-to-the-city-231507",
    title="Why river otters are returning",
    text="(not needed)",
)
COUNTER = "https://counter.theconversation.com/content/{id}/count.gif?distributor=republish"
PP = "https://pixel.propublica.org/pixel.js?id=231507"


def judge(body: str, **options: object) -> Finding:
    page = extract_html("https://valley.example/otters", f"<html><body>{body}</body></html>")
    rule = Rule("px", "tracking_pixel", options={"patterns": ["counter\\.", "pixel\\."], **options})
    ctx = CheckContext(rule, RuleSet("t", "P", ()), page, SOURCE, Match(SOURCE.url, 1.0, "full"))
    return KINDS["tracking_pixel"](ctx)


def test_a_script_pixel_in_a_display_none_container_still_runs() -> None:
    f = judge(f'<div style="display:none"><script src="{PP}"></script></div><p>Text</p>')
    assert (f.passed, f.message, f.evidence) == (True, "tracking pixel present (script)", PP)


def test_an_image_pixel_in_a_display_none_container_is_hidden() -> None:
    url = COUNTER.format(id=231507)
    f = judge(f'<div style="display:none"><img src="{url}" width="1" height="1"></div>')
    assert (f.passed, f.message) == (False, "tracking pixel present but hidden (img)")


def test_the_pixel_must_carry_this_articles_id_when_the_rule_reads_one() -> None:
    rule_id = r"-(\d+)/?$"
    mine = COUNTER.format(id=231507)
    other = COUNTER.format(id=231999)
    ok = judge(f'<img src="{mine}" width="1" height="1">', article_id=rule_id)
    assert (ok.passed, ok.evidence) == (True, mine)
    wrong = judge(f'<img src="{other}" width="1" height="1">', article_id=rule_id)
    assert (wrong.passed, wrong.message, wrong.evidence) == (
        False,
        "tracking pixel present, but for another article (this one's id is 231507)",
        other,
    )
    # a longer number that merely contains the id is another article
    longer = COUNTER.format(id=2315070)
    assert judge(f'<img src="{longer}">', article_id=rule_id).passed is False
