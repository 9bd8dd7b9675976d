"""Where `scan -o` puts the report, run as real processes: a character device, a terminal, a
FIFO with a reader, `-o -` piped into a reader, and /dev/stdout. Each receives the report (where
it can be read back) and is still what it was after the run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devices import null_device
from loopback import Server, html

from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.util.files import STDOUT


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    routes: dict[str, Any] = {
        "/robots.txt": (404, {}, b""),
        "/page.html": html("<html><body><p>Nothing copied here.</p></body></html>"),
    }
    with Server(routes) as server:
        yield f"{server.base}/page.html"


def _scan(tmp_path: Path, page: str, output: str, **popen: Any) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "xpostcheck", "scan", "--url", page]
    args += ["--sources", str(ARTICLES), "--rules", str(RULES), "--db", str(tmp_path / "x.db")]
    args += ["--delay", "0", "-f", "json", "-o", output]
    return subprocess.Popen(args, stderr=subprocess.PIPE, **popen)


def _finish(proc: subprocess.Popen[bytes]) -> tuple[bytes, str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out or b"", err.decode()


def _is_report(data: bytes) -> bool:
    report = json.loads(data)
    return bool(report["schema_version"] == 1 and report["scan"]["pages_fetched"] == 1)


def test_a_character_device_stays_a_device(tmp_path: Path, page: str) -> None:
    device = null_device(tmp_path)
    _, err = _finish(_scan(tmp_path, page, str(device), stdout=subprocess.DEVNULL))
    assert err.endswith(f"(report in {device})\n")
    assert stat.S_ISCHR(device.stat().st_mode)
    assert device.stat().st_rdev == os.makedev(1, 3)


def test_a_terminal_device_receives_the_report(tmp_path: Path, page: str) -> None:
    leader, follower = os.openpty()
    try:
        tty.setraw(follower)  # bytes as written, no \r added
        terminal = os.ttyname(follower)
        got = bytearray()

        def read() -> None:
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    return
                got.extend(chunk)
                if got.endswith(b"}\n"):
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        _finish(_scan(tmp_path, page, terminal, stdout=subprocess.DEVNULL))
        reader.join(timeout=60)
        assert _is_report(bytes(got))
        assert stat.S_ISCHR(os.stat(terminal).st_mode)
    finally:
        os.close(leader)
        os.close(follower)


def test_a_fifo_reader_receives_the_report(tmp_path: Path, page: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    _finish(_scan(tmp_path, page, str(fifo), stdout=subprocess.DEVNULL))
    out, _ = reader.communicate(timeout=60)
    assert _is_report(out)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    # (the FIFO was written in place: no temporary file beside it, no file replacing it;
    # x.db.lock is the scan lock file, which stays for the next scan to lock)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "x.db", "x.db.index", "x.db.lock"]


def test_dash_pipes_the_report_and_only_the_report(tmp_path: Path, page: str) -> None:
    scan = _scan(tmp_path, page, STDOUT, stdout=subprocess.PIPE)
    reader = subprocess.Popen(["cat"], stdin=scan.stdout, stdout=subprocess.PIPE)
    assert scan.stdout is not None
    scan.stdout.close()  # the reader holds the pipe now
    out, _ = reader.communicate(timeout=120)
    _, err = _finish(scan)
    assert _is_report(out)  # nothing but the report on stdout
    assert err == "xpostcheck: 0 copies, 0 violations (0 new), 0 skipped, 1 page\n"
    assert not (tmp_path / "-").exists()


def test_dev_stdout_receives_the_report_and_stays_a_link(tmp_path: Path, page: str) -> None:
    was_link = os.path.islink("/dev/stdout")
    out, err = _finish(_scan(tmp_path, page, "/dev/stdout", stdout=subprocess.PIPE))
    assert _is_report(out)
    assert err.endswith("(report in /dev/stdout)\n")
    assert os.path.islink("/dev/stdout") == was_link
    # Through the shell's redirection into a file: the file gets it, appended where the shell
    # left off.
    target = tmp_path / "report.json"
    with open(target, "wb") as redirected:
        redirected.write(b"")
        _finish(_scan(tmp_path, page, "/dev/stdout", stdout=redirected))
    assert _is_report(target.read_bytes())
