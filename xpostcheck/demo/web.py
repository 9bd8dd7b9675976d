"""The demo web: three small republisher sites, served on loopback, built from the bundled
publisher corpus (`articles.jsonl`, fixture articles written for this project).

Each site answers on its own loopback address (127.0.0.2, .3, .4), so that politeness and the
address policy treat them as separate hosts, as they would be on the web.
"""

from __future__ import annotations

import html
import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xpostcheck.config import Settings

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles.jsonl"
RULES = HERE / "rules.toml"
PUBLISHER = "The Lakeside Ledger"
PUBLISHER_HOME = "https://lakesideledger.example/"


def load_corpus() -> dict[str, dict[str, Any]]:
    """The demo publisher's articles, by the last part of their URL."""
    out: dict[str, dict[str, Any]] = {}
    for line in ARTICLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[record["url"].rstrip("/").rsplit("/", 1)[-1]] = record
    return out


def _paras(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def _body(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _credit(a: dict[str, Any], *, source: bool, copyright: bool, link: str | None) -> str:
    year = str(a["published"])[:4]
    parts = []
    if source:
        parts.append(f"<p>The original source of this article is {PUBLISHER}</p>")
    if copyright:
        parts.append(f"<p>Copyright © {html.escape(a['author'])}, {PUBLISHER}, {year}</p>")
    if link:
        parts.append(
            f'<p>Read the original: <a href="{html.escape(link)}">{html.escape(a["title"])}</a></p>'
        )
    return '<div class="credit">' + "".join(parts) + "</div>" if parts else ""


@dataclass
class DemoSite:
    name: str
    host: str  # loopback address
    tagline: str
    pages: dict[str, tuple[str, str, str]] = field(
        default_factory=dict
    )  # path -> (title, html, head)
    robots: str = ""


def _article_page(
    a: dict[str, Any],
    paragraphs: list[str],
    credit: str,
    byline: bool = True,
    title: str | None = None,
) -> tuple[str, str, str]:
    head_title = title or a["title"]
    by = f'<p class="byline">By {html.escape(a["author"])}</p>' if byline else ""
    return (
        head_title,
        f"<article><h1>{html.escape(head_title)}</h1>{by}{_body(paragraphs)}{credit}</article>",
        "",
    )


def build_sites() -> list[DemoSite]:
    c = load_corpus()
    ferry, library = c["ferry-schedule-winter"], c["library-hours"]
    budget, osprey, dredge = c["school-budget-vote"], c["osprey-nests"], c["harbor-dredging"]

    riverbend = DemoSite(
        "Riverbend Community News",
        "127.0.0.2",
        "News from our neighbours, shared with thanks",
        robots="User-agent: *\nDisallow: /private/\n",
    )
    riverbend.pages.update(
        {
            # Compliant: credit, copyright and a link (with tracking parameters) to the original.
            "/posts/ferry-winter.html": _article_page(
                ferry,
                _paras(ferry["text"]),
                _credit(
                    ferry,
                    source=True,
                    copyright=True,
                    link=ferry["url"].replace("https://", "http://www.") + "?utm_source=riverbend",
                ),
            ),
            # Credit and copyright, but only a link to the publisher's home page.
            "/posts/library-sundays.html": _article_page(
                library,
                _paras(library["text"]),
                _credit(library, source=True, copyright=True, link=None)
                + f'<p>More local news at <a href="{PUBLISHER_HOME}">{PUBLISHER}</a>.</p>',
            ),
            "/about.html": (
                "About us",
                "<h1>About Riverbend Community News</h1><p>We are a volunteer "
                "team of neighbours who share local news, event listings and photographs "
                "from the Riverbend valley. Write to us at "
                '<a href="mailto:editors@riverbend.example">editors@riverbend.example</a>.'
                "</p>",
                "",
            ),
            "/private/drafts.html": ("Drafts", "<h1>Drafts</h1><p>Not for crawlers.</p>", ""),
        }
    )

    northshore = DemoSite("Northshore Digest", "127.0.0.3", "Everything worth reading, every day")
    ads = (
        '<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js">'
        '</script><ins class="adsbygoogle" data-ad-client="ca-pub-0000000000000000"></ins>'
    )
    northshore.pages.update(
        {
            # Credit and link, no copyright line.
            "/stories/school-budget.html": _article_page(
                budget,
                _paras(budget["text"]),
                _credit(budget, source=True, copyright=False, link=budget["url"]),
            ),
            # A bare copy: no credit at all, with ad-network markup.
            "/stories/ospreys.html": (
                osprey["title"],
                f"<article><h1>{osprey['title']}</h1>"
                f"{_body(_paras(osprey['text']))}</article>{ads}",
                "",
            ),
            # Commentary that quotes one paragraph: not a copy.
            "/stories/marina-opinion.html": (
                "Opinion: the marina needs a plan, not a permit",
                "<article><h1>Opinion: the marina needs a plan, not a permit</h1>"
                "<p>Every few years the same story comes back. The town waits on the state, the "
                "channel fills with silt, and the charter captains lose another season. This week "
                "the harbor master explained the latest delay to the council.</p><blockquote><p>"
                + html.escape(_paras(dredge["text"])[2].split(". ")[0] + ".")
                + "</p></blockquote><p>We think the town should stop treating dredging as an "
                "emergency and start budgeting for it like the roads. A small fund set aside every "
                "year would spare boat owners the uncertainty and give the council a stronger hand "
                "when it negotiates with contractors. It would also allow the harbor to plan "
                "sediment tests well ahead of the season instead of scrambling at the last minute."
                f'</p><p>(Quoted from <a href="{dredge["url"]}">{PUBLISHER}</a>.)</p></article>',
                "",
            ),
        }
    )

    harbor = DemoSite("Harbor Voices", "127.0.0.4", "A community blog for the lake towns")
    dredge_paras = _paras(dredge["text"])
    ferry_edited = _paras(ferry["text"])
    del ferry_edited[3]
    ferry_edited[0] = ferry_edited[0].replace("heated", "lively")
    harbor.pages.update(
        {
            # An excerpt: two paragraphs, full credit and a link to read the rest.
            "/blog/dredging-excerpt.html": _article_page(
                dredge,
                dredge_paras[:2],
                _credit(dredge, source=True, copyright=True, link=dredge["url"]),
            ),
            # An edited copy (one paragraph dropped, a word changed), fully credited.
            "/blog/ferry-cuts.html": _article_page(
                ferry,
                ferry_edited,
                _credit(ferry, source=True, copyright=True, link=ferry["url"] + "/"),
                title="Pine Island ferry cut to two crossings a day",
            ),
            "/events.html": (
                "Events this week",
                "<h1>Events this week</h1><ul><li>Saturday: "
                "lakeshore clean-up, meet at the boat ramp at nine.</li><li>Sunday: "
                "choir concert at St. Anne's, four o'clock.</li><li>Tuesday: knitting "
                "circle at the library.</li></ul>",
                "",
            ),
        }
    )
    return [riverbend, northshore, harbor]


def render(site: DemoSite, path: str) -> str | None:
    """The HTML of one page of a demo site, in the site's chrome, or None for a 404."""
    if path in ("/", "/index.html"):
        items = "".join(
            f'<li><a href="{p}">{html.escape(t)}</a></li>' for p, (t, _, _) in site.pages.items()
        )
        title, body, head = site.name, f"<h1>{html.escape(site.name)}</h1><ul>{items}</ul>", ""
    elif path in site.pages:
        title, body, head = site.pages[path]
    elif path == "/about.html":
        title, head = "About us", ""
        body = (
            f"<h1>About {html.escape(site.name)}</h1><p>{html.escape(site.tagline)}. "
            "We are a small volunteer team.</p>"
        )
    else:
        return None
    email = f"editors@{site.name.split()[0].lower()}.example"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} | {html.escape(site.name)}</title>{head}</head><body>"
        f'<header><a href="/">{html.escape(site.name)}</a> <span>{html.escape(site.tagline)}'
        '</span><nav><a href="/">Home</a> <a href="/about.html">About</a></nav></header>'
        f"<main>{body}</main>"
        f'<aside><h2>Friends</h2><ul><li><a href="{PUBLISHER_HOME}">{PUBLISHER}</a></li>'
        '<li><a href="https://example.org/">Lake Towns Almanac</a></li></ul></aside>'
        f"<footer><p>{html.escape(site.name)} is run by volunteers. Write to "
        f'<a href="mailto:{email}">{email}</a>.</p></footer>'
        "</body></html>"
    )


