"""Bridging: neighbouring passages of one edited copy joined into one, when the gap between
them is an edit and not text left out.

In: passages as token spans with their weights ([source start, end, page start, end, matched
tokens, tokens in tiles]), the two texts' token hashes, the source's sentences and the stop
words. Out: the passages, some joined.

An edited copy comes out of tiling and seeding in pieces: words deleted inside a sentence
leave a gap in the source only; a sentence rewritten beyond what seeds catch leaves a gap on
both sides; neighbouring sentences swapped leave two pieces in reverse order on the page.
Two passages are joined when they are neighbours in the source and

- the gap in the source is small (``near`` tokens) and holds no whole sentence, and the two
  lie near each other on the page (words cut), or overlap there, or are swapped inside one
  paragraph of the source or one of them is a short line (paragraphs moved on the page stay
  apart, each visible); or
- both gaps are in order, at most ``far`` tokens each, and share enough of their content
  words (Dice coefficient) to be one text rewritten: a sentence left out of the copy leaves
  a gap on the page that is empty or unrelated, and is never bridged.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from xpostcheck.match.arrays import I64, U64

__all__ = ["alike", "bridged", "content_mask", "edges", "line_starts"]

_NEWLINE = re.compile("\n")
_LEAST_SHARED = 3  # content words two gaps must share to be one text rewritten ...
_LEAST_DICE = 0.3  # ... and at least this Dice coefficient of their distinct content words
_LINE = 20  # a piece shorter than this (tokens) is a line, not a paragraph
_EDITED_WEIGHT = 2  # an edited passage holds this many times ``least`` matched tokens
_LOOSE_DICE = 0.5  # a passage with few tiled tokens shares this much of its content words
_EDGE_DICE = 0.5  # the rest of a passage's sentences shares this much of its tokens ...
_EDGE_CUT = 8  # ... or is at most this many tokens on one side only


def content_mask(hashes: U64, stop: U64) -> npt.NDArray[np.bool_]:
    """Which tokens are content words (not among the sorted ``stop`` word hashes)."""
    at = np.minimum(np.searchsorted(stop, hashes), stop.size - 1)
    mask: npt.NDArray[np.bool_] = stop[at] != hashes
    return mask


def line_starts(text: str, starts: I64) -> I64:
    """The tokens that start a line (a line break before them), ascending."""
    breaks = np.array([m.start() for m in _NEWLINE.finditer(text)], dtype=np.int64)
    lines: I64 = np.unique(np.searchsorted(starts, breaks))
    return lines


def _holds_sentence(first: I64, last: I64, start: int, end: int) -> bool:
    """Whether a whole sentence lies inside the token span [start, end)."""
    k = int(np.searchsorted(first, start, "left"))
    return k < first.size and int(last[k]) <= end


def _breaks(lines: I64, start: int, end: int) -> bool:
    """Whether a line starts at a token of [start, end]: the two sides of the gap are in
    different paragraphs."""
    k = int(np.searchsorted(lines, start, "left"))
    return k < lines.size and int(lines[k]) <= end


def _similar(src: U64, page: U64, dice: float = _LEAST_DICE) -> bool:
    """Two spans' content words (stop words already left out) alike enough to be one text."""
    a, b = np.unique(src), np.unique(page)
    if a.size < _LEAST_SHARED or b.size < _LEAST_SHARED:
        return False
    shared = int(np.intersect1d(a, b, assume_unique=True).size)
    return shared >= _LEAST_SHARED and 2.0 * shared >= dice * (a.size + b.size)


def _alone(chains: list[list[int]], gap: int) -> list[bool]:
    """For passages in source order: whether no other passage lies within ``gap`` tokens of
    it in the source."""
    alone = [True] * len(chains)
    reach = -(10**9)  # the furthest end of the passages before
    for n, c in enumerate(chains):
        if c[0] - reach <= gap:
            alone[n] = False
        if n + 1 < len(chains) and chains[n + 1][0] - c[1] <= gap:
            alone[n] = False
        reach = max(reach, c[1])
    return alone


def alike(
    chains: list[list[int]],
    hashes: tuple[U64, U64],
    content: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]],
    least: int,
    gap: int,
) -> list[list[int]]:
    """Edited passages (not all their matched tokens in tiles) that are evidence of a copy,
    and every exact one. An edited passage standing alone (no other within ``gap`` tokens
    in the source) holds ``_EDITED_WEIGHT`` times ``least`` matched tokens: a piece of a
    larger copy may be small, a lone one is a phrase. With fewer than ``least`` tokens in
    tiles, its two sides also share at least half their distinct content words (Dice
    coefficient): a copy edited word by word keeps most of its vocabulary, while two texts
    on one topic share names and terms (seeds) but not most of their words."""
    chains = sorted(chains)
    alone = _alone(chains, gap)
    return [
        c
        for c, lone in zip(chains, alone, strict=True)
        if c[5] == c[4]
        or (not lone or c[4] >= _EDITED_WEIGHT * least)
        and (
            c[5] >= least
            or _similar(
                hashes[0][c[0] : c[1]][content[0][c[0] : c[1]]],
                hashes[1][c[2] : c[3]][content[1][c[2] : c[3]]],
                _LOOSE_DICE,
            )
        )
    ]


