"""The CLI half of search discovery, through the real `xpostcheck discover --search` against a
loopback SearXNG; and the Fetcher's API requests (headers to the API's own origin only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loopback import Server
from searchfake import ARTICLES, FakeProvider, article_for, query_of, send, write_sources

from xpostcheck.cli.discover_search import (
    search_exit_code,
    search_found,
    summary_lines,
)
from xpostcheck.cli.main import main
from xpostcheck.discover.search.run import SearchFailure, SearchSummary
from xpostcheck.models import SkipCode, Skipped
from xpostcheck.net.fetch import FetchConfig, Fetcher

NEWEST, MIDDLE, OLDEST = (str(a["url"]) for a in ARTICLES)


@pytest.fixture
def searxng() -> Iterator[FakeProvider]:
    with FakeProvider("searxng") as fake:
        yield fake


def _run(args: list[str], env: dict[str, str]) -> Any:
    """`xpostcheck discover ARGS -f json` (the real command); `--json-output` asks for the
    whole JSON document on stdout, otherwise stdout is replaced by its candidates alone."""
    whole = "--json-output" in args
    args = [a for a in args if a != "--json-output"]
    result = CliRunner().invoke(main, ["discover", "-f", "json", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    if not whole and result.stdout.strip():
        return _Result(result, json.dumps(json.loads(result.stdout)["candidates"]))
    return _Result(result, result.stdout or "[]")


class _Result:
    def __init__(self, result: Any, stdout: str) -> None:
        self.exit_code, self.stderr, self.output = result.exit_code, result.stderr, result.output
        self.stdout = stdout


def test_discover_search_lists_candidates_and_what_it_spent(
    searxng: FakeProvider, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path)
    args = ["--search", "searxng", "-s", sources, "--max-queries", "4", "--search-interval", "0"]
    result = _run(args, {"XPOSTCHECK_SEARXNG_URL": searxng.base})
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["site"], r["hits"], r["distinct_pages"], r["method"]) for r in rows] == [
        ("https://coastnews.example/", 5, 4, "search"),
        ("https://islandblog.example/", 2, 1, "search"),
    ]
    assert result.stderr.splitlines() == [
        "search (searxng): 4 of 4 queries spent on 3 of 3 articles; "
        "14 results, 7 of them the publisher's own",
        "query budget spent: 3 more sentences not asked; raise --max-queries",
    ]
    assert len(searxng.queries()) == 4


def test_every_query_failing_exits_3(tmp_path: Path) -> None:
    def refuse(handler: BaseHTTPRequestHandler, n: int) -> bool:
        send(handler, 403, b"forbidden", content_type="text/html")
        return True

    sources = write_sources(tmp_path)
    with FakeProvider("searxng", before=refuse) as fake:
        result = _run(["--search", "searxng", "-s", sources], {"XPOSTCHECK_SEARXNG_URL": fake.base})
    assert result.exit_code == 3
    assert result.stdout.strip() == "[]"
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "search (searxng): 1 of 50 queries spent on 1 of 3 articles; "
        "0 results, 0 of them the publisher's own"
    )
    assert lines[1] == f"not searched (search stopped): {MIDDLE}, {OLDEST}"
    assert lines[2].startswith(f"failed queries: 1 (http 1); first: {fake.base}/search?q=")
    assert lines[2].endswith(
        "HTTP 403 Forbidden: is 'json' listed in search.formats of the instance's settings.yml?"
    )
    assert lines[3].startswith("stopped early: searxng: ")


def test_a_missing_key_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    sources = write_sources(tmp_path)
    result = _run(["--search", "brave", "-s", sources], {"XPOSTCHECK_BRAVE_KEY": ""})
    assert result.exit_code == 2
    assert result.stderr == (
        "xpostcheck: error: the Brave Search API needs a key: set XPOSTCHECK_BRAVE_KEY "
        "(or pass --search-key)\n"
    )


def test_flags_win_over_the_environment(searxng: FakeProvider, tmp_path: Path) -> None:
    sources = write_sources(tmp_path)
    args = ["--search", "SearXNG", "-s", sources, "--search-url", searxng.base]
    args += ["--max-queries", "1", "--search-interval", "0", "--queries-per-article", "1"]
    args += ["--publisher-host", "coastnews.example"]
    result = _run(args, {"XPOSTCHECK_SEARXNG_URL": "http://192.0.2.1:9"})
    assert result.exit_code == 0, result.output
    assert len(searxng.queries()) == 1
    assert [row["site"] for row in json.loads(result.stdout)] == ["https://islandblog.example/"]


def test_summary_lines_cut_long_lists() -> None:
    summary = SearchSummary(
        provider="brave",
        max_queries=2,
        queries_spent=2,
        queries_planned=9,
        articles=6,
        articles_searched=2,
        unsearched=("a", "b", "c", "d"),
        without_sentences=("e",),
        results=4,
        own_results=1,
        failures=(SearchFailure("x", "q", "timeout", "read timed out", "https://api/x"),),
        budget_exhausted=True,
        error_counts={"timeout": 1},
        sources_skipped=(Skipped("https://p.example/feed", "HTTP 404", SkipCode.GONE),),
    )
    assert summary_lines(summary) == [
        "search (brave): 2 of 2 queries spent on 2 of 6 articles; "
        "4 results, 1 of them the publisher's own",
        "not searched (query budget spent; raise --max-queries): a, b, c (and 1 more)",
        "no distinctive sentence to search for: e",
        "failed queries: 1 (timeout 1); first: https://api/x: read timed out",
        "sources skipped: 1; first: https://p.example/feed: HTTP 404",
    ]
    assert search_exit_code(summary) == 0


def test_api_headers_never_follow_a_redirect_to_another_origin() -> None:
    def hop(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", f"{other.base}/landing")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    landing = (200, {"Content-Type": "application/json"}, b"{}")
    with Server({"/landing": landing}) as other, Server({"/api": hop}, host="127.0.0.2") as api:
        allowed = frozenset({f"127.0.0.1:{other.port}", f"127.0.0.2:{api.port}"})
        fetcher = Fetcher(FetchConfig(allowed_hosts=allowed))
        try:
            fetched = fetcher.fetch_api(f"{api.base}/api", {"X-Subscription-Token": "k1"})
        finally:
            fetcher.close()
        assert fetched.body == b"{}"
        assert api.log[0][2]["X-Subscription-Token"] == "k1"
        assert "X-Subscription-Token" not in other.log[0][2]
        assert other.log[0][2]["User-Agent"].startswith("xpostcheck/")


def test_the_json_output_carries_the_search_summary(tmp_path: Path) -> None:
    def refuse_second(handler: BaseHTTPRequestHandler, n: int) -> bool:
        if article_for(query_of(handler.path)) == MIDDLE:  # each try (the Fetcher retries)
            send(handler, 502, b"bad gateway", content_type="text/plain")
            return True
        return False

    sources = write_sources(tmp_path)
    args = ["--search", "searxng", "-s", sources, "--json-output", "--search-interval", "0"]
    args += ["--max-queries", "2", "--queries-per-article", "1"]
    with FakeProvider("searxng", before=refuse_second) as fake:
        result = _run(args, {"XPOSTCHECK_SEARXNG_URL": fake.base})
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    assert [c["site"] for c in data["candidates"]] == [
        "https://coastnews.example/",
        "https://islandblog.example/",
    ]
    assert data["candidates"][0]["method"] == "search"
    summary = data["summary"]
    failure = summary.pop("failures")
    assert summary == {
        "method": "search",
        "provider": "searxng",
        "queries_spent": 2,
        "max_queries": 2,
        "articles": 3,
        "articles_searched": 2,
        "unsearched": [OLDEST],
        "without_sentences": [],
        "budget_exhausted": True,
        "results": 5,
        "own_results": 3,
        "ignored_results": 0,
        "ignored": {},
        "errors": {"http": 1},
        "stopped": None,
        "failed": False,
        "sources_skipped": [],
    }
    assert [(f["article"], f["kind"]) for f in failure] == [(MIDDLE, "http")]
    assert failure[0]["reason"].startswith("HTTP 502 Bad Gateway after 3 attempts")


def test_search_found_has_the_shape_of_the_other_discover_methods(
    searxng: FakeProvider, tmp_path: Path
) -> None:
    flags = {
        "search": "searxng",
        "sources": (write_sources(tmp_path),),
        "search_url": searxng.base,
        "search_key": None,
        "max_queries": 3,
        "queries_per_article": 1,
        "search_interval": 0.0,
        "publisher_host": ("islandblog.example",),
        "access_logs": (),  # the command's other flags are left alone
    }
    candidates, data, lines = search_found(flags, env={})
    assert [c.site for c in candidates] == ["https://coastnews.example/"]
    assert (data["queries_spent"], data["failed"], data["own_results"]) == (3, False, 5)
    assert lines == [
        "search (searxng): 3 of 3 queries spent on 3 of 3 articles; "
        "9 results, 5 of them the publisher's own"
    ]


_NOISY = [
    "https://www.google.com/search?q=lighthouse+keepers",
    "https://news.google.co.uk/articles/abc",
    "https://www.facebook.com/sharer/sharer.php?u=x",
    "https://mail.yahoo.com/d/folders/1",
    "https://reader.aggregator.example/item/9",
    "http://10.0.0.5/mirror/keepers",
    "https://coastnews.example/2026/03/the-last-lighthouse-keepers/",
]


def _noisy(handler: BaseHTTPRequestHandler, n: int) -> bool:
    """Every query answered with the same results: noise hosts around one real copy."""
    results = [{"url": u, "title": "t", "content": "c", "engine": "e"} for u in _NOISY]
    body = {"query": query_of(handler.path), "results": results, "unresponsive_engines": []}
    send(handler, 200, json.dumps(body).encode())
    return True


def test_search_results_on_noise_hosts_are_counted_and_not_listed(tmp_path: Path) -> None:
    sources = write_sources(tmp_path)
    ignore = tmp_path / "ignore.txt"
    ignore.write_text("# not republishers\nhost aggregator.example\nagent SomeBot\n")
    base = ["--search", "searxng", "-s", sources, "--max-queries", "2", "--search-interval", "0"]
    with FakeProvider("searxng", before=_noisy) as fake:
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        plain = _run([*base, "--json-output"], env)
        ignored = _run([*base, "--ignore-file", str(ignore), "--json-output"], env)
        private = _run(
            [*base, "--ignore-host", "aggregator.example", "--allow-private-referrers"], env
        )
    assert plain.exit_code == ignored.exit_code == private.exit_code == 0, plain.output
    data = json.loads(plain.stdout)
    assert [c["site"] for c in data["candidates"]] == [
        "https://coastnews.example/",
        "https://reader.aggregator.example/",
    ]
    assert data["summary"]["results"] == 14
    assert data["summary"]["ignored_results"] == 10
    assert data["summary"]["ignored"] == {
        "feed-reader": 2,  # Google News
        "private-address": 2,
        "search": 2,
        "social": 2,
        "webmail": 2,
    }
    assert plain.stderr.splitlines()[0] == (
        "search (searxng): 2 of 2 queries spent on 2 of 3 articles; 14 results, 0 of them the "
        "publisher's own, 10 ignored (search 2, social 2, webmail 2, feed-reader 2, "
        "private-address 2)"
    )
    # the user's own additions (an --ignore-file's hosts) are dropped as "ignored"
    data = json.loads(ignored.stdout)
    assert [c["site"] for c in data["candidates"]] == ["https://coastnews.example/"]
    assert data["summary"]["ignored"]["ignored"] == 2
    # private addresses are kept when asked, as referrers are
    assert sorted(r["site"] for r in json.loads(private.stdout)) == [
        "http://10.0.0.5/",
        "https://coastnews.example/",
    ]
