"""End-to-end scan benchmark: crawl, extraction, matching, checks and store, through `run_scan`.

N loopback hosts (127.0.0.10, .11, ...; one ThreadingHTTPServer each, in a separate server
process so that its threads do not share the scan's GIL) x M article pages of 800-1500 words in
site chrome, every answer delayed by a simulated latency, with ETag / If-None-Match (304), a
robots.txt that answers 404 and a sitemap.xml with lastmod (switched off for the no-sitemap
runs). Most pages are unrelated articles drawn from a word distribution; a share of them are
copies (whole, bare, edited or excerpted) of source articles: the demo corpus
(xpostcheck/demo/articles.jsonl) plus sources generated at run time. Nothing is written to the
repository: sources, pages and databases live in a temporary directory.

Scans, in one run, against the same servers (separate database files):
1. first scan, workers=1 (extraction and matching in-process);
2. first scan, workers=2 (process pool);
3. unchanged re-scans of both, with sitemap lastmod;
4. sitemap switched off: a first scan and an unchanged re-scan (workers=2);
5. --repeat - 1 more pairs of first scans, workers=2 then workers=1 (the order reversed, since
   the machine is shared and noisy: the pool's speedup is read from pairs).

Prints ONE JSON line: wall times, pages/s, the politeness bound
min(threads / latency, hosts / (delay + latency)) and the share reached, the CPU limit measured
from the in-process analysis cost per page, re-scan shares, requests and 304s the servers saw,
peak RSS of this process and (separately) of its children, and the copies found in each run.
Exits 1 when the runs do not find the same copies.

Run: /work/venv/bin/python benchmarks/scan.py [--hosts 24 --pages 40 --latency 0.05 --delay 0.1]
"""

from __future__ import annotations

import argparse
import html
import json
import multiprocessing
import os
import random
import re
import resource
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from xpostcheck.config import Settings
from xpostcheck.demo.web import ARTICLES, RULES
from xpostcheck.extract.page import extract_html
from xpostcheck.match.index import SourceIndex
from xpostcheck.pipeline.scan import run_scan
from xpostcheck.sources.loader import load_sources

PUBLISHER = "The Lakeside Ledger"
PUBLISHER_SITE = "https://lakesideledger.example"
SYLLABLES = [c + v for c in "bdklmnrstv" for v in "aeiou"] + ["an", "en", "or", "st", "th"]
FIRST = ("Maria", "Daniel", "Priya", "Tomas", "Aiko", "Samuel", "Lena", "Omar", "Grace", "Nadia")
LAST = ("Okafor", "Lindqvist", "Reyes", "Novak", "Tanaka", "Brennan", "Haddad", "Moreau", "Kowal")


# --- text generation ---------------------------------------------------------------------------


class Writer:
    """Articles drawn from a Zipf distribution over the demo corpus's words plus made-up ones."""

    def __init__(self, rng: random.Random, demo_texts: list[str], vocab_size: int = 8000) -> None:
        self.rng = rng
        counts: dict[str, int] = {}
        for text in demo_texts:
            for word in re.findall(r"[a-z]+", text.lower()):
                counts[word] = counts.get(word, 0) + 1
        words = sorted(counts, key=lambda w: -counts[w])
        seen = set(words)
        while len(words) < vocab_size:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        total = 0.0
        self.cum: list[float] = []
        for rank in range(len(words)):
            total += 1.0 / (rank + 2.7)
            self.cum.append(total)

    def sentence(self) -> str:
        n = self.rng.randint(6, 24)
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        if n > 10 and self.rng.random() < 0.4:
            words[self.rng.randint(3, n - 4)] += ","
        return " ".join(words).capitalize() + "."

    def title(self) -> str:
        words = self.rng.choices(self.words[50:], k=self.rng.randint(5, 9))
        return " ".join(w.capitalize() for w in words)

    def paragraphs(self, low: int = 800, high: int = 1500) -> list[str]:
        target = self.rng.randint(low, high)
        out: list[str] = []
        count = 0
        while count < target:
            para = " ".join(self.sentence() for _ in range(self.rng.randint(3, 7)))
            out.append(para)
            count += len(para.split())
        return out

    def author(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"


# --- sites -------------------------------------------------------------------------------------


@dataclass
class Article:
    url: str
    title: str
    author: str
    published: str
    paragraphs: list[str]


def _article_html(title: str, author: str, paragraphs: list[str], extra: str) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<article><h1>{html.escape(title)}</h1>"
        f'<p class="byline">By {html.escape(author)}</p>{body}{extra}</article>'
    )


