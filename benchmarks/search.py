"""Which sentences to search for: the picker against simple choices, on PAN 2013. ONE JSON line.

    python benchmarks/search.py                   # every source document and pair
    python benchmarks/search.py --per-article 2   # two queries per article

Search discovery asks a search engine for a few phrases of each article; a copy is found only
when it carries one of them word for word, and a phrase that other pages carry too brings
candidates that are no copy. On the PAN 2013 text alignment training corpus (3,230 source
documents; suspicious documents that copy passages of a source verbatim, with words shuffled
and replaced, translated and back, or summarised), for each way of choosing phrases:

- `found`: the share of copying pairs (per subset) where the suspicious document carries at
  least one phrase of its source, token for token (what a phrase search needs);
- `false_pairs`: the share of the 1,000 pairs that copy nothing where it does (should be 0);
- `foreign`: the share of phrases found in another source document (independent web pages;
  the suspicious documents are left out, since they copy more sources than the pairs list):
  a phrase that would bring candidates that are no copy;
- `queries`: phrases per source on average.

Ways of choosing, each `--per-article` phrases of at most 20 tokens from sentences of at least
8: `rare` (xpostcheck's picker: rare words across the publisher's articles, no boilerplate,
the opening first), `first` (the first sentences), `longest` (the longest sentences), `random`
(sentences drawn at random, seed 0). `pick_vs_tokenize` is the picker's time (both passes over
every source) over the time to tokenise the same texts once, measured side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from pan import CORPUS, SHORT, SUBSETS, load_corpus

from xpostcheck.discover.search.sentences import MAX_WORDS, MIN_WORDS, SentencePicker, _spans
from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import tokenize

KEY = 8  # tokens of the first shingle used to find where a phrase occurs

Phrase = tuple[str, ...]


def _sentence_tokens(text: str) -> list[Phrase]:
    """Each sentence's tokens (at least MIN_WORDS), in order, the first MAX_WORDS of each."""
    out = []
    for a, b in _spans(text):
        words = tokenize(text[a:b]).words
        if len(words) >= MIN_WORDS:
            out.append(tuple(words[:MAX_WORDS]))
    return out


def baseline(texts: dict[str, str], how: str, k: int) -> dict[str, list[Phrase]]:
    rng = random.Random(0)
    out = {}
    for name, text in texts.items():
        sentences = _sentence_tokens(text)
        if how == "first":
            chosen = sentences[:k]
        elif how == "longest":
            chosen = sorted(sentences, key=len, reverse=True)[:k]
        else:
            chosen = rng.sample(sentences, min(k, len(sentences)))
        out[name] = chosen
    return out


def picked(texts: dict[str, str], k: int) -> tuple[dict[str, list[Phrase]], float]:
    """The picker's phrases, and its time over the time to tokenise the texts once."""
    articles = [SourceArticle(url=name, title="", text=text) for name, text in texts.items()]
    start = time.perf_counter()
    words = sum(len(tokenize(article.text).words) for article in articles)
    tokenising = time.perf_counter() - start
    start = time.perf_counter()
    picker = SentencePicker(articles)
    queries = {a.url: picker.pick(a, k) for a in articles}
    picking = time.perf_counter() - start
    phrases = {url: [tuple(tokenize(q.text).words) for q in qs] for url, qs in queries.items()}
    assert words > 0, "no text to pick from"
    return phrases, picking / tokenising


def occurrences(
    phrases: dict[str, list[Phrase]], docs: dict[str, tuple[str, ...]]
) -> dict[Phrase, set[str]]:
    """The documents each phrase occurs in, token for token."""
    by_key: dict[Phrase, list[Phrase]] = defaultdict(list)
    for found in phrases.values():
        for phrase in found:
            by_key[phrase[:KEY]].append(phrase)
    where: dict[Phrase, set[str]] = defaultdict(set)
    for name, words in docs.items():
        joined: str | None = None
        for i in range(len(words) - KEY + 1):
            candidates = by_key.get(words[i : i + KEY])
            if not candidates:
                continue
            joined = joined or " " + " ".join(words) + " "
            for phrase in candidates:
                if " " + " ".join(phrase) + " " in joined:
                    where[phrase].add(name)
    return where


def measure(
    phrases: dict[str, list[Phrase]],
    docs: dict[str, tuple[str, ...]],
    pairs: dict[str, list[tuple[str, str]]],
) -> dict[str, object]:
    where = occurrences(phrases, docs)

    def carries(susp: str, src: str) -> bool:
        return any(f"susp/{susp}" in where.get(p, ()) for p in phrases.get(f"src/{src}", []))

    found = {
        SHORT[s]: round(sum(carries(a, b) for a, b in pairs[s]) / max(len(pairs[s]), 1), 4)
        for s in SUBSETS[1:]
    }
    negative = pairs[SUBSETS[0]]
    false_pairs = sum(carries(a, b) for a, b in negative) / max(len(negative), 1)
    total = foreign = 0
    for src, found_phrases in phrases.items():
        for phrase in found_phrases:
            total += 1
            if any(d != src and d.startswith("src/") for d in where.get(phrase, ())):
                foreign += 1
    return {
        "found": found,
        "false_pairs": round(false_pairs, 4),
        "foreign": round(foreign / max(total, 1), 4),
        "queries": round(total / max(len(phrases), 1), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--per-article", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=None, help="pairs per subset (all)")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.corpus, limit=args.pairs)
    sources = {k: v for k, v in corpus.texts.items() if k.startswith("src/")}
    docs = {k: tokenize(v).words for k, v in corpus.texts.items()}
    rare, ratio = picked(sources, args.per_article)
    strategies = {"rare": rare}
    for how in ("first", "longest", "random"):
        strategies[how] = baseline(sources, how, args.per_article)
    result = {
        "benchmark": "search_sentences",
        "sources": len(sources),
        "documents": len(docs),
        "per_article": args.per_article,
        "pairs": {SHORT[s]: len(corpus.pairs[s]) for s in SUBSETS},
        "strategies": {name: measure(p, docs, corpus.pairs) for name, p in strategies.items()},
        "pick_vs_tokenize": round(ratio, 2),
    }
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
