"""One unit of work of a scan: crawl one site, analyse its pages, judge its copies, persist.

In: the `Scan` (from `begin.begin`) and a `SiteUnit`: a site to crawl (several start URLs on
one site form one unit), with the single `--url` pages that lie on it, or the `--url` pages that
lie on no crawled site. Out: a `SiteResult` (judged and carried copies, skips, counts, the texts
of its copy pages). The page states the crawl may treat as unchanged are loaded before the crawl
starts (`carry.carried_states`); each page is recorded in the store as it comes; the copies are
judged once the unit's crawl ends, against the unit's own site profiles. A unit shares nothing
mutable with the other units but the store and the fetcher (both thread-safe), so units run
side by side in threads (`runner.run_sites`) or, later, as jobs on workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from xpostcheck.checks.registry import run_checks
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.match.index import SourceIndex
from xpostcheck.models import (
    Copy,
    Fetched,
    Match,
    Page,
    PageState,
    RuleSet,
    Skipped,
    verdict_for,
)
from xpostcheck.pages.crawl import CrawlConfig, Crawler
from xpostcheck.pipeline.analyse import Analysed, AnalysisEvent
from xpostcheck.pipeline.begin import Scan
from xpostcheck.pipeline.carry import carried_states, site_hosts
from xpostcheck.util.urls import host_of, same_site

# A crawled site's hosts are its host and the host's www. twin: at most two requests in flight.
SITE_FETCH_THREADS = 2


@dataclass(frozen=True)
class SiteUnit:
    """What one unit fetches: `sites` crawled (all on one site), `urls` fetched alone."""

    sites: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return (self.sites or self.urls or ("",))[0]


def _site_key(url: str) -> tuple[str, int | None] | None:
    """What the crawler calls one site: the host without `www.` and the explicit port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return None
    return (host[4:] if host.startswith("www.") else host), port


def units_of(sites: Sequence[str], urls: Sequence[str]) -> list[SiteUnit]:
    """The units of a scan, in the order of `sites`: one per crawled site, holding the single
    URLs on that site (its crawl fetches each URL once, as one crawl of everything did), then
    one for the single URLs on no crawled site."""
    by_key: dict[object, tuple[list[str], list[str]]] = {}
    for url in sites:
        key = _site_key(url)
        by_key.setdefault(key if key is not None else url, ([], []))[0].append(url)
    alone: list[str] = []
    for url in urls:
        key = _site_key(url)
        if key is not None and key in by_key:
            by_key[key][1].append(url)
        else:
            alone.append(url)
    units = [SiteUnit(tuple(s), tuple(u)) for s, u in by_key.values()]
    if alone:
        units.append(SiteUnit((), tuple(alone)))
    return units


@dataclass(frozen=True)
class SiteResult:
    """What one unit found. `copies` holds the copies judged now and the ones carried over
    (with their findings) from unchanged pages; `texts` the full text of each analysed page
    that holds a copy, by URL."""

    unit: SiteUnit
    copies: tuple[Copy, ...]
    carried: tuple[Copy, ...]
    skipped: tuple[Skipped, ...]
    texts: dict[str, str]
    fetched: int
    unchanged: int


@dataclass
class _CopyPage:
    """A page that holds at least one copy, waiting for the site's chrome profile."""

    page: Page
    matches: list[Match]


@dataclass
class SiteTally:
    """What a unit has seen so far (its own, never shared with another unit)."""

    skipped: list[Skipped] = field(default_factory=list)
    copy_pages: list[_CopyPage] = field(default_factory=list)
    carried: list[Copy] = field(default_factory=list)
    profiles: dict[str, SiteProfile] = field(default_factory=dict)  # by host
    fetched: int = 0
    unchanged: int = 0

    def profile(self, url: str) -> SiteProfile:
        return self.profiles.setdefault(host_of(url), SiteProfile())


def crawl_config_for(config: CrawlConfig, unit: SiteUnit) -> CrawlConfig:
    """A unit's crawl settings: a crawled site needs no more fetch threads than its hosts."""
    if unit.sites and config.threads > SITE_FETCH_THREADS:
        return dataclasses.replace(config, threads=SITE_FETCH_THREADS)
    return config


