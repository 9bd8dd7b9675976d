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
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

from xpostcheck.checks.siteprofile import line_key, link_key
from xpostcheck.checks.textutil import lines_of
from xpostcheck.config import Settings
from xpostcheck.models import ArchiveCandidate, Fetched, Page, SkipCode, Skipped
from xpostcheck.pages.base import PageEvent
from xpostcheck.pages.warc import WarcFetched, WarcSource, read_again, warc_name
from xpostcheck.pipeline.begin import ProgressFn, Scan, begin
from xpostcheck.pipeline.prefilter import Prefilter, base_of, plain_text, raw_hrefs, resolve
from xpostcheck.pipeline.scan import ScanResult, finish, mark_interrupted
from xpostcheck.pipeline.site import (
    SiteResult,
    SiteTally,
    SiteUnit,
    judge_copies,
    record_event,
)
from xpostcheck.pipeline.warcseen import KeptOut, note_counts
from xpostcheck.util.urls import article_key, host_of, same_site

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
    kept_out = KeptOut(scan)  # recorded in the store for history, in batches

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
                kept_out.add(event)
                if isinstance(event, WarcFetched) and event.again:
                    # Read again if its site holds copies: nothing of it is kept till then.
                    spool.add(host_of(url), url, None, None, (event.again, event.offset))
                else:
                    spool.add(host_of(url), url, text, (base_of(markup), raw_hrefs(markup)))
                scan.progress("fetched", url)

    with _Spool() as spool:
        for item in scan.analyser.pages(admitted(), _never):
            if scan.stopping.is_set():
                break
            record_event(scan, item, tally, {})
        # A site's chrome is told from all its pages: the pages of the sites with copies that
        # got no full analysis join their profiles now, from their plain text and links.
        for host, pages in _by_host(tally.copy_pages).items():
            asked = _Asked(pages)
            for url, text, base, hrefs in spool.read(host, source.max_bytes):
                lines, links = asked.asked_lines(text), asked.asked_links(url, base, hrefs)
                tally.profile(url).add_keys(url, lines, links, is_copy=False)
    kept_out.flush()
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
        self.spotters = [_spotter(n) for n in self.needles]

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
        if not any(spots(markup) for spots in self.spotters) or self(url):
            return False
        base = base_of(markup)
        hrefs = raw_hrefs(markup)
        if base is None:
            hrefs = [h for h in hrefs if any(n in h.lower() for n in self.needles)]
        return any(self(h) for h in resolve(url, base, hrefs))


def _spotter(host: str) -> Callable[[str], bool]:
    """Whether markup may name a (lower-case) host name, in any case: host names are
    case-insensitive. Lower-casing the markup, or a case-insensitive regular expression,
    costs about a millisecond a page; this one starts with the dot (a literal, searched for
    fast), and looks back from the end of the name over the whole name, in any case, without
    a step in Python per dot. It takes a little more than `.lower()` would (re's case
    folding also takes "ſ" for "s", "ı" for "i"): the hrefs found are then compared with the
    host name exactly, so this only lets a page through to that comparison."""
    head, dot, tail = host.partition(".")
    if not dot or not head:
        whole = re.compile(re.escape(host), re.IGNORECASE)
        return lambda markup: whole.search(markup) is not None
    named = re.compile(r"\.(?i:" + re.escape(tail) + r")(?<=(?i:" + re.escape(host) + "))")
    return lambda markup: named.search(markup) is not None


