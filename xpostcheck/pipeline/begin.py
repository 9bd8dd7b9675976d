"""The start of a scan: everything its site units share, made once.

In: Settings and a progress callback. Out: a `Scan`: the rule set (overrides applied), the
fingerprint of what verdicts depend on, the store and this scan's id in it, the source index
(loaded, grown with this scan's sources, saved), the fetcher every crawl shares, the analyser,
and what the store says changed since earlier scans (modified sources, newer sources). A site
unit (`site.scan_site`) reads the Scan and never changes it; `scan.finish` ends it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from xpostcheck import __version__
from xpostcheck.config import Settings
from xpostcheck.errors import SourceError
from xpostcheck.match.index import IndexDamaged, MatchConfig, SourceIndex
from xpostcheck.models import Fetched, RuleSet, Skipped, SourceArticle
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.net.policy import named_addresses
from xpostcheck.pages.crawl import CrawlConfig
from xpostcheck.pages.polite import Politeness
from xpostcheck.pipeline.analyse import Analyser, workers_for
from xpostcheck.pipeline.carry import NewerSources
from xpostcheck.rules.loader import apply_overrides, load_ruleset
from xpostcheck.sources.loader import describe_skipped, load_sources_report
from xpostcheck.store import Store, open_store
from xpostcheck.store.backend import scan_lock
from xpostcheck.store.base import HeldLock
from xpostcheck.util.lock import FileLock

log = logging.getLogger(__name__)

# (event, detail): "sources" n | "fetched" url | "skipped" url | "copy" url
ProgressFn = Callable[[str, str], None]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def match_config(min_coverage: float) -> MatchConfig:
    """The matcher's settings for a scan's --min-coverage: a floor above the default partial
    (or full) threshold raises that threshold with it, so every copy still has a kind."""
    return MatchConfig(
        min_coverage=min_coverage,
        partial_coverage=max(MatchConfig.partial_coverage, min_coverage),
        full_coverage=max(MatchConfig.full_coverage, min_coverage),
    )


def fingerprint(ruleset: RuleSet, config: MatchConfig) -> str:
    """What a page's verdicts depend on besides the page and its sources: the version, every
    rule (kind, severity, options) and the match settings. Findings are carried over from an
    earlier scan only into a scan with the same fingerprint."""
    rules = [
        {"id": r.id, "kind": r.kind, "severity": r.severity, "options": r.options}
        for r in ruleset.rules
    ]
    parts = {
        "version": __version__,
        "publisher": ruleset.publisher,
        "aliases": list(ruleset.aliases),
        "rules": rules,
        "match": dataclasses.asdict(config),
    }
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_digest(article: SourceArticle) -> str:
    """Of everything the checks may read from a source article."""
    text = json.dumps(dataclasses.asdict(article), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def scan_key(settings: Settings, ruleset: RuleSet) -> str:
    """Scans with the same sites, single URLs and rules compare with each other in history.
    Scans of WARC files with the same rules share one history whatever the files (each month's
    archive has another name; a page's findings resolve only where a later archive holds the
    page again): see docs/rescans.md, "Scans of web archives"."""
    scanned = (
        ["--warc"] if settings.warc else sorted(settings.sites) + ["--url"] + sorted(settings.urls)
    )
    parts = scanned + ["--rules", ruleset.name]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def index_path_for(settings: Settings) -> str:
    """Where the source index is kept between scans: --index, else beside a SQLite database
    (`<db>.index`) so that a scheduled scan does not rebuild it; '' (not kept) for a store
    given by URL."""
    return settings.index or ("" if "://" in settings.db else f"{settings.db}.index")


class SharedFetcher(Fetcher):
    """The one Fetcher of a scan, shared by the crawls of all its site units, with at most
    `limit` requests in flight at once (--threads), as when one crawler fetched every site."""

    def __init__(self, config: FetchConfig, limit: int) -> None:
        super().__init__(config)
        self._slots = threading.BoundedSemaphore(max(1, limit))

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        html_only: bool = True,
        check_redirect: Callable[[str], str | None] | None = None,
    ) -> Fetched:
        with self._slots:
            return super().fetch(
                url,
                etag=etag,
                last_modified=last_modified,
                html_only=html_only,
                check_redirect=check_redirect,
            )


@dataclass(frozen=True)
class Scan:
    """What every site unit of one scan shares. `stopping` is set when the scan is abandoned
    (a unit failed, or the caller was interrupted): units stop at their next page."""

    settings: Settings
    ruleset: RuleSet
    fingerprint: str
    match_config: MatchConfig
    crawl_config: CrawlConfig
    started: str
    store: Store
    scan_id: int
    index: SourceIndex
    source_skips: tuple[Skipped, ...]
    modified: frozenset[str]  # sources whose article changed since the last scan
    newer: NewerSources
    fetcher: Fetcher
    analyser: Analyser
    progress: ProgressFn
    stopping: threading.Event
    # The one politeness layer of the scan (robots.txt, per-host delay, redirect answers),
    # shared by the source reader, every unit's crawl and the link checks.
    polite: Politeness
    locks: tuple[HeldLock, ...] = ()  # held from begin to close: one writer per database

    def close(self) -> None:
        """Release the scan's resources: the analyser's pool, the store, the fetcher, and
        last the locks on the database and the index."""
        try:
            self.analyser.close()
        finally:
            try:
                self.store.close()
            finally:
                try:
                    self.fetcher.close()
                finally:
                    _release(self.locks)


def _release(locks: tuple[HeldLock, ...]) -> None:
    for held in reversed(locks):
        held.release()


def take_locks(settings: Settings) -> tuple[HeldLock, ...]:
    """One scan at a time per database file and per index file: lock `<db>.lock` (which
    covers the index beside it; a PostgreSQL store's lock is an advisory lock in the
    database, taken first) and, for an index kept elsewhere, `<index>.lock`, always in
    the same order so that two scans never deadlock. A scan waits for the one
    that holds a lock (saying so once, as a warning), or with `no_wait` fails at once."""
    guarded: dict[str, str] = {}  # absolute path -> what it guards
    if "://" not in settings.db:
        guarded[str(Path(settings.db).absolute())] = "database"
    index = index_path_for(settings)
    if index and index != f"{settings.db}.index":
        guarded.setdefault(str(Path(index).absolute()), "index")
    held: list[HeldLock] = []
    try:
        in_db = scan_lock(settings.db, wait=not settings.no_wait, on_wait=log.warning)
        held += [in_db] if in_db is not None else []
        for path in sorted(guarded):
            held.append(
                FileLock.acquire(
                    path, wait=not settings.no_wait, what=guarded[path], on_wait=log.warning
                )
            )
    except BaseException:
        _release(tuple(held))
        raise
    return tuple(held)


def _serialised(progress: ProgressFn | None) -> ProgressFn:
    """The caller's progress callback, called by one site unit at a time."""
    if progress is None:
        return lambda _event, _detail: None
    lock = threading.Lock()

    def report(event: str, detail: str) -> None:
        with lock:
            progress(event, detail)

    return report


