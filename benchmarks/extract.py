"""Extraction benchmark on the Zyte article corpus: trafilatura alone vs xpostcheck's extract_html.

Prints ONE JSON line. Both sides run in the same process, on the same decoded pages, in turn:
- "trafilatura": trafilatura.bare_extraction on the HTML string (parse + extract + metadata),
  with the options extract_html uses;
- "extract_html": the whole Page (one parse, DOM walk, trafilatura, regions, metadata);
- "bs4_lxml_parse_only": BeautifulSoup(html, "lxml") alone, the price of a second parse.

Figures per side: pages/s, median ms/page, F1 (bag-of-tokens, Page.text vs articleBody) and,
for extract_html, the share of ground-truth tokens found in full_text and near_text. Peak RSS
is the process's, after both sides ran; "ratio" is extract_html time / trafilatura time.

    python benchmarks/extract.py [--corpus DIR] [--limit N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from xpostcheck.extract import decode_html, extract_html

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "zyte-article-benchmark"
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def f1(predicted: str, truth: str) -> float:
    p, t = tokens(predicted), tokens(truth)
    common = sum((p & t).values())
    if not common:
        return 1.0 if not p and not t else 0.0
    precision, recall = common / sum(p.values()), common / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def recall(found_in: str, truth: str) -> float:
    t = tokens(truth)
    total = sum(t.values())
    return sum((tokens(found_in) & t).values()) / total if total else 1.0


def load(corpus: Path, limit: int | None) -> list[tuple[str, str, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = decode_html(gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes()))
        pages.append((truth[key]["url"], html, truth[key]["articleBody"]))
    return pages


def run_trafilatura(pages: list[tuple[str, str, str]]) -> tuple[list[float], list[float]]:
    from trafilatura import bare_extraction

    times, scores = [], []
    for url, html, truth in pages:
        start = time.perf_counter()
        doc = bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            favor_precision=True,
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
        times.append(time.perf_counter() - start)
        scores.append(f1(doc.text or "" if doc else "", truth))
    return times, scores


def run_extract(pages: list[tuple[str, str, str]]) -> dict[str, Any]:
    times, scores, full, near = [], [], [], []
    for url, html, truth in pages:
        start = time.perf_counter()
        page = extract_html(url, html)
        times.append(time.perf_counter() - start)
        scores.append(f1(page.text, truth))
        full.append(recall(page.full_text, truth))
        near.append(recall(page.near_text, truth))
    return {"times": times, "f1": scores, "full": full, "near": near}


def run_bs4_parse(pages: list[tuple[str, str, str]]) -> list[float]:
    """BeautifulSoup with the lxml parser, parse only: the cost a second, bs4 parse would add."""
    from bs4 import BeautifulSoup

    times = []
    for _, html, _ in pages:
        start = time.perf_counter()
        BeautifulSoup(html, "lxml")
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float], scores: list[float]) -> dict[str, float]:
    return {
        "pages_per_s": round(len(times) / sum(times), 2),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "f1": round(statistics.mean(scores), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").exists():
        print(json.dumps({"error": f"corpus not found at {args.corpus}"}))
        return 2
    pages = load(args.corpus, args.limit)
    t_times: list[float] = []
    x_times: list[float] = []
    b_times: list[float] = []
    t_scores: list[float] = []
    ours: dict[str, Any] = {}
    for _ in range(args.repeat):  # interleave the sides so machine noise hits both
        times, t_scores = run_trafilatura(pages)
        t_times += times
        ours = run_extract(pages)
        x_times += ours["times"]
        b_times += run_bs4_parse(pages)
    result = {
        "benchmark": "extract",
        "pages": len(pages),
        "repeat": args.repeat,
        "trafilatura": summary(t_times, t_scores),
        "extract_html": {
            **summary(x_times, ours["f1"]),
            "full_text_recall": round(statistics.mean(ours["full"]), 4),
            "full_text_recall_min": round(min(ours["full"]), 4),
            "near_text_recall": round(statistics.mean(ours["near"]), 4),
        },
        "bs4_lxml_parse_only": {
            "pages_per_s": round(len(b_times) / sum(b_times), 2),
            "median_ms": round(statistics.median(b_times) * 1000, 2),
        },
        "time_ratio": round(sum(x_times) / sum(t_times), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
