"""Robustness: every shipped pack over real-world pages of the Zyte article benchmark.

No check may error (a crashing check turns into a failed finding saying so), and every rule
gives exactly one finding. The corpus is not copied into the repo; it is read from
../shared/corpora beside the checkout.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from xpostcheck.checks.registry import run_checks
from xpostcheck.extract.page import extract_html
from xpostcheck.models import Match, Passage, SourceArticle
from xpostcheck.rules.loader import list_packs

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "zyte-article-benchmark"
SAMPLE = 30  # pages; the whole corpus takes a minute, this keeps the suite quick


def test_no_check_errors_on_real_pages() -> None:
    if not (CORPUS / "html").is_dir():
        pytest.skip(f"Zyte article benchmark not found at {CORPUS}")
    files = sorted((CORPUS / "html").glob("*.html.gz"))[:SAMPLE]
    assert len(files) == SAMPLE
    packs = list_packs()
    errored: list[str] = []
    for file in files:
        html = gzip.decompress(file.read_bytes()).decode("utf-8", "replace")
        page = extract_html(f"https://corpus.example/{file.name}", html)
        source = SourceArticle(
            url="https://publisher.example/story",
            title=page.title,
            text=page.text,
            authors=page.authors,
            published=page.published,
            publisher="Publisher",
            images=tuple(r.url for r in page.resources[:3]),
        )
        match = Match(source.url, 0.95, "full", (Passage(0, len(page.text), 0, len(page.text)),))
        for pack in packs:
            found = run_checks(pack, page, source, match)
            assert [f.rule for f in found] == [r.id for r in pack.rules]
            errored += [
                f"{file.name} {pack.name} {f.rule}: {f.message}"
                for f in found
                if f.message.startswith("the check errored")
            ]
    assert errored == []
