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
  lie near each other on the page in either order (words cut, or a swap); or
- both gaps are in order, at most ``far`` tokens each, and share enough of their content
  words (Dice coefficient) to be one text rewritten: a sentence left out of the copy leaves
  a gap on the page that is empty or unrelated, and is never bridged.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from xpostcheck.match.arrays import I64, U64

__all__ = ["bridged"]

_LEAST_SHARED = 3  # content words two gaps must share to be one text rewritten ...
_LEAST_DICE = 0.3  # ... and at least this Dice coefficient of their distinct content words


def _holds_sentence(first: I64, last: I64, start: int, end: int) -> bool:
    """Whether a whole sentence lies inside the token span [start, end)."""
    k = int(np.searchsorted(first, start, "left"))
    return k < first.size and int(last[k]) <= end


def _similar(src: U64, page: U64) -> bool:
    """Two gaps' content words (stop words already left out) alike enough to be one text."""
    a, b = np.unique(src), np.unique(page)
    if a.size < _LEAST_SHARED or b.size < _LEAST_SHARED:
        return False
    shared = int(np.intersect1d(a, b, assume_unique=True).size)
    return shared >= _LEAST_SHARED and 2.0 * shared >= _LEAST_DICE * (a.size + b.size)


def bridged(
    chains: list[list[int]],
    hashes: tuple[U64, U64],
    content: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]],
    sentences: tuple[I64, I64],
    near: tuple[int, int],
    far: int,
) -> list[list[int]]:
    """Passages (source order) joined across gaps that are edits. ``hashes`` and ``content``
    (a mask of the tokens that are not stop words) are the source's and the page's;
    ``sentences`` the source's sentence starts and ends; ``near`` the source and page gaps
    of a cut or a swap; ``far`` the most tokens of a rewritten gap on either side."""
    first, last = sentences
    out: list[list[int]] = []
    for c in sorted(chains):
        if out:
            t = out[-1]
            gap_s = c[0] - t[1]
            gap_p = c[2] - t[3]
            apart = max(gap_p, t[2] - c[3])  # on the page, in either order (< 0: overlap)
            cut = (
                gap_s <= near[0]
                and apart <= near[1]
                and (gap_s <= 0 or not _holds_sentence(first, last, t[1], c[0]))
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
