"""Extraction benchmark on the Zyte article corpus: trafilatura alone vs xpostcheck's extract_html.

Prints ONE JSON line. All sides run in one process on the same decoded pages, taking turns
page by page (the order alternating), so that machine noise hits them alike:
- "trafilatura": trafilatura.bare_extraction on the HTML string (parse + extract + metadata),
  with the options extract_html uses;
- "extract_html": the whole Page (one parse, DOM walk, trafilatura, regions, metadata);
- "bs4_lxml_parse_only": BeautifulSoup(html, "lxml") alone, the price of a second parse.

Figures per side: pages/s, median ms/page, F1 (bag-of-tokens, Page.text vs articleBody) and,
for extract_html, the share of ground-truth tokens found in full_text and near_text, and the
share of near_text tokens that are article tokens (how little chrome the near region keeps).
Peak RSS is the process's, after all sides ran; "time_ratio" is extract_html time /
trafilatura time.

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

from xpostcheck.extract.page import decode_html, extract_html

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


def precision(text: str, truth: str) -> float:
    p = tokens(text)
    total = sum(p.values())
    return sum((p & tokens(truth)).values()) / total if total else 1.0


def load(corpus: Path, limit: int | None) -> list[tuple[str, str, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth)[:limit]:
        html = decode_html(gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes()))
        pages.append((truth[key]["url"], html, truth[key]["articleBody"]))
    return pages


def time_trafilatura(url: str, html: str, truth: str) -> tuple[float, float]:
    from trafilatura import bare_extraction

    start = time.perf_counter()
    doc = bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    elapsed = time.perf_counter() - start
    text = getattr(doc, "text", None) if doc is not None else None
    return elapsed, f1(text or "", truth)


def time_extract(url: str, html: str, truth: str) -> tuple[float, dict[str, float]]:
    start = time.perf_counter()
    page = extract_html(url, html)
    elapsed = time.perf_counter() - start
    return elapsed, {
        "f1": f1(page.text, truth),
        "full": recall(page.full_text, truth),
        "near": recall(page.near_text, truth),
        "near_precision": precision(page.near_text, truth),
    }


def time_bs4_parse(html: str) -> float:
    """BeautifulSoup with the lxml parser, parse only: the cost a second, bs4 parse would add."""
    from bs4 import BeautifulSoup

    start = time.perf_counter()
    BeautifulSoup(html, "lxml")
    return time.perf_counter() - start


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
    times: dict[str, list[float]] = {"trafilatura": [], "extract_html": [], "bs4": []}
    t_scores: list[float] = []
    ours: dict[str, list[float]] = {"f1": [], "full": [], "near": [], "near_precision": []}
    for round_ in range(args.repeat):
        # Page by page, the sides take turns (order alternating), so machine noise hits all.
        for n, (url, html, truth) in enumerate(pages):
            sides = ["trafilatura", "extract_html", "bs4"]
            if (n + round_) % 2:
                sides.reverse()
            for side in sides:
                if side == "trafilatura":
                    elapsed, score = time_trafilatura(url, html, truth)
                    if round_ == 0:
                        t_scores.append(score)
                elif side == "extract_html":
                    elapsed, scores = time_extract(url, html, truth)
                    if round_ == 0:
                        for key, value in scores.items():
                            ours[key].append(value)
                else:
                    elapsed = time_bs4_parse(html)
                times[side].append(elapsed)
    t_times, x_times, b_times = times["trafilatura"], times["extract_html"], times["bs4"]
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
            "near_text_precision": round(statistics.mean(ours["near_precision"]), 4),
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
