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
import numpy.typing as npt

from xpostcheck.match.arrays import I64, U64
from xpostcheck.match.bridge import alike, bridged, content_mask, edges, line_starts
from xpostcheck.match.config import MatchConfig
from xpostcheck.match.sentences import Sentences, sentence_seeds, sentences
from xpostcheck.models import Passage
from xpostcheck.util.textnorm import (
    Tokens,
    fast_token_hashes,
    mix64,
    shingle_hashes,
    stop_word_hashes,
    token_hashes,
    tokenize,
)

__all__ = [
    "Alignment",
    "Prepared",
    "align",
    "aligned",
    "align_spans",
    "matched_tokens",
    "passages",
    "prepare",
]

_HASH_CACHE_LIMIT = 1_000_000
_MAX_REPEAT = 64  # a shingle repeated more often than this on the page anchors nothing
_SEED_REPEAT = 4  # a content-word pair making more pairings than this seeds nothing
_SLACK = 12  # gaps between seeds may differ by this many tokens (or half the larger gap)
_DENSITY = 0.3  # least share of a passage's source tokens that seeds or tiles match
_WEIGHT = 1.0  # least matched tokens of a passage, in min_passage
_RUN = 2  # least matched tokens of a run of short exact passages, in min_passage
_EXACT = 0.9  # a passage with this share of its matched tokens in tiles is exact
_SHUFFLED = 20  # exact pieces shorter than this (tokens) may be shuffled phrases ...
_TOUCH = 3  # ... when they lie within this many tokens of each other in both texts
_VERBATIM = 4  # fast path: passages of this many min_passage, all tiles
_EDITED = 1.5  # an edited passage (not mostly tiles) needs this many times min_passage ...
_LOOSE = 2.0  # ... and this many when under 1.5 min_passage of its tokens are in tiles
_LOOKBACK = 8  # passages looked back at when clustering
_PRIME = np.uint64(0x100000001B3)
_STOP = stop_word_hashes()
_STOP.setflags(write=False)


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

    __slots__ = (
        "tokens",
        "hashes",
        "shingles",
        "text",
        "_sorted",
        "_distinct",
        "_pairs",
        "_pairs_sorted",
        "_sentences",
        "quoted",
    )

    def __init__(self, tokens: Tokens, hashes: U64, k: int, text: str = "") -> None:
        self.tokens = tokens
        self.text = text  # the text the tokens came from (sentence boundaries are read in it)
        self._sentences: Sentences | None = None
        self.hashes = hashes  # one per token: equal hashes, equal tokens
        self.shingles = shingle_hashes(hashes, k)
        self._sorted: tuple[I64, U64, I64] | None = None
        self._distinct: U64 | None = None
        self._pairs: tuple[I64, I64, U64] | None = None
        self._pairs_sorted: tuple[I64, U64, I64] | None = None
        self.quoted: npt.NDArray[np.int32] | None = None  # match.evidence's, on first use

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

    def sentences(self) -> Sentences:
        """The text's sentences and their distinct content words, once per text."""
        if self._sentences is None:
            t = self.tokens
            self._sentences = sentences(self.text, t.starts, t.ends, self.hashes, _STOP)
        return self._sentences

    def pair_keys(self) -> U64:
        """Hashes of the pairs of neighbouring content words that retrieval keeps, in text
        order (either order of the two words gives the same hash). Pairs with a token of one
        or two characters are left out: in scripts written without spaces every character
        is a token, and numbers and initials (scores, tables) pair by chance."""
        first, after, keys = _content_pairs(self)
        if not keys.size:
            return keys
        length = self.tokens.ends - self.tokens.starts
        wide: U64 = keys[(length[first] > 2) & (length[after - 1] > 2)]
        return wide


def prepare(text: str, k: int, cache: dict[str, int] | None) -> Prepared:
    """Tokens and shingles of a text: with the vectorised token hashes, or with the blake2b
    ones of format 1 index files when given their cache."""
    tokens = tokenize(text)
    if cache is None:
        return Prepared(tokens, fast_token_hashes(tokens), k, text)
    if len(cache) > _HASH_CACHE_LIMIT:
        cache.clear()
    return Prepared(tokens, token_hashes(tokens.words, cache), k, text)


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


