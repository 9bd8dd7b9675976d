"""Examples inside rule packs: `xpostcheck rules test` runs them on every shipped pack, prints
a diff naming an example that disagrees (exit 1), and refuses a malformed example (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.errors import RuleError
from xpostcheck.rules.examples import run_examples, run_pack
from xpostcheck.rules.loader import pack_names, packs_dir


@pytest.mark.parametrize("pack", pack_names())
def test_every_example_of_every_shipped_pack_agrees(pack: str) -> None:
    result = run_pack(packs_dir() / f"{pack}.toml")
    assert result.results, f"{pack} has no examples"
    wrong = [(r.example.name, r.diff()) for r in result.results if not r.ok]
    assert wrong == []
    kinds = {r.example.expect for r in result.results}
    assert kinds == {"compliant", "violation"}, f"{pack}: compliant and violating examples"


@pytest.mark.parametrize("pack", pack_names())
def test_every_pack_shows_several_compliant_ways_to_republish(pack: str) -> None:
    """The publisher's own credit and at least two variants a careful republisher writes (at
    the bottom or the top, in <p><em>, a linked name, several authors, another language): a
    pack that accuses one of them accuses a compliant republisher."""
    result = run_pack(packs_dir() / f"{pack}.toml")
    compliant = [r.example.name for r in result.results if r.example.expect == "compliant"]
    assert len(compliant) >= 3, f"{pack}: only {compliant}"


def test_every_error_rule_of_every_pack_has_a_violating_example() -> None:
    missing = []
    for pack in pack_names():
        result = run_pack(packs_dir() / f"{pack}.toml")
        named = {rule for r in result.results for rule in r.example.fails}
        from xpostcheck.rules.loader import load_ruleset

        for rule in load_ruleset(pack).rules:
            if rule.severity == "error" and rule.id not in named and rule.kind != "eligibility":
                missing.append(f"{pack}:{rule.id}")
    assert missing == []


PACK = '''name = "mine"
publisher = "Valley Water News"

[[rule]]
id = "credit"
kind = "attribution"
phrases = ["This story was originally published by {publisher}"]

[example_source]
url = "https://valleywater.example/2025/06/water-board/"

[[example]]
name = "credit at the bottom"
expect = "compliant"
html = """<html><body><article><h1>{title}</h1>{article}
<p>This story was originally published by Valley Water News.</p></article></body></html>"""

[[example]]
name = "no credit, but expected to pass"
expect = "compliant"
html = """<html><body><article><h1>{title}</h1>{article}</article></body></html>"""
'''


def test_a_wrong_expectation_exits_1_naming_the_example_with_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(PACK, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: 1/2 examples agree",
        f"  FAIL  {path}:18 example 'no credit, but expected to pass'",
        "        expected: compliant",
        "        got:      violation, failing credit (coverage 100%)",
        "        + credit [attribution] failed: no credit line naming the original",
        '            evidence: looked for "This story was originally published by Valley '
        'Water News"',
        "1 of 2 examples agree",
    ]


def test_a_folder_of_packs_that_agree_exits_0(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        PACK.replace(
            'expect = "compliant"\nhtml = """<html><body><article><h1>{title}</h1>'
            "{article}</article>",
            'expect = "violation"\nfails = ["credit"]\n'
            'html = """<html><body><article><h1>{title}</h1>{article}</article>',
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "test", str(tmp_path)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, "all 2 examples agree")


def test_the_shipped_packs_folder_passes_from_the_command_line() -> None:
    result = CliRunner().invoke(main, ["rules", "test", str(packs_dir())])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("all ")


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (
            'name = "x"\nexpect = "violation"\nfails = ["nope"]\nhtml = "<p>x</p>"',
            "example 'x': 'fails' names 'nope', which is not a rule of the pack; its rules: credit",
        ),
        (
            'name = "x"\nexpect = "fine"\nhtml = "<p>x</p>"',
            "example 'x': 'expect' must be compliant or violation",
        ),
        (
            'name = "x"\nexpect = "violation"\nhtml = "<p>x</p>"',
            "example 'x': a violation names the rules that fail ('fails')",
        ),
        (
            'name = "x"\nexpect = "compliant"\npage = "<p>x</p>"',
            "unknown key 'page' in an "
            "example; it has: name, expect, fails, html, url, edits, original, strip_links",
        ),
    ],
)
def test_a_malformed_example_names_file_and_line(
    tmp_path: Path, example: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    head = PACK.split("[[example]]")[0]
    path.write_text(head + "[[example]]\n" + example + "\n", encoding="utf-8")
    with pytest.raises(RuleError) as err:
        run_examples(str(path))
    assert str(err.value) == f"{path}:12: {message}"
    result = CliRunner().invoke(main, ["rules", "test", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_a_pack_without_examples_fails_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "bare.toml"
    path.write_text(PACK.split("[example_source]")[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: FAIL no [[example]] tables; add compliant and violating ones",
        "all 0 examples agree; 1 file(s) without examples",
    ]
