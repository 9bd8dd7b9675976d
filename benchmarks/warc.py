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
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trafilatura
from warcio.archiveiterator import ArchiveIterator

from xpostcheck.config import Settings
from xpostcheck.demo.web import RULES
from xpostcheck.pages.warc import WarcFetched, WarcSource
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
    """Every host's pages, made on demand (the archive is written and served from this, never
    held whole): host h has an index page "/" and `pages - 1` posts."""

    def __init__(self, corpus: Corpus, hosts: int, pages: int, live: int) -> None:
        self.corpus = corpus
        self.hosts = hosts
        self.pages = pages
        self.copy_hosts = max(1, hosts // 10)
        self.per_copy_host = min(pages - 1, max(1, hosts * pages // 100 // self.copy_hosts))
        self.copies_planned = self.copy_hosts * self.per_copy_host
        self.servers: list[ThreadingHTTPServer] = []
        self.sites = [
            self._serve(h) if h < live else f"http://site{h:03d}.example/" for h in range(hosts)
        ]

    def paths(self, h: int) -> list[str]:
        return ["/"] + [f"/{h:03d}/post-{i:04d}.html" for i in range(self.pages - 1)]

    def keys(self) -> list[tuple[int, str]]:
        return [(h, p) for h in range(self.hosts) for p in self.paths(h)]

    def url(self, h: int, path: str) -> str:
        return self.sites[h].rstrip("/") + path

    def page(self, h: int, path: str) -> str | None:
        if path == "/":
            index = "".join(f'<li><a href="{p}">{p}</a></li>' for p in self.paths(h)[1:])
            return f"<!doctype html><html><body><h1>Site {h}</h1><ul>{index}</ul></body></html>"
        m = re.fullmatch(rf"/{h:03d}/post-(\d{{4}})\.html", path)
        if m is None or int(m.group(1)) >= self.pages - 1:
            return None
        i, c = int(m.group(1)), self.corpus
        url = self.url(h, path)
        tpl = c.templates[h % len(c.templates)]
        if h < self.copy_hosts and i < self.per_copy_host:
            src = c.sources[(h * self.per_copy_host + i) % len(c.sources)]
            paras = copy_paras(src, i, random.Random(h * 100_000 + i))
            return fill(tpl, src["title"], paras, url, BLOGROLL)
        if h >= self.copy_hosts and h % 2 == 1:  # a host of real pages, each its own chrome
            markup, _ = c.zyte[(h * 31 + i) % len(c.zyte)]
            return markup.replace("</body>", f"<p>post {h}/{i}</p></body>", 1)
        art = c.articles[(h * 17 + i) % len(c.articles)]
        paras = [html.escape(t) for _, t in art["paras"]]
        return fill(tpl, art["title"], paras, url, BLOGROLL if h < self.copy_hosts else "")

    def _serve(self, h: int) -> str:
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                body = web.page(h, self.path.split("?")[0])
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

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def write_warc(path: Path, web: Web, keys: list[tuple[int, str]]) -> int:
    """A WARC/1.1 file of response records, one gzip member each (as Common Crawl writes
    them; compression level 1 to keep the run short); returns the HTML bytes written."""
    total = 0
    with path.open("wb") as f:
        for n, (h, p) in enumerate(keys):
            body = (web.page(h, p) or "").encode()
            total += len(body)
            block = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            head = (
                "WARC/1.1\r\nWARC-Type: response\r\n"
                f"WARC-Record-ID: <urn:uuid:{uuid.UUID(int=n + 1)}>\r\n"
                "WARC-Date: 2026-11-01T00:00:00Z\r\n"
                f"WARC-Target-URI: {web.url(h, p)}\r\n"
                "Content-Type: application/http; msgtype=response\r\n"
                f"Content-Length: {len(block)}\r\n\r\n"
            ).encode()
            z = zlib.compressobj(1, zlib.DEFLATED, 31)
            f.write(z.compress(head + block + b"\r\n\r\n") + z.flush())
    return total


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


def child_scan(warc: str, sources: str, db: str, prefilter: bool) -> None:
    """One archive scan in this (fresh) process: its CPU time, wall time and peak RSS are
    the scan's alone."""
    tmp = Path(db).parent
    c, t = cpu(), time.perf_counter()
    result = run_warc_scan(settings(tmp, Path(db).stem, Path(sources)), [warc], prefilter=prefilter)
    out = {
        "cpu_s": cpu() - c,
        "wall_s": time.perf_counter() - t,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "copies": key(result.report.copies),
        "candidates": len(result.report.candidates),
        "skipped": len(result.report.skipped),
        "pages": result.report.scan.pages_fetched,
    }
    print(json.dumps(out))


def scan_in_child(warc: Path, sources: Path, db: Path, prefilter: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(warc), str(sources), str(db)]
    if not prefilter:
        cmd.append("--off")
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    data["copies"] = [
        tuple(tuple(x) if isinstance(x, list) else x for x in c) for c in data["copies"]
    ]
    data["copies"] = [c[:4] + (tuple(tuple(f) for f in c[4]),) for c in data["copies"]]
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--sources", type=int, default=40)
    ap.add_argument("--live-hosts", type=int, default=3)
    ap.add_argument("--off-sample", type=int, default=3000)
    ap.add_argument("--trafilatura-sample", type=int, default=300)
    ap.add_argument("--child", nargs=3, metavar=("WARC", "SOURCES", "DB"))
    ap.add_argument("--off", action="store_true")
    args = ap.parse_args()
    if args.child:
        child_scan(*args.child, prefilter=not args.off)
        return 0
    out: dict[str, Any] = {"benchmark": "warc"}
    corpus = load_corpus(args.sources)
    web = Web(corpus, args.hosts, args.pages, args.live_hosts)
    rng = random.Random(3)
    try:
        with tempfile.TemporaryDirectory(prefix="xpostcheck-warc-bench-") as tmpdir:
            tmp = Path(tmpdir)
            sources = tmp / "sources.jsonl"
            sources.write_text("".join(json.dumps(s) + "\n" for s in corpus.sources))
            keys = web.keys()
            rng.shuffle(keys)  # a site's pages are spread over the archive, as in a crawl
            warc = tmp / "pages.warc.gz"
            t = time.perf_counter()
            out["pages"] = len(keys)
            out["copies_planned"] = web.copies_planned
            out["html_mb"] = round(write_warc(warc, web, keys) / 1e6, 1)
            out["warc_mb"] = round(warc.stat().st_size / 1e6, 1)
            out["write_s"] = round(time.perf_counter() - t, 1)

            # Reading alone, side by side: warcio's iterator and ours (records per CPU second).
            c = cpu()
            with warc.open("rb") as f:
                n = sum(
                    len(r.content_stream().read()) >= 0
                    for r in ArchiveIterator(f)
                    if r.rec_type == "response"
                )
            warcio_s = cpu() - c
            c = cpu()
            n2 = sum(isinstance(e, WarcFetched) for e in WarcSource([str(warc)]).crawl())
            ours_s = cpu() - c
            out["read_pages_per_cpu_s"] = {
                "warcio": round(n / warcio_s),
                "xpostcheck": round(n2 / ours_s),
                "records": [n, n2],
            }

            # The archive scan with the pre-filter on, over every page, in a process of its own.
            on = scan_in_child(warc, sources, tmp / "on.db", True)
            out["scan_on"] = {
                "pages": on["pages"],
                "copies": len(on["copies"]),
                "copy_pages": len({c[0] for c in on["copies"]}),
                "cpu_s": round(on["cpu_s"], 1),
                "wall_s": round(on["wall_s"], 1),
                "pages_per_cpu_s": round(len(keys) / on["cpu_s"], 1),
                "peak_rss_mb": round(on["peak_rss_mb"], 1),
                "candidates": on["candidates"],
                "skipped": on["skipped"],
            }

            # The pre-filter off, over a sample: every copy host's pages and random others.
            sample = [k for k in keys if k[0] < web.copy_hosts]
            others = [k for k in keys if k[0] >= web.copy_hosts]
            if args.off_sample and args.off_sample < len(keys):
                sample += others[: max(0, args.off_sample - len(sample))]
            else:
                sample = keys
            off_warc = tmp / "sample.warc.gz"
            write_warc(off_warc, web, sample)
            off = scan_in_child(off_warc, sources, tmp / "off.db", False)
            on_same = scan_in_child(off_warc, sources, tmp / "on-sample.db", True)
            found_on = {c[:2] for c in on_same["copies"]}
            in_full = {c[:2] for c in on["copies"]}
            out["prefilter_off_sample"] = {
                "pages": len(sample),
                "copies_off": len(off["copies"]),
                "copies_on": len(on_same["copies"]),
                "prefilter_lost": len([c for c in off["copies"] if c[:2] not in found_on]),
                "lost_in_full_archive": len([c for c in off["copies"] if c[:2] not in in_full]),
                "same_verdicts": sorted(off["copies"]) == sorted(on_same["copies"]),
                "pages_per_cpu_s_off": round(len(sample) / off["cpu_s"], 1),
                "pages_per_cpu_s_on": round(len(sample) / on_same["cpu_s"], 1),
            }

            # A live crawl of some copy hosts on loopback, against the archive's verdicts.
            live_sites = tuple(web.sites[: args.live_hosts])
            live: ScanResult = run_scan(settings(tmp, "live", sources, sites=live_sites))
            mine = sorted(c for c in on["copies"] if c[0].startswith(live_sites))
            out["live"] = {
                "hosts": len(live_sites),
                "pages": live.report.scan.pages_fetched,
                "copies_live": len(live.report.copies),
                "copies_warc": len(mine),
                "same_verdicts": key(live.report.copies) == mine,
                "violations_live": len(live.report.violations),
            }

            # Plain trafilatura on a sample of the same pages, for the ratio.
            picks = rng.sample(keys, min(args.trafilatura_sample, len(keys)))
            bodies = [(web.url(h, p), web.page(h, p) or "") for h, p in picks]
            c = cpu()
            for url, body in bodies:
                trafilatura.extract(body, url=url)
            traf = len(picks) / (cpu() - c)
            out["trafilatura_pages_per_cpu_s"] = round(traf, 1)
            out["ratio_vs_trafilatura"] = round(out["scan_on"]["pages_per_cpu_s"] / traf, 2)
    finally:
        web.close()
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
