"""Rule-judgement gate: every labelled case in fixtures/rules/gate.toml must be judged right.

Accuracy is pinned at 1.0. A check change that flips any label fails here with the case named.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from xpostcheck.checks.registry import KINDS, run_checks
from xpostcheck.extract.page import extract_html
from xpostcheck.models import Link, Match, Page, Passage, Resource, Rule, RuleSet, SourceArticle
from xpostcheck.rules.loader import load_ruleset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rules"
ACCURACY_FLOOR = 1.0
COPY_URL = "https://riverside-commons.example/2025/03/harbour-cranes/"
BODY = (
    "The cranes along the eastern quay of Port Velden stood motionless on Tuesday as "
    "dockworkers entered the third week of a strike over shift rotations.\n"
    "Union representatives said talks with the port authority had stalled over a proposal to "
    "replace night crews with remotely operated gantries.\n"
    "Shipping agents estimate that each idle day costs regional exporters several million in "
    "demurrage.\n"
    "Strikers have set up a kitchen and a library in a disused warehouse near the ferry "
    "terminal."
)
SOURCES = {
    "gr": SourceArticle(
        url="https://www.globalresearch.ca/harbour-cranes-fall-silent/5880001",
        title="Harbour Cranes Fall Silent as Port Strike Enters Third Week",
        text=BODY,
        authors=("Maren Ostrowski",),
        published="2025-03-03T14:00:00-05:00",
        publisher="Global Research",
        images=("https://www.globalresearch.ca/wp-content/uploads/2025/03/cranes.jpg",),
    ),
    "gr_links": SourceArticle(
        url="https://www.globalresearch.ca/harbour-cranes-fall-silent/5880001",
        title="Harbour Cranes Fall Silent as Port Strike Enters Third Week",
        text=BODY,
        authors=("Maren Ostrowski",),
        publisher="Global Research",
        html=(
            "<article><p>The cranes ... entered the "
            '<a href="https://www.globalresearch.ca/port-strike-begins/5879001">third week of a '
            "strike</a> over shift rotations.</p><p>Union representatives said "
            '<a href="/port-talks/5879500">talks with the port authority</a> had stalled.</p>'
            '<nav><a href="/about">About us</a></nav></article>'
        ),
    ),
    "tc": SourceArticle(
        url="https://theconversation.com/why-river-otters-are-returning-to-the-city-231507",
        title="Why river otters are returning to the city",
        text=BODY,
        authors=("Priya Castellane",),
        published="2025-05-01T10:00:00Z",
        publisher="The Conversation",
    ),
}


def build_page(spec: dict[str, Any], source: SourceArticle) -> Page:
    url = spec.get("url", COPY_URL)
    if "html" in spec and spec["html"].endswith(".html"):
        return extract_html(url, (FIXTURES / "html" / spec["html"]).read_text(encoding="utf-8"))
    chrome = spec.get("chrome", "Riverside Commons\nAbout Contact")
    near = "\n".join(
        x for x in (spec.get("top", ""), source.title, BODY, spec.get("near", "")) if x
    )
    return Page(
        url=url,
        status=200,
        headers=tuple(tuple(h) for h in spec.get("headers", [])),  # type: ignore[misc]
        fetched_at=spec.get("fetched_at", ""),
        title=spec.get("title", source.title),
        text=BODY,
        full_text=f"{chrome}\n{near}",
        near_text=near,
        chrome_text=chrome,
        links=tuple(
            Link(
                href=link["href"],
                text=link.get("text", ""),
                rel=tuple(link.get("rel", ())),
                region=link.get("region", "article"),
                hidden=link.get("hidden", False),
            )
            for link in spec.get("links", [])
        ),
        resources=tuple(
            Resource(r["tag"], r["url"], hidden=r.get("hidden", False))
            for r in spec.get("resources", [])
        ),
        canonicals=tuple(spec.get("canonicals", ())),
        meta_robots=tuple(spec.get("meta_robots", ())),
        authors=tuple(spec.get("authors", ())),
        published=spec.get("published"),
        license_urls=tuple(spec.get("license_urls", ())),
        html=spec.get("html", ""),
    )


def build_match(spec: dict[str, Any], source: SourceArticle) -> Match:
    passages = tuple(Passage(a, b, a, b) for a, b in spec.get("passages", [[0, len(BODY)]]))
    return Match(source.url, spec.get("coverage", 0.97), spec.get("kind", "full"), passages)


def judge_case(case: dict[str, Any]) -> dict[str, tuple[bool, bool, str]]:
    """rule id -> (expected, judged, message)"""
    source = SOURCES[case.get("source", "gr")]
    page = build_page(case.get("page", {}), source)
    match = build_match(case.get("match", {}), source)
    if "check" in case:
        options = dict(case["check"])
        kind = options.pop("kind")
        ruleset = RuleSet(
            "gate",
            "Global Research",
            (Rule(kind, kind, options=options),),
            aliases=("globalresearch.ca", "Centre for Research on Globalization"),
        )
        expected = {kind: case["passed"]}
    else:
        pack = case["pack"]
        ruleset = load_ruleset(str(FIXTURES / pack) if pack.endswith(".toml") else pack)
        expected = dict(case["expect"])
    findings = {f.rule: f for f in run_checks(ruleset, page, source, match)}
    return {
        rule: (want, findings[rule].passed, findings[rule].message)
        for rule, want in expected.items()
    }


def load_cases() -> list[dict[str, Any]]:
    with open(FIXTURES / "gate.toml", "rb") as fh:
        cases: list[dict[str, Any]] = tomllib.load(fh)["case"]
    return cases


def kind_of(case: dict[str, Any], rule_id: str) -> str:
    if "check" in case:
        return str(case["check"]["kind"])
    pack = case["pack"]
    ruleset = load_ruleset(str(FIXTURES / pack) if pack.endswith(".toml") else pack)
    return next(r.kind for r in ruleset.rules if r.id == rule_id)


def test_rule_judgement_accuracy_is_pinned() -> None:
    cases = load_cases()
    total = right = 0
    wrong: list[str] = []
    for case in cases:
        for rule, (want, got, message) in judge_case(case).items():
            total += 1
            if want == got:
                right += 1
            else:
                wrong.append(f"{case['name']} / {rule}: expected {want}, judged {got} ({message})")
    assert total >= 85
    accuracy = right / total
    assert accuracy >= ACCURACY_FLOOR, "\n".join(wrong)
    assert wrong == []


def test_every_kind_has_passing_and_failing_labels() -> None:
    labels: Counter[tuple[str, bool]] = Counter()
    for case in load_cases():
        if "check" in case:
            labels[(case["check"]["kind"], case["passed"])] += 1
        else:
            for rule, want in case["expect"].items():
                labels[(kind_of(case, rule), want)] += 1
    missing = [
        f"{kind} {'pass' if want else 'fail'}"
        for kind in KINDS
        for want in (True, False)
        if labels[(kind, want)] == 0
    ]
    assert missing == []
