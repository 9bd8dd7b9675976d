"""Edited copies, stock phrases and quotations judged against the page (issues 9 and 11)."""

from __future__ import annotations

import random

from xpostcheck.match import MatchConfig, SourceIndex, align
from xpostcheck.models import SourceArticle

_WORDS = [
    "river",
    "harbour",
    "orchard",
    "lantern",
    "meadow",
    "copper",
    "violin",
    "glacier",
    "thunder",
    "pepper",
    "marble",
    "falcon",
    "quarry",
    "saddle",
    "ember",
    "willow",
    "canyon",
    "beacon",
    "harvest",
    "timber",
    "summit",
    "cobalt",
    "ribbon",
    "walnut",
    "prairie",
    "anchor",
    "velvet",
    "comet",
    "basalt",
    "tundra",
]


def _text(words: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(_WORDS) + rng.choice("abcdefgh") for _ in range(words))


def test_an_obfuscated_passage_is_one_passage_with_its_edges() -> None:
    source = _text(300, 1)
    words = source.split()
    copied = words[100:200]
    edited = []
    for n, word in enumerate(copied):  # swap neighbours, replace one word in eight
        if n % 8 == 3:
            edited.append("zzz" + str(n))
        else:
            edited.append(word)
    for n in range(0, len(edited) - 1, 6):
        edited[n], edited[n + 1] = edited[n + 1], edited[n]
    page = _text(150, 3) + " " + " ".join(edited) + " " + _text(150, 4)
    result = align(source, page, MatchConfig(min_coverage=0, min_words=0))
    assert len(result.passages) == 1
    assert 0.30 <= result.coverage <= 0.38  # 100 of 300 words, edges within a few words


def test_a_lone_stock_phrase_is_not_a_passage() -> None:
    phrase = "under the americans with disabilities act"
    source = _text(200, 5) + " " + phrase + " " + _text(200, 6)
    page = _text(200, 7) + " " + phrase + " " + _text(200, 8)
    assert align(source, page, MatchConfig(min_coverage=0, min_words=0)).passages == ()


def test_a_short_quotation_inside_a_longer_text_is_not_a_copy() -> None:
    config = MatchConfig()
    # 19% of a 483-word source, two credited paragraphs in a 900-word commentary: a quotation
    assert not config.is_copy(0.19, 92, page_words=900)
    # the same share alone on a page (little text of its own): an excerpt copy
    assert config.is_copy(0.19, 92, page_words=200)
    # the boundary on each side: words, page share and source share
    assert config.is_copy(0.19, 121, page_words=5000)  # more than quote_words
    assert not config.is_copy(0.19, 120, page_words=600)  # 20% of the page exactly
    assert config.is_copy(0.19, 120, page_words=599)  # just over 20% of the page
    assert config.is_copy(0.25, 92, page_words=900)  # a quarter of the source is a copy
    assert config.is_copy(0.19, 92)  # without the page's length: the source rule alone
    # thresholds off: everything aligned counts
    assert MatchConfig(min_coverage=0, min_words=0).is_copy(0.19, 92, page_words=900)


def _index(config: MatchConfig, texts: dict[str, str]) -> SourceIndex:
    index = SourceIndex(config)
    index.add(SourceArticle(url=u, title="", text=t) for u, t in texts.items())
    return index


def test_a_small_passage_of_a_long_source_is_retrieved_when_thresholds_allow() -> None:
    long_source = _text(4000, 11)
    passage = " ".join(long_source.split()[2000:2080])  # 2% of the source
    others = {f"https://ex.org/{n}": _text(300, 100 + n) for n in range(30)}
    page = _text(200, 12) + " " + passage + " " + _text(200, 13)
    off = _index(
        MatchConfig(min_coverage=0, min_words=0), {**others, "https://ex.org/long": long_source}
    )
    [match] = off.match(page)
    assert match.source_url == "https://ex.org/long"
    assert 0.019 <= match.coverage <= 0.021
    shipped = _index(MatchConfig(), {**others, "https://ex.org/long": long_source})
    assert shipped.match(page) == []  # 2% of a source is no copy


def test_a_long_page_holding_many_sources_gets_them_all_aligned() -> None:
    texts = {f"https://ex.org/{n}": _text(200, 200 + n) for n in range(30)}
    page = "\n".join(texts.values())  # 30 whole copies, more than candidates=20
    found = _index(MatchConfig(), texts).match(page, limit=50)
    assert {m.source_url for m in found} == set(texts)
