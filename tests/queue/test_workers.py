"""Queued scans on real `xpostcheck worker` processes, against a throwaway PostgreSQL server
(the `pg_url` fixture) and loopback sites that log every request's start and end.

Bounded: a few hosts of a few pages each, short delays; every wait has a deadline.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from qweb import RULES, Host, Workers, build_web, finished, in_thread, min_gap, overlaps, verdicts

from xpostcheck.config import Settings
from xpostcheck.pipeline.scan import run_scan
from xpostcheck.queue.scans import run_queued_scan
from xpostcheck.queue.schedule import add_schedule, due_schedules, list_schedules
from xpostcheck.queue.tables import QueueDB

DELAY = 0.15
_names = itertools.count()


@pytest.fixture()
def queue_db(pg_url: str) -> str:
    from tests.pgserver import create_database

    return create_database(pg_url, f"q{os.getpid()}_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgres"])
def store_db(request: pytest.FixtureRequest, tmp_path: Path, queue_db: str) -> str:
    """The workers' store: a SQLite file on this machine, or the queue's own PostgreSQL
    database (store and queue in one database, as deployed)."""
    return str(tmp_path / "q.db") if request.param == "sqlite" else queue_db


@pytest.fixture()
def web(tmp_path: Path) -> Iterator[tuple[list[Host], Path]]:
    hosts, sources = build_web(4, 3, latency=0.02)
    path = tmp_path / "sources.jsonl"
    path.write_text(sources, encoding="utf-8")
    try:
        yield hosts, path
    finally:
        for host in hosts:
            host.close()


def _settings(db: Path | str, sources: Path, hosts: list[Host]) -> Settings:
    return Settings(
        sources=(str(sources),),
        rules=RULES,
        sites=tuple(h.base + "/" for h in hosts),
        db=str(db),
        delay=DELAY,
        workers=1,
        timeout=10.0,
    )


def test_a_queued_scan_finds_what_an_in_process_scan_finds_and_keeps_hosts_polite(
    tmp_path: Path, queue_db: str, store_db: str, web: tuple[list[Host], Path]
) -> None:
    hosts, sources = web
    reference = run_scan(_settings(tmp_path / "ref.db", sources, hosts)).report
    assert len(reference.copies) == 8 and len(reference.violations) == 4
    for host in hosts:
        host.reset()
    workers = Workers(store_db, queue_db, tmp_path)
    workers.start(2)
    try:
        thread, out = in_thread(_settings(store_db, sources, hosts), queue_db)
        result = finished(thread, out, workers)
    finally:
        codes = workers.stop()
    assert codes == [0, 0], workers.logs()  # SIGTERM: the current job ends, then exit 0
    assert verdicts(result.report) == verdicts(reference)
    assert result.report.scan.pages_fetched == reference.scan.pages_fetched == 16
    for host in hosts:
        paths = [entry[2] for entry in host.log]
        assert len(paths) == len(set(paths)) and {"/", "/p0", "/p1", "/p2"} <= set(paths)
        assert overlaps(host) == 0
        gap = min_gap(host)
        assert gap is not None and gap >= DELAY * 0.95, (host.base, gap)
    with QueueDB.open(queue_db, setup=False) as db:
        assert db.one("SELECT state FROM xpostcheck_q_scans") == ("delivered",)


_DUPES = (
    "SELECT count(*) FROM (SELECT url FROM pages WHERE scan_id = {p} GROUP BY url "
    "HAVING count(*) > 1) AS d",
    "SELECT count(*) FROM (SELECT url, source_url FROM copies WHERE scan_id = {p} "
    "GROUP BY url, source_url HAVING count(*) > 1) AS d",
)


def _dupes(db: str, scan_id: int) -> tuple[int, ...]:
    """Duplicated page rows and copy rows of the scan in the store."""
    if "://" in db:
        import psycopg

        with psycopg.connect(db) as conn:
            return tuple(
                conn.execute(q.format(p="%s"), (scan_id,)).fetchone()[0]  # type: ignore[index]
                for q in _DUPES
            )
    with sqlite3.connect(db) as lite:
        return tuple(lite.execute(q.format(p="?"), (scan_id,)).fetchone()[0] for q in _DUPES)


def test_a_worker_killed_mid_job_loses_nothing_and_records_nothing_twice(
    tmp_path: Path, queue_db: str, store_db: str
) -> None:
    hosts, text = build_web(2, 6, latency=0.15)
    sources = tmp_path / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    try:
        reference = run_scan(_settings(tmp_path / "ref.db", sources, hosts)).report
        workers = Workers(store_db, queue_db, tmp_path, heartbeat=1.0)
        (victim,) = workers.start(1)
        try:
            thread, out = in_thread(_settings(store_db, sources, hosts), queue_db)
            deadline = time.monotonic() + 60
            with QueueDB.open(queue_db) as db:
                while time.monotonic() < deadline:  # some pages of the first site recorded
                    row = db.one("SELECT count(*) FROM xpostcheck_q_pages")
                    if row and row[0] >= 3:
                        break
                    time.sleep(0.05)
                else:
                    pytest.fail("the worker recorded no page in 60 s:\n" + workers.logs())
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=10)
                assert db.one("SELECT count(*) FROM xpostcheck_q_units WHERE state = 'todo'") == (
                    2,
                )
            workers.start(1)  # finds the dead worker's job and runs it again
            result = finished(thread, out, workers)
        finally:
            workers.stop()
        assert verdicts(result.report) == verdicts(reference)
        assert result.report.scan.pages_fetched == reference.scan.pages_fetched
        scan_id = result.report.scan.scan_id
        assert scan_id is not None
        assert _dupes(store_db, scan_id) == (0, 0)
        with QueueDB.open(queue_db, setup=False) as db:
            attempts = db.all("SELECT attempts FROM xpostcheck_q_units ORDER BY n")
        assert sorted(attempts) == [(1,), (2,)]  # the killed unit ran twice, the other once
        for host in hosts:  # the killed crawl and its rerun never overlapped on their host
            assert overlaps(host) == 0
    finally:
        for host in hosts:
            host.close()


def test_periodic_scans_are_claimed_once_when_due(queue_db: str, tmp_path: Path) -> None:
    settings = Settings(
        sources=("a.jsonl",),
        rules="globalresearch",
        sites=("https://a.example/",),
        db=str(tmp_path / "x.db"),
    )
    with QueueDB.open(queue_db) as db:
        added = add_schedule(db, "nightly", "0 3 * * *", settings)
        assert (added.name, added.cron, added.last_run) == ("nightly", "0 3 * * *", None)
        assert added.next_run.endswith("03:00:00+00:00")
        later = datetime.now(timezone.utc) + timedelta(days=1, minutes=1)
        assert due_schedules(db, later) == ["nightly"]
        assert due_schedules(db, later) == []  # claimed: a second tick starts nothing
        assert due_schedules(db, later + timedelta(days=1)) == ["nightly"]
        assert [s.sites for s in list_schedules(db)] == [("https://a.example/",)]


def test_a_site_failing_every_attempt_is_reported_skipped_and_the_scan_goes_on(
    tmp_path: Path, queue_db: str
) -> None:
    from xpostcheck.queue.context import WorkerContext
    from xpostcheck.queue.run import run_finish, run_site
    from xpostcheck.queue.scans import start_scan
    from xpostcheck.queue.tables import QueueError
    from xpostcheck.store import open_store

    hosts, text = build_web(2, 3, latency=0.0)
    sources = tmp_path / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    ctx = WorkerContext(url=queue_db, store=str(tmp_path / "q.db"))
    try:
        settings = _settings(tmp_path / "q.db", sources, hosts)
        scan, queued, units = start_scan(settings, queue_db, waiting=True)
        store_scan = scan.scan_id
        scan.close()
        run_site(ctx, queued, 0)
        with QueueDB.open(queue_db, setup=False) as db:
            good = db.one("SELECT fingerprint FROM xpostcheck_q_scans")
            assert good is not None
            db.run("UPDATE xpostcheck_q_scans SET fingerprint = 'elsewhere'")
            with pytest.raises(QueueError, match="differ from the ones scan"):
                run_site(ctx, queued, 1, attempt=0)  # procrastinate retries it
            assert db.one("SELECT state, attempts FROM xpostcheck_q_units WHERE n = 1") == (
                "todo",
                1,
            )
            with pytest.raises(QueueError):
                run_site(ctx, queued, 1, attempt=3)  # the last attempt
            assert db.one("SELECT state FROM xpostcheck_q_units WHERE n = 1") == ("failed",)
            assert db.one("SELECT finish_queued FROM xpostcheck_q_scans") == (True,)
            db.run("UPDATE xpostcheck_q_scans SET fingerprint = %s", good)
        run_finish(ctx, queued)
        with open_store(str(tmp_path / "q.db")) as store:
            report = store.report(store_scan)
        assert report is not None
        assert {c.url.rsplit("/", 1)[0] for c in report.copies} == {hosts[0].base}
        (skip,) = report.skipped
        assert skip.url == units[1].sites[0]
        assert skip.reason.startswith("site job failed 4 times: ")
    finally:
        ctx.close()
        for host in hosts:
            host.close()


def test_sigterm_lets_the_running_job_end_then_the_worker_exits_0(
    tmp_path: Path, queue_db: str
) -> None:
    hosts, text = build_web(1, 6, latency=0.15)
    sources = tmp_path / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    workers = Workers(str(tmp_path / "q.db"), queue_db, tmp_path)
    (first,) = workers.start(1)
    try:
        thread, out = in_thread(_settings(tmp_path / "q.db", sources, hosts), queue_db)
        with QueueDB.open(queue_db) as db:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = db.one("SELECT count(*) FROM xpostcheck_q_pages")
                if row and row[0] >= 2:
                    break
                time.sleep(0.05)
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=60) == 0, workers.logs()
            assert db.one("SELECT state, attempts FROM xpostcheck_q_units") == ("done", 1)
        workers.start(1)  # runs the finishing job
        result = finished(thread, out, workers)
        assert len(result.report.copies) == 4
    finally:
        workers.stop()
        for host in hosts:
            host.close()


def test_a_periodic_scan_added_by_command_runs_on_the_workers_and_writes_its_report(
    tmp_path: Path, queue_db: str
) -> None:
    import json

    from click.testing import CliRunner

    from xpostcheck.cli.main import main
    from xpostcheck.queue.defer import START_TASK, defer

    hosts, text = build_web(2, 3, latency=0.0)
    (tmp_path / "sources.jsonl").write_text(text, encoding="utf-8")
    report = tmp_path / "nightly.json"
    sites = ", ".join(f'"{h.base}/"' for h in hosts)
    (tmp_path / "nightly.toml").write_text(
        f'sources = ["{tmp_path / "sources.jsonl"}"]\nrules = "{RULES}"\nsites = [{sites}]\n'
        f'format = "json"\noutput = "{report}"\ndelay = {DELAY}\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "q.db")
    runner = CliRunner()
    common = ["--db", db, "--queue-db", queue_db]
    bad = runner.invoke(main, ["schedule", "add", "nightly", "0 3 * *", *common])
    assert bad.exit_code == 2 and "not a cron expression" in bad.output
    added = runner.invoke(
        main,
        [
            "schedule",
            "add",
            "nightly",
            "0 3 * * *",
            "--config",
            str(tmp_path / "nightly.toml"),
            *common,
        ],
    )
    assert added.exit_code == 0, added.output
    assert added.output.startswith("nightly: '0 3 * * *', next run ")
    listed = runner.invoke(main, ["schedule", "list", *common])
    assert listed.exit_code == 0 and listed.output.startswith("nightly  '0 3 * * *'  last never")
    assert listed.output.rstrip().endswith("2 sites")
    defer(queue_db, START_TASK, schedule="nightly")  # what the tick does when it is due
    workers = Workers(db, queue_db, tmp_path)
    workers.start(2)
    try:
        with QueueDB.open(queue_db, setup=False) as qdb:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if qdb.one("SELECT state FROM xpostcheck_q_scans") == ("delivered",):
                    break
                time.sleep(0.2)
            else:
                pytest.fail("the periodic scan did not finish in 90 s:\n" + workers.logs())
    finally:
        workers.stop()
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"]["copies"] == 4 and data["summary"]["new_violations"] == 2
    removed = runner.invoke(main, ["schedule", "remove", "nightly", *common])
    assert removed.exit_code == 0 and removed.output == "removed nightly\n"
    gone = runner.invoke(main, ["schedule", "remove", "nightly", *common])
    assert gone.exit_code == 2 and "no periodic scan named 'nightly'" in gone.output


def test_scan_queue_on_postgresql_writes_the_report_and_exits_with_the_usual_code(
    tmp_path: Path, queue_db: str, web: tuple[list[Host], Path]
) -> None:
    import json
    import subprocess
    import sys

    hosts, sources = web
    reference = run_scan(_settings(tmp_path / "ref.db", sources, hosts)).report
    workers = Workers(queue_db, queue_db, tmp_path)
    workers.start(2)
    try:
        args = [sys.executable, "-m", "xpostcheck.cli.main", "scan", "--queue", "--db", queue_db]
        args += ["-s", str(sources), "-r", RULES, "--delay", str(DELAY), "--workers", "1"]
        args += ["-f", "json", "-o", str(tmp_path / "out.json")]
        args += [h.base + "/" for h in hosts]
        done = subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    finally:
        workers.stop()
    assert done.returncode == 1, done.stderr + workers.logs()  # violations found
    assert done.stderr.strip().splitlines()[-1].startswith("xpostcheck: 8 copies, 4 violations")
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    got = sorted((c["url"], c["source_url"], c["kind"], c["verdict"]) for c in data["copies"])
    assert got == verdicts(reference)
    assert data["summary"]["new_violations"] == 4


def test_a_queued_scan_that_fetches_nothing_fails_as_an_in_process_one_does(
    tmp_path: Path, queue_db: str
) -> None:
    import socket

    from xpostcheck.errors import ScanFailed

    hosts, text = build_web(1, 1, latency=0.0)
    sources = tmp_path / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    for host in hosts:
        host.close()
    workers = Workers(str(tmp_path / "q.db"), queue_db, tmp_path)
    with socket.socket() as sock:  # bound, never listening: the site refuses connections
        sock.bind(("127.0.0.1", 0))
        site = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        settings = Settings(
            sources=(str(sources),),
            rules=RULES,
            sites=(site,),
            db=str(tmp_path / "q.db"),
            workers=1,
            timeout=5.0,
        )
        workers.start(1)
        try:
            with pytest.raises(ScanFailed, match="no page could be fetched: every site is "):
                run_queued_scan(settings, queue_db)
        finally:
            workers.stop()
    with QueueDB.open(queue_db, setup=False) as db:
        assert db.one("SELECT state FROM xpostcheck_q_scans") == ("failed",)


def test_two_scans_of_the_same_hosts_at_once_never_overlap_on_a_host(
    tmp_path: Path, queue_db: str
) -> None:
    hosts, text = build_web(2, 3, latency=0.05)
    sources = tmp_path / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    try:
        reference = run_scan(_settings(tmp_path / "ref.db", sources, hosts)).report
        for host in hosts:
            host.reset()
        workers = Workers(str(tmp_path / "a.db"), queue_db, tmp_path)
        workers.start(2)
        try:
            # two scans (two stores: one scan at a time holds a store), the same two hosts
            runs = [
                in_thread(_settings(tmp_path / f"{name}.db", sources, hosts), queue_db)
                for name in ("a", "b")
            ]
            results = [finished(thread, out, workers) for thread, out in runs]
        finally:
            workers.stop()
        for result in results:
            assert verdicts(result.report) == verdicts(reference)
        for host in hosts:
            paths = [entry[2] for entry in host.log]
            assert paths.count("/p0") == 2  # once per scan
            assert overlaps(host) == 0
            gap = min_gap(host)
            assert gap is not None and gap >= DELAY * 0.95, (host.base, gap)
    finally:
        for host in hosts:
            host.close()
