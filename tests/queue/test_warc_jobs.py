"""`scan --warc FILE|URL... --queue`: one job per WARC file on real `xpostcheck worker`
processes, against a throwaway PostgreSQL server (`pg_url`) and WARC files written by
tests/warcfix.py (our own pages). The queued scan must give the copies, verdicts, candidates
and skipped records of the in-process `scan --warc` of the same files.

Bounded: a few small archives; every wait has a deadline.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import string
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from loopback import Server
from qweb import Workers, finished, in_thread
from warcfix import RULES, articles, queued_settings, site_pages, write_sources, write_warc

from xpostcheck.errors import ConfigError
from xpostcheck.models import Copy, Report, SkipCode
from xpostcheck.pipeline.warcscan import run_warc_scan
from xpostcheck.queue.scans import run_queued_scan
from xpostcheck.queue.tables import QueueDB

_names = itertools.count()
SITE_A = "https://shore-a.example"
SITE_B = "https://shore-b.example"
SITE_C = "https://shore-c.example"


@pytest.fixture()
def queue_db(pg_url: str) -> str:
    from tests.pgserver import create_database

    return create_database(pg_url, f"w{os.getpid()}_{next(_names)}")


def _records(base: str, pages: dict[str, str]) -> list[Any]:
    """The site's pages as WARC records, its copies first."""
    order = sorted(pages, key=lambda p: (not p.startswith("/posts/"), p))
    return [(base + p, "200 OK", pages[p].encode()) for p in order]


def _key(report: Report) -> list[tuple[Any, ...]]:
    """What the two scans must agree on, copy by copy."""

    def one(c: Copy) -> tuple[Any, ...]:
        checks = tuple((f.rule, f.passed) for f in c.checks)
        return (c.url, c.source_url, c.kind, c.verdict, round(c.coverage, 6), checks, c.record)

    return sorted(one(c) for c in report.copies)


def _skips(report: Report) -> list[tuple[str, str, str]]:
    return sorted((s.url, s.code.value, s.reason) for s in report.skipped)


def _wait_for(queue_db: str, sql: str, at_least: int, workers: Workers | None = None) -> None:
    deadline = time.monotonic() + 60
    with QueueDB.open(queue_db) as db:
        while time.monotonic() < deadline:
            row = db.one(sql)
            if row and row[0] >= at_least:
                return
            time.sleep(0.05)
    pytest.fail(f"waited 60 s for {sql!r} >= {at_least}\n" + (workers.logs() if workers else ""))


@pytest.fixture()
def archives(tmp_path: Path) -> list[Path]:
    """Site A in one file; site B and a second capture of one of A's copies in another; site
    C cut short (its last record truncated); and a file that is no WARC at all."""
    arts = articles()
    pages = site_pages(arts)
    a = write_warc(tmp_path / "a.warc.gz", _records(SITE_A, pages))
    again = (SITE_A + "/posts/one.html", "200 OK", pages["/posts/one.html"].encode())
    b = write_warc(tmp_path / "b.warc.gz", [*_records(SITE_B, pages), again])
    c_full = write_warc(tmp_path / "c-full.warc.gz", _records(SITE_C, pages))
    c = tmp_path / "c.warc.gz"
    c.write_bytes(c_full.read_bytes()[:-300])
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not a WARC file\n" * 40)
    return [a, b, c, junk]


def test_one_job_per_file_gives_the_in_process_scan_s_report(
    tmp_path: Path, queue_db: str, archives: list[Path]
) -> None:
    reference = run_warc_scan(
        queued_settings(tmp_path, str(tmp_path / "ref.db"), archives), [str(p) for p in archives]
    ).report
    # what the fixture holds: three copies a site, a second capture, bad records
    assert len(reference.copies) == 9
    assert {s.code for s in reference.skipped} == {SkipCode.DUPLICATE, SkipCode.SOURCE}
    assert [c.copies for c in reference.candidates] == [3, 3, 3]

    # a fifth file, readable here but gone when its job runs: skipped, never a lost report
    gone = write_warc(tmp_path / "gone.warc.gz", _records("https://shore-d.example", {}))
    workers = Workers(queue_db, queue_db, tmp_path)
    thread, out = in_thread(queued_settings(tmp_path, queue_db, [*archives, gone]), queue_db)
    _wait_for(queue_db, "SELECT count(*) FROM xpostcheck_q_units", 5)
    gone.unlink()
    workers.start(2)
    try:
        result = finished(thread, out, workers)
    finally:
        codes = workers.stop()
    assert codes == [0, 0], workers.logs()
    report = result.report
    assert _key(report) == _key(reference)
    assert report.candidates == reference.candidates
    assert report.scan.pages_fetched == reference.scan.pages_fetched
    assert report.scan.sites == (*(str(p) for p in archives), str(gone))
    extra = [s for s in _skips(report) if s not in _skips(reference)]
    assert _skips(reference) == [s for s in _skips(report) if s not in extra]
    assert len(extra) == 1 and extra[0][:2] == (str(gone), "source")
    assert "cannot read this WARC file (no such file)" in extra[0][2]
    assert "readable at the same path on every worker" in extra[0][2]
    with QueueDB.open(queue_db, setup=False) as db:
        assert db.one("SELECT state FROM xpostcheck_q_scans") == ("delivered",)
        assert db.one("SELECT count(*) FROM xpostcheck_q_units WHERE state = 'done'") == (5,)
        warcs = db.all("SELECT unit->>'warc' FROM xpostcheck_q_units ORDER BY n")
    assert warcs == [(str(p),) for p in [*archives, gone]]  # one job per file, in order


