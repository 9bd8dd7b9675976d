"""Queued scans on 1, 2 and 4 `xpostcheck worker` processes, against loopback hosts.

64 hosts (one server each on 127.0.0.1, its own port: its own host for politeness and for the
queue's host locks) x 3 pages (a home page linking them; copies of the demo corpus credited,
copies not credited, and unrelated pages), every answer delayed by LATENCY, crawled with a
per-host DELAY. The queue and the store: one database on a throwaway PostgreSQL server
(tests/pgserver.py), as deployed (docs/deploy.md); `--store sqlite` keeps the store in a
SQLite file on this machine instead. Each run has a fresh queue database and a fresh store,
its workers started and registered before the scan is queued, so the wall time is the scan's:
from queueing (sources read, index built and published) to the report.

Prints ONE JSON line:
- wall_s for 1, 2 and 4 workers and ratio_2 / ratio_4 (wall time over one worker's, measured
  side by side in this run; target <= 0.6 and <= 0.35); bound_s: the politeness bound (the
  slowest single host's crawl time, which no number of workers can beat);
- same_as_in_process: every queued run gave the copies, kinds and verdicts of an in-process
  scan of the same sites (run first, as the reference);
- min_gap_s: the smallest time, over every host and run, from the end of one answer to the
  arrival of the next request on that host (must be >= delay); overlapping_requests: requests
  to one host that arrived before the previous one was answered (must be 0);
- killed: a worker SIGKILLed mid-job on an 8-host scan of slower pages, a second worker
  started: whether the scan finished with the reference's copies and verdicts, the duplicated
  page and copy rows in the store (must be 0), and how many units ran again.

Run: python benchmarks/workers.py [--store postgres|sqlite]  (about 4 minutes on 2 cores)
"""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "queue"), str(ROOT / "tests")]

import pgserver  # noqa: E402
import qweb  # noqa: E402

from xpostcheck.config import Settings  # noqa: E402
from xpostcheck.pipeline.scan import run_scan  # noqa: E402
from xpostcheck.queue.scans import run_queued_scan  # noqa: E402
from xpostcheck.queue.tables import QueueDB  # noqa: E402

HOSTS = 64
PAGES = 3
LATENCY = 0.05
DELAY = 0.2
COUNTS = (1, 2, 4)


def settings(
    db: Path | str, sources: Path, hosts: list[qweb.Host], delay: float = DELAY
) -> Settings:
    return Settings(
        sources=(str(sources),),
        rules=qweb.RULES,
        sites=tuple(h.base + "/" for h in hosts),
        db=str(db),
        delay=delay,
        workers=1,
        timeout=10.0,
    )


