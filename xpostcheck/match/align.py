"""Alignment of one source with one page: pure functions over token lists, no index.

In: two texts (or their Prepared tokens and shingle hashes) and a MatchConfig. Out: passages as
token spans or character offsets, and an Alignment (coverage, matched words, passages).

Each source is tiled against the page with runs of at least ``shingle`` identical tokens
(greedy string tiling on shingle anchors, so reordered paragraphs count); neighbouring tiles
with small gaps are bridged, so a changed word does not split a passage. Coverage is the share
of the source's tokens inside the passages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from xpostcheck.match.arrays import I64, U64
from xpostcheck.match.config import MatchConfig
from xpostcheck.models import Passage
from xpostcheck.util.textnorm import (
    Tokens,
    fast_token_hashes,
    shingle_hashes,
    token_hashes,
    tokenize,
)

__all__ = ["Alignment", "Prepared", "align", "align_spans", "passages", "prepare"]

_HASH_CACHE_LIMIT = 1_000_000
_MAX_REPEAT = 64  # a shingle repeated more often than this in one source anchors nothing


@dataclass(frozen=True)
class Alignment:
    """How one source lies on one page."""

    coverage: float  # share of source tokens inside passages
    matched_words: int  # source tokens inside passages
    source_words: int
    passages: tuple[Passage, ...]  # in source order, character offsets


class Prepared:
    """Tokens, their hashes and shingle hashes of a text, with the shingles' sort order once
    asked for."""

    __slots__ = ("tokens", "hashes", "shingles", "_sorted", "_distinct")

    def __init__(self, tokens: Tokens, hashes: U64, k: int) -> None:
        self.tokens = tokens
        self.hashes = hashes  # one per token: equal hashes, equal tokens
        self.shingles = shingle_hashes(hashes, k)
        self._sorted: tuple[I64, U64, I64] | None = None
        self._distinct: U64 | None = None

    def sorted(self) -> tuple[I64, U64, I64]:
        """Positions in hash order, the hashes in that order, and for each, where the run of
        hashes equal to it ends."""
        if self._sorted is None:
            # Not a stable sort: the order of equal hashes changes no pair of shingles.
            order = np.argsort(self.shingles)
            ordered = self.shingles[order]
            n = ordered.size
            last = np.empty(n, dtype=bool)
            last[:-1] = ordered[1:] != ordered[:-1]
            last[-1:] = True
            ends = np.flatnonzero(last) + 1
            self._distinct = ordered[ends - 1]
            sizes = ends.copy()
            sizes[1:] -= ends[:-1]
            self._sorted = (order, ordered, np.repeat(ends, sizes))
        return self._sorted

    def distinct(self) -> U64:
        """The distinct shingle hashes, ascending."""
        self.sorted()
        assert self._distinct is not None
        return self._distinct


def prepare(text: str, k: int, cache: dict[str, int] | None) -> Prepared:
    """Tokens and shingles of a text: with the vectorised token hashes, or with the blake2b
    ones of format 1 index files when given their cache."""
    tokens = tokenize(text)
    if cache is None:
        return Prepared(tokens, fast_token_hashes(tokens), k)
    if len(cache) > _HASH_CACHE_LIMIT:
        cache.clear()
    return Prepared(tokens, token_hashes(tokens.words, cache), k)


def _runs(src: Prepared, page: Prepared, k: int) -> list[tuple[int, int, int]]:
    """Maximal runs of equal shingles on one diagonal: (source token, page token, tokens)."""
    shingles = src.shingles
    if not shingles.size or not page.shingles.size:
        return []
    p_order, p_sorted, p_run_end = page.sorted()  # sorted once per page, whatever the candidates
    lo = np.minimum(np.searchsorted(p_sorted, shingles), p_sorted.size - 1)
    count = np.where(p_sorted[lo] == shingles, p_run_end[lo] - lo, 0)
    count[count > _MAX_REPEAT] = 0
    total = int(count.sum())
    if total == 0:
        return []
    # Every pair (i, j) of equal shingles, sorted by diagonal j - i, then i: as one number.
    n = shingles.size
    i = np.repeat(np.arange(n), count)
    first = np.repeat(lo - (np.cumsum(count) - count), count)
    key = (p_order[first + np.arange(total)] - i + n) * n + i
    key.sort()
    diagonal, i = np.divmod(key, n)
    diagonal -= n
    cut = np.empty(total, dtype=bool)
    cut[0] = True
    cut[1:] = (diagonal[1:] != diagonal[:-1]) | (i[1:] != i[:-1] + 1)
    starts = np.flatnonzero(cut)
    lengths = np.empty(starts.size, dtype=np.int64)
    lengths[:-1] = starts[1:] - starts[:-1]
    lengths[-1] = total - starts[-1]
    lengths += k - 1
    first_i = i[starts]
    return list(
        zip(first_i.tolist(), (first_i + diagonal[starts]).tolist(), lengths.tolist(), strict=True)
    )


def _free_runs(free: list[bool], least: int) -> list[tuple[int, int]]:
    """Runs of at least ``least`` free positions, as [start, end)."""
    out, start = [], -1
    for at, is_free in enumerate([*free, False]):
        if is_free and start < 0:
            start = at
        elif not is_free and start >= 0:
            if at - start >= least:
                out.append((start, at))
            start = -1
    return out


def _mark(used: bytearray, start: int, end: int) -> None:
    used[start:end] = b"\x01" * (end - start)


def _reach(
    sw: U64,
    pw: U64,
    pairs: Iterator[tuple[int, int]],
    s_used: bytearray,
    p_used: bytearray,
) -> int:
    """How far a tile may grow: through single changed words, while matches outnumber misses."""
    best = hits = misses = streak = 0
    for t, (i, j) in enumerate(pairs):
        if i < 0 or j < 0 or i >= len(sw) or j >= len(pw) or s_used[i] or p_used[j]:
            break
        if sw[i] == pw[j]:
            hits, streak = hits + 1, 0
            if hits >= misses:
                best = t + 1
        else:
            misses, streak = misses + 1, streak + 1
            if streak > 2:
                break
    return best


def _extend(
    tile: tuple[int, int, int],
    sw: U64,
    pw: U64,
    s_used: bytearray,
    p_used: bytearray,
    limit: int,
) -> tuple[int, int, int]:
    """Grow a tile over the edge of an edit: "A B <changed> D E F G" gains A, B and the change."""
    si, pj, length = tile
    back = _reach(sw, pw, ((si - 1 - t, pj - 1 - t) for t in range(limit)), s_used, p_used)
    _mark(s_used, si - back, si)
    _mark(p_used, pj - back, pj)
    si, pj, length = si - back, pj - back, length + back
    end_s, end_p = si + length, pj + length
    ahead = _reach(sw, pw, ((end_s + t, end_p + t) for t in range(limit)), s_used, p_used)
    _mark(s_used, end_s, end_s + ahead)
    _mark(p_used, end_p, end_p + ahead)
    return si, pj, length + ahead


def align_spans(src: Prepared, page: Prepared, config: MatchConfig) -> list[list[int]]:
    """Passages as token spans [source start, source end, page start, page end), source order."""
    k = config.shingle
    runs = _runs(src, page, k)
    runs.sort(key=lambda r: (-r[2], r[0], r[1]))
    src_used = bytearray(len(src.tokens))  # 1 where a tile holds the token
    page_used = bytearray(len(page.tokens))
    tiles: list[tuple[int, int, int]] = []
    for si, pj, length in runs:
        s_taken = src_used.count(1, si, si + length)
        p_taken = page_used.count(1, pj, pj + length)
        if s_taken == 0 and p_taken == 0:
            pieces = [(0, length)]
        elif max(s_taken, p_taken) > length - k:
            continue  # too little left for a run of its own
        else:
            s_part, p_part = src_used[si : si + length], page_used[pj : pj + length]
            free = [not (a or b) for a, b in zip(s_part, p_part, strict=True)]
            if length - sum(free) > length - k:
                continue
            pieces = _free_runs(free, k)
        for a, b in pieces:
            tiles.append((si + a, pj + a, b - a))
            _mark(src_used, si + a, si + b)
            _mark(page_used, pj + a, pj + b)
    tiles = [
        _extend(tile, src.hashes, page.hashes, src_used, page_used, config.max_gap)
        for tile in sorted(tiles)
    ]
    spans: list[list[int]] = []  # [source start, source end, page start, page end) in tokens
    for si, pj, length in tiles:
        if spans:
            last = spans[-1]
            gap_s, gap_p = si - last[1], pj - last[3]
            # A changed word leaves gaps of about the same size on both sides; a dropped
            # sentence leaves a gap in the source only, and is not bridged.
            if (
                0 <= gap_s <= config.max_gap
                and 0 <= gap_p <= config.max_gap
                and abs(gap_s - gap_p) <= 2
            ):
                last[1], last[3] = si + length, pj + length
                continue
        spans.append([si, si + length, pj, pj + length])
    return spans


def passages(src: Tokens, page: Tokens, spans: list[list[int]]) -> tuple[Passage, ...]:
    """Token spans to character offsets in the source and the page."""
    ss, se, ps, pe = src.starts, src.ends, page.starts, page.ends
    return tuple(
        Passage(int(ss[s0]), int(se[s1 - 1]), int(ps[p0]), int(pe[p1 - 1]))
        for s0, s1, p0, p1 in spans
    )


def align(source_text: str, page_text: str, config: MatchConfig | None = None) -> Alignment:
    """Align one source text with one page text, without any index."""
    cfg = config or MatchConfig()
    src = prepare(source_text, cfg.shingle, None)
    page = prepare(page_text, cfg.shingle, None)
    spans = align_spans(src, page, cfg)
    matched = sum(s1 - s0 for s0, s1, _, _ in spans)
    n = len(src.tokens)
    return Alignment(
        matched / n if n else 0.0, matched, n, passages(src.tokens, page.tokens, spans)
    )
