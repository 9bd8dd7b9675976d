"""The bodies of the site and finishing jobs, on a worker.

In: the worker's context and the queued scan's row. Out: the unit's result in
`xpostcheck_q_units` (site job); the scan's report in the store, and for a periodic scan the
report written and delivered (finishing job).

A job may run more than once: procrastinate retries it after a failure, and `recover` puts it
back when its worker died mid-job. So each step checks what is done already: a unit done is
not run again, a page the unit recorded in the store before is not recorded again
(`_RecordOnce`), and the scan is finished once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from xpostcheck.config import Settings
from xpostcheck.errors import ScanFailed, XPostCheckError
from xpostcheck.models import ArchiveCandidate, Fetched, PageState, SkipCode, Skipped
from xpostcheck.pipeline.begin import Scan, join, match_config
from xpostcheck.pipeline.scan import ScanResult
from xpostcheck.pipeline.site import SiteResult, SiteUnit, scan_site
from xpostcheck.queue import codec
from xpostcheck.queue.context import WorkerContext
from xpostcheck.queue.defer import FINISH_TASK, MAX_ATTEMPTS, defer, unit_key
from xpostcheck.queue.tables import QueueDB, QueueError
from xpostcheck.store import Store, open_store

log = logging.getLogger(__name__)

MAX_HOST_WAIT = 600.0  # seconds: a host's delay is never waited out longer than this

__all__ = [
    "QueuedScan",
    "deliver_here",
    "joined",
    "run_finish",
    "run_site",
    "unit_results",
    "unit_rows",
    "warc_candidates",
]


@dataclass(frozen=True)
class QueuedScan:
    """A row of xpostcheck_q_scans."""

    id: int
    store_scan: int
    store: str
    settings: Settings
    fingerprint: str
    started: str
    index_digest: str
    modified: frozenset[str]
    source_skips: tuple[Skipped, ...]
    waiting: bool
    state: str

    @classmethod
    def load(cls, db: QueueDB, scan: int) -> QueuedScan:
        row = db.one(
            """SELECT id, store_scan, store, settings, fingerprint, started, index_digest,
                      modified, source_skips, waiting, state
               FROM xpostcheck_q_scans WHERE id = %s""",
            (scan,),
        )
        if row is None:
            raise QueueError(f"queued scan {scan} is not in the queue's database")
        return cls(
            id=row[0],
            store_scan=row[1],
            store=row[2],
            settings=codec.settings_from_json(row[3]),
            fingerprint=row[4],
            started=row[5],
            index_digest=row[6],
            modified=frozenset(row[7]),
            source_skips=codec.skips_from_json(row[8]),
            waiting=bool(row[9]),
            state=row[10],
        )


class _RecordOnce:
    """The store, recording each page of a queued scan once: a page a killed or failed
    attempt of the unit recorded already is not recorded again."""

    def __init__(self, store: Store, db: QueueDB, scan: int) -> None:
        self._store = store
        self._db = db
        self._scan = scan
        rows = db.all("SELECT url FROM xpostcheck_q_pages WHERE scan = %s", (scan,))
        self._seen = {r[0] for r in rows}

    def record_page(
        self, scan_id: int, fetched: Fetched, *, is_copy: bool, before: PageState | None = None
    ) -> None:
        if fetched.url in self._seen:
            return
        self._store.record_page(scan_id, fetched, is_copy=is_copy, before=before)
        self._db.run(
            "INSERT INTO xpostcheck_q_pages (scan, url) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (self._scan, fetched.url),
        )
        self._seen.add(fetched.url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def joined(ctx: WorkerContext, db: QueueDB, queued: QueuedScan, *, once: bool = False) -> Scan:
    """The Scan of a queued scan on this worker: its own store (the worker's --db when the
    scan's store is a server; the same file on one machine), the shared index."""
    settings = queued.settings
    spec = ctx.store if "://" in queued.store else queued.store
    # On a worker the job is the unit of parallelism: analysis runs in the job's own thread.
    settings = _replace(settings, db=spec, workers=1)
    config = match_config(settings.min_coverage)
    path, index = ctx.index(db, queued.index_digest, config)
    store: Store = open_store(spec)
    if once:
        store = cast(Store, _RecordOnce(store, db, queued.id))
    scan = join(
        settings,
        store=store,
        scan_id=queued.store_scan,
        started=queued.started,
        index=index,
        index_path=str(path),
        source_skips=queued.source_skips,
        modified=queued.modified,
    )
    if scan.fingerprint != queued.fingerprint:
        scan.close()
        raise QueueError(
            f"the rules or match settings on this worker differ from the ones scan "
            f"#{queued.store_scan} began with (fingerprint {scan.fingerprint}, not "
            f"{queued.fingerprint}); run the same xpostcheck version and rules everywhere",
            where=settings.rules,
        )
    return scan


def _replace(settings: Settings, **changes: Any) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, **changes)


