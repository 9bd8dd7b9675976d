"""`xpostcheck schedule add|list|remove`: periodic scans run by the workers (cron syntax), so
that a deployment needs no crontab.

In: a name, a cron expression, and the scan's settings (its config file, the environment and
--db). Out: the schedule listed on stdout.
"""

from __future__ import annotations

import click

from xpostcheck.cli.config_cmd import command_settings
from xpostcheck.cli.worker import queue_url

__all__ = ["schedule_group"]

_DB = click.option("--db", help="The scan database: a postgresql:// URL (the queue's too).")
_QUEUE_DB = click.option("--queue-db", metavar="URL", help="The queue's database, if not --db.")


@click.group("schedule")
def schedule_group() -> None:
    """Periodic scans, started by the workers at the times a cron expression gives (UTC)."""


@schedule_group.command("add")
@click.argument("name")
@click.argument("cron")
@_DB
@_QUEUE_DB
def add(name: str, cron: str, db: str | None, queue_db: str | None) -> None:
    """Scan NAME at the times of CRON (five fields: minute hour day month weekday, UTC) with
    the settings of the config file (--config, or ./xpostcheck.toml) and the environment.
    Adding a NAME again replaces it."""
    from xpostcheck.config import Settings
    from xpostcheck.queue.schedule import add_schedule, check_cron
    from xpostcheck.queue.tables import QueueDB

    check_cron(cron)  # a bad expression is refused before anything else
    settings: Settings = command_settings(db=db)
    if not settings.sources or not settings.rules or not (settings.sites or settings.urls):
        raise click.UsageError(
            "a periodic scan needs sources, rules and sites: put them in its config file "
            "(--config FILE) as for 'xpostcheck scan'"
        )
    with QueueDB.open(queue_url(settings.db, queue_db)) as qdb:
        found = add_schedule(qdb, name, cron, settings)
    click.echo(f"{found.name}: '{found.cron}', next run {found.next_run} UTC")


@schedule_group.command("list")
@_DB
@_QUEUE_DB
def list_(db: str | None, queue_db: str | None) -> None:
    """List the periodic scans: name, cron, last and next run, sites."""
    from xpostcheck.queue.schedule import list_schedules
    from xpostcheck.queue.tables import QueueDB

    with QueueDB.open(queue_url(command_settings(db=db).db, queue_db)) as qdb:
        found = list_schedules(qdb)
    if not found:
        click.echo("no periodic scans; add one with 'xpostcheck schedule add NAME CRON'")
    for s in found:
        last = s.last_run or "never"
        click.echo(
            f"{s.name}  '{s.cron}'  last {last}  next {s.next_run}  "
            f"rules {s.rules}  {len(s.sites)} sites"
        )


@schedule_group.command("remove")
@click.argument("name")
@_DB
@_QUEUE_DB
def remove(name: str, db: str | None, queue_db: str | None) -> None:
    """Remove periodic scan NAME (a scan it started already goes on)."""
    from xpostcheck.queue.schedule import remove_schedule
    from xpostcheck.queue.tables import QueueDB

    with QueueDB.open(queue_url(command_settings(db=db).db, queue_db)) as qdb:
        if not remove_schedule(qdb, name):
            raise click.UsageError(f"no periodic scan named {name!r} ('xpostcheck schedule list')")
    click.echo(f"removed {name}")
