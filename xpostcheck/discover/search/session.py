"""Discovery by web search, wired: sources read, provider configured, the run made.

In: a `SearchRequest` (what `xpostcheck discover --search` was given) and the environment.
Out: the ranked `Candidate`s and the `SearchSummary`. Raises ConfigError (a missing key or URL,
a bad option) or SourceError (no article could be read) before any query is sent.

Every request goes through the politeness layer over one Fetcher: source URLs through
`Politeness.fetch` (robots.txt, the host's delay), queries through `Politeness.api_get` on a
second Politeness whose per-host gap is the query interval. The Fetcher's address policy
allows a non-public address only where the user named it: the provider's URL or a source URL
naming an address (loopback SearXNG at http://127.0.0.1:8888), or `allow_private`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from xpostcheck import options
from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.noise import NoiseFilter
from xpostcheck.discover.search.providers import ProviderSettings, provider_class
from xpostcheck.discover.search.run import (
    ProgressFn,
    SearchConfig,
    SearchSummary,
    search_candidates,
)
from xpostcheck.errors import ConfigError, SourceError
from xpostcheck.net.fetch import FetchConfig, Fetcher
from xpostcheck.net.policy import named_addresses, parse_allowed
from xpostcheck.pages.config import CrawlConfig
from xpostcheck.pages.polite import Politeness
from xpostcheck.sources.loader import describe_skipped, load_sources_report

__all__ = ["SearchRequest", "discover_by_search"]

MAX_PER_ARTICLE = 10


@dataclass(frozen=True)
class SearchRequest:
    provider: str  # a name in PROVIDERS
    sources: tuple[str, ...]
    search_url: str | None = None  # else the provider's environment variable
    search_key: str | None = None  # else the provider's environment variable
    max_queries: int = options.SEARCH_MAX_QUERIES
    per_article: int = options.SEARCH_PER_ARTICLE
    interval: float = options.SEARCH_INTERVAL
    results: int = options.SEARCH_RESULTS
    publisher_hosts: tuple[str, ...] = ()  # never candidates, with their subdomains
    allow_private: tuple[str, ...] = ()
    timeout: float = options.TIMEOUT
    contact: str | None = None
    retries: int = 2  # the Fetcher's retries of one query on 429 and 5xx
    # result hosts never listed, besides the built-in noise list (search engines, social
    # networks, webmail, ...), each with its subdomains
    ignore_hosts: tuple[str, ...] = ()
    allow_private_results: bool = False  # list result pages on private addresses too


def _check(request: SearchRequest) -> None:
    if not request.sources:
        raise ConfigError("give the publisher's articles with --sources")
    if request.max_queries < 1:
        raise ConfigError(f"--max-queries must be at least 1, not {request.max_queries}")
    if not 1 <= request.per_article <= MAX_PER_ARTICLE:
        raise ConfigError(
            f"--queries-per-article must be 1 to {MAX_PER_ARTICLE}, not {request.per_article}"
        )
    if request.interval < 0:
        raise ConfigError(f"--search-interval must be 0 or more, not {request.interval:g}")
    if not 0 < request.timeout <= options.MAX_TIMEOUT:
        raise ConfigError(f"--timeout must be above 0 and at most {options.MAX_TIMEOUT:g}")
    for entry in request.allow_private:
        try:
            parse_allowed(entry)
        except ValueError as exc:
            raise ConfigError(f"--allow-private {entry!r}: {exc}") from None


def discover_by_search(
    request: SearchRequest, env: Mapping[str, str], *, progress: ProgressFn | None = None
) -> tuple[list[Candidate], SearchSummary]:
    """Read the sources, configure the provider, run the search (see run.py)."""
    _check(request)
    cls = provider_class(request.provider)
    settings = ProviderSettings(request.search_url, request.search_key, request.results)
    endpoint = cls.endpoint(settings, env)  # ConfigError naming the variable, before any I/O
    named = [endpoint, *(s for s in request.sources if s.startswith(("http://", "https://")))]
    fetcher = Fetcher(
        FetchConfig(
            contact=request.contact,
            deadline=request.timeout,
            retries=request.retries,
            allowed_hosts=named_addresses(named) | frozenset(request.allow_private),
        )
    )
    try:
        provider = cls.create(
            settings, env, Politeness(fetcher, CrawlConfig(delay=request.interval))
        )
        articles, skipped = load_sources_report(
            list(request.sources), fetch=Politeness(fetcher).fetch
        )
        if not articles:
            why = describe_skipped(skipped)
            raise SourceError(
                "no article could be read from the sources" + (f": {why}" if why else "")
            )
        config = SearchConfig(
            max_queries=request.max_queries,
            per_article=request.per_article,
            publisher_hosts=request.publisher_hosts,
            noise=NoiseFilter(allow_private=request.allow_private_results).extended(
                hosts=request.ignore_hosts
            ),
        )
        candidates, summary = search_candidates(articles, provider, config, progress=progress)
    finally:
        fetcher.close()
    return candidates, dataclasses.replace(summary, sources_skipped=tuple(skipped))
