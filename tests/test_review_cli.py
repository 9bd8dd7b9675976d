"""The review commands on a real scan database: history, triage, evidence, notice."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web


@pytest.fixture()
def web() -> Iterator[DemoWeb]:
    with demo_web() as running:
        yield running


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scan(web: DemoWeb, db: Path) -> Any:
    return _run(
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


def _copy_url(report: dict[str, Any], path: str) -> str:
    return next(c["url"] for c in report["copies"] if c["url"].endswith(path))


def test_history_triage_evidence_and_notice(web: DemoWeb, tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    first = _scan(web, db)
    assert first.exit_code == 1
    report = json.loads(first.stdout)
    library = _copy_url(report, "/posts/library-sundays.html")

    # notice: specific, names what is missing and where to write.
    notice = _run("notice", library, "--db", str(db), "--rules", str(RULES))
    assert notice.exit_code == 0, notice.output
    assert "Lakeside library adds Sunday hours" in notice.stdout
    assert "https://lakesideledger.example/2026/10/library-hours" in notice.stdout
    assert "editors@riverbend.example" in notice.stdout

    # evidence: the exact response as a WARC record.
    out = tmp_path / "library.warc.gz"
    evidence = _run("evidence", library, "--db", str(db), "--output", str(out))
    assert evidence.exit_code == 0, evidence.output
    warc = gzip.decompress(out.read_bytes())
    assert b"WARC-Type: response" in warc
    assert f"WARC-Target-URI: {library}".encode() in warc
    assert b"Lakeside library adds Sunday hours" in warc

    # triage: the copy stays in the report, marked, and no longer counts.
    marked = _run("triage", library, "--as", "licensed", "--note", "signed deal", "--db", str(db))
    assert marked.exit_code == 0, marked.output
    # Every finding of the copy is marked, passed ones too: a licensed site stays licensed.
    assert marked.stdout == f"marked 4 finding(s) on {library} as licensed\n"
    second = json.loads(_scan(web, db).stdout)
    copy = next(c for c in second["copies"] if c["url"] == library)
    assert copy["verdict"] == "compliant"
    assert [k.get("triage") for k in copy["checks"] if not k["passed"]] == ["licensed"]
    assert len([c for c in second["copies"] if c["verdict"] == "violation"]) == 2

    # history: both scans, newest first, with their counts.
    history = _run("history", "--db", str(db))
    assert history.exit_code == 0
    lines = history.stdout.splitlines()
    assert lines[0].split()[:3] == ["scan", "started", "finished"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]


def test_review_commands_need_an_existing_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (
        ["history"],
        ["evidence", "http://127.0.0.1/x"],
        ["triage", "http://127.0.0.1/x", "--as", "ignored"],
    ):
        result = _run(*args, "--db", str(missing))
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"xpostcheck: error: {missing}: no scan database here; run 'xpostcheck scan' "
            "first or pass --db"
        )
        assert not missing.exists()


def test_triage_of_unknown_url_is_an_error(web: DemoWeb, tmp_path: Path) -> None:
    db = tmp_path / "scans.db"
    _scan(web, db)
    result = _run("triage", "http://127.0.0.9/nothing", "--as", "ignored", "--db", str(db))
    assert result.exit_code == 2
    assert "no recorded findings for this URL" in result.output
