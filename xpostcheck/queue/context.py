"""A worker process's context: the queue's URL, its store, its heartbeat, and a cache of
the source indexes its jobs use (read from the database once per index)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.queue.tables import QueueDB, QueueError

log = logging.getLogger(__name__)

__all__ = ["HEARTBEAT", "WorkerContext"]

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
                raise QueueError(f"source index {digest} is missing from the queue's database")
            data = bytes(row[0])
            if hashlib.sha256(data).hexdigest() != digest:
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
