"""The SQLite store: opening, migrations, page states for conditional requests, copies."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from xpostcheck.errors import StoreError
from xpostcheck.models import Copy, Fetched, Finding, PageState, Passage, Report, ScanInfo
from xpostcheck.store import open_store
from xpostcheck.store.schema import MIGRATIONS
from xpostcheck.store.sqlite import SqliteStore

URL = "http://blog.example/posts/harbor.html"
SRC = "https://pub.example/harbor"


def fetched(
    url: str = URL,
    body: bytes = b"<p>harbor</p>",
    *,
    status: int = 200,
    etag: str | None = '"v1"',
    at: str = "2024-05-06T06:00:01+00:00",
    final_url: str | None = None,
) -> Fetched:
    headers = [("Content-Type", "text/html")]
    if etag:
        headers.append(("ETag", etag))
    if status == 200:
        headers.append(("Last-Modified", "Mon, 06 May 2024 05:00:00 GMT"))
    return Fetched(
        url=url,
        final_url=final_url or url,
        status=status,
        headers=tuple(headers),
        body=body if status == 200 else b"",
        text=body.decode() if status == 200 else "",
        encoding="utf-8",
        fetched_at=at,
        content_hash=hashlib.sha256(body).hexdigest() if status == 200 else "",
    )


def a_copy(url: str = URL, *, passed: bool = False) -> Copy:
    return Copy(
        url=url,
        site="blog.example",
        source_url=SRC,
        coverage=0.91,
        kind="full",
        verdict="compliant" if passed else "violation",
        passages=(Passage(0, 100, 20, 121), Passage(110, 300, 130, 320)),
        checks=(
            Finding("gr-link", "link_to_original", passed, "error", "m", "e"),
            Finding("gr-ads", "non_commercial", True, "warning", "no ads", None),
        ),
        title="Harbor",
        source_title="Harbor plan",
        fetched_at="2024-05-06T06:00:01+00:00",
    )


def a_report(started: str, *copies: Copy) -> Report:
    return Report(
        scan=ScanInfo(started, started, 1, 2, sites=("http://blog.example/",), rules="pub"),
        copies=copies,
    )


# --- opening ---------------------------------------------------------------------------------


def test_new_database_is_wal_and_migrated(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    assert isinstance(store, SqliteStore)
    assert store.schema_version == len(MIGRATIONS) == 8
    store.close()
    db = sqlite3.connect(tmp_path / "x.db")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (8,)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert tables == {
        "scans",
        "pages",
        "copies",
        "findings",
        "triage",
        "skipped",
        "resolved",
        "evidence",
        "sources",
        "page_texts",
        "open_findings",
        "observations",
    }
    open_store(tmp_path / "x.db").close()  # reopening migrates nothing and keeps the data


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p / "missing" / "x.db",
            "the database's folder does not exist; create it or choose another --db",
        ),
        (lambda p: p, "is a folder; give a database file path for --db"),
    ],
)
def test_unopenable_paths_are_named(tmp_path: Path, make, message) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert str(err.value) == f"{path}: {message}"


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert str(err.value) == (
        f"{path}: not a usable xpostcheck database (file is not a database); choose another --db"
    )


def test_someone_elses_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE recipes (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert str(err.value) == (
        f"{path}: this SQLite file holds other tables and no xpostcheck schema; choose another --db"
    )


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    open_store(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert str(err.value) == (
        f"{path}: the database has schema version 99, newer than this xpostcheck knows (8); "
        "upgrade xpostcheck"
    )


# --- pages -----------------------------------------------------------------------------------


def test_page_state_comes_from_finished_scans_and_survives_304(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    assert store.page_state(URL) is None
    s1 = store.begin_scan("k", "2024-05-06T06:00:00+00:00")
    store.record_page(s1, fetched(), is_copy=False)
    assert store.page_state(URL) is None  # the scan has not finished: it may yet crash
    store.finish_scan(s1, a_report("2024-05-06T06:00:00+00:00"))
    first = PageState(
        url=URL,
        etag='"v1"',
        last_modified="Mon, 06 May 2024 05:00:00 GMT",
        content_hash=hashlib.sha256(b"<p>harbor</p>").hexdigest(),
        fetched_at="2024-05-06T06:00:01+00:00",
        scan_id=s1,
    )
    assert store.page_state(URL) == first
    # A 304 without validators keeps what the full response said, with the new fetch time.
    s2 = store.begin_scan("k", "2024-05-13T06:00:00+00:00")
    store.record_page(
        s2, fetched(status=304, etag=None, at="2024-05-13T06:00:01+00:00"), is_copy=False
    )
    store.finish_scan(s2, a_report("2024-05-13T06:00:00+00:00"))
    assert store.page_state(URL) == PageState(
        url=URL,
        etag='"v1"',
        last_modified="Mon, 06 May 2024 05:00:00 GMT",
        content_hash=first.content_hash,
        fetched_at="2024-05-13T06:00:01+00:00",
        scan_id=s2,
    )
    store.close()


def test_page_state_by_requested_or_final_url(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    s1 = store.begin_scan("k", "t1")
    store.record_page(s1, fetched("http://blog.example/p?id=7", final_url=URL), is_copy=False)
    store.finish_scan(s1, a_report("t1"))
    by_request = store.page_state("http://blog.example/p?id=7")
    by_final = store.page_state(URL)
    store.close()
    assert by_request is not None and by_final is not None
    assert (by_request.url, by_request.etag) == ("http://blog.example/p?id=7", '"v1"')
    assert (by_final.url, by_final.etag) == (URL, '"v1"')


def test_previous_copies_from_the_latest_scan_that_fetched_the_page(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    assert store.previous_copies(URL) == []
    s1 = store.begin_scan("k", "t1")
    store.record_page(s1, fetched(), is_copy=True)
    r1 = store.finish_scan(s1, a_report("t1", a_copy()))
    # What comes back is the copy as annotated and stored, passages and all.
    assert store.previous_copies(URL) == list(r1.copies)
    assert store.previous_copies(URL + "?utm_source=feed") == list(r1.copies)
    assert r1.copies[0].passages == (Passage(0, 100, 20, 121), Passage(110, 300, 130, 320))
    # The page changed and holds no copy any more: nothing carries over.
    s2 = store.begin_scan("k", "t2")
    store.record_page(s2, fetched(body=b"<p>other</p>"), is_copy=False)
    store.finish_scan(s2, a_report("t2"))
    assert store.previous_copies(URL) == []
    store.close()


def test_persisted_report_reads_back(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    assert isinstance(store, SqliteStore)
    s1 = store.begin_scan("k", "t1")
    out = store.finish_scan(s1, a_report("t1", a_copy(), a_copy(URL + "2", passed=True)))
    assert out.scan.scan_id == s1
    assert store.report(s1) == out
    assert store.report(99) is None
    with pytest.raises(StoreError) as err:
        store.finish_scan(s1, out)
    assert str(err.value) == f"{tmp_path / 'x.db'}: scan #1 is already finished"
    with pytest.raises(StoreError) as err:
        store.finish_scan(42, out)
    assert str(err.value) == f"{tmp_path / 'x.db'}: no scan #42 was begun in this database"
    store.close()


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    """WAL lets a reader (e.g. `xpostcheck history`) look while a scan is writing."""
    writer = open_store(tmp_path / "x.db")
    s1 = writer.begin_scan("k", "t1")
    writer.finish_scan(s1, a_report("t1", a_copy()))
    reader = open_store(tmp_path / "x.db")
    s2 = writer.begin_scan("k", "t2")
    assert [(h.scan, h.finished) for h in reader.history()] == [(2, None), (1, "t1")]
    writer.finish_scan(s2, a_report("t2"))
    assert [h.resolved for h in reader.history()] == [1, 0]
    reader.close()
    writer.close()


def test_links_are_kept_and_survive_304(tmp_path: Path) -> None:
    """A hub page's in-site links outlive a 304 (which has no body to read them from)."""
    from dataclasses import replace

    hub_links = ("http://blog.example/a", "http://blog.example/b")
    store = open_store(tmp_path / "x.db")
    s1 = store.begin_scan("k", "t1")
    store.record_page(s1, replace(fetched(), links=hub_links), is_copy=False)
    store.finish_scan(s1, a_report("t1"))
    state = store.page_state(URL)
    assert state is not None and state.links == hub_links
    # Unchanged: the crawler may re-emit the links, or not; either way they are kept.
    again: list[tuple[str, tuple[str, ...]]] = [("t2", ()), ("t3", hub_links)]
    for scan, links in again:
        sid = store.begin_scan("k", scan)
        store.record_page(sid, replace(fetched(status=304), links=links), is_copy=False)
        store.finish_scan(sid, a_report(scan))
        state = store.page_state(URL)
        assert state is not None and (state.links, state.etag) == (hub_links, '"v1"')
    # A full fetch says what the page links to now, even when that is nothing.
    now: list[tuple[str, tuple[str, ...]]] = [("t4", ("http://blog.example/c",)), ("t5", ())]
    for scan, links in now:
        sid = store.begin_scan("k", scan)
        store.record_page(sid, replace(fetched(body=scan.encode()), links=links), is_copy=False)
        store.finish_scan(sid, a_report(scan))
        state = store.page_state(URL)
        assert state is not None and state.links == links
    store.close()