class _Spool:
    """The pages that got no full analysis, by host, read back only for the hosts that hold
    copies, so that memory stays bounded however large the archive: for a page of a local
    file, only its place in the file (read again then, for its plain text and links: most
    pages are on sites without copies, and are never read again); for any other page, its
    plain text's distinct lines in a temporary file (compressed), with its raw hrefs and
    <base>."""

    def __init__(self) -> None:
        # Closed by __exit__: the spool lives for one scan_warcs call.
        self.file = tempfile.TemporaryFile(prefix="xpostcheck-warc-")  # noqa: SIM115
        # per host: position and size in the temporary file, file number and offset (or -1)
        self.where: dict[str, list[tuple[int, int, int, int]]] = {}
        self.places: dict[str, int] = {}  # local WARC files read again, numbered
        self.end = 0

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    def add(
        self,
        host: str,
        url: str,
        text: str | None,
        links: tuple[str | None, list[str]] | None,
        place: tuple[str, int] | None = None,
    ) -> None:
        """A page: its place in its file, or its plain text, <base> and raw hrefs."""
        url = url.replace("\x00", "%00")  # a URL only names the page in the profile
        if place is not None:
            # Its URL alone, kept to tell whether the record read again is still this page.
            data = zlib.compress(url.encode("utf-8", "surrogatepass"), 1)
            number, offset = self.places.setdefault(place[0], len(self.places)), place[1]
        else:
            lines = "\n".join(
                dict.fromkeys(filter(None, map(str.strip, (text or "").splitlines())))
            )
            # The URL, a NUL, the lines (no JSON: escaping the text costs more than
            # compressing it), then the links as JSON.
            head = url + "\x00" + json.dumps(links or (None, []))
            data = zlib.compress(f"{head}\x00\x00{lines}".encode("utf-8", "surrogatepass"), 1)
            number, offset = -1, -1
        self.file.seek(self.end)
        self.file.write(data)
        self.where.setdefault(host, []).append((self.end, len(data), number, offset))
        self.end += len(data)

    def read(self, host: str, max_bytes: int) -> Iterator[tuple[str, str, str | None, list[str]]]:
        """Each spooled page of the host: URL, plain text, <base href> and raw hrefs."""
        paths = {n: path for path, n in self.places.items()}
        for pos, size, number, offset in self.where.get(host, ()):
            self.file.seek(pos)
            head, _, text = (
                zlib.decompress(self.file.read(size)).decode("utf-8", "surrogatepass")
            ).partition("\x00\x00")
            if number < 0:
                url, _, kept = head.partition("\x00")
                base, hrefs = json.loads(kept)
                yield url, text, base, hrefs
                continue
            page = read_again(paths[number], offset, max_bytes)
            if isinstance(page, Fetched) and page.final_url == head:
                markup = page.text
                yield head, plain_text(markup), base_of(markup), raw_hrefs(markup)


_INDEX_NAME = re.compile(r"(index|default)\.(html?|php|aspx?)$", re.IGNORECASE)


def _key_tail(key: str) -> str:
    """The last segment of an article key's path, unquoted and lower-cased ('' for none)."""
    path = key.split("?", 1)[0].partition("/")[2]
    return unquote(path).rstrip("/").rpartition("/")[2].lower()


def _raw_tail(raw: str) -> str | None:
    """What `_key_tail` gives for this href's article key, wherever the page that holds it
    is, told from the href as written without parsing it; None when that cannot be told
    so simply (no path, dot segments, an index page, percent escapes, another scheme)."""
    end = len(raw)
    for mark in ("?", "#"):
        at = raw.find(mark)
        if 0 <= at < end:
            end = at
    path = raw[:end]
    lead = path[:8].lower()
    if lead.startswith(("http://", "https://", "//")):
        start = path.find("/", path.find("//") + 2)
        path = path[start:] if start >= 0 else "/"
    elif ":" in path.partition("/")[0]:
        return None
    if path.startswith("/") and not path.strip("/"):
        return ""  # a site's root: its article key has no path
    tail = path.rstrip("/").rpartition("/")[2]
    if not tail or tail in (".", "..") or "%" in tail or _INDEX_NAME.match(tail):
        return None
    return tail.lower()


class _HoldsPage(Protocol):
    @property
    def page(self) -> Page: ...


