"""Two scans of one SQLite database in two real processes, overlapping (issue 12): history is
ordered by when each page was seen, not by which scan finished last.

The slow scan fetches the page at T1 (still failing); the fast scan starts after it, fetches
the page at T2 (fixed), finishes and delivers; the slow one finishes and delivers last. The
finding stays resolved, and the slow scan does not reset when it was first seen.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from xpostcheck.models import Copy, Fetched, Finding, Report, ScanInfo
from xpostcheck.store import open_store

PAGE = "http://blog.example/posts/harbor.html"
SRC = "https://pub.example/harbor"
T0 = "2024-05-06T06:00:00+00:00"
T1, T2 = "2024-05-13T06:00:01+00:00", "2024-05-13T06:00:02+00:00"
T3 = "2024-05-20T06:00:00+00:00"
WAIT = 60  # seconds a process waits for the other at most (a bound, not a timing)


def _fetched(at: str) -> Fetched:
    return Fetched(PAGE, PAGE, 200, (), b"<p>x</p>", "<p>x</p>", "utf-8", at)


def _report(started: str, passed: bool) -> Report:
    check = Finding("link", "link_to_original", passed, "error", "m")
    verdict = "compliant" if passed else "violation"
    copy = Copy(PAGE, "blog.example", SRC, 0.9, "full", verdict, (), (check,))
    return Report(scan=ScanInfo(started, started, 1, 1), copies=(copy,))


def _scan(db: Path, started: str, at: str, passed: bool) -> tuple[bool | None, str | None]:
    with open_store(db) as store:
        scan_id = store.begin_scan("k", started, "fp")
        store.record_page(scan_id, _fetched(at), is_copy=True)
        out = store.finish_scan(scan_id, _report(started, passed), pending=True)
        store.deliver(scan_id)
    [f] = out.copies[0].checks
    return f.new, f.first_seen


def _slow(db: str, fetched: Event, fast_done: Event, results: Queue[object]) -> None:
    with open_store(Path(db)) as store:
        scan_id = store.begin_scan("k", T1, "fp")
        store.record_page(scan_id, _fetched(T1), is_copy=True)
        fetched.set()
        if not fast_done.wait(WAIT):
            raise SystemExit(2)
        out = store.finish_scan(scan_id, _report(T1, passed=False), pending=True)
        store.deliver(scan_id)
    [f] = out.copies[0].checks
    results.put(("slow", f.new, f.first_seen, len(out.resolved)))


def _fast(db: str, slow_fetched: Event, done: Event, results: Queue[object]) -> None:
    if not slow_fetched.wait(WAIT):
        raise SystemExit(2)
    with open_store(Path(db)) as store:
        scan_id = store.begin_scan("k", T2, "fp")
        store.record_page(scan_id, _fetched(T2), is_copy=True)
        out = store.finish_scan(scan_id, _report(T2, passed=True), pending=True)
        store.deliver(scan_id)
    results.put(("fast", len(out.resolved)))
    done.set()


def test_two_processes_a_slow_scan_does_not_reopen_what_a_fast_one_saw_fixed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    assert _scan(db, T0, T0, passed=False) == (True, T0)  # open since T0
    ctx = multiprocessing.get_context("spawn")
    fetched, fast_done = ctx.Event(), ctx.Event()
    results: Queue[object] = ctx.Queue()
    slow = ctx.Process(target=_slow, args=(str(db), fetched, fast_done, results))
    fast = ctx.Process(target=_fast, args=(str(db), fetched, fast_done, results))
    slow.start()
    fast.start()
    got = [results.get(timeout=WAIT) for _ in range(2)]
    slow.join(WAIT)
    fast.join(WAIT)
    assert (slow.exitcode, fast.exitcode) == (0, 0)
    assert got == [("fast", 1), ("slow", False, T0, 0)]
    # The finding stayed resolved: failing again later is a new run of failures.
    assert _scan(db, T3, T3, passed=False) == (True, T3)