def _fetcher(settings: Settings) -> SharedFetcher:
    # Non-public addresses: only the exact ADDRESS:PORT a site, --url or source URL names,
    # and what --allow-private names (a host name too, which no URL alone can allow).
    urls = settings.sites + settings.urls
    urls += tuple(s for s in settings.sources if s.startswith(("http://", "https://")))
    config = FetchConfig(
        contact=settings.contact,
        deadline=settings.timeout,
        allowed_hosts=named_addresses(urls) | frozenset(settings.allow_private),
    )
    return SharedFetcher(config, settings.threads)


def _crawl_config(settings: Settings) -> CrawlConfig:
    return CrawlConfig(
        max_pages_per_site=settings.max_pages,
        max_depth=settings.max_depth,
        threads=settings.threads,
        delay=settings.delay,
        recheck_after=settings.recheck_after,
    )


def _read_sources(
    settings: Settings, ruleset: RuleSet, polite: Politeness
) -> tuple[list[SourceArticle], list[Skipped]]:
    """The scan's source articles and the sources skipped; SourceError when none is left.
    Source URLs are fetched through the scan's politeness layer, as every other request."""
    articles, skipped = load_sources_report(
        list(settings.sources), fetch=polite.fetch, publisher=ruleset.publisher
    )
    if not articles:
        why = describe_skipped(skipped)
        raise SourceError(
            "no articles could be read from the sources"
            + (f" ({why})" if why else "; check the files or URLs given"),
            where=", ".join(settings.sources),
        )
    return articles, skipped


def _open_index(settings: Settings, config: MatchConfig) -> tuple[SourceIndex, bool]:
    """The saved index (or a new one) and whether it must be saved whole, replacing the file:
    on --rebuild-index, and when the saved file is damaged (rebuilt from this scan's sources,
    with a warning). Any other problem with the file (another program's file, other shaping
    settings, a newer format) is an IndexFileError: the file is left alone."""
    path = index_path_for(settings)
    if not path or settings.rebuild_index or not Path(path).exists():
        return SourceIndex(config), bool(path)
    try:
        return SourceIndex.load(path, config=config), False
    except IndexDamaged as exc:
        log.warning("%s; rebuilding it from the sources of this scan", exc)
        return SourceIndex(config), True