def _content_pairs(p: Prepared) -> tuple[I64, I64, U64]:
    """Pairs of neighbouring content words (stop words skipped), hashed without their order:
    (first token, last token, hash). A swap of the two words keeps the hash."""
    if p._pairs is None:
        h = p.hashes
        at = np.searchsorted(_STOP, h)
        stop = _STOP[np.minimum(at, _STOP.size - 1)] == h
        pos = np.flatnonzero(~stop).astype(np.int64)
        if pos.size < 2:
            empty = np.zeros(0, dtype=np.int64)
            p._pairs = (empty, empty, np.zeros(0, dtype=np.uint64))
        else:
            a, b = h[pos[:-1]], h[pos[1:]]
            key = mix64((np.minimum(a, b) * _PRIME) ^ np.maximum(a, b))
            p._pairs = (pos[:-1], pos[1:] + 1, key)
    return p._pairs


def _pairs_sorted(p: Prepared) -> tuple[I64, U64, I64]:
    """The content-word pairs' order by hash, the hashes in that order, and how often each
    pair (in text order) occurs in the text; once per text."""
    if p._pairs_sorted is None:
        keys = _content_pairs(p)[2]
        order = np.argsort(keys)
        ordered = keys[order]
        repeats = np.searchsorted(ordered, keys, "right") - np.searchsorted(ordered, keys, "left")
        p._pairs_sorted = (order, ordered, repeats)
    return p._pairs_sorted


def _seeds(
    src: Prepared, page: Prepared, s_used: bytearray, p_used: bytearray
) -> list[tuple[int, int, int, int]]:
    """Shared content-word pairs outside the tiles: (source start, end, page start, end)."""
    s0, s1, sk = _content_pairs(src)
    p0, p1, pk = _content_pairs(page)
    if not sk.size or not pk.size:
        return []
    order, ordered, _ = _pairs_sorted(page)
    lo = np.searchsorted(ordered, sk, "left")
    count = np.searchsorted(ordered, sk, "right") - lo
    # A pair repeated in both texts (a name: "south africa") pairs by chance: the number of
    # pairings it makes is what is capped.
    count[count * _pairs_sorted(src)[2] > _SEED_REPEAT] = 0
    total = int(count.sum())
    if total == 0:
        return []
    i = np.repeat(np.arange(sk.size), count)
    j = order[np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(total)]
    su = np.frombuffer(bytes(s_used), dtype=np.uint8)
    pu = np.frombuffer(bytes(p_used), dtype=np.uint8)
    a, b, c, d = s0[i], s1[i], p0[j], p1[j]
    free = (su[a] | su[b - 1] | pu[c] | pu[d - 1]) == 0
    return list(
        zip(a[free].tolist(), b[free].tolist(), c[free].tolist(), d[free].tolist(), strict=True)
    )


def _sentence_items(
    src: Prepared,
    page: Prepared,
    s_used: bytearray,
    p_used: bytearray,
    anchors: list[tuple[int, int, int, int, int, int]],
) -> list[tuple[int, int, int, int, int, int]]:
    """Sentence seeds outside the tiles (most of either sentence not tiled yet), each
    vouched for by a tile (a run of identical tokens) starting inside both its sentences:
    two sentences that only share a bag of words on one topic seed nothing."""
    if not anchors:
        return []
    found = sentence_seeds(src.sentences(), page.sentences())
    at_s = np.array([a[0] for a in anchors], dtype=np.int64)
    at_p = np.array([a[2] for a in anchors], dtype=np.int64)
    out = []
    for a, b, c, d, shared in found:
        if s_used.count(1, a, b) * 2 > b - a or p_used.count(1, c, d) * 2 > d - c:
            continue
        if not np.any((at_s >= a) & (at_s < b) & (at_p >= c) & (at_p < d)):
            continue
        out.append((a, b, c, d, 2 * shared, 0))
    return out


