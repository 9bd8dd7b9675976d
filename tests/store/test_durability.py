"""The database and the index as a cron job meets them (issue 12): one writer per database
(two real scans), openers racing to migrate a new file (three processes), and a full disk, a
read-only file, a damaged table or a damaged index: each one line and an exit code, never a
traceback, and found before the crawl where it can be."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import Server, html

from xpostcheck.errors import StoreError
from xpostcheck.store import open_store
from xpostcheck.store.sqlite import SqliteStore

TEXT = " ".join(f"word{i} of the harbour story" for i in range(60))
PAGE = f"<html><body><article><h1>Harbour</h1><p>{TEXT}</p></article></body></html>"


@pytest.fixture()
def sources(tmp_path: Path) -> str:
    path = tmp_path / "sources.jsonl"
    record = {"url": "https://www.globalresearch.ca/harbour/1", "title": "Harbour", "text": TEXT}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture()
def site() -> Iterator[Server]:
    with Server({"/": html(PAGE)}) as server:
        yield server


def _scan_args(site: str, sources: str, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "xpostcheck",
        "scan",
        site + "/",
        "--sources",
        sources,
        "--rules",
        "globalresearch",
        "--db",
        str(db),
        "--delay",
        "0",
        "--workers",
        "1",
        "--max-pages",
        "1",
        "--format",
        "json",
        *extra,
    ]


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload, no-any-return]


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("xpostcheck: error: "), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


# -- one writer per database ------------------------------------------------------------------


def test_a_second_scan_of_one_database_waits_or_with_no_wait_exits_3(
    tmp_path: Path, sources: str
) -> None:
    release = threading.Event()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        release.wait(60)  # the first scan stays in its crawl until the test lets it go
        body = PAGE.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    db = tmp_path / "shared.db"
    with Server({"/": slow}) as server:
        first = subprocess.Popen(
            _scan_args(server.base, sources, db, "--quiet"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        waiter = None
        try:
            for _ in range(1200):  # until the first scan is crawling (it holds the lock)
                if "/" in server.paths():
                    break
                threading.Event().wait(0.05)
            assert "/" in server.paths()
            refused = _run(_scan_args(server.base, sources, db, "--no-wait"))
            assert refused.returncode == 3
            line = _one_error_line(refused.stderr)
            assert line == (
                f"xpostcheck: error: {db}: another scan of this database is running "
                f"(pid {first.pid}); run again when it has finished, or leave out --no-wait "
                "to wait for it"
            )
            waiter = subprocess.Popen(
                _scan_args(server.base, sources, db),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert waiter.stderr is not None
            said = waiter.stderr.readline()  # it says once that it waits, then waits
            assert said == (
                f"WARNING xpostcheck.pipeline.begin: waiting for another scan of {db} "
                f"to finish (pid {first.pid}) ...\n"
            )
            assert waiter.poll() is None
            release.set()
            assert first.wait(timeout=120) == 1  # the copy has no credit: a violation
            out, err = waiter.communicate(timeout=120)
            assert waiter.returncode == 1, err
            assert "waiting" not in err  # once only
            assert json.loads(out)["scan"]["pages_fetched"] == 1
        finally:
            release.set()
            for proc in (first, waiter):
                if proc is not None:
                    proc.kill()
                    proc.communicate()
    history = sqlite3.connect(db).execute("SELECT count(*) FROM scans WHERE finished IS NOT NULL")
    assert history.fetchone()[0] == 2  # both ran, one after the other; the refused one did not


# -- migrations race --------------------------------------------------------------------------


def _opener(folder: str, rounds: int, barrier: object, failures: object) -> None:
    for n in range(rounds):
        barrier.wait()  # type: ignore[attr-defined]
        try:
            SqliteStore(Path(folder) / f"fresh-{n}.db").close()
        except Exception as exc:  # noqa: BLE001 - counted, the test shows them
            failures.put(f"round {n}: {exc}")  # type: ignore[attr-defined]


def test_three_processes_opening_new_databases_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    failures = ctx.Queue()
    openers = [
        ctx.Process(target=_opener, args=(str(tmp_path), 40, barrier, failures)) for _ in range(3)
    ]
    for proc in openers:
        proc.start()
    for proc in openers:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in openers] == [0, 0, 0]
    seen = []
    while not failures.empty():
        seen.append(failures.get())
    assert seen == []
    version = sqlite3.connect(tmp_path / "fresh-39.db").execute("PRAGMA user_version")
    assert version.fetchone()[0] == SqliteStore(tmp_path / "again.db").schema_version


# -- damaged, read-only and full files --------------------------------------------------------


def _damage_a_table(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name='scans'").fetchone()[0]
    data = bytearray(db.read_bytes())
    start = (root - 1) * page_size
    data[start : start + 64] = b"\xa5" * 64  # the table's b-tree page header and cells
    db.write_bytes(bytes(data))


def test_a_damaged_table_is_one_line_before_anything_is_crawled(
    tmp_path: Path, sources: str, site: Server
) -> None:
    db = tmp_path / "x.db"
    assert _run(_scan_args(site.base, sources, db)).returncode == 1
    _damage_a_table(db)
    with pytest.raises(StoreError, match="the database is damaged"):
        open_store(db, check=True)
    before = len(site.paths())
    done = _run(_scan_args(site.base, sources, db))
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert line.startswith(f"xpostcheck: error: {db}: the database is damaged (")
    assert line.endswith(
        "restore it from a backup, or choose another --db (sqlite3's .recover "
        "command can save what is left)"
    )
    assert len(site.paths()) == before  # nothing was fetched


def test_a_database_full_during_the_scan_is_one_line_exit_3(tmp_path: Path) -> None:
    def capped(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA max_page_count=40")  # SQLite's own "database or disk is full"
        return conn

    store = SqliteStore(tmp_path / "x.db", connect=capped)
    scan_id = store.begin_scan("k", "2026-01-01T00:00:00+00:00")
    with pytest.raises(StoreError) as err:
        store.note_sources(scan_id, {f"https://p.example/{n}": "x" * 64 for n in range(5000)})
    assert err.value.exit_code == 3
    assert str(err.value) == (
        f"{tmp_path / 'x.db'}: the disk is full (database or disk is full); free some space, "
        "then run the scan again"
    )
    store.close()


def _namespace() -> None:
    if not shutil.which("unshare"):
        pytest.skip("needs unshare(1) to mount a tmpfs or a read-only folder")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip("user namespaces are not available here")


def test_a_full_disk_is_one_line_naming_the_file(
    tmp_path: Path, sources: str, site: Server
) -> None:
    _namespace()
    disk = tmp_path / "disk"
    disk.mkdir()
    args = " ".join(f"'{a}'" for a in _scan_args(site.base, sources, disk / "x.db"))
    # A 256 KiB tmpfs: the database and its index fill it during the scan.
    script = f"mount -t tmpfs -o size=256k tmpfs '{disk}' && exec {args}"
    done = _run(["unshare", "-rm", "sh", "-c", script])
    assert done.returncode in (2, 3), done.stderr
    line = _one_error_line(done.stderr)
    assert str(disk) in line
    assert "No space left on device" in line or "the disk is full" in line, line


def test_a_read_only_database_is_one_line_before_the_crawl(
    tmp_path: Path, sources: str, site: Server
) -> None:
    _namespace()
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "x.db"
    assert _run(_scan_args(site.base, sources, db)).returncode == 1
    before = len(site.paths())
    args = " ".join(f"'{a}'" for a in _scan_args(site.base, sources, db))
    script = (
        f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' && exec {args}"
    )
    done = _run(["unshare", "-rm", "sh", "-c", script])
    assert done.returncode == 2, done.stderr
    line = _one_error_line(done.stderr)
    assert str(db) in line and ("read-only" in line.lower()), line
    assert len(site.paths()) == before


def test_a_damaged_index_is_rebuilt_with_a_warning(
    tmp_path: Path, sources: str, site: Server
) -> None:
    db = tmp_path / "x.db"
    assert _run(_scan_args(site.base, sources, db)).returncode == 1
    index = Path(f"{db}.index")
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte of postings or text
    index.write_bytes(bytes(data))
    done = _run(_scan_args(site.base, sources, db))
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines()[0] == (
        f"WARNING xpostcheck.pipeline.begin: {index}: the index is damaged (its checksum does "
        "not match its contents); delete the file so that the next scan rebuilds it; "
        "rebuilding it from the sources of this scan"
    )
    again = _run(_scan_args(site.base, sources, db))
    assert again.returncode == 1 and "damaged" not in again.stderr
