"""What a person at a terminal reads: clear network messages, the table at the terminal's
width with its ports and colours, and the progress on stderr."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from loopback import Server, refused_port

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.models import Copy, Finding, Report, ScanInfo
from xpostcheck.report.base import RenderContext
from xpostcheck.report.table import NARROW, TableFormat, break_path

RUN = "from xpostcheck.cli.main import main; main(prog_name='xpostcheck')"
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
    assert f"http://127.0.0.1:{port}/: connection refused; host not crawled" in text
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


# --- the table at the terminal's width ------------------------------------------------------


def _report() -> Report:
    failed = Finding("ll-link", "link_to_original", False, "error", "no link", new=True)
    warn = Finding("ll-non-commercial", "non_commercial", False, "warning", "ads", new=True)
    copies = (
        Copy(
            "http://127.0.0.2:8123/stories/2024/school-board-budget-vote-moves-to-march.html",
            "127.0.0.2",
            "https://lakesideledger.example/2024/school-budget-vote",
            1.0,
            "full",
            "violation",
            (),
            (failed, warn),
            source_title="School board puts a four percent budget increase to voters in March",
        ),
        Copy(
            "https://blog.example/a.html",
            "blog.example",
            "https://lakesideledger.example/2024/ferry",
            0.32,
            "excerpt",
            "compliant",
            (),
            (),
            source_title="Ferry",
        ),
    )
    scan = ScanInfo("2024-05-06T06:00:00+00:00", "2024-05-06T06:01:00+00:00", 2, 5)
    return Report(scan=scan, copies=copies)


def test_break_path_breaks_after_separators_not_mid_word() -> None:
    assert break_path("/posts/library-sundays.html", 25) == ["/posts/", "library-sundays.html"]
    assert break_path("/posts/library-sundays.html", 12) == ["/posts/", "library-", "sundays.html"]
    assert break_path("/posts/library-sundays.html", 40) == ["/posts/library-sundays.html"]
    assert break_path("/x/abcdefghijklmnop", 6) == ["/x/", "abcdef", "ghijkl", "mnop"]


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160])
def test_the_table_fits_the_width_shows_ports_and_keeps_words_whole(width: int) -> None:
    text = TableFormat(width=width, color=False).render(_report(), RenderContext())
    lines = text.splitlines()
    # Every line fits but the summary, kept on one line for whoever greps it.
    assert max(len(line) for line in lines[:-1]) <= width, text
    assert "127.0.0.2:8123" in text  # the port, which the site (a host) leaves out
    assert "\x1b[" not in text
    # The long path comes back whole when its pieces in the Copy column are put together,
    # and every piece but the last ends at a separator.
    path = "/stories/2024/school-board-budget-vote-moves-to-march.html"
    cells = [line.split("│")[2 if width >= NARROW else 1].strip() for line in lines if "│" in line]
    start = next(i for i, cell in enumerate(cells) if path.startswith(cell) and cell)
    pieces: list[str] = []
    while "".join(pieces) != path:
        pieces.append(cells[start + len(pieces)])
    assert all(p[-1] in "/-_.?&=" for p in pieces[:-1]), pieces
    assert "VIOLATION" in text and "ll-link" in text
    assert lines[-1] == "xpostcheck: 2 copies, 1 violation (1 new), 0 skipped, 5 pages"


def test_colour_marks_violations_red_when_asked() -> None:
    text = TableFormat(width=120, color=True).render(_report(), RenderContext())
    assert "\x1b[1;31mVIOLATION\x1b[0m" in text
    assert "\x1b[31mll-link (new)\x1b[0m" in text
    assert "\x1b[32mcompliant\x1b[0m" in text


def _copy_page(tmp_path: Path) -> bytes:
    article = json.loads(ARTICLES.read_text(encoding="utf-8").splitlines()[0])
    paragraphs = "".join(f"<p>{p}</p>" for p in article["text"].split("\n\n"))
    return f"<html><head><title>copy</title></head><body>{paragraphs}</body></html>".encode()


def _in_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run xpostcheck with stdout and stderr on a pseudo-terminal; all it wrote."""
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, *args],
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=child_fd,
        env={**os.environ, "COLUMNS": "120", **env},
    )
    os.close(child_fd)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(main_fd)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [
        ({"NO_COLOR": ""}, [], True),
        ({"NO_COLOR": "1"}, [], False),
        ({"NO_COLOR": ""}, ["--no-color"], False),
    ],
    ids=["terminal", "NO_COLOR", "--no-color"],
)
def test_colour_on_a_terminal_unless_no_color(
    tmp_path: Path, env: dict[str, str], flags: list[str], coloured: bool
) -> None:
    with Server({"/robots.txt": (404, {}, b""), "/copy.html": PAGE}) as server:
        server.routes["/copy.html"] = (200, {"Content-Type": "text/html"}, _copy_page(tmp_path))
        args = [*flags, "scan", "-s", str(ARTICLES), "-r", str(RULES)]
        args += ["--db", str(tmp_path / "x.db"), "--url", f"{server.base}/copy.html"]
        out = _in_a_terminal(args, env)
    assert "VIOLATION" in out, out
    assert ("\x1b[1;31mVIOLATION" in out) is coloured, out
    assert bool(re.search(r"\x1b\[[0-9;]*m", out)) is coloured, out  # any colour at all


