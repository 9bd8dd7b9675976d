"""`xpostcheck scan --warc`: files and URLs, the JSON report's records and candidates, and
exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator
from loopback import Server
from warcfix import PUBLISHER_SITE, RULES, articles, site_pages, write_sources, write_warc

from xpostcheck.cli.main import main

BASE = "http://shore-notes.example"
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"


def _scan(*args: str) -> Result:
    return CliRunner().invoke(main, ["scan", *args], catch_exceptions=False)


def _warc(tmp: Path) -> Path:
    pages = site_pages(articles())
    records: list[Any] = [(BASE + p, "200 OK", body.encode()) for p, body in pages.items()]
    return write_warc(tmp / "shore.warc.gz", records)


def _common(tmp: Path) -> list[str]:
    sources = write_sources(tmp / "sources.jsonl", articles())
    return ["-s", str(sources), "-r", str(RULES), "--db", str(tmp / "x.db"), "-f", "json"]


def test_scan_warc_file_reports_copies_with_records_and_candidates(tmp_path: Path) -> None:
    warc = _warc(tmp_path)
    result = _scan("--warc", str(warc), *_common(tmp_path))
    assert result.exit_code == 1, result.output  # two copies break the rules
    report = json.loads(result.stdout)
    copies = [(c["url"], c["source_url"], c["verdict"]) for c in report["copies"]]
    assert copies == [
        (f"{BASE}/posts/one.html", f"{PUBLISHER_SITE}/news/story-0", "compliant"),
        (f"{BASE}/posts/three.html", f"{PUBLISHER_SITE}/news/story-2", "violation"),
        (f"{BASE}/posts/two.html", f"{PUBLISHER_SITE}/news/story-1", "violation"),
    ]
    for copy in report["copies"]:
        assert copy["record"].startswith(f"{warc}#")
    assert report["candidates"] == [
        {"site": f"{BASE}/", "copies": 3, "linking": 5, "example": f"{BASE}/posts/one.html"}
    ]
    assert report["summary"]["candidates"] == 1
    assert report["scan"]["sites"] == [str(warc)]
    assert "1 candidate site" in result.stderr
    Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(report)


def test_scan_warc_over_http(tmp_path: Path) -> None:
    warc = _warc(tmp_path)
    with Server({"/cc/shore.warc.gz": (200, {}, warc.read_bytes())}) as server:
        url = f"{server.base}/cc/shore.warc.gz"
        result = _scan("--warc", url, *_common(tmp_path))
        assert result.exit_code == 1, result.output
        report = json.loads(result.stdout)
        assert len(report["copies"]) == 3
        assert all(c["record"].startswith(url + "#") for c in report["copies"])
        assert server.paths() == ["/robots.txt", "/cc/shore.warc.gz"]


def test_scan_warc_with_a_site_is_a_usage_error(tmp_path: Path) -> None:
    result = _scan("--warc", "a.warc", "https://blog.example/", *_common(tmp_path))
    assert result.exit_code == 2
    assert "--warc reads pages from archives: give no site or --url with it" in result.output


def test_scan_warc_needs_rules(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.jsonl", articles())
    result = _scan("--warc", "a.warc", "-s", str(sources))
    assert result.exit_code == 2
    assert "no rules" in result.output


def test_a_missing_warc_fails_the_scan_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "none.warc.gz"
    result = _scan("--warc", str(missing), *_common(tmp_path))
    assert result.exit_code == 3
    assert f"cannot read WARC {missing}: No such file or directory" in result.output
