"""What a copy's verbatim evidence is: shared wording, not shared quotations or names.

Two reporters covering one event share much without copying each other: the words they
both quote (a statement, a court filing), the names they both write (people, agencies,
titles), and facts in other words. The alignment joins such pieces into passages as it joins
the pieces of an edited copy, so the copy thresholds ask for evidence only copying leaves:
verbatim runs of the writer's own wording. A token is own wording when it lies inside no
quotation in either text. A verbatim run is evidence when it holds at least ``shingle`` tokens
of own wording, two of them lower-case content words (not stop words, not capitalised: a run
that is an agency's name, "the U.S. Attorney's Office for the Western District of New York",
is not), or when it holds two of the source's quotations with the words between them (a copy
of a text that quotes much keeps its attributions, "she said in a statement", between the
quotations).

On the Zyte article benchmark, independent reports of one event (two outlets on one court
case, one earnings report, one tour announcement) aligned as copies under the old rule (any
verbatim run), five of them partial copies at 0.52-0.73 of the source; under this one none
is a copy. Verbatim copies of the PAN 2013 corpus all stay copies (docs/matching.md, "What
counts as a copy").

In: the two Prepared texts and the passages (token spans). Out: the source tokens of evidence
runs inside the passages, and the most own-wording tokens in one run.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from xpostcheck.match.align import _STOP, Prepared, _runs
from xpostcheck.match.arrays import I32, I64
from xpostcheck.match.bridge import content_mask

__all__ = ["quotation_ids", "verbatim_evidence"]

Bools = npt.NDArray[np.bool_]

# Quotation marks: curly and guillemets open and close by themselves; a straight double
# quote or a single curly one opens when it follows a space or an opening bracket and comes
# before a non-space, and closes when it follows a non-space and comes before no letter or
# digit (an apostrophe inside a word, "don’t", closes nothing).
_WORDS = 2  # lower-case content words (not stop words) a run of own wording needs
_MARKS = re.compile('["“”«»„‘’\n]')
_OPENS_AFTER = frozenset(" \t\r\n([{—–-/")
_CURLY_OPEN = frozenset("“«„")
_CURLY_CLOSE = frozenset("”»")


def _quotations(text: str) -> list[tuple[int, int]]:
    """Character spans of the quotations of a text, each inside one paragraph (a mark left
    open at a line's end quotes nothing)."""
    spans: list[tuple[int, int]] = []
    opened = -1
    n = len(text)
    for m in _MARKS.finditer(text):
        at = m.start()
        ch = text[at]
        if ch == "\n":
            opened = -1
            continue
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < n else " "
        opening = before in _OPENS_AFTER and not after.isspace()
        closing = not before.isspace() and not after.isalnum()
        if ch in _CURLY_OPEN:
            opened = at
        elif ch in _CURLY_CLOSE or (ch in '"’' and closing and opened >= 0):
            if opened >= 0:
                spans.append((opened, at))
            opened = -1
        elif ch in '"‘' and opening:
            opened = at
    return spans


def quotation_ids(text: str, starts: I64) -> I32:
    """For each token (by its start offset), the number of the quotation it lies inside,
    counted from 1; 0 outside any."""
    ids = np.zeros(starts.size, dtype=np.int32)
    for number, (begin, end) in enumerate(_quotations(text), 1):
        ids[np.searchsorted(starts, begin) : np.searchsorted(starts, end)] = number
    return ids


def _capitalised(text: str, starts: I64) -> Bools:
    """For each token, whether it starts with a capital letter."""
    return np.fromiter((text[s].isupper() for s in starts.tolist()), dtype=bool, count=starts.size)


def verbatim_evidence(
    src: Prepared, page: Prepared, spans: list[list[int]], k: int
) -> tuple[int, int]:
    """Inside the passages: the source tokens of verbatim runs (at least ``k`` tokens) that
    are evidence of copying, and the most evidence one run gives (its own-wording tokens, or
    all its tokens when it joins two quotations). A token is own wording when it is quoted in
    neither text; a run is evidence when it holds ``k`` tokens of own wording, ``_WORDS`` of
    them lower-case content words, or two of the source's quotations with the words between
    them."""
    inside = np.zeros(len(src.tokens) + 1, dtype=np.int32)
    for s0, s1, *_ in spans:
        inside[s0] += 1
        inside[s1] -= 1
    covered = np.cumsum(inside)[:-1] > 0
    found = _runs(src, page, k)
    if not found:
        return 0, 0
    if src.text and page.text:
        starts = src.tokens.starts
        quoted = quotation_ids(src.text, starts)
        own_src = covered & (quoted == 0)
        worded = own_src & ~_capitalised(src.text, starts) & content_mask(src.hashes, _STOP)
        page_quoted = quotation_ids(page.text, page.tokens.starts) > 0
    else:  # no text to read quotations and capitals in: every token is own wording
        quoted = np.zeros(len(src.tokens), dtype=np.int32)
        own_src, page_quoted = covered, np.zeros(len(page.tokens), dtype=bool)
        worded = covered
    evidence = np.zeros(len(src.tokens) + 1, dtype=np.int32)
    longest = 0
    for si, pj, n in found:
        free = ~page_quoted[pj : pj + n]
        own = int((own_src[si : si + n] & free).sum())
        words = int((worded[si : si + n] & free).sum())
        ids = quoted[si : si + n]
        joined = ids.max() > ids[ids > 0].min(initial=ids.max())
        if (own >= k and words >= _WORDS) or joined:
            evidence[si] += 1
            evidence[si + n] -= 1
            longest = max(longest, int(covered[si : si + n].sum()) if joined else own)
    return int((covered & (np.cumsum(evidence)[:-1] > 0)).sum()), longest
