"""Rule files: loading packs, file:line errors, extends, user overrides, describe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xpostcheck.checks.registry import run_checks
from xpostcheck.errors import RuleError
from xpostcheck.models import Link, Match, Page, Passage, SourceArticle
from xpostcheck.rules.loader import (
    apply_overrides,
    describe_ruleset,
    list_packs,
    load_ruleset,
    packs_dir,
    validate,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rules"
PACKS = [
    "calmatters",
    "cc-by-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0",
    "cc-by-sa-4.0",
    "floodlight",
    "globalresearch",
    "globalvoices",
    "google-syndication",
    "kffhealthnews",
    "licensed-wire",
    "marshallproject",
    "medium-crosspost",
    "montanafreepress",
    "propublica",
    "reuters",
    "texastribune",
    "the19th",
    "theconversation",
]
# packs for a licence or a convention, not one publisher: they set no publisher
GENERIC = ("cc-", "google", "licensed-wire", "medium-crosspost")


def test_every_shipped_pack_loads_validates_and_cites_its_policy() -> None:
    assert packs_dir() == Path(__file__).resolve().parents[2] / "rules"
    packs = list_packs()
    assert [p.name for p in packs] == PACKS
    assert validate(packs_dir()) == []
    for pack in packs:
        assert pack.policy_url.startswith("https://"), pack.name
        assert pack.policy_read in ("2026-11-28", "2026-11-30"), pack.name
        assert pack.rules, pack.name
        assert (pack.publisher != "") == (not pack.name.startswith(GENERIC)), pack.name
        text = (packs_dir() / f"{pack.name}.toml").read_text(encoding="utf-8")
        assert text.startswith("# "), f"{pack.name}: say what policy the pack encodes"


def test_globalresearch_pack_encodes_the_seed_footer() -> None:
    rs = load_ruleset("globalresearch")
    assert [(r.id, r.kind, r.severity) for r in rs.rules] == [
        ("gr-attribution", "attribution", "error"),
        ("gr-copyright", "copyright_notice", "error"),
        ("gr-link", "link_to_original", "error"),
        ("gr-non-commercial", "non_commercial", "warning"),
    ]
    assert rs.publisher == "Global Research"
    assert rs.rules[0].line == 21
    assert rs.rules[0].source_file == str(packs_dir() / "globalresearch.toml")


def test_extends_chain_and_partial_overrides() -> None:
    pp = load_ruleset("propublica")
    assert pp.extends == ("cc-by-nc-nd-4.0", "cc-by-nd-4.0", "cc-by-4.0")
    by_id = {r.id: r for r in pp.rules}
    # inherited from cc-by-4.0, licence code from cc-by-nc-nd-4.0, version from propublica
    assert by_id["cc-license"].options == {
        "license": "by-nc-nd",
        "version": "any",
        "require_link": True,
    }
    assert by_id["cc-license"].severity == "warning"
    assert "cc-non-commercial" not in by_id  # ads are allowed: the rule is disabled
    mtfp = load_ruleset("montanafreepress")
    assert "cc-title" not in {r.id for r in mtfp.rules}


def test_a_local_pack_extends_a_shipped_pack_and_a_sibling_file() -> None:
    rs = load_ruleset(str(FIXTURES / "valid" / "lakeside-nd.toml"))
    assert rs.publisher == "The Lakeside Ledger"
    assert rs.aliases == ("lakesideledger.example",)
    assert rs.extends == ("cc-by-nd-4.0", "cc-by-4.0", "lakeside")
    assert [(r.id, r.severity) for r in rs.rules] == [
        ("cc-author", "error"),
        ("cc-source", "error"),
        ("cc-license", "warning"),
        ("cc-no-derivatives", "error"),
        ("ll-credit", "error"),
        ("ll-copyright", "error"),
        ("ll-link", "warning"),
    ]
    assert dict(rs.rules[-1].options) == {"allow_home_page": True}


def test_unknown_pack_lists_the_available_ones() -> None:
    with pytest.raises(RuleError) as err:
        load_ruleset("globalresarch")
    assert str(err.value) == (
        "unknown rules pack 'globalresarch' (did you mean 'globalresearch'?); available packs: "
        + ", ".join(PACKS)
        + " (or give the path of a .toml file)"
    )
    assert load_ruleset("globalresearch.toml").name == "globalresearch"
    with pytest.raises(RuleError) as err:
        load_ruleset("no/such/file.toml")
    assert str(err.value) == "no/such/file.toml: rule file not found"


def test_validate_reports_every_error_with_file_and_line() -> None:
    folder = FIXTURES / "invalid"
    errors = [str(e).replace(str(folder) + "/", "") for e in validate(folder)]
    assert errors == [
        "empty.toml: the rule file holds no rules; add [[rule]] tables",
        "loop-a.toml:1: 'extends' makes a loop: loop-a.toml -> loop-b.toml -> loop-a.toml",
        "loop-b.toml:1: 'extends' makes a loop: loop-b.toml -> loop-a.toml -> loop-b.toml",
        "schema.toml:3: unknown key 'colour'; a rule file has: name, publisher, aliases, "
        "policy_url, policy_read, description, extends, rule, example_source, example",
        "schema.toml:4: 'policy_read' must be a date, YYYY-MM-DD",
        "schema.toml:12: rule 'bad-kind': unknown or missing kind 'atribution' (did you mean "
        "'attribution'?); kinds: "
        "attribution, byline, copyright_notice, link_to_original, keep_links, canonical, noindex, "
        "license_notice, tracking_pixel, integrity, non_commercial, embargo, retention, media, "
        "eligibility",
        "schema.toml:17: rule 'bad-option': unknown option 'allow_homepage' for kind "
        "'link_to_original' (did you mean 'allow_home_page'?); options: allow_home_page, "
        "allow_nofollow, anchor_text, region, "
        "position, resolve_shortlinks, max_resolve",
        "schema.toml:22: rule 'bad-type': severity must be one of error, warning, info",
        "schema.toml:23: rule 'bad-type': 'min_coverage' must be a float, not 'high'",
        "schema.toml:26: duplicate rule id 'ok'",
        "schema.toml:29: each [[rule]] needs an 'id' (letters, digits, - _ .)",
        "schema.toml:35: rule 'bad-regex': 'patterns' has an invalid regular expression "
        "'(unclosed': missing ), unterminated subpattern at position 0",
        "schema.toml:40: rule 'bad-placeholder': 'phrases' uses unknown placeholder {writer}; "
        "known: {publisher}, {author}, {title}, {url}",
        "schema.toml:45: rule 'bad-offset': 'utc_offset' must look like +02:00 or -07:00",
        "schema.toml:47: rule 'no-patterns': a tracking_pixel rule needs 'patterns'",
        "syntax.toml:6: not valid TOML: Illegal character '\\n' (at line 6, column 21)",
        "table.toml:3: write rules as [[rule]] tables (an array), not [rule]",
    ]
    assert [e.line for e in validate(folder / "syntax.toml")] == [6]
    assert validate(FIXTURES / "valid") == []
    assert [str(e) for e in validate(FIXTURES / "nowhere")] == [
        f"{FIXTURES / 'nowhere'}: no such file or folder"
    ]


def test_load_raises_the_first_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as err:
        load_ruleset(str(FIXTURES / "invalid" / "schema.toml"))
    assert err.value.line == 3
    assert err.value.path == str(FIXTURES / "invalid" / "schema.toml")
    bad_parent = tmp_path / "child.toml"
    bad_parent.write_text('extends = "nopack"\n[[rule]]\nid = "a"\nkind = "noindex"\n')
    with pytest.raises(RuleError) as err:
        load_ruleset(str(bad_parent))
    assert str(err.value).startswith(f"{bad_parent}:1: 'extends': unknown rules pack 'nopack'")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(RuleError) as err:
        load_ruleset(str(binary))
    assert str(err.value).startswith(f"{binary}: cannot read rule file: ")


def test_apply_overrides() -> None:
    rs = load_ruleset("globalresearch")
    out = apply_overrides(
        rs,
        {
            "gr-copyright": {"severity": "warning", "year": "original"},
            "gr-non-commercial": {"enabled": False},
        },
    )
    assert [(r.id, r.severity) for r in out.rules] == [
        ("gr-attribution", "error"),
        ("gr-copyright", "warning"),
        ("gr-link", "error"),
    ]
    assert out.rules[1].options == {"names": "author_or_publisher", "year": "original"}
    assert rs.rules[1].severity == "error"  # the pack itself is untouched
    with pytest.raises(RuleError) as err:
        apply_overrides(rs, {"gr-credit": {"severity": "info"}})
    assert str(err.value) == (
        "override for 'gr-credit': no such rule in globalresearch; its rules: gr-attribution, "
        "gr-copyright, gr-link, gr-non-commercial"
    )
    with pytest.raises(RuleError) as err:
        apply_overrides(rs, {"gr-link": {"severity": "fatal"}})
    assert str(err.value) == (
        "override for 'gr-link': severity must be one of error, warning, info, not 'fatal'"
    )
    with pytest.raises(RuleError) as err:
        apply_overrides(rs, {"gr-link": {"colour": "red"}}, where={"gr-link": "xpostcheck.toml:7"})
    assert str(err.value) == (
        "xpostcheck.toml:7: override for 'gr-link': option 'colour': unknown option 'colour' "
        f"for kind 'link_to_original' (pack {rs.path})"
    )


def test_describe_ruleset() -> None:
    rs = load_ruleset(str(FIXTURES / "valid" / "lakeside.toml"))
    assert describe_ruleset(rs) == "\n".join(
        [
            "lakeside: The Lakeside Ledger",
            "  also named: lakesideledger.example",
            "  policy: https://lakesideledger.example/republish (read 2026-11-01)",
            f"  file: {FIXTURES / 'valid' / 'lakeside.toml'}",
            "",
            "  Credit, copyright and a link.",
            "",
            "  3 rules:",
            "  - ll-credit [attribution] error",
            "      a credit line naming the original, matched fuzzily against template phrases",
            '      phrases = ["The original source of this article is {publisher}", '
            '"Source: {publisher}"]',
            "  - ll-copyright [copyright_notice] error",
            "      a line with ©, 'Copyright' or '(c)', the author and/or publisher, and a year",
            '      year = "original"',
            "  - ll-link [link_to_original] warning",
            "      an <a href> to the original article after URL canonicalisation",
        ]
    )


def test_a_generic_publisher_pack_fills_its_placeholders() -> None:
    rs = load_ruleset(str(FIXTURES / "valid" / "lakeside.toml"))
    original = "https://lakesideledger.example/2026/10/ferry-timetable"
    body = "The winter ferry timetable adds a late sailing on Fridays."
    source = SourceArticle(
        url=original,
        title="Ferry timetable",
        text=body,
        authors=("Ines Vale",),
        published="2026-10-02",
    )
    near = f"{body}\nSource: The Lakeside Ledger\n© 2026 Ines Vale"
    page = Page(
        url="https://shore-blog.example/ferry",
        status=200,
        headers=(),
        fetched_at="",
        title="Ferry timetable",
        text=body,
        full_text=near,
        near_text=near,
        chrome_text="",
        links=(
            Link(
                "http://www.lakesideledger.example/2026/10/ferry-timetable/",
                "here",
                region="article",
            ),
        ),
    )
    match = Match(original, 1.0, "full", (Passage(0, len(body), 0, len(body)),))
    out = run_checks(rs, page, source, match)
    assert [(f.rule, f.passed, f.evidence) for f in out] == [
        ("ll-credit", True, "Source: The Lakeside Ledger"),
        ("ll-copyright", True, "© 2026 Ines Vale"),
        (
            "ll-link",
            True,
            '<a href="http://www.lakesideledger.example/2026/10/ferry-timetable/">here</a>',
        ),
    ]


def test_installed_layout_is_found(tmp_path: Path) -> None:
    """Installed, the packs live in the package folder xpostcheck/packs."""
    import xpostcheck.rules.loader as rules_module

    pkg = tmp_path / "xpostcheck"
    (pkg / "packs").mkdir(parents=True)
    shutil.copy(packs_dir() / "globalresearch.toml", pkg / "packs")
    (pkg / "rules").mkdir()
    fake = pkg / "rules" / "loader.py"
    fake.write_text("")
    original = rules_module.__file__
    try:
        rules_module.__file__ = str(fake)
        assert rules_module.packs_dir() == pkg / "packs"
        assert [p.name for p in rules_module.list_packs()] == ["globalresearch"]
    finally:
        rules_module.__file__ = original


def test_cli_rules_commands() -> None:
    from xpostcheck.cli.main import main

    runner = CliRunner()
    listed = runner.invoke(main, ["rules", "list"])
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.output.splitlines()] == PACKS
    shown = runner.invoke(main, ["rules", "show", "globalresearch"])
    assert shown.exit_code == 0
    assert shown.output == describe_ruleset(load_ruleset("globalresearch")) + "\n"
    ok = runner.invoke(main, ["rules", "validate", str(FIXTURES / "valid")])
    assert (ok.exit_code, ok.output) == (0, f"{FIXTURES / 'valid'}: valid\n")
    bad = runner.invoke(main, ["rules", "validate", str(FIXTURES / "invalid" / "table.toml")])
    assert bad.exit_code == 2
    unknown = runner.invoke(main, ["rules", "show", "nopack"])
    assert unknown.exit_code == 2
    assert "unknown rules pack 'nopack'" in unknown.output


def test_every_kind_and_option_is_documented() -> None:
    import re

    from xpostcheck.checks.registry import KINDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^##)", doc, flags=re.M | re.S))
    assert list(sections) == list(KINDS)

    def shown(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            if len(value) > 4:
                return f"{len(value)} built-in entries"
            return "[" + ", ".join(f'"{v}"' for v in value) + "]"
        return f'"{value}"' if isinstance(value, str) else str(value)

    for kind, spec in KINDS.items():
        for name, option in spec.options.items():
            row = re.search(rf"^\| `{name}` \|.*$", sections[kind], flags=re.M)
            assert row, f"{kind}.{name} is not documented"
            assert f"| `{shown(option.default)}` |" in row.group(0), f"{kind}.{name} default"
    for pack in PACKS:
        assert f"| `{pack}` |" in doc, f"pack {pack} is not in the table of shipped packs"


def test_severity_defaults_per_kind(tmp_path: Path) -> None:
    pack = tmp_path / "p.toml"
    pack.write_text(
        '[[rule]]\nid = "ads"\nkind = "non_commercial"\n'
        '[[rule]]\nid = "credit"\nkind = "attribution"\n'
        '[[rule]]\nid = "ads-strict"\nkind = "non_commercial"\nseverity = "error"\n',
        encoding="utf-8",
    )
    rs = load_ruleset(str(pack))
    assert [(r.id, r.severity) for r in rs.rules] == [
        ("ads", "warning"),
        ("credit", "error"),
        ("ads-strict", "error"),
    ]
