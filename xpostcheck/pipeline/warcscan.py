"""A scan whose pages come from WARC files instead of a crawl (`xpostcheck scan --warc`).

In: Settings (sources, rules, store) and WARC inputs (files or URLs). Out: a ScanResult like a
crawl's, whose report also lists `candidates`: the sites that hold copies in the archive and
the sites whose pages link to the publisher, for a live scan. Each `response` record of an HTML
page goes through the cheap pre-filter (`prefilter`): the pages that may hold a copy are
extracted, matched and judged as fetched pages are; the others only add their plain text and
links to their site's profile (so that chrome is told from all of a site's pages) and to the
candidates. A copy names its record (`file#offset <record id>`). Copies are judged once every
archive is read, since a site's pages are spread over the archive. Bad records are skipped
with their file and offset (`pages.warc`).

The whole archive set is one unit of work; on a scale-out deployment, one job per WARC file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from xpostcheck.config import Settings
from xpostcheck.models import ArchiveCandidate, Fetched, SkipCode, Skipped
from xpostcheck.pages.base import PageEvent
from xpostcheck.pages.warc import WarcFetched, WarcSource, read_again, warc_name
from xpostcheck.pipeline.begin import ProgressFn, Scan, begin
from xpostcheck.pipeline.prefilter import Prefilter, base_of, plain_text, raw_hrefs, resolve
from xpostcheck.pipeline.scan import ScanResult, finish, mark_interrupted
from xpostcheck.pipeline.site import SiteResult, SiteTally, SiteUnit, judge_copies, record_event
from xpostcheck.util.urls import host_of, same_site

__all__ = ["WarcScanResult", "run_warc_scan", "scan_warcs"]


@dataclass
class _Sightings:
    """Per site root: pages with copies, other pages linking to the publisher, an example."""

    copies: dict[str, set[str]] = field(default_factory=dict)
    linking: dict[str, list[str]] = field(default_factory=dict)

    def candidates(self) -> tuple[ArchiveCandidate, ...]:
        sites = set(self.copies) | set(self.linking)
        out = []
        for site in sites:
            copied = self.copies.get(site, set())
            linking = [u for u in self.linking.get(site, []) if u not in copied]
            if not copied and not linking:
                continue
            example = min(copied) if copied else linking[0]
            out.append(ArchiveCandidate(site, len(copied), len(linking), example))
        out.sort(key=lambda c: (-c.copies, -c.linking, c.site))
        return tuple(out)


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


@dataclass(frozen=True)
class WarcScanResult:
    """What reading the archives gave: the unit's result, the candidates, and how many pages
    the pre-filter looked at and let through to the full analysis."""

    site: SiteResult
    candidates: tuple[ArchiveCandidate, ...]
    looked: int
    analysed: int


def scan_warcs(scan: Scan, specs: Sequence[str], *, prefilter: bool = True) -> WarcScanResult:
    """Read every archive, analyse the pages that may hold copies, judge the copies."""
    source = WarcSource(
        specs, scan.polite, max_bytes=scan.fetcher.config.max_bytes, hash_bodies=False
    )
    tally = SiteTally()
    filt = Prefilter(scan.index)
    records: dict[str, str] = {}
    sightings = _Sightings()
    publisher = [a.url for a in scan.index.articles()]
    own_site = _SiteMatcher(publisher)
    seen: set[str] = set()
    analysed = 0

    def admitted() -> Iterator[PageEvent]:
        nonlocal analysed
        for event in source.crawl():
            if scan.stopping.is_set():
                return
            if isinstance(event, Skipped):
                yield event
                continue
            url = event.final_url
            if url in seen:
                yield Skipped(
                    url,
                    f"captured again ({_record_of(event)}); the first capture was checked",
                    SkipCode.DUPLICATE,
                )
                continue
            seen.add(url)
            markup = event.text
            if own_site.linked_from(url, markup):
                sightings.linking.setdefault(site_root(url), []).append(url)
            text = plain_text(markup)
            if not prefilter or filt.may_hold_copy(text):
                records[url] = _record_of(event)
                analysed += 1
                yield dataclasses.replace(
                    event, content_hash=hashlib.sha256(event.body).hexdigest()
                )
            else:  # no full analysis: only its site's profile (if it holds copies) needs it
                tally.fetched += 1
                if isinstance(event, WarcFetched) and event.again:
                    spool.add_place(host_of(url), url, event.again, event.offset)
                else:
                    spool.add(host_of(url), url, text, base_of(markup), raw_hrefs(markup))
                scan.progress("fetched", url)

    with _Spool() as spool:
        for item in scan.analyser.pages(admitted(), _never):
            if scan.stopping.is_set():
                break
            record_event(scan, item, tally, {})
        # A site's chrome is told from all its pages: the pages of the sites with copies that
        # got no full analysis join their profiles now, from their plain text and links.
        for host in {host_of(p.page.url) for p in tally.copy_pages}:
            for url, text, hrefs in spool.read(host, source.max_bytes):
                lines = "\n".join(dict.fromkeys(ln.strip() for ln in text.splitlines()))
                profile = tally.profile(url)
                profile.add_parts(url, lines, dict.fromkeys(hrefs), is_copy=False)
    judged = judge_copies(
        scan.ruleset, tally.copy_pages, scan.index, tally.profiles, scan.polite.resolve_redirect
    )
    copies = [dataclasses.replace(c, record=records.get(c.url, "")) for c in judged]
    for c in copies:
        sightings.copies.setdefault(site_root(c.url), set()).add(c.url)
    site = SiteResult(
        unit=SiteUnit((), tuple(warc_name(s) for s in specs)),
        copies=tuple(copies),
        carried=(),
        skipped=tuple(tally.skipped),
        texts={p.page.url: p.page.full_text for p in tally.copy_pages},
        fetched=tally.fetched,
        unchanged=0,
    )
    return WarcScanResult(
        site, sightings.candidates(), filt.looked if prefilter else analysed, analysed
    )


class _SiteMatcher:
    """Whether a URL lies on one of the publisher's sites (cached per host). `needles`: the
    publisher's host names without `www.`, which a page linking to it must contain."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.roots = sorted({site_root(u) for u in urls})
        self.cache: dict[str, bool] = {}
        hosts = {host_of(u) for u in urls} - {""}
        self.needles = sorted({h[4:] if h.startswith("www.") else h for h in hosts})

    def __call__(self, url: str) -> bool:
        host = host_of(url)
        known = self.cache.get(host)
        if known is None:
            known = self.cache[host] = any(same_site(url, r) for r in self.roots)
        return known

    def linked_from(self, url: str, markup: str) -> bool:
        """Whether a page off the publisher's sites links to them. Only the hrefs that name a
        publisher host are resolved, unless the page has a <base> (a relative href resolves
        to the page's own site otherwise)."""
        if not any(needle in markup for needle in self.needles) or self(url):
            return False
        base = base_of(markup)
        hrefs = raw_hrefs(markup)
        if base is None:
            hrefs = [h for h in hrefs if any(n in h.lower() for n in self.needles)]
        return any(self(h) for h in resolve(url, base, hrefs))


