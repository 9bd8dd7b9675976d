"""Retrieval: which sources a page may hold a copy of, before any alignment.

In: each source's sampled shingle hashes (hash mod a power of two) and token count; a page's
distinct shingle hashes. Out: candidate document ids with their estimated containment, and
the arrays an index file saves.

Every source keeps a sample of its word shingles in an inverted index held in compact sorted
arrays (keys, offsets, postings), with a presence bitmap in front. A page looks up *all* its
shingles; a source's estimated containment is the share of its samples found on the page.
Shingles held by many sources (stock phrases) are ignored, and sources whose estimate is too
low for the coverage they need are not aligned.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from xpostcheck.match.arrays import F64, I64, U8, U32, U64
from xpostcheck.match.config import MatchConfig
from xpostcheck.match.postings import Pending, merge_postings

__all__ = ["Retrieval", "page_keys", "presence_bitmap", "sample"]

_LEAST_TOKENS = 40  # copied tokens the samples must vouch for, for a small passage
_LEAST_HITS = 3  # distinct hits that vouch for a small (edited) passage of a long source ...
_FEWEST_HITS = 2  # ... or this many, one of them an identical run of words (a shingle)
_EDITED_SHARE = 2.0  # an edited passage keeps at least about half its samples
_TOKENS_PER_CANDIDATE = 100  # a page of n tokens aligns up to n / this candidates ...
_STRONG_HITS = 3  # ... and past that, sources with this many distinct hits ...
_WIDEST = 3  # ... up to this many times the cap


_SLICE = 1 << 18  # keys per slice when setting bitmap bits
_PAIR_FLOOR = 2  # the content-word pairs of a source are sampled at least 1 in this many


def _sampled(keys: U64, m: int, least: int, floor: int) -> U64:
    while m > floor and keys.size // m < least:
        m //= 2
    kept: U64 = np.unique(keys[(keys & np.uint64(m - 1)) == 0])
    return kept


def sample(shingles: U64, config: MatchConfig, pairs: U64 | None = None) -> U64:
    """The distinct keys a source keeps in the index: its shingles with hash mod m == 0 (m
    adaptive), and as many of its content-word pairs (``pair_modulus``, down to 2)."""
    kept = _sampled(shingles, config.modulus, config.min_samples, 1)
    if pairs is None or not config.pair_modulus or not pairs.size:
        return kept
    more = _sampled(pairs, config.pair_modulus, config.min_samples, _PAIR_FLOOR)
    both: U64 = np.union1d(kept, more)
    return both


def page_keys(pairs: U64, config: MatchConfig) -> U64:
    """The content-word pairs of a page that some source may have kept, distinct (none when
    the index keeps no pairs)."""
    if not config.pair_modulus or not pairs.size:
        return np.zeros(0, dtype=np.uint64)
    mask = np.uint64(min(config.pair_modulus, _PAIR_FLOOR) - 1)
    keys: U64 = np.unique(pairs[(pairs & mask) == 0])
    return keys


def _bitmap_shift(keys: int) -> int:
    """The shift that gives a hash's slot in the presence bitmap for this many keys."""
    return 64 - max(6, math.ceil(math.log2(max(keys, 1) * 16)))


def _set_bits(bitmap: npt.NDArray[np.uint8], shift: int, keys: U64) -> None:
    """Set the bits of these keys (ascending) in a presence bitmap, a slice at a time (the
    temporary arrays stay small however many keys there are)."""
    for at in range(0, keys.size, _SLICE):
        slot = keys[at : at + _SLICE] >> np.uint64(shift)
        byte = (slot >> np.uint64(3)).astype(np.intp)
        bit = np.left_shift(1, (slot & np.uint64(7)).astype(np.uint8), dtype=np.uint8)
        first = np.flatnonzero(np.diff(byte, prepend=-1))
        bitmap[byte[first]] |= np.bitwise_or.reduceat(bit, first)


def presence_bitmap(keys: U64) -> tuple[npt.NDArray[np.uint8], int]:
    """One bit per slot of the top bits of a hash, set when some key falls in that slot.

    At least 16 slots per key, so a hash that is in no source passes in about 6% of cases
    or fewer. Returns the bitmap and the shift that gives a hash's slot.
    """
    shift = _bitmap_shift(keys.size)
    bitmap = np.zeros(1 << (61 - shift), dtype=np.uint8)
    _set_bits(bitmap, shift, keys)
    return bitmap, shift


