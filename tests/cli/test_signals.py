"""SIGTERM and kill -9 against real scan processes: SIGTERM ends the scan in one line with exit
143, takes the extraction workers and temporary files along, and `history` lists the scan as
interrupted; what a killed process leaves behind is cleaned by the next scan, and its workers
do not outlive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopback import Server, html

from xpostcheck.cli.main import main
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.util.files import STALE_AFTER, clean_stale

PAGES = 200


def _slow_page(request: BaseHTTPRequestHandler) -> None:
    time.sleep(0.2)  # a slow site: the scan is still running when it is stopped
    number = int(request.path.strip("/p").split(".")[0] or 0)
    links = "".join(f'<a href="/p{n}.html">page {n}</a> ' for n in range(number + 1, PAGES))
    body = f"<html><body><article><p>Page {number} of a slow site.</p>{links}</article></body>"
    status, headers, data = html(body + "</html>")
    request.send_response(status)
    for key, value in headers.items():
        request.send_header(key, value)
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


@pytest.fixture()
def slow_site() -> Iterator[str]:
    routes: dict[str, Any] = {"/robots.txt": (404, {}, b"")}
    routes.update({f"/p{n}.html": _slow_page for n in range(PAGES)})
    with Server(routes) as server:
        yield f"{server.base}/p0.html"


def _children(pid: int) -> dict[int, str]:
    """Processes whose parent is `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line[:5] == "PPid:")
        if ppid == pid:
            found[int(entry.name)] = cmdline
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(check: Any, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(child.stdout)


def test_sigterm_stops_the_scan_its_workers_and_its_leftovers(
    slow_site: str, tmp_path: Path
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    db = tmp_path / "scans.db"
    # What an earlier, killed scan left: its temporary folder and a half-written index.
    leftover = temp / f"xpostcheck-{_dead_pid()}-old"
    (leftover / "index").mkdir(parents=True)
    half_index = tmp_path / ".scans.db.index.k9x.tmp"
    half_index.write_bytes(b"\0" * 1000)
    past = time.time() - STALE_AFTER - 60
    os.utime(half_index, (past, past))

    args = [sys.executable, "-m", "xpostcheck", "scan", slow_site, "--workers", "2"]
    args += ["--sources", str(ARTICLES), "--rules", str(RULES), "--db", str(db)]
    args += ["--delay", "0", "--max-pages", str(PAGES), "-f", "json"]
    env = {**os.environ, "TMPDIR": str(temp)}
    scan = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:

        def workers() -> dict[int, str]:
            return {p: c for p, c in _children(scan.pid).items() if "spawn_main" in c}

        assert _wait_for(lambda: len(workers()) == 2, 120), "the extraction workers never started"
        children = _children(scan.pid)  # the workers and multiprocessing's resource tracker
        scan.send_signal(signal.SIGTERM)
        out, err = scan.communicate(timeout=120)
    finally:
        if scan.poll() is None:
            scan.kill()
            scan.wait()
    assert scan.returncode == 143
    assert out == b""
    assert err.decode() == (
        "xpostcheck: stopped by SIGTERM; nothing was reported "
        "(the scan shows as interrupted in 'xpostcheck history')\n"
    )
    # No process of the scan outlives it by more than a second.
    assert _wait_for(lambda: not any(_running(p) for p in children), 1.0), children
    assert list(temp.iterdir()) == []  # its own temporary folder and the old one are gone
    assert not half_index.exists()
    history = CliRunner().invoke(main, ["history", "--db", str(db)])
    assert history.exit_code == 0
    rows = history.stdout.splitlines()
    assert rows[0].split()[:3] == ["scan", "started", "finished"]
    assert rows[1].split()[0] == "1" and rows[1].split()[2] == "interrupted"


_ANALYSER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from xpostcheck.demo.web import ARTICLES
    from xpostcheck.match.index import MatchConfig, SourceIndex
    from xpostcheck.models import Fetched
    from xpostcheck.pipeline.analyse import Analyser
    from xpostcheck.sources.loader import load_sources

    config = MatchConfig()
    index = SourceIndex(config)
    index.add(load_sources([str(ARTICLES)]))
    analyser = Analyser(index, "", config, 2)  # no index kept: a temporary copy for workers

    def pages():
        for n in range(4):
            text = f"<html><body><p>page {n}</p></body></html>"
            url = f"http://127.0.0.1/{n}"
            yield Fetched(url=url, final_url=url, status=200,
                          headers=(("Content-Type", "text/html"),), body=text.encode(),
                          text=text, encoding="utf-8", fetched_at="2024-01-01T00:00:00+00:00")

    done = list(analyser.pages(pages(), lambda _fetched: False))
    print(json.dumps({"pages": len(done), "tmp": analyser._tmp.name}), flush=True)
    time.sleep(600)
    """
)


def test_workers_of_a_killed_scan_exit_and_the_next_scan_cleans_up(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _ANALYSER_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        state = json.loads(line)
        assert state["pages"] == 4
        assert Path(state["tmp"]).name.startswith(f"xpostcheck-{proc.pid}-")
        workers = [p for p, c in _children(proc.pid).items() if "spawn_main" in c]
        assert len(workers) == 2
        proc.kill()  # kill -9: no clean-up runs in the scan process
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    # The workers notice their parent is gone and exit (a bounded wait, not a timing claim).
    assert _wait_for(lambda: not any(_running(p) for p in workers), 30), workers
    assert Path(state["tmp"]).is_dir()  # kill -9 left it...
    old = tempfile.tempdir
    tempfile.tempdir = str(temp)
    try:
        assert clean_stale([]) == [state["tmp"]]  # ...and the next scan removes it
    finally:
        tempfile.tempdir = old