def _by_host(pages: Sequence[_HoldsPage]) -> dict[str, list[Page]]:
    out: dict[str, list[Page]] = {}
    for p in pages:
        out.setdefault(host_of(p.page.url), []).append(p.page)
    return out


_MEMO_LIMIT = 200_000  # lines or hrefs remembered per host while its pages join its profile


class _Asked:
    """Which lines and links of a host's other pages its profile can be asked about: the
    checks ask `is_chrome_text` and `is_chrome_link` only of the lines (text, near, chrome
    and full text) and links (hrefs, rel=license URLs) of the pages that hold copies, so a
    page that joins the profile counts only those. The counts asked for are the same (while
    the profile's cap on distinct keys is not reached: past it, a live crawl's profile drops
    keys first met late, and this one does not); the keys of lines and links met on the
    host's pages again and again (its chrome) are computed once, not once per page."""

    def __init__(self, pages: Sequence[Page]) -> None:
        texts = [t for p in pages for t in (p.full_text, p.text, p.near_text, p.chrome_text)]
        self.line_keys = {k for t in texts for ln in lines_of(t) if (k := line_key(ln)) is not None}
        hrefs = [link.href for p in pages for link in p.links] + [
            u for p in pages for u in p.license_urls
        ]
        self.link_keys = {link_key(h) for h in hrefs if h}
        self.link_tails = {_key_tail(article_key(h)) for h in hrefs if h}
        # per line: its key if asked about, else -1; per (folder, href): its link key or None
        self.seen_lines: dict[str, int] = {}
        self.seen_links: dict[tuple[str, str], int | None] = {}

    def asked_lines(self, text: str) -> list[int]:
        """The `line_key`s asked about of the text's lines, in order."""
        seen = self.seen_lines
        if len(seen) > _MEMO_LIMIT:
            seen.clear()
        out = []
        for ln in dict.fromkeys(ln.strip() for ln in text.splitlines()):
            asked = seen.get(ln)
            if asked is None:
                key = line_key(ln)
                asked = seen[ln] = key if key is not None and key in self.line_keys else -1
            if asked >= 0:
                out.append(asked)
        return out

    def asked_links(self, url: str, base: str | None, hrefs: list[str]) -> list[int]:
        """The `link_key`s asked about of the hrefs (made absolute as `resolve` does)."""
        seen = self.seen_links
        if len(seen) > _MEMO_LIMIT:
            seen.clear()
        try:
            page_base = urljoin(url, base) if base else url
            parts = urlsplit(page_base)
        except ValueError:
            return []
        # What a relative href resolves to depends on the base's folder only (unless it is a
        # query alone, or path parameters).
        folder = f"{parts.scheme}://{parts.netloc}{parts.path[: parts.path.rfind('/') + 1]}"
        out = []
        tails = self.link_tails
        for raw in dict.fromkeys(hrefs):
            tail = _raw_tail(raw)
            if tail is not None and tail not in tails:
                continue  # its article key ends otherwise than any asked about
            where = (page_base if raw[:1] in ("?", ";") else folder, raw)
            if where in seen:
                found = seen[where]
            else:
                try:
                    absolute = urljoin(page_base, raw)
                except ValueError:
                    absolute = ""
                key = link_key(absolute) if absolute else None
                found = seen[where] = key if key in self.link_keys else None
            if found is not None:
                out.append(found)
        return out


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
    # The archives stand for the sites in the scan's report and the addresses the fetcher may
    # reach (a loopback URL given with --warc is named); its key (its history) is that of
    # every scan of archives with its rules (`begin.scan_key`).
    names = tuple(warc_name(w) for w in warcs)
    settings = dataclasses.replace(settings, sites=(), urls=names, warc=tuple(warcs))
    scan = begin(settings, progress)
    try:
        found = scan_warcs(scan, warcs, prefilter=prefilter)
        note_counts(scan, "", found.looked, found.analysed)  # the report's scan.prefilter
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
