"""WARC fixtures the WARC tests share (`from warcfix import ...`): a small publisher, a small
republishing site made of our own pages (copies and non-copies), and WARC files written with
warcio from any set of pages.

The article texts are drawn from a fixed word list by a seeded generator: our own text, the
same on every run.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from xpostcheck.config import Settings
from xpostcheck.demo.web import RULES

__all__ = [
    "PUBLISHER_SITE",
    "RULES",
    "articles",
    "queued_settings",
    "site_pages",
    "write_sources",
    "write_warc",
]

PUBLISHER = "The Lakeside Ledger"
PUBLISHER_SITE = "https://lakesideledger.example"

_TOPIC = (
    "harbor council ferry winter budget library osprey dredging river bridge school vote "
    "season island town market storm volunteer permit schedule boat crew lake shore marsh "
    "trail museum festival grant mayor clinic road repair station orchard cannery "
    "lighthouse tide current survey engineer hearing petition neighbour channel pier"
)


def _vocabulary() -> list[str]:
    """The topic's words plus made-up ones (seeded): a vocabulary as wide as real prose, so two
    unrelated random sentences share few words, as two unrelated real sentences do."""
    rng = random.Random(1599)
    syllables = ("ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "pi", "da", "ge", "ho", "lu")
    made = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(900)}
    return _TOPIC.split() + sorted(made)


_WORDS = _vocabulary()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 16))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def articles(n: int = 3, paras: int = 6) -> list[dict[str, str]]:
    """The publisher's articles: `paras` paragraphs of four sentences each."""
    out = []
    for i in range(n):
        rng = random.Random(1600 + i)
        text = "\n\n".join(" ".join(_sentence(rng) for _ in range(4)) for _ in range(paras))
        out.append(
            {
                "url": f"{PUBLISHER_SITE}/news/story-{i}",
                "title": f"Story number {i} from the lake",
                "author": "Avery Quinn",
                "published": "2026-03-01",
                "text": text,
            }
        )
    return out


def write_sources(path: Path, arts: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in arts), encoding="utf-8")
    return path


def _chrome(title: str, body: str, aside: str = "") -> str:
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{title} | Shore Notes</title></head><body>"
        '<header><a href="/">Shore Notes</a><nav><a href="/">Home</a> '
        '<a href="/about.html">About</a></nav></header>'
        f"<main>{body}</main>"
        f'<aside><h2>Friends</h2><ul><li><a href="{PUBLISHER_SITE}/">{PUBLISHER}</a></li>'
        f"</ul>{aside}</aside><footer><p>Shore Notes is written by neighbours.</p></footer>"
        "</body></html>"
    )


def _paras(text: str) -> str:
    return "".join(f"<p>{p}</p>" for p in text.split("\n\n"))


def site_pages(arts: list[dict[str, str]], *, aside: str = "") -> dict[str, str]:
    """A republishing site: path -> HTML. Copy 0 is credited and linked; copy 1 is credited
    without a link; copy 2 is a partial copy with neither; the rest are not copies. `aside`
    goes in the sidebar of every page."""
    a0, a1, a2 = arts[0], arts[1], arts[2]
    credit = f"<p>This article was originally published by {PUBLISHER}.</p>"
    copyright_line = f"<p>Copyright © 2026 Avery Quinn, {PUBLISHER}</p>"
    half = "\n\n".join(a2["text"].split("\n\n")[:4])
    rng = random.Random(7)
    own = [
        "\n\n".join(" ".join(_sentence(rng) for _ in range(4)) for _ in range(5)) for _ in range(3)
    ]
    pages = {
        "/posts/one.html": _chrome(
            a0["title"],
            f"<article><h1>{a0['title']}</h1>{_paras(a0['text'])}{credit}{copyright_line}"
            f'<p><a href="{a0["url"]}">Read the original</a></p></article>',
            aside,
        ),
        "/posts/two.html": _chrome(
            a1["title"],
            f"<article><h1>{a1['title']}</h1>{_paras(a1['text'])}{credit}{copyright_line}"
            "</article>",
            aside,
        ),
        "/posts/three.html": _chrome(
            a2["title"], f"<article><h1>{a2['title']}</h1>{_paras(half)}</article>", aside
        ),
        "/about.html": _chrome("About", "<h1>About</h1><p>A few neighbours write here.</p>", aside),
    }
    for i, text in enumerate(own):
        pages[f"/notes/{i}.html"] = _chrome(
            f"Note {i}", f"<article><h1>Note {i}</h1>{_paras(text)}</article>", aside
        )
    index = "".join(f'<li><a href="{p}">{p}</a></li>' for p in pages)
    pages["/"] = _chrome("Home", f"<h1>Shore Notes</h1><ul>{index}</ul>", aside)
    return pages


def write_warc(
    path: Path,
    records: list[tuple[str, str, bytes] | tuple[str, str, bytes, list[tuple[str, str]]]],
    *,
    gzip: bool = True,
) -> Path:
    """A WARC of response records: (url, status line, body[, HTTP headers]); the headers
    default to an HTML content type. A request record goes before each response, as
    crawlers write them."""
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=gzip)
        for url, status, body, *rest in records:
            headers = rest[0] if rest else [("Content-Type", "text/html; charset=utf-8")]
            request = StatusAndHeaders(
                f"GET {url} HTTP/1.1", [("Host", "x")], protocol="HTTP/1.1", is_http_request=True
            )
            writer.write_record(writer.create_warc_record(url, "request", http_headers=request))
            head = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=head
                )
            )
    return path


def queued_settings(tmp: Path, db: str, warcs: list[Path | str], **extra: Any) -> Settings:
    """Settings of a WARC scan of `warcs` (queued or not) against `articles()`, storing in
    `db`."""
    values: dict[str, Any] = {
        "sources": (str(write_sources(tmp / "sources.jsonl", articles())),),
        "rules": str(RULES),
        "db": db,
        "delay": 0.0,
        "workers": 1,
        "timeout": 20.0,
        "warc": tuple(str(w) for w in warcs),
    }
    values.update(extra)
    return Settings(**values)
