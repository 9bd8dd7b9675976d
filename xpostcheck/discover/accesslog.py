"""Discovery from the publisher's own access logs: the `Referer` of the requests that copies
make (images, a tracking pixel, embedded assets, readers clicking through) names the copy.

In: log files (combined, W3C extended or JSON Lines; gzipped or not) and `LogOptions`. Out: a
`LogDiscovery`: `Candidate` rows ranked by hits and distinct pages, and a `LogSummary` (lines
read, malformed lines with the first few places, requests dropped by reason, sites evicted).

The files are streamed line by line: memory holds one counter per referring site, with a cap
on sites, on pages listed per site and on pages counted per site, never the lines themselves.
When the caps are reached the sites with the fewest hits are evicted (and counted), so that a
multi-gigabyte log runs in bounded memory and the big referrers survive.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from xpostcheck import options
from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.logformats import (
    JSON_FIELDS,
    BadLine,
    JsonFields,
    LineParser,
    parser_for,
    sniff_format,
)
from xpostcheck.discover.noise import REASONS, NoiseFilter
from xpostcheck.errors import ConfigError
from xpostcheck.util.urls import canonicalize

__all__ = [
    "LogDiscovery",
    "LogOptions",
    "LogSummary",
    "Malformed",
    "discover_from_logs",
    "parse_since",
]

# Defaults (the CLI's flags show them).
MAX_PAGES_COUNTED = 1_000  # distinct pages counted per site (the count stops there)
MAX_LINE = 64 * 1024  # bytes; a longer line is malformed
MALFORMED_EXAMPLES = 5  # places of malformed lines kept for the summary
_PAGES_KEPT = 50  # page URLs (with their counts) kept per site, to choose the top ones from
_TARGETS_KEPT = 3  # publisher paths kept per site, for the evidence
_TARGET_CHARS = 200  # a publisher path kept is cut there
MAX_REFERRER = 4096  # characters; a longer Referer is no page anyone links to (browsers cut)
_CACHED_CHARS = 300  # referrers and agents longer than this are judged afresh, not remembered
_AUTHORITY_END = re.compile(r"[/?#]")
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\Z")  # a name or IPv4 address
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~!$&'()*+,;=:@-]*\Z")  # nothing to quote or unquote
_CACHE = 50_000  # referrers and user agents whose verdicts are remembered (then forgotten)


@dataclass(frozen=True)
class LogOptions:
    """How to read the logs and what to keep. `since`: requests before it are dropped;
    `fmt`: 'auto' sniffs each file."""

    noise: NoiseFilter = field(default_factory=NoiseFilter)
    since: datetime | None = None
    fmt: str = "auto"
    json_fields: JsonFields = JSON_FIELDS
    min_hits: int = 1
    pages_per_site: int = options.DISCOVER_PAGES
    max_sites: int = options.DISCOVER_MAX_SITES
    max_pages_counted: int = MAX_PAGES_COUNTED


@dataclass(frozen=True)
class Malformed:
    """One malformed line: where, and what is wrong with it."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class LogSummary:
    """What reading the logs saw. `dropped` maps a reason (noise.REASONS) to a request count;
    `problems` are files that could not be read to the end (the lines before count)."""

    files: int = 0
    lines: int = 0
    kept: int = 0
    malformed: int = 0
    malformed_examples: tuple[Malformed, ...] = ()
    dropped: tuple[tuple[str, int], ...] = ()
    sites: int = 0
    sites_evicted: int = 0
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "lines": self.lines,
            "kept": self.kept,
            "malformed": self.malformed,
            "malformed_examples": [
                {"file": m.file, "line": m.line, "reason": m.reason}
                for m in self.malformed_examples
            ],
            "dropped": dict(self.dropped),
            "sites": self.sites,
            "sites_evicted": self.sites_evicted,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class LogDiscovery:
    candidates: tuple[Candidate, ...]
    summary: LogSummary


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`--since`: an ISO date or time (UTC unless it says otherwise), or a span back from now:
    `7d`, `12h`, `30m`, `2w`. ValueError says what is accepted."""
    raw = text.strip()
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if raw[:-1].isdigit() and raw[-1:].lower() in units:
        base = now or datetime.now(timezone.utc)
        return base - timedelta(seconds=int(raw[:-1]) * units[raw[-1].lower()])
    try:
        when = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (2026-11-01, 2026-11-01T08:00) nor a span back from "
            "now (30m, 12h, 7d, 2w)"
        ) from None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when


class _Site:
    """The counters of one referring site."""

    __slots__ = (
        "cost",
        "distinct",
        "first",
        "hits",
        "https",
        "last",
        "netloc",
        "pages",
        "targets",
    )

    def __init__(self, netloc: str) -> None:
        self.netloc = netloc
        self.https = False
        self.hits = 0
        self.cost = 0  # what its pages weigh against the reader's budget (see _count)
        self.pages: dict[str, int] = {}
        self.distinct: set[int] = set()
        self.targets: dict[str, int] = {}
        self.first: datetime | None = None
        self.last: datetime | None = None

    def candidate(self, pages_per_site: int) -> Candidate:
        site = f"{'https' if self.https else 'http'}://{self.netloc}/"
        top = sorted(self.pages.items(), key=lambda kv: (-kv[1], kv[0]))[:pages_per_site]
        requests = "request" if self.hits == 1 else "requests"
        pages = "page" if len(self.distinct) == 1 else "pages"
        evidence = [f"{self.hits} {requests} referred by {len(self.distinct)} {pages} of the site"]
        if self.first and self.last:
            evidence.append(f"seen {self.first:%Y-%m-%d %H:%M} to {self.last:%Y-%m-%d %H:%M} UTC")
        if self.targets:
            asked = sorted(self.targets.items(), key=lambda kv: (-kv[1], kv[0]))
            evidence.append("requested " + ", ".join(f"{p} ({n})" for p, n in asked))
        return Candidate(
            site=site,
            pages=tuple(url for url, _ in top),
            hits=self.hits,
            distinct_pages=len(self.distinct),
            method="access-log",
            evidence=tuple(evidence),
        )


STDIN = "-"  # a path that names the standard input given to discover_from_logs


@contextmanager
def _open(path: str, stdin: BinaryIO | None) -> Iterator[BinaryIO]:
    """The lines' bytes of `path` (or of `stdin` for '-'), gunzipped when they start as gzip
    does; everything opened here is closed on exit (never the caller's stdin)."""
    with contextlib.ExitStack() as stack:
        if path == STDIN:
            if stdin is None:
                raise ConfigError("no standard input to read", where=path)
            raw: BinaryIO = stdin
        else:
            raw = stack.enter_context(open(path, "rb"))
        # A stream that cannot peek (a pipe's wrapper in tests) is read through a buffer.
        peekable = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[type-var]
        if peekable.peek(2)[:2] == b"\x1f\x8b":
            unzipped = gzip.GzipFile(fileobj=peekable, mode="rb")
            yield stack.enter_context(io.BufferedReader(unzipped))
        else:
            yield peekable


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Each line of `stream` without its end; None for a line longer than MAX_LINE (the rest
    of which is skipped without being held)."""
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        if len(line) == MAX_LINE and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line.rstrip(b"\r\n")


class _Reader:
    """One run over the logs: the sites' counters and the summary's tallies."""

    def __init__(self, options: LogOptions, stdin: BinaryIO | None = None) -> None:
        self.options = options
        self.stdin = stdin
        self.sites: dict[str, _Site] = {}
        self.dropped: dict[str, int] = {}
        self.malformed: list[Malformed] = []
        self.malformed_count = 0
        self.problems: list[str] = []
        self.lines = 0
        self.kept = 0
        self.evicted = 0
        # What the sites' pages weigh: a distinct-page hash costs 1, a kept page URL 1 per
        # started 100 characters. Room for 20 a site on average, and for at least 100 sites
        # at their caps (URLs of 100 characters).
        self.stored = 0
        per_site = 2 * _PAGES_KEPT + options.max_pages_counted
        self.max_stored = max(options.max_sites * 20, 100 * per_site)
        # referrer -> (netloc, https, canonical page) or the reason it is dropped
        self._refs: dict[str, tuple[str, bool, str] | str] = {}
        self._agents: dict[str, str] = {}
        self._hosts: dict[str, str] = {}
        self._parser: LineParser | None = None  # the file being read's

    def _bad(self, file: str, number: int, reason: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < MALFORMED_EXAMPLES:
            self.malformed.append(Malformed(file, number, reason))

    def _drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def read(self, path: str) -> None:
        self._parser = None  # each file has its own format and header
        number = 0
        try:
            with _open(path, self.stdin) as stream:
                for number, raw in enumerate(_lines(stream), 1):  # noqa: B007 - used after
                    self._take(path, number, raw)
        except (OSError, EOFError, zlib.error) as exc:
            where = f"after line {number}" if number else "at its start"
            self.problems.append(f"{path}: unreadable {where}: {exc}")

    def _take(self, path: str, number: int, raw: bytes | None) -> None:
        """One line: blank lines and headers are not counted as lines read."""
        if raw is None:
            self.lines += 1
            self._bad(path, number, f"line longer than {MAX_LINE} bytes")
            return
        line = raw.decode("utf-8", "replace")
        parser = self._parser
        if parser is None:
            line = line.lstrip("\ufeff")
            if not line.strip():
                return
            fmt = self.options.fmt
            parser = self._parser = parser_for(
                sniff_format(line) if fmt == "auto" else fmt, self.options.json_fields
            )
        if parser.header(line) or not line.strip():
            return
        self.lines += 1
        try:
            hit = parser.parse(line)
        except BadLine as exc:
            self._bad(path, number, str(exc))
            return
        self._count(hit.when, hit.referrer, hit.agent, hit.path)

    def _referrer(self, referrer: str) -> tuple[str, bool, str] | str:
        known = self._refs.get(referrer)
        if known is not None:
            return known
        verdict = self._judge(referrer)
        if len(referrer) <= _CACHED_CHARS:
            if len(self._refs) >= _CACHE:
                self._refs.clear()
            self._refs[referrer] = verdict
        return verdict

    def _host_verdict(self, host: str) -> str:
        if len(host) > 253:  # longer than DNS allows
            return "not-a-web-page"
        reason = self._hosts.get(host)
        if reason is None:
            reason = self.options.noise.host_reason(host)
            if len(self._hosts) >= _CACHE:
                self._hosts.clear()
            self._hosts[host] = reason
        return reason

    def _judge(self, referrer: str) -> tuple[str, bool, str] | str:
        text = referrer.strip()
        scheme, sep, rest = text.partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in ("http", "https"):
            return "not-a-web-page"
        # The host first, cheaply: most referrers are noise, and need no more than that.
        # A host that is no valid name (spaces, quotes) is no web page: `scan` could not use it.
        end = _AUTHORITY_END.search(rest)
        authority = rest[: end.start()] if end else rest
        quick = authority.rpartition("@")[2].lower()
        if quick and "[" not in quick and quick.count(":") <= 1:
            # A plain authority: the rest of the URL is read without urlsplit.
            host, _, port_text = quick.partition(":")
            host = host.rstrip(".")
            reason = self._host_verdict(host) if host else ""
            if reason:
                return reason
            if not _HOST_NAME.match(host) or (
                port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536)
            ):
                return "not-a-web-page"
            port = int(port_text) if port_text else None
            path, _, query = rest[len(authority) :].partition("#")[0].partition("?")
        else:
            try:
                parts = urlsplit(text)
                host = (parts.hostname or "").rstrip(".")
                port = parts.port
            except ValueError:
                return "not-a-web-page"
            if not host:
                return "not-a-web-page"
            reason = self._host_verdict(host)
            if reason:
                return reason
            path, query = parts.path, parts.query
        shown = f"[{host}]" if ":" in host else host
        default = 443 if scheme == "https" else 80
        netloc = shown if port is None or port == default else f"{shown}:{port}"
        path = path or "/"
        if query or not _PLAIN_PATH.match(path) or "/." in path or "//" in path:
            page = canonicalize(f"{scheme}://{netloc}{path}?{query}")
        else:  # already in canonical form: no query, nothing to unquote or resolve
            page = f"{scheme}://{netloc}{path}"
        return netloc, scheme == "https", page

    def _agent(self, agent: str) -> str:
        known = self._agents.get(agent)
        if known is None:
            known = self.options.noise.agent_reason(agent)
            if len(agent) <= _CACHED_CHARS:
                if len(self._agents) >= _CACHE:
                    self._agents.clear()
                self._agents[agent] = known
        return known

    def _count(self, when: datetime | None, referrer: str, agent: str, path: str) -> None:
        since = self.options.since
        if since is not None:
            if when is None:
                self._drop("no-time")
                return
            if when < since:
                self._drop("before-since")
                return
        if not referrer:
            self._drop("no-referrer")
            return
        if len(referrer) > MAX_REFERRER:
            self._drop("not-a-web-page")
            return
        # The client first: few distinct agents, each judged once.
        reason = self._agent(agent) if agent else ""
        if reason:
            self._drop(reason)
            return
        verdict = self._referrer(referrer)
        if isinstance(verdict, str):
            self._drop(verdict)
            return
        netloc, https, page = verdict
        site = self.sites.get(netloc)
        if site is None:
            if len(self.sites) >= self.options.max_sites:
                self._evict()
            site = self.sites[netloc] = _Site(netloc)
        self.kept += 1
        site.hits += 1
        cost_before = site.cost
        site.https = site.https or https
        if page in site.pages:
            site.pages[page] += 1
        elif len(site.pages) < _PAGES_KEPT:
            site.pages[page] = 1
            site.cost += 1 + len(page) // 100  # a long URL costs as much as several entries
        if len(site.distinct) < self.options.max_pages_counted:
            before = len(site.distinct)
            site.distinct.add(hash(page))
            site.cost += len(site.distinct) - before
        self.stored += site.cost - cost_before
        if path:
            # A pixel's query is often unique per request; a hostile path is cut short.
            path = path.split("?", 1)[0][:_TARGET_CHARS]
            if path in site.targets:
                site.targets[path] += 1
            elif len(site.targets) < _TARGETS_KEPT:
                site.targets[path] = 1
        if when is not None:
            if site.first is None or when < site.first:
                site.first = when
            if site.last is None or when > site.last:
                site.last = when
        if self.stored > self.max_stored:
            self._evict()

    def _evict(self) -> None:
        """Drop the sites with the fewest hits until a tenth of the room is free again."""
        ranked = sorted(self.sites.values(), key=lambda s: (s.hits, len(s.distinct)))
        keep_sites = self.options.max_sites * 9 // 10
        keep_stored = self.max_stored * 9 // 10
        for site in ranked:
            if len(self.sites) <= keep_sites and self.stored <= keep_stored:
                break
            del self.sites[site.netloc]
            self.stored -= site.cost
            self.evicted += 1

    def result(self, files: int) -> LogDiscovery:
        rows = [
            site.candidate(self.options.pages_per_site)
            for site in self.sites.values()
            if site.hits >= self.options.min_hits
        ]
        rows.sort(key=lambda c: (-c.hits, -c.distinct_pages, c.site))
        order = {reason: i for i, reason in enumerate(REASONS)}
        dropped = sorted(self.dropped.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        summary = LogSummary(
            files=files,
            lines=self.lines,
            kept=self.kept,
            malformed=self.malformed_count,
            malformed_examples=tuple(self.malformed),
            dropped=tuple(dropped),
            sites=len(self.sites),
            sites_evicted=self.evicted,
            problems=tuple(self.problems),
        )
        return LogDiscovery(tuple(rows), summary)


def discover_from_logs(
    paths: Sequence[str], options: LogOptions | None = None, *, stdin: BinaryIO | None = None
) -> LogDiscovery:
    """Candidate republishers from the referrers in access logs `paths` ('-' reads `stdin`).
    A file that is missing or a folder raises ConfigError before any is read; a file that
    breaks off (a truncated gzip) is listed in `summary.problems` and the others are read."""
    opts = options or LogOptions()
    for path in paths:
        if path == STDIN:
            continue
        p = Path(path)
        if not p.exists():
            raise ConfigError("access log not found; check --access-log", where=path)
        if p.is_dir():
            raise ConfigError("is a folder; give the log files themselves", where=path)
    reader = _Reader(opts, stdin)
    for path in paths:
        reader.read(path)
    return reader.result(len(paths))
