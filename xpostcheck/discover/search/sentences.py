"""Distinctive sentences: what to ask a search engine for, a few per article.

In: the publisher's articles. Out: per article, a few `Query`s, each a verbatim stretch of one
sentence (at most `max_words` tokens) that a copy of the article would carry word for word.

A sentence is a good query when its words are rare. Rarity is measured on the publisher's own
articles (a word found in few of them weighs more; stop words weigh nothing), so a phrase the
publisher uses everywhere, or a sentence that is not the article's own, never wins. Skipped
outright: short sentences, bylines, credits and captions, links, sign-up and republishing
notices, and any sentence found in more than one article (boilerplate). A long sentence gives
its best stretch of `max_words` tokens. The first pick comes from the article's opening, since
excerpts copy the opening; the others are the best of the rest, never neighbours of a pick.

Pure functions; no network.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import STOP_WORDS, normalize_text, tokenize

__all__ = ["Query", "SentencePicker", "pick_queries"]

MIN_WORDS = 8  # a shorter sentence is too common to find one article
MAX_WORDS = 20  # longest query, in tokens: engines cap phrase length, copies edit long ones
OPENING_SHARE = 0.3  # the first pick comes from this share of the article's sentences

# After these a sentence ends (an abbreviation splits too; each part is still verbatim).
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][\"'\u201d\u2019)\]]))\s+|(?<=[\u3002\uff01\uff1f])|\n+"
)
_QUOTES = re.compile('["\u201c\u201d\u201e\u201f\u00ab\u00bb\uff02]')
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero widths

# Lines a copy may well change or drop, or that every article of the publisher carries.
_BOILERPLATE = re.compile(
    r"(?:\u00a9|\(c\)|copyright|all rights reserved|photo(?:graph)?s?\s*(?::|by\b)|image\s*:"
    r"|credits?\s*:|courtesy of|getty images|\bap photo\b|file photo|originally (?:published|"
    r"appeared)|republish|this (?:article|story) (?:was|first|is)|subscribe|newsletter"
    r"|sign up|follow us|click here|read more|donate|support our|contact us|share this"
    r"|reported from|contributed (?:reporting|to this)|additional reporting|editing by"
    r"|https?://|www\.|\S+@\S+\.\w+)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^\s*(?:by|written by|reported by|story by|words by)\s", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    """One sentence (or its best stretch) to search for, for one article."""

    article_url: str
    text: str  # verbatim from the article, double quotes removed
    score: float  # mean rarity of its words; higher is more distinctive
    position: int  # the sentence's index among the article's sentences


@dataclass(frozen=True)
class _Sentence:
    index: int
    text: str
    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order (paragraph breaks end a sentence)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _sentences(text: str) -> list[_Sentence]:
    out = []
    for index, sentence in enumerate(split_sentences(text)):
        tokens = tokenize(sentence)
        out.append(
            _Sentence(
                index,
                sentence,
                tokens.words,
                tuple(int(i) for i in tokens.starts),
                tuple(int(i) for i in tokens.ends),
            )
        )
    return out


def _is_credit(sentence: _Sentence, authors: Sequence[str]) -> bool:
    """A byline, credit, caption or notice rather than the article's own prose."""
    if _BYLINE.match(sentence.text) or _BOILERPLATE.search(sentence.text):
        return True
    folded = normalize_text(sentence.text)
    short = len(sentence.words) < 2 * MIN_WORDS
    return short and any(a.strip() and normalize_text(a) in folded for a in authors)


def _is_prose(words: Sequence[str]) -> bool:
    """Mostly words, not numbers, codes or a list of names."""
    letters = sum(1 for w in words if not w.isdigit())
    return letters >= 0.7 * len(words)


class SentencePicker:
    """Word rarity across one publisher's articles, and the queries it makes of each."""

    def __init__(
        self,
        articles: Sequence[SourceArticle],
        *,
        max_words: int = MAX_WORDS,
        min_words: int = MIN_WORDS,
    ) -> None:
        if min_words < 1 or max_words < min_words:
            raise ValueError("need 1 <= min_words <= max_words")
        self.max_words = max_words
        self.min_words = min_words
        self._sentences = {a.url: _sentences(a.text) for a in articles}
        doc_freq: Counter[str] = Counter()
        sentence_freq: Counter[str] = Counter()
        for sentences in self._sentences.values():
            doc_freq.update({w for s in sentences for w in s.words})
            sentence_freq.update({" ".join(s.words) for s in sentences if s.words})
        self._doc_freq = doc_freq
        self._shared = {key for key, n in sentence_freq.items() if n > 1}
        self._n = len(self._sentences)

    def weight(self, word: str) -> float:
        """How much `word` says about one article: 0 for stop words and single characters of
        spaced scripts; else the smoothed inverse document frequency, plus a little for
        length (which alone orders the words when there are few articles)."""
        if word in STOP_WORDS or (len(word) == 1 and word.isascii()):
            return 0.0
        idf = math.log((self._n + 1) / (self._doc_freq.get(word, 0) + 0.5))
        return max(idf, 0.0) + 0.05 * min(len(word), 10)

    def _best_stretch(self, sentence: _Sentence) -> tuple[float, int, int]:
        """(score, first token, end token) of the sentence's most distinctive stretch."""
        weights = [self.weight(w) for w in sentence.words]
        size = min(len(weights), self.max_words)
        best_sum, best_start = sum(weights[:size]), 0
        running = best_sum
        for start in range(1, len(weights) - size + 1):
            running += weights[start + size - 1] - weights[start - 1]
            if running > best_sum:
                best_sum, best_start = running, start
        # Dense short sentences win over long ones, but a very short one is a weak query.
        score = best_sum / size * min(1.0, size / 12)
        return score, best_start, best_start + size

    def candidates(self, article: SourceArticle) -> list[Query]:
        """Every usable sentence of `article` as a query, best first."""
        out = []
        for sentence in self._sentences.get(article.url, []):
            words = sentence.words
            if len(words) < self.min_words or not _is_prose(words):
                continue
            if " ".join(words) in self._shared or _is_credit(sentence, article.authors):
                continue
            score, first, end = self._best_stretch(sentence)
            if score <= 0:
                continue
            raw = sentence.text[sentence.starts[first] : sentence.ends[end - 1]]
            text = _SPACES.sub(" ", _QUOTES.sub(" ", _INVISIBLE.sub("", raw))).strip()
            out.append(Query(article.url, text, round(score, 4), sentence.index))
        out.sort(key=lambda q: (-q.score, q.position))
        return out

    def pick(self, article: SourceArticle, count: int) -> list[Query]:
        """Up to `count` queries for `article`: the best of its opening first, then the best
        of the rest; no two from neighbouring sentences."""
        ranked = self.candidates(article)
        if not ranked or count <= 0:
            return []
        total = len(self._sentences.get(article.url, []))
        opening = max(3, math.ceil(total * OPENING_SHARE))
        first = next((q for q in ranked if q.position < opening), ranked[0])
        chosen = [first]
        for query in ranked:
            if len(chosen) >= count:
                break
            if all(abs(query.position - c.position) > 1 for c in chosen):
                chosen.append(query)
        return chosen


def pick_queries(
    articles: Sequence[SourceArticle], per_article: int, *, max_words: int = MAX_WORDS
) -> dict[str, list[Query]]:
    """Up to `per_article` queries for each article, by article URL (an article with no
    usable sentence gets an empty list)."""
    picker = SentencePicker(articles, max_words=max_words)
    return {a.url: picker.pick(a, per_article) for a in articles}