def _ranges(start: I64, stop: I64) -> I64:
    """The positions start[i] .. stop[i] - 1 of every range, end to end."""
    start = start.astype(np.int64, copy=False)
    df = stop.astype(np.int64, copy=False) - start
    positions: I64 = np.repeat(start - (np.cumsum(df) - df), df) + np.arange(int(df.sum()))
    return positions


def _effective(offsets: I64, postings: U32, n: int, df_limit: int) -> I64:
    """Per document, its postings that are not stock phrases (keys in more than
    ``df_limit`` documents): all its postings, less those of stock phrases (few), a slice at
    a time, so that no mask or copy as long as the postings is made."""
    stock = np.concatenate(
        [
            at + np.flatnonzero(np.diff(offsets[at : at + _SLICE + 1]) > df_limit)
            for at in range(0, max(offsets.size - 1, 1), _SLICE)
        ]
    )
    effective: I64 = np.zeros(n, dtype=np.int64)
    for at in range(0, postings.size, _SLICE):  # bincount copies its input to intp
        effective += np.bincount(postings[at : at + _SLICE], minlength=n)
    if stock.size:
        effective -= np.bincount(postings[_ranges(offsets[stock], offsets[stock + 1])], minlength=n)
    return effective


def _choose(
    cfg: MatchConfig,
    docs: U32,
    hits: I64,
    shingle_hits: I64,
    estimate: F64,
    expected: F64,
    least: F64,
    page_tokens: int,
    ntokens: F64,
    enough: npt.NDArray[np.bool_],
) -> tuple[I64, F64]:
    """Which of the sources with hits are aligned, best first: their positions among
    ``docs`` and their estimates."""
    # A small passage of a long source has a small estimate: when the thresholds allow
    # such a copy (min_coverage of the source is no more than the text the samples vouch
    # for), the copied text itself is enough, whatever the source's length.
    # Edits destroy samples, so the copied text may be twice what they vouch for; a few
    # distinct hits are needed all the same: 3, or 2 when one is an identical run of
    # words. Two content-word pairs alone are what two texts on one topic share (a
    # paraphrase of the same facts keeps the names: "alexander allison", "wanganui
    # nurseryman"), and alignment cannot always tell such a paraphrase from an edited copy.
    # With the copy thresholds off, any source with that much evidence is worth aligning.
    need = np.maximum(cfg.min_coverage * ntokens, min(cfg.min_words, _LEAST_TOKENS))
    vouched = (hits >= _LEAST_HITS) | ((hits >= _FEWEST_HITS) & (shingle_hits > 0))
    small_passage = vouched & (_EDITED_SHARE * expected >= need)
    # The estimate alone vouches for a source only with an identical run of words among
    # its hits: pairs alone are shared by any two texts drawn from one small vocabulary
    # (results tables, lists of names).
    by_estimate = (estimate >= least) & (shingle_hits > 0)
    ok = (by_estimate | small_passage) & enough
    kept = np.flatnonzero(ok)
    estimate_all = estimate
    estimate, expected = estimate[ok], expected[ok]
    docs = docs[ok]
    # Most copied text first, as shown by distinctive shingles: a source made mostly of
    # stock phrases (or one of many near-duplicates) can reach a high estimate on a few
    # samples, and must not crowd out a long article copied in part.
    # The cap adapts: past it, sources with strong evidence of their own (many distinct
    # hits, as a page made of many sources' passages gives) are aligned too, up to
    # _WIDEST times the cap.
    cap = max(cfg.candidates, page_tokens // _TOKENS_PER_CANDIDATE)
    strong = int(np.count_nonzero(hits[ok] >= _STRONG_HITS))
    cap = min(_WIDEST * cap, max(cap, strong))
    rate = float(np.median(estimate_all)) if estimate_all.size else 0.0
    score = hits[ok] * (1.0 - rate / np.maximum(estimate, 1e-12))
    order = np.lexsort((docs, -estimate, -score))[:cap]
    chosen: I64 = kept[order]
    return chosen, estimate[order]


class Retrieval:
    """The inverted index of sampled shingles over document ids, and per-document counts.

    Documents are added (``add``) and dropped (``drop``) at once; their postings are merged
    into the sorted arrays on ``flush``, which ``candidates`` calls itself, once even when
    several threads ask at the same time.
    """

    def __init__(self, config: MatchConfig) -> None:
        self.config = config
        self._alive = bytearray()  # per doc: 1 while its postings count
        self._pending = Pending()  # sampled shingles of docs not merged yet
        self._dirty = False  # some doc was dropped since the last merge
        self._keys: U64 = np.zeros(0, dtype=np.uint64)  # sorted distinct sampled shingles
        self._offsets: I64 = np.zeros(1, dtype=np.int64)  # postings of key i: [o[i], o[i+1])
        self._postings: U32 = np.zeros(0, dtype=np.uint32)  # doc ids
        self._effective: I64 = np.zeros(0, dtype=np.int64)  # per doc: samples not stock
        self._ntokens: list[int] = []  # per doc: tokens in its text
        self._nsamples: list[int] = []  # per doc: sampled shingles, stock phrases included
        self._ntok: F64 = np.zeros(0, dtype=np.float64)  # per doc: tokens per sample
        self._least: F64 | None = None  # per doc: least estimate worth aligning
        self._ntokens_array: F64 | None = None  # per doc: tokens, as an array
        self._df_limit = 2
        self._bitmap, self._bitmap_shift = presence_bitmap(self._keys)
        self._lock = threading.Lock()  # merging is done once even if threads ask at once

    @classmethod
    def from_file(
        cls,
        config: MatchConfig,
        arrays: dict[str, Any],
        df_limit: int,
        bitmap: tuple[U8, int] | None,
        *,
        keep_counts: bool,
    ) -> Retrieval:
        """Retrieval over the arrays of a loaded file (all its documents live). With
        ``keep_counts``, the saved stock-phrase limit and effective samples are used as they
        are; otherwise they are derived again for ``config``."""
        retrieval = cls(config)
        n = arrays["ntokens"].size
        retrieval._alive = bytearray(b"\x01" * n)
        retrieval._keys = arrays["keys"]
        retrieval._offsets = arrays["offsets"]
        retrieval._postings = arrays["postings"]
        retrieval._ntokens = arrays["ntokens"].tolist()
        retrieval._nsamples = arrays["nsamples"].tolist()
        retrieval._ntok = arrays["ntokens"] / np.maximum(arrays["nsamples"], 1).astype(np.float64)
        if bitmap is None:  # written before the bitmap was saved with the index
            retrieval._bitmap, retrieval._bitmap_shift = presence_bitmap(retrieval._keys)
        else:
            retrieval._bitmap, retrieval._bitmap_shift = bitmap
        if keep_counts:
            retrieval._effective = arrays["effective"]
            retrieval._df_limit = df_limit
        else:
            retrieval._derive_counts()
        return retrieval

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- read by the index file, benchmarks and tests --------------------------------------

    @property
    def keys(self) -> U64:
        return self._keys

    @property
    def offsets(self) -> I64:
        return self._offsets

    @property
    def postings(self) -> U32:
        return self._postings

    @property
    def effective(self) -> I64:
        return self._effective

    @property
    def bitmap(self) -> U8:
        return self._bitmap

    @property
    def bitmap_shift(self) -> int:
        return self._bitmap_shift

    @property
    def df_limit(self) -> int:
        return self._df_limit

    def arrays(self, live: list[int], *, narrow: bool = False) -> dict[str, npt.NDArray[Any]]:
        """The arrays an index file saves, with the live documents renumbered 0, 1, ...
        in the order given (call :meth:`flush` first). ``narrow`` (format 4): the offsets in
        32 bits when they fit."""
        postings = self._postings
        if len(live) != len(self._alive) or live != list(range(len(live))):
            renumber = np.full(len(self._alive) + 1, -1, dtype=np.int64)
            renumber[live] = np.arange(len(live))
            postings = renumber[postings].astype(np.uint32)
        offsets: npt.NDArray[Any] = self._offsets
        fits = not offsets.size or int(offsets[-1]) < 2**32
        offsets = offsets.astype(np.uint32 if narrow and fits else np.int64, copy=False)
        return {
            "keys": self._keys,
            "offsets": offsets,
            "postings": postings.astype(np.uint32, copy=False),
            "effective": self._effective[live] if live else np.zeros(0, dtype=np.int64),
            "ntokens": np.asarray(self._ntokens, dtype=np.int64)[live],
            "nsamples": np.asarray(self._nsamples, dtype=np.int64)[live],
            "bitmap": self._bitmap,
        }

    # -- documents in and out ---------------------------------------------------------------

    def add(self, doc: int, shingles: U64, ntokens: int, pairs: U64 | None = None) -> None:
        """A new document (the next id) with its shingle hashes, token count and
        content-word pair hashes."""
        assert doc == len(self._alive)
        sampled = sample(shingles, self.config, pairs)
        self._alive.append(1)
        self._ntokens.append(ntokens)
        self._nsamples.append(int(sampled.size))
        self._pending.append(sampled, doc)

    def drop(self, doc: int) -> None:
        """A replaced document: its postings go at the next merge."""
        self._alive[doc] = 0
        self._dirty = True

    def flush(self) -> None:
        """Merge added documents into the sorted arrays and drop replaced ones."""
        if not self._pending and not self._dirty:
            return
        with self._lock:
            if self._pending or self._dirty:
                self._merge()

    def _merge(self) -> None:
        """Insert new postings into the sorted ones, a slice of the key space at a time
        (:mod:`xpostcheck.match.postings`): no array as long as all the postings is made
        besides the result."""
        alive = None
        if self._dirty:
            alive = np.frombuffer(bytes(self._alive), dtype=np.uint8)
        pending = self._pending
        # Marked dirty until the merged arrays are in place, so that a thread asking
        # meanwhile waits on the lock rather than search the old arrays.
        self._dirty = True
        self._pending = Pending()
        shift = self._bitmap_shift
        # Only bits to add while the bitmap keeps its size (those of dropped keys stay: a
        # few more hashes get searched for, none is missed); a loaded bitmap is read-only.
        grow = self._keys.size > 0 and shift == _bitmap_shift(self._keys.size + pending.size)
        if grow and not self._bitmap.flags.writeable:
            self._bitmap = self._bitmap.copy()
        bitmap = self._bitmap
        self._keys, self._offsets, self._postings = merge_postings(
            self._keys,
            self._offsets,
            self._postings,
            pending,
            alive,
            (lambda new: _set_bits(bitmap, shift, new)) if grow else None,
        )
        del pending
        self._derive_counts()
        if not grow or shift != _bitmap_shift(self._keys.size):
            self._bitmap, self._bitmap_shift = presence_bitmap(self._keys)
        self._dirty = False

    def _derive_counts(self) -> None:
        """Stock-phrase limit and effective samples per source (they depend on the config)."""
        self._df_limit = self.config.df_limit(self._alive.count(1))
        self._ntok = np.asarray(self._ntokens, dtype=np.float64) / np.maximum(
            np.asarray(self._nsamples, dtype=np.float64), 1.0
        )
        self._effective = _effective(
            self._offsets, self._postings, len(self._alive), self._df_limit
        )

    def lookup(self, queries: U64) -> tuple[I64, I64]:
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

    def _held(self, queries: U64) -> U32:
        """The documents holding each query found (stock phrases left out), one entry per
        posting."""
        keys, _ = self.lookup(queries)
        offsets = self._offsets
        start = offsets[keys]
        stop = offsets[keys + 1]
        usable = stop - start <= self._df_limit
        held: U32 = self._postings[_ranges(start[usable], stop[usable])]
        return held

    def candidates(
        self, distinct: U64, page_tokens: int = 0, pairs: U64 | None = None
    ) -> list[tuple[int, float]]:
        """Sources ranked by estimated containment in a page with these distinct shingles
        (ascending) and content-word pair keys. A long page may hold copies of many sources:
        the cap on candidates grows with its length (one more per ``_TOKENS_PER_CANDIDATE``
        tokens)."""
        self.flush()
        if not self._keys.size or not distinct.size:
            return []
        held = self._held(distinct)
        shingled = held.size  # postings of shingles come first
        if pairs is not None and pairs.size:
            held = np.concatenate([held, self._held(pairs)])
        total = held.size
        if total == 0:
            return []
        order = np.argsort(held, kind="stable")
        from_shingle = order < shingled
        held = held[order]
        edge = np.empty(total, dtype=bool)
        edge[0] = True
        np.not_equal(held[1:], held[:-1], out=edge[1:])
        first = np.flatnonzero(edge)
        docs = held[first]
        hits = np.empty(first.size, dtype=np.int64)
        hits[:-1] = first[1:] - first[:-1]
        hits[-1] = total - first[-1]
        shingle_hits = np.add.reduceat(from_shingle.astype(np.int64), first)
        effective = self._effective[docs]
        estimate = hits / np.maximum(effective, 1)
        expected = hits * self._ntok[docs]
        least = self.least_estimate()[docs]
        order, estimate = _choose(
            self.config,
            docs,
            hits,
            shingle_hits,
            estimate,
            expected,
            least,
            page_tokens,
            self._token_counts()[docs],
            hits >= np.minimum(2, effective),
        )
        return list(zip(docs[order].tolist(), estimate.tolist(), strict=True))

    def _token_counts(self) -> F64:
        """Tokens per source as an array (made again only when sources were added)."""
        if self._ntokens_array is None or self._ntokens_array.size != len(self._ntokens):
            self._ntokens_array = np.asarray(self._ntokens, dtype=np.float64)
        return self._ntokens_array

    def least_estimate(self) -> F64:
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
