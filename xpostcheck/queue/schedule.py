"""Periodic scans, kept in the queue's database and started by the workers' `tick` job.

In: a name, a cron expression (five fields: minute hour day month weekday) and the scan's
Settings. Out: rows of `xpostcheck_q_schedules`. Every minute one worker's `tick` job asks
`due_schedules` which scans are due (a cron time passed since the last run) and claims them
in the same statement, so that two workers never start one scan twice. Adding or removing a
schedule needs no worker restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from xpostcheck.config import Settings
from xpostcheck.errors import ConfigError
from xpostcheck.queue import codec
from xpostcheck.queue.tables import QueueDB

__all__ = [
    "Schedule",
    "add_schedule",
    "check_cron",
    "due_schedules",
    "list_schedules",
    "remove_schedule",
    "schedule_settings",
]


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str
    sites: tuple[str, ...]
    rules: str
    last_run: str | None
    next_run: str


def check_cron(cron: str) -> str:
    """The expression, normalised; ConfigError naming it and the form expected when it is
    not a valid five-field cron expression."""
    from croniter import croniter

    text = " ".join(cron.split())
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ConfigError(
            "not a cron expression; give five fields: minute hour day-of-month month "
            "day-of-week, for example '0 3 * * *' (every day at 03:00 UTC)",
            where=repr(cron),
        )
    return text


def _next(cron: str, after: datetime) -> datetime:
    from croniter import croniter

    found = croniter(cron, after).get_next(datetime)
    assert isinstance(found, datetime)
    return found


def add_schedule(db: QueueDB, name: str, cron: str, settings: Settings) -> Schedule:
    """Add periodic scan `name`, or replace its cron expression and settings."""
    from psycopg.types.json import Jsonb

    cron = check_cron(cron)
    if not name.strip():
        raise ConfigError("a periodic scan needs a name")
    db.run(
        """INSERT INTO xpostcheck_q_schedules (name, cron, settings, created)
           VALUES (%s, %s, %s, now())
           ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, settings = excluded.settings,
               created = now(), last_run = NULL""",
        (name, cron, Jsonb(codec.settings_to_json(settings))),
    )
    found = [s for s in list_schedules(db) if s.name == name]
    return found[0]


def list_schedules(db: QueueDB) -> list[Schedule]:
    out = []
    rows = db.all(
        "SELECT name, cron, settings, last_run, created FROM xpostcheck_q_schedules ORDER BY name"
    )
    for name, cron, data, last_run, created in rows:
        settings = codec.settings_from_json(data)
        since = last_run or created
        out.append(
            Schedule(
                name=name,
                cron=cron,
                sites=settings.sites + settings.urls,
                rules=settings.rules,
                last_run=last_run.isoformat(timespec="seconds") if last_run else None,
                next_run=_next(cron, since).isoformat(timespec="seconds"),
            )
        )
    return out


def remove_schedule(db: QueueDB, name: str) -> bool:
    return db.run("DELETE FROM xpostcheck_q_schedules WHERE name = %s", (name,)) > 0


def schedule_settings(db: QueueDB, name: str) -> Settings | None:
    row = db.one("SELECT settings FROM xpostcheck_q_schedules WHERE name = %s", (name,))
    return codec.settings_from_json(row[0]) if row else None


def due_schedules(db: QueueDB, now: datetime | None = None) -> list[str]:
    """The periodic scans due at `now` (UTC), each claimed (its last run set to now) so that
    another worker's tick does not start it again."""
    now = now or datetime.now(timezone.utc)
    due = []
    for name, cron, last_run, created in db.all(
        "SELECT name, cron, last_run, created FROM xpostcheck_q_schedules"
    ):
        if _next(cron, last_run or created) > now:
            continue
        claimed = db.run(
            """UPDATE xpostcheck_q_schedules SET last_run = %s
               WHERE name = %s AND last_run IS NOT DISTINCT FROM %s""",
            (now, name, last_run),
        )
        if claimed:
            due.append(name)
    return due
