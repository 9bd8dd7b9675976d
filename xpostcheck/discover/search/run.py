"""One search run: distinctive sentences in, candidate sites out, within a query budget.

In: the publisher's articles, a configured provider, a `SearchConfig`. Out: `Candidate`s
(method "search"; one per site that is not the publisher's nor noise, ranked by how many
articles and results point at it; evidence: the sentences that found it) and a
`SearchSummary` (queries spent, articles not searched and why, every failed query with its
kind, results ignored as noise by reason).

Queries go round-robin: the best sentence of every article first (newest articles first), then
the second of each, and so on, so a small budget still reaches many articles. The spacing of
queries is the politeness layer's (the provider's host slot); a query the provider still
refuses with 429 after the Fetcher's own retries makes the run wait its Retry-After before the
next one, or stop when that is longer than `max_wait`. A failure that every query would repeat
(a refused key, a wrong URL) stops the run at once, as do `max_failures` failures in a row.

Result pages on search engines, social networks, webmail and the other hosts of the access-log
noise list (`discover.noise`, with the user's `--ignore-host` additions; private addresses
unless allowed) are no republishers: they are counted by reason and not listed.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from xpostcheck import options
from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.noise import NoiseFilter
from xpostcheck.discover.search.providers import ProviderError, SearchProvider, SearchResult
from xpostcheck.discover.search.sentences import MAX_WORDS, Query, SentencePicker
from xpostcheck.models import Skipped, SourceArticle
from xpostcheck.util.urls import (
    article_key,
    canonicalize,
    host_of,
    original_key,
    strip_credentials,
)

__all__ = ["SearchConfig", "SearchFailure", "SearchSummary", "search_candidates", "site_root"]

ProgressFn = Callable[[str, str], None]
MAX_EVIDENCE = 5  # sentences kept as a candidate's evidence


@dataclass(frozen=True)
class SearchConfig:
    max_queries: int = options.SEARCH_MAX_QUERIES
    per_article: int = options.SEARCH_PER_ARTICLE
    max_words: int = MAX_WORDS
    max_wait: float = options.SEARCH_MAX_WAIT  # longest Retry-After waited for between queries
    max_failures: int = 3  # failed queries in a row that stop the run
    # the publisher's hosts besides its articles' own, each with its subdomains (a bare host
    # name as `discover --publisher-host` takes it, or a URL)
    publisher_hosts: tuple[str, ...] = ()
    # result hosts that are no republishers: search engines, social networks, ... (with the
    # user's additions); `NoiseFilter(allow_private=True)` keeps private addresses
    noise: NoiseFilter = field(default_factory=NoiseFilter)


@dataclass(frozen=True)
class SearchFailure:
    """One query that failed."""

    article_url: str
    query: str
    kind: str  # ProviderError.kind
    reason: str
    where: str  # the URL asked (without the key, which travels in a header)


@dataclass(frozen=True)
class SearchSummary:
    provider: str
    max_queries: int
    queries_spent: int = 0
    queries_planned: int = 0  # the queries the articles' sentences called for, budget aside
    articles: int = 0  # articles read
    articles_searched: int = 0  # articles with at least one query sent
    unsearched: tuple[str, ...] = ()  # articles with sentences to ask, not asked (budget, stop)
    without_sentences: tuple[str, ...] = ()  # articles with no distinctive sentence to ask
    results: int = 0  # result pages returned, in all
    own_results: int = 0  # of those, the publisher's own pages (dropped)
    ignored: dict[str, int] = field(default_factory=dict)  # dropped as noise, by reason
    failures: tuple[SearchFailure, ...] = ()
    stopped: str | None = None  # why the run ended before its queries ran out
    budget_exhausted: bool = False
    error_counts: dict[str, int] = field(default_factory=dict)  # failures by kind
    sources_skipped: tuple[Skipped, ...] = ()  # source inputs that could not be read

    @property
    def failed(self) -> bool:
        """Queries were sent and every one failed: the run found nothing it could trust."""
        return self.queries_spent > 0 and len(self.failures) >= self.queries_spent


def site_root(url: str) -> str:
    """A page's site as "scheme://host[:port]/" (lower case, default port dropped)."""
    canon = canonicalize(url)
    parts = urlsplit(canon)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"


def _host_key(url: str) -> str:
    """The host part of `original_key` (no www., no default port; an AMP cache, mobile or
    print form read as the site it copies)."""
    return original_key(url).split("/", 1)[0].split("?", 1)[0]


def _bare_host(entry: str) -> str:
    """A host name from `HOST` or a URL: lower case, no www., port or trailing dot."""
    text = entry.strip()
    host = host_of(text if "://" in text else f"http://{text}")
    return host[4:] if host.startswith("www.") else host


def _is_own(url: str, own: set[str], named: tuple[str, ...]) -> bool:
    """The publisher's page: on an article's own site (an AMP cache, mobile or print form
    included), or on a host the user named or one of its subdomains."""
    if _host_key(url) in own:
        return True
    host = _bare_host(url)
    return any(host == h or host.endswith("." + h) for h in named)


def _noise(cfg: SearchConfig, url: str) -> str:
    """Why a result page on this host is no republisher (search, social, ...), or ''."""
    host = host_of(url).rstrip(".")
    return cfg.noise.host_reason(host) if host else ""


def _newest_first(articles: Sequence[SourceArticle]) -> list[SourceArticle]:
    """Newest first; articles without a date last, in the order given."""
    dated = sorted(
        (a for a in articles if a.published), key=lambda a: a.published or "", reverse=True
    )
    return dated + [a for a in articles if not a.published]


