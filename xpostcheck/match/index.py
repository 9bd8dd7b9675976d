"""Find whole, partial and edited copies of source articles in a page's text.

Two steps (see docs/matching.md):

1. **Retrieval.** Every source keeps a sample of its word 5-gram shingles (hash mod a power of
   two) in an inverted index held in compact sorted arrays, with a presence bitmap in front.
   A page looks up *all* its shingles; a source's estimated containment is the share of its
   samples found on the page. Shingles held by many sources (stock phrases) are ignored, and
   sources whose estimate is too low for the coverage they need are not aligned.
2. **Alignment.** Each candidate is tiled against the page with runs of at least ``shingle``
   identical tokens (greedy string tiling on shingle anchors, so reordered paragraphs count);
   neighbouring tiles with small gaps are bridged, so a changed word does not split a passage.
   Coverage is the share of the source's tokens inside the passages.

A match is a copy when coverage >= ``min_coverage`` and it spans >= ``min_words`` source
tokens (or the whole source is there, for sources shorter than that).

The index is saved as one file: a JSON header and raw numpy arrays, read back with a
read-only memory map, so worker processes share it through the page cache and loading it
runs no code from the file.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from xpostcheck import options
from xpostcheck.errors import ConfigError, XPostCheckError
from xpostcheck.models import CopyKind, Match, Passage, SourceArticle
from xpostcheck.util.textnorm import (
    Tokens,
    fast_token_hashes,
    shingle_hashes,
    token_hashes,
    tokenize,
)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]

INDEX_FORMAT = 2  # written by new indexes; format 1 files (blake2b token hashes) still load
_FORMATS = (1, 2)
_MAGIC = b"XPCINDEX"
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, format, reserved, header length
_ALIGN = 64
_HASH_CACHE_LIMIT = 1_000_000
_PREPARED_LIMIT = 256  # sources whose tokens are kept between pages
_MAX_REPEAT = 64  # a shingle repeated more often than this in one source anchors nothing


class IndexFileError(XPostCheckError):
    """A saved index cannot be read: missing, corrupt, or written by another format."""


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds of the matcher. The first two decide what counts as a copy.

    Kinds: ``full`` when coverage >= full_coverage, ``partial`` when >= partial_coverage,
    ``excerpt`` below that (but at or above min_coverage).
    """

    # below this share of the source it is a quotation, not a copy
    min_coverage: float = options.MIN_COVERAGE
    min_words: int = 50  # fewer matched source words than this is not a copy
    full_coverage: float = 0.9
    partial_coverage: float = 0.5
    shingle: int = 5  # tokens per shingle, and the shortest run that counts in alignment
    modulus: int = 8  # a source keeps shingles whose hash is 0 mod this (a power of two) ...
    min_samples: int = 48  # ... halving it until at least this many are kept, down to 1
    max_df: int = 32  # a shingle in more sources than this is a stock phrase ...
    max_df_share: float = 0.25  # ... or in more than this share of them (at least 2 kept)
    max_gap: int = 8  # bridge tiles separated by at most this many tokens on both sides
    min_estimate: float = 0.05  # retrieval: least estimated containment worth aligning
    candidates: int = 20  # retrieval: most sources aligned per page

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.min_coverage <= 1.0:
            problems.append("min_coverage must be between 0 and 1")
        if not self.min_coverage <= self.partial_coverage <= self.full_coverage <= 1.0:
            problems.append("need min_coverage <= partial_coverage <= full_coverage <= 1")
        if self.min_words < 0:
            problems.append("min_words must be >= 0")
        if not 2 <= self.shingle <= 32:
            problems.append("shingle must be between 2 and 32")
        if self.modulus < 1 or self.modulus & (self.modulus - 1):
            problems.append("modulus must be a power of two")
        if self.min_samples < 1 or self.max_df < 1 or self.candidates < 1 or self.max_gap < 0:
            problems.append("min_samples, max_df and candidates must be >= 1, max_gap >= 0")
        if not 0.0 < self.max_df_share <= 1.0 or not 0.0 <= self.min_estimate <= 1.0:
            problems.append("max_df_share must be in (0, 1] and min_estimate in [0, 1]")
        if problems:
            raise ConfigError("invalid match settings: " + "; ".join(problems))

    def kind_for(self, coverage: float) -> CopyKind:
        if coverage >= self.full_coverage:
            return "full"
        if coverage >= self.partial_coverage:
            return "partial"
        return "excerpt"

    def is_copy(self, coverage: float, matched_words: int) -> bool:
        """A copy, not a quotation: enough of the source, and enough words (or all of it)."""
        if coverage < self.min_coverage or matched_words == 0:
            return False
        return matched_words >= self.min_words or coverage >= self.full_coverage

    def df_limit(self, sources: int) -> int:
        """Largest number of sources a shingle may be in and still count for retrieval."""
        return max(2, min(self.max_df, int(self.max_df_share * sources)))


