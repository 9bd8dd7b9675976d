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

from xpostcheck.match.align import _STOP, Alignment, Prepared, _runs, aligned, matched_tokens
from xpostcheck.match.arrays import I32, I64
from xpostcheck.match.bridge import content_mask
from xpostcheck.match.config import MatchConfig

__all__ = ["is_copy", "judge", "quotation_ids", "verbatim_evidence"]

Bools = npt.NDArray[np.bool_]

# Quotation marks: curly and guillemets open and close by themselves; a straight double
# quote or a single curly one opens when it follows a space or an opening bracket and comes
# before a non-space, and closes when it follows a non-space and comes before no letter or
# digit (an apostrophe inside a word, "don’t", closes nothing).
_WORDS = 2  # lower-case content words (not stop words) a run of own wording needs
_MARKS = re.compile('["“”«»„‘’]')
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
        if opened >= 0 and text.find("\n", opened, at) >= 0:
            opened = -1  # left open at the end of its paragraph
        ch = text[at]
        after = text[at + 1] if at + 1 < n else " "
        if ch == "’" and after.isalnum():
            continue  # an apostrophe inside a word (the most common mark)
        before = text[at - 1] if at else " "
        if ch in _CURLY_OPEN:
            opened = at
        elif ch in _CURLY_CLOSE or (opened >= 0 and not before.isspace() and not after.isalnum()):
            if opened >= 0:
                spans.append((opened, at))
            opened = -1
        elif ch != "’" and before in _OPENS_AFTER and not after.isspace():
            opened = at
    return spans


def quotation_ids(text: str, starts: I64) -> I32:
    """For each token (by its start offset), the number of the quotation it lies inside,
    counted from 1; 0 outside any."""
    spans = np.array(_quotations(text), dtype=np.int64).reshape(-1, 2)
    marks = np.zeros(starts.size + 1, dtype=np.int32)
    numbers = np.arange(1, len(spans) + 1, dtype=np.int32)
    # Quotations do not overlap: each adds its number from its first token to its last.
    np.add.at(marks, np.searchsorted(starts, spans[:, 0]), numbers)
    np.add.at(marks, np.searchsorted(starts, spans[:, 1]), -numbers)
    ids: I32 = np.cumsum(marks[:-1], dtype=np.int32)
    return ids


def _quoted(p: Prepared) -> I32:
    """The quotation ids of a prepared text, kept with it (a source is aligned with many
    pages, a page with many sources)."""
    if p.quoted is None:
        p.quoted = quotation_ids(p.text, p.tokens.starts)
    return p.quoted


def _capitalised(text: str, starts: I64) -> Bools:
    """For each token, whether it starts with a capital letter (looked up in Python only
    for the tokens that do not start with an ASCII character)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    first = points[starts] if starts.size else np.zeros(0, dtype=np.uint32)
    upper: Bools = (first >= 65) & (first <= 90)
    for at in np.flatnonzero(first > 127).tolist():
        upper[at] = text[int(starts[at])].isupper()
    return upper


def _ranges(starts: I64, lengths: I64) -> tuple[I64, I64]:
    """The positions of consecutive ranges laid end to end, and where each range begins in
    that list."""
    begins = np.cumsum(lengths) - lengths
    offsets = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(begins, lengths)
    return np.repeat(starts, lengths) + offsets, begins


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
    # (`prepare` keeps the text its tokens came from: there is always one to read here)
    quoted = _quoted(src)
    own_src = covered & (quoted == 0)
    worded = own_src & ~_capitalised(src.text, src.tokens.starts) & content_mask(src.hashes, _STOP)
    page_quoted = _quoted(page) > 0
    # Every run's tokens laid end to end (source and page positions), summed per run.
    run_src, run_page, length = (np.array(c, dtype=np.int64) for c in zip(*found, strict=True))
    at_src, begins = _ranges(run_src, length)
    at_page, _ = _ranges(run_page, length)
    free = ~page_quoted[at_page]
    own = np.add.reduceat((own_src[at_src] & free).astype(np.int64), begins)
    words = np.add.reduceat((worded[at_src] & free).astype(np.int64), begins)
    ids = quoted[at_src]
    highest = np.maximum.reduceat(ids, begins)
    lowest = np.minimum.reduceat(np.where(ids > 0, ids, np.iinfo(np.int32).max), begins)
    joined = (highest > 0) & (highest > lowest)
    chosen = ((own >= k) & (words >= _WORDS)) | joined
    if not chosen.any():
        return 0, 0
    inside_runs = np.add.reduceat(covered[at_src].astype(np.int64), begins)
    longest = int(np.where(joined, inside_runs, own)[chosen].max())
    evidence = np.zeros(len(src.tokens) + 1, dtype=np.int32)
    np.add.at(evidence, run_src[chosen], 1)
    np.add.at(evidence, run_src[chosen] + length[chosen], -1)
    return int((covered & (np.cumsum(evidence)[:-1] > 0)).sum()), longest


def is_copy(src: Prepared, page: Prepared, spans: list[list[int]], config: MatchConfig) -> bool:
    """Whether aligned passages make a copy, as a scan decides: enough of the source and
    not a quotation inside a longer page (``MatchConfig.is_copy``), and, with the copy
    thresholds on, verbatim evidence: ``min_exact_share`` of the matched words in evidence
    runs and one run of twice ``shingle`` tokens of own wording."""
    matched = matched_tokens(spans)
    coverage = matched / max(len(src.tokens), 1)
    if not config.is_copy(coverage, matched, len(page.tokens)):
        return False
    if not config.min_words:
        return True
    k = config.shingle
    exact, longest = verbatim_evidence(src, page, spans, k)
    return exact >= config.min_exact_share * matched and longest >= 2 * k


def judge(
    source_text: str, page_text: str, config: MatchConfig | None = None
) -> tuple[Alignment, bool]:
    """One source against one page without an index: the alignment, and whether a scan
    would report it as a copy (``is_copy``)."""
    cfg = config or MatchConfig()
    src, page, spans, found = aligned(source_text, page_text, cfg)
    return found, bool(spans) and is_copy(src, page, spans, cfg)
