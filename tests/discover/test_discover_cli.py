"""`xpostcheck discover --access-log`: each output format with its exact text, the summary on
stderr, usage errors, and discovery feeding `scan --sites-file` against loopback sites."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES, demo_web

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def _line(referrer: str, agent: str = FIREFOX, path: str = "/pixel.gif") -> str:
    return (
        f'198.51.100.7 - - [28/Nov/2026:09:30:00 +0000] "GET {path} HTTP/1.1" 200 43 '
        f'"{referrer}" "{agent}"\n'
    )


LOG = "".join(
    [
        _line("https://blog.example/2026/ferry.html"),
        _line("https://blog.example/2026/ferry.html", path="/img/pier.jpg"),
        _line("https://blog.example/2026/library.html"),
        _line("https://copies.example/ferry"),
        _line("https://news.example/2026/ferry.html"),
        _line("https://www.bing.com/search?q=ferry"),
        _line("https://t.co/abc"),
        _line("https://blog.example/2026/ferry.html", agent="AhrefsBot/7.0"),
        "this line is broken\n",
    ]
)


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    path = tmp_path / "access.log"
    path.write_text(LOG, encoding="utf-8")
    return path


def _discover(log: Path, *more: str) -> Any:
    return _run("discover", "--access-log", str(log), "--publisher-host", "news.example", *more)


def test_table_output_and_the_summary_on_stderr(log: Path) -> None:
    result = _discover(log)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "    HITS   PAGES  SITE / PAGES\n"
        "       3       2  https://blog.example/\n"
        "                    https://blog.example/2026/ferry.html\n"
        "                    https://blog.example/2026/library.html\n"
        "       1       1  https://copies.example/\n"
        "                    https://copies.example/ferry\n"
    )
    assert result.stderr == (
        "read 9 lines in 1 file: 4 requests referred by other sites, 2 candidate sites\n"
        f"malformed: 1 line, skipped; first: {log}:9 (not a combined log line)\n"
        "dropped: own-host 1, search 1, social 1, bot 1\n"
    )
    quiet = _discover(log, "-q")
    assert quiet.stdout == result.stdout and quiet.stderr == ""


def test_urls_output_lists_sites_or_pages_one_a_line(log: Path) -> None:
    sites = _discover(log, "--format", "urls", "-q")
    assert sites.exit_code == 0
    assert sites.stdout == "https://blog.example/\nhttps://copies.example/\n"
    pages = _discover(log, "-f", "urls", "--pages", "--pages-per-site", "1", "-q")
    assert pages.stdout == "https://blog.example/2026/ferry.html\nhttps://copies.example/ferry\n"


def test_json_output(log: Path) -> None:
    result = _discover(log, "--format", "json", "--min-hits", "2", "-q")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "schema_version": 1,
        "candidates": [
            {
                "site": "https://blog.example/",
                "pages": [
                    "https://blog.example/2026/ferry.html",
                    "https://blog.example/2026/library.html",
                ],
                "hits": 3,
                "distinct_pages": 2,
                "method": "access-log",
                "evidence": [
                    "3 requests referred by 2 pages of the site",
                    "seen 2026-11-28 09:30 to 2026-11-28 09:30 UTC",
                    "requested /pixel.gif (2), /img/pier.jpg (1)",
                ],
            }
        ],
        "summary": {
            "files": 1,
            "lines": 9,
            "kept": 4,
            "malformed": 1,
            "malformed_examples": [
                {"file": str(log), "line": 9, "reason": "not a combined log line"}
            ],
            "dropped": {"own-host": 1, "search": 1, "social": 1, "bot": 1},
            "sites": 2,
            "sites_evicted": 0,
            "problems": [],
        },
    }


def test_output_to_a_file_and_the_user_lists(log: Path, tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("host copies.example\n", encoding="utf-8")
    out = tmp_path / "sites.txt"
    result = _discover(log, "-f", "urls", "-o", str(out), "--ignore-file", str(ignore))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == "https://blog.example/\n"
    assert "ignored 1" in result.stderr
    result = _discover(log, "-f", "urls", "--ignore-agent", "firefox", "-q")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a discovery method: --access-log FILE"),
        (("--access-log", "LOG"), "name the publisher's own hosts with --publisher-host"),
        (
            ("--access-log", "LOG", "--publisher-host", "a.example", "--since", "soon"),
            "--since: 'soon' is neither a date",
        ),
        (
            ("--access-log", "missing.log", "--publisher-host", "a.example"),
            "missing.log: access log not found; check --access-log",
        ),
        (
            ("--access-log", "LOG", "--publisher-host", "a.example", "--min-hits", "0"),
            "must be at least 1",
        ),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(
    args: tuple[str, ...], message: str, log: Path
) -> None:
    result = _run("discover", *(str(log) if a == "LOG" else a for a in args))
    assert result.exit_code == 2
    assert message in result.stderr


def test_discovered_sites_feed_scan_which_finds_the_copies(tmp_path: Path) -> None:
    with demo_web() as web:
        riverbend, northshore, harbor = web.sites
        log = tmp_path / "access.log.gz"
        import gzip

        lines = [
            _line(f"{riverbend}posts/ferry-winter.html"),
            _line(f"{riverbend}posts/library-sundays.html"),
            _line(f"{northshore}stories/school-budget.html"),
            _line("https://lakesideledger.example/2026/ferry-schedule-winter"),
            _line("https://www.google.com/"),
            _line(f"{harbor}blog/ferry-cuts.html", agent="Googlebot/2.1"),
        ]
        log.write_bytes(gzip.compress("".join(lines).encode()))
        sites = tmp_path / "sites.txt"
        found = _run(
            "discover",
            "--access-log",
            str(log),
            "--sources",
            str(ARTICLES),
            "--allow-private-referrers",
            "--format",
            "urls",
            "--output",
            str(sites),
        )
        assert found.exit_code == 0, found.output
        assert sites.read_text(encoding="utf-8") == f"{riverbend}\n{northshore}\n"
        report = tmp_path / "report.json"
        scan = _run(
            "scan",
            "--sources",
            str(ARTICLES),
            "--rules",
            str(RULES),
            "--sites-file",
            str(sites),
            "--db",
            str(tmp_path / "x.db"),
            "--delay",
            "0",
            "--workers",
            "1",
            "-f",
            "json",
            "-o",
            str(report),
            "--quiet",
        )
    assert scan.exit_code == 1, scan.output  # the demo copies break rules
    copies = json.loads(report.read_text(encoding="utf-8"))["copies"]
    by_site = {c["url"].split("/")[2] for c in copies}
    assert by_site == {riverbend.split("/")[2], northshore.split("/")[2]}
    urls = {c["url"] for c in copies}
    assert f"{riverbend}posts/ferry-winter.html" in urls
    assert f"{northshore}stories/school-budget.html" in urls


def test_the_readme_shows_discover_feeding_scan_with_options_that_parse() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    _, found, after = readme.partition("## Finding sites to scan: `discover`")
    assert found
    block = after.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    commands = [shlex.split(line) for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["xpostcheck", "discover"], ["xpostcheck", "scan"]]
    discover_args, scan_args = commands[0][2:], commands[1][2:]
    written = discover_args[discover_args.index("-o") + 1]
    assert "urls" in discover_args and scan_args[scan_args.index("--sites-file") + 1] == written
    for name, args in (("discover", discover_args), ("scan", scan_args)):
        command = main.commands[name]
        ctx = command.make_context(name, list(args))  # an unknown option raises
        assert ctx.params


def test_standard_input_plain_or_gzipped_and_json_field_names() -> None:
    import gzip

    record = {"at": "2026-11-28T09:30:00Z", "ref": "https://blog.example/a", "asked": "/p.gif"}
    text = json.dumps(record) + "\n"
    for data in (text.encode(), gzip.compress(text.encode())):
        result = CliRunner().invoke(
            main,
            ["discover", "--access-log", "-", "--publisher-host", "news.example", "-f", "json"]
            + ["--json-referrer", "ref", "--json-time", "at", "--json-path", "asked"],
            input=data,
        )
        assert result.exit_code == 0, result.output
        (row,) = json.loads(result.stdout)["candidates"]
        assert row["site"] == "https://blog.example/"
        assert row["evidence"][1:] == [
            "seen 2026-11-28 09:30 to 2026-11-28 09:30 UTC",
            "requested /p.gif (1)",
        ]
        assert result.stderr.startswith(
            "read 1 line in 1 file: 1 request referred by other sites, 1 candidate site\n"
        )