def scan_site(scan: Scan, unit: SiteUnit) -> SiteResult:
    """Crawl the unit, analyse and record each page as it comes, then judge its copies."""
    known = carried_states(
        scan.store,
        site_hosts(unit.sites + unit.urls),
        fingerprint=scan.fingerprint,
        modified=scan.modified,
        newer=scan.newer,
    )
    tally = SiteTally()

    def unchanged(fetched: Fetched) -> bool:
        """A 304, or the same content as when last seen."""
        if fetched.unchanged:
            return True
        last = known.get(fetched.url)
        return last is not None and last.content_hash == fetched.content_hash

    config = crawl_config_for(scan.crawl_config, unit)
    crawler = Crawler(
        scan.fetcher,
        config,
        known=known.get,
        polite=scan.polite,
        on_queued=lambda url: scan.progress("queued", url),
    )
    events = crawler.crawl(list(unit.sites), list(unit.urls))
    try:
        for item in scan.analyser.pages(events, unchanged):
            if scan.stopping.is_set():
                break
            record_event(scan, item, tally, known)
    finally:
        if isinstance(events, Generator):  # stops the crawl when the unit stops early
            events.close()
    # A source dropped from the index (--rebuild-index) takes its carried copies along.
    carried = [c for c in tally.carried if c.source_url in scan.index]
    judged = judge_copies(
        # Shortlinks are resolved through the scan's politeness layer: its robots.txt rules,
        # per-host delay, address policy and User-Agent, each URL asked once.
        scan.ruleset,
        tally.copy_pages,
        scan.index,
        tally.profiles,
        crawler.polite.resolve_redirect,
    )
    return SiteResult(
        unit=unit,
        copies=tuple(judged + carried),
        carried=tuple(carried),
        skipped=tuple(tally.skipped),
        texts={p.page.url: p.page.full_text for p in tally.copy_pages},
        fetched=tally.fetched,
        unchanged=tally.unchanged,
    )


def record_event(
    scan: Scan, item: AnalysisEvent, tally: SiteTally, known: dict[str, PageState]
) -> None:
    """Count, profile and store one event of the unit's crawl."""
    if isinstance(item, Skipped):
        tally.skipped.append(item)
        scan.progress("skipped", f"{item.url} {item.reason}")
    elif isinstance(item, Analysed):
        _record_analysed(scan, item, tally)
    else:
        _record_unchanged(scan, item, tally, known)


def _record_unchanged(
    scan: Scan, fetched: Fetched, tally: SiteTally, known: dict[str, PageState]
) -> None:
    """A page unchanged since the last scan: its copies and findings carry over."""
    store = scan.store
    tally.fetched += 1
    tally.unchanged += 1
    previous = store.previous_copies(fetched.final_url)
    tally.carried.extend(previous)
    store.record_page(scan.scan_id, fetched, is_copy=bool(previous), before=known.get(fetched.url))
    # The site's chrome is told from all its pages, the unchanged ones included.
    if (snapshot := store.page_snapshot(fetched.url)) is not None:
        text, hrefs = snapshot
        tally.profile(fetched.url).add_parts(fetched.url, text, hrefs, is_copy=bool(previous))
    scan.progress("fetched", fetched.final_url)


def _record_analysed(scan: Scan, item: Analysed, tally: SiteTally) -> None:
    """A page analysed now: recorded with its text; a page with copies waits for judging."""
    fetched, page, matches = item
    tally.fetched += 1
    # The publisher's own pages (the original, its AMP or print twin) are not copies.
    matches = [m for m in matches if not same_site(page.url, m.source_url)]
    tally.profile(page.url).add(page, is_copy=bool(matches))
    scan.store.record_page(scan.scan_id, fetched, is_copy=bool(matches))
    scan.store.save_page_text(
        scan.scan_id, fetched.url, page.full_text, [link.href for link in page.links]
    )
    if matches:
        tally.copy_pages.append(_CopyPage(page, matches))
        scan.progress("copy", page.url)
    scan.progress("fetched", page.url)


def judge_copies(
    ruleset: RuleSet,
    copy_pages: Iterable[_CopyPage],
    index: SourceIndex,
    profiles: dict[str, SiteProfile],
    resolve: Callable[[str], str | None],
) -> list[Copy]:
    """Run the checks on every copy of every page, with the page's site profile."""
    copies: list[Copy] = []
    for copy_page in copy_pages:
        page = copy_page.page
        site = host_of(page.url)
        for match in copy_page.matches:
            source = index.get(match.source_url)
            if source is None:
                continue
            checks = run_checks(
                ruleset, page, source, match, profile=profiles.get(site), resolve=resolve
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