class _Handler(BaseHTTPRequestHandler):
    site: DemoSite
    server_version = "xpostcheck-demo"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/robots.txt":
            self._send(
                200 if self.site.robots else 404, self.site.robots or "not found", "text/plain"
            )
            return
        page = render(self.site, path)
        if page is None:
            self._send(404, "<h1>Not found</h1>", "text/html")
        else:
            self._send(200, page, "text/html; charset=utf-8")

    def _send(self, status: int, text: str, ctype: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        return


@dataclass
class DemoWeb:
    sites: list[str]
    workdir: Path
    servers: list[ThreadingHTTPServer]

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "sources": (str(ARTICLES),),
            "rules": str(RULES),
            "sites": tuple(self.sites),
            "db": str(self.workdir / "demo.db"),
            "delay": 0.05,  # our own loopback servers: no need to wait a second
            "threads": 8,
            "workers": 1,
        }
        values.update(overrides)
        return Settings(**values)

    def wait(self) -> None:
        threading.Event().wait()


@contextmanager
def demo_web(hosts: tuple[str, ...] = ("127.0.0.2", "127.0.0.3", "127.0.0.4")) -> Iterator[DemoWeb]:
    """Start the demo sites on loopback; stop them and remove the scan database on exit."""
    servers: list[ThreadingHTTPServer] = []
    urls: list[str] = []
    try:
        for site, host in zip(build_sites(), hosts, strict=False):
            handler = type("Handler", (_Handler,), {"site": site})
            server = ThreadingHTTPServer((host, 0), handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            urls.append(f"http://{host}:{server.server_address[1]}/")
        with tempfile.TemporaryDirectory(prefix="xpostcheck-demo-") as tmp:
            yield DemoWeb(urls, Path(tmp), servers)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
