"""What a copy changed in the original: inserted passages and changed facts (numbers, names,
quotations), each with the passage it sits in.

Pure functions over the source text, the page text and the match's passages. Alignment bridges
small gaps, so a changed figure sits inside a passage: each passage's source and page words are
compared token by token; a relative change of time or place, an honorific, an abbreviation or
a number written in another style is not a changed fact (`housestyle`). Text on the page
between two passages (inside the copy's span) that the original lacks is an insertion, when it
is part of the copy's article text: an image caption, a "Related" box, a newsletter promotion
or an ad slot between two paragraphs is the page's furniture, not an alteration of the story
(the extractor leaves it out of the article text).

In: a CheckContext. Out: a tuple of `Change`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.housestyle import is_style_edit, same_numbers
from xpostcheck.checks.textutil import norm, shorten

__all__ = ["Change", "changes", "word_count"]

_WORD = re.compile(r"\S+")
_NUMBER = re.compile(r"\d")
_QUOTES = '"\u201c\u201d\u00ab\u00bb\u201e'
_EDGE = ".,;:!?()[]'\u2018\u2019" + _QUOTES
_SAME_PASSAGE = 0.8  # word-level similarity under which two spans are not one passage edited
INSERTED_MIN_WORDS = 12  # page text between passages shorter than this is a caption or a link
_EDGE_WORDS = 2  # words at either end of a passage where a difference is not counted


@dataclass(frozen=True)
class Change:
    """One change: `what` is inserted, number, name, quotation or wording."""

    what: str
    original: str
    copy: str
    passage: str  # the copy's words around the change

    def describe(self) -> str:
        if self.what == "inserted":
            return f'inserted: "{shorten(self.copy, 160)}"'
        return f'{self.what} changed: "{self.original}" -> "{self.copy}" in "{self.passage}"'


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _words(text: str, base: int) -> list[tuple[str, int, int]]:
    return [(m.group(0), base + m.start(), base + m.end()) for m in _WORD.finditer(text)]


def _key(word: str) -> str:
    return word.strip(_EDGE).casefold()


_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "half",
        "third",
        "quarter",
        "dozen",
    ]
)


def _classify(old: list[str], new: list[str]) -> str:
    joined = " ".join(old + new)
    if any(_NUMBER.search(w) or _key(w) in _NUMBER_WORDS for w in old + new):
        return "number"
    if any(c in joined for c in _QUOTES) or any(w.startswith(("'", "\u2018")) for w in new):
        return "quotation"
    if any(w[:1].isupper() for w in old) or any(w[:1].isupper() for w in new):
        return "name"
    return "wording"


def _inside_quote(text: str, start: int) -> bool:
    before = text[text.rfind("\n", 0, start) + 1 : start]  # the paragraph so far
    return before.count('"') % 2 == 1 or before.count("\u201c") > before.count("\u201d")


def _all_text(text: str) -> str:
    return " ".join(text.split())


def _changes(
    source_text: str,
    page_text: str,
    spans: tuple[tuple[int, int, int, int], ...],
    body: Callable[[str], str] = _all_text,
) -> tuple[Change, ...]:
    """`body(text)`: the part of a stretch of page text that belongs to the copy's article text
    (by default all of it); only that part of an inserted stretch counts."""
    found: list[Change] = []
    by_page = sorted(spans, key=lambda s: s[2])
    for s_start, s_end, p_start, p_end in by_page:
        src = _words(source_text[s_start:s_end], s_start)
        pg = _words(page_text[p_start:p_end], p_start)
        a = [_key(w) for w, _, _ in src]
        b = [_key(w) for w, _, _ in pg]
        if Levenshtein.normalized_similarity(a, b) < _SAME_PASSAGE:
            continue  # not one passage in two versions: an offset the alignment did not give
        for op in Levenshtein.opcodes(a, b):
            if op.tag == "equal":
                continue
            if min(op.src_start, op.dest_start) < _EDGE_WORDS or (
                op.src_end > len(a) - _EDGE_WORDS or op.dest_end > len(b) - _EDGE_WORDS
            ):
                continue  # a passage's ends are where alignment guesses: not evidence
            old = [w for w, _, _ in src[op.src_start : op.src_end]]
            new = [w for w, _, _ in pg[op.dest_start : op.dest_end]]
            lo = max(0, op.dest_start - 6)
            hi = min(len(pg), op.dest_end + 6)
            context = " ".join(w for w, _, _ in pg[lo:hi])
            if not old and len(new) >= INSERTED_MIN_WORDS:
                inserted = body(page_text[pg[op.dest_start][1] : pg[op.dest_end - 1][2]])
                if word_count(inserted) >= INSERTED_MIN_WORDS:
                    found.append(Change("inserted", "", inserted, context))
                continue
            if not old or not new:
                continue  # a deletion is what coverage measures; a stray word is style
            what = _classify(old, new)
            if what == "wording" and _inside_quote(source_text, src[op.src_start][1]):
                what = "quotation"
            if what == "wording":
                continue  # house style and the like: not a fact
            if what != "quotation" and is_style_edit(old, new):
                continue  # "15%", "last week", "here", "Mr. Okafor": time, place and style
            if what == "number" and same_numbers(
                [w for w, _, _ in src[max(0, op.src_start - 3) : op.src_end + 3]],
                [w for w, _, _ in pg[max(0, op.dest_start - 3) : op.dest_end + 3]],
            ):
                continue  # "five to two" -> "5-2": the diff splits it, the numbers agree
            found.append(Change(what, " ".join(old), " ".join(new), shorten(context, 160)))
    # text the original lacks between passages, inside the copied span
    for (_, _, _, end), (_, _, start, _) in zip(by_page, by_page[1:], strict=False):
        gap = body(page_text[end:start]).strip(_EDGE + " ")
        if word_count(gap) >= INSERTED_MIN_WORDS:
            found.append(Change("inserted", "", gap, shorten(gap, 160)))
    return tuple(found)


def _article_body(ctx: CheckContext) -> Callable[[str], str]:
    """The lines of a stretch of page text that are the copy's article text: not an image
    caption, and found in the extractor's article text. All of it when that text is empty."""
    article = norm(ctx.page.text)
    if not article:
        return _all_text
    facts = ctx.page_facts

    def body(text: str) -> str:
        kept = []
        for line in text.splitlines():
            n = norm(line)
            if n and n in article and not facts.in_caption(line):
                kept.append(line)
        return _all_text(" ".join(kept))

    return body


def changes(ctx: CheckContext) -> tuple[Change, ...]:
    """Insertions and changed facts of the copy against the original."""
    spans = tuple(
        (p.source_start, p.source_end, p.page_start, p.page_end) for p in ctx.match.passages
    )
    return _changes(ctx.source.text, ctx.page.full_text, spans, _article_body(ctx))
