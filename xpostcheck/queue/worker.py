"""A worker process: the loop that runs jobs until it is stopped.

SIGTERM or Ctrl-C: procrastinate stops taking jobs, lets the current one end, and returns;
`run_worker` then returns too (the command exits 0). A second signal stops at once.
"""

from __future__ import annotations

import os

from xpostcheck.queue.context import WorkerContext
from xpostcheck.queue.jobs import build_app
from xpostcheck.queue.tables import QueueDB

__all__ = ["WorkerContext", "run_worker"]


def run_worker(ctx: WorkerContext, *, name: str | None = None, once: bool = False) -> None:
    """Run jobs until stopped (or, with `once`, until the queue is empty)."""
    with QueueDB.open(ctx.url):  # creates the tables on first use; says when no server
        pass
    app = build_app(ctx.url, ctx)
    try:
        app.run_worker(
            name=name or f"xpostcheck-{os.getpid()}",
            wait=not once,
            concurrency=1,
            delete_jobs="successful",
            update_heartbeat_interval=ctx.heartbeat,
            stalled_worker_timeout=ctx.stalled_after,
            fetch_job_polling_interval=min(5.0, ctx.heartbeat),
        )
    finally:
        ctx.close()