def test_a_version_2_database_gains_page_links(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + ";" + MIGRATIONS[1] + "; PRAGMA user_version=2;")
    db.execute("INSERT INTO scans (id, key, started, finished) VALUES (1, 'k', 't1', 't1')")
    db.execute(
        "INSERT INTO pages (scan_id, url, final_url, url_key, fetched_at, status, etag)"
        " VALUES (1, ?, ?, ?, 't1', 200, '\"old\"')",
        (URL, URL, URL),
    )
    db.commit()
    db.close()
    store = open_store(path)
    assert isinstance(store, SqliteStore) and store.schema_version == 8
    # Pages from before the migration have no links: the crawler fetches them in full once.
    assert store.page_state(URL) == PageState(URL, '"old"', None, None, "t1", links=(), scan_id=1)
    store.close()


def test_every_call_on_the_connection_holds_the_lock(tmp_path: Path) -> None:
    """Each statement runs while the store's lock is taken (probed from another thread); the
    connection is wrapped through the store's `connect` parameter."""
    import threading
    from dataclasses import replace

    from xpostcheck.store.sqlite import connect

    unlocked: list[str] = []
    stores: list[SqliteStore] = []

    def held() -> bool:
        free: list[bool] = []

        def probe() -> None:
            lock = stores[0]._lock
            if lock.acquire(blocking=False):
                lock.release()
                free.append(True)

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join()
        return not free

    class Guarded:
        def __init__(self, real: sqlite3.Connection) -> None:
            self.real = real

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            attr = getattr(self.real, name)
            if name not in ("execute", "executemany", "close") or not stores:
                return attr  # (opening and migrating: the store is not shared yet)

            def call(*args, **kwargs):  # type: ignore[no-untyped-def]
                if not held():
                    unlocked.append(f"{name} {str(args[0])[:40] if args else ''}")
                return attr(*args, **kwargs)

            return call

    store = SqliteStore(tmp_path / "x.db", connect=lambda path: Guarded(connect(path)))  # type: ignore[arg-type,return-value]
    stores.append(store)
    assert store.schema_version == 8
    s1 = store.begin_scan("k", "t1")
    store.record_page(s1, replace(fetched(), links=(URL + "/a",)), is_copy=True)
    store.finish_scan(s1, a_report("t1", a_copy()))
    s2 = store.begin_scan("k", "t2")
    store.record_page(s2, fetched(status=304), is_copy=True)
    out = store.finish_scan(s2, a_report("t2", a_copy()))
    assert store.page_state(URL) is not None
    assert len(store.previous_copies(URL)) == 1
    assert store.triage(URL, "licensed") == 1  # the failed check; never the passing one
    assert len(store.triage_marks(URL)) == 1
    assert [h.scan for h in store.history()] == [2, 1]
    assert store.report(s2) is not None and out.scan.scan_id == 2
    assert store.evidence(URL) is not None
    store.close()
    assert unlocked == []


