"""Fixture articles and fake search providers on loopback for the search discovery tests.

The providers answer in each API's documented shape: SearXNG `GET /search?q=..&format=json`
-> `{"query", "results": [{"url", "title", "content", "engine"}], "unresponsive_engines"}`;
Brave `GET /res/v1/web/search?q=..` with `X-Subscription-Token` -> `{"type": "search",
"web": {"type": "search", "results": [{"url", "title", "description"}]}}`. Each answers a
query by finding the article whose text holds the quoted phrase and listing that article's
pages in `pages` (plus anything in `extra`), so what comes back depends on what was asked.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from loopback import Server

PUBLISHER = "https://www.harbourpost.example"
NOTICE = (
    "Republish this article for free under our licence, as long as you credit The Harbour "
    "Post and link to the original story on our website."
)

ARTICLES = [
    {
        "url": f"{PUBLISHER}/2026/03/lighthouse-keepers",
        "title": "The last lighthouse keepers",
        "author": "Mara Oyelaran",
        "published": "2026-03-02",
        "text": "\n".join(
            [
                "By Mara Oyelaran",
                "On the basalt skerry of Fennick Rock, two keepers still wind the clockwork "
                "lens by hand every evening before the ferries cross the sound.",
                "It is cold.",
                "The lighthouse board wanted automation in 1998, but the islanders petitioned "
                "the county council with four thousand signatures and a cormorant-feather quill.",
                "Photo: the lamp room at dusk, courtesy of the Fennick Rock trust.",
                "Keeper Ilse Brandvold keeps a logbook of every storm since the winter the "
                "breakwater split, written in pencil because ink froze in the gallery.",
                NOTICE,
            ]
        ),
    },
    {
        "url": f"{PUBLISHER}/2026/02/eel-ladders",
        "title": "Ladders for glass eels",
        "author": "Tomasz Quaid",
        "published": "2026-02-11",
        "text": "\n".join(
            [
                "By Tomasz Quaid",
                "Volunteers on the Ashwell weir have built bristle-lined ladders so that "
                "translucent glass eels can climb past the sluice gates in early spring.",
                "Counts rose sharply.",
                "A hydrologist from the estuary trust measured the brackish plume with a "
                "homemade conductivity probe soldered from a bicycle dynamo and salvaged copper.",
                "Subscribe to our weekly newsletter for more stories like this one.",
                NOTICE,
            ]
        ),
    },
    {
        "url": f"{PUBLISHER}/2026/01/ferry-timetable",
        "title": "The ferry timetable fight",
        "author": "Anwen Hale",
        "published": "2026-01-20",
        "text": "\n".join(
            [
                "By Anwen Hale",
                "Commuters from Skelmorlie Quay say the winter timetable strands night-shift "
                "nurses on the mainland whenever the catamaran is swapped for the old barge.",
                "The operator disagrees.",
                "Parish minutes from November record a heated exchange about diesel surcharges, "
                "tidal windows and a forgotten promise to repaint the waiting shelter.",
                NOTICE,
            ]
        ),
    },
]

# The pages a search would find for each article: copies elsewhere and the publisher's own.
PAGES = {
    ARTICLES[0]["url"]: [
        "https://coastnews.example/2026/03/the-last-lighthouse-keepers/",
        "https://www.harbourpost.example/2026/03/lighthouse-keepers",
        "https://harbourpost.example/2026/03/lighthouse-keepers?utm_source=feed",
        "https://www-harbourpost-example.cdn.ampproject.org/c/s/www.harbourpost.example/2026/03/lighthouse-keepers",
        "https://islandblog.example/keepers",
    ],
    ARTICLES[1]["url"]: [
        "https://coastnews.example/2026/02/glass-eels/",
        "https://m.harbourpost.example/2026/02/eel-ladders",
    ],
    ARTICLES[2]["url"]: [
        "https://coastnews.example/2026/01/ferry/",
        "http://www.coastnews.example/print/ferry",
    ],
}


def write_sources(folder: Path) -> str:
    path = folder / "articles.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n", encoding="utf-8")
    return str(path)


def article_for(query: str) -> str | None:
    phrase = query.strip().strip('"')
    for article in ARTICLES:
        if phrase and phrase in article["text"]:
            return str(article["url"])
    return None


def query_of(path: str) -> str:
    return parse_qs(urlsplit(path).query).get("q", [""])[0]


Answer = Callable[[BaseHTTPRequestHandler, int], bool]  # True: it answered the request itself


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", headers.pop("content_type", "application/json"))
    for key, value in headers.items():
        handler.send_header(key.replace("_", "-"), value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class FakeProvider:
    """A loopback search API. `before(handler, n)` may answer request number n (from 1)
    itself: an error, a slow answer, a malformed body."""

    def __init__(self, kind: str, *, before: Answer | None = None, host: str = "127.0.0.1"):
        self.kind = kind
        self.before = before
        self.count = 0
        path = "/search" if kind == "searxng" else "/res/v1/web/search"
        robots = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n")
        self.server = Server({path: self.answer, "/robots.txt": robots}, host=host)
        # A client that hangs up (a timeout, a 403 left unread) is no error of the provider's;
        # the server printing it would land in the stderr a CLI test reads.
        self.server.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]

    @property
    def base(self) -> str:
        return self.server.base

    def queries(self) -> list[str]:
        return [query_of(p) for p in self.server.paths() if not p.startswith("/robots.txt")]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self.server.lock:
            self.count += 1
            n = self.count
        if self.before is not None and self.before(handler, n):
            return
        query = query_of(handler.path)
        url = article_for(query)
        pages = PAGES.get(url or "", [])
        if self.kind == "searxng":
            results = [
                {"url": p, "title": "A page", "content": f"... {query} ...", "engine": "x"}
                for p in pages
            ]
            data: dict[str, object] = {
                "query": query,
                "number_of_results": len(results),
                "results": results,
                "answers": [],
                "unresponsive_engines": [],
            }
        else:
            results = [
                {"url": p, "title": "A page", "description": f"<strong>{query}</strong> &amp; more"}
                for p in pages
            ]
            data = {
                "type": "search",
                "query": {"original": query},
                "web": {"type": "search", "results": results},
            }
        send(handler, 200, json.dumps(data).encode())

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> FakeProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stamps(provider: FakeProvider) -> list[float]:
    """When each query arrived (monotonic seconds)."""
    with provider.server.lock:
        return [t for t, path, _ in provider.server.log if not path.startswith("/robots.txt")]


def slow(seconds: float) -> Answer:
    def answer(handler: BaseHTTPRequestHandler, n: int) -> bool:
        time.sleep(seconds)
        with contextlib.suppress(OSError):  # the client gave up first, as it should
            send(handler, 200, b'{"results": []}')
        return True

    return answer
