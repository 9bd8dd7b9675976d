"""Composition: any_of / all_of groups judged as one finding with each member's evidence,
`when` conditions, and the loader's errors for them."""

from __future__ import annotations

from pathlib import Path

from xpostcheck.checks.registry import run_checks
from xpostcheck.models import Link, Match, Page, Passage, RuleSet, SourceArticle
from xpostcheck.rules.loader import describe_ruleset, load_ruleset, validate

ORIGINAL = "https://calmatters.example/2025/06/water-board-vote/"
BODY = (
    "The state water board voted five to two on Tuesday to cut allocations by 15 percent.\n"
    "Growers in the valley said the cut would leave 40,000 acres unplanted next season."
)
SOURCE = SourceArticle(
    url=ORIGINAL, title="Water board cuts allocations", text=BODY, authors=("Ben Alvarez",)
)
FULL = Match(ORIGINAL, 1.0, "full", (Passage(0, len(BODY), 0, len(BODY)),))

PACK = """
name = "composed"
publisher = "CalMatters"

[[rule]]
id = "credit-or-link-or-canonical"
description = "Credit line at the top, or a link, or a canonical tag."
any_of = [
  { kind = "attribution", phrases = ["This story was originally published by {publisher}"] },
  { kind = "link_to_original", resolve_shortlinks = false },
  { id = "canon", kind = "canonical", when = "canonical" },
]

[[rule]]
id = "canonical-points-home"
kind = "canonical"
when = "canonical"

[[rule]]
id = "both"
severity = "warning"
all_of = [
  { kind = "byline" },
  { kind = "attribution", phrases = ["{publisher}"] },
]
"""


def page(
    extra: str = "", *, links: tuple[Link, ...] = (), canonicals: tuple[str, ...] = ()
) -> Page:
    text = BODY + ("\n" + extra if extra else "")
    return Page(
        url="https://valley.example/water",
        status=200,
        headers=(),
        fetched_at="2025-06-05T10:00:00+00:00",
        title=SOURCE.title,
        text=BODY,
        full_text=text,
        near_text=text,
        chrome_text="",
        links=links,
        canonicals=canonicals,
    )


def load(tmp_path: Path, text: str = PACK) -> RuleSet:
    path = tmp_path / "composed.toml"
    path.write_text(text, encoding="utf-8")
    return load_ruleset(str(path))


def judge(tmp_path: Path, p: Page) -> dict[str, tuple[bool, str, str | None]]:
    rs = load(tmp_path)
    return {f.rule: (f.passed, f.message, f.evidence) for f in run_checks(rs, p, SOURCE, FULL)}


def test_any_of_passes_on_one_alternative_and_keeps_each_members_evidence(
    tmp_path: Path,
) -> None:
    linked = page(links=(Link(ORIGINAL, "the original", region="article"),))
    got = judge(tmp_path, linked)["credit-or-link-or-canonical"]
    assert got[:2] == (True, "met by credit-or-link-or-canonical.2 (one of 3 alternatives)")
    assert got[2] is not None
    members = got[2].split(" | ")
    assert members[0].startswith("[credit-or-link-or-canonical.1 attribution: FAILED] no credit")
    assert members[1].startswith("[credit-or-link-or-canonical.2 link_to_original: ok]")
    assert members[2] == (
        "[canon canonical: n/a] does not apply: the condition 'canonical' does not hold"
    )


def test_any_of_fails_when_no_alternative_is_met_and_n_a_members_do_not_count(
    tmp_path: Path,
) -> None:
    got = judge(tmp_path, page())
    assert got["credit-or-link-or-canonical"][:2] == (False, "none of the 3 alternatives is met")
    # `when` on a plain rule: no canonical tag, so the rule does not apply and passes
    assert got["canonical-points-home"] == (
        True,
        "does not apply: the condition 'canonical' does not hold",
        None,
    )


def test_when_canonical_applies_the_rule_and_the_canonical_alternative_counts(
    tmp_path: Path,
) -> None:
    got = judge(tmp_path, page(canonicals=(ORIGINAL,)))
    assert got["credit-or-link-or-canonical"][:2] == (True, "met by canon (one of 3 alternatives)")
    assert got["canonical-points-home"][0] is True
    wrong = judge(tmp_path, page(canonicals=("https://valley.example/water",)))
    assert wrong["canonical-points-home"][0] is False
    assert wrong["credit-or-link-or-canonical"][0] is False


def test_all_of_names_the_unmet_members(tmp_path: Path) -> None:
    got = judge(tmp_path, page("By Ben Alvarez"))
    assert got["both"][:2] == (False, "1 of 2 conditions unmet: both.2")
    ok = judge(tmp_path, page("By Ben Alvarez, CalMatters"))
    assert ok["both"][:2] == (True, "all 2 conditions met")


def test_group_rules_describe_and_override_through_extends(tmp_path: Path) -> None:
    load(tmp_path)
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "composed.toml"\n\n[[rule]]\nid = "both"\nseverity = "error"\n',
        encoding="utf-8",
    )
    rs = load_ruleset(str(child))
    both = next(r for r in rs.rules if r.id == "both")
    assert (both.kind, both.severity, len(both.options["members"])) == ("all_of", "error", 2)
    text = describe_ruleset(rs)
    assert "  - credit-or-link-or-canonical [any_of] error" in text
    assert "      * canon [canonical] error" in text
    assert '          when = "canonical"' in text


def test_group_and_when_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "\n".join(
            [
                'name = "bad"',
                "[[rule]]",
                'id = "g1"',
                'kind = "byline"',
                'any_of = [{ kind = "canonical" }]',
                "[[rule]]",
                'id = "g2"',
                "all_of = []",
                "[[rule]]",
                'id = "w"',
                'kind = "canonical"',
                'when = "sometimes"',
                "[[rule]]",
                'id = "g3"',
                'any_of = [{ kind = "canonical", severity = "info" }, { kind = "bylin" }]',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    errors = [str(e).replace(str(tmp_path) + "/", "") for e in validate(bad)]
    assert errors == [
        "bad.toml:5: rule 'g1': a rule is either one check ('kind') or one group "
        "('any_of' or 'all_of'), not both",
        "bad.toml:8: rule 'g2': 'all_of' must be a non-empty list of rule tables",
        "bad.toml:12: rule 'w': 'when' must be one of canonical, edited, full, partial, "
        "excerpt, optionally after 'not', not 'sometimes'",
        "bad.toml:13: rule 'g3': member 1 of 'any_of' may not set 'severity' "
        "(the group's own severity applies)",
        errors[4],
    ]
    assert errors[4].startswith("bad.toml:13: rule 'g3.2': unknown or missing kind 'bylin'")
