"""`--db postgresql://...` on the command line: a scan of the loopback demo web gives the same
copies and verdicts as on SQLite, the review commands read it back, the scan lock is an
advisory lock (`--no-wait` exits 3), and a database that cannot be reached is one line."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, DemoWeb, demo_web


@pytest.fixture()
def web() -> Iterator[DemoWeb]:
    with demo_web() as running:
        yield running


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _scan(web: DemoWeb, db: str, *more: str) -> Any:
    return _run(
        "scan",
        *web.sites,
        "--sources",
        str(ARTICLES),
        "--rules",
        str(RULES),
        "--db",
        db,
        "--delay",
        "0",
        "--workers",
        "1",
        "-f",
        "json",
        "--quiet",
        *more,
    )


def _verdicts(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What must not depend on the backend: each copy, its verdict and every check."""
    return sorted(
        (
            c["url"],
            c["source_url"],
            c["kind"],
            round(c["coverage"], 6),
            c["verdict"],
            tuple((k["rule"], k["passed"], k.get("new")) for k in c["checks"]),
        )
        for c in report["copies"]
    )


def test_a_scan_on_postgresql_matches_sqlite_and_the_review_commands_read_it(
    web: DemoWeb, tmp_path: Path, pg_url: str
) -> None:
    from tests.pgserver import create_database

    pg = create_database(pg_url, "cli_scan")
    on_sqlite = _scan(web, str(tmp_path / "scans.db"))
    on_pg = _scan(web, pg)
    assert on_pg.exit_code == on_sqlite.exit_code == 1, on_pg.output
    sqlite_report, pg_report = json.loads(on_sqlite.stdout), json.loads(on_pg.stdout)
    assert _verdicts(pg_report) == _verdicts(sqlite_report)
    assert len(pg_report["copies"]) >= 3
    assert pg_report["skipped"] == sqlite_report["skipped"]
    library = next(
        c["url"] for c in pg_report["copies"] if c["url"].endswith("library-sundays.html")
    )

    evidence = _run("evidence", library, "--db", pg, "-o", str(tmp_path / "lib.warc.gz"))
    assert evidence.exit_code == 0, evidence.output
    assert b"Lakeside library adds Sunday hours" in gzip.decompress(
        (tmp_path / "lib.warc.gz").read_bytes()
    )
    notice = _run("notice", library, "--db", pg, "--rules", str(RULES))
    assert notice.exit_code == 0 and "Lakeside library adds Sunday hours" in notice.stdout
    marked = _run("triage", library, "--as", "licensed", "--whole-page", "--db", pg)
    assert marked.exit_code == 0, marked.output

    # A second scan: nothing new, the triaged copy compliant, as on SQLite after the same mark.
    again = json.loads(_scan(web, pg).stdout)
    copy = next(c for c in again["copies"] if c["url"] == library)
    assert copy["verdict"] == "compliant"
    history = _run("history", "--db", pg)
    assert history.exit_code == 0
    assert [line.split()[0] for line in history.stdout.splitlines()[1:]] == ["2", "1"]
    rendered = _run("report", "--scan", "1", "--db", pg, "-f", "json")
    assert rendered.exit_code in (0, 1), rendered.output
    assert _verdicts(json.loads(rendered.stdout)) == _verdicts(pg_report)


def test_a_running_scan_holds_the_database_and_no_wait_exits_3(web: DemoWeb, pg_url: str) -> None:
    from tests.pgserver import create_database
    from xpostcheck.store.backend import scan_lock

    pg = create_database(pg_url, "cli_lock")
    held = scan_lock(pg, wait=False, on_wait=lambda _m: None)
    assert held is not None
    try:
        busy = _scan(web, pg, "--no-wait")
    finally:
        held.release()
    assert busy.exit_code == 3
    assert "another scan of this database is running" in busy.output
    assert _scan(web, pg, "--no-wait").exit_code == 1  # free again


def test_an_unreachable_database_is_one_line_without_the_password(web: DemoWeb) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://scanner:s3cret@127.0.0.1:{port}/xpost"
    for args in (
        ["history", "--db", url],
        [
            "scan",
            *web.sites,
            "--sources",
            str(ARTICLES),
            "--rules",
            str(RULES),
            "--db",
            url,
            "--quiet",
        ],
    ):
        result = _run(*args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.output
        assert lines[0].startswith(f"xpostcheck: error: postgresql://scanner:***@127.0.0.1:{port}")
        assert "cannot connect to the database" in lines[0] and "s3cret" not in result.output
