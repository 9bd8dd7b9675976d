"""Accuracy gate for the matcher, on a labelled set built from the Zyte article benchmark.

Half of the corpus (and every Korean and Portuguese page) plays the publisher's articles; the
other pages play republishers. Their visible text is the chrome a copy is wrapped in, and
on its own it is an unrelated page. Cases, built here at test time and never saved:

- full: a whole source inside another page's chrome;
- excerpt: 30-50% of a source, contiguous;
- edited: 10% of the sentences dropped and one word in 25 changed in the rest;
- reordered: the source's paragraphs shuffled (lines under 5 tokens are not in the truth);
- quote: one paragraph, under 15% of the source or under 50 words (must not be reported);
- unrelated: a republisher page as it is (must not be reported).

The corpus holds a few pairs of articles on the same story that share wire copy or a quoted
statement verbatim (17-33% of the text). A plain brute-force test (shared word 8-grams)
marks such pairs as related; related pages are never used as chrome or as unrelated pages,
and a copy may also report the sources related to the one copied.

Floors are pinned below. PAN-style character precision and recall of the passages are
printed (source and page characters together, over the detected copy cases).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
import numpy as np
import pytest

from xpostcheck.match.index import MatchConfig, SourceIndex
from xpostcheck.models import Match, SourceArticle
from xpostcheck.util.textnorm import tokenize

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "zyte-article-benchmark"

RECALL_FLOOR = 0.99  # full, reordered, edited (the full and partial copies) and excerpts
COVERAGE_TOLERANCE = 0.05
PAN_FLOOR = 0.9
SHINGLE = MatchConfig().shingle  # character precision and recall of passages

Span = tuple[int, int]


@dataclass
class Case:
    kind: str  # full | excerpt | edited | reordered | quote | unrelated
    page: str
    source_url: str | None = None
    coverage: float = 0.0  # truth: share of source tokens copied
    source_spans: list[Span] = field(default_factory=list)
    page_spans: list[Span] = field(default_factory=list)


def _visible_text(html: bytes) -> str:
    root = lxml.html.document_fromstring(html)
    for bad in root.xpath("//script|//style|//noscript|//template|//head"):
        bad.drop_tree()
    lines = (" ".join(t.split()) for t in root.itertext())
    return "\n".join(line for line in lines if line)


def _wrap(
    head: str, pieces: Sequence[tuple[str, Span | None]], tail: str
) -> tuple[str, list[Span]]:
    """Join chrome and copied pieces; return the page and the page span of each piece."""
    page, spans = head + "\n", []
    for text, source_span in pieces:
        if source_span is not None:
            spans.append((len(page), len(page) + len(text)))
        page += text + "\n"
    return page + tail, spans


def _share(text: str, spans: list[Span]) -> float:
    tokens = tokenize(text)
    inside = np.zeros(len(tokens), dtype=bool)
    for a, b in spans:
        inside |= (tokens.starts >= a) & (tokens.ends <= b)
    return float(inside.sum()) / max(len(tokens), 1)


_SENTENCE = re.compile(r"[^.!?。\n]+(?:[.!?。]+|$)", re.M)


def _grams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _related_pairs(truth: dict[str, dict[str, str]]) -> set[tuple[str, str]]:
    """Pairs of article ids (both orders) sharing at least five word 8-grams."""
    holders: dict[tuple[str, ...], list[str]] = {}
    for i, item in truth.items():
        for gram in _grams(item["articleBody"]):
            holders.setdefault(gram, []).append(i)
    shared: dict[tuple[str, str], int] = {}
    for ids in holders.values():
        for a in ids:
            for b in ids:
                if a != b:
                    shared[a, b] = shared.get((a, b), 0) + 1
    return {pair for pair, count in shared.items() if count >= 5}


def _build(rng: random.Random) -> tuple[list[SourceArticle], list[Case], set[tuple[str, str]]]:
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    related = _related_pairs(truth)
    foreign = {i for i in ids if re.search(r"\.(kr|br)/", truth[i]["url"])}
    source_ids = [i for n, i in enumerate(ids) if i in foreign or n % 2 == 0]
    tainted = {a for a, b in related if b in source_ids}
    host_ids = [i for i in ids if i not in source_ids and i not in tainted]
    related_urls = {(truth[a]["url"], truth[b]["url"]) for a, b in related}
    chrome = {}
    for i in host_ids:
        html = gzip.decompress((CORPUS / "html" / f"{i}.html.gz").read_bytes())
        chrome[i] = _visible_text(html)
    sources = [
        SourceArticle(url=truth[i]["url"], title="", text=truth[i]["articleBody"])
        for i in source_ids
    ]
    cases = [Case("unrelated", chrome[i]) for i in host_ids]

    def wrapper() -> tuple[str, str]:
        text = chrome[rng.choice(host_ids)]
        cut = int(len(text) * rng.uniform(0.2, 0.6))
        return text[:cut], text[cut:]

    for src in sources:
        text, tokens = src.text, tokenize(src.text)
        n = len(tokens)
        if n < 30:
            continue
        head, tail = wrapper()
        page, spans = _wrap(head, [(text, (0, len(text)))], tail)
        cases.append(Case("full", page, src.url, 1.0, [(0, len(text))], spans))

        paragraphs = [m.span() for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
        blocks = [m.span() for m in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text)]
        moved = blocks if len(blocks) >= 3 else paragraphs  # keep tables and lists whole
        if len(moved) >= 3:
            order = list(range(len(moved)))
            while order == sorted(order):
                rng.shuffle(order)
            pieces = [(text[slice(*moved[o])], moved[o]) for o in order]
            head, tail = wrapper()
            page, spans = _wrap(head, pieces, tail)
            # A moved line shorter than a shingle cannot be told from chance: not in the truth.
            whole = [p for p in moved if len(tokenize(text[slice(*p)])) >= SHINGLE]
            cases.append(Case("reordered", page, src.url, _share(text, whole), whole, spans))

        if n >= 200:
            length = int(n * rng.uniform(0.3, 0.5))
            a = rng.randrange(0, n - length)
            span = (int(tokens.starts[a]), int(tokens.ends[a + length - 1]))
            head, tail = wrapper()
            page, spans = _wrap(head, [(text[slice(*span)], span)], tail)
            cases.append(Case("excerpt", page, src.url, _share(text, [span]), [span], spans))

        sentences = [m.span() for m in _SENTENCE.finditer(text) if m.group().strip()]
        if n >= 100 and len(sentences) >= 10:
            dropped = set(rng.sample(range(len(sentences)), len(sentences) // 10))
            kept = [s for k, s in enumerate(sentences) if k not in dropped]
            pieces = []
            for a, b in kept:
                sentence = text[a:b]
                cut = tokenize(sentence)  # a word, or one character in Japanese
                words = list(zip(cut.starts.tolist(), cut.ends.tolist(), strict=True))
                for wa, wb in reversed(words):
                    if rng.random() < 1 / 25:
                        sentence = sentence[:wa] + "zqx" + sentence[wb:]
                pieces.append((sentence, (a, b)))
            head, tail = wrapper()
            page, spans = _wrap(head, pieces, tail)
            cases.append(Case("edited", page, src.url, _share(text, kept), kept, spans))

        if n >= 60:
            most = int(0.12 * n) if n >= 350 else 40
            for a, b in paragraphs:
                para = tokenize(text[a:b])
                if len(para) >= 10:
                    end = a + int(para.ends[min(len(para), most) - 1])
                    head, tail = wrapper()
                    page, _ = _wrap(head, [(text[a:end], None)], tail)
                    cases.append(Case("quote", page, src.url, _share(text, [(a, end)])))
                    break
    return sources, cases, related_urls


@dataclass
class Outcome:
    case: Case
    matches: list[Match]

    @property
    def hit(self) -> Match | None:
        return next((m for m in self.matches if m.source_url == self.case.source_url), None)


Outcomes = tuple[SourceIndex, list[Outcome], set[tuple[str, str]]]


@pytest.fixture(scope="module")
def outcomes() -> tuple[SourceIndex, list[Outcome], set[tuple[str, str]]]:
    if not (CORPUS / "ground-truth.json").exists():
        pytest.skip(f"Zyte article benchmark not found at {CORPUS}")
    sources, cases, related = _build(random.Random(20261128))
    index = SourceIndex(MatchConfig())
    assert index.add(sources) == len(sources)
    return index, [Outcome(c, index.match(c.page)) for c in cases], related


def _of(outcomes: list[Outcome], *kinds: str) -> list[Outcome]:
    return [o for o in outcomes if o.case.kind in kinds]


def test_labelled_set_has_every_case_kind_and_language(
    outcomes: Outcomes,
) -> None:
    index, results, related = outcomes
    assert len(related) <= 50  # a handful of same-story pairs, not a broken test
    counts = {k: len(_of(results, k)) for k in ("full", "excerpt", "edited", "reordered")}
    assert min(counts.values()) >= 30, counts
    assert len(_of(results, "quote")) >= 50
    assert len(_of(results, "unrelated")) >= 50
    urls = {o.case.source_url for o in _of(results, "full")}
    assert any(".co.kr/" in u for u in urls if u)  # Korean
    assert sum(".com.br/" in u for u in urls if u) >= 5  # Portuguese


@pytest.mark.parametrize("kind", ["full", "reordered", "edited", "excerpt"])
def test_recall_floor(outcomes: Outcomes, kind: str) -> None:
    cases = _of(outcomes[1], kind)
    missed = [o.case.source_url for o in cases if o.hit is None]
    assert 1 - len(missed) / len(cases) >= RECALL_FLOOR, missed


def test_no_unrelated_or_quoting_page_is_reported(
    outcomes: Outcomes,
) -> None:
    false = [
        (o.case.kind, m.source_url, m.coverage)
        for o in _of(outcomes[1], "unrelated", "quote")
        for m in o.matches
    ]
    assert false == []


def test_copies_report_only_their_source(outcomes: Outcomes) -> None:
    copies = _of(outcomes[1], "full", "reordered", "edited", "excerpt")
    related = outcomes[2]
    extra = [
        (o.case.source_url, m.source_url)
        for o in copies
        for m in o.matches
        if m is not o.hit and (o.case.source_url, m.source_url) not in related
    ]
    assert extra == []


@pytest.mark.parametrize("kind", ["full", "reordered", "edited", "excerpt"])
def test_coverage_within_tolerance(outcomes: Outcomes, kind: str) -> None:
    config = outcomes[0].config
    off = []
    for o in _of(outcomes[1], kind):
        hit = o.hit
        if hit is not None and abs(hit.coverage - o.case.coverage) > COVERAGE_TOLERANCE:
            off.append((o.case.source_url, round(o.case.coverage, 3), round(hit.coverage, 3)))
        if hit is not None:
            assert hit.kind == config.kind_for(hit.coverage)
    assert off == []


def _mask(length: int, spans: list[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    for a, b in spans:
        mask[a:b] = True
    return mask


def test_pan_character_precision_and_recall(
    outcomes: Outcomes, capsys: pytest.CaptureFixture[str]
) -> None:
    index, results, _ = outcomes
    figures = {}
    for kind in ("full", "reordered", "edited", "excerpt"):
        overlap = detected = truth = 0
        for o in _of(results, kind):
            hit = o.hit
            if hit is None:
                continue
            source = index.get(o.case.source_url or "")
            assert source is not None
            for length, true_spans, found in (
                (
                    len(source.text),
                    o.case.source_spans,
                    [(p.source_start, p.source_end) for p in hit.passages],
                ),
                (
                    len(o.case.page),
                    o.case.page_spans,
                    [(p.page_start, p.page_end) for p in hit.passages],
                ),
            ):
                t, d = _mask(length, true_spans), _mask(length, found)
                overlap += int((t & d).sum())
                detected += int(d.sum())
                truth += int(t.sum())
        figures[kind] = (overlap / max(detected, 1), overlap / max(truth, 1))
    summary = []
    for kind in ("full", "reordered", "edited", "excerpt", "quote", "unrelated"):
        cases = _of(results, kind)
        hits = [o.hit for o in cases]
        errors = [abs(h.coverage - o.case.coverage) for o, h in zip(cases, hits, strict=True) if h]
        reported = sum(bool(o.matches) for o in cases)
        if kind in ("quote", "unrelated"):
            summary.append(f"{kind} n={len(cases)} reported={reported}")
        else:
            recall = sum(h is not None for h in hits) / len(cases)
            summary.append(f"{kind} n={len(cases)} recall={recall:.3f} max|dcov|={max(errors):.3f}")
    with capsys.disabled():
        print("\nmatch gate: " + "; ".join(summary))
        print(
            "match gate, PAN char precision/recall: "
            + ", ".join(f"{k} {p:.3f}/{r:.3f}" for k, (p, r) in figures.items())
        )
    low = {k: v for k, v in figures.items() if min(v) < PAN_FLOOR}
    assert low == {}
