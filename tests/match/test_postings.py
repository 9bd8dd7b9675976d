"""The postings merged a slice of the key space at a time equal one sort of every posting."""

from __future__ import annotations

import numpy as np
import pytest

from xpostcheck.match import postings as postings_module
from xpostcheck.match.postings import Pending, merge_postings


def _docs(rng: np.random.Generator, first: int, count: int) -> list[tuple[np.ndarray, int]]:
    """Documents' sampled keys: sorted distinct uniform hashes, some shared between docs
    (stock phrases), and a few in the lowest and highest slices' edges."""
    shared = rng.integers(0, 2**64, size=40, dtype=np.uint64)
    edges = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1], dtype=np.uint64)
    out = []
    for doc in range(first, first + count):
        own = rng.integers(0, 2**64, size=int(rng.integers(0, 60)), dtype=np.uint64)
        keys = np.unique(
            np.concatenate([own, rng.choice(shared, size=5), rng.choice(edges, size=2)])
        )
        out.append((keys, doc))
    return out


def _expected(docs: list[tuple[np.ndarray, int]], alive: set[int]) -> tuple[np.ndarray, ...]:
    pairs = sorted((int(k), d) for keys, d in docs if d in alive for k in keys.tolist())
    keys = np.array([k for k, _ in pairs], dtype=np.uint64)
    ids = np.array([d for _, d in pairs], dtype=np.uint32)
    distinct, starts = np.unique(keys, return_index=True)
    return distinct, np.append(starts, keys.size), ids


def _merge_all(
    batches: list[list[tuple[np.ndarray, int]]], dropped: set[int]
) -> tuple[np.ndarray, ...]:
    keys = np.zeros(0, dtype=np.uint64)
    offsets = np.zeros(1, dtype=np.int64)
    ids = np.zeros(0, dtype=np.uint32)
    total = sum(len(b) for b in batches)
    for i, batch in enumerate(batches):
        pending = Pending()
        for sampled, doc in batch:
            pending.append(sampled, doc)
        alive = None
        if i == len(batches) - 1 and dropped:  # drops are applied at a later merge
            alive = np.ones(total, dtype=np.uint8)
            alive[sorted(dropped)] = 0
        keys, offsets, ids = merge_postings(keys, offsets, ids, pending, alive)
    return keys, offsets, ids


@pytest.mark.parametrize("slice_postings", [1 << 20, 1000, 100])
@pytest.mark.parametrize("dropped", [set(), {0, 3, 150, 299}])
def test_sliced_merges_equal_one_sort(
    monkeypatch: pytest.MonkeyPatch, slice_postings: int, dropped: set[int]
) -> None:
    monkeypatch.setattr(postings_module, "_SLICE_POSTINGS", slice_postings)
    monkeypatch.setattr(postings_module, "_CHUNK", 100)  # many chunks, some docs in each
    rng = np.random.default_rng(11)
    docs = _docs(rng, 0, 300)
    batches = [docs[:200], docs[200:201], docs[201:]]  # a first merge, one more, the rest
    keys, offsets, ids = _merge_all(batches, dropped)
    want_keys, want_offsets, want_ids = _expected(docs, set(range(300)) - dropped)
    assert keys.dtype == np.uint64 and ids.dtype == np.uint32
    assert offsets.dtype == np.uint32  # the postings fit in 32 bits
    assert np.array_equal(keys, want_keys)
    assert np.array_equal(offsets.astype(np.int64), want_offsets)
    assert np.array_equal(ids, want_ids)


def test_new_keys_are_reported_ascending_slice_by_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings_module, "_SLICE_POSTINGS", 16)
    docs = _docs(np.random.default_rng(3), 0, 50)
    pending = Pending()
    for sampled, doc in docs:
        pending.append(sampled, doc)
    seen: list[np.ndarray] = []
    empty = np.zeros(0, dtype=np.uint64)
    merge_postings(
        empty, np.zeros(1, dtype=np.int64), empty.astype(np.uint32), pending, None, seen.append
    )
    assert len(seen) > 4  # several slices
    together = np.concatenate(seen)
    assert np.all(together[1:] >= together[:-1])
    assert together.size == sum(k.size for k, _ in docs)


def test_merging_nothing_keeps_the_arrays_and_drops_the_dead() -> None:
    docs = _docs(np.random.default_rng(5), 0, 20)
    keys, offsets, ids = _merge_all([docs], set())
    same = merge_postings(keys, offsets, ids, Pending())
    assert all(np.array_equal(a, b) for a, b in zip(same, (keys, offsets, ids), strict=True))
    alive = np.ones(20, dtype=np.uint8)
    alive[7] = 0
    _, _, left = merge_postings(keys, offsets, ids, Pending(), alive)
    assert 7 in ids.tolist() and 7 not in left.tolist()
    assert left.size == ids.size - docs[7][0].size
