"""What recording the pages the pre-filter keeps out costs a WARC scan, beside what the
pre-filter itself costs on the same pages (xpostcheck/pipeline/warcseen.py).

Every page of a WARC scan gets the pre-filter's look (`plain_text` and one shingle look-up);
since history needs every page it read, each page the pre-filter keeps out is also recorded
in the store (URL, capture time, status), in batches. In one run, over `--pages` pages (the
real pages of ../shared/corpora/zyte-article-benchmark, cycled, each under its own URL on
one of 400 hosts; the sources are the ground-truth texts of `--sources` others):
1. CPU seconds of the pre-filter's look at every page;
2. CPU seconds of recording them (`KeptOut` into a new SQLite store, as `scan_warcs` does).
Prints ONE JSON line: both, per page, and `record_share`: recording / pre-filter (the
figure to watch: the pre-filter is the cheapest thing a scan does to every page).

Run: .venv/bin/python benchmarks/kept_out.py [--pages 5000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.models import Fetched, SourceArticle
from xpostcheck.pipeline.prefilter import Prefilter, plain_text
from xpostcheck.pipeline.warcseen import KeptOut
from xpostcheck.store import Store, open_store

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


class _Scan:
    """The part of a `Scan` that `KeptOut` uses: the store and the scan id."""

    def __init__(self, store: Store, scan_id: int) -> None:
        self.store = store
        self.scan_id = scan_id


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--sources", type=int, default=40)
    args = ap.parse_args()
    zyte = CORPORA / "zyte-article-benchmark"
    if not zyte.is_dir():
        print(f"the corpus is missing: {zyte}", file=sys.stderr)
        return 2
    truth = json.loads((zyte / "ground-truth.json").read_text())
    pages: list[str] = []
    sources: list[SourceArticle] = []
    for path in sorted((zyte / "html").glob("*.html.gz")):
        body = truth.get(path.name.split(".")[0], {}).get("articleBody", "")
        if len(sources) < args.sources and len(body.split()) >= 300:
            n = len(sources)
            sources.append(SourceArticle(f"https://publisher.example/{n}", f"Story {n}", body))
        else:
            pages.append(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
    index = SourceIndex(MatchConfig())
    index.add(sources)
    filt = Prefilter(index)
    urls = [
        f"https://site{i % 400}.example/2026/11/{i}/an-article-slug-{i}.html?ref=feed"
        for i in range(args.pages)
    ]
    markups = [pages[i % len(pages)] for i in range(args.pages)]

    start = time.process_time()
    kept = [u for u, m in zip(urls, markups, strict=True) if not filt.may_hold_copy(plain_text(m))]
    look_cpu = time.process_time() - start

    with tempfile.TemporaryDirectory() as tmp, open_store(str(Path(tmp) / "b.db")) as store:
        scan_id = store.begin_scan("benchmark", "2026-11-30T00:00:00+00:00")
        records = [Fetched(u, u, 200, (), b"", "", "utf-8", "2026-11-01T00:00:00Z") for u in kept]
        start = time.process_time()
        out = KeptOut(_Scan(store, scan_id))  # type: ignore[arg-type]
        for page in records:
            out.add(page)
        out.flush()
        record_cpu = time.process_time() - start
    print(
        json.dumps(
            {
                "benchmark": "kept_out",
                "pages": args.pages,
                "kept_out": len(kept),
                "prefilter_cpu_s": round(look_cpu, 3),
                "record_cpu_s": round(record_cpu, 3),
                "prefilter_us_per_page": round(look_cpu / args.pages * 1e6, 1),
                "record_us_per_page": round(record_cpu / max(1, len(kept)) * 1e6, 1),
                "record_share": round(record_cpu / look_cpu, 4) if look_cpu else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