def _grow_index(
    settings: Settings,
    index: SourceIndex,
    replace: bool,
    articles: list[SourceArticle],
    store: Store,
    scan_id: int,
) -> set[str]:
    """Add this scan's sources to the index, save it when it changed, and return the sources
    whose article changed since an earlier scan."""
    # The store notes which scan each article (in its current form) arrived in: an unchanged
    # page is matched against the ones that came after it was last analysed, and a copy
    # judged against an older form of its source is judged again.
    modified = store.note_sources(scan_id, {a.url: source_digest(a) for a in articles})
    changed = index.add(articles)
    path = index_path_for(settings)
    if path and (changed or replace):
        # The scan holds the index's lock (take_locks); a save still merges what a library
        # caller added to the file meanwhile.
        index.save(path, replace=replace)
    return modified


def begin(settings: Settings, progress: ProgressFn | None = None) -> Scan:
    """Load the rules, take the database's lock, open and check the store and the source
    index (before anything is crawled), begin a scan in the store, grow the index."""
    ruleset = load_ruleset(settings.rules)
    if settings.rule_overrides:
        ruleset = apply_overrides(ruleset, settings.rule_overrides, where=settings.overrides_where)
    config = match_config(settings.min_coverage)
    scan_fingerprint = fingerprint(ruleset, config)
    report = _serialised(progress)
    locks = take_locks(settings)
    try:
        fetcher = _fetcher(settings)
    except BaseException:
        _release(locks)
        raise
    try:
        store = open_store(settings.db, check=True)
    except BaseException:
        try:
            fetcher.close()
        finally:
            _release(locks)
        raise
    try:
        index, replace = _open_index(settings, config)
        polite = Politeness(fetcher, _crawl_config(settings))
        articles, skipped = _read_sources(settings, ruleset, polite)
        started = now_iso()
        scan_id = store.begin_scan(scan_key(settings, ruleset), started, scan_fingerprint)
        modified = _grow_index(settings, index, replace, articles, store, scan_id)
        report("sources", str(len(index)))
    except BaseException:
        try:
            store.close()
        finally:
            try:
                fetcher.close()
            finally:
                _release(locks)
        raise
    return Scan(
        settings=settings,
        ruleset=ruleset,
        fingerprint=scan_fingerprint,
        match_config=config,
        crawl_config=polite.cfg,
        polite=polite,
        started=started,
        store=store,
        scan_id=scan_id,
        index=index,
        source_skips=tuple(skipped),
        modified=frozenset(modified),
        newer=NewerSources(store, index, config),
        fetcher=fetcher,
        analyser=Analyser(index, index_path_for(settings), config, workers_for(settings)),
        progress=report,
        stopping=threading.Event(),
        locks=locks,
    )


def join(
    settings: Settings,
    *,
    store: Store,
    scan_id: int,
    started: str,
    index: SourceIndex,
    index_path: str,
    source_skips: tuple[Skipped, ...] = (),
    modified: frozenset[str] = frozenset(),
    progress: ProgressFn | None = None,
) -> Scan:
    """A Scan begun elsewhere (by `begin` in another process), joined to run some of its site
    units or to finish it: the store is open, the scan id and the index are given; nothing is
    read from the sources and no lock is taken (the queue orders the jobs). The Scan owns
    `store` from here on (its `close` closes it)."""
    ruleset = load_ruleset(settings.rules)
    if settings.rule_overrides:
        ruleset = apply_overrides(ruleset, settings.rule_overrides, where=settings.overrides_where)
    config = match_config(settings.min_coverage)
    try:
        fetcher = _fetcher(settings)
    except BaseException:
        store.close()
        raise
    polite = Politeness(fetcher, _crawl_config(settings))
    return Scan(
        settings=settings,
        ruleset=ruleset,
        fingerprint=fingerprint(ruleset, config),
        match_config=config,
        crawl_config=polite.cfg,
        polite=polite,
        started=started,
        store=store,
        scan_id=scan_id,
        index=index,
        source_skips=source_skips,
        modified=modified,
        newer=NewerSources(store, index, config),
        fetcher=fetcher,
        analyser=Analyser(index, index_path, config, workers_for(settings)),
        progress=_serialised(progress),
        stopping=threading.Event(),
    )