class _Spool:
    """The pages that got no full analysis, by host, read back only for the hosts that hold
    copies, so that memory stays bounded however large the archive: a page of a local file
    as its place in the file (read again then), any other as its plain text and raw hrefs
    in a temporary file (compressed)."""

    def __init__(self) -> None:
        # Closed by __exit__: the spool lives for one scan_warcs call.
        self.file = tempfile.TemporaryFile(prefix="xpostcheck-warc-")  # noqa: SIM115
        # per host: (position, size) in the temporary file, or (offset, -1 - file number)
        self.where: dict[str, list[tuple[int, int]]] = {}
        self.places: dict[str, int] = {}  # local WARC files read again, numbered
        self.end = 0

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def add(self, host: str, url: str, text: str, base: str | None, hrefs: list[str]) -> None:
        data = zlib.compress(json.dumps([url, text, base, hrefs]).encode(), 1)
        self.file.seek(self.end)
        self.file.write(data)
        self.where.setdefault(host, []).append((self.end, len(data)))
        self.end += len(data)

    def add_place(self, host: str, url: str, path: str, offset: int) -> None:
        number = self.places.setdefault(path, len(self.places))
        self.where.setdefault(host, []).append((offset, -1 - number))

    def read(self, host: str, max_bytes: int) -> Iterator[tuple[str, str, tuple[str, ...]]]:
        paths = {-1 - n: path for path, n in self.places.items()}
        for pos, size in self.where.get(host, ()):
            if size < 0:
                page = read_again(paths[size], pos, max_bytes)
                if isinstance(page, Fetched):
                    markup = page.text
                    url = page.final_url
                    yield url, plain_text(markup), resolve(url, base_of(markup), raw_hrefs(markup))
                continue
            self.file.seek(pos)
            url, text, base, hrefs = json.loads(zlib.decompress(self.file.read(size)))
            yield url, text, resolve(url, base, hrefs)


def _never(_fetched: Fetched) -> bool:
    return False


def _record_of(event: Fetched) -> str:
    return event.record if isinstance(event, WarcFetched) else ""


def run_warc_scan(
    settings: Settings,
    warcs: Sequence[str],
    *,
    progress: ProgressFn | None = None,
    deliver: Callable[[ScanResult], None] | None = None,
    prefilter: bool = True,
) -> ScanResult:
    """A whole scan of WARC inputs, as `run_scan` runs one of sites: begin, read and analyse
    the archives, finish with the candidates in the report, deliver."""
    # The archives stand for the sites: in the scan's key (its history), its report, and the
    # addresses the fetcher may reach (a loopback URL given with --warc is named).
    names = tuple(warc_name(w) for w in warcs)
    settings = dataclasses.replace(settings, sites=(), urls=names, warc=tuple(warcs))
    scan = begin(settings, progress)
    try:
        found = scan_warcs(scan, warcs, prefilter=prefilter)
        result = finish(scan, [found.site], pending=deliver is not None)
        report = dataclasses.replace(result.report, candidates=found.candidates)
        result = dataclasses.replace(result, report=report)
        if deliver is not None:
            deliver(result)
            scan.store.deliver(scan.scan_id)
        return result
    except KeyboardInterrupt:
        mark_interrupted(scan)
        raise
    finally:
        scan.close()
