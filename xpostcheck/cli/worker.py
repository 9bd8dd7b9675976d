"""`xpostcheck worker`: run queued scan jobs (site units, finishing jobs, periodic scans) until
stopped. SIGTERM or Ctrl-C: the current job ends cleanly, then exit 0.

In: --db (the store, a postgresql:// URL on a deployment) and --queue-db (the queue's database;
default: --db). Out: nothing on stdout; what the jobs do goes to the log on stderr.
"""

from __future__ import annotations

import sys

import click

from xpostcheck.cli.config_cmd import command_settings
from xpostcheck.cli.output import EXIT_OK

__all__ = ["worker"]


def queue_url(db: str, queue_db: str | None) -> str:
    """The queue's database: --queue-db, else --db when it is a PostgreSQL URL."""
    url = queue_db or db
    if not url.startswith(("postgresql://", "postgres://")):
        raise click.UsageError(
            "the queue needs a PostgreSQL database: give --db postgresql://... "
            "(or --queue-db postgresql://... beside a SQLite --db)"
        )
    return url


@click.command()
@click.option("--db", help="The scan database: a postgresql:// URL shared by every worker.")
@click.option(
    "--queue-db",
    metavar="URL",
    help="The queue's PostgreSQL database, when it is not --db (one machine, a SQLite --db).",
)
@click.option("--name", help="This worker's name in the logs (default: xpostcheck-PID).")
@click.option(
    "--heartbeat",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds between heartbeats; the jobs of a worker silent for 3 of them run again.",
)
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(
    db: str | None, queue_db: str | None, name: str | None, heartbeat: float, once: bool
) -> None:
    """Run queued scan jobs until stopped: one site of a scan at a time, under the lock of
    its host (no two workers crawl one host at once), the finishing job of a scan whose sites
    have all ended, and the periodic scans of 'xpostcheck schedule'. Start as many workers,
    on as many machines, as the sites need; SIGTERM lets the current job end, then exits 0.
    """
    from xpostcheck.queue.worker import WorkerContext, run_worker

    store = command_settings(db=db).db
    url = queue_url(store, queue_db)
    if heartbeat <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--heartbeat")
    run_worker(WorkerContext(url=url, store=store, heartbeat=heartbeat), name=name, once=once)
    sys.exit(EXIT_OK)
