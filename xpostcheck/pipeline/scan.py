"""One scan, wired from the stages: sources, index, crawl, extract, match, checks, store.

This module holds no click and prints nothing: `cli.py` drives it, and so can any Python caller.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from xpostcheck import __version__
from xpostcheck.checks.registry import run_checks
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.config import Settings
from xpostcheck.errors import ScanFailed, SourceError
from xpostcheck.extract.page import extract_html, extract_page
from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.models import (
    Copy,
    Fetched,
    Match,
    Page,
    PageState,
    Report,
    RuleSet,
    ScanInfo,
    SkipCode,
    Skipped,
    SourceArticle,
    verdict_for,
)
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.pages.crawl import CrawlConfig, Crawler
from xpostcheck.report.base import RenderContext
from xpostcheck.review.evidence import archived_html
from xpostcheck.rules.loader import apply_overrides, load_ruleset
from xpostcheck.sources.loader import describe_skipped, load_sources_report
from xpostcheck.store.sqlite import Store, open_store
from xpostcheck.util.urls import host_of, same_site

log = logging.getLogger(__name__)

# (event, detail): "sources" n | "fetched" url | "skipped" url | "copy" url
ProgressFn = Callable[[str, str], None]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ScanResult:
    report: Report
    context: RenderContext
    ruleset: RuleSet


@dataclass
class _Pending:
    """A page that holds at least one copy, waiting for the site's chrome profile."""

    page: Page
    matches: list[Match]


@dataclass
class _State:
    skipped: list[Skipped] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    carried: list[Copy] = field(default_factory=list)
    profiles: dict[str, SiteProfile] = field(default_factory=dict)
    known: dict[str, PageState] = field(default_factory=dict)  # page states the crawl used
    fetched: int = 0
    unchanged: int = 0


# --- process-pool workers: one index per worker, loaded once -------------------------------

# Filled by the pool initializer inside each worker process (spawned, so never shared with the
# parent); the parent process never touches it.
_WORKER_INDEX: list[SourceIndex] = []


def _init_worker(index_path: str, config: MatchConfig) -> None:
    _WORKER_INDEX.append(SourceIndex.load(index_path, config=config))


def _analyse_in_worker(fetched: Fetched) -> tuple[Page, list[Match]]:
    return analyse(fetched, _WORKER_INDEX[0])


def analyse(fetched: Fetched, index: SourceIndex) -> tuple[Page, list[Match]]:
    """Extract a fetched page and match it against the index."""
    page = extract_page(fetched)
    return page, index.match(page.full_text) if page.full_text else []


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