def bridged(
    chains: list[list[int]],
    hashes: tuple[U64, U64],
    content: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]],
    sentences: tuple[I64, I64, I64],
    near: tuple[int, int],
    far: int,
) -> list[list[int]]:
    """Passages (source order) joined across gaps that are edits. ``hashes`` and ``content``
    (a mask of the tokens that are not stop words) are the source's and the page's;
    ``sentences`` the source's sentence starts and ends, and the tokens that start a line;
    ``near`` the source and page gaps of a cut or a swap; ``far`` the most tokens of a
    rewritten gap on either side."""
    first, last, lines = sentences
    out: list[list[int]] = []
    for c in sorted(chains):
        if out:
            t = out[-1]
            gap_s = c[0] - t[1]
            gap_p = c[2] - t[3]
            apart = max(gap_p, t[2] - c[3])  # on the page, in either order (< 0: overlap)
            swapped = apart >= 0 and gap_p < 0
            cut = (
                gap_s <= near[0]
                and apart <= near[1]
                and (gap_s <= 0 or not _holds_sentence(first, last, t[1], c[0]))
                and not (
                    swapped
                    and min(t[1] - t[0], c[1] - c[0]) >= _LINE
                    and _breaks(lines, t[1], c[0])
                )
            )
            rewritten = (
                not cut
                and 0 < gap_s <= far
                and 0 < gap_p <= far
                and _similar(
                    hashes[0][t[1] : c[0]][content[0][t[1] : c[0]]],
                    hashes[1][t[3] : c[2]][content[1][t[3] : c[2]]],
                )
            )
            if cut or rewritten:
                t[0], t[1] = min(t[0], c[0]), max(t[1], c[1])
                t[2], t[3] = min(t[2], c[2]), max(t[3], c[3])
                t[4] += c[4]
                t[5] += c[5]
                continue
        out.append(list(c))
    return out


def _close(src: U64, page: U64, exact: bool) -> bool:
    """Two stretches at the edge of a passage alike enough to be the rest of its sentence:
    at least half their distinct tokens shared (Dice), or beside an edited passage a few
    words on one side only (words cut from the copy at the edge)."""
    if not src.size or not page.size:
        return not exact and max(src.size, page.size) <= _EDGE_CUT
    a, b = np.unique(src), np.unique(page)
    shared = int(np.intersect1d(a, b, assume_unique=True).size)
    return 2.0 * shared >= _EDGE_DICE * (a.size + b.size)


def _sentence_of(first: I64, at: int) -> int:
    return max(int(np.searchsorted(first, at, "right")) - 1, 0)


def edges(
    chains: list[list[int]],
    hashes: tuple[U64, U64],
    sentences: tuple[tuple[I64, I64], tuple[I64, I64]],
    limit: int,
) -> list[list[int]]:
    """Passages (source order) grown to the edges of their sentences on both sides when
    what they leave of those sentences is alike (``_close``) and at most ``limit`` tokens on
    each side: an edited copy rewrites a sentence's first and last words as much as its
    middle, and tiles and seeds start and end inside it. An exact passage grows only over
    text on both sides. A passage never grows into the one before or after it in the
    source."""
    (s_first, s_last), (p_first, p_last) = sentences
    out = [list(c) for c in sorted(chains)]
    for n, c in enumerate(out):
        exact = c[5] == c[4]
        before = out[n - 1][1] if n else 0
        after = out[n + 1][0] if n + 1 < len(out) else len(hashes[0])
        f = max(int(s_first[_sentence_of(s_first, c[0])]), before)
        g = int(p_first[_sentence_of(p_first, c[2])])
        grow = c[0] - f <= limit and c[2] - g <= limit and (f < c[0] or g < c[2])
        if grow and _close(hashes[0][f : c[0]], hashes[1][g : c[2]], exact):
            c[0], c[2] = f, g
        e = min(int(s_last[_sentence_of(s_first, c[1] - 1)]), after)
        h = int(p_last[_sentence_of(p_first, c[3] - 1)])
        grow = e - c[1] <= limit and h - c[3] <= limit and (e > c[1] or h > c[3])
        if grow and _close(hashes[0][c[1] : e], hashes[1][c[3] : h], exact):
            c[1], c[3] = e, h
    return out