# Settings that shape the saved arrays; thresholds may change between runs, these may not.
_SHAPING = ("shingle", "modulus", "min_samples")


@dataclass(frozen=True)
class Alignment:
    """How one source lies on one page."""

    coverage: float  # share of source tokens inside passages
    matched_words: int  # source tokens inside passages
    source_words: int
    passages: tuple[Passage, ...]  # in source order, character offsets


class _Prepared:
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


def _prepare(text: str, k: int, cache: dict[str, int] | None) -> _Prepared:
    """Tokens and shingles of a text: with the vectorised token hashes, or with the blake2b
    ones of format 1 index files when given their cache."""
    tokens = tokenize(text)
    if cache is None:
        return _Prepared(tokens, fast_token_hashes(tokens), k)
    if len(cache) > _HASH_CACHE_LIMIT:
        cache.clear()
    return _Prepared(tokens, token_hashes(tokens.words, cache), k)


def _runs(src: _Prepared, page: _Prepared, k: int) -> list[tuple[int, int, int]]:
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


def _align(src: _Prepared, page: _Prepared, config: MatchConfig) -> list[list[int]]:
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


def _passages(src: Tokens, page: Tokens, spans: list[list[int]]) -> tuple[Passage, ...]:
    """Token spans to character offsets in the source and the page."""
    ss, se, ps, pe = src.starts, src.ends, page.starts, page.ends
    return tuple(
        Passage(int(ss[s0]), int(se[s1 - 1]), int(ps[p0]), int(pe[p1 - 1]))
        for s0, s1, p0, p1 in spans
    )


def align(source_text: str, page_text: str, config: MatchConfig | None = None) -> Alignment:
    """Align one source text with one page text, without any index."""
    cfg = config or MatchConfig()
    src = _prepare(source_text, cfg.shingle, None)
    page = _prepare(page_text, cfg.shingle, None)
    spans = _align(src, page, cfg)
    matched = sum(s1 - s0 for s0, s1, _, _ in spans)
    n = len(src.tokens)
    return Alignment(
        matched / n if n else 0.0, matched, n, _passages(src.tokens, page.tokens, spans)
    )


def _sample(shingles: U64, config: MatchConfig) -> U64:
    """The distinct shingles a source keeps in the index (hash mod m == 0, m adaptive)."""
    m = config.modulus
    while m > 1 and shingles.size // m < config.min_samples:
        m //= 2
    kept: U64 = np.unique(shingles[(shingles & np.uint64(m - 1)) == 0])
    return kept


