"""A notice never asks for something that still fails: for every shipped pack, a bare copy's
notice is followed to the letter (each snippet pasted where the notice says), and every rule
the notice gave a snippet for then passes."""

from __future__ import annotations

import re

import pytest

from xpostcheck.models import Copy
from xpostcheck.review.notice import draft_notice
from xpostcheck.rules.examples import Example, run_example
from xpostcheck.rules.loader import load_ruleset, pack_names

BARE = """<html><head><title>{title}</title>HEAD</head><body><article><h1>{title}</h1>
TOP
{article}
BOTTOM
</article></body></html>"""
TEMPLATE = (
    "{% for fix in fixes %}{{ fix.rule }}\t{{ fix.action }}\t{{ fix.snippet }}\n\x00{% endfor %}"
)


def _snippets(action: str, snippet: str) -> list[tuple[str, str]]:
    """(where, text) for each thing the notice asks to add: for an any_of its first
    alternative, for an all_of every condition."""
    if snippet:
        wanted = [(action, snippet)]
    else:
        wanted = re.findall(r"\([a-z]\) (.*?)\n {9}(.+)", action)
        if action.startswith("Do one of these"):
            wanted = wanted[:1]
    placed = []
    for what, text in wanted:
        if text.startswith(("<link", "<meta")):
            placed.append(("HEAD", text))
        else:
            placed.append(("TOP" if "at the top" in what else "BOTTOM", f"<p>{text}</p>"))
    return placed


@pytest.mark.parametrize("pack", pack_names())
def test_following_the_notice_meets_each_condition_it_gives_text_for(pack: str) -> None:
    from xpostcheck.rules.examples import _read  # the pack's own example original
    from xpostcheck.rules.loader import packs_dir

    ruleset = load_ruleset(pack)
    source, _ = _read(packs_dir() / f"{pack}.toml", ruleset)
    bare = Example("bare", "violation", (), BARE, "https://valley-news.example/copy/", 0)
    before = run_example(ruleset, source, bare)
    copy = Copy(
        url=bare.url,
        site="valley-news.example",
        source_url=source.url,
        coverage=before.coverage,
        kind="full",
        verdict="violation",
        passages=(),
        checks=before.findings,
    )
    text = draft_notice(copy, source, ruleset, template=TEMPLATE)
    asked: dict[str, list[tuple[str, str]]] = {}
    for entry in text.split("\x00"):
        if not entry.strip():
            continue
        rule, action, snippet = entry.strip("\n").split("\t")
        placed = _snippets(action, snippet)
        if placed:
            asked[rule] = placed
    html = BARE
    for pieces in asked.values():
        for where, snippet in pieces:
            html = html.replace(where, snippet + "\n" + where)
    fixed = Example("fixed", "compliant", (), html, bare.url, 0)
    after = {f.rule: f for f in run_example(ruleset, source, fixed).findings}
    still = [(r, after[r].message, after[r].evidence) for r in asked if not after[r].passed]
    assert still == []