def _digest(article: SourceArticle) -> str:
    """Of everything the checks may read from a source article."""
    text = json.dumps(dataclasses.asdict(article), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def scan_key(settings: Settings, ruleset: RuleSet) -> str:
    """Scans with the same sites, single URLs and rules compare with each other in history."""
    parts = sorted(settings.sites) + ["--url"] + sorted(settings.urls) + ["--rules", ruleset.name]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class Scanner:
    """Runs one scan. Owns its fetcher, crawler, index and store for the scan's lifetime."""

    def __init__(self, settings: Settings, *, progress: ProgressFn | None = None) -> None:
        self.settings = settings
        self.progress: ProgressFn = progress or (lambda _event, _detail: None)
        ruleset = load_ruleset(settings.rules)
        if settings.rule_overrides:
            ruleset = apply_overrides(
                ruleset, settings.rule_overrides, where=settings.overrides_where
            )
        self.ruleset = ruleset
        named = {host_of(u) for u in settings.sites + settings.urls}
        named |= {host_of(s) for s in settings.sources if s.startswith(("http://", "https://"))}
        self.fetcher = Fetcher(
            FetchConfig(
                contact=settings.contact,
                deadline=settings.timeout,
                allowed_hosts=frozenset(h for h in named if h),
            )
        )
        self.crawl_config = CrawlConfig(
            max_pages_per_site=settings.max_pages,
            max_depth=settings.max_depth,
            threads=settings.threads,
            delay=settings.delay,
            recheck_after=settings.recheck_after,
        )
        self.match_config = match_config(settings.min_coverage)
        self.fingerprint = fingerprint(ruleset, self.match_config)
        self.modified: set[str] = set()  # sources whose article changed since the last scan
        self._newer_urls: dict[int, list[str]] = {}  # scan id -> sources that came after
        self._since: dict[int, SourceIndex] = {}  # ... and their index, built when needed
        # The index is kept beside the database so that a scheduled scan does not rebuild it.
        self.index_path = settings.index or ("" if "://" in settings.db else f"{settings.db}.index")

    # -- stages ---------------------------------------------------------------------------

    def _load_index(self, store: Store, scan_id: int) -> tuple[SourceIndex, list[Skipped]]:
        articles, skipped = load_sources_report(
            list(self.settings.sources), fetch=self.fetcher.fetch, publisher=self.ruleset.publisher
        )
        if not articles:
            why = describe_skipped(skipped)
            raise SourceError(
                "no articles could be read from the sources"
                + (f" ({why})" if why else "; check the files or URLs given"),
                where=", ".join(self.settings.sources),
            )
        path = self.index_path
        if path and Path(path).exists() and not self.settings.rebuild_index:
            index = SourceIndex.load(path, config=self.match_config)
        else:
            index = SourceIndex(self.match_config)
        # The store notes which scan each article (in its current form) arrived in: an
        # unchanged page is matched against the ones that came after it was last analysed,
        # and a copy judged against an older form of its source is judged again.
        self.modified = store.note_sources(scan_id, {a.url: _digest(a) for a in articles})
        changed = index.add(articles)
        if path and (changed or self.settings.rebuild_index or not Path(path).exists()):
            index.save(path)
        self.progress("sources", str(len(index)))
        return index, skipped

    def _workers(self) -> int:
        if self.settings.workers > 0:
            return self.settings.workers
        # Processes pay for themselves only on real crawls; single pages stay in-process.
        return min(os.cpu_count() or 1, 4) if self.settings.sites else 1

    def _analysed(
        self,
        events: Iterator[Fetched | Skipped],
        index: SourceIndex,
        unchanged: Callable[[Fetched], bool],
    ) -> Iterator[tuple[Fetched, Page, list[Match]] | Skipped | Fetched]:
        """Extract and match every page, in a process pool when there is more than one worker.

        Yields (fetched, page, matches) for analysed pages, Skipped as they come, and Fetched
        for unchanged pages (a 304, or the same content hash as last time).
        """

        def inline(fetched: Fetched) -> tuple[Fetched, Page, list[Match]] | Skipped:
            try:
                page, matches = analyse(fetched, index)
            except Exception as exc:  # one bad page never stops the scan
                return Skipped(
                    fetched.final_url, f"extraction failed: {exc}", SkipCode.EXTRACTION_FAILED
                )
            return fetched, page, matches

        workers = self._workers()
        if workers <= 1:
            for event in events:
                yield event if isinstance(event, Skipped) or unchanged(event) else inline(event)
            return
        with tempfile.TemporaryDirectory(prefix="xpostcheck-") as tmp:
            index_path = self.index_path
            if not index_path or not Path(index_path).exists():
                index_path = os.path.join(tmp, "index")
                index.save(index_path)
            # spawn, not fork: the crawler's threads are already running in this process.
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(index_path, self.match_config),
            ) as pool:
                inflight: deque[tuple[Fetched, Future[tuple[Page, list[Match]]]]] = deque()
                broken = False

                def drain(limit: int) -> Iterator[tuple[Fetched, Page, list[Match]] | Skipped]:
                    nonlocal broken
                    while len(inflight) > limit:
                        fetched, fut = inflight.popleft()
                        try:
                            page, matches = fut.result()
                        except BrokenProcessPool as exc:
                            if not broken:
                                log.warning("extraction worker died (%s); going on in-process", exc)
                            broken = True
                            yield inline(fetched)  # a dead worker loses no page
                            continue
                        except Exception as exc:
                            yield Skipped(
                                fetched.final_url,
                                f"extraction failed: {exc}",
                                SkipCode.EXTRACTION_FAILED,
                            )
                            continue
                        yield fetched, page, matches

                for event in events:
                    if isinstance(event, Skipped) or unchanged(event):
                        yield event
                    elif broken:
                        yield inline(event)
                    else:
                        inflight.append((event, pool.submit(_analyse_in_worker, event)))
                        yield from drain(workers * 4)
                yield from drain(0)

    def run(self) -> ScanResult:
        settings = self.settings
        started = now_iso()
        store = open_store(settings.db)
        try:
            scan_id = store.begin_scan(scan_key(settings, self.ruleset), started, self.fingerprint)
            index, source_skips = self._load_index(store, scan_id)
            state = _State(skipped=list(source_skips))
            known = self._known(store, state, index)

            def unchanged(fetched: Fetched) -> bool:
                if fetched.unchanged:
                    return True
                last = state.known.get(fetched.url)
                return last is not None and last.content_hash == fetched.content_hash

            crawler = Crawler(self.fetcher, self.crawl_config, known=known)
            events = crawler.crawl(list(settings.sites), list(settings.urls))
            for item in self._analysed(events, index, unchanged):
                self._take(item, store, scan_id, state)
            # A source dropped from the index (--rebuild-index) takes its carried copies along.
            carried = [c for c in state.carried if c.source_url in index]
            copies = self._judge(state, index) + carried
            copies.sort(key=lambda c: (c.site, c.url, c.source_url))
            crawl_skips = state.skipped[len(source_skips) :]
            if state.fetched == 0 and all(s.unreachable for s in crawl_skips):
                # Every site unreachable: the scan failed. Pages that were reached but not worth
                # scanning (robots.txt, not HTML, ...) make an empty report instead.
                reasons = "; ".join(f"{s.url}: {s.reason}" for s in crawl_skips[:5])
                raise ScanFailed(f"no page could be fetched ({reasons or 'nothing to fetch'})")
            info = ScanInfo(
                started=started,
                finished=now_iso(),
                sources=len(index),
                pages_fetched=state.fetched,
                sites=settings.sites + settings.urls,
                rules=self.ruleset.name,
                pages_unchanged=state.unchanged,
            )
            report = Report(scan=info, copies=tuple(copies), skipped=tuple(state.skipped))
            report = store.finish_scan(scan_id, report)
            pages = {p.page.url: p.page.full_text for p in state.pending}
            # Only the HTML report shows page passages: for it, the text of an unchanged page
            # comes from its evidence (extracting it again costs about as much as a new page).
            for copy in carried if settings.format == "html" else ():
                if copy.url not in pages and (html := archived_html(store, copy.url)):
                    pages[copy.url] = extract_html(copy.url, html).full_text
            sources = {c.source_url: a for c in copies if (a := index.get(c.source_url))}
            return ScanResult(report, RenderContext(sources=sources, pages=pages), self.ruleset)
        finally:
            store.close()
            self.fetcher.close()

    def _known(
        self, store: Store, scan: _State, index: SourceIndex
    ) -> Callable[[str], PageState | None]:
        """What the crawler may treat as unchanged: a page last seen by a scan with this scan's
        fingerprint (same version, rules and match settings), none of whose copies is of a
        source that has changed since, and whose text (as last analysed) copies none of the
        sources that arrived since. Remembered for the page's record."""

        def known(url: str) -> PageState | None:
            state = store.page_state(url)
            if state is None or state.fingerprint != self.fingerprint:
                return None
            if self.modified and any(
                c.source_url in self.modified for c in store.previous_copies(url)
            ):
                return None
            if self._newer(store, state.scan_id):
                # Read the kept text first: a page kept from before texts were kept is fetched
                # again in full, without building an index of the newer sources for it.
                text = store.page_text(url)
                if text is None or self._sources_since(store, index, state.scan_id).match(
                    text, limit=1
                ):
                    return None
            scan.known[url] = state
            return state

        return known

    def _newer(self, store: Store, scan_id: int) -> list[str]:
        """The sources that arrived after scan `scan_id` (asked once per scan id)."""
        if scan_id not in self._newer_urls:
            self._newer_urls[scan_id] = store.sources_since(scan_id)
        return self._newer_urls[scan_id]

    def _sources_since(self, store: Store, index: SourceIndex, scan_id: int) -> SourceIndex:
        """An index of the sources that arrived after scan `scan_id` (built once per scan id)."""
        if scan_id not in self._since:
            small = SourceIndex(self.match_config)
            urls = self._newer(store, scan_id)
            small.add(a for u in urls if (a := index.get(u)) is not None)
            self._since[scan_id] = small
        return self._since[scan_id]

    def _take(
        self,
        item: tuple[Fetched, Page, list[Match]] | Skipped | Fetched,
        store: Store,
        scan_id: int,
        state: _State,
    ) -> None:
        if isinstance(item, Skipped):
            state.skipped.append(item)
            self.progress("skipped", item.url)
            return
        if isinstance(item, Fetched):  # unchanged since the last scan: its findings carry over
            state.fetched += 1
            state.unchanged += 1
            previous = store.previous_copies(item.final_url)
            state.carried.extend(previous)
            store.record_page(
                scan_id, item, is_copy=bool(previous), before=state.known.get(item.url)
            )
            # The site's chrome is told from all its pages, the unchanged ones included.
            if (snapshot := store.page_snapshot(item.url)) is not None:
                text, hrefs = snapshot
                profile = state.profiles.setdefault(host_of(item.url), SiteProfile())
                profile.add_parts(item.url, text, hrefs, is_copy=bool(previous))
            self.progress("fetched", item.final_url)
            return
        fetched, page, matches = item
        state.fetched += 1
        # The publisher's own pages (the original, its AMP or print twin) are not copies.
        matches = [m for m in matches if not same_site(page.url, m.source_url)]
        site = host_of(page.url)
        state.profiles.setdefault(site, SiteProfile()).add(page, is_copy=bool(matches))
        store.record_page(scan_id, fetched, is_copy=bool(matches))
        store.save_page_text(
            scan_id, fetched.url, page.full_text, [link.href for link in page.links]
        )
        if matches:
            state.pending.append(_Pending(page, matches))
            self.progress("copy", page.url)
        self.progress("fetched", page.url)

    def _judge(self, state: _State, index: SourceIndex) -> list[Copy]:
        copies: list[Copy] = []
        for pending in state.pending:
            page = pending.page
            site = host_of(page.url)
            for match in pending.matches:
                source = index.get(match.source_url)
                if source is None:
                    continue
                checks = run_checks(
                    self.ruleset,
                    page,
                    source,
                    match,
                    profile=state.profiles.get(site),
                    resolve=self.fetcher.resolve_redirect,
                )
                copies.append(
                    Copy(
                        url=page.url,
                        site=site,
                        source_url=source.url,
                        coverage=round(match.coverage, 4),
                        kind=match.kind,
                        verdict=verdict_for(checks),
                        passages=match.passages,
                        checks=checks,
                        title=page.title,
                        source_title=source.title,
                        fetched_at=page.fetched_at,
                    )
                )
        return copies


def run_scan(settings: Settings, *, progress: ProgressFn | None = None) -> ScanResult:
    return Scanner(settings, progress=progress).run()