def _directory(keys: U64) -> tuple[I64, int, int]:
    """Where each value of the top bits of a hash starts among the keys, with the shift
    that gives those bits and the steps of a binary search inside one: the lookup
    structure of format 1 files, written for the readers of that format."""
    n = keys.size
    bits = max(4, min(24, math.ceil(math.log2(max(n, 1) / 4 + 1))))
    shift = 64 - bits
    bounds = np.arange(1 << bits, dtype=np.uint64) << np.uint64(shift)
    directory = np.append(np.searchsorted(keys, bounds), n).astype(np.int64)
    widest = int(np.diff(directory).max()) if n else 0
    return directory, shift, max(1, math.ceil(math.log2(widest + 1)) + 1)


def _bitmap_shift(keys: int) -> int:
    """The shift that gives a hash's slot in the presence bitmap for this many keys."""
    return 64 - max(6, math.ceil(math.log2(max(keys, 1) * 16)))


def _set_bits(bitmap: npt.NDArray[np.uint8], shift: int, keys: U64) -> None:
    """Set the bits of these keys (ascending) in a presence bitmap."""
    if not keys.size:
        return
    slot = keys >> np.uint64(shift)
    byte = (slot >> np.uint64(3)).astype(np.intp)
    bit = np.left_shift(1, (slot & np.uint64(7)).astype(np.uint8), dtype=np.uint8)
    first = np.flatnonzero(np.diff(byte, prepend=-1))
    bitmap[byte[first]] |= np.bitwise_or.reduceat(bit, first)


def _presence_bitmap(keys: U64) -> tuple[npt.NDArray[np.uint8], int]:
    """One bit per slot of the top bits of a hash, set when some key falls in that slot.

    At least 16 slots per key, so a hash that is in no source passes in about 6% of cases
    or fewer. Returns the bitmap and the shift that gives a hash's slot.
    """
    shift = _bitmap_shift(keys.size)
    bitmap = np.zeros(1 << (61 - shift), dtype=np.uint8)
    _set_bits(bitmap, shift, keys)
    return bitmap, shift


def _meta(article: SourceArticle) -> dict[str, Any]:
    data = asdict(article)
    del data["url"], data["text"]
    return data


def _article(url: str, text: str, meta: dict[str, Any]) -> SourceArticle:
    return SourceArticle(
        url=url,
        title=str(meta.get("title", "")),
        text=text,
        authors=tuple(meta.get("authors", ())),
        published=meta.get("published"),
        publisher=str(meta.get("publisher", "")),
        images=tuple(meta.get("images", ())),
        html=meta.get("html"),
    )


@dataclass
class _Blob:
    """Byte strings stored end to end, read lazily from a memory map."""

    data: npt.NDArray[np.uint8]
    offsets: I64

    def get(self, i: int) -> str:
        return bytes(self.data[self.offsets[i] : self.offsets[i + 1]]).decode("utf-8")

    def get_bytes(self, i: int) -> bytes:
        return bytes(self.data[self.offsets[i] : self.offsets[i + 1]])


@dataclass
class _Stream:
    """A byte blob written in pieces, so that saving does not hold every text twice."""

    offsets: I64
    pieces: Callable[[], Iterator[bytes]]
    dtype: np.dtype[np.uint8] = np.dtype(np.uint8)

    @property
    def nbytes(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int]:
        return (self.nbytes,)


