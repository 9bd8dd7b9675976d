"""What a person at a terminal reads: clear network messages, the table at the terminal's
width with its ports and colours, and the progress on stderr."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from loopback import Server, refused_port

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES

PAGE = (
    200,
    {"Content-Type": "text/html; charset=utf-8"},
    b"<html><body><p>hello</p></body></html>",
)


def _scan(*args: str, db: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["scan", "-s", str(ARTICLES), "-r", str(RULES), "--db", str(db), *args]
    )
    return result.exit_code, result.stdout + result.stderr


def test_a_closed_port_reads_as_a_refused_connection_not_a_robots_problem(tmp_path: Path) -> None:
    with refused_port() as port:
        code, text = _scan(f"http://127.0.0.1:{port}/", db=tmp_path / "x.db")
    assert code == 3
    assert f"http://127.0.0.1:{port}/: connection refused (when asking for robots.txt)" in text
    assert "robots.txt unavailable" not in text


def test_https_on_a_plain_http_port_says_so_without_urllib3_internals(tmp_path: Path) -> None:
    with Server({"/": PAGE, "/robots.txt": PAGE}) as server:
        code, text = _scan(f"https://127.0.0.1:{server.port}/", db=tmp_path / "x.db")
    assert code == 3
    assert "TLS handshake failed: the server may not speak HTTPS on this port" in text
    for internal in ("HTTPSConnectionPool", "Max retries", "SSLError", "_ssl.c"):
        assert internal not in text


def test_explain_exits_3_when_the_page_is_a_404(tmp_path: Path) -> None:
    with Server({"/robots.txt": PAGE}) as server:
        url = f"http://127.0.0.1:{server.port}/missing.html"
        result = CliRunner().invoke(main, ["explain", url, "-r", str(RULES), "-s", str(ARTICLES)])
    assert result.exit_code == 3, result.output
    assert f"skipped {url}: HTTP 404" in result.stdout
    assert f"xpostcheck: error: {url}: the page could not be fetched" in result.stderr
