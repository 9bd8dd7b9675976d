"""The types every stage speaks: small, frozen, typed dataclasses.

Data flow: SourceArticle (sources) -> Fetched (fetch/crawl) -> Page (extract)
-> Match (match) -> Finding (checks) -> Copy -> Report (report, store).
Everything here is picklable, so pages and matches can cross a process pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, NamedTuple

Severity = Literal["error", "warning", "info"]
CopyKind = Literal["full", "partial", "excerpt"]
Verdict = Literal["compliant", "violation"]
Region = Literal["article", "near", "chrome"]

SCHEMA_VERSION = 1


def header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The first value of an HTTP header, its name matched without regard to case."""
    low = name.lower()
    for key, value in headers:
        if key.lower() == low:
            return value
    return None


@dataclass(frozen=True)
class SourceArticle:
    """One of the publisher's own articles."""

    url: str
    title: str
    text: str
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601 date or datetime
    publisher: str = ""
    images: tuple[str, ...] = ()  # absolute image URLs of the original
    html: str | None = None  # the original page, when it was fetched or saved


@dataclass(frozen=True)
class Fetched:
    """One HTTP exchange, after redirects, with a decoded body."""

    url: str  # the URL that was asked for
    final_url: str  # the URL after redirects
    status: int  # 304 when a conditional request found the page unchanged
    headers: tuple[tuple[str, str], ...]
    body: bytes
    text: str  # body decoded with `encoding`
    encoding: str
    fetched_at: str  # ISO 8601, UTC
    redirects: tuple[str, ...] = ()  # each URL that answered with a redirect
    content_hash: str = ""  # sha256 hex of body
    raw_headers_block: bytes = b""  # status line + headers as received, for WARC evidence
    links: tuple[str, ...] = ()  # in-site links the crawler followed from it (store for re-scans)

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def unchanged(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class PageState:
    """What the store remembers of a URL, for conditional requests on the next scan."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    fetched_at: str | None = None
    links: tuple[str, ...] = ()  # Fetched.links of the last full fetch: a 304 keeps discovery
    cache_control: str | None = None  # the response's Cache-Control and Expires headers
    expires: str | None = None
    fingerprint: str = ""  # of the scan that saw it: what its verdicts depended on
    scan_id: int = 0  # the scan that saw it


@dataclass(frozen=True)
class Link:
    href: str  # absolute URL, as written after resolving against the page
    text: str  # anchor text, whitespace collapsed
    rel: tuple[str, ...] = ()
    region: Region = "chrome"
    hidden: bool = False  # inside a display:none / visibility:hidden / [hidden] element


@dataclass(frozen=True)
class Resource:
    """An embedded resource: img, script, iframe, amp-pixel, amp-img, ..."""

    tag: str
    url: str
    hidden: bool = False  # display:none, visibility:hidden, hidden attribute, 0x0 size
    alt: str = ""
    region: Region = "chrome"


@dataclass(frozen=True)
class Page:
    """A fetched page with its article and the DOM facts checks need."""

    url: str  # final URL
    status: int
    headers: tuple[tuple[str, str], ...]
    fetched_at: str
    title: str  # the page's headline (extractor title or <h1>/<title>)
    text: str  # main article text from the extractor
    full_text: str  # all visible text of the page, in document order; matching runs on this
    near_text: str  # text of the article region and its immediate surroundings (credit lines)
    chrome_text: str  # visible text outside that region (site chrome)
    links: tuple[Link, ...] = ()
    resources: tuple[Resource, ...] = ()
    canonicals: tuple[str, ...] = ()  # every <link rel=canonical href>, absolute
    meta_robots: tuple[str, ...] = ()  # lower-cased directives from meta robots and X-Robots-Tag
    authors: tuple[str, ...] = ()
    published: str | None = None  # ISO 8601, from meta, JSON-LD or htmldate
    license_urls: tuple[str, ...] = ()  # rel=license hrefs
    html: str = ""  # the decoded HTML, for checks that need markup
    # figcaption, caption, class *caption*, figure class *credit* texts, from the same parse
    captions: tuple[str, ...] = ()
    # meta article:published_time and kin, else JSON-LD datePublished, else <time datetime>
    markup_published: str | None = None

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True)
class Passage:
    """Aligned span: source.text[source_start:source_end] ~ page.full_text[page_start:page_end]."""

    source_start: int
    source_end: int
    page_start: int
    page_end: int


@dataclass(frozen=True)
class Match:
    source_url: str
    coverage: float  # share of the source's tokens found on the page, 0..1
    kind: CopyKind
    passages: tuple[Passage, ...] = ()
    score: float = 0.0  # retrieval estimate of containment


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    severity: Severity = "error"
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    source_file: str = ""
    line: int = 0

    def __hash__(self) -> int:
        return hash((self.id, self.kind, self.severity, self.source_file))


@dataclass(frozen=True)
class RuleSet:
    name: str
    publisher: str
    rules: tuple[Rule, ...]
    path: str = ""
    policy_url: str = ""
    policy_read: str = ""  # date the policy was read
    description: str = ""
    aliases: tuple[str, ...] = ()  # other names of the publisher, also tried for {publisher}
    extends: tuple[str, ...] = ()  # the packs this one builds on, nearest first


@dataclass(frozen=True)
class Finding:
    """One rule judged on one copy."""

    rule: str
    kind: str
    passed: bool
    severity: Severity
    message: str
    evidence: str | None = None
    first_seen: str | None = None  # set from scan history
    new: bool | None = None  # set from scan history
    triage: str | None = None  # false-positive | licensed | notified | ignored
    triage_note: str = ""  # why it was triaged, as the user wrote it

    @property
    def counts_as_violation(self) -> bool:
        return not self.passed and self.severity == "error" and self.triage is None


@dataclass(frozen=True)
class Copy:
    url: str
    site: str
    source_url: str
    coverage: float
    kind: CopyKind
    verdict: Verdict
    passages: tuple[Passage, ...]
    checks: tuple[Finding, ...]
    title: str = ""
    source_title: str = ""
    fetched_at: str = ""
    record: str = ""  # a page read from a WARC file: "file#offset <WARC-Record-ID>"


@dataclass(frozen=True)
class ArchiveCandidate:
    """A site worth a live scan, found in a web archive: it holds copies there, or its pages
    link to the publisher."""

    site: str  # the site's root URL
    copies: int = 0  # pages with copies in the archive
    linking: int = 0  # other pages that link to the publisher
    example: str = ""  # one such page


class SkipCode(str, Enum):
    """Why a URL was skipped, for code to act on; `Skipped.reason` is the words for people.

    Nothing parses a reason's text: code that needs to know asks the code. The value goes into
    the JSON report as `skipped[].code` (documented in docs/reports.md)."""

    UNREACHABLE = "unreachable"  # no answer: DNS, connect/read timeout, TLS, deadline
    REFUSED = "refused"  # the connection was refused: no server listens there
    GONE = "gone"  # HTTP 404 or 410: the page is not there (its findings are resolved)
    HTTP_ERROR = "http_error"  # any other HTTP error status (403, 429, 5xx, ...)
    ROBOTS = "robots"  # robots.txt disallows it, or robots.txt could not be read
    ADDRESS_POLICY = "address_policy"  # a private, loopback or link-local address not named
    NOT_HTML = "not_html"  # not an HTML page (or not a feed/sitemap where one was expected)
    TOO_LARGE = "too_large"  # over a size cap
    LIMIT = "limit"  # a crawl cap or trap rule (pages, depth, URL shape, off site)
    DUPLICATE = "duplicate"  # redirects to a page already scanned
    EXTRACTION_FAILED = "extraction_failed"  # fetched, but the page could not be analysed
    SOURCE = "source"  # a source input (record, file, URL) could not be read
    OTHER = "other"


@dataclass(frozen=True)
class Skipped:
    url: str
    reason: str
    code: SkipCode = SkipCode.OTHER

    @property
    def unreachable(self) -> bool:
        """The URL was not reached at all (as against reached and judged not worth scanning)."""
        return self.code in (SkipCode.UNREACHABLE, SkipCode.REFUSED)


@dataclass(frozen=True)
class Resolved:
    url: str
    source_url: str
    rule: str
    kind: str


class SeenPage(NamedTuple):
    """A page a scan looked at without analysing it (a WARC scan's page that the pre-filter
    kept out), as history records it: no text, no copy."""

    url: str
    final_url: str
    fetched_at: str
    status: int


@dataclass(frozen=True)
class PrefilterCounts:
    """A scan of WARC files: how many pages the pre-filter looked at, and how many of them it
    let through to the full analysis (extraction, matching, checks)."""

    looked: int
    analysed: int


@dataclass(frozen=True)
class ScanInfo:
    started: str
    finished: str
    sources: int
    pages_fetched: int
    sites: tuple[str, ...] = ()
    rules: str = ""
    pages_unchanged: int = 0
    scan_id: int | None = None
    prefilter: PrefilterCounts | None = None  # a scan of WARC files only


@dataclass(frozen=True)
class Report:
    scan: ScanInfo
    copies: tuple[Copy, ...]
    skipped: tuple[Skipped, ...] = ()
    resolved: tuple[Resolved, ...] = ()
    candidates: tuple[ArchiveCandidate, ...] = ()  # sites for a live scan (WARC input only)

    @property
    def violations(self) -> tuple[Copy, ...]:
        return tuple(c for c in self.copies if c.verdict == "violation")

    @property
    def new_violations(self) -> tuple[Copy, ...]:
        return tuple(
            c for c in self.violations if any(f.counts_as_violation and f.new for f in c.checks)
        )

    def exit_code(self, fail_on: Literal["any", "new"] = "any") -> int:
        """0: no violations; 1: violations (or, with fail_on='new', new ones)."""
        found = self.new_violations if fail_on == "new" else self.violations
        return 1 if found else 0


def verdict_for(checks: tuple[Finding, ...]) -> Verdict:
    return "violation" if any(f.counts_as_violation for f in checks) else "compliant"
