"""Store write cost, SQLite against PostgreSQL, and PostgreSQL with several writers at once.

What a crawl asks of the store per page is `record_page` (copy pages also keep a WARC record)
and, per analysed page, `save_page_text`; a scan ends with `finish_scan`. This benchmark
records P pages of W sites in one scan:
- on SQLite, one writer;
- on PostgreSQL (a throwaway server from tests/pgserver.py, on loopback), one writer;
- on PostgreSQL, W writers at once, each a thread with a store (and pool) of its own, as
  workers on W machines would be; each then records its pages again (a retried job).
Then it checks the rows: one page row and one WARC record per URL, whatever the retries.

Prints ONE JSON line:
- sqlite_pages_per_s, pg_pages_per_s, pg_share_of_sqlite (one writer each, side by side);
- pg_parallel_pages_per_s and pg_parallel_speedup: W writers over one writer on PostgreSQL
  (first attempts only), bounded by the machine's cores, not by a store-wide lock;
- finish_s_sqlite, finish_s_pg: finishing the scan (the report's copies and findings);
- duplicate_page_rows, duplicate_warc_records: must be 0 after the retried writes.

Run: python benchmarks/store_backends.py [--sites 4 --pages 150]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pgserver import create_database, pg_server  # noqa: E402
from xpostcheck.models import (  # noqa: E402
    Copy,
    Fetched,
    Finding,
    Passage,
    Report,
    ScanInfo,
)
from xpostcheck.store import Store, open_store  # noqa: E402

STARTED = "2024-05-06T06:00:00+00:00"


def page(site: int, n: int, attempt: int) -> Fetched:
    body = (f"<html><body><p>site {site} page {n} try {attempt}</p>" + "x" * 6000).encode()
    url = f"http://site{site}.example/posts/{n}.html"
    return Fetched(
        url=url,
        final_url=url,
        status=200,
        headers=(("Content-Type", "text/html"), ("ETag", f'"{n}"')),
        body=body,
        text=body.decode(),
        encoding="utf-8",
        fetched_at=f"2024-05-06T06:{attempt:02d}:01+00:00",
        content_hash=hashlib.sha256(body).hexdigest(),
    )


def is_copy(n: int) -> bool:
    return n % 5 == 0


def write_site(store: Store, scan_id: int, site: int, pages: int, attempt: int) -> None:
    for n in range(pages):
        fetched = page(site, n, attempt)
        store.record_page(scan_id, fetched, is_copy=is_copy(n))
        store.save_page_text(scan_id, fetched.url, fetched.text, ())


def report(sites: int, pages: int) -> Report:
    copies = tuple(
        Copy(
            url=f"http://site{s}.example/posts/{n}.html",
            site=f"site{s}.example",
            source_url=f"https://pub.example/{n}",
            coverage=0.9,
            kind="full",
            verdict="violation",
            passages=(Passage(0, 100, 0, 100),),
            checks=(
                Finding("link", "link_to_original", False, "error", "no link", "ev"),
                Finding("credit", "attribution", True, "error", "ok", None),
            ),
        )
        for s in range(sites)
        for n in range(pages)
        if is_copy(n)
    )
    info = ScanInfo(STARTED, STARTED, pages, sites * pages, rules="bench")
    return Report(scan=info, copies=copies)


def one_writer(spec: str, sites: int, pages: int) -> tuple[float, float]:
    """(pages per second, seconds to finish) with one writer."""
    with open_store(spec) as store:
        scan_id = store.begin_scan("k", STARTED, "fp")
        t0 = time.perf_counter()
        for site in range(sites):
            write_site(store, scan_id, site, pages, 0)
        rate = sites * pages / (time.perf_counter() - t0)
        t1 = time.perf_counter()
        store.finish_scan(scan_id, report(sites, pages))
        return rate, time.perf_counter() - t1


def parallel_writers(spec: str, sites: int, pages: int) -> float:
    """Pages per second with one writer per site at once (first attempts), then a retry."""
    with open_store(spec) as store:
        scan_id = store.begin_scan("k", STARTED, "fp")
    stores = [open_store(spec) for _ in range(sites)]
    try:
        threads = [
            threading.Thread(target=write_site, args=(stores[s], scan_id, s, pages, 0))
            for s in range(sites)
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rate = sites * pages / (time.perf_counter() - t0)
        retries = [
            threading.Thread(target=write_site, args=(stores[s], scan_id, s, pages, 1))
            for s in range(sites)
        ]
        for t in retries:
            t.start()
        for t in retries:
            t.join()
    finally:
        for opened in stores:
            opened.close()
    return rate


def duplicates(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        pages = conn.execute(
            "SELECT count(*) - count(DISTINCT (scan_id, url)) FROM pages"
        ).fetchone()
        records = conn.execute(
            "SELECT count(*) - count(DISTINCT (scan_id, url)) FROM warc_records"
        ).fetchone()
    return int(pages[0]) if pages else -1, int(records[0]) if records else -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--pages", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, pg_server() as server:
        sqlite_rate, sqlite_finish = one_writer(str(Path(tmp) / "b.db"), args.sites, args.pages)
        pg_rate, pg_finish = one_writer(
            create_database(server, "bench_one"), args.sites, args.pages
        )
        shared = create_database(server, "bench_parallel")
        parallel_rate = parallel_writers(shared, args.sites, args.pages)
        dup_pages, dup_records = duplicates(shared)
    print(
        json.dumps(
            {
                "sites": args.sites,
                "pages_per_site": args.pages,
                "sqlite_pages_per_s": round(sqlite_rate, 1),
                "pg_pages_per_s": round(pg_rate, 1),
                "pg_share_of_sqlite": round(pg_rate / sqlite_rate, 3),
                "pg_parallel_pages_per_s": round(parallel_rate, 1),
                "pg_parallel_speedup": round(parallel_rate / pg_rate, 3),
                "finish_s_sqlite": round(sqlite_finish, 3),
                "finish_s_pg": round(pg_finish, 3),
                "duplicate_page_rows": dup_pages,
                "duplicate_warc_records": dup_records,
            }
        )
    )


if __name__ == "__main__":
    main()
