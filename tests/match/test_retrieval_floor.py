"""Which sources with few hits retrieval sends to alignment (issue 11)."""

from __future__ import annotations

import numpy as np

from xpostcheck.match.config import MatchConfig
from xpostcheck.match.retrieval import _choose


def _chosen(hits: list[int], shingle_hits: list[int]) -> set[int]:
    """Doc ids chosen among sources whose estimate is far below the least one (a small
    passage of a long source), with the copy thresholds off."""
    n = len(hits)
    docs = np.arange(n, dtype=np.uint32)
    h = np.array(hits, dtype=np.int64)
    estimate = h / 1000.0  # 1,000 samples each: 0.2-0.3%, far below the least estimate
    chosen, _ = _choose(
        MatchConfig(min_coverage=0, min_words=0),
        docs,
        h,
        np.array(shingle_hits, dtype=np.int64),
        estimate,
        h * 40.0,  # 40 tokens per sample
        np.full(n, 0.05),
        2000,
        np.full(n, 40000.0),
        np.ones(n, dtype=np.bool_),
    )
    return {int(docs[k]) for k in chosen}


def test_two_hits_vouch_for_a_small_passage_only_with_an_identical_run() -> None:
    # 0: two content-word pairs (two texts on one topic share names: "alexander allison",
    # "wanganui nurseryman"); 1: a pair and a 5-token run; 2: three pairs; 3: one shingle.
    assert _chosen([2, 2, 3, 1], [0, 1, 0, 1]) == {1, 2}


def test_the_rule_needs_the_thresholds_to_allow_a_small_copy() -> None:
    n = 2
    h = np.array([2, 3], dtype=np.int64)
    chosen, _ = _choose(
        MatchConfig(),  # 15% of a 40,000-token source: far more than 2 hits vouch for
        np.arange(n, dtype=np.uint32),
        h,
        np.array([1, 1], dtype=np.int64),
        h / 1000.0,
        h * 40.0,
        np.full(n, 0.05),
        2000,
        np.full(n, 40000.0),
        np.ones(n, dtype=np.bool_),
    )
    assert chosen.size == 0