def test_one_store_shared_by_threads(tmp_path: Path) -> None:
    """The crawler asks page_state from its scheduler thread while the scan records pages."""
    import threading

    store = open_store(tmp_path / "x.db")
    s0 = store.begin_scan("k", "t0")
    for i in range(50):
        store.record_page(s0, fetched(f"http://blog.example/{i}"), is_copy=False)
    store.finish_scan(s0, a_report("t0"))
    s1 = store.begin_scan("k", "t1")
    errors: list[BaseException] = []
    states: list[PageState | None] = []

    def reader() -> None:
        try:
            for i in range(50):
                states.append(store.page_state(f"http://blog.example/{i}"))
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    def writer() -> None:
        try:
            for i in range(50):
                store.record_page(
                    s1, fetched(f"http://blog.example/{i}", b"new"), is_copy=i % 5 == 0
                )
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [
        threading.Thread(target=writer)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert errors == []
    assert len(states) == 150 and all(s is not None and s.etag == '"v1"' for s in states)
    assert sorted(p.name for p in (tmp_path / "x-evidence").iterdir()) == ["scan-000002.warc.gz"]


def test_migrations_run_in_order_and_roll_back_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xpostcheck.store.schema as store_module

    path = tmp_path / "x.db"
    open_store(path).close()  # the current version, 8
    broken = "ALTER TABLE scans ADD COLUMN operator TEXT; INSERT INTO no_such_table VALUES (1)"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert str(err.value) == (
        f"{path}: schema migration 9 failed (no such table: no_such_table); "
        "the database was left at version 8"
    )
    db = sqlite3.connect(path)
    columns = [r[1] for r in db.execute("PRAGMA table_info(scans)")]
    assert db.execute("PRAGMA user_version").fetchone() == (8,)
    db.close()
    assert "operator" not in columns  # the half-run migration was rolled back

    fixed = "ALTER TABLE scans ADD COLUMN operator TEXT NOT NULL DEFAULT ''"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, fixed))
    store = open_store(path)
    assert isinstance(store, SqliteStore) and store.schema_version == len(MIGRATIONS) + 1
    store.close()
    db = sqlite3.connect(path)
    assert "operator" in [r[1] for r in db.execute("PRAGMA table_info(scans)")]
    db.close()


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    db.execute("INSERT INTO scans (id, key, started, finished) VALUES (1, 'k', 't1', 't1')")
    db.execute(
        "INSERT INTO copies (id, scan_id, url, url_key, site, source_url, coverage, kind,"
        " verdict, passages) VALUES (1, 1, ?, ?, 'blog.example', ?, 0.9, 'full', 'violation',"
        " '[]')",
        (URL, URL, SRC),
    )
    db.execute(
        "INSERT INTO findings (copy_id, scan_id, position, url, url_key, source_url, rule, kind,"
        " passed, severity, message, evidence, first_seen, new) VALUES (1, 1, 0, ?, ?, ?,"
        " 'gr-link', 'link_to_original', 0, 'error', 'm', 'e', 't1', 1)",
        (URL, URL, SRC),
    )
    db.commit()
    db.close()
    store = open_store(path)
    assert isinstance(store, SqliteStore) and store.schema_version == 8
    assert store.triage(URL, "notified", note="e-mailed the editor on 2024-05-07") == 1
    r2 = store.finish_scan(store.begin_scan("k", "t2"), a_report("t2", a_copy()))
    store.close()
    link = r2.copies[0].checks[0]
    assert (link.new, link.first_seen, link.triage, link.triage_note) == (
        False,
        "t1",
        "notified",
        "e-mailed the editor on 2024-05-07",
    )