def _chrome(site: str, title: str, main: str, related: list[tuple[str, str]]) -> bytes:
    most_read = "".join(f'<li><a href="{p}">{html.escape(t)}</a></li>' for p, t in related)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} | {site}</title>"
        '<meta name="viewport" content="width=device-width"></head><body>'
        f'<header><a class="logo" href="/">{site}</a><nav><a href="/">Home</a> '
        '<a href="/about.html">About</a></nav></header>'
        f"<main>{main}</main>"
        f"<aside><h2>Most read</h2><ul>{most_read}</ul><h2>Newsletter</h2><p>Get the week's "
        "stories every Friday morning. No spam, unsubscribe at any time.</p></aside>"
        f"<footer><p>{site} is an independent community site. All rights reserved. Write to "
        '<a href="mailto:editors@example.org">editors@example.org</a>.</p></footer>'
        "</body></html>"
    ).encode()


def _copy_extra(kind: str, source: Article) -> tuple[list[str], str]:
    """(paragraphs, credit markup) of one planted copy of `source`."""
    paras = list(source.paragraphs)
    year = source.published[:4]
    credit = (
        f'<div class="credit"><p>The original source of this article is {PUBLISHER}</p>'
        f"<p>Copyright © {html.escape(source.author)}, {PUBLISHER}, {year}</p>"
        f'<p>Read the original: <a href="{source.url}">{html.escape(source.title)}</a></p></div>'
    )
    if kind == "bare":
        return paras, ""
    if kind == "edited" and len(paras) > 3:
        del paras[len(paras) // 2]
        paras[0] = paras[0].replace(" the ", " a ", 1)
    elif kind == "excerpt" and len(paras) > 4:
        paras = paras[: max(3, len(paras) // 3)]
    return paras, credit


def build_web(
    writer: Writer, sources: list[Article], hosts: int, pages: int, copy_share: float
) -> tuple[list[dict[str, bytes]], list[str], int]:
    """(bodies per host by path, sitemap templates per host, copies planted)."""
    rng = writer.rng
    lastmod = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(timespec="seconds")
    kinds = ("full", "bare", "edited", "excerpt")
    planted = 0
    webs: list[dict[str, bytes]] = []
    sitemaps: list[str] = []
    for h in range(hosts):
        site = f"Lakeshore Community Post {h}"
        titles = [writer.title() for _ in range(pages)]
        paths = [f"/news/{i:04d}-{titles[i].split()[0].lower()}.html" for i in range(pages)]
        bodies: dict[str, bytes] = {}
        for i, path in enumerate(paths):
            related = [(paths[j], titles[j]) for j in rng.sample(range(pages), min(5, pages))]
            if rng.random() < copy_share:
                source = sources[rng.randrange(len(sources))]
                paras, extra = _copy_extra(kinds[planted % len(kinds)], source)
                main = _article_html(source.title, source.author, paras, extra)
                title = source.title
                planted += 1
            else:
                main = _article_html(titles[i], writer.author(), writer.paragraphs(), "")
                title = titles[i]
            bodies[path] = _chrome(site, title, main, related)
        items = "".join(
            f'<li><a href="{p}">{html.escape(t)}</a></li>'
            for p, t in zip(paths, titles, strict=True)
        )
        bodies["/"] = _chrome(site, site, f"<h1>{site}</h1><ul>{items}</ul>", [])
        about = "<h1>About us</h1><p>" + writer.sentence() + " " + writer.sentence() + "</p>"
        bodies["/about.html"] = _chrome(site, "About us", about, [])
        sitemaps.append(
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(
                f"<url><loc>{{base}}{p}</loc><lastmod>{lastmod}</lastmod></url>"
                for p in ["/", "/about.html", *paths]
            )
            + "</urlset>"
        )
        webs.append(bodies)
    return webs, sitemaps, planted


# --- server process ----------------------------------------------------------------------------


def serve(
    webs: list[dict[str, bytes]],
    sitemaps: list[str],
    latency: float,
    sitemap_on: Synchronized,  # type: ignore[type-arg]
    counters: Any,  # multiprocessing Array('q', 3): requests, 304s, body bytes
    conn: Connection,
) -> None:
    """Run every host's server in this (forked) process; send the base URLs, wait for 'stop'."""
    servers: list[ThreadingHTTPServer] = []
    bases: list[str] = []
    for i, bodies in enumerate(webs):
        sitemap_template = sitemaps[i]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True
            pages = bodies
            sitemap = sitemap_template

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                time.sleep(latency)
                path = self.path.split("?", 1)[0]
                ctype = "text/html; charset=utf-8"
                body: bytes | None
                if path == "/sitemap.xml":
                    body = None
                    if sitemap_on.value:
                        base = f"http://{self.headers['Host']}"
                        body = self.sitemap.replace("{base}", base).encode()
                        ctype = "application/xml"
                else:
                    body = self.pages.get(path)
                if body is None:  # robots.txt too: 404 allows everything
                    self._answer(404, b"not found", "text/plain")
                    return
                etag = f'"{zlib.crc32(body):08x}"'
                if self.headers.get("If-None-Match") == etag:
                    self._answer(304, b"", "", etag)
                else:
                    self._answer(200, body, ctype, etag)

            def _answer(self, status: int, body: bytes, ctype: str, etag: str = "") -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
                with counters.get_lock():
                    counters[0] += 1
                    counters[1] += status == 304
                    counters[2] += len(body)

        server = ThreadingHTTPServer((f"127.0.0.{10 + i}", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        bases.append(f"http://127.0.0.{10 + i}:{server.server_address[1]}/")
    conn.send(bases)
    conn.recv()
    for server in servers:
        server.shutdown()


# --- scans -------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    wall_s: float
    pages: int
    unchanged: int
    requests: int
    not_modified: int
    body_bytes: int
    cpu_self_s: float
    cpu_children_s: float
    cpu_server_s: float
    copies: frozenset[tuple[str, str]]

    def figures(self, first: Run | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            f"{self.name}_s": round(self.wall_s, 2),
            f"{self.name}_pages": self.pages,
            f"{self.name}_pages_per_s": round(self.pages / self.wall_s, 2),
            f"{self.name}_requests": self.requests,
            f"{self.name}_cpu_self_s": round(self.cpu_self_s, 2),
            f"{self.name}_cpu_children_s": round(self.cpu_children_s, 2),
            f"{self.name}_cpu_server_s": round(self.cpu_server_s, 2),
            f"{self.name}_copies": len(self.copies),
        }
        if first is not None:
            out[f"{self.name}_share_of_first"] = round(self.wall_s / first.wall_s, 3)
            out[f"{self.name}_unchanged"] = self.unchanged
            out[f"{self.name}_304s"] = self.not_modified
            out[f"{self.name}_body_bytes"] = self.body_bytes
        return out


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of another process, from /proc (Linux); 0.0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan(name: str, settings: Settings, counters: Any, server_pid: int) -> Run:
    with counters.get_lock():
        before = list(counters)
    server0 = _cpu_of(server_pid)
    cpu0 = _cpu()
    start = time.monotonic()
    result = run_scan(settings)
    wall = time.monotonic() - start
    cpu1 = _cpu()
    server1 = _cpu_of(server_pid)
    with counters.get_lock():
        after = list(counters)
    info = result.report.scan
    return Run(
        name,
        wall,
        info.pages_fetched,
        info.pages_unchanged,
        after[0] - before[0],
        after[1] - before[1],
        after[2] - before[2],
        cpu1[0] - cpu0[0],
        cpu1[1] - cpu0[1],
        server1 - server0,
        frozenset((c.url, c.source_url) for c in result.report.copies),
    )


def analysis_cost(
    webs: list[dict[str, bytes]], index_path: str, sample: int
) -> tuple[float, float]:
    """CPU seconds of in-process extraction + matching per article page (one core, no crawl):
    a first pass with a freshly loaded index (cold, as each pool worker starts) and a second
    pass over the same pages (warm)."""
    index = SourceIndex.load(index_path)
    pages = [
        (f"http://127.0.0.{10 + h}/{p}", body.decode())
        for h, bodies in enumerate(webs)
        for p, body in bodies.items()
        if p.startswith("/news/")
    ][:sample]
    costs = []
    for _ in range(2):
        start = time.process_time()
        for url, text in pages:
            page = extract_html(url, text)
            index.match(page.full_text)
        costs.append((time.process_time() - start) / max(1, len(pages)))
    return costs[0], costs[1]


def index_build_s(specs: tuple[str, ...]) -> float:
    """Wall time to read the sources and build their index, as a first scan does."""
    start = time.monotonic()
    articles = load_sources(list(specs))
    index = SourceIndex()
    index.add(articles)
    index.flush()
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=24)
    parser.add_argument("--pages", type=int, default=40, help="article pages per host")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--delay", type=float, default=0.1, help="politeness delay per host")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--sources", type=int, default=300, help="generated source articles")
    parser.add_argument("--copy-share", type=float, default=0.06)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--repeat", type=int, default=2, help="first scans per worker setting, order alternated"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not 1 <= args.hosts <= 200:
        parser.error("--hosts must be between 1 and 200 (127.0.0.10 ... 127.0.0.209)")

    load_before = os.getloadavg()[0]
    rng = random.Random(args.seed)
    demo = [json.loads(line) for line in ARTICLES.read_text("utf-8").splitlines() if line.strip()]
    writer = Writer(rng, [d["text"] for d in demo])
    sources = [
        Article(d["url"], d["title"], d["author"], d["published"], d["text"].split("\n\n"))
        for d in demo
    ]
    for i in range(args.sources):
        day = datetime(2026, 1, 1) + timedelta(days=rng.randrange(320))
        title = writer.title()
        slug = "-".join(title.lower().split()[:4])
        sources.append(
            Article(
                f"{PUBLISHER_SITE}/{day:%Y/%m}/{slug}-{i}",
                title,
                writer.author(),
                day.date().isoformat(),
                writer.paragraphs(),
            )
        )
    webs, sitemaps, planted = build_web(writer, sources, args.hosts, args.pages, args.copy_share)

    # Fork the servers before this process starts any thread.
    fork = multiprocessing.get_context("fork")
    sitemap_on = fork.Value("b", 1)
    counters = fork.Array("q", 3)
    parent, child = fork.Pipe()
    server = fork.Process(
        target=serve, args=(webs, sitemaps, args.latency, sitemap_on, counters, child), daemon=True
    )
    server.start()
    sites = tuple(parent.recv())

    with tempfile.TemporaryDirectory(prefix="xpostcheck-scan-bench-") as tmp:
        generated = Path(tmp) / "sources.jsonl"
        generated.write_text(
            "".join(
                json.dumps(
                    {
                        "url": a.url,
                        "title": a.title,
                        "author": a.author,
                        "published": a.published,
                        "text": "\n\n".join(a.paragraphs),
                    }
                )
                + "\n"
                for a in sources[len(demo) :]
            ),
            encoding="utf-8",
        )

        def settings(db: str, workers: int) -> Settings:
            return Settings(
                sources=(str(ARTICLES), str(generated)),
                rules=str(RULES),
                sites=sites,
                db=str(Path(tmp) / db),
                delay=args.delay,
                threads=args.threads,
                workers=workers,
                max_pages=args.pages + 10,
            )

        def timed(name: str, db: str, workers: int) -> Run:
            return scan(name, settings(db, workers), counters, server.pid or 0)

        try:
            first_w1 = timed("first_w1", "w1.db", 1)
            first_w2 = timed("first_w2", "w2.db", 2)
            rescan_w1 = timed("rescan_sitemap_w1", "w1.db", 1)
            rescan_w2 = timed("rescan_sitemap_w2", "w2.db", 2)
            sitemap_on.value = 0
            first_plain = timed("first_no_sitemap_w2", "plain.db", 2)
            rescan_plain = timed("rescan_no_sitemap_w2", "plain.db", 2)
            # More first scans in the opposite order (w2 then w1): the machine is shared and
            # noisy, so the pool's speedup is read from pairs, not from one scan each.
            extra_w1: list[Run] = []
            extra_w2: list[Run] = []
            for i in range(1, args.repeat):
                extra_w2.append(timed(f"first_w2_{i}", f"w2-{i}.db", 2))
                extra_w1.append(timed(f"first_w1_{i}", f"w1-{i}.db", 1))
            rss_children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            build_s = index_build_s(settings("x.db", 1).sources)
            cold, warm = analysis_cost(webs, str(Path(tmp) / "w1.db.index"), 100)
        finally:
            parent.send("stop")
            server.join(10)

    cores = os.cpu_count() or 1
    bound = min(args.threads / args.latency, args.hosts / (args.delay + args.latency))
    cpu_limit = cores / warm
    runs = [first_w1, first_w2, rescan_w1, rescan_w2, first_plain, rescan_plain]
    runs += extra_w1 + extra_w2
    figures: dict[str, Any] = {
        "hosts": args.hosts,
        "pages_per_host": args.pages,
        "threads": args.threads,
        "latency_s": args.latency,
        "delay_s": args.delay,
        "cores": cores,
        "sources": len(sources),
        "copies_planted": planted,
        "bound_polite_pages_per_s": round(bound, 2),
        "analysis_cold_ms_per_page": round(cold * 1000, 2),
        "analysis_ms_per_page": round(warm * 1000, 2),
        "cpu_limit_pages_per_s": round(cpu_limit, 2),
        "bound_pages_per_s": round(min(bound, cpu_limit), 2),
        "index_build_s": round(build_s, 2),
    }
    for run, first in (
        (first_w1, None),
        (first_w2, None),
        (rescan_w1, first_w1),
        (rescan_w2, first_w2),
        (first_plain, None),
        (rescan_plain, first_plain),
    ):
        figures.update(run.figures(first))
    for run in (first_w1, first_w2, first_plain):
        figures[f"{run.name}_share_of_bound"] = round(run.pages / run.wall_s / bound, 3)
    # The CPU limit as measured end to end: every CPU second the first scan cost (scan process,
    # pool workers and the loopback servers, which share the same cores) per page.
    for run in (first_w1, first_w2):
        cpu_per_page = (run.cpu_self_s + run.cpu_children_s + run.cpu_server_s) / run.pages
        limit = min(bound, cores / cpu_per_page)
        figures[f"{run.name}_cpu_ms_per_page"] = round(cpu_per_page * 1000, 2)
        figures[f"{run.name}_share_of_cpu_or_polite_bound"] = round(
            run.pages / run.wall_s / limit, 3
        )
    walls_w1 = [r.wall_s for r in [first_w1, *extra_w1]]
    walls_w2 = [r.wall_s for r in [first_w2, *extra_w2]]
    figures["first_w1_walls_s"] = [round(w, 2) for w in walls_w1]
    figures["first_w2_walls_s"] = [round(w, 2) for w in walls_w2]
    figures["pool_speedup_w2_vs_w1"] = [
        round(a / b, 3) for a, b in zip(walls_w1, walls_w2, strict=True)
    ]
    figures["pool_speedup_best_w2_vs_best_w1"] = round(min(walls_w1) / min(walls_w2), 3)
    figures["peak_rss_self_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # RUSAGE_CHILDREN: the largest pool worker (the server process, still running, is not in it)
    figures["peak_rss_children_mb"] = round(rss_children_mb)
    # Other work on the machine: the 1-minute load average before and after (2 cores here).
    figures["loadavg_1m_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    figures["copies_equal"] = len({run.copies for run in runs}) == 1
    print(json.dumps(figures))
    if not figures["copies_equal"]:
        for run in runs:
            extra = sorted(run.copies - first_w1.copies)
            missing = sorted(first_w1.copies - run.copies)
            if extra or missing:
                print(f"{run.name}: extra {extra[:5]}, missing {missing[:5]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
