"""Extraction and matching of fetched pages, in-process or in a pool of worker processes.

In: the crawl's events (Fetched | Skipped) of one site unit, and a test that tells an
unchanged page. Out: `Analysed` (fetched, page, matches) for each page extracted and matched,
`Skipped` as they come (an extraction failure becomes one), and `Fetched` for unchanged pages,
which are not analysed again. One `Analyser` serves every site unit of a scan: its process
pool is shared, and each unit keeps its own pages in flight, so units run side by side.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, NamedTuple

from xpostcheck import options
from xpostcheck.config import Settings
from xpostcheck.extract.page import extract_page
from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.models import Fetched, Match, Page, SkipCode, Skipped
from xpostcheck.util.files import scan_tempdir

log = logging.getLogger(__name__)


class Analysed(NamedTuple):
    """A page fetched in full, extracted and matched against the index."""

    fetched: Fetched
    page: Page
    matches: list[Match]


AnalysisEvent = Analysed | Skipped | Fetched


def analyse(fetched: Fetched, index: SourceIndex) -> tuple[Page, list[Match]]:
    """Extract a fetched page and match it against the index."""
    page = extract_page(fetched)
    return page, index.match(page.full_text) if page.full_text else []


# --- process-pool workers: one index per worker, loaded once -------------------------------

# Filled by the pool initializer inside each worker process (spawned, so never shared with the
# parent); the parent process never touches it.
_WORKER_INDEX: list[SourceIndex] = []


def _init_worker(index_path: str, config: MatchConfig) -> None:
    # The parent decides when the scan stops: Ctrl-C (sent to the whole process group) is its
    # to handle, and it shuts the pool down; a worker never prints a KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = multiprocessing.parent_process()
    if parent is not None:  # a worker never outlives its scan, even one killed with -9
        threading.Thread(
            target=_exit_with, args=(parent.sentinel,), name="xpostcheck-parent", daemon=True
        ).start()
    _WORKER_INDEX.append(SourceIndex.load(index_path, config=config))


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])  # ready when the parent process has ended
    os._exit(1)


def _ready() -> int:
    return os.getpid()


def _analyse_in_worker(fetched: Fetched) -> tuple[Page, list[Match]]:
    return analyse(fetched, _WORKER_INDEX[0])


def workers_for(settings: Settings) -> int:
    """Extraction processes: --workers, or by the machine when it is 0. Processes pay for
    themselves only on real crawls; single pages stay in-process."""
    if settings.workers > 0:
        return settings.workers
    return min(os.cpu_count() or 1, 4) if settings.sites else 1


class Analyser:
    """Extracts and matches pages for every site unit of one scan.

    With one worker everything runs in the calling (site unit's) thread. With more, a pool of
    spawned processes, each holding the index loaded from `index_path` (or from a temporary
    copy when the scan keeps none), is started on the first page and shared by the units. A
    dead worker loses no page: the rest of the scan goes on in-process. `close` ends the
    workers and removes the temporary copy, also when the scan is interrupted (Ctrl-C,
    SIGTERM); a worker whose scan died (kill -9) exits by itself.
    """

    def __init__(
        self, index: SourceIndex, index_path: str, config: MatchConfig, workers: int
    ) -> None:
        self.index = index
        self.index_path = index_path
        self.config = config
        self.workers = workers
        self._lock = threading.Lock()
        self._inline_lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._broken = False
        self._closed = False
        # Per-page analysis deadline (pool only): a page whose analysis passes it is skipped
        # and its worker killed; the pages in flight go to a fresh pool.
        self.deadline = options.ANALYSIS_DEADLINE
        self.work: Callable[[Fetched], tuple[Page, list[Match]]] = _analyse_in_worker
        self._pool_of: weakref.WeakKeyDictionary[Future[Any], ProcessPoolExecutor] = (
            weakref.WeakKeyDictionary()
        )
        self._killed: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()

    def inline(self, fetched: Fetched) -> Analysed | Skipped:
        try:
            # One page at a time in this process: the units' threads would only fight over
            # the GIL (measured: +40% CPU for 24 units analysing side by side), while their
            # crawlers keep fetching meanwhile.
            with self._inline_lock:
                page, matches = analyse(fetched, self.index)
        except Exception as exc:  # one bad page never stops the scan
            return Skipped(
                fetched.final_url, f"extraction failed: {exc}", SkipCode.EXTRACTION_FAILED
            )
        return Analysed(fetched, page, matches)

    def pages(
        self, events: Iterable[Fetched | Skipped], unchanged: Callable[[Fetched], bool]
    ) -> Iterator[AnalysisEvent]:
        """Every event of one unit, analysed where needed, in the order the events came."""
        if self.workers <= 1:
            for event in events:
                yield (
                    event if isinstance(event, Skipped) or unchanged(event) else self.inline(event)
                )
            return
        inflight: deque[tuple[Fetched, Future[tuple[Page, list[Match]]]]] = deque()
        for event in events:
            if isinstance(event, Skipped) or unchanged(event):
                yield event
            elif self._broken:
                yield self.inline(event)
            else:
                inflight.append((event, self._submit(event)))
                yield from self._drain(inflight, self.workers * 4)
        yield from self._drain(inflight, 0)

    def _drain(
        self, inflight: deque[tuple[Fetched, Future[tuple[Page, list[Match]]]]], limit: int
    ) -> Iterator[Analysed | Skipped]:
        while len(inflight) > limit:
            fetched, future = inflight.popleft()
            try:
                page, matches = self._result_in_time(fetched, future)
            except FutureTimeout:
                yield Skipped(
                    fetched.final_url,
                    f"analysis took longer than {self.deadline:g} s (the per-page deadline); "
                    "skipped",
                    SkipCode.EXTRACTION_FAILED,
                )
                continue
            except BrokenProcessPool as exc:
                with self._lock:
                    if not self._broken:
                        log.warning("extraction worker died (%s); going on in-process", exc)
                    self._broken = True
                yield self.inline(fetched)  # a dead worker loses no page
                continue
            except Exception as exc:
                yield Skipped(
                    fetched.final_url, f"extraction failed: {exc}", SkipCode.EXTRACTION_FAILED
                )
                continue
            yield Analysed(fetched, page, matches)

    def _submit(self, fetched: Fetched) -> Future[tuple[Page, list[Match]]]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the analyser is closed")
            if self._pool is None:
                self._pool = self._start()
            pool = self._pool
        try:
            future = pool.submit(self.work, fetched)
        except BrokenProcessPool as exc:  # broke while starting: _drain goes on in-process
            future = Future()
            future.set_exception(exc)
        self._pool_of[future] = pool
        return future

    def _result_in_time(
        self, fetched: Fetched, future: Future[tuple[Page, list[Match]]]
    ) -> tuple[Page, list[Match]]:
        """The future's result within the deadline. Past it, the pool's workers are killed
        (a process is the only way to stop a runaway parse) and FutureTimeout is raised; a
        page that was in flight in a pool killed for another page's sake is submitted again."""
        while True:
            try:
                return future.result(timeout=self.deadline)
            except FutureTimeout:
                self._kill(self._pool_of.get(future))
                raise
            except BrokenProcessPool:
                if self._pool_of.get(future) not in self._killed:
                    raise
                future = self._submit(fetched)

    def _kill(self, pool: ProcessPoolExecutor | None) -> None:
        with self._lock:
            if pool is None or pool in self._killed:
                return
            self._killed.add(pool)
            if self._pool is pool:
                self._pool = None  # the next page starts a fresh pool
        log.warning("page analysis passed %g s; restarting the extraction workers", self.deadline)
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        index_path = self.index_path
        if not index_path or not Path(index_path).exists():
            self._tmp = scan_tempdir()  # named after this process: see util.files.clean_stale
            index_path = os.path.join(self._tmp.name, "index")
            self.index.save(index_path)
        # spawn, not fork: the crawlers' threads are already running in this process.
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(index_path, self.config),
        )
        # Every worker up (spawned, imported, its index loaded) before a page's deadline
        # starts: a large index or a busy machine must not make the first pages "late". One
        # task per worker spawns each of them; a pool that breaks here is found at submit.
        for future in [pool.submit(_ready) for _ in range(self.workers)]:
            with contextlib.suppress(Exception):
                future.result()
        return pool

    def close(self) -> None:
        """Stop the pool (after the pages in it) and remove the temporary index."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            tmp, self._tmp = self._tmp, None
        try:
            if pool is not None:  # pages not started are dropped; at most one per worker runs on
                pool.shutdown(wait=True, cancel_futures=True)
        finally:
            if tmp is not None:
                tmp.cleanup()
