"""The matcher's settings: what counts as a copy, its kind, and how the index samples shingles.

In: threshold values (from options, a config file or a saved index). Out: MatchConfig, whose
methods answer "is this a copy?", "which kind?" and "how common is a stock phrase?".
"""

from __future__ import annotations

from dataclasses import dataclass

from xpostcheck import options
from xpostcheck.errors import ConfigError
from xpostcheck.models import CopyKind

__all__ = ["SHAPING", "MatchConfig"]


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
    # a source also keeps pairs of neighbouring content words (order-free) whose hash is 0 mod
    # this, halved like ``modulus`` down to 2, so an edited passage is still retrieved; 0
    # keeps none (index files written before pairs were kept load with 0)
    pair_modulus: int = 4
    max_df: int = 32  # a shingle in more sources than this is a stock phrase ...
    max_df_share: float = 0.25  # ... or in more than this share of them (at least 2 kept)
    max_gap: int = 8  # grow tiles over edits of up to this many tokens
    fuzzy: bool = True  # seeds that survive edits (content-word pairs), not only exact tiles
    fuzzy_gap: int = 30  # chain tiles and seeds across gaps of at most this many tokens
    min_estimate: float = 0.05  # retrieval: least estimated containment worth aligning
    candidates: int = 20  # retrieval: most sources aligned per page (more on long pages)
    min_passage: int = 10  # a passage shorter than this (tokens) stands only beside others
    # with the copy thresholds on (min_words > 0), a copy needs at least this share of its
    # matched words in verbatim runs of ``shingle`` tokens or more, and one run of twice
    # that: the same words in another order (two pages on one narrow topic) are not a copy
    min_exact_share: float = 0.2
    # a quotation inside a longer text: under this share of the source, ...
    quote_coverage: float = 0.25
    quote_words: int = 120  # ... at most this many words, ...
    quote_page_share: float = 0.2  # ... and at most this share of the page's words

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.min_coverage <= 1.0:
            problems.append("min_coverage must be between 0 and 1")
        if not 0.0 <= self.min_exact_share <= 1.0:
            problems.append("min_exact_share must be between 0 and 1")
        if not self.min_coverage <= self.partial_coverage <= self.full_coverage <= 1.0:
            problems.append("need min_coverage <= partial_coverage <= full_coverage <= 1")
        if self.min_words < 0:
            problems.append("min_words must be >= 0")
        if not 2 <= self.shingle <= 32:
            problems.append("shingle must be between 2 and 32")
        if self.modulus < 1 or self.modulus & (self.modulus - 1):
            problems.append("modulus must be a power of two")
        if self.pair_modulus < 0 or self.pair_modulus & (self.pair_modulus - 1):
            problems.append("pair_modulus must be 0 or a power of two")
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

    def is_copy(self, coverage: float, matched_words: int, page_words: int | None = None) -> bool:
        """A copy, not a quotation: enough of the source, and enough words (or all of it).

        Given the page's own length, a short passage that is only a small part of a much
        longer page is a quotation too, even when it is a large share of a short source
        (see "What counts as a copy" in docs/matching.md).
        """
        if coverage < self.min_coverage or matched_words == 0:
            return False
        if (
            self.min_words
            and page_words is not None
            and self.is_quotation(coverage, matched_words, page_words)
        ):
            return False
        return matched_words >= self.min_words or coverage >= self.full_coverage

    def is_quotation(self, coverage: float, matched_words: int, page_words: int) -> bool:
        """Quoted inside a longer text: under ``quote_coverage`` of the source, at most
        ``quote_words`` words, and at most ``quote_page_share`` of the page's words. Off
        with the other copy thresholds (``min_words=0``)."""
        return (
            coverage < self.quote_coverage
            and matched_words <= self.quote_words
            and matched_words <= self.quote_page_share * page_words
        )

    def df_limit(self, sources: int) -> int:
        """Largest number of sources a shingle may be in and still count for retrieval."""
        return max(2, min(self.max_df, int(self.max_df_share * sources)))


# Settings that shape the saved arrays; thresholds may change between runs, these may not.
# ``pair_modulus`` shapes them too, but is always taken from the file (an older file without
# pairs keeps working as it did), so it is not listed here.
SHAPING = ("shingle", "modulus", "min_samples")
