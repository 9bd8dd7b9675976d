"""The PostgreSQL store beyond the contract: opening errors, migrations from several processes
at once, the scan's advisory lock, concurrent writers, and running without psycopg."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from xpostcheck.errors import StoreError
from xpostcheck.models import Copy, Fetched, Finding, Passage, Report, ScanInfo
from xpostcheck.store import open_store
from xpostcheck.store.backend import scan_lock
from xpostcheck.store.base import HeldLock
from xpostcheck.store.schema import MIGRATIONS
from xpostcheck.util.lock import LockBusy

REPO = Path(__file__).resolve().parents[2]


def fresh(pg_url: str, name: str) -> str:
    from tests.pgserver import create_database

    return create_database(pg_url, name)


def fetched(url: str, body: bytes, at: str = "2024-05-06T06:00:01+00:00") -> Fetched:
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html"),),
        body=body,
        text=body.decode(),
        encoding="utf-8",
        fetched_at=at,
        content_hash=hashlib.sha256(body).hexdigest(),
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


# --- opening -----------------------------------------------------------------------------------


def test_a_server_that_is_down_is_one_line_without_the_password() -> None:
    url = f"postgresql://scanner:s3cret@127.0.0.1:{_closed_port()}/xpost"
    with pytest.raises(StoreError) as err:
        open_store(url)
    text = str(err.value)
    assert text.startswith(
        f"postgresql://scanner:***@127.0.0.1:{url.split(':')[3]}: cannot connect"
    )
    assert "check that the server is up" in text
    assert "s3cret" not in text and err.value.exit_code == 2


def test_a_missing_database_says_to_create_it(pg_url: str) -> None:
    base = pg_url.rpartition("/")[0]
    with pytest.raises(StoreError) as err:
        open_store(f"{base}/no_such_db?password=hunter2")
    text = str(err.value)
    assert 'database "no_such_db" does not exist' in text
    assert "create the database" in text
    assert "hunter2" not in text and "password=***" in text


def test_an_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://u:pw@h/db")


def test_someone_elses_scans_table_is_refused(pg_url: str) -> None:
    import psycopg

    url = fresh(pg_url, "foreign_tables")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE scans (id int)")
    with pytest.raises(StoreError, match="holds a table 'scans' but no xpostcheck schema"):
        open_store(url)


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    import psycopg

    url = fresh(pg_url, "newer_schema")
    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE xpostcheck_schema SET version = 99")
    with pytest.raises(StoreError) as err:
        open_store(url)
    assert str(err.value) == (
        f"{url}: the database has schema version 99, newer than this xpostcheck knows "
        f"({len(MIGRATIONS)}); upgrade xpostcheck"
    )


# --- migrations from several processes at once -------------------------------------------------


def _open_and_report(url: str, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    try:
        with open_store(url) as store:
            out.put(("ok", store.schema_version))  # type: ignore[attr-defined]
    except Exception as exc:  # the test reports what went wrong
        out.put(("error", repr(exc)))  # type: ignore[attr-defined]


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(pg_url: str) -> None:
    import psycopg

    url = fresh(pg_url, "migrate_at_once")
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_open_and_report, args=(url, start, out)) for _ in range(6)]
    for proc in procs:
        proc.start()
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert results == [("ok", len(MIGRATIONS))] * 6
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM xpostcheck_schema").fetchall() == [
            (len(MIGRATIONS),)
        ]
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'pages'"
        ).fetchone()
        assert tables == (1,)


# --- the scan lock -----------------------------------------------------------------------------


def test_the_scan_lock_is_one_scan_at_a_time(pg_url: str) -> None:
    url = fresh(pg_url, "scan_lock")
    waits: list[str] = []
    first = scan_lock(url, wait=False, on_wait=waits.append)
    assert first is not None
    with pytest.raises(LockBusy) as err:
        scan_lock(url, wait=False, on_wait=waits.append)
    assert err.value.exit_code == 3
    assert f"another scan of this database is running (xpostcheck scan pid {os.getpid()})" in str(
        err.value
    )
    asked = threading.Event()
    got: list[HeldLock | None] = []

    def on_wait(message: str) -> None:
        waits.append(message)
        asked.set()

    waiter = threading.Thread(target=lambda: got.append(scan_lock(url, wait=True, on_wait=on_wait)))
    waiter.start()
    assert asked.wait(timeout=30)
    assert got == []  # still waiting
    first.release()
    first.release()  # a second release does nothing
    waiter.join(timeout=30)
    assert len(got) == 1 and waits == [
        f"waiting for another scan of {url} to finish (xpostcheck scan pid {os.getpid()}) ..."
    ]
    assert got[0] is not None
    got[0].release()
    assert scan_lock("x.db", wait=False, on_wait=waits.append) is None  # SQLite: a file lock


# --- several writers at once -------------------------------------------------------------------


def test_writers_of_one_scan_on_several_connections_lose_nothing(pg_url: str) -> None:
    """Workers write the pages of different sites of one scan at once, each through a store
    of its own; a retried worker writes its pages again. One row per page, all evidence."""
    url = fresh(pg_url, "writers")
    with open_store(url) as store:
        scan_id = store.begin_scan("k", "2024-05-06T06:00:00+00:00", "fp")

    def worker(site: int) -> None:
        with open_store(url) as mine:
            for attempt in range(2):  # the second attempt is the retried job
                for n in range(10):
                    page = f"http://site{site}.example/p{n}"
                    mine.record_page(
                        scan_id,
                        fetched(page, f"<p>{site}/{n}/{attempt}</p>".encode()),
                        is_copy=True,
                    )

    threads = [threading.Thread(target=worker, args=(site,)) for site in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM pages").fetchone() == (
            40,
            40,
        )
        assert conn.execute("SELECT count(*) FROM evidence").fetchone() == (40,)
        assert conn.execute("SELECT count(*) FROM warc_records").fetchone() == (40,)
    with open_store(url) as store:
        from xpostcheck.store.evidence import read_responses

        blob = store.evidence("http://site3.example/p7")
        assert blob is not None
        assert [r.body for r in read_responses(blob)] == [b"<p>3/7/1</p>"]


def test_a_nul_character_from_a_hostile_page_does_not_cost_the_report(pg_url: str) -> None:
    url = fresh(pg_url, "nul_text")
    finding = Finding("link", "link_to_original", False, "error", "no link", "Cred\x00it")
    copy = Copy(
        url="http://blog.example/a",
        site="blog.example",
        source_url="https://pub.example/a",
        coverage=0.9,
        kind="full",
        verdict="violation",
        passages=(Passage(0, 10, 0, 10),),
        checks=(finding,),
        title="T\x00",
    )
    started = "2024-05-06T06:00:00+00:00"
    report = Report(scan=ScanInfo(started, started, 1, 1, rules="pub"), copies=(copy,))
    with open_store(url) as store:
        scan_id = store.begin_scan("k", started, "fp")
        store.finish_scan(scan_id, report)
        back = store.report(scan_id)
    assert back is not None
    assert back.copies[0].checks[0].evidence == "Cred\ufffdit"
    assert back.copies[0].title == "T\ufffd"


# --- without psycopg ---------------------------------------------------------------------------


def test_without_psycopg_sqlite_works_and_postgresql_says_what_to_install(tmp_path: Path) -> None:
    script = """
import sys
sys.modules["psycopg"] = None  # as if it were not installed
import xpostcheck
from xpostcheck.store import open_store
from xpostcheck.errors import StoreError
with open_store(sys.argv[1]) as store:
    print(store.schema_version)
try:
    open_store("postgresql://u:pw@127.0.0.1/db")
except StoreError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(len(MIGRATIONS))
    assert lines[1].startswith("postgresql://u:***@127.0.0.1/db: a PostgreSQL store needs psycopg")
    assert lines[1].endswith("install it with pip install 'xpostcheck[postgres]'")


def test_a_scan_refuses_a_user_that_may_not_write(pg_url: str) -> None:
    import psycopg

    url = fresh(pg_url, "read_only_user")
    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS reader")
        conn.execute("CREATE ROLE reader LOGIN")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    reader = url.replace("postgres@", "reader@")
    with open_store(reader) as store:  # reading is fine: history, report
        assert store.history() == []
    with pytest.raises(StoreError, match="may not write the scan tables"):
        open_store(reader, check=True)