def test_page_state_keeps_caching_headers_and_the_scans_fingerprint(tmp_path: Path) -> None:
    from dataclasses import replace

    store = open_store(tmp_path / "x.db")
    first = store.begin_scan("k", "t1", fingerprint="fp-1")
    page = fetched()
    page = replace(
        page,
        headers=(*page.headers, ("Cache-Control", "max-age=600"), ("Expires", "Mon, 06 May 2024")),
    )
    store.record_page(first, page, is_copy=False)
    assert store.page_state(URL) is None  # the scan has not finished
    store.finish_scan(first, a_report("t1"))
    state = store.page_state(URL)
    assert state is not None
    assert (state.cache_control, state.expires, state.fingerprint) == (
        "max-age=600",
        "Mon, 06 May 2024",
        "fp-1",
    )
    # A 304 answer without the headers keeps those of the full answer; the fingerprint is the
    # newer scan's.
    second = store.begin_scan("k", "t2", fingerprint="fp-2")
    store.record_page(second, fetched(status=304), is_copy=False)
    store.finish_scan(second, a_report("t2"))
    state = store.page_state(URL)
    assert state is not None
    assert (state.cache_control, state.fingerprint) == ("max-age=600", "fp-2")
    store.close()


def test_sources_are_stamped_with_the_scan_their_text_arrived_in(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    s1 = store.begin_scan("k", "t1")
    new = {"https://pub.example/a": "h1", "https://pub.example/b": "h2"}
    assert store.note_sources(s1, new) == set()  # new articles are not "changed"
    assert store.sources_since(0) == ["https://pub.example/a", "https://pub.example/b"]
    s2 = store.begin_scan("k", "t2")
    # b unchanged, a edited, c new: only the edited one is "changed"; a and c are newer.
    changed = store.note_sources(
        s2,
        {
            "https://pub.example/a": "h1b",
            "https://pub.example/b": "h2",
            "https://pub.example/c": "h3",
        },
    )
    assert changed == {"https://pub.example/a"}
    assert store.sources_since(s1) == ["https://pub.example/a", "https://pub.example/c"]
    assert store.sources_since(s2) == []
    store.close()


def test_page_texts_round_trip_by_canonical_url(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    assert store.page_text(URL) is None
    store.save_page_text(1, URL, "Harbor dredging — « déjà vu » 🚢")
    store.save_page_text(2, URL + "?utm_source=x", "Second text")  # the same page: replaced
    assert store.page_text(URL) == "Second text"
    store.close()


def test_page_states_of_a_host_match_page_state(tmp_path: Path) -> None:
    """page_states(host) gives, for every URL of the host, what page_state(url) gives."""
    store = SqliteStore(tmp_path / "s.db")
    scan = store.begin_scan("k", "2026-01-01T00:00:00+00:00")
    for url, final in [
        ("http://a.example/1", "http://a.example/1"),
        ("http://a.example:8080/2", "http://a.example:8080/two"),
        ("http://b.example/3", "http://b.example/3"),
        ("https://a.example.net/4", "https://a.example.net/4"),  # same start, other host
    ]:
        store.record_page(scan, fetched(url, final_url=final), is_copy=False)
    store.finish_scan(scan, a_report("2026-01-01T00:00:00+00:00"))
    states = store.page_states("a.example")
    assert sorted(states) == [
        "http://a.example/1",
        "http://a.example:8080/2",
        "http://a.example:8080/two",
    ]
    for url, state in states.items():
        assert state == store.page_state(url)
    assert store.page_states("c.example") == {}
    store.close()


def test_skip_codes_are_kept_and_unknown_ones_read_back_as_other(tmp_path: Path) -> None:
    from xpostcheck.models import SkipCode, Skipped

    path = tmp_path / "x.db"
    db = sqlite3.connect(path)
    db.executescript(";".join(MIGRATIONS[:4]) + "; PRAGMA user_version=4;")
    db.execute("INSERT INTO scans (id, key, started, finished) VALUES (1, 'k', 't1', 't1')")
    db.execute("INSERT INTO skipped (scan_id, url, reason) VALUES (1, ?, 'timed out')", (URL,))
    db.commit()
    db.close()
    store = open_store(path)
    old = store.report(1)
    assert old is not None and old.skipped == (Skipped(URL, "timed out", SkipCode.OTHER),)
    gone = Skipped(URL, "HTTP 404 Not Found", SkipCode.GONE)
    s2 = store.begin_scan("k", "t2")
    store.finish_scan(s2, replace(a_report("t2"), skipped=(gone,)))
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE skipped SET code = 'from-a-newer-version' WHERE scan_id = 1")
    db.commit()
    assert db.execute("SELECT code FROM skipped ORDER BY rowid").fetchall() == [
        ("from-a-newer-version",),
        ("gone",),
    ]
    db.close()
    store = open_store(path)
    assert [r.skipped for r in (store.report(1), store.report(s2)) if r is not None] == [
        (Skipped(URL, "timed out", SkipCode.OTHER),),
        (gone,),
    ]
    store.close()
