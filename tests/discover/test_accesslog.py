"""Discovery from access logs through the library: every format (plain and gzipped), malformed
lines, the noise lists, --since, ranking and the memory caps."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from xpostcheck.discover.accesslog import (
    LogOptions,
    Malformed,
    discover_from_logs,
    parse_since,
)
from xpostcheck.discover.candidates import Candidate
from xpostcheck.discover.noise import NoiseFilter, read_ignore_file
from xpostcheck.discover.publisher import publisher_hosts
from xpostcheck.errors import ConfigError

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
OWN = NoiseFilter().extended(own_hosts=["news.example"])


def combined(
    referrer: str, *, agent: str = FIREFOX, path: str = "/pixel.gif", day: int = 28
) -> str:
    return (
        f'203.0.113.9 - - [{day:02d}/Nov/2026:10:00:00 +0000] "GET {path} HTTP/1.1" 200 43 '
        f'"{referrer}" "{agent}"'
    )


# The same requests in each format: two copies on blog.example, one on other.example, and noise.
REQUESTS = [
    ("https://blog.example/2026/ferry.html", FIREFOX),
    ("https://blog.example/2026/ferry.html?utm_source=feed", FIREFOX),
    ("https://blog.example/2026/library.html", FIREFOX),
    ("http://other.example:8080/copy", FIREFOX),
    ("https://news.example/2026/ferry.html", FIREFOX),
    ("https://www.google.co.uk/", FIREFOX),
    ("https://blog.example/2026/ferry.html", "Googlebot/2.1 (+http://www.google.com/bot.html)"),
    ("-", FIREFOX),
]
EXPECTED = (
    Candidate(
        site="https://blog.example/",
        pages=("https://blog.example/2026/ferry.html", "https://blog.example/2026/library.html"),
        hits=3,
        distinct_pages=2,
        method="access-log",
        evidence=(
            "3 requests referred by 2 pages of the site",
            "seen 2026-11-28 10:00 to 2026-11-28 10:00 UTC",
            "requested /pixel.gif (3)",
        ),
    ),
    Candidate(
        site="http://other.example:8080/",
        pages=("http://other.example:8080/copy",),
        hits=1,
        distinct_pages=1,
        method="access-log",
        evidence=(
            "1 request referred by 1 page of the site",
            "seen 2026-11-28 10:00 to 2026-11-28 10:00 UTC",
            "requested /pixel.gif (1)",
        ),
    ),
)


def _combined_text() -> str:
    return "".join(combined(ref, agent=agent) + "\n" for ref, agent in REQUESTS)


def _w3c_text() -> str:
    head = "#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(Referer) "
    head += "cs(User-Agent)\n"
    rows = [
        "\t".join(
            ["2026-11-28", "10:00:00", "203.0.113.9", "GET", "/pixel.gif", "200", ref]
            + [agent.replace(" ", "%20")]
        )
        for ref, agent in REQUESTS
    ]
    return head + "".join(row + "\n" for row in rows)


def _json_text() -> str:
    return "".join(
        json.dumps(
            {
                "time": "2026-11-28T10:00:00Z",
                "referer": ref,
                "user_agent": agent,
                "uri": "/pixel.gif",
            }
        )
        + "\n"
        for ref, agent in REQUESTS
    )


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", ["combined", "w3c", "json"])
def test_each_format_finds_the_same_candidates(fmt: str, gz: bool, tmp_path: Path) -> None:
    text = {"combined": _combined_text, "w3c": _w3c_text, "json": _json_text}[fmt]()
    path = tmp_path / ("access.log.gz" if gz else "access.log")
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    found = discover_from_logs([str(path)], LogOptions(noise=OWN))
    assert found.candidates == EXPECTED
    summary = found.summary
    assert (summary.files, summary.lines, summary.kept, summary.malformed) == (1, 8, 4, 0)
    assert dict(summary.dropped) == {"no-referrer": 1, "own-host": 1, "search": 1, "bot": 1}
    assert summary.sites == 2 and summary.sites_evicted == 0 and summary.problems == ()


def test_malformed_lines_are_counted_with_their_first_places_never_fatal(tmp_path: Path) -> None:
    good = combined("https://blog.example/a.html")
    lines = [good, "garbage", good, "x" * 70_000, '{"json": "in a combined log"}', good]
    lines += ["more garbage"] * 10
    first = tmp_path / "a.log"
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = tmp_path / "b.log.gz"
    second.write_bytes(gzip.compress((good + "\n" + "\x00\xff broken\n").encode("latin-1")))
    found = discover_from_logs([str(first), str(second)], LogOptions(noise=OWN))
    summary = found.summary
    assert summary.lines == 18
    assert summary.malformed == 14
    assert summary.malformed_examples == (
        Malformed(str(first), 2, "not a combined log line"),
        Malformed(str(first), 4, "line longer than 65536 bytes"),
        Malformed(str(first), 5, "not a combined log line"),
        Malformed(str(first), 7, "not a combined log line"),
        Malformed(str(first), 8, "not a combined log line"),
    )
    assert [(c.site, c.hits) for c in found.candidates] == [("https://blog.example/", 4)]


def test_a_truncated_gzip_is_a_problem_and_the_other_files_are_still_read(
    tmp_path: Path,
) -> None:
    body = "".join(combined(f"https://blog.example/{i}.html") + "\n" for i in range(2000))
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(gzip.compress(body.encode())[:3000])
    fine = tmp_path / "fine.log"
    fine.write_text(combined("https://other.example/x.html") + "\n", encoding="utf-8")
    found = discover_from_logs([str(broken), str(fine)], LogOptions(noise=OWN))
    (problem,) = found.summary.problems
    assert problem.startswith(f"{broken}: unreadable after line ")
    sites = {c.site: c.hits for c in found.candidates}
    assert sites["https://other.example/"] == 1
    assert 0 < sites["https://blog.example/"] < 2000


def test_a_missing_log_or_a_folder_is_an_error_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.log: access log not found; check --access-log"):
        discover_from_logs([str(tmp_path / "nope.log")])
    with pytest.raises(ConfigError, match="is a folder"):
        discover_from_logs([str(tmp_path)])


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("news.example", "own-host"),
        ("www.news.example", "own-host"),
        ("images.news.example", "own-host"),
        ("www.google.com", "search"),
        ("www.google.co.uk", "search"),
        ("duckduckgo.com", "search"),
        ("search.yahoo.co.jp", "search"),
        ("l.facebook.com", "social"),
        ("t.co", "social"),
        ("old.reddit.com", "social"),
        ("mail.google.com", "webmail"),  # the longest listed name wins over google.*
        ("news.google.de", "feed-reader"),
        ("outlook.live.com", "webmail"),
        ("webmail.smallisp.example", "webmail"),
        ("feedly.com", "feed-reader"),
        ("127.0.0.1", "private-address"),
        ("10.1.2.3", "private-address"),
        ("fe80::1", "private-address"),
        ("localhost", "private-address"),
        ("blog.example", ""),
        ("googleblog.example", ""),
        ("t.com", ""),
        ("google.example.org", ""),
    ],
)
def test_referrer_hosts_and_their_reasons(host: str, reason: str) -> None:
    assert OWN.host_reason(host) == reason


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        (FIREFOX, ""),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot"),
        ("facebookexternalhit/1.1", "bot"),
        ("python-requests/2.32", "bot"),
        ("curl/8.5.0", "bot"),
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html)", "feed-reader"),
        ("NetNewsWire (RSS Reader; https://netnewswire.com/)", "feed-reader"),
    ],
)
def test_user_agents_and_their_reasons(agent: str, reason: str) -> None:
    assert OWN.agent_reason(agent) == reason


def test_the_user_extends_the_lists_with_flags_and_a_file(tmp_path: Path) -> None:
    ignore = tmp_path / "ignore.txt"
    ignore.write_text(
        "# our partners\nhost partner.example\nagent InternalChecker\naggregator.example\n",
        encoding="utf-8",
    )
    hosts, agents = read_ignore_file(str(ignore))
    assert (hosts, agents) == (["partner.example", "aggregator.example"], ["InternalChecker"])
    noise = OWN.extended(hosts=[*hosts, "https://mirror.example/path"], agents=agents)
    assert noise.host_reason("www.partner.example") == "ignored"
    assert noise.host_reason("mirror.example") == "ignored"
    assert noise.host_reason("aggregator.example") == "ignored"
    assert noise.agent_reason("Mozilla/5.0 internalchecker/2") == "ignored"
    assert noise.host_reason("blog.example") == ""
    bad = tmp_path / "bad.txt"
    bad.write_text("host a.example\nsomething odd here\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.txt:2: 'something odd here': write 'host NAME'"):
        read_ignore_file(str(bad))


def test_private_referrers_are_kept_only_when_asked(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(
        combined("http://127.0.0.1:8001/copy.html") + "\n" + combined("android-app://x/") + "\n",
        encoding="utf-8",
    )
    found = discover_from_logs([str(log)], LogOptions(noise=OWN))
    assert found.candidates == ()
    assert dict(found.summary.dropped) == {"not-a-web-page": 1, "private-address": 1}
    allowed = NoiseFilter(allow_private=True).extended(own_hosts=["news.example"])
    found = discover_from_logs([str(log)], LogOptions(noise=allowed))
    assert [c.site for c in found.candidates] == ["http://127.0.0.1:8001/"]


def test_since_takes_a_date_or_a_span_back_from_now(tmp_path: Path) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    assert parse_since("7d", now=now) == datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    assert parse_since("12h", now=now) == datetime(2026, 11, 30, 0, tzinfo=timezone.utc)
    assert parse_since("2w", now=now) == datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
    assert parse_since("2026-11-27") == datetime(2026, 11, 27, tzinfo=timezone.utc)
    assert parse_since("2026-11-27T08:00+02:00") == datetime(2026, 11, 27, 6, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="neither a date"):
        parse_since("last week")
    log = tmp_path / "a.log"
    lines = [combined(f"https://blog.example/{day}.html", day=day) for day in (20, 26, 27, 28)]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (row,) = discover_from_logs(
        [str(log)], LogOptions(noise=OWN, since=parse_since("2026-11-27"))
    ).candidates
    assert row.pages == ("https://blog.example/27.html", "https://blog.example/28.html")
    assert "seen 2026-11-27 10:00 to 2026-11-28 10:00 UTC" in row.evidence
    json_log = tmp_path / "b.jsonl"
    json_log.write_text('{"referer": "https://blog.example/x"}\n', encoding="utf-8")
    found = discover_from_logs([str(json_log)], LogOptions(noise=OWN, since=now))
    assert found.candidates == () and dict(found.summary.dropped) == {"no-time": 1}


def test_ranking_by_hits_then_distinct_pages_then_name(tmp_path: Path) -> None:
    refs = (
        ["https://one-page.example/a"] * 4
        + ["https://many.example/a", "https://many.example/b", "https://many.example/c"]
        + ["https://many.example/a"]
        + ["https://tie-b.example/a", "https://tie-a.example/a", "https://small.example/a"]
        + ["https://tie-a.example/a", "https://tie-b.example/a"]
    )
    log = tmp_path / "a.log"
    log.write_text("".join(combined(r) + "\n" for r in refs), encoding="utf-8")
    found = discover_from_logs([str(log)], LogOptions(noise=OWN, pages_per_site=2))
    rows = [(c.site, c.hits, c.distinct_pages, c.pages) for c in found.candidates]
    assert rows == [
        ("https://many.example/", 4, 3, ("https://many.example/a", "https://many.example/b")),
        ("https://one-page.example/", 4, 1, ("https://one-page.example/a",)),
        ("https://tie-a.example/", 2, 1, ("https://tie-a.example/a",)),
        ("https://tie-b.example/", 2, 1, ("https://tie-b.example/a",)),
        ("https://small.example/", 1, 1, ("https://small.example/a",)),
    ]
    found = discover_from_logs([str(log)], LogOptions(noise=OWN, min_hits=3))
    assert [c.site for c in found.candidates] == [
        "https://many.example/",
        "https://one-page.example/",
    ]


def test_the_site_cap_evicts_the_smallest_and_keeps_the_big_referrers(tmp_path: Path) -> None:
    lines = [combined("https://big.example/copy.html")] * 50
    lines += [combined(f"https://tail{i}.example/") for i in range(300)]
    lines += [combined("https://big2.example/copy.html")] * 30
    log = tmp_path / "a.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = discover_from_logs([str(log)], LogOptions(noise=OWN, max_sites=20))
    assert [c.site for c in found.candidates[:2]] == [
        "https://big.example/",
        "https://big2.example/",
    ]
    assert found.summary.sites <= 20
    assert found.summary.sites_evicted == 302 - found.summary.sites
    assert found.summary.kept == 380


def test_distinct_pages_stop_counting_at_the_cap(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(
        "".join(combined(f"https://blog.example/{i}.html") + "\n" for i in range(120)),
        encoding="utf-8",
    )
    (row,) = discover_from_logs([str(log)], LogOptions(noise=OWN, max_pages_counted=100)).candidates
    assert (row.hits, row.distinct_pages, len(row.pages)) == (120, 100, 10)


def test_publisher_hosts_come_from_sources_without_fetching(tmp_path: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        json.dumps({"url": "https://www.ledger.example/a", "title": "A", "text": "Some text."})
        + "\n"
        + json.dumps({"url": "https://archive.ledger.example/b", "title": "B", "text": "More."})
        + "\n",
        encoding="utf-8",
    )
    hosts = publisher_hosts([str(articles), "https://feeds.ledger.example/rss.xml"])
    assert hosts == {"www.ledger.example", "archive.ledger.example", "feeds.ledger.example"}
    noise = NoiseFilter().extended(own_hosts=hosts)
    assert noise.host_reason("ledger.example") == "own-host"  # www. stands for the domain


def test_odd_referrers_become_urls_scan_accepts_or_are_dropped(tmp_path: Path) -> None:
    from xpostcheck.config import read_sites_file

    refs = [
        "https://user:secret@blog.example/a b.html#top",
        "HTTPS://Blog.Example:443/./x/../c.html",
        "https://a b.example/",
        'https://quote".example/',
        "https://blog.example:99999/",
        "https://blog.example:0/",
        "http://[::1]:8080/ipv6",
        "https:///no-host",
        "ftp://files.example/",
        "https://xn--bcher-kva.example/é",
    ]
    log = tmp_path / "a.log"
    log.write_text("".join(combined(r.replace('"', '\\"')) + "\n" for r in refs), encoding="utf-8")
    noise = NoiseFilter(allow_private=True).extended(own_hosts=["news.example"])
    found = discover_from_logs([str(log)], LogOptions(noise=noise))
    rows = {c.site: c.pages for c in found.candidates}
    assert rows == {
        "https://blog.example/": (
            "https://blog.example/a%20b.html",
            "https://blog.example/c.html",
        ),
        "http://[::1]:8080/": ("http://[::1]:8080/ipv6",),
        "https://xn--bcher-kva.example/": ("https://xn--bcher-kva.example/%C3%A9",),
    }
    assert dict(found.summary.dropped) == {"not-a-web-page": 6} and found.summary.kept == 4
    sites = tmp_path / "sites.txt"
    sites.write_text("".join(f"{site}\n" for site in rows), encoding="utf-8")
    assert read_sites_file(str(sites)) == list(rows)


def test_binary_garbage_and_a_second_w3c_header_are_not_fatal(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    w3c = tmp_path / "cdn.log"
    w3c.write_text(
        "#Fields: date time cs(Referer)\n2026-11-28 10:00:00 https://a.example/x\n"
        "#Fields: date time cs-uri-stem cs(Referer) cs(User-Agent)\n"
        "2026-11-28 10:00:01 /p.gif https://b.example/y Firefox\n",
        encoding="utf-8",
    )
    found = discover_from_logs([str(garbage), str(w3c)], LogOptions(noise=OWN))
    assert [c.site for c in found.candidates] == ["https://a.example/", "https://b.example/"]
    summary = found.summary
    assert summary.malformed == summary.lines - 2 > 0
    assert summary.problems == ()


def test_big_sites_with_many_pages_survive_a_long_tail_under_a_small_cap(tmp_path: Path) -> None:
    lines = []
    for i in range(1500):
        lines.append(combined(f"https://big{i % 5}.example/{i}.html"))
        lines.append(combined(f"https://tail{i}.example/"))
    log = tmp_path / "a.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = discover_from_logs([str(log)], LogOptions(noise=OWN, max_sites=20))
    top = [(c.site, c.hits, c.distinct_pages) for c in found.candidates[:5]]
    assert top == [(f"https://big{i}.example/", 300, 300) for i in range(5)]
    assert found.summary.sites <= 20 and found.summary.sites_evicted > 1400


def test_hostile_lengths_are_dropped_or_cut_short(tmp_path: Path) -> None:
    long_path = "/" + "p" * 5000
    lines = [
        combined("https://blog.example" + long_path),  # past MAX_REFERRER
        combined("https://" + "h" * 300 + ".example/"),  # longer than DNS allows
        combined("https://blog.example/fine", agent="Mozilla/5.0 " + "x" * 3000),
        combined("https://blog.example/fine", path="/img/" + "a" * 1000 + ".gif?" + "q" * 100),
    ]
    log = tmp_path / "a.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = discover_from_logs([str(log)], LogOptions(noise=OWN))
    (row,) = found.candidates
    assert (row.site, row.hits, row.pages) == (
        "https://blog.example/",
        2,
        ("https://blog.example/fine",),
    )
    assert dict(found.summary.dropped) == {"not-a-web-page": 2}
    asked = row.evidence[-1]
    assert asked.startswith("requested /img/aaa") and len(asked) < 260 and "qq" not in asked
