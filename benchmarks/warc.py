"""WARC input benchmark: `scan --warc` over an archive of realistic pages, 1% of them copies.

Pages are built at run time from the shared corpora (nothing of them is written to the
repository): the real pages of ../shared/corpora/zyte-article-benchmark as they are, and the
real site chrome of ../shared/corpora/realweb/templates filled with the real article texts of
realweb/articles.json.gz. The publisher's sources are the ground-truth article texts of some
Zyte pages (those pages are left out of the archive). Sites: `--hosts` of `--pages` pages
each, each host in one chrome; the first tenth of the hosts hold the copies (whole, partial,
excerpted or lightly edited, credited and linked or not) in their chrome, with a blogroll link
to the publisher on every page. Every host has an index page linking its pages.

In one run:
1. the archive is written with warcio (gzip per record, as Common Crawl's files are);
2. it is read whole by warcio's ArchiveIterator and by xpostcheck's reader (side by side);
3. `run_warc_scan` with the pre-filter on, over the whole archive: pages per CPU second
   (this process and its children; the target is 250 per core), peak RSS;
4. the same scan with the pre-filter off over `--off-sample` pages (every copy host's pages
   plus a random share of the others; 0: all): every copy found with it off is found with it
   on (`prefilter_lost` must be 0);
5. a live crawl (`run_scan`) of `--live-hosts` of the copy hosts served on loopback: the
   archive scan's copies on those hosts equal the live crawl's, verdicts and checks included;
6. plain trafilatura extraction of `--trafilatura-sample` pages of the same archive: its pages
   per CPU second, the reference of the ratio.

Prints ONE JSON line; exits 1 when a copy is lost or a verdict differs.

Run: .venv/bin/python benchmarks/warc.py [--hosts 100 --pages 200]
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import random
import re
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trafilatura
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from xpostcheck.config import Settings
from xpostcheck.demo.web import RULES
from xpostcheck.pages.warc import WarcSource
from xpostcheck.pipeline.scan import ScanResult, run_scan
from xpostcheck.pipeline.warcscan import run_warc_scan

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
PUBLISHER = "The Lakeside Ledger"
PUBLISHER_SITE = "https://lakesideledger.example"


@dataclass
class Corpus:
    zyte: list[tuple[str, str]]  # (html, article text) of the Zyte pages left as non-copies
    sources: list[dict[str, str]]  # the publisher's articles
    templates: list[dict[str, Any]]
    articles: list[dict[str, Any]]


def load_corpus(n_sources: int) -> Corpus:
    truth = json.loads((CORPORA / "zyte-article-benchmark" / "ground-truth.json").read_text())
    zyte = []
    for path in sorted((CORPORA / "zyte-article-benchmark" / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        body = truth.get(key, {}).get("articleBody", "")
        markup = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        zyte.append((markup, body))
    rng = random.Random(16)
    rng.shuffle(zyte)
    long_ones = [z for z in zyte if len(z[1].split()) >= 300]
    chosen = long_ones[:n_sources]
    sources = [
        {
            "url": f"{PUBLISHER_SITE}/news/{i:03d}-story",
            "title": body.split("\n", 1)[0][:80] or f"Story {i}",
            "author": "Avery Quinn",
            "published": "2026-03-01",
            "text": body,
        }
        for i, (_, body) in enumerate(chosen)
    ]
    rest = [z for z in zyte if z not in chosen]
    templates = [
        json.loads(gzip.decompress(p.read_bytes()))
        for p in sorted((CORPORA / "realweb" / "templates").glob("*.json.gz"))
    ]
    arts = json.loads(gzip.decompress((CORPORA / "realweb" / "articles.json.gz").read_bytes()))
    articles = [a for a in arts.values() if len(a["paras"]) >= 5]
    return Corpus(rest, sources, templates, articles)


def fill(tpl: dict[str, Any], title: str, paras: list[str], url: str, sidebar: str) -> str:
    sep, wrap = ("<br><br>", "{}") if tpl["style"] == "br" else ("", "<p>{}</p>")
    body = sep.join(wrap.format(p) for p in paras)
    values = {
        "TITLE": html.escape(title),
        "H1": html.escape(title),
        "DATE": "March 3, 2026",
        "BYLINE": "Staff",
        "ART": url,
        "ARTICLE": body,
        "SIDEBAR": sidebar,
    }
    return re.sub(r"\{\{([A-Z0-9_]+)\}\}", lambda m: values.get(m.group(1), ""), tpl["html"])


CREDIT = f"<p>This article was originally published by {PUBLISHER}.</p>"
COPYRIGHT = f"<p>Copyright © 2026 Avery Quinn, {PUBLISHER}</p>"
BLOGROLL = f'<ul><li><a href="{PUBLISHER_SITE}/">{PUBLISHER}</a></li></ul>'


def copy_paras(source: dict[str, str], variant: int, rng: random.Random) -> list[str]:
    paras = [html.escape(p) for p in source["text"].split("\n") if p.strip()]
    url = source["url"]
    kind = variant % 5
    if kind == 1:  # partial
        paras = paras[: max(3, len(paras) * 6 // 10)]
    elif kind == 2:  # excerpt
        paras = paras[:3]
    elif kind == 3:  # lightly edited
        paras = [re.sub(r"\b(said|says)\b", "stated", p) for p in paras]
    credit = variant % 4
    if credit == 0:
        paras += [CREDIT[3:-4], COPYRIGHT[3:-4], f'<a href="{url}">Read the original</a>']
    elif credit == 1:
        paras += [CREDIT[3:-4], COPYRIGHT[3:-4]]
    elif credit == 2:
        paras += [f'Via <a href="{url}">the original</a>']
    if rng.random() < 0.3:
        paras.insert(0, "Editor's note: shared with our readers.")
    return paras


class Web:
    """Every page of every host: path -> HTML, and the URL of each host."""

    def __init__(self, corpus: Corpus, hosts: int, pages: int, live: int, seed: int = 7):
        rng = random.Random(seed)
        self.sites: list[str] = []
        self.pages: list[dict[str, str]] = []
        self.copy_hosts = max(1, hosts // 10)
        self.copies_planned = 0
        self.servers: list[ThreadingHTTPServer] = []
        for h in range(hosts):
            if h < live:
                self.sites.append(self._serve(h))
            else:
                self.sites.append(f"http://site{h:03d}.example/")
        per_copy_host = max(1, hosts * pages // 100 // self.copy_hosts)
        for h, site in enumerate(self.sites):
            routes: dict[str, str] = {}
            tpl = corpus.templates[h % len(corpus.templates)]
            zyte_host = h >= self.copy_hosts and h % 2 == 1
            for i in range(pages - 1):
                path = f"/{h:03d}/post-{i:04d}.html"
                url = site.rstrip("/") + path
                if h < self.copy_hosts and i < per_copy_host:
                    src = corpus.sources[(h * per_copy_host + i) % len(corpus.sources)]
                    paras = copy_paras(src, i, rng)
                    routes[path] = fill(tpl, src["title"], paras, url, BLOGROLL)
                    self.copies_planned += 1
                elif zyte_host:
                    markup, _ = corpus.zyte[(h * 31 + i) % len(corpus.zyte)]
                    routes[path] = markup.replace("</body>", f"<p>post {h}/{i}</p></body>", 1)
                else:
                    art = corpus.articles[(h * 17 + i) % len(corpus.articles)]
                    paras = [html.escape(t) for _, t in art["paras"]]
                    side = BLOGROLL if h < self.copy_hosts else ""
                    routes[path] = fill(tpl, art["title"], paras, url, side)
            index = "".join(f'<li><a href="{p}">{p}</a></li>' for p in routes)
            routes["/"] = (
                f"<!doctype html><html><body><h1>Site {h}</h1><ul>{index}</ul></body></html>"
            )
            self.pages.append(routes)

    def _serve(self, h: int) -> str:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                body = web.pages[h].get(self.path.split("?")[0]) if h < len(web.pages) else None
                data = (body or "<p>not found</p>").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer((f"127.0.0.{20 + h}", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return f"http://127.0.0.{20 + h}:{server.server_address[1]}/"

    def urls(self) -> list[tuple[str, str]]:
        out = []
        for site, routes in zip(self.sites, self.pages, strict=True):
            for path, body in routes.items():
                out.append((site.rstrip("/") + path, body))
        return out

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def write_warc(path: Path, pages: list[tuple[str, str]], rng: random.Random) -> None:
    order = list(pages)
    rng.shuffle(order)  # a site's pages are spread over the archive, as in a crawl
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=True)
        for url, body in order:
            head = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body.encode()), http_headers=head
            )
            writer.write_record(record)


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def key(copies: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (c.url, c.source_url, c.kind, c.verdict, tuple((f.rule, f.passed) for f in c.checks))
        for c in copies
    )


def settings(tmp: Path, name: str, sources: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "sources": (str(sources),),
        "rules": str(RULES),
        "db": str(tmp / f"{name}.db"),
        "delay": 0.0,
        "workers": 1,
        "max_pages": 100_000,
        "max_depth": 3,
        "threads": 4,
    }
    values.update(extra)
    return Settings(**values)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--sources", type=int, default=40)
    ap.add_argument("--live-hosts", type=int, default=3)
    ap.add_argument("--off-sample", type=int, default=3000)
    ap.add_argument("--trafilatura-sample", type=int, default=300)
    args = ap.parse_args()
    out: dict[str, Any] = {"benchmark": "warc"}
    corpus = load_corpus(args.sources)
    web = Web(corpus, args.hosts, args.pages, args.live_hosts)
    rng = random.Random(3)
    try:
        with tempfile.TemporaryDirectory(prefix="xpostcheck-warc-bench-") as tmpdir:
            tmp = Path(tmpdir)
            sources = tmp / "sources.jsonl"
            sources.write_text("".join(json.dumps(s) + "\n" for s in corpus.sources))
            pages = web.urls()
            warc = tmp / "pages.warc.gz"
            t = time.perf_counter()
            write_warc(warc, pages, rng)
            out["pages"] = len(pages)
            out["copies_planned"] = web.copies_planned
            out["warc_mb"] = round(warc.stat().st_size / 1e6, 1)
            out["html_mb"] = round(sum(len(b.encode()) for _, b in pages) / 1e6, 1)
            out["write_s"] = round(time.perf_counter() - t, 1)

            # Reading alone, side by side: warcio's iterator and ours (records per CPU second).
            c = cpu()
            with warc.open("rb") as f:
                n = sum(
                    1
                    for r in ArchiveIterator(f)
                    if r.rec_type == "response" and r.content_stream().read() is not None
                )
            warcio_s = cpu() - c
            c = cpu()
            n2 = sum(1 for _ in WarcSource([str(warc)]).crawl())
            ours_s = cpu() - c
            out["read_records_per_cpu_s"] = {
                "warcio": round(n / warcio_s),
                "xpostcheck": round(n2 / ours_s),
            }

            # The archive scan with the pre-filter on, over every page.
            c, t = cpu(), time.perf_counter()
            on = run_warc_scan(settings(tmp, "on", sources), [str(warc)])
            on_cpu, on_wall = cpu() - c, time.perf_counter() - t
            out["scan_on"] = {
                "copies": len(on.report.copies),
                "copy_pages": len({c.url for c in on.report.copies}),
                "cpu_s": round(on_cpu, 1),
                "wall_s": round(on_wall, 1),
                "pages_per_cpu_s": round(len(pages) / on_cpu, 1),
                "candidates": len(on.report.candidates),
                "skipped": len(on.report.skipped),
            }
            out["peak_rss_mb_after_scan"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )

            # The pre-filter off, over a sample: every copy host's pages and random others.
            copy_sites = web.sites[: web.copy_hosts]
            sample = [p for p in pages if any(p[0].startswith(s) for s in copy_sites)]
            others = [p for p in pages if p not in sample]
            if args.off_sample and args.off_sample < len(pages):
                rng.shuffle(others)
                sample += others[: max(0, args.off_sample - len(sample))]
            else:
                sample = pages
            off_warc = tmp / "sample.warc.gz"
            write_warc(off_warc, sample, rng)
            c = cpu()
            off = run_warc_scan(settings(tmp, "off", sources), [str(off_warc)], prefilter=False)
            off_cpu = cpu() - c
            on_same = run_warc_scan(settings(tmp, "on-sample", sources), [str(off_warc)])
            found_on = {(c.url, c.source_url) for c in on_same.report.copies}
            lost = [
                (c.url, c.source_url)
                for c in off.report.copies
                if (c.url, c.source_url) not in found_on
            ]
            out["prefilter_off_sample"] = {
                "pages": len(sample),
                "copies_off": len(off.report.copies),
                "copies_on": len(on_same.report.copies),
                "prefilter_lost": len(lost),
                "same_verdicts": key(off.report.copies) == key(on_same.report.copies),
                "pages_per_cpu_s_off": round(len(sample) / off_cpu, 1),
            }
            in_full = {(c.url, c.source_url) for c in on.report.copies}
            out["prefilter_off_sample"]["lost_in_full_archive"] = len(
                [k for k in {(c.url, c.source_url) for c in off.report.copies} if k not in in_full]
            )

            # The live crawl of some copy hosts on loopback, against the archive's verdicts.
            live_sites = tuple(web.sites[: args.live_hosts])
            live: ScanResult = run_scan(settings(tmp, "live", sources, sites=live_sites))
            mine = [c for c in on.report.copies if any(c.url.startswith(s) for s in live_sites)]
            out["live"] = {
                "hosts": len(live_sites),
                "pages": live.report.scan.pages_fetched,
                "copies_live": len(live.report.copies),
                "copies_warc": len(mine),
                "same_verdicts": key(live.report.copies) == key(mine),
                "violations_live": len(live.report.violations),
            }

            # Plain trafilatura on a sample of the same pages, for the ratio.
            picks = rng.sample(pages, min(args.trafilatura_sample, len(pages)))
            c = cpu()
            for url, body in picks:
                trafilatura.extract(body, url=url)
            traf = len(picks) / (cpu() - c)
            out["trafilatura_pages_per_cpu_s"] = round(traf, 1)
            out["ratio_vs_trafilatura"] = round(out["scan_on"]["pages_per_cpu_s"] / traf, 2)
    finally:
        web.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["ok"] = bool(
        out["prefilter_off_sample"]["prefilter_lost"] == 0
        and out["prefilter_off_sample"]["lost_in_full_archive"] == 0
        and out["prefilter_off_sample"]["same_verdicts"]
        and out["live"]["same_verdicts"]
    )
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