def _trickle(data: bytes, pieces: int, pause: float, hold: threading.Event) -> Any:
    """A route sending `data` in `pieces` parts, `pause` seconds apart, the last one only
    once `hold` is set (so a worker streaming it is still mid-file when the test kills it,
    however loaded the machine)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/warc")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        step = -(-len(data) // pieces)
        try:
            for i in range(0, len(data), step):
                if i + step >= len(data):
                    hold.wait(timeout=60)
                handler.wfile.write(data[i : i + step])
                handler.wfile.flush()
                time.sleep(pause)
        except OSError:  # the killed worker hung up
            pass

    return route


@pytest.fixture()
def slow_warc(tmp_path: Path) -> Iterator[tuple[Server, Path, threading.Event]]:
    pages = site_pages(articles())
    # Pages of no copy after the copies, so the file is several of the reader's buffers long
    # and its copies are read, analysed and recorded before its last part comes.
    rng = random.Random(7)
    for n in range(40):
        words = " ".join("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(900))
        pages[f"/notes/{n}.html"] = f"<html><body><p>{words}</p></body></html>"
    path = write_warc(tmp_path / "slow.warc.gz", _records(SITE_A, pages))
    assert path.stat().st_size > 3 * 65536
    hold = threading.Event()
    with Server({"/slow.warc.gz": _trickle(path.read_bytes(), 12, 0.1, hold)}) as server:
        yield server, path, hold
    hold.set()


def test_a_worker_killed_mid_file_records_nothing_twice(
    tmp_path: Path, queue_db: str, slow_warc: tuple[Server, Path, threading.Event]
) -> None:
    server, path, hold = slow_warc
    url = server.base + "/slow.warc.gz"
    reference = run_warc_scan(
        queued_settings(tmp_path, str(tmp_path / "ref.db"), [path]), [str(path)]
    )
    workers = Workers(queue_db, queue_db, tmp_path, heartbeat=1.0)
    (victim,) = workers.start(1)
    try:
        thread, out = in_thread(queued_settings(tmp_path, queue_db, [url]), queue_db)
        _wait_for(queue_db, "SELECT count(*) FROM xpostcheck_q_pages", 1, workers)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        with QueueDB.open(queue_db, setup=False) as db:
            assert db.one("SELECT state FROM xpostcheck_q_units") == ("todo",)
        hold.set()  # the file's last part, for the worker that runs the job again
        workers.start(1)  # finds the dead worker's job and runs it again
        result = finished(thread, out, workers)
    finally:
        workers.stop()
    # the same copies and verdicts; the records name the URL the worker streamed
    assert [k[:6] for k in _key(result.report)] == [k[:6] for k in _key(reference.report)]
    assert all(c.record.startswith(url + "#") for c in result.report.copies)
    assert result.report.candidates == reference.report.candidates
    scan_id = result.report.scan.scan_id
    assert scan_id is not None
    import psycopg

    with psycopg.connect(queue_db) as conn:
        for table in ("pages", "copies"):
            dupes = conn.execute(
                f"SELECT count(*) FROM (SELECT url FROM {table} WHERE scan_id = %s "
                "GROUP BY url, " + ("url" if table == "pages" else "source_url") + " "
                "HAVING count(*) > 1) AS d",
                (scan_id,),
            ).fetchone()
            assert dupes == (0,), table
    with QueueDB.open(queue_db, setup=False) as db:
        assert db.one("SELECT attempts, state FROM xpostcheck_q_units") == (2, "done")
    # the stream was asked for twice (the killed job's and the rerun's), one at a time
    assert [p for p in server.paths() if p.endswith(".warc.gz")] == ["/slow.warc.gz"] * 2


def test_a_local_file_the_command_cannot_read_is_refused_before_queueing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.warc.gz"
    settings = queued_settings(tmp_path, "postgresql://nobody@127.0.0.1:9/none", [missing])
    with pytest.raises(ConfigError) as caught:
        run_queued_scan(settings, settings.db)
    message = str(caught.value)
    assert str(missing) in message and "no such file" in message
    assert "readable at this same path on every worker" in message


def test_scan_warc_queue_names_the_unreadable_file_and_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xpostcheck.cli.main import main

    sources = write_sources(tmp_path / "sources.jsonl", articles())
    missing = tmp_path / "missing.warc.gz"
    args = ["scan", "--warc", str(missing), "--queue", "-s", str(sources), "-r", str(RULES)]
    args += ["--db", "postgresql://nobody@127.0.0.1:9/none"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"{missing}: cannot read WARC file: no such file; with --queue" in result.output