class SourceIndex:
    """The publisher's articles, indexed for finding copies of them in pages.

    ``match`` may be called from several threads; ``add`` and ``save`` from one at a time.
    """

    def __init__(self, config: MatchConfig | None = None) -> None:
        self.config = config or MatchConfig()
        self._urls: list[str] = []  # doc id -> url (dead docs keep theirs)
        self._doc_of: dict[str, int] = {}  # url -> live doc id
        self._alive = bytearray()
        self._added: dict[int, SourceArticle] = {}  # docs not in the loaded file
        self._base_text: _Blob | None = None  # docs 0 .. base_docs-1, from the loaded file
        self._base_meta: _Blob | None = None
        self._base_docs = 0
        self._pending: list[tuple[U64, int]] = []  # sampled shingles of docs not merged yet
        self._dirty = False
        self._keys: U64 = np.zeros(0, dtype=np.uint64)  # sorted distinct sampled shingles
        self._offsets: I64 = np.zeros(1, dtype=np.int64)  # postings of key i: [o[i], o[i+1])
        self._postings: U32 = np.zeros(0, dtype=np.uint32)  # doc ids
        self._effective: I64 = np.zeros(0, dtype=np.int64)  # per doc: samples not stock
        self._ntokens: list[int] = []  # per doc: tokens in its text
        self._nsamples: list[int] = []  # per doc: sampled shingles, stock phrases included
        self._ntok: F64 = np.zeros(0, dtype=np.float64)  # per doc: tokens per sample
        self._least: F64 | None = None  # per doc: least estimate worth aligning
        self._df_limit = 2
        self._bitmap, self._bitmap_shift = _presence_bitmap(self._keys)
        # Token hashes: vectorised (format 2), or blake2b per distinct word with this cache
        # for an index read from a format 1 file (its saved shingles were made with those).
        self._hash_cache: dict[str, int] | None = None
        self._prepared_cache: dict[int, _Prepared] = {}  # doc -> tokens, least recent first
        self._lock = threading.Lock()  # merging is done once even if threads call match()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        state["_prepared_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- contents -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._doc_of)

    def __contains__(self, url: object) -> bool:
        return url in self._doc_of

    def _text(self, doc: int) -> str:
        if doc in self._added:
            return self._added[doc].text
        assert self._base_text is not None
        return self._base_text.get(doc)

    def _load_article(self, doc: int) -> SourceArticle:
        if doc in self._added:
            return self._added[doc]
        assert self._base_text is not None and self._base_meta is not None
        meta = json.loads(self._base_meta.get(doc))
        return _article(self._urls[doc], self._base_text.get(doc), meta)

    def get(self, url: str) -> SourceArticle | None:
        doc = self._doc_of.get(url)
        return None if doc is None else self._load_article(doc)

    def articles(self) -> Iterator[SourceArticle]:
        for doc in sorted(self._doc_of.values()):
            yield self._load_article(doc)

    def add(self, articles: Iterable[SourceArticle]) -> int:
        """Add new articles and replace changed ones (same url); returns how many changed."""
        changed = 0
        for article in articles:
            old = self._doc_of.get(article.url)
            if old is not None:
                if self._load_article(old) == article:
                    continue
                self._alive[old] = 0
                self._added.pop(old, None)
                self._dirty = True
            doc = len(self._urls)
            self._urls.append(article.url)
            self._alive.append(1)
            self._doc_of[article.url] = doc
            self._added[doc] = article
            prepared = _prepare(article.text, self.config.shingle, self._hash_cache)
            sampled = _sample(prepared.shingles, self.config)
            self._ntokens.append(len(prepared.tokens))
            self._nsamples.append(int(sampled.size))
            self._pending.append((sampled, doc))
            changed += 1
        return changed

    # -- the inverted index ---------------------------------------------------------------

    def flush(self) -> None:
        """Merge added articles into the sorted arrays and drop replaced ones.

        ``match`` and ``save`` do this when needed; call it to pay the cost up front.
        """
        if not self._pending and not self._dirty:
            return
        with self._lock:
            if self._pending or self._dirty:
                self._merge()

    def _merge(self) -> None:
        """Insert new postings into the sorted ones: linear in the index, not a full re-sort."""
        keys = np.repeat(self._keys, np.diff(self._offsets))
        docs = self._postings
        if self._dirty:
            alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
            keep = alive[docs]
            keys, docs = keys[keep], docs[keep]
        self._pending = [(h, d) for h, d in self._pending if self._alive[d]]
        new_keys: U64 = np.zeros(0, dtype=np.uint64)
        if self._pending:
            new_keys = np.concatenate([h for h, _ in self._pending]).astype(np.uint64, copy=False)
            new_docs = np.concatenate(
                [np.full(h.size, d, dtype=np.uint32) for h, d in self._pending]
            )
            order = np.argsort(new_keys, kind="stable")
            new_keys, new_docs = new_keys[order], new_docs[order]
            if keys.size:
                at = np.searchsorted(keys, new_keys, side="right")
                keys, docs = np.insert(keys, at, new_keys), np.insert(docs, at, new_docs)
            else:
                keys, docs = new_keys, new_docs
        self._set_arrays(keys, docs.astype(np.uint32, copy=False), new_keys)
        self._pending.clear()
        self._dirty = False

    def _set_arrays(self, sorted_keys: U64, docs: U32, added: U64) -> None:
        total = sorted_keys.size
        cut = np.empty(total, dtype=bool)
        if total:
            cut[0] = True
            cut[1:] = sorted_keys[1:] != sorted_keys[:-1]
        starts = np.flatnonzero(cut)
        self._keys = sorted_keys[starts]
        self._offsets = np.append(starts, total).astype(np.int64)
        self._postings = docs
        self._derive_counts()
        if self._bitmap_shift == _bitmap_shift(self._keys.size):
            # Only bits to add (those of dropped keys stay: a few more hashes get searched
            # for, none is missed); a loaded bitmap is read-only, so it is copied first.
            if not self._bitmap.flags.writeable:
                self._bitmap = self._bitmap.copy()
            _set_bits(self._bitmap, self._bitmap_shift, added)
        else:
            self._bitmap, self._bitmap_shift = _presence_bitmap(self._keys)

    def _derive_counts(self) -> None:
        """Stock-phrase limit and effective samples per source (they depend on the config)."""
        self._df_limit = self.config.df_limit(len(self._doc_of))
        self._ntok = np.asarray(self._ntokens, dtype=np.float64) / np.maximum(
            np.asarray(self._nsamples, dtype=np.float64), 1.0
        )
        df = np.diff(self._offsets)
        counted = np.repeat(df <= self._df_limit, df)
        self._effective = np.bincount(self._postings[counted], minlength=len(self._urls)).astype(
            np.int64
        )

    def _lookup(self, queries: U64) -> tuple[I64, I64]:
        """Index of each query among the keys, for the queries found (and their positions).

        Most of a page's shingles are in no source: one read of the presence bitmap turns
        away all but a few percent of those, and a binary search finds the rest.
        """
        keys, n = self._keys, self._keys.size
        slot = (queries >> np.uint64(self._bitmap_shift)).astype(np.intp)
        where = np.flatnonzero((self._bitmap[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1)
        queries = queries[where]
        pos = np.minimum(np.searchsorted(keys, queries), n - 1)
        found = np.flatnonzero(keys[pos] == queries)
        return pos[found], where[found]

    def candidates(self, shingles: U64) -> list[tuple[int, float]]:
        """Sources ranked by estimated containment in a page with these shingles."""
        return self._candidates(np.unique(shingles))

    def _candidates(self, distinct: U64) -> list[tuple[int, float]]:
        """:meth:`candidates` for the page's distinct shingles, in ascending order."""
        self.flush()
        if not self._keys.size or not distinct.size:
            return []
        keys, _ = self._lookup(distinct)
        offsets = self._offsets
        start = offsets[keys]
        df = offsets[keys + 1] - start
        usable = df <= self._df_limit
        start, df = start[usable], df[usable]
        total = int(df.sum())
        if total == 0:
            return []
        held = self._postings[np.repeat(start - (np.cumsum(df) - df), df) + np.arange(total)]
        held.sort()
        edge = np.empty(total, dtype=bool)
        edge[0] = True
        np.not_equal(held[1:], held[:-1], out=edge[1:])
        first = np.flatnonzero(edge)
        docs = held[first]
        hits = np.empty(first.size, dtype=np.int64)
        hits[:-1] = first[1:] - first[:-1]
        hits[-1] = total - first[-1]
        effective = self._effective[docs]
        estimate = hits / np.maximum(effective, 1)
        ok = (estimate >= self._least_estimate()[docs]) & (hits >= np.minimum(2, effective))
        docs, estimate = docs[ok], estimate[ok]
        # Most copied text first, as shown by distinctive shingles: a source made mostly of
        # stock phrases (or one of many near-duplicates) can reach a high estimate on a few
        # samples, and must not crowd out a long article copied in part.
        expected = hits[ok] * self._ntok[docs]
        order = np.lexsort((docs, -estimate, -expected))[: self.config.candidates]
        return list(zip(docs[order].tolist(), estimate[order].tolist(), strict=True))

    def _least_estimate(self) -> F64:
        """Per source, the least estimated containment worth aligning.

        ``min_estimate`` is set for a source that needs ``min_coverage`` to be a copy. A
        short source needs more, since its copy must also hold ``min_words`` words (or be
        full), and its least estimate grows in proportion: most short sources that share a
        few common phrases with a page are then not aligned at all.
        """
        if self._least is None or self._least.size != len(self._ntokens):
            cfg = self.config
            ntokens = np.maximum(np.asarray(self._ntokens, dtype=np.float64), 1.0)
            need = np.maximum(
                cfg.min_coverage, np.minimum(cfg.min_words / ntokens, cfg.full_coverage)
            )
            scale = need / cfg.min_coverage if cfg.min_coverage > 0 else np.ones_like(need)
            self._least = cfg.min_estimate * scale
        return self._least

    def _prepared(self, doc: int) -> _Prepared:
        """Tokens of a source, kept for the most recently aligned sources."""
        cache = self._prepared_cache
        found = cache.pop(doc, None)
        if found is None:
            found = _prepare(self._text(doc), self.config.shingle, self._hash_cache)
            while len(cache) >= _PREPARED_LIMIT:
                try:  # the least recently used; another thread may be evicting too
                    del cache[next(iter(cache))]
                except (KeyError, RuntimeError, StopIteration):
                    break
        cache[doc] = found
        return found

    def match(self, text: str, *, limit: int = 5) -> list[Match]:
        """Copies of indexed sources in ``text`` (a page's full visible text), best first."""
        cfg = self.config
        if limit <= 0 or not text:
            return []
        page = _prepare(text, cfg.shingle, self._hash_cache)
        found: list[Match] = []
        for doc, estimate in self._candidates(page.distinct()):
            src = self._prepared(doc)
            spans = _align(src, page, cfg)
            matched = sum(s1 - s0 for s0, s1, _, _ in spans)
            coverage = matched / max(len(src.tokens), 1)
            if cfg.is_copy(coverage, matched):
                found.append(
                    Match(
                        source_url=self._urls[doc],
                        coverage=coverage,
                        kind=cfg.kind_for(coverage),
                        passages=_passages(src.tokens, page.tokens, spans),
                        score=estimate,
                    )
                )
        found.sort(key=lambda m: (-m.coverage, -m.score, m.source_url))
        return found[:limit]

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index to ``path`` atomically (a temporary file, then a rename)."""
        self.flush()
        target = Path(path)
        live = sorted(self._doc_of.values())
        renumber = np.full(len(self._urls) + 1, -1, dtype=np.int64)
        renumber[live] = np.arange(len(live))
        text_blob = self._blob(live, text=True)
        meta_blob = self._blob(live, text=False)
        arrays: dict[str, npt.NDArray[Any] | _Stream] = {
            "keys": self._keys,
            "offsets": self._offsets,
            "postings": renumber[self._postings].astype(np.uint32),
            "effective": self._effective[live] if live else np.zeros(0, dtype=np.int64),
            "ntokens": np.asarray(self._ntokens, dtype=np.int64)[live],
            "nsamples": np.asarray(self._nsamples, dtype=np.int64)[live],
            "bitmap": self._bitmap,
            "text": text_blob,
            "text_offsets": text_blob.offsets,
            "meta": meta_blob,
            "meta_offsets": meta_blob.offsets,
        }
        header: dict[str, Any] = {
            "format": self._format(),
            "config": asdict(self.config),
            "urls": [self._urls[d] for d in live],
            "df_limit": self._df_limit,
            "bitmap_shift": self._bitmap_shift,
            "arrays": {},
        }
        if header["format"] == 1:  # what readers of format 1 search with
            arrays["directory"], header["dir_shift"], header["dir_steps"] = _directory(self._keys)
        # Array offsets depend on the header length, which depends on the offsets: reserve room.
        layout: dict[str, list[Any]] = {}
        position = 0
        for name, array in arrays.items():
            layout[name] = [array.dtype.str, list(array.shape), position]
            position += -(-array.nbytes // _ALIGN) * _ALIGN
        header["arrays"] = layout
        body = json.dumps(header, ensure_ascii=False).encode("utf-8")
        start = -(-(_PREAMBLE.size + len(body) + 32) // _ALIGN) * _ALIGN
        for entry in layout.values():
            entry[2] += start
        body = json.dumps(header, ensure_ascii=False).encode("utf-8")
        body += b" " * (start - _PREAMBLE.size - len(body))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_PREAMBLE.pack(_MAGIC, self._format(), 0, len(body)))
                out.write(body)
                for array in arrays.values():
                    if isinstance(array, _Stream):
                        for piece in array.pieces():
                            out.write(piece)
                    else:
                        out.write(np.ascontiguousarray(array).tobytes())
                    out.write(b"\0" * (-array.nbytes % _ALIGN))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _format(self) -> int:
        """The file format that matches this index's token hashes."""
        return 1 if self._hash_cache is not None else INDEX_FORMAT

    def _blob(self, live: list[int], *, text: bool) -> _Stream:
        """The texts (or other fields) of the live sources, written piece by piece."""

        def piece(doc: int) -> bytes:
            article = self._added.get(doc)
            if article is not None:
                if text:
                    return article.text.encode("utf-8")
                return json.dumps(_meta(article), ensure_ascii=False).encode("utf-8")
            base = self._base_text if text else self._base_meta
            assert base is not None
            return base.get_bytes(doc)

        lengths = np.fromiter((len(piece(d)) for d in live), dtype=np.int64, count=len(live))
        offsets = np.zeros(len(live) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return _Stream(offsets, lambda: map(piece, live))

    @classmethod
    def load(cls, path: str | Path, *, config: MatchConfig | None = None) -> SourceIndex:
        """Read an index written by :meth:`save` (format 2, or format 1 of earlier releases).

        ``config``, when given, replaces the saved settings: its thresholds (min_coverage,
        min_words, kinds, stock phrases, retrieval) apply from then on. The settings that
        shape the saved arrays (shingle, modulus, min_samples) must equal the file's: any
        difference raises :class:`IndexFileError`, as the file has to be rebuilt for them.
        """
        where = str(path)
        rebuild = "delete the file so that the next scan rebuilds it"
        try:
            with open(path, "rb") as handle:
                preamble = handle.read(_PREAMBLE.size)
                if len(preamble) < _PREAMBLE.size:
                    raise IndexFileError(
                        f"not an xpostcheck index (too short); {rebuild}", where=where
                    )
                magic, version, _, header_len = _PREAMBLE.unpack(preamble)
                if magic != _MAGIC:
                    raise IndexFileError(f"not an xpostcheck index; {rebuild}", where=where)
                if version not in _FORMATS:
                    raise IndexFileError(
                        f"index format {version} is not one of the supported formats"
                        f" {', '.join(map(str, _FORMATS))}; {rebuild}",
                        where=where,
                    )
                header = json.loads(handle.read(header_len).decode("utf-8"))
            size = os.path.getsize(path)
            mapped = np.memmap(path, dtype=np.uint8, mode="r") if size else None
        except FileNotFoundError:
            raise IndexFileError("no index file here; build one with a scan", where=where) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFileError(f"cannot read the index ({exc}); {rebuild}", where=where) from None
        try:
            names = {f.name for f in fields(MatchConfig)}
            saved = MatchConfig(**{k: v for k, v in header["config"].items() if k in names})
            arrays: dict[str, Any] = {}
            assert mapped is not None
            for name, (dtype, shape, offset) in header["arrays"].items():
                kind = np.dtype(dtype)
                if kind.hasobject:
                    raise ValueError(f"array {name} holds objects")
                count = int(np.prod(shape)) if shape else 1
                end = offset + count * kind.itemsize
                if offset % _ALIGN or end > size:
                    raise ValueError(f"array {name} lies outside the file")
                arrays[name] = mapped[offset:end].view(kind).reshape(shape)
            urls = [str(u) for u in header["urls"]]
            n = len(urls)
            ok = (
                arrays["offsets"].size == arrays["keys"].size + 1
                and arrays["text_offsets"].size == n + 1
                and arrays["meta_offsets"].size == n + 1
                and arrays["effective"].size == n
                and arrays["ntokens"].size == n
                and arrays["nsamples"].size == n
                and int(arrays["offsets"][-1]) == arrays["postings"].size
                and (n == 0 or int(arrays["postings"].max(initial=0)) < n)
            )
            if not ok:
                raise ValueError("array sizes disagree")
            df_limit = int(header["df_limit"])
            bitmap: tuple[npt.NDArray[np.uint8], int] | None = None
            if "bitmap" in arrays:
                bitmap_shift = int(header["bitmap_shift"])
                if not 0 < bitmap_shift <= 61 or arrays["bitmap"].size != 1 << (61 - bitmap_shift):
                    raise ValueError("the bitmap does not fit its shift")
                if arrays["bitmap"].dtype != np.uint8:
                    raise ValueError("the bitmap is not of bytes")
                bitmap = (arrays["bitmap"], bitmap_shift)
        except (KeyError, TypeError, ValueError, AssertionError, ConfigError) as exc:
            raise IndexFileError(f"the index is damaged ({exc}); {rebuild}", where=where) from None
        if config is not None:
            for name in _SHAPING:
                if getattr(config, name) != getattr(saved, name):
                    raise IndexFileError(
                        f"the index was built with {name}={getattr(saved, name)}, not"
                        f" {getattr(config, name)}; {rebuild}",
                        where=where,
                    )
        index = cls(config or saved)
        index._hash_cache = {} if version == 1 else None
        index._urls = urls
        index._doc_of = {u: i for i, u in enumerate(urls)}
        if len(index._doc_of) != n:
            raise IndexFileError(f"the index repeats a url; {rebuild}", where=where)
        index._alive = bytearray(b"\x01" * n)
        index._base_docs = n
        index._base_text = _Blob(arrays["text"], arrays["text_offsets"])
        index._base_meta = _Blob(arrays["meta"], arrays["meta_offsets"])
        index._keys = arrays["keys"]
        index._offsets = arrays["offsets"]
        index._postings = arrays["postings"]
        index._ntokens = arrays["ntokens"].tolist()
        index._nsamples = arrays["nsamples"].tolist()
        index._ntok = arrays["ntokens"] / np.maximum(arrays["nsamples"], 1).astype(np.float64)
        if bitmap is None:  # written before the bitmap was saved with the index
            index._bitmap, index._bitmap_shift = _presence_bitmap(index._keys)
        else:
            index._bitmap, index._bitmap_shift = bitmap
        if config is None or config.df_limit(n) == df_limit:
            index._effective = arrays["effective"]
            index._df_limit = df_limit
        else:
            index._derive_counts()
        return index
