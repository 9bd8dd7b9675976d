"""`xpostcheck discover --search PROVIDER`: the search half of the discover command.

In: the command's parsed options and the environment. Out: the ranked candidates, the run's
summary, and the summary as lines for the terminal. `search_options` adds the search flags to
a click command (the `discover` command applies it); `run_search` runs the search through the
library; `summary_lines` says what the run spent, skipped and failed (stderr) and
`summary_data` the same as data (`render`'s JSON summary); `search_exit_code` is 3 when every
query failed, else 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from xpostcheck import options
from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.search.providers import PROVIDERS
from xpostcheck.discover.search.run import ProgressFn, SearchSummary
from xpostcheck.discover.search.session import SearchRequest, discover_by_search

__all__ = [
    "run_search",
    "search_exit_code",
    "search_found",
    "search_options",
    "summary_data",
    "summary_lines",
]

F = TypeVar("F", bound=Callable[..., object])
LISTED = 3  # article URLs named per line before "and N more"
MAX_FAILURES_SHOWN = 20


def search_options(command: F) -> F:
    """The search flags, for the `discover` command, whose --sources and --publisher-host
    `run_search` takes too (as `sources` and `publisher_host`)."""
    flags = [
        click.option(
            "--search",
            "search",
            metavar="PROVIDER",
            type=click.Choice(sorted(PROVIDERS), case_sensitive=False),
            help="Search the web for distinctive sentences of each article with this provider.",
        ),
        click.option(
            "--search-url",
            metavar="URL",
            help=(
                "The provider's base URL (default: XPOSTCHECK_SEARXNG_URL for searxng, "
                "XPOSTCHECK_BRAVE_URL or the public API for brave)."
            ),
        ),
        click.option(
            "--search-key",
            metavar="KEY",
            help="The provider's API key (better: XPOSTCHECK_BRAVE_KEY, kept out of ps).",
        ),
        click.option(
            "--max-queries",
            type=int,
            default=options.SEARCH_MAX_QUERIES,
            show_default=True,
            help="Queries this run may send in all; articles left over are listed.",
        ),
        click.option(
            "--queries-per-article",
            type=int,
            default=options.SEARCH_PER_ARTICLE,
            show_default=True,
            help="Distinctive sentences asked per article.",
        ),
        click.option(
            "--search-interval",
            type=float,
            default=options.SEARCH_INTERVAL,
            show_default=True,
            metavar="SECONDS",
            help="Least time between two queries (the provider's rate limit).",
        ),
    ]
    for flag in reversed(flags):
        command = flag(command)
    return command


def run_search(
    provider: str,
    sources: Sequence[str],
    *,
    search_url: str | None = None,
    search_key: str | None = None,
    max_queries: int = options.SEARCH_MAX_QUERIES,
    queries_per_article: int = options.SEARCH_PER_ARTICLE,
    search_interval: float = options.SEARCH_INTERVAL,
    publisher_host: Sequence[str] = (),
    allow_private: Sequence[str] = (),
    timeout: float | None = None,
    contact: str | None = None,
    ignore_host: Sequence[str] = (),
    allow_private_results: bool = False,
    env: Mapping[str, str] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[list[Candidate], SearchSummary]:
    """The candidates a search finds, ranked, and what the run spent. Raises ConfigError or
    SourceError (exit 2) before any query when the options, key or sources are wrong."""
    request = SearchRequest(
        provider=provider,
        sources=tuple(sources),
        search_url=search_url,
        search_key=search_key,
        max_queries=max_queries,
        per_article=queries_per_article,
        interval=search_interval,
        publisher_hosts=tuple(publisher_host),
        allow_private=tuple(allow_private),
        timeout=options.TIMEOUT if timeout is None else timeout,
        contact=contact,
        ignore_hosts=tuple(ignore_host),
        allow_private_results=allow_private_results,
    )
    return discover_by_search(request, os.environ if env is None else env, progress=progress)


def _listed(urls: Sequence[str]) -> str:
    text = ", ".join(urls[:LISTED])
    more = len(urls) - LISTED
    return text + (f" (and {more} more)" if more > 0 else "")


def _ignored(counts: Mapping[str, int]) -> str:
    """'4 ignored (search 3, social 1)', in the noise list's order of reasons."""
    from xpostcheck.discover.noise import REASONS

    order = {r: i for i, r in enumerate(REASONS)}
    parts = sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return f"{sum(counts.values())} ignored ({', '.join(f'{r} {n}' for r, n in parts)})"


