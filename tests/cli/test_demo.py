"""`xpostcheck demo`: the bundled demo web, scanned end to end."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

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