def wait_registered(url: str, count: int, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    with QueueDB.open(url) as db:
        while time.monotonic() < end:
            row = db.one("SELECT count(*) FROM procrastinate_workers")
            if row and row[0] >= count:
                return
            time.sleep(0.1)
    raise RuntimeError(f"{count} workers did not register in {deadline} s")


def politeness(hosts: list[qweb.Host]) -> tuple[float | None, int]:
    gaps = [g for h in hosts if (g := qweb.min_gap(h)) is not None]
    return (min(gaps) if gaps else None), sum(qweb.overlaps(h) for h in hosts)


def host_bound(hosts: list[qweb.Host]) -> float:
    """The longest time one host's requests took, first arrival to last answer."""
    spans = [max(e for _, e, _ in h.log) - min(s for s, _, _ in h.log) for h in h_logs(hosts)]
    return max(spans) if spans else 0.0


def h_logs(hosts: list[qweb.Host]) -> list[qweb.Host]:
    return [h for h in hosts if h.log]


def store_of(folder: Path, name: str, url: str, kind: str) -> str:
    return url if kind == "postgres" else str(folder / f"{name}.db")


def queued_run(
    folder: Path,
    admin: str,
    name: str,
    count: int,
    sources: Path,
    hosts: list[qweb.Host],
    kind: str,
) -> tuple[float, Any, qweb.Workers]:
    url = pgserver.create_database(admin, name)
    store = store_of(folder, name, url, kind)
    with QueueDB.open(url):
        pass  # the schema, before the workers race for it
    for host in hosts:
        host.reset()
    workers = qweb.Workers(store, url, folder, heartbeat=2.0)
    workers.start(count)
    try:
        wait_registered(url, count)
        start = time.monotonic()
        result = run_queued_scan(settings(store, sources, hosts), url)
        wall = time.monotonic() - start
    finally:
        codes = workers.stop()
    if any(c != 0 for c in codes):
        raise RuntimeError(f"workers exited {codes}:\n{workers.logs()[-4000:]}")
    return wall, result.report, workers


_DUPES = (
    "SELECT count(*) FROM (SELECT url FROM pages WHERE scan_id = {p} GROUP BY url "
    "HAVING count(*) > 1) AS d",
    "SELECT count(*) FROM (SELECT url, source_url FROM copies WHERE scan_id = {p} "
    "GROUP BY url, source_url HAVING count(*) > 1) AS d",
)


def dupes(db: str, scan_id: int) -> tuple[int, ...]:
    """Duplicated page rows and copy rows of the scan in the store."""
    if "://" in db:
        import psycopg

        with psycopg.connect(db) as conn:
            return tuple(
                int(conn.execute(q.format(p="%s"), (scan_id,)).fetchone()[0]) for q in _DUPES
            )  # type: ignore[index]
    with sqlite3.connect(db) as lite:
        return tuple(int(lite.execute(q.format(p="?"), (scan_id,)).fetchone()[0]) for q in _DUPES)


def killed_run(folder: Path, admin: str, kind: str) -> dict[str, Any]:
    hosts, text = qweb.build_web(8, 6, latency=0.15)
    sources = folder / "killed.jsonl"
    sources.write_text(text, encoding="utf-8")
    try:
        reference = run_scan(settings(folder / "killed-ref.db", sources, hosts)).report
        url = pgserver.create_database(admin, "killed")
        store = store_of(folder, "killed", url, kind)
        with QueueDB.open(url):
            pass
        workers = qweb.Workers(store, url, folder, heartbeat=1.0)
        (victim,) = workers.start(1)
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                out["report"] = run_queued_scan(settings(store, sources, hosts), url).report
            except Exception as exc:
                out["error"] = repr(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            with QueueDB.open(url) as db:
                end = time.monotonic() + 60
                while time.monotonic() < end:
                    row = db.one("SELECT count(*) FROM xpostcheck_q_pages")
                    if row and row[0] >= 3:
                        break
                    time.sleep(0.05)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                workers.start(1)
                thread.join(timeout=180)
                rerun = db.one("SELECT count(*) FROM xpostcheck_q_units WHERE attempts > 1")
        finally:
            workers.stop()
        report = out.get("report")
        if report is None:
            return {"finished": False, "error": out.get("error", "timeout")}
        pages, copies = dupes(store, report.scan.scan_id)
        return {
            "finished": True,
            "same_as_in_process": qweb.verdicts(report) == qweb.verdicts(reference),
            "duplicate_page_rows": pages,
            "duplicate_copy_rows": copies,
            "units_run_again": int(rerun[0]) if rerun else None,
            "overlapping_requests": sum(qweb.overlaps(h) for h in hosts),
        }
    finally:
        for host in hosts:
            host.close()


def main() -> int:
    kind = "sqlite" if sys.argv[1:] == ["--store", "sqlite"] else "postgres"
    folder = Path(tempfile.mkdtemp(prefix="xpostcheck-bench-workers-"))
    hosts, text = qweb.build_web(HOSTS, PAGES, latency=LATENCY)
    sources = folder / "sources.jsonl"
    sources.write_text(text, encoding="utf-8")
    out: dict[str, Any] = {
        "hosts": HOSTS,
        "pages_per_host": PAGES,
        "latency_s": LATENCY,
        "delay_s": DELAY,
        "store": kind,
    }
    try:
        with pgserver.pg_server() as admin:
            start = time.monotonic()
            reference = run_scan(settings(folder / "ref.db", sources, hosts)).report
            out["in_process_s"] = round(time.monotonic() - start, 2)
            out["copies"] = len(reference.copies)
            out["violations"] = len(reference.violations)
            walls: dict[str, float] = {}
            same: dict[str, bool] = {}
            gaps: list[float] = []
            overlapping = 0
            bound = 0.0
            for count in COUNTS:
                wall, report, _ = queued_run(
                    folder, admin, f"w{count}", count, sources, hosts, kind
                )
                walls[str(count)] = round(wall, 2)
                same[str(count)] = qweb.verdicts(report) == qweb.verdicts(reference)
                gap, over = politeness(hosts)
                if gap is not None:
                    gaps.append(gap)
                overlapping += over
                bound = max(bound, host_bound(hosts))
            out["wall_s"] = walls
            out["ratio_2"] = round(walls["2"] / walls["1"], 3)
            out["ratio_4"] = round(walls["4"] / walls["1"], 3)
            out["bound_s"] = round(bound, 2)
            out["same_as_in_process"] = same
            out["min_gap_s"] = round(min(gaps), 3) if gaps else None
            out["overlapping_requests"] = overlapping
            out["killed"] = killed_run(folder, admin, kind)
    finally:
        for host in hosts:
            host.close()
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
