"""`xpostcheck triage` on a real scan database: one finding by default, a whole page only when
asked (and then listed), never a passing check; `triage list` and `triage remove`; clear lines
for a rule without a finding and a page without a failed check."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web


@pytest.fixture(scope="module")
def web() -> Iterator[DemoWeb]:
    with demo_web() as running:
        yield running


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scan(web: DemoWeb, db: Path) -> dict[str, Any]:
    result = _run(
        "scan",
        *web.sites,
        "--sources",
        str(ARTICLES),
        "--rules",
        str(RULES),
        "--db",
        str(db),
        "--delay",
        "0",
        "--workers",
        "1",
        "-f",
        "json",
        "--quiet",
    )
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def scanned(web: DemoWeb, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scanned")
    _scan(web, folder / "scans.db")
    return folder


@pytest.fixture()
def db(scanned: Path, tmp_path: Path) -> Path:
    """A copy of the scanned database (and its evidence) for one test to change."""
    shutil.copytree(scanned, tmp_path / "db")
    return tmp_path / "db" / "scans.db"


def _url(web: DemoWeb, path: str) -> str:
    return next(s for s in web.sites if s.startswith("http://127.0.0.3")).rstrip("/") + path


def _checks(report: dict[str, Any], url: str) -> dict[str, tuple[bool, bool | None, str | None]]:
    copy = next(c for c in report["copies"] if c["url"] == url)
    return {k["rule"]: (k["passed"], k.get("new"), k.get("triage")) for k in copy["checks"]}


def test_a_mark_names_one_finding_by_default(web: DemoWeb, db: Path) -> None:
    ospreys = _url(web, "/stories/ospreys.html")
    bare = _run("triage", ospreys, "--as", "false-positive", "--db", str(db))
    assert bare.exit_code == 2
    assert bare.output == (
        f"xpostcheck: error: {ospreys}: name the finding to mark with --rule (failing here: "
        "ll-attribution, ll-copyright, ll-link, ll-non-commercial), or mark every failed check "
        "with --whole-page\n"
    )
    assert _run("triage", "list", "--db", str(db)).stdout == "no triage marks\n"

    marked = _run("triage", ospreys, "--as", "licensed", "--rule", "ll-link", "--db", str(db))
    assert marked.exit_code == 0, marked.output
    assert marked.stdout == f"marked ll-link on {ospreys} as licensed\n"
    report = _scan(web, db)
    assert _checks(report, ospreys) == {
        "ll-attribution": (False, False, None),
        "ll-copyright": (False, False, None),
        "ll-link": (False, False, "licensed"),
        "ll-non-commercial": (False, False, None),
    }
    copy = next(c for c in report["copies"] if c["url"] == ospreys)
    assert copy["verdict"] == "violation"  # the other failed checks still count


def test_a_rule_without_a_failed_check_is_named(web: DemoWeb, db: Path) -> None:
    budget = _url(web, "/stories/school-budget.html")
    nope = _run("triage", budget, "--as", "ignored", "--rule", "nope", "--db", str(db))
    assert nope.exit_code == 2
    assert nope.output == (
        f"xpostcheck: error: {budget}: rule 'nope' has no finding on this page; "
        "the rules failing here: ll-copyright\n"
    )
    passing = _run("triage", budget, "--as", "ignored", "--rule", "ll-link", "--db", str(db))
    assert passing.exit_code == 2
    assert passing.output == (
        f"xpostcheck: error: {budget}: rule 'll-link' passes on this page; "
        "the rules failing here: ll-copyright\n"
    )
    compliant = next(s for s in web.sites if s.startswith("http://127.0.0.4")).rstrip("/")
    clean = compliant + "/blog/ferry-cuts.html"
    nothing = _run("triage", clean, "--as", "ignored", "--whole-page", "--db", str(db))
    assert nothing.exit_code == 2
    assert nothing.output == (
        f"xpostcheck: error: {clean}: no failed check on this page to mark "
        "(marks never cover checks that pass)\n"
    )
    both = _run("triage", budget, "--as", "ignored", "--rule", "x", "--whole-page", "--db", str(db))
    assert both.exit_code == 2
    assert "give --rule or --whole-page, not both" in both.output
    assert _run("triage", "list", "--db", str(db)).stdout == "no triage marks\n"


def test_whole_page_lists_what_it_covers_list_and_remove(web: DemoWeb, db: Path) -> None:
    budget = _url(web, "/stories/school-budget.html")
    source = "https://lakesideledger.example/2026/11/school-budget-vote"
    whole = _run(
        "triage", budget, "--as", "licensed", "--whole-page", "--note", "deal", "--db", str(db)
    )
    assert whole.exit_code == 0, whole.output
    assert whole.stdout == (
        f"marked 1 failed check(s) on {budget} as licensed:\n"
        f"  ll-copyright  (copy of {source})\n"
        "Checks that pass are not marked, nor rules that fail here later.\n"
    )
    listed = _run("triage", "list", budget, "--db", str(db))
    assert listed.exit_code == 0
    (line,) = listed.stdout.splitlines()
    assert line.startswith(f"{budget}  ll-copyright  licensed  20")
    assert line.endswith("  deal")
    report = _scan(web, db)
    assert _checks(report, budget) == {
        "ll-attribution": (True, None, None),  # passing checks carry no mark
        "ll-copyright": (False, False, "licensed"),
        "ll-link": (True, None, None),
        "ll-non-commercial": (True, None, None),
    }

    missing = _run("triage", "remove", budget, "--rule", "ll-link", "--db", str(db))
    assert missing.exit_code == 2
    assert missing.output == (
        f"xpostcheck: error: {budget}: no triage mark of rule 'll-link' on this URL; "
        "marked here: ll-copyright\n"
    )
    vague = _run("triage", "remove", budget, "--db", str(db))
    assert vague.exit_code == 2 and "give --rule RULE or --all" in vague.output
    removed = _run("triage", "remove", budget, "--all", "--db", str(db))
    assert removed.exit_code == 0
    assert removed.stdout == f"removed 1 triage mark(s) on {budget}\n"
    assert _run("triage", "list", "--db", str(db)).stdout == "no triage marks\n"
    again = _scan(web, db)
    assert _checks(again, budget)["ll-copyright"] == (False, False, None)


def test_triage_help_lists_its_commands() -> None:
    result = _run("triage", "--help")
    assert result.exit_code == 0
    for line in ("triage URL --as licensed --whole-page", "triage list [URL]", "triage remove"):
        assert line in result.stdout


def test_the_reports_next_steps_work_as_printed(
    web: DemoWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands the HTML report prints, run as printed from another folder: the database
    and the rule file the scan used travel with them."""
    import html as htmllib
    import re
    import shlex

    scans = tmp_path / "scans"
    scans.mkdir()
    monkeypatch.chdir(scans)
    rules = shutil.copy(RULES, scans / "my rules.toml")  # a file, not a shipped pack
    result = _run(
        "scan",
        *web.sites,
        *("--sources", str(ARTICLES), "--rules", "my rules.toml", "--db", "scans.db"),
        *("--delay", "0", "--workers", "1", "-f", "html", "-o", "report.html", "--quiet"),
    )
    assert result.exit_code == 1, result.output
    page = (scans / "report.html").read_text(encoding="utf-8")
    steps = re.findall(r'<p class="next">(.*?)</p>', page)
    assert len(steps) == 3  # one per violation
    commands = [htmllib.unescape(c) for c in re.findall(r"<code>(.*?)</code>", steps[0])]
    db = str(scans / "scans.db")
    assert [shlex.split(c)[:2] for c in commands] == [
        ["xpostcheck", "notice"],
        ["xpostcheck", "evidence"],
        ["xpostcheck", "triage"],
    ]
    assert all(shlex.split(c)[shlex.split(c).index("--db") + 1] == db for c in commands)
    assert f"--rules '{rules}'" in commands[0]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    outcomes = [_run(*shlex.split(c)[1:]) for c in commands]
    assert [o.exit_code for o in outcomes] == [0, 0, 0], [o.output for o in outcomes]
    assert "The Lakeside Ledger" in outcomes[0].stdout
    assert [p.suffix for p in elsewhere.iterdir()] == [".gz"]
    assert outcomes[2].stdout.startswith("marked ")


