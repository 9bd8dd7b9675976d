"""Sentence seeds: pairs of sentences that share most of their content words, in any order.

In: a text's tokens (spans and hashes) and the text itself, for two texts. Out: seeds, as
token spans (source start, end, page start, end) with the content words the two sentences
share, for alignment to chain into passages.

An edited copy shuffles words inside a sentence, inserts and deletes a few, and swaps some
for synonyms: runs of identical tokens and even pairs of neighbouring content words break,
but the bag of a sentence's content words mostly survives. Two sentences are a seed when
they share at least ``_LEAST_SHARED`` distinct content words and their Dice coefficient
(twice the shared words over the sum of both sentences' distinct content words) is at least
``_LEAST_DICE``. A content word found in many sentences of the page pairs by chance and
counts for nothing.
"""

from __future__ import annotations

import re

import numpy as np

from xpostcheck.match.arrays import I64, U64

__all__ = ["Sentences", "sentence_seeds", "sentences"]

# A line break, or a stop followed by white space (of those six), a no-break space, a
# closing quote or bracket, or the end of the text.
_BOUNDARY = re.compile("\n|[.!?;:](?=[ \t\n\r\f\v\u00a0\"')\u201d\u2019\\]]|\\Z)")
_LONGEST = 40  # a sentence longer than this (tokens) is cut into pieces of this size
_LEAST_SHARED = 3  # distinct content words two sentences must share to be a seed ...
_LEAST_DICE = 0.4  # ... and at least this Dice coefficient of their content words
_COMMON = 8  # a content word in more sentences of either text than this pairs nothing

# Per text: for each sentence, its first and last token + 1; and the distinct content words
# of each sentence as (sentence, word hash), sorted by hash, with each sentence's word count.
Sentences = tuple[I64, I64, I64, U64, I64]


def _boundaries(text: str) -> I64:
    """Offsets of the characters that end a sentence: a line break, or one of ``. ! ? ; :``
    followed by white space, a closing quote or bracket, or the end of the text."""
    marks: I64 = np.fromiter((m.start() for m in _BOUNDARY.finditer(text)), dtype=np.int64)
    return marks


def sentences(text: str, starts: I64, ends: I64, hashes: U64, stop: U64) -> Sentences:
    """The sentences of a text and their distinct content words (stop words left out)."""
    n = int(starts.size)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=np.uint64), empty
    marks = _boundaries(text)
    # Token i starts a sentence when a boundary lies between token i - 1 and token i.
    cut = np.zeros(n, dtype=bool)
    cut[0] = True
    if marks.size and n > 1:
        before = np.searchsorted(marks, starts[1:])
        after = np.searchsorted(marks, ends[:-1])
        cut[1:] = before > after
    sid = np.cumsum(cut) - 1
    first = np.flatnonzero(cut)
    # Long sentences (lists, run-on text) are cut into pieces of _LONGEST tokens.
    offset = np.arange(n) - first[sid]
    cut |= (offset % _LONGEST == 0) & (offset > 0)
    sid = np.cumsum(cut) - 1
    first = np.flatnonzero(cut)
    last = np.append(first[1:], n)
    at = np.searchsorted(stop, hashes)
    content = stop[np.minimum(at, stop.size - 1)] != hashes
    words, owner = hashes[content], sid[content]
    order = np.lexsort((owner, words))
    words, owner = words[order], owner[order]
    keep = np.ones(words.size, dtype=bool)
    keep[1:] = (words[1:] != words[:-1]) | (owner[1:] != owner[:-1])
    words, owner = words[keep], owner[keep]
    sizes = np.bincount(owner, minlength=first.size).astype(np.int64)
    return first.astype(np.int64), last.astype(np.int64), owner.astype(np.int64), words, sizes


def _spread(words: U64) -> I64:
    """For each entry of a sorted word array, in how many sentences its word is."""
    lo = np.searchsorted(words, words, "left")
    hi = np.searchsorted(words, words, "right")
    spread: I64 = (hi - lo).astype(np.int64)
    return spread


def sentence_seeds(src: Sentences, page: Sentences) -> list[tuple[int, int, int, int, int]]:
    """Sentence pairs sharing most of their content words: (source start, end, page start,
    end, shared words), token spans, in source order."""
    s_first, s_last, s_owner, s_words, s_sizes = src
    p_first, p_last, p_owner, p_words, p_sizes = page
    if not s_words.size or not p_words.size:
        return []
    common = _spread(s_words) > _COMMON
    s_owner, s_words = s_owner[~common], s_words[~common]
    common = _spread(p_words) > _COMMON
    p_owner, p_words = p_owner[~common], p_words[~common]
    if not s_words.size or not p_words.size:
        return []
    lo = np.searchsorted(p_words, s_words, "left")
    count = np.searchsorted(p_words, s_words, "right") - lo
    total = int(count.sum())
    if total == 0:
        return []
    i = np.repeat(np.arange(s_words.size), count)
    j = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(total)
    width = np.int64(p_first.size)
    key = s_owner[i] * width + p_owner[j]
    pairs, shared = np.unique(key, return_counts=True)
    a, b = np.divmod(pairs, width)
    dice = 2.0 * shared / np.maximum(s_sizes[a] + p_sizes[b], 1)
    ok = (shared >= _LEAST_SHARED) & (dice >= _LEAST_DICE)
    a, b, shared = a[ok], b[ok], shared[ok]
    return list(
        zip(
            s_first[a].tolist(),
            s_last[a].tolist(),
            p_first[b].tolist(),
            p_last[b].tolist(),
            shared.tolist(),
            strict=True,
        )
    )
