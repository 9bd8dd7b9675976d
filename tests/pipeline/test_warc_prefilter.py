"""The pre-filter's cheap first test (a look-up of the page's shingles as they come) and the
full candidate ranking agree on every page: the first test only turns away pages that the
ranking would have turned away too."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from warcfix import articles, site_pages, write_sources

from xpostcheck.match.align import prepare
from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.pipeline.prefilter import _TAG, Prefilter, _shown, plain_text
from xpostcheck.sources.loader import load_sources

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "zyte-article-benchmark"


def _full_path(index: SourceIndex, text: str) -> bool:
    """The pre-filter's decision as it was made before the cheap first test."""
    page = prepare(text, index.config.shingle, None)
    return bool(page.shingles.size) and bool(index.candidates(page.shingles))


def _agree(index: SourceIndex, texts: list[str]) -> tuple[int, int]:
    filt = Prefilter(index)
    passed = 0
    for text in texts:
        cheap = filt.may_hold_copy(text)
        assert cheap == _full_path(index, text), text[:200]
        shingles = prepare(text, index.config.shingle, None).shingles
        if not index.shares_shingle(shingles):
            assert not index.candidates(shingles)
        passed += cheap
    assert (filt.looked, filt.passed) == (len(texts), passed)
    return passed, len(texts) - passed


def test_the_cheap_and_the_full_path_agree_on_made_pages(tmp_path: Path) -> None:
    index = SourceIndex(MatchConfig())
    index.add(load_sources([str(write_sources(tmp_path / "s.jsonl", articles()))]))
    texts = [plain_text(body) for body in site_pages(articles()).values()]
    texts += ["", "one two", "Ferry schedule and tides " * 3]
    passed, stopped = _agree(index, texts)
    assert passed == 3 and stopped > 3


def test_the_cheap_and_the_full_path_agree_on_real_pages(tmp_path: Path) -> None:
    if not (CORPUS / "ground-truth.json").exists():
        pytest.skip(f"Zyte article benchmark not found at {CORPUS}")
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    paths = sorted((CORPUS / "html").glob("*.html.gz"))[:120]
    keys = [p.name.split(".")[0] for p in paths]
    bodies = [truth.get(k, {}).get("articleBody", "") for k in keys]
    # The first 15 pages' own articles are the sources: those pages hold copies.
    sources = [
        {"url": f"https://ledger.example/news/{i}", "title": f"Story {i}", "text": body}
        for i, body in enumerate(bodies[:15])
        if len(body.split()) >= 100
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in sources), encoding="utf-8")
    index = SourceIndex(MatchConfig())
    index.add(load_sources([str(path)]))
    texts = [plain_text(gzip.decompress(p.read_bytes()).decode("utf-8", "replace")) for p in paths]
    passed, stopped = _agree(index, texts)
    assert passed >= len(sources) and stopped > len(texts) // 2


def test_an_empty_index_shares_no_shingle() -> None:
    index = SourceIndex(MatchConfig())
    shingles = prepare("a page with some words on it", 5, None).shingles
    assert not index.shares_shingle(shingles)
    assert not Prefilter(index).may_hold_copy("a page with some words on it")


_SLOW_HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|template)\b.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)


def _pages() -> list[str]:
    pages = list(site_pages(articles()).values())
    if (CORPUS / "html").is_dir():
        paths = sorted((CORPUS / "html").glob("*.html.gz"))[:60]
        pages += [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in paths]
    return pages


def test_hidden_text_goes_in_any_case_as_a_plain_regular_expression_drops_it() -> None:
    markup = (
        "<p>one</p><ScRiPt>var a = '<p>no</p>';</sCrIpT ><Style>p{}</STYLE>"
        "<TEMPLATE><p>no</p></template><!-- <p>no</p> --><p>two</p><script>cut"
    )
    assert _shown(markup).split() == ["<p>one</p>", "<p>two</p>"]
    for page in _pages() + [markup, "<!-- open", "<style>p{}"]:
        assert _shown(page) == _SLOW_HIDDEN.sub(" ", page)


def test_tags_split_as_the_two_alternatives_written_apart_split_them() -> None:
    apart = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9-]*)[^>]*>|<[!?/][^>]*>")
    odd = "<p a='>'>x</p><!doctype html><?xml?></ b><a-b c>d<1>e< f><b"
    for page in _pages() + [odd]:
        assert _TAG.split(page) == apart.split(page)