def summary_lines(summary: SearchSummary) -> list[str]:
    """What the run spent, left out and failed, one fact a line (for stderr)."""
    lines = [
        f"search ({summary.provider}): {summary.queries_spent} of {summary.max_queries} "
        f"queries spent on {summary.articles_searched} of {summary.articles} articles; "
        f"{summary.results} results, {summary.own_results} of them the publisher's own"
        + (f", {_ignored(summary.ignored)}" if summary.ignored else "")
    ]
    if summary.unsearched:
        why = "query budget spent" if summary.budget_exhausted else "search stopped"
        if summary.budget_exhausted:
            why += "; raise --max-queries"
        lines.append(f"not searched ({why}): {_listed(summary.unsearched)}")
    elif summary.budget_exhausted:
        left = summary.queries_planned - summary.queries_spent
        lines.append(
            f"query budget spent: {left} more sentence{'s' if left != 1 else ''} not asked; "
            "raise --max-queries"
        )
    if summary.without_sentences:
        lines.append(f"no distinctive sentence to search for: {_listed(summary.without_sentences)}")
    if summary.failures:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.error_counts.items()))
        first = summary.failures[0]
        lines.append(
            f"failed queries: {len(summary.failures)} ({kinds}); first: {first.where}: "
            f"{first.reason}"
        )
    if summary.stopped:
        lines.append(f"stopped early: {summary.stopped}")
    if summary.sources_skipped:
        lines.append(
            f"sources skipped: {len(summary.sources_skipped)}; first: "
            f"{summary.sources_skipped[0].url}: {summary.sources_skipped[0].reason}"
        )
    return lines


def summary_data(summary: SearchSummary) -> dict[str, object]:
    """The summary as JSON-ready data (the "summary" of `discover --format json`); failures
    past the first MAX_FAILURES_SHOWN are counted in `errors` only."""
    return {
        "method": "search",
        "provider": summary.provider,
        "queries_spent": summary.queries_spent,
        "max_queries": summary.max_queries,
        "articles": summary.articles,
        "articles_searched": summary.articles_searched,
        "unsearched": list(summary.unsearched),
        "without_sentences": list(summary.without_sentences),
        "budget_exhausted": summary.budget_exhausted,
        "results": summary.results,
        "own_results": summary.own_results,
        "ignored_results": sum(summary.ignored.values()),
        "ignored": dict(sorted(summary.ignored.items())),
        "errors": dict(sorted(summary.error_counts.items())),
        "failures": [
            {"article": f.article_url, "query": f.query, "kind": f.kind, "reason": f.reason}
            for f in summary.failures[:MAX_FAILURES_SHOWN]
        ],
        "stopped": summary.stopped,
        "failed": summary.failed,  # queries were sent and every one failed: exit 3
        "sources_skipped": [{"url": s.url, "reason": s.reason} for s in summary.sources_skipped],
    }


def search_found(
    flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> tuple[list[Candidate], dict[str, object], list[str]]:
    """What `discover --search` found, in the shape of the command's other methods:
    (candidates, summary as data, summary lines), from the command's parsed `flags` (those of
    `search_options`, with `sources`, `publisher_host` and the noise flags: `ignore_host`,
    `ignore_file` (its hosts) and `allow_private_referrers`)."""
    hosts = list(flags.get("ignore_host") or ())
    if flags.get("ignore_file"):
        from xpostcheck.discover.noise import read_ignore_file

        for path in flags["ignore_file"]:
            hosts += read_ignore_file(path)[0]
    candidates, summary = run_search(
        flags["search"],
        flags.get("sources") or (),
        search_url=flags.get("search_url"),
        search_key=flags.get("search_key"),
        max_queries=flags.get("max_queries", options.SEARCH_MAX_QUERIES),
        queries_per_article=flags.get("queries_per_article", options.SEARCH_PER_ARTICLE),
        search_interval=flags.get("search_interval", options.SEARCH_INTERVAL),
        publisher_host=flags.get("publisher_host") or (),
        ignore_host=hosts,
        allow_private_results=bool(flags.get("allow_private_referrers")),
        env=env,
    )
    return candidates, summary_data(summary), summary_lines(summary)


def search_exit_code(summary: SearchSummary) -> int:
    """3 when queries were sent and every one failed (nothing found can be trusted), else 0."""
    return 3 if summary.failed else 0
