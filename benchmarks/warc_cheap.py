"""The per-page cheap path of `scan --warc`, step by step: the search for a link to the
publisher, the plain text, the pre-filter's look-up. Pages as benchmarks/warc.py makes them
(from ../shared/corpora/). Prints ONE JSON line: CPU milliseconds a page per step and each
step's share of the three. Run it with two versions of the code alternately (the old one on
PYTHONPATH) to compare them side by side.

Run: .venv/bin/python benchmarks/warc_cheap.py [--pages 1500]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from warc import Corpus, Web, load_corpus

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.pipeline.prefilter import Prefilter, plain_text
from xpostcheck.pipeline.warcscan import _SiteMatcher
from xpostcheck.sources.loader import load_sources


def index_of(corpus: Corpus, tmp: Path) -> SourceIndex:
    path = tmp / "sources.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in corpus.sources))
    index = SourceIndex(MatchConfig())
    index.add(load_sources([str(path)]))
    index.flush()
    return index


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1500)
    args = ap.parse_args()
    corpus = load_corpus(40)
    web = Web(corpus, 20, 200, 0)
    keys = web.keys()
    random.Random(1).shuffle(keys)
    pages = [(web.url(h, p), web.page(h, p) or "") for h, p in keys[: args.pages]]
    with tempfile.TemporaryDirectory(prefix="xpostcheck-warc-cheap-") as tmp:
        index = index_of(corpus, Path(tmp))
    own = _SiteMatcher([s["url"] for s in corpus.sources])
    filt = Prefilter(index)
    cpu: dict[str, float] = {}
    c = time.process_time()
    linking = sum(own.linked_from(url, markup) for url, markup in pages)
    cpu["link"] = time.process_time() - c
    c = time.process_time()
    texts = [plain_text(markup) for _, markup in pages]
    cpu["plain_text"] = time.process_time() - c
    c = time.process_time()
    passed = sum(filt.may_hold_copy(text) for text in texts)
    cpu["prefilter"] = time.process_time() - c
    total = sum(cpu.values())
    out = {
        "benchmark": "warc_cheap",
        "pages": len(pages),
        "ms_per_page": {k: round(v / len(pages) * 1e3, 3) for k, v in cpu.items()},
        "share": {k: round(v / total, 3) for k, v in cpu.items()},
        "passed": passed,
        "linking": linking,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
