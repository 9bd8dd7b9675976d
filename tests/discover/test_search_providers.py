"""Search discovery end to end against loopback SearXNG and Brave servers answering in each
API's documented shape: results found and grouped, the publisher's own pages dropped, the
query budget, 429 with Retry-After, 5xx, malformed JSON, timeouts, missing keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from searchfake import ARTICLES, FakeProvider, send, slow, stamps, write_sources

from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.search.providers import PROVIDERS, Brave, SearXNG, provider_class
from xpostcheck.discover.search.session import SearchRequest, discover_by_search
from xpostcheck.errors import ConfigError, SourceError

NEWEST, MIDDLE, OLDEST = (str(a["url"]) for a in ARTICLES)


@pytest.fixture
def sources(tmp_path: Path) -> str:
    return write_sources(tmp_path)


@pytest.fixture
def searxng() -> Iterator[FakeProvider]:
    with FakeProvider("searxng") as fake:
        yield fake


def _request(provider: str, sources: str, **kw: object) -> SearchRequest:
    defaults: dict[str, object] = {"interval": 0.0, "retries": 0, "timeout": 5.0}
    defaults.update(kw)
    return SearchRequest(provider, (sources,), **defaults)  # type: ignore[arg-type]


def test_registry_names_both_providers() -> None:
    assert dict(PROVIDERS) == {"searxng": SearXNG, "brave": Brave}
    assert provider_class(" SearXNG ") is SearXNG
    with pytest.raises(ConfigError, match="unknown search provider 'bing'; choose one of: brave"):
        provider_class("bing")


def test_searxng_finds_copies_and_drops_the_publishers_own_pages(
    searxng: FakeProvider, sources: str
) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base + "/"}
    candidates, summary = discover_by_search(_request("searxng", sources), env)
    assert candidates == [
        Candidate(
            site="https://coastnews.example/",
            pages=(
                "https://coastnews.example/2026/03/the-last-lighthouse-keepers/",
                "https://coastnews.example/2026/02/glass-eels/",
                "https://coastnews.example/2026/01/ferry/",
                "http://www.coastnews.example/print/ferry",
            ),
            hits=3 + 2 + 2 + 2,
            distinct_pages=4,
            method="search",
            evidence=candidates[0].evidence,
        ),
        Candidate(
            site="https://islandblog.example/",
            pages=("https://islandblog.example/keepers",),
            hits=3,
            distinct_pages=1,
            method="search",
            evidence=candidates[1].evidence,
        ),
    ]
    # the evidence is the sentence that found the site, and the article it comes from
    assert candidates[1].evidence == (
        '"basalt skerry of Fennick Rock, two keepers still wind the clockwork lens by hand '
        f'every evening before the ferries cross" ({NEWEST})',
        '"Keeper Ilse Brandvold keeps a logbook of every storm since the winter the breakwater '
        f'split, written in pencil because ink" ({NEWEST})',
        '"lighthouse board wanted automation in 1998, but the islanders petitioned the county '
        f'council with four thousand signatures and a cormorant" ({NEWEST})',
    )
    assert len(candidates[0].evidence) == 5  # capped; 7 sentences found it
    assert summary.queries_spent == 7 and summary.max_queries == 50
    assert (summary.articles, summary.articles_searched) == (3, 3)
    assert summary.unsearched == () and not summary.budget_exhausted
    # www., utm_ tracking, the AMP cache and the m. host are all the publisher's own
    assert (summary.results, summary.own_results) == (3 * 5 + 2 * 2 + 2 * 2, 3 * 3 + 2 * 1)
    assert summary.failures == () and summary.stopped is None and not summary.failed
    # phrase queries, JSON asked for, round-robin over the articles, newest first
    queries = searxng.queries()
    assert all(q.startswith('"') and q.endswith('"') for q in queries)
    assert [q.strip('"')[:20] for q in queries] == [
        "basalt skerry of Fen",
        "Ashwell weir have bu",
        "Commuters from Skelm",
        "Keeper Ilse Brandvol",
        "the estuary trust me",
        "minutes from Novembe",
        "lighthouse board wan",
    ]
    first = searxng.server.log[0]
    assert "format=json" in first[1]
    assert first[2]["User-Agent"].startswith("xpostcheck/")
    # an API is not crawled: its robots.txt (which disallows everything) is never read
    assert "/robots.txt" not in searxng.server.paths()


def test_brave_sends_the_key_and_reads_web_results(sources: str) -> None:
    with FakeProvider("brave") as brave:
        env = {"XPOSTCHECK_BRAVE_KEY": "sekrit-123", "XPOSTCHECK_BRAVE_URL": brave.base}
        candidates, summary = discover_by_search(_request("brave", sources, per_article=1), env)
        assert [c.site for c in candidates] == [
            "https://coastnews.example/",
            "https://islandblog.example/",
        ]
        assert summary.queries_spent == 3 and summary.failures == ()
        headers = [h for _, _, h in brave.server.log]
        assert [h["X-Subscription-Token"] for h in headers] == ["sekrit-123"] * 3
        assert all(h["Accept"] == "application/json" for h in headers)
        assert all("count=10" in p for p in brave.server.paths())


def test_brave_result_text_is_plain() -> None:
    with FakeProvider("brave") as brave:
        from xpostcheck.net.fetch import FetchConfig, Fetcher
        from xpostcheck.pages.polite import Politeness

        fetcher = Fetcher(FetchConfig(allowed_hosts=frozenset({f"127.0.0.1:{brave.server.port}"})))
        provider = Brave(brave.base, "k", Politeness(fetcher), results=2)
        phrase = str(ARTICLES[1]["text"]).split("\n")[1][:60]
        results = provider.search(f'"{phrase}"')
        fetcher.close()
    assert [r.url for r in results] == [
        "https://coastnews.example/2026/02/glass-eels/",
        "https://m.harbourpost.example/2026/02/eel-ladders",
    ]
    assert results[0].snippet == f'"{phrase}" & more'  # <strong> and &amp; undone


def test_missing_key_or_url_names_the_variable(sources: str) -> None:
    with pytest.raises(ConfigError, match="set XPOSTCHECK_BRAVE_KEY"):
        discover_by_search(_request("brave", sources), {})
    with pytest.raises(ConfigError, match="set XPOSTCHECK_SEARXNG_URL"):
        discover_by_search(_request("searxng", sources), {"XPOSTCHECK_BRAVE_KEY": "k"})
    with pytest.raises(ConfigError, match="XPOSTCHECK_SEARXNG_URL: 'ftp://x' is not an http"):
        discover_by_search(_request("searxng", sources), {"XPOSTCHECK_SEARXNG_URL": "ftp://x"})
    with pytest.raises(ConfigError, match="--max-queries must be at least 1"):
        discover_by_search(_request("searxng", sources, max_queries=0), {})


def test_no_readable_source_is_an_error_before_any_query(
    searxng: FakeProvider, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"url": "https://p.example/a", "title": "t", "text": ""}) + "\n")
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base}
    with pytest.raises(SourceError, match="no article could be read"):
        discover_by_search(_request("searxng", str(empty)), env)
    assert searxng.queries() == []


def test_the_budget_spreads_over_articles_and_lists_those_left(
    searxng: FakeProvider, sources: str
) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base}
    candidates, summary = discover_by_search(_request("searxng", sources, max_queries=2), env)
    assert len(searxng.queries()) == 2
    assert summary.queries_spent == 2 and summary.budget_exhausted
    assert summary.unsearched == (OLDEST,)  # newest first: the oldest waits for budget
    assert summary.articles_searched == 2
    assert [c.site for c in candidates] == [
        "https://coastnews.example/",
        "https://islandblog.example/",
    ]


def test_queries_are_spaced_by_the_interval(searxng: FakeProvider, sources: str) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base}
    discover_by_search(_request("searxng", sources, max_queries=3, interval=0.3), env)
    times = stamps(searxng)
    assert len(times) == 3
    assert all(b - a >= 0.3 for a, b in zip(times, times[1:], strict=False))


def _status_first(status: int, times: int, **headers: str) -> object:
    def answer(handler: BaseHTTPRequestHandler, n: int) -> bool:
        if n <= times:
            body = json.dumps({"error": "no"}).encode()
            send(handler, status, body, **headers)
            return True
        return False

    return answer


def test_429_with_retry_after_is_waited_for(sources: str) -> None:
    before = _status_first(429, 1, Retry_After="1")
    with FakeProvider("searxng", before=before) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        candidates, summary = discover_by_search(
            _request("searxng", sources, max_queries=1, retries=2), env
        )
        times = stamps(fake)
    assert len(times) == 2 and times[1] - times[0] >= 1.0  # asked again after Retry-After
    assert summary.failures == () and summary.queries_spent == 1
    assert [c.site for c in candidates][0] == "https://coastnews.example/"


def test_429_still_refused_waits_before_the_next_query(sources: str) -> None:
    before = _status_first(429, 1, Retry_After="1")
    with FakeProvider("searxng", before=before) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        _, summary = discover_by_search(_request("searxng", sources, max_queries=2), env)
        times = stamps(fake)
    assert len(times) == 2 and times[1] - times[0] >= 1.0
    assert summary.error_counts == {"rate-limited": 1}
    assert summary.failures[0].article_url == NEWEST
    assert summary.failures[0].reason.startswith("HTTP 429")
    assert summary.queries_spent == 2 and summary.stopped is None


def test_a_spent_provider_quota_stops_the_run(sources: str) -> None:
    before = _status_first(429, 99, Retry_After="86400")
    with FakeProvider("brave", before=before) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_BRAVE_KEY": "k", "XPOSTCHECK_BRAVE_URL": fake.base}
        candidates, summary = discover_by_search(_request("brave", sources, retries=2), env)
        assert len(fake.queries()) == 1  # neither retried nor asked again
    assert candidates == []
    assert summary.stopped == "brave asks to wait 86400 s (quota spent?); run again later"
    assert summary.unsearched == (MIDDLE, OLDEST)
    assert not summary.budget_exhausted and summary.failed


def test_server_errors_are_counted_and_three_in_a_row_stop(sources: str) -> None:
    with FakeProvider("searxng", before=_status_first(500, 99)) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        candidates, summary = discover_by_search(_request("searxng", sources), env)
        assert len(fake.queries()) == 3
    assert candidates == [] and summary.failed
    assert summary.error_counts == {"http": 3}
    assert [f.reason for f in summary.failures] == ["HTTP 500 Internal Server Error"] * 3
    assert summary.stopped is not None and "failed 3 queries in a row" in summary.stopped
    assert summary.unsearched == ()  # every article was asked once before the stop


def test_a_refused_key_stops_at_once_with_a_hint(sources: str) -> None:
    with FakeProvider("brave", before=_status_first(401, 99)) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_BRAVE_KEY": "wrong", "XPOSTCHECK_BRAVE_URL": fake.base}
        _, summary = discover_by_search(_request("brave", sources), env)
        assert len(fake.queries()) == 1
    assert summary.stopped is not None
    assert "HTTP 401 Unauthorized: the API refused the key; check XPOSTCHECK_BRAVE_KEY" in (
        summary.stopped
    )
    assert "wrong" not in summary.stopped


def _body_of(bodies: list[bytes | None]) -> object:
    """Answer request n with bodies[n - 1]; None (or past the list): answer as the API."""

    def answer(handler: BaseHTTPRequestHandler, n: int) -> bool:
        body = bodies[n - 1] if n <= len(bodies) else None
        if body is None:
            return False
        send(handler, 200, body)
        return True

    return answer


def test_malformed_answers_are_counted_never_raised(sources: str) -> None:
    bodies = [b"<html>busy</html>", b"[1, 2]", None, b'{"results": "none"}', b'{"answers": []}']
    with FakeProvider("searxng", before=_body_of(bodies)) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        candidates, summary = discover_by_search(_request("searxng", sources), env)
    assert summary.error_counts == {"bad-response": 4}
    assert [f.reason for f in summary.failures] == [
        "the answer is not JSON (JSONDecodeError; it starts '<html>busy</html>')",
        "expected a JSON object, got list",
        "'results' is not a list",
        "the answer has no 'results'",
    ]
    assert summary.stopped is None and summary.queries_spent == 7  # never three in a row
    assert [c.site for c in candidates] == [
        "https://coastnews.example/",
        "https://islandblog.example/",
    ]


def test_malformed_entries_are_skipped_and_silent_engines_reported(sources: str) -> None:
    good = {"url": "https://copy.example/a", "title": "t", "content": "c"}
    odd = [1, {"url": 5}, {"url": "javascript:alert(1)"}, {"title": "no url"}, good]
    bodies = [
        json.dumps({"results": odd}).encode(),
        json.dumps({"results": [], "unresponsive_engines": [["google", "CAPTCHA"]]}).encode(),
    ]
    with FakeProvider("searxng", before=_body_of(bodies)) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        candidates, summary = discover_by_search(_request("searxng", sources, max_queries=2), env)
    assert [(c.site, c.pages) for c in candidates] == [
        ("https://copy.example/", ("https://copy.example/a",))
    ]
    assert [(f.kind, f.reason) for f in summary.failures] == [
        ("engines", "no engine answered (google CAPTCHA)")
    ]


def test_a_slow_provider_times_out_and_is_counted(sources: str) -> None:
    with FakeProvider("searxng", before=slow(1.5)) as fake:
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        request = _request("searxng", sources, max_queries=1, timeout=0.5)
        candidates, summary = discover_by_search(request, env)
    assert candidates == [] and summary.error_counts == {"timeout": 1}
    assert "deadline of 0.5 s exceeded" in summary.failures[0].reason


def test_a_wrong_url_stops_at_once(sources: str, searxng: FakeProvider) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base + "/searx"}  # no API below /searx
    _, summary = discover_by_search(_request("searxng", sources), env)
    assert len(searxng.queries()) == 1
    assert summary.stopped is not None and "no search API at this URL" in summary.stopped


def test_a_name_for_a_loopback_provider_needs_allow_private(
    searxng: FakeProvider, sources: str
) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": f"http://localhost:{searxng.server.port}"}
    _, summary = discover_by_search(_request("searxng", sources), env)
    assert searxng.queries() == []  # refused before any connection
    assert summary.error_counts == {"refused": 1}
    assert summary.stopped is not None
    assert "pass --allow-private localhost" in summary.stopped
    allowed = _request("searxng", sources, allow_private=(f"localhost:{searxng.server.port}",))
    candidates, summary = discover_by_search(allowed, env)
    assert summary.failures == () and candidates


def test_publisher_hosts_and_their_subdomains_are_dropped(
    searxng: FakeProvider, sources: str
) -> None:
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base}
    request = _request("searxng", sources, publisher_hosts=("example",))
    candidates, summary = discover_by_search(request, env)
    assert candidates == [] and summary.own_results == summary.results == 23
    request = _request("searxng", sources, publisher_hosts=("islandblog.example",))
    candidates, summary = discover_by_search(request, env)
    assert [c.site for c in candidates] == ["https://coastnews.example/"]
    assert summary.own_results == 3 * 3 + 2 + 3


def test_an_article_without_sentences_spends_no_budget(
    searxng: FakeProvider, tmp_path: Path
) -> None:
    sources = tmp_path / "articles.jsonl"
    short = {
        "url": "https://www.harbourpost.example/brief",
        "title": "Brief",
        "text": "Ferry late.",
    }
    records = [dict(short, published="2026-04-01"), *ARTICLES]
    sources.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    env = {"XPOSTCHECK_SEARXNG_URL": searxng.base}
    _, summary = discover_by_search(_request("searxng", str(sources), max_queries=2), env)
    assert summary.without_sentences == ("https://www.harbourpost.example/brief",)
    assert summary.queries_spent == 2 and summary.articles_searched == 2
    assert summary.unsearched == (OLDEST,) and summary.budget_exhausted


def test_hostile_answers_never_raise(sources: str) -> None:
    odd = [
        "http://[::1",  # an unclosed IPv6 literal
        "http://copy.example:99999/a",  # no such port
        "http://spaced copy.example/a",
        "https://copy.example/" + "x" * 3000,
        "https://reader:secret@copy.example/kept",
    ]
    bodies: list[bytes | None] = [
        json.dumps({"results": [{"url": u} for u in odd]}).encode(),
        b"[" * 100_000 + b"]" * 100_000,  # nesting past any parser's recursion limit
        b"\xff\xfe\x00garbage",
    ]
    with FakeProvider("searxng", before=_body_of(bodies)) as fake:  # type: ignore[arg-type]
        env = {"XPOSTCHECK_SEARXNG_URL": fake.base}
        candidates, summary = discover_by_search(_request("searxng", sources, max_queries=3), env)
    assert [(c.site, c.pages) for c in candidates] == [
        ("https://copy.example/", ("https://copy.example/kept",))
    ]
    assert summary.error_counts == {"bad-response": 2}
    assert summary.failures[0].reason.startswith("the answer is not JSON (RecursionError;")
