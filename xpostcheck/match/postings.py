"""Merging the sampled keys of new documents into the sorted postings, a slice at a time.

In: the sorted arrays of the inverted index (distinct keys, offsets, document ids), the
sampled keys of the documents added since (a :class:`Pending`), and which documents are
alive. Out: the merged arrays, the same as one sort of every posting would give (keys
ascending; for one key, document ids ascending).

Memory is what limits an index of 100,000 sources, so nothing here is as long as all the
postings but the result itself:

- the pending keys are gathered into chunks of about 2^18 as documents are added (not one
  small array per document, whose freed memory the allocator would keep);
- the merge goes through the key space in slices of its top bits (the keys are uniform
  hashes, so the slices are even): the new keys of one slice are picked out of each chunk,
  sorted, and inserted among the old postings of that slice, expanded for that slice only;
- the result is written into arrays allocated at their greatest possible size and then
  shrunk in place: the pages never written are never resident;
- the old arrays of a loaded index are pages of its file: those of each slice leave the
  process's resident memory once the slice is merged.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

from xpostcheck.match.arrays import I64, U8, U32, U64
from xpostcheck.match.fileformat import release_pages

__all__ = ["Pending", "merge_postings"]

_CHUNK = 1 << 18  # pending keys gathered into one chunk
_SLICE_POSTINGS = 1 << 20  # postings per slice of the key space, about


class Pending:
    """The sampled keys of documents added since the last merge, in document order."""

    def __init__(self) -> None:
        # Sealed chunks: keys of several documents end to end, their ids, and their sizes.
        self._chunks: list[tuple[U64, U32, I64]] = []
        self._open: list[tuple[U64, int]] = []  # documents not in a chunk yet
        self._open_size = 0
        self.size = 0  # keys in all

    def __bool__(self) -> bool:
        return self.size > 0 or bool(self._open)

    def append(self, keys: U64, doc: int) -> None:
        """A document's sampled keys (ids must come in ascending order)."""
        self._open.append((keys, doc))
        self._open_size += keys.size
        self.size += keys.size
        if self._open_size >= _CHUNK:
            self._seal()

    def _seal(self) -> None:
        if not self._open:
            return
        keys: U64 = np.concatenate([k for k, _ in self._open]).astype(np.uint64, copy=False)
        ids = np.fromiter((d for _, d in self._open), dtype=np.uint32, count=len(self._open))
        sizes = np.fromiter((k.size for k, _ in self._open), dtype=np.int64, count=len(ids))
        self._chunks.append((keys, ids, sizes))
        self._open, self._open_size = [], 0

    def chunks(self) -> list[tuple[U64, U32, I64]]:
        """Every pending key in chunks: (keys, document ids, keys per document)."""
        self._seal()
        return self._chunks


def _slice_bits(postings: int) -> int:
    """Bits of the key that name its slice: slices of about ``_SLICE_POSTINGS`` postings."""
    return min(12, max(0, (postings // _SLICE_POSTINGS).bit_length()))


def _new_in_slice(
    chunks: list[tuple[U64, U32, I64]], bits: int, part: int, alive: U8 | None
) -> tuple[U64, U32]:
    """The pending keys whose top ``bits`` bits are ``part``, ascending, each with its
    document (ascending for one key); keys of documents no longer alive are left out."""
    keys_parts, doc_parts = [], []
    for keys, ids, sizes in chunks:
        if bits:
            picked = np.flatnonzero((keys >> np.uint64(64 - bits)) == part)
        else:
            picked = np.arange(keys.size)
        owner = np.searchsorted(np.cumsum(sizes), picked, side="right")
        keys_parts.append(keys[picked])
        doc_parts.append(ids[owner])
    new_keys: U64 = np.concatenate(keys_parts) if keys_parts else np.zeros(0, np.uint64)
    new_docs: U32 = np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.uint32)
    if alive is not None and new_docs.size:
        keep = alive[new_docs].astype(bool)
        new_keys, new_docs = new_keys[keep], new_docs[keep]
    order = np.argsort(new_keys, kind="stable")  # chunks are in document order
    return new_keys[order], new_docs[order]


def merge_postings(
    keys: U64,
    offsets: npt.NDArray[Any],
    postings: U32,
    pending: Pending,
    alive: U8 | None = None,
    on_new: Any = None,
) -> tuple[U64, I64, U32]:
    """The sorted arrays with the pending keys merged in; the postings of documents whose
    ``alive`` entry is 0 are dropped (``alive`` None: all are alive). ``on_new`` is called
    with the new keys of each slice, ascending (to set their bits in a presence bitmap).

    Offsets come back in 32 bits when the postings fit, else in 64."""
    chunks = pending.chunks()
    bits = _slice_bits(postings.size + pending.size)
    most_keys = keys.size + pending.size
    most_postings = postings.size + pending.size
    out_keys: U64 = np.empty(most_keys, dtype=np.uint64)
    wide = most_postings >= 2**32
    out_offsets = np.empty(most_keys + 1, dtype=np.int64 if wide else np.uint32)
    out_postings: U32 = np.empty(most_postings, dtype=np.uint32)
    bounds = (np.arange(1, 1 << bits, dtype=np.uint64) << np.uint64(64 - bits)) if bits else []
    cuts = [0, *np.searchsorted(keys, bounds).tolist(), keys.size]
    k = p = 0  # keys and postings written
    for part in range(1 << bits):
        ka, kb = cuts[part], cuts[part + 1]
        pa, pb = int(offsets[ka]), int(offsets[kb])
        old_docs = np.asarray(postings[pa:pb], dtype=np.uint32)
        old_keys = np.repeat(keys[ka:kb], np.diff(offsets[ka : kb + 1]).astype(np.int64))
        if alive is not None and old_docs.size:
            keep = alive[old_docs].astype(bool)
            old_keys, old_docs = old_keys[keep], old_docs[keep]
        new_keys, new_docs = _new_in_slice(chunks, bits, part, alive)
        if on_new is not None and new_keys.size:
            on_new(new_keys)
        if old_keys.size and new_keys.size:  # after the old postings of the same key
            at = np.searchsorted(old_keys, new_keys, side="right")
            all_keys = np.insert(old_keys, at, new_keys)
            all_docs = np.insert(old_docs, at, new_docs)
        elif new_keys.size:
            all_keys, all_docs = new_keys, new_docs
        else:
            all_keys, all_docs = old_keys, old_docs
        del old_keys, old_docs, new_keys, new_docs
        # Old arrays mapped from a loaded file: the pages just read go (see release_pages).
        for done in (keys[ka:kb], offsets[ka : kb + 1], postings[pa:pb]):
            release_pages(done)
        n = all_keys.size
        if not n:
            continue
        starts = np.flatnonzero(np.concatenate(([True], all_keys[1:] != all_keys[:-1])))
        out_keys[k : k + starts.size] = all_keys[starts]
        out_offsets[k : k + starts.size] = starts + p
        out_postings[p : p + n] = all_docs
        k += starts.size
        p += n
    out_offsets[k] = p
    # Shrunk in place (the allocator gives back the tail, never written, without a copy).
    out_keys.resize(k, refcheck=False)
    out_offsets.resize(k + 1, refcheck=False)
    out_postings.resize(p, refcheck=False)
    return out_keys, cast(I64, out_offsets), out_postings