def test_a_triaged_finding_whose_evidence_changes_is_new_again(tmp_path: Path) -> None:
    """A copy marked licensed for its ads: the same ads keep the mark; other ad networks make
    the finding new (exit 1 with --fail-on new) once, and the mark is listed as lapsed."""
    from loopback import Server, html

    from xpostcheck.demo.web import build_sites, render

    page = next(p for s in build_sites() if (p := render(s, "/stories/ospreys.html")))
    ads = page[page.index("<script async") : page.index("</ins>") + len("</ins>")]
    db = tmp_path / "scans.db"
    rules = tmp_path / "rules.toml"  # ads are an error here, so that they count
    text = RULES.read_text(encoding="utf-8")
    head, tail = text.split('id = "ll-non-commercial"')
    rules.write_text(
        head + 'id = "ll-non-commercial"' + tail.replace('"warning"', '"error"', 1), "utf-8"
    )
    with Server({"/stories/ospreys.html": html(page)}) as server:
        url = server.base + "/stories/ospreys.html"

        def scan() -> tuple[int, dict[str, Any]]:
            result = _run(
                "scan",
                *("--url", url, "--sources", str(ARTICLES), "--rules", str(rules)),
                *("--db", str(db), "--delay", "0", "--workers", "1", "-f", "json"),
                *("--fail-on", "new", "--quiet"),
            )
            return result.exit_code, json.loads(result.stdout)

        assert scan()[0] == 1
        for rule in ("ll-attribution", "ll-copyright", "ll-link", "ll-non-commercial"):
            ok = _run("triage", url, "--as", "licensed", "--rule", rule, "--db", str(db))
            assert ok.exit_code == 0, ok.output
        code, same = scan()  # same ads: still licensed, nothing new
        assert code == 0
        assert _checks(same, url)["ll-non-commercial"] == (False, False, "licensed")

        other = '<script async src="https://securepubads.doubleclick.net/tag/js/gpt.js"></script>'
        server.routes["/stories/ospreys.html"] = html(page.replace(ads, other))
        code, changed = scan()
        assert code == 1
        assert _checks(changed, url)["ll-non-commercial"] == (False, True, None)
        assert [k.get("triage") for k in changed["copies"][0]["checks"]] == [
            "licensed",
            "licensed",
            "licensed",
            None,
        ]
        listed = _run("triage", "list", "--db", str(db)).stdout.splitlines()
        assert [line.split("  ")[1:3] for line in listed] == [
            ["ll-attribution", "licensed"],
            ["ll-copyright", "licensed"],
            ["ll-link", "licensed"],
            ["ll-non-commercial", listed[3].split("  ")[2]],
        ]
        assert listed[3].split("  ")[2].startswith("licensed (lapsed 20")
        assert listed[3].split("  ")[2].endswith(": evidence changed)")
        code, later = scan()  # new once: ongoing from now on, and still not triaged
        assert code == 0
        assert _checks(later, url)["ll-non-commercial"] == (False, False, None)