def _plan(
    articles: Sequence[SourceArticle], cfg: SearchConfig
) -> tuple[list[Query], dict[str, list[Query]]]:
    """Every query in the order it would be sent (round-robin over the articles, newest
    first), and each article's queries. Sentences are picked only for as many articles as the
    budget can reach: an article past that has none in the plan, and is not searched."""
    picker = SentencePicker(articles, max_words=cfg.max_words)
    order = _newest_first(articles)
    picked: dict[str, list[Query]] = {}
    reached = 0
    for article in order:
        if reached >= cfg.max_queries:
            break
        picked[article.url] = picker.pick(article, cfg.per_article)
        reached += bool(picked[article.url])
    rounds = max((len(q) for q in picked.values()), default=0)
    schedule = [
        picked[a.url][r] for r in range(rounds) for a in order if r < len(picked.get(a.url, []))
    ]
    return schedule, picked


class _Sites:
    """Results grouped by site, in order of first appearance."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}  # site key -> root URL
        self.pages: dict[str, Counter[str]] = {}
        self.articles: dict[str, set[str]] = {}
        self.evidence: dict[str, list[str]] = {}

    def add(self, query: Query, result: SearchResult) -> None:
        key = article_key(site_root(result.url)).rstrip("/")
        self.roots.setdefault(key, site_root(result.url))
        self.pages.setdefault(key, Counter())[canonicalize(result.url)] += 1
        self.articles.setdefault(key, set()).add(query.article_url)
        said = f'"{query.text}" ({query.article_url})'
        evidence = self.evidence.setdefault(key, [])
        if said not in evidence:
            evidence.append(said)

    def candidates(self) -> list[Candidate]:
        """One Candidate per site: most articles found first, then most results."""
        out = []
        for key, root in self.roots.items():
            pages = self.pages[key]
            ranked = sorted(pages, key=lambda url: -pages[url])  # stable: first seen first
            candidate = Candidate(
                site=root,
                pages=tuple(ranked),
                hits=sum(pages.values()),
                distinct_pages=len(pages),
                method="search",
                evidence=tuple(self.evidence[key][:MAX_EVIDENCE]),
            )
            out.append((-len(self.articles[key]), -candidate.hits, -len(pages), root, candidate))
        out.sort(key=lambda row: row[:4])
        return [row[4] for row in out]


def search_candidates(
    articles: Sequence[SourceArticle],
    provider: SearchProvider,
    config: SearchConfig | None = None,
    *,
    progress: ProgressFn | None = None,
) -> tuple[list[Candidate], SearchSummary]:
    """Search for a few distinctive sentences of each article; the sites that carry them."""
    cfg = config or SearchConfig()
    report = progress or (lambda _event, _detail: None)
    schedule, picked = _plan(articles, cfg)
    own = {_host_key(a.url) for a in articles}
    named = tuple(_bare_host(h) for h in cfg.publisher_hosts if _bare_host(h))
    sites = _Sites()
    failures: list[SearchFailure] = []
    searched: set[str] = set()
    spent = results = own_results = in_a_row = 0
    ignored: Counter[str] = Counter()
    stopped: str | None = None
    wait_until = 0.0
    for query in schedule:
        if spent >= cfg.max_queries:
            break
        if (pause := wait_until - time.monotonic()) > 0:
            report("wait", f"{pause:.0f} s, as the provider asked")
            time.sleep(pause)
        spent += 1
        searched.add(query.article_url)
        report("query", query.text)
        try:
            found = provider.search(f'"{query.text}"')
        except ProviderError as exc:
            failures.append(
                SearchFailure(query.article_url, query.text, exc.kind, exc.reason, exc.where or "")
            )
            in_a_row += 1
            if exc.fatal:
                stopped = f"{provider.name}: {exc}"
            elif exc.retry_after is not None and exc.retry_after > cfg.max_wait:
                stopped = (
                    f"{provider.name} asks to wait {exc.retry_after:.0f} s (quota spent?); "
                    "run again later"
                )
            elif in_a_row >= cfg.max_failures:
                stopped = f"{provider.name} failed {in_a_row} queries in a row; last: {exc}"
            elif exc.retry_after is not None:
                wait_until = time.monotonic() + exc.retry_after
            if stopped:
                break
            continue
        in_a_row = 0
        seen: set[str] = set()
        for result in found:
            result = dataclasses.replace(result, url=strip_credentials(result.url))
            page = canonicalize(result.url)
            if page in seen:
                continue
            seen.add(page)
            results += 1
            reason = "own-host" if _is_own(result.url, own, named) else _noise(cfg, result.url)
            if reason == "own-host":
                own_results += 1
                continue
            if reason:
                ignored[reason] += 1
                continue
            sites.add(query, result)
    # an article the plan left out (budget) is not searched, whatever its sentences
    with_queries = [a.url for a in articles if picked.get(a.url) or a.url not in picked]
    summary = SearchSummary(
        provider=provider.name,
        max_queries=cfg.max_queries,
        queries_spent=spent,
        queries_planned=len(schedule),
        articles=len(articles),
        articles_searched=len(searched),
        unsearched=tuple(url for url in with_queries if url not in searched),
        without_sentences=tuple(url for url, queries in picked.items() if not queries),
        results=results,
        own_results=own_results,
        ignored=dict(ignored),
        failures=tuple(failures),
        stopped=stopped,
        budget_exhausted=stopped is None and (spent < len(schedule) or len(picked) < len(articles)),
        error_counts=dict(Counter(f.kind for f in failures)),
    )
    return sites.candidates(), summary
