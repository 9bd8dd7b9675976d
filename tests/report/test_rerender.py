"""Trends and re-rendering over a real scan database: `history --site HOST` and
`report --scan ID` in every format, after real scans of the demo web on loopback."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Two scans of the demo web into one database; the first scan's JSON report."""
    db = tmp_path_factory.mktemp("rerender") / "scans.db"
    with demo_web() as web:
        first = _scan(web, db)
        assert first.exit_code == 1, first.output
        second = _scan(web, db)
        assert second.exit_code == 1, second.output
    yield db, json.loads(first.stdout)


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scan(web: DemoWeb, db: Path) -> Any:
    return _run(
        "scan", *web.sites, "--sources", str(ARTICLES), "--rules", str(RULES),
        "--db", str(db), "--delay", "0", "--workers", "1", "-f", "json", "--quiet",
    )  # fmt: skip


def test_report_renders_a_past_scan_as_it_was(scanned: tuple[Path, dict[str, Any]]) -> None:
    db, first = scanned
    again = _run("report", "--scan", "1", "--format", "json", "--db", str(db))
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert data["copies"] == first["copies"]  # new as it was then, not as it is now
    assert data["scan"]["scan_id"] == 1
    as_csv = _run("report", "--scan", "1", "-f", "csv", "--db", str(db))
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {r["url"] for r in rows} == {c["url"] for c in first["copies"]}
    table = _run("report", "--scan", "2", "-f", "table", "--db", str(db))
    assert table.exit_code == 0 and "violation" in table.stdout


def test_report_html_has_texts_and_goes_to_a_file(
    scanned: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    db, first = scanned
    out = tmp_path / "scan-2.html"
    done = _run("report", "--scan", "2", "--db", str(db), "-o", str(out))
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "Scan #2 started" in html
    assert html.count('<section class="copy"') == len(first["copies"])
    # The source texts come from the index beside the database, the page texts from the store.
    assert "The source text is not in this report" not in html
    assert "<mark" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scan", "99"), "no finished scan #99; 'xpostcheck history' lists the scans"),
        (("--scan", "1", "--db", "nowhere.db"), "no scan database here"),
    ],
)
def test_report_of_an_unknown_scan_is_one_line(
    scanned: tuple[Path, dict[str, Any]], args: tuple[str, ...], message: str
) -> None:
    db, _ = scanned
    done = _run("report", "--db", str(db), *args)
    assert done.exit_code == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.output


def test_history_site_lists_one_site_over_time(scanned: tuple[Path, dict[str, Any]]) -> None:
    db, first = scanned
    site = first["copies"][0]["site"]
    copies = sum(1 for c in first["copies"] if c["site"] == site)
    violations = sum(
        1 for c in first["copies"] if c["site"] == site and c["verdict"] == "violation"
    )
    done = _run("history", "--db", str(db), "--site", site)
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    plural = "copy" if copies == 1 else "copies"
    assert lines[0].startswith(f"{site}: {copies} {plural}, {violations} violation")
    assert lines[0].endswith("in scan 2 (+0 since scan 1)")
    assert lines[1].split() == ["scan", "started", "copies", "violations", "new", "resolved"]
    assert [ln.split()[:1] + ln.split()[2:] for ln in lines[2:]] == [
        ["2", str(copies), str(violations), "0", "0"],
        ["1", str(copies), str(violations), str(violations), "0"],
    ]
    none = _run("history", "--db", str(db), "--site", "http://never.example/")
    assert none.exit_code == 0
    assert none.stdout.startswith("no recorded scan found copies on http://never.example/")
