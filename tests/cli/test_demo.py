"""`xpostcheck demo`: the bundled demo web, scanned end to end."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main


def test_demo_runs_end_to_end_and_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = CliRunner().invoke(main, ["demo", "--output", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"JSON report written to {out.resolve()}" in result.stderr
    report = json.loads(out.read_text())
    found = {
        (urlsplit(c["url"]).path, c["source_url"].rsplit("/", 1)[-1]): (
            c["kind"],
            c["verdict"],
            sorted(k["kind"] for k in c["checks"] if not k["passed"]),
        )
        for c in report["copies"]
    }
    assert found == {
        ("/posts/ferry-winter.html", "ferry-schedule-winter"): ("full", "compliant", []),
        ("/posts/library-sundays.html", "library-hours"): (
            "full",
            "violation",
            ["link_to_original"],
        ),
        ("/stories/school-budget.html", "school-budget-vote"): (
            "full",
            "violation",
            ["copyright_notice"],
        ),
        ("/stories/ospreys.html", "osprey-nests"): (
            "full",
            "violation",
            ["attribution", "copyright_notice", "link_to_original", "non_commercial"],
        ),
        ("/blog/dredging-excerpt.html", "harbor-dredging"): ("excerpt", "compliant", []),
        ("/blog/ferry-cuts.html", "ferry-schedule-winter"): ("partial", "compliant", []),
    }
    skipped = {urlsplit(s["url"]).path: s["reason"] for s in report["skipped"]}
    assert "/private/drafts.html" in skipped
    assert "robots" in skipped["/private/drafts.html"]
    # The table ends with the one-line summary; every site with a copy has its rows.
    assert "6 copies, 3 violations (3 new), 1 skipped, 14 pages" in result.stdout
    for host in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        assert host in result.stdout


RUN = "from xpostcheck.cli.main import main; main(prog_name='xpostcheck')"


def test_demo_leaves_the_html_report_and_a_database_and_its_next_commands_work_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "-o", "my demo.json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "my demo.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "library-sundays.html" in html
    assert (tmp_path / "my demo.db").is_file()
    assert f"HTML report written to {tmp_path / 'my demo.html'}" in result.stderr
    lines = result.stderr.splitlines()
    start = lines.index("Try next (the database keeps what the demo saw):")
    commands = [line.strip() for line in lines[start + 1 :] if line.startswith("  xpostcheck ")]
    assert [c.split()[1] for c in commands] == ["history", "notice", "evidence", "triage"]
    outputs = []
    for command in commands:
        words = shlex.split(command)  # as a shell would read it: the paths hold a space
        run = subprocess.run(
            [sys.executable, "-c", RUN, *words[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, (command, run.stdout, run.stderr)
        outputs.append(run.stdout + run.stderr)
    history, notice, evidence, triage = outputs
    assert history.splitlines()[1].split()[0] == "1"
    assert "lakeside-ledger-demo" in history
    assert notice.startswith("To: ") and "Lakeside library adds Sunday hours" in notice
    assert "bytes of WARC evidence to my demo.warc.gz" in evidence
    assert (tmp_path / "my demo.warc.gz").stat().st_size > 0
    assert triage.startswith("marked ll-") and " on http://127.0.0.2:" in triage
    assert "as licensed" in triage
