"""A worker process: its context (the queue's URL, its store, a cache of source indexes) and
the loop that runs jobs until it is stopped.

SIGTERM or Ctrl-C: procrastinate stops taking jobs, lets the current one end, and returns;
`run_worker` then returns too (the command exits 0). A second signal stops at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.queue.tables import QueueDB

log = logging.getLogger(__name__)

__all__ = ["WorkerContext", "run_worker"]

HEARTBEAT = 10.0  # seconds between a worker's heartbeats; silent for 3 of them: it is dead


@dataclass
class WorkerContext:
    """What one worker process keeps between its jobs."""

    url: str  # the queue's database
    store: str  # the worker's --db (the same URL on a PostgreSQL deployment)
    heartbeat: float = HEARTBEAT
    cache: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="xpostcheck-w-")))
    indexes: dict[str, tuple[Path, SourceIndex]] = field(default_factory=dict)

    @property
    def stalled_after(self) -> float:
        return 3 * self.heartbeat

    @property
    def recover_every(self) -> int:
        """Seconds between two looks for the jobs of dead workers (a divisor of 60)."""
        wanted = max(1, int(self.heartbeat))
        return max(d for d in (1, 2, 3, 5, 10, 15, 20, 30) if d <= wanted)

    def index(self, db: QueueDB, digest: str, config: MatchConfig) -> tuple[Path, SourceIndex]:
        """The source index `digest`, read from the database once per worker and kept in a
        file of the worker's cache (the analyser's processes load it from there)."""
        held = self.indexes.get(digest)
        if held is not None and held[1].config == config:
            return held
        path = self.cache / f"{digest}.index"
        if not path.exists():
            row = db.one("SELECT data FROM xpostcheck_q_indexes WHERE digest = %s", (digest,))
            if row is None:
                from xpostcheck.queue.jobs import QueueError

                raise QueueError(f"source index {digest} is missing from the queue's database")
            data = bytes(row[0])
            if hashlib.sha256(data).hexdigest() != digest:
                from xpostcheck.queue.jobs import QueueError

                raise QueueError(f"source index {digest} is damaged in the queue's database")
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(path)
        held = (path, SourceIndex.load(str(path), config=config))
        self.indexes = {digest: held}  # one index kept: scans of other sources replace it
        return held

    def close(self) -> None:
        for item in self.cache.glob("*"):
            item.unlink(missing_ok=True)
        self.cache.rmdir()


def run_worker(ctx: WorkerContext, *, name: str | None = None, once: bool = False) -> None:
    """Run jobs until stopped (or, with `once`, until the queue is empty)."""
    from xpostcheck.queue.jobs import build_app

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