def run_site(ctx: WorkerContext, scan: int, n: int, *, attempt: int = 0) -> None:
    """Run unit `n` of queued scan `scan` (a site unit, or a WARC file's: `queue.warcjobs`),
    unless it is done already, and record its result; on the last attempt's failure, record
    its sites as skipped; then, if it was the last unit, defer the finishing job."""
    with QueueDB.open(ctx.url, setup=False) as db:
        row = db.one(
            "SELECT unit, state FROM xpostcheck_q_units WHERE scan = %s AND n = %s", (scan, n)
        )
        if row is None or row[1] != "todo":
            _maybe_finish(ctx, db, scan)
            return
        unit = codec.unit_from_json(row[0])
        warc = row[0].get("warc")
        db.run(
            "UPDATE xpostcheck_q_units SET attempts = attempts + 1 WHERE scan = %s AND n = %s",
            (scan, n),
        )
        queued = QueuedScan.load(db, scan)
        try:
            if warc:
                data = _scan_warc(ctx, db, queued, unit, str(warc))
            else:
                data = codec.result_to_json(_scan_unit(ctx, db, queued, unit))
        except Exception as exc:
            kind = "WARC" if warc else "site"
            if attempt + 1 < MAX_ATTEMPTS:
                log.warning(
                    "%s %s of scan %s failed (attempt %d): %s",
                    kind,
                    unit.name,
                    scan,
                    attempt + 1,
                    exc,
                )
                raise  # procrastinate runs it again after the backoff
            failed = _failed(unit, f"{kind} job failed {attempt + 1} times: {exc}")
            _done(db, scan, n, codec.result_to_json(failed), state="failed", error=str(exc))
            _maybe_finish(ctx, db, scan)
            raise
        _done(db, scan, n, data, state="done")
        _maybe_finish(ctx, db, scan)


def _scan_unit(ctx: WorkerContext, db: QueueDB, queued: QueuedScan, unit: SiteUnit) -> SiteResult:
    scan = joined(ctx, db, queued, once=True)
    key = unit_key(unit)
    try:
        _wait_for_host(db, key)
        try:
            return scan_site(scan, unit)
        finally:
            _free_host(db, key, queued.settings.delay)
    finally:
        scan.close()


def _scan_warc(
    ctx: WorkerContext, db: QueueDB, queued: QueuedScan, unit: SiteUnit, spec: str
) -> dict[str, Any]:
    """One WARC file's scan; a URL is streamed under the lock of its host, after its delay."""
    from xpostcheck.queue.warcjobs import scan_warc_file, warc_key

    scan = joined(ctx, db, queued, once=True)
    key = warc_key(spec)
    try:
        if key is None:
            return scan_warc_file(scan, unit, spec)
        _wait_for_host(db, key)
        try:
            return scan_warc_file(scan, unit, spec)
        finally:
            _free_host(db, key, queued.settings.delay)
    finally:
        scan.close()


def _wait_for_host(db: QueueDB, key: str) -> None:
    """Until the host may be asked again: the delay since the last job on it ended (this
    job holds the host's lock, so no other job asks it meanwhile)."""
    row = db.one(
        """SELECT extract(epoch FROM free_at - clock_timestamp())::float
           FROM xpostcheck_q_hosts WHERE key = %s""",
        (key,),
    )
    if row is not None and row[0] > 0:
        time.sleep(min(float(row[0]), MAX_HOST_WAIT))


def _free_host(db: QueueDB, key: str, delay: float) -> None:
    db.run(
        """INSERT INTO xpostcheck_q_hosts (key, free_at)
           VALUES (%s, clock_timestamp() + make_interval(secs => %s))
           ON CONFLICT (key) DO UPDATE SET free_at = excluded.free_at""",
        (key, float(delay)),
    )


def _failed(unit: SiteUnit, reason: str) -> SiteResult:
    skipped = tuple(Skipped(url, reason, SkipCode.OTHER) for url in unit.sites + unit.urls)
    return SiteResult(unit, (), (), skipped, {}, 0, 0)


def _done(
    db: QueueDB, scan: int, n: int, result: dict[str, Any], *, state: str, error: str | None = None
) -> None:
    from psycopg.types.json import Jsonb

    db.run(
        """UPDATE xpostcheck_q_units SET state = %s, result = %s, error = %s
           WHERE scan = %s AND n = %s AND state = 'todo'""",
        (state, Jsonb(result), error, scan, n),
    )


