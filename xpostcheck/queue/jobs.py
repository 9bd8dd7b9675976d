"""The jobs a worker runs, and the procrastinate App that names them.

In: a postgresql:// URL (the queue's database) and, on a worker, its `WorkerContext`.
Out: `build_app`, an App with these tasks:

- `xpostcheck.site` (scan, n): one site unit of a queued scan, under the lock of its host
  (`host_lock`), so that two workers never crawl one host at once, whatever scans they serve.
  Retried with backoff when it raises; a unit that fails every attempt is reported as
  skipped (its sites listed with the error) rather than losing the scan. The last unit of a
  scan to end defers the finishing job.
- `xpostcheck.warc` (scan, n): one WARC file of a queued `scan --warc` (`warcjobs`): its
  pages read, pre-filtered, analysed and judged; a URL streamed under the lock of its host.
  Retried as a site job is; a file that fails every attempt is reported as skipped.
- `xpostcheck.finish` (scan): judges history and records the report (`pipeline.scan.finish`);
  when no command waits for the scan (a periodic scan), also writes `--output`, sends the
  notifications and delivers.
- `xpostcheck.start` (schedule): begins a periodic scan on a worker (reads its sources,
  builds and publishes the index, defers its site jobs).
- `xpostcheck.tick`, every minute: starts the periodic scans that are due.
- `xpostcheck.recover`, every few seconds: puts back in the queue the jobs of workers that
  stopped beating (killed): the job runs again and records no page twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from xpostcheck.queue.defer import (
    BACKOFF,
    FINISH_TASK,
    MAX_ATTEMPTS,
    SITE_TASK,
    START_TASK,
    WARC_TASK,
    defer,
)
from xpostcheck.queue.tables import QueueDB

if TYPE_CHECKING:
    from procrastinate import App

    from xpostcheck.queue.context import WorkerContext

log = logging.getLogger(__name__)

__all__ = ["build_app"]


def build_app(url: str, ctx: WorkerContext | None = None) -> App:
    """The App for the queue at `url`: with `ctx`, a worker's (async connector, the tasks'
    bodies bound to the context); without, one that only defers (sync connector)."""
    from procrastinate import App, PsycopgConnector, RetryStrategy, SyncPsycopgConnector

    if ctx is None:
        return App(connector=SyncPsycopgConnector(conninfo=url))
    app = App(connector=PsycopgConnector(conninfo=url))
    retry = RetryStrategy(max_attempts=MAX_ATTEMPTS - 1, exponential_wait=BACKOFF)

    @app.task(name=SITE_TASK, pass_context=True, retry=retry)
    def site_job(context: Any, scan: int, n: int) -> None:
        from xpostcheck.queue.run import run_site

        run_site(ctx, scan, n, attempt=int(context.job.attempts))

    @app.task(name=WARC_TASK, pass_context=True, retry=retry)
    def warc_job(context: Any, scan: int, n: int) -> None:
        from xpostcheck.queue.run import run_site

        run_site(ctx, scan, n, attempt=int(context.job.attempts))

    @app.task(name=FINISH_TASK, retry=RetryStrategy(max_attempts=2, wait=5))
    def finish_job(scan: int) -> None:
        from xpostcheck.queue.run import run_finish

        run_finish(ctx, scan)

    # A periodic scan waits while another scan holds the database's lock: tried every minute
    # for an hour, then reported as failed in the worker's log.
    @app.task(name=START_TASK, retry=RetryStrategy(max_attempts=60, wait=60))
    def start_job(schedule: str) -> None:
        from xpostcheck.queue.scans import start_scheduled

        start_scheduled(ctx, schedule)

    @app.periodic(cron="* * * * *", periodic_id="xpostcheck-tick")
    @app.task(name="xpostcheck.tick", queueing_lock="xpostcheck-tick")
    def tick(timestamp: int) -> None:
        from xpostcheck.queue.schedule import due_schedules

        with QueueDB.open(ctx.url, setup=False) as db:
            for name in due_schedules(db):
                defer(ctx.url, START_TASK, queueing_lock=f"xpostcheck-start:{name}", schedule=name)

    @app.periodic(cron=f"*/{ctx.recover_every} * * * * *", periodic_id="xpostcheck-recover")
    @app.task(name="xpostcheck.recover", pass_context=True, queueing_lock="xpostcheck-recover")
    async def recover(context: Any, timestamp: int) -> None:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=ctx.stalled_after)
        for job in stalled:
            log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
            await manager.retry_job(job)

    return app
