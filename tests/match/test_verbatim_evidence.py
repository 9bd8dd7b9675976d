"""A copy rests on verbatim text: the same words of a source in another order (two pages on
one narrow topic, such as two seasons' race calendars) are not reported as a copy with the
shipped thresholds, while a lightly edited copy still is."""

from __future__ import annotations

import random

from xpostcheck.match import MatchConfig, SourceIndex
from xpostcheck.models import SourceArticle

_VOCAB = (
    "round track circuit date april may june july august september qualifying race final "
    "series stage entry grid points leader team driver car class heat practice results "
    "north south valley ridge harbour lakeside speedway schedule the of and a to in at"
)


_WORDS = _VOCAB.split()
_WEIGHTS = [1 / (rank + 1) for rank in range(len(_WORDS))]  # as skewed as real word counts


def _calendar(seed: int, words: int = 400) -> str:
    rng = random.Random(seed)
    drawn = rng.choices(_WORDS, _WEIGHTS, k=words)
    return "\n".join(" ".join(drawn[i : i + 10]) + "." for i in range(0, words, 10))


def _index(config: MatchConfig) -> SourceIndex:
    index = SourceIndex(config)
    index.add(
        SourceArticle(url=f"https://pub.example/calendar/{n}", title="", text=_calendar(n))
        for n in range(300)
    )
    index.flush()
    return index


def test_the_same_narrow_vocabulary_in_another_order_is_not_a_copy() -> None:
    index = _index(MatchConfig())
    reported = [m.source_url for n in range(1000, 1040) for m in index.match(_calendar(n, 900))]
    assert reported == []


def test_a_lightly_edited_copy_is_still_a_copy() -> None:
    index = _index(MatchConfig())
    original = _calendar(7)
    lines = original.split("\n")
    lines[3] = "An entry added by the republisher about parking at the venue."
    lines[10] = lines[10].replace(" ", "  ")
    del lines[20]
    found = index.match("\n".join(lines))
    assert [m.source_url for m in found] == ["https://pub.example/calendar/7"]
    assert found[0].coverage > 0.9


def test_without_copy_thresholds_the_verbatim_rule_is_off() -> None:
    """Thresholds off (as benchmarks/pan.py measures alignment) report every aligned
    passage, the reordered vocabulary's too: the rule is a copy threshold, not alignment."""
    index = _index(MatchConfig(min_coverage=0, min_words=0))
    reported = [m for n in range(1000, 1040) for m in index.match(_calendar(n, 900))]
    assert reported