# --- progress ---------------------------------------------------------------------------------


def _small_site(copy_page: bytes) -> dict[str, object]:
    index = (
        b'<html><body><a href="/a.html">a</a> <a href="/b.html">b</a>'
        b' <a href="/private.html">p</a></body></html>'
    )
    return {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private"),
        "/": (200, {"Content-Type": "text/html"}, index),
        "/a.html": (200, {"Content-Type": "text/html"}, copy_page),
        "/b.html": PAGE,
    }


def _piped(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run xpostcheck with stdout and stderr on pipes (no terminal), as cron does."""
    return subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, timeout=120
    )


def _strip_escapes(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_a_progress_bar_per_site_on_a_terminal_pages_done_of_known(tmp_path: Path) -> None:
    with Server(_small_site(_copy_page(tmp_path))) as server:  # type: ignore[arg-type]
        args = ["scan", "-s", str(ARTICLES), "-r", str(RULES), "--db", str(tmp_path / "x.db")]
        args += ["--delay", "0", server.base + "/"]
        out = _strip_escapes(_in_a_terminal(args, {"NO_COLOR": ""}))
    site = f"127.0.0.1:{server.port}"
    frames = re.findall(re.escape(site) + r"\s+\S*\s*(\d+)/(\d+) pages", out)
    assert frames, out
    # Done never passes known; the crawl ends with every known page done: 3 fetched, 1 skipped.
    assert all(int(done) <= int(known) for done, known in frames)
    assert frames[-1] == ("4", "4"), frames
    assert "1 with copies" in out
    assert "xpostcheck: 1 copy, 1 violation (1 new), 1 skipped, 3 pages" in out


def test_verbose_logs_each_page_with_its_outcome_and_no_bar_off_a_terminal(tmp_path: Path) -> None:
    with Server(_small_site(_copy_page(tmp_path))) as server:  # type: ignore[arg-type]
        args = ["scan", "-s", str(ARTICLES), "-r", str(RULES), "--delay", "0"]
        quiet = _piped([*args, "--db", str(tmp_path / "q.db"), server.base])
        loud = _piped(["-v", *args, "--db", str(tmp_path / "v.db"), server.base])
    base = server.base
    assert quiet.returncode == loud.returncode == 1, loud.stderr
    assert quiet.stderr == ""  # off a terminal: no progress at all (the table says the rest)
    pages = sorted(
        line.removeprefix("INFO xpostcheck.pages: ")
        for line in loud.stderr.splitlines()
        if line.startswith("INFO xpostcheck.pages: ")
    )
    assert pages == sorted(
        [
            f"fetched {base}: no copy",
            f"fetched {base}/a.html: copy found",
            f"fetched {base}/b.html: no copy",
            f"skipped {base}/private.html: disallowed by robots.txt",
        ]
    )
