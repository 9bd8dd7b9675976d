"""Putting jobs in the queue: the task names, the host locks, and `defer` from synchronous
code (a command, or a job on a worker thread) through a connection of its own."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from xpostcheck.pipeline.site import SiteUnit, _site_key

__all__ = [
    "BACKOFF",
    "FINISH_TASK",
    "MAX_ATTEMPTS",
    "SITE_TASK",
    "START_TASK",
    "WARC_TASK",
    "defer",
    "host_lock",
    "unit_key",
]

SITE_TASK = "xpostcheck.site"
FINISH_TASK = "xpostcheck.finish"
START_TASK = "xpostcheck.start"
WARC_TASK = "xpostcheck.warc"  # one WARC file of a queued `scan --warc` (queue.warcjobs)
MAX_ATTEMPTS = 4  # a site job runs at most this often: then its sites are reported skipped
BACKOFF = 4  # seconds: the retries of a failed site wait 4, 16, 64 seconds


def unit_key(unit: SiteUnit) -> str:
    """The host (and port) a queued unit fetches from: its first site's, or first URL's (a
    queued unit of single URLs holds the URLs of one host)."""
    url = (unit.sites or unit.urls or ("",))[0]
    key = _site_key(url)
    if key is None:
        return urlsplit(url).netloc or url
    host, port = key
    return f"{host}:{port}" if port is not None else host


def host_lock(key: str) -> str:
    return f"xpostcheck-host:{key}"


def defer(
    url: str, task: str, *, lock: str | None = None, queueing_lock: str | None = None, **kwargs: Any
) -> None:
    """Defer one job from synchronous code (a command, or a job on a worker thread), through
    a connection of its own."""
    from procrastinate import App, SyncPsycopgConnector
    from procrastinate.exceptions import AlreadyEnqueued

    app = App(connector=SyncPsycopgConnector(conninfo=url))
    # AlreadyEnqueued: the same job waits in the queue already, and once is enough
    with app.open(), contextlib.suppress(AlreadyEnqueued):
        app.configure_task(task, lock=lock, queueing_lock=queueing_lock).defer(**kwargs)