def _fits(gap_s: int, gap_p: int, most: tuple[int, int], exact: int) -> bool:
    """Gaps small on both sides: an edit, not a dropped sentence (a gap in the source only)
    nor a moved paragraph (a jump on the page). ``exact`` counts the sides (0, 1 or 2) that
    are exact tiles. Next to one: both gaps in order and within ``fuzzy_gap`` (``most[0]``),
    and a gap in the source is bridged only when the page has text of its own there (a
    replaced span, not a sentence cut from the copy): between two exact sides, at most
    twice the page's gap and 2 tokens; beside an edited side, any, when the page's gap is
    not empty. Between seeds, both within ``fuzzy_gap`` and of about the same size."""
    if exact:
        if not (0 <= gap_s <= most[0] and 0 <= gap_p <= most[0]):
            return False
        return gap_s <= 2 * gap_p + 2 or (exact == 1 and gap_p > 0)
    if gap_s > most[0] or gap_p > most[0] or gap_p < -most[0]:
        return False
    return abs(gap_s - gap_p) <= max(_SLACK, max(gap_s, gap_p) // 2)


def _chains(
    items: list[tuple[int, int, int, int, int, int]], most: tuple[int, int]
) -> list[list[int]]:
    """Items (source start, end, page start, end, matched tokens, exact) in source order, chained
    into passages [source start, end, page start, end, matched tokens, those in tiles]."""
    chains: list[list[int]] = []
    open_: list[list[int]] = []
    for s0, s1, p0, p1, weight, exact in items:
        open_ = [c for c in open_ if s0 - c[1] <= most[0]]
        best, best_cost = None, 0
        for c in open_:
            gap_s, gap_p = s0 - c[1], p0 - c[3]
            if _fits(gap_s, gap_p, most, int(bool(exact)) + int(c[5] == c[4])):
                cost = abs(gap_s - gap_p) + max(gap_s, gap_p, 0)
                if best is None or cost < best_cost:
                    best, best_cost = c, cost
        if best is None:
            best = [s0, s1, p0, p1, weight, weight * exact]
            chains.append(best)
            open_.append(best)
            continue
        best[1], best[2], best[3] = max(best[1], s1), min(best[2], p0), max(best[3], p1)
        best[4] += weight
        best[5] += weight * exact
    return chains


def _merged(chains: list[list[int]], most: tuple[int, int]) -> list[list[int]]:
    """Neighbouring passages (source order) joined across small gaps on both sides."""
    out: list[list[int]] = []
    for c in sorted(chains):
        exact = int(c[5] == c[4]) + int(bool(out) and out[-1][5] == out[-1][4])
        if out and _fits(c[0] - out[-1][1], c[2] - out[-1][3], most, exact):
            last = out[-1]
            last[1], last[2], last[3] = max(last[1], c[1]), min(last[2], c[2]), max(last[3], c[3])
            last[4] += c[4]
            last[5] += c[5]
            continue
        out.append(list(c))
    return out


def _exact(c: list[int]) -> bool:
    """Mostly exact tiles (not edited text held together by seeds)."""
    return c[5] >= _EXACT * c[4]


def _clustered(chains: list[list[int]], gaps: tuple[int, int]) -> list[list[int]]:
    """Passages near each other in both texts (any order) joined when either holds seeds
    (edited text): an edited passage whose pieces were shuffled. Two exact passages are
    joined this way only when they touch in both texts and one is shorter than a sentence
    (a shuffled phrase), so a moved paragraph or a dropped sentence stays visible."""
    most = gaps[0]
    boxes = sorted(chains)
    changed = True
    while changed:
        changed = False
        out: list[list[int]] = []
        for b in boxes:
            for t in reversed(out[-_LOOKBACK:]):
                gap_s = max(b[0] - t[1], t[0] - b[1])
                gap_p = max(b[2] - t[3], t[2] - b[3])
                if gap_s > most or gap_p > most:
                    continue
                short = min(t[1] - t[0], b[1] - b[0]) < _SHUFFLED
                touching = gap_s <= _TOUCH and gap_p <= _TOUCH
                # In order in both texts, as exact passages are bridged (an insertion on
                # the page, or a replaced span; never text dropped from the source).
                follows = _fits(b[0] - t[1], b[2] - t[3], gaps, 2)
                if not (_exact(t) and _exact(b)) or (short and touching) or follows:
                    t[0], t[1] = min(t[0], b[0]), max(t[1], b[1])
                    t[2], t[3] = min(t[2], b[2]), max(t[3], b[3])
                    t[4] += b[4]
                    t[5] += b[5]
                    changed = True
                    break
            else:
                out.append(b)
        boxes = sorted(out)
    return boxes


def _kept(chains: list[list[int]], config: MatchConfig) -> list[list[int]]:
    """Passages of at least ``min_passage`` tokens on both sides and dense enough in matched
    tokens. Shorter exact ones are kept in a run of passages (each within ``max_gap`` of the
    next in the source) that is big or holds twice ``min_passage`` matched tokens in all: a
    list of short lines, never a stock phrase on its own."""
    least = config.min_passage

    def big(c: list[int]) -> bool:
        size = min(c[1] - c[0], c[3] - c[2])
        # An edited passage needs more; more still when it holds few tiled tokens (chance
        # pairs of sentences in two texts on one topic).
        edited = 1.0 if _exact(c) else _EDITED if c[5] >= least else _LOOSE
        return size >= least * edited and c[4] >= max(
            _DENSITY * (c[1] - c[0]), _WEIGHT * least * edited
        )

    keep = [big(c) for c in chains]
    run: list[int] = []
    for n in range(len(chains) + 1):
        c = chains[n] if n < len(chains) else None
        if c is not None and run and c[0] - chains[run[-1]][1] <= config.max_gap:
            run.append(n)
            continue
        members = [
            m for m in run if _exact(chains[m]) and chains[m][1] - chains[m][0] >= config.shingle
        ]
        if any(keep[m] for m in run) or sum(chains[m][4] for m in members) >= _RUN * least:
            for m in members:
                keep[m] = True
        run = [n]
    return [c for c, k in zip(chains, keep, strict=True) if k]


def _verbatim(chains: list[list[int]], config: MatchConfig) -> bool:
    """The fast path: tiles already make long unbroken passages holding nearly all the tiled
    tokens (a verbatim copy, whole or in part), so seeds have nothing to add but chance."""
    long = _VERBATIM * config.min_passage
    tiled = sum(c[4] for c in chains)
    whole = sum(c[4] for c in chains if c[1] - c[0] >= long and c[4] >= 0.95 * (c[1] - c[0]))
    return tiled > 0 and whole >= 0.9 * tiled


def align_spans(src: Prepared, page: Prepared, config: MatchConfig) -> list[list[int]]:
    """Passages as token spans [source start, source end, page start, page end), source order.

    Exact tiles first (the fast path: a verbatim copy is one tile); then seeds that survive
    edits (pairs of content words, in either order) fill the gaps, and tiles and seeds are
    chained into passages across small gaps on both sides.
    """
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
    items = [(si, si + n, pj, pj + n, n, 1) for si, pj, n in tiles]
    if not items and not config.fuzzy:
        return []
    most = config.fuzzy_gap if config.fuzzy else config.max_gap
    gaps = (most, config.max_gap)
    chains = _merged(_chains(items, gaps), gaps)
    if config.fuzzy and not _verbatim(chains, config):
        anchors = list(items)
        items += [(a, b, c, d, 2, 0) for a, b, c, d in _seeds(src, page, src_used, page_used)]
        anchors = items
        items = items + _sentence_items(src, page, src_used, page_used, anchors)
        items.sort()
        chains = _clustered(_merged(_chains(items, gaps), gaps), gaps)
        hashes = (src.hashes, page.hashes)
        content = (content_mask(src.hashes, _STOP), content_mask(page.hashes, _STOP))
        near = (config.max_gap, config.fuzzy_gap)
        first, last = src.sentences()[:2]
        lines = line_starts(src.text, src.tokens.starts)
        # Bridged again once stray seeds between two passages are gone.
        for _ in range(2):
            chains = bridged(chains, hashes, content, (first, last, lines), near, 2 * near[1])
            chains = _kept(chains, config)
        chains = alike(chains, hashes, content, config.min_passage, config.max_gap)
        ends = ((first, last), page.sentences()[:2])
        chains = edges(chains, hashes, ends, config.fuzzy_gap)
    else:
        chains = _kept(chains, config)
    return [c[:4] for c in chains]


def matched_tokens(spans: list[list[int]]) -> int:
    """Source tokens inside the passages (a token in two passages counts once)."""
    total, end = 0, 0
    for s0, s1, *_ in sorted(spans):
        if s1 > end:
            total += s1 - max(s0, end)
            end = s1
    return total


def passages(src: Tokens, page: Tokens, spans: list[list[int]]) -> tuple[Passage, ...]:
    """Token spans to character offsets in the source and the page."""
    ss, se, ps, pe = src.starts, src.ends, page.starts, page.ends
    return tuple(
        Passage(int(ss[s0]), int(se[s1 - 1]), int(ps[p0]), int(pe[p1 - 1]))
        for s0, s1, p0, p1 in spans
    )


def aligned(
    source_text: str, page_text: str, config: MatchConfig
) -> tuple[Prepared, Prepared, list[list[int]], Alignment]:
    """One source text aligned with one page text, without any index: both prepared
    texts, the passages as token spans, and the Alignment."""
    src = prepare(source_text, config.shingle, None)
    page = prepare(page_text, config.shingle, None)
    spans = align_spans(src, page, config)
    matched = matched_tokens(spans)
    n = len(src.tokens)
    found = Alignment(
        matched / n if n else 0.0, matched, n, passages(src.tokens, page.tokens, spans)
    )
    return src, page, spans, found


def align(source_text: str, page_text: str, config: MatchConfig | None = None) -> Alignment:
    """Align one source text with one page text, without any index."""
    return aligned(source_text, page_text, config or MatchConfig())[3]
