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
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from xpostcheck.models import SourceArticle
from xpostcheck.util.textnorm import STOP_WORDS, normalize_text, tokenize

__all__ = ["Query", "SentencePicker", "pick_queries"]

MIN_WORDS = 8  # a shorter sentence is too common to find one article
MAX_WORDS = 20  # longest query, in tokens: engines cap phrase length, copies edit long ones
MAX_WORD = 24  # a longer token is an id, a hash or glued markup, not a word
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
    r"|https?://|www\.)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.\w")
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
    words: list[str]
    starts: list[int]  # each word's offsets in `text`
    ends: list[int]


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """[start, end) of each sentence of `text`, without surrounding spaces."""
    begin = 0
    for match in chain(_SENTENCE_END.finditer(text), (None,)):
        stop = match.start() if match else len(text)
        part = text[begin:stop]
        kept = part.strip()
        if kept:
            a = begin + len(part) - len(part.lstrip())
            yield a, a + len(kept)
        if match:
            begin = match.end()


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, stripped, in order (paragraph breaks end a sentence)."""
    return [text[a:b] for a, b in _spans(text)]


def _sentences(text: str) -> list[_Sentence]:
    """The sentences of `text` with their words, the text tokenised once."""
    tokens = tokenize(text)
    words = tokens.words
    starts: list[int] = tokens.starts.tolist()
    ends: list[int] = tokens.ends.tolist()
    out = []
    i = 0
    for index, (a, b) in enumerate(_spans(text)):
        i = bisect_left(starts, a, i)
        j = bisect_left(starts, b, i)
        out.append(
            _Sentence(
                index,
                text[a:b],
                list(words[i:j]),
                [x - a for x in starts[i:j]],
                [x - a for x in ends[i:j]],
            )
        )
        i = j
    return out


def _is_credit(text: str, authors: Sequence[str]) -> bool:
    """A byline, credit, caption or notice rather than the article's own prose."""
    if _BYLINE.match(text) or _BOILERPLATE.search(text):
        return True
    if "@" in text and _EMAIL.search(text):
        return True
    if not authors or len(text.split()) >= 2 * MIN_WORDS:
        return False
    folded = normalize_text(text)
    return any(a.strip() and normalize_text(a) in folded for a in authors)


def _is_prose(words: Sequence[str]) -> bool:
    """Mostly words, not numbers, codes, ids or markup."""
    letters = sum(1 for w in words if w.isalpha() and len(w) <= MAX_WORD)
    return letters >= 0.8 * len(words)


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
        doc_freq: Counter[str] = Counter()
        sentence_freq: Counter[int] = Counter()
        for article in articles:
            sentences = _sentences(article.text)
            doc_freq.update({w for s in sentences for w in s.words})
            sentence_freq.update({hash(" ".join(s.words)) for s in sentences if s.words})
        self._doc_freq = doc_freq
        self._shared = {key for key, n in sentence_freq.items() if n > 1}
        self._n = len(articles)
        self._weights: dict[str, float] = {}

    def weight(self, word: str) -> float:
        """How much `word` says about one article: 0 for stop words, single characters of
        spaced scripts and runs too long to be a word; else the smoothed inverse document
        frequency, plus a little for length (which alone orders the words when there are
        few articles). A token with digits (an id, a date, a code) weighs half, at most."""
        known = self._weights.get(word)
        if known is not None:
            return known
        if word in STOP_WORDS or (len(word) == 1 and word.isascii()) or len(word) > MAX_WORD:
            value = 0.0
        else:
            idf = math.log((self._n + 1) / (self._doc_freq.get(word, 0) + 0.5))
            value = max(idf, 0.0) + 0.05 * min(len(word), 10)
            if not word.isalpha():
                value = min(value, 1.0) / 2
        self._weights[word] = value
        return value

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

    def _ranked(self, article: SourceArticle) -> tuple[list[tuple[Query, str]], int]:
        """The article's prose sentences as (query, whole sentence), best first, not yet
        checked for credits (the costly test, made only on what is about to be picked); and
        how many sentences the article has."""
        scored = []
        sentences = _sentences(article.text)
        for sentence in sentences:
            words = sentence.words
            if len(words) < self.min_words or not _is_prose(words):
                continue
            if hash(" ".join(words)) in self._shared:
                continue
            score, first, end = self._best_stretch(sentence)
            if score > 0:
                scored.append((-score, sentence.index, sentence, first, end))
        scored.sort(key=lambda row: row[:2])
        out = []
        for neg, _, sentence, first, end in scored:
            raw = sentence.text[sentence.starts[first] : sentence.ends[end - 1]]
            text = _SPACES.sub(" ", _QUOTES.sub(" ", _INVISIBLE.sub("", raw))).strip()
            out.append((Query(article.url, text, round(-neg, 4), sentence.index), sentence.text))
        return out, len(sentences)

    def candidates(self, article: SourceArticle) -> list[Query]:
        """Every usable sentence of `article` as a query, best first."""
        ranked, _ = self._ranked(article)
        seen: set[str] = set()
        out = []
        for query, sentence in ranked:
            if query.text not in seen and not _is_credit(sentence, article.authors):
                seen.add(query.text)
                out.append(query)
        return out

    def pick(self, article: SourceArticle, count: int) -> list[Query]:
        """Up to `count` queries for `article`: the best of its opening first, then the best
        of the rest; no two alike or from neighbouring sentences."""
        ranked, total = self._ranked(article)
        opening = max(3, math.ceil(total * OPENING_SHARE))
        chosen: list[Query] = []

        def take(query: Query, sentence: str) -> bool:
            if any(abs(query.position - c.position) <= 1 or query.text == c.text for c in chosen):
                return False
            if _is_credit(sentence, article.authors):
                return False
            chosen.append(query)
            return True

        for query, sentence in ranked:  # the best of the opening first
            if count > 0 and query.position < opening and take(query, sentence):
                break
        for query, sentence in ranked:
            if len(chosen) >= count:
                break
            take(query, sentence)
        return chosen


def pick_queries(
    articles: Sequence[SourceArticle], per_article: int, *, max_words: int = MAX_WORDS
) -> dict[str, list[Query]]:
    """Up to `per_article` queries for each article, by article URL (an article with no
    usable sentence gets an empty list)."""
    picker = SentencePicker(articles, max_words=max_words)
    return {a.url: picker.pick(a, per_article) for a in articles}
