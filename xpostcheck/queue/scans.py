"""Beginning a queued scan, waiting for it, and delivering its report.

In: Settings and the queue's URL. Out: `run_queued_scan` (what `scan --queue` runs): begins
the scan here (rules, sources, source index, the store's scan), publishes the index to the
queue's database, defers one job per site unit with the lock of its host, reports progress as
the workers end the units, and once the finishing job has recorded the report, hands the
result to the caller's `deliver` and then tells the store (as `run_scan` does in-process).
`start_scheduled` does the beginning on a worker for a periodic scan.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from xpostcheck.config import Settings
from xpostcheck.errors import ScanFailed
from xpostcheck.pipeline.begin import ProgressFn, Scan, begin
from xpostcheck.pipeline.scan import ScanResult
from xpostcheck.pipeline.site import SiteUnit, units_of
from xpostcheck.queue import codec
from xpostcheck.queue.context import WorkerContext
from xpostcheck.queue.defer import FINISH_TASK, SITE_TASK, defer, host_lock, unit_key
from xpostcheck.queue.tables import QueueDB
from xpostcheck.queue.warcjobs import (
    QueuedJob,
    check_readable,
    warc_jobs,
    warc_settings,
    with_archive_facts,
)

log = logging.getLogger(__name__)

__all__ = ["queue_units", "run_queued_scan", "start_scan", "start_scheduled"]

POLL = 0.5  # seconds between two looks at a queued scan's progress
IDLE_WARNING = 15.0  # seconds without a unit ending before the command says it waits


def queue_units(sites: tuple[str, ...], urls: tuple[str, ...]) -> list[tuple[SiteUnit, str]]:
    """The scan's units, each with the key of the one host (and port) it fetches from: the
    single URLs on no crawled site, one unit in-process, are one unit per host here, so that
    every job holds the lock of the only host it crawls."""
    out: list[tuple[SiteUnit, str]] = []
    for unit in units_of(sites, urls):
        if unit.sites:
            out.append((unit, unit_key(unit)))
            continue
        by_key: dict[str, list[str]] = {}
        for url in unit.urls:
            by_key.setdefault(unit_key(SiteUnit((), (url,))), []).append(url)
        out.extend((SiteUnit((), tuple(group)), key) for key, group in by_key.items())
    return out


def _publish_index(db: QueueDB, scan: Scan) -> str:
    """Save the scan's source index into the queue's database, once per content."""
    from psycopg import Binary

    with tempfile.TemporaryDirectory(prefix="xpostcheck-q-") as folder:
        path = Path(folder) / "sources.index"
        scan.index.save(path, replace=True)
        data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    db.run(
        "INSERT INTO xpostcheck_q_indexes (digest, data) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (digest, Binary(data)),
    )
    return digest


def start_scan(
    settings: Settings,
    url: str,
    *,
    progress: ProgressFn | None = None,
    waiting: bool = True,
    schedule: str | None = None,
) -> tuple[Scan, int, list[SiteUnit]]:
    """Begin the scan here and queue its site jobs (for WARC inputs, one job per file).
    Returns the Scan (the caller closes it), the queued scan's id and its units."""
    from psycopg.types.json import Jsonb

    if settings.warc:
        settings = warc_settings(settings)
        check_readable(settings.warc)
    with QueueDB.open(url) as db:
        scan = begin(settings, progress)
        try:
            digest = _publish_index(db, scan)
            units = _jobs(settings)
            with db.transaction():
                row = db.one(
                    """INSERT INTO xpostcheck_q_scans (store_scan, store, settings, fingerprint,
                           started, index_digest, modified, source_skips, units, waiting,
                           schedule)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                    (
                        scan.scan_id,
                        codec.settings_to_json(settings)["db"],
                        Jsonb(codec.settings_to_json(settings)),
                        scan.fingerprint,
                        scan.started,
                        digest,
                        Jsonb(sorted(scan.modified)),
                        Jsonb(codec.skips_to_json(scan.source_skips)),
                        len(units),
                        waiting,
                        schedule,
                    ),
                )
                assert row is not None
                queued = int(row[0])
                for n, job in enumerate(units):
                    db.run(
                        "INSERT INTO xpostcheck_q_units (scan, n, unit) VALUES (%s, %s, %s)",
                        (queued, n, Jsonb(job.data)),
                    )
            for n, job in enumerate(units):
                defer(url, job.task, lock=job.lock, scan=queued, n=n)
                scan.progress("queued", job.unit.name)
            if not units:  # nothing to crawl: finish at once
                defer(url, FINISH_TASK, scan=queued)
        except BaseException:
            scan.close()
            raise
    return scan, queued, [job.unit for job in units]


def _jobs(settings: Settings) -> list[QueuedJob]:
    """One job per site unit with the lock of its host, or one per WARC file."""
    if settings.warc:
        return warc_jobs(settings)
    return [
        QueuedJob(unit, codec.unit_to_json(unit), SITE_TASK, host_lock(key))
        for unit, key in queue_units(settings.sites, settings.urls)
    ]


def run_queued_scan(
    settings: Settings,
    url: str,
    *,
    progress: ProgressFn | None = None,
    deliver: Callable[[ScanResult], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ScanResult:
    """Queue the scan, wait for the workers, and return its ScanResult (handed to `deliver`
    first, as `run_scan` does). ScanFailed when the finishing job found nothing fetched."""
    from xpostcheck.pipeline.scan import _as_printed
    from xpostcheck.pipeline.texts import PageTexts
    from xpostcheck.queue.run import unit_results, warc_candidates
    from xpostcheck.report.base import RenderContext

    scan, queued, units = start_scan(settings, url, progress=progress, waiting=True)
    try:
        with QueueDB.open(url, setup=False) as db:
            state, undelivered = _wait(db, scan, queued, units, sleep)
            results = unit_results(db, queued)
            candidates = warc_candidates(db, queued, results) if scan.settings.warc else ()
        if state == "failed":
            raise ScanFailed(_failure(url, queued))
        report = scan.store.report(scan.scan_id)
        if report is None:
            raise ScanFailed(f"the report of scan #{scan.scan_id} is missing from the store")
        if scan.settings.warc:
            report = with_archive_facts(report, results, candidates)
        texts = {u: t for r in results for u, t in r.texts.items()}
        carried = (c.url for r in results for c in r.carried)
        sources = {c.source_url: a for c in report.copies if (a := scan.index.get(c.source_url))}
        result = ScanResult(
            report,
            RenderContext(
                sources=sources,
                pages=PageTexts.from_store(scan.store, texts, carried),
                db=_as_printed(settings.db),
                rules=_as_printed(settings.rules),
            ),
            scan.ruleset,
            undelivered,
        )
        if deliver is not None:  # without, returning the result is the delivery
            deliver(result)
        scan.store.deliver(scan.scan_id)
        with QueueDB.open(url, setup=False) as db:
            db.run("UPDATE xpostcheck_q_scans SET state = 'delivered' WHERE id = %s", (queued,))
        return result
    finally:
        scan.close()


def _failure(url: str, queued: int) -> str:
    with QueueDB.open(url, setup=False) as db:
        row = db.one("SELECT error FROM xpostcheck_q_scans WHERE id = %s", (queued,))
    return str(row[0]) if row and row[0] else "the queued scan failed"


def _wait(
    db: QueueDB, scan: Scan, queued: int, units: list[SiteUnit], sleep: Callable[[float], None]
) -> tuple[str, int]:
    """Until the finishing job has run: report each unit as it ends; say once when no
    worker seems to take the jobs."""
    ended: set[int] = set()
    last_change = time.monotonic()
    warned = False
    while True:
        rows = db.all(
            "SELECT n FROM xpostcheck_q_units WHERE scan = %s AND state <> 'todo'", (queued,)
        )
        for (n,) in rows:
            if n not in ended:
                ended.add(n)
                last_change = time.monotonic()
                scan.progress("fetched", units[n].name)
        row = db.one("SELECT state, undelivered FROM xpostcheck_q_scans WHERE id = %s", (queued,))
        if row is not None and row[0] != "running":
            return str(row[0]), int(row[1])
        if not warned and time.monotonic() - last_change > IDLE_WARNING:
            log.warning(
                "waiting for workers: %d of %d sites done; start one with "
                "'xpostcheck worker --db URL' if none runs",
                len(ended),
                len(units),
            )
            warned = True
        sleep(POLL)


def start_scheduled(ctx: WorkerContext, name: str) -> None:
    """Begin periodic scan `name` on this worker and queue its site jobs (no command waits:
    the finishing job writes and delivers its report)."""
    from xpostcheck.queue.schedule import schedule_settings

    with QueueDB.open(ctx.url, setup=False) as db:
        settings = schedule_settings(db, name)
    if settings is None:
        log.warning("periodic scan %r was removed before it started", name)
        return
    # Never wait on a worker for another scan's database lock (a `scan --queue` holds it while
    # the workers run its sites: this worker would wait for itself); the job is retried.
    settings = dataclasses.replace(settings, no_wait=True)
    if "://" in settings.db:
        settings = dataclasses.replace(settings, db=ctx.store)
    scan, _, _ = start_scan(settings, ctx.url, waiting=False, schedule=name)
    scan.close()
