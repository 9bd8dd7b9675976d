"""The same scan gives the same verdicts whether the index holds 5 articles or 20,000."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from xpostcheck.demo.web import ARTICLES, demo_web, load_corpus
from xpostcheck.match.index import SourceIndex
from xpostcheck.models import SourceArticle
from xpostcheck.pipeline.scan import run_scan
from xpostcheck.report.jsonfmt import report_to_dict

FILLER = 20_000


def _filler(n: int) -> list[SourceArticle]:
    """Articles drawn from the demo corpus's own word frequencies: same vocabulary, other text."""
    counts = Counter(" ".join(r["text"] for r in load_corpus().values()).split())
    words, weights = list(counts), list(counts.values())
    rng = random.Random(20261128)
    return [
        SourceArticle(
            url=f"https://filler.example/{i}",
            title=f"Filler {i}",
            text=" ".join(rng.choices(words, weights, k=350)),
        )
        for i in range(n)
    ]


def _verdicts(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str, list[str]]]:
    return {
        (c["url"].split("/", 3)[-1], c["source_url"]): (
            c["kind"],
            c["verdict"],
            sorted(k["rule"] for k in c["checks"] if not k["passed"]),
        )
        for c in report["copies"]
    }


def test_verdicts_do_not_change_with_20000_sources(tmp_path: Path) -> None:
    big = tmp_path / "big.index"
    index = SourceIndex()
    index.add(_filler(FILLER))
    index.save(big)
    with demo_web() as web:
        small = run_scan(web.settings(db=str(tmp_path / "small.db"))).report
        large = run_scan(web.settings(db=str(tmp_path / "large.db"), index=str(big))).report
    assert large.scan.sources == FILLER + len(ARTICLES.read_text().splitlines())
    small_v, large_v = _verdicts(report_to_dict(small)), _verdicts(report_to_dict(large))
    assert len(small_v) == 6
    assert large_v == small_v