def _maybe_finish(ctx: WorkerContext, db: QueueDB, scan: int) -> None:
    """When every unit of `scan` has ended, defer its finishing job (once)."""
    with db.transaction():
        row = db.one(
            "SELECT finish_queued FROM xpostcheck_q_scans WHERE id = %s FOR UPDATE", (scan,)
        )
        left = db.one(
            "SELECT count(*) FROM xpostcheck_q_units WHERE scan = %s AND state = 'todo'",
            (scan,),
        )
        if row is None or row[0] or left is None or left[0]:
            return
        defer(ctx.url, FINISH_TASK, queueing_lock=f"xpostcheck-finish:{scan}", scan=scan)
        db.run("UPDATE xpostcheck_q_scans SET finish_queued = true WHERE id = %s", (scan,))


def unit_rows(db: QueueDB, scan: int) -> list[dict[str, Any]]:
    """The units' results as stored (JSON), in unit order."""
    rows = db.all("SELECT result FROM xpostcheck_q_units WHERE scan = %s ORDER BY n", (scan,))
    return [dict(r[0]) for r in rows if r[0] is not None]


def warc_candidates(
    db: QueueDB, scan: int, results: Sequence[SiteResult]
) -> tuple[ArchiveCandidate, ...]:
    """The candidate sites of a queued scan of WARC files, over all its files."""
    from xpostcheck.queue.warcjobs import candidates_of

    return candidates_of(unit_rows(db, scan), results)


def unit_results(db: QueueDB, scan: int) -> list[SiteResult]:
    """The units' results; for a scan of WARC files, merged over the files (a page captured
    in several files is checked once)."""
    results = [codec.result_from_json(r) for r in unit_rows(db, scan)]
    queued = db.one("SELECT settings FROM xpostcheck_q_scans WHERE id = %s", (scan,))
    if queued is not None and queued[0].get("warc"):
        from xpostcheck.queue.warcjobs import merge_results

        return merge_results(results)
    return results


def run_finish(ctx: WorkerContext, scan: int) -> None:
    """Judge history and record the report of queued scan `scan`, once every unit ended. A
    command waiting for it delivers the report; a periodic scan's is delivered here."""
    with QueueDB.open(ctx.url, setup=False) as db:
        queued = QueuedScan.load(db, scan)
        if queued.state != "running":
            return
        left = db.one(
            "SELECT count(*) FROM xpostcheck_q_units WHERE scan = %s AND state = 'todo'",
            (scan,),
        )
        if left and left[0]:
            return  # a unit is still running: its end defers this job again
        results = unit_results(db, scan)
        joined_scan = joined(ctx, db, queued)
        try:
            _finish(db, joined_scan, queued, results)
        finally:
            joined_scan.close()


def _finish(db: QueueDB, scan: Scan, queued: QueuedScan, results: Sequence[SiteResult]) -> None:
    from xpostcheck.pipeline.scan import finish

    if scan.store.report(scan.scan_id) is not None:
        # finished by an earlier run of this job that died before saying so: the store
        # records a scan's report once (and refuses a second finish_scan)
        db.run(
            "UPDATE xpostcheck_q_scans SET state = 'finished' WHERE id = %s AND state = 'running'",
            (queued.id,),
        )
        return
    undelivered = scan.store.undelivered(scan.scan_id)
    try:
        result = finish(scan, results, pending=True)
    except ScanFailed as exc:
        scan.store.mark_interrupted(scan.scan_id)
        db.run(
            "UPDATE xpostcheck_q_scans SET state = 'failed', error = %s WHERE id = %s",
            (str(exc), queued.id),
        )
        return
    if queued.settings.warc:
        report = dataclasses.replace(
            result.report, candidates=warc_candidates(db, queued.id, results)
        )
        result = dataclasses.replace(result, report=report)
    state = "finished"
    if not queued.waiting:
        try:
            deliver_here(scan.settings, result)
            scan.store.deliver(scan.scan_id)
            state = "delivered"
        except XPostCheckError as exc:  # its findings stay new for the next scan
            log.error("scan #%s: the report was not delivered: %s", scan.scan_id, exc)
            state = "undelivered"
    db.run(
        "UPDATE xpostcheck_q_scans SET state = %s, undelivered = %s WHERE id = %s",
        (state, undelivered, queued.id),
    )


def deliver_here(settings: Settings, result: ScanResult) -> None:
    """A periodic scan's report, delivered by the finishing job: written to its output file
    (if it has one) and its new violations notified."""
    from xpostcheck.report.formats import FORMATS
    from xpostcheck.review.notify import notify
    from xpostcheck.util.files import write_output

    if settings.output and settings.output != "-":
        text = FORMATS[settings.format].render(result.report, result.context)
        try:
            write_output(settings.output, text)
        except OSError as exc:
            raise ScanFailed(
                f"cannot write the report: {exc.strerror or exc}", where=settings.output
            ) from None
    notify(settings, result.report)
