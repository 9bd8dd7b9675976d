"""Unit tests of the matcher on invented articles: kinds, thresholds, passages, persistence."""

from __future__ import annotations

import base64
import gzip
import json
import pickle
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from xpostcheck.errors import ConfigError, XPostCheckError
from xpostcheck.match.index import IndexFileError, MatchConfig, SourceIndex, align
from xpostcheck.models import Match, Passage, SourceArticle
from xpostcheck.util.textnorm import tokenize

HARBOUR = SourceArticle(
    url="https://news.example.org/2026/harbour-wall",
    title="Town votes to rebuild the harbour wall",
    authors=("Mira Okonkwo",),
    published="2026-03-02",
    publisher="Example News",
    images=("https://news.example.org/img/wall.jpg",),
    html="<html><body><p>Original page</p></body></html>",
    text=(
        "The council of Porthwenna voted on Tuesday evening to rebuild the old harbour wall, "
        "which was breached twice during the winter storms and left the fish market flooded "
        "for nine days.\n"
        "Engineers told the meeting that the granite blocks laid in 1887 had shifted by almost "
        "a metre, and that a temporary barrier of sandbags would not survive another spring "
        "tide. The repair will cost about four million pounds, most of it from a coastal "
        "resilience fund.\n"
        "Fishermen who packed the public gallery applauded the decision, although several "
        "asked why the work could not begin before the autumn. The harbour master said boats "
        "would be moved to the north quay while divers inspect the foundations.\n"
        "A public exhibition of the design will open at the library next month, and residents "
        "can send comments by post or at the town hall until the end of April."
    ),
)
ORCHARD = SourceArticle(
    url="https://news.example.org/2026/orchard",
    title="Volunteers replant the community orchard",
    text=(
        "More than sixty volunteers spent the weekend replanting the community orchard on "
        "Mill Lane, where a fungal disease killed most of the old apple trees last year. "
        "The new saplings include twelve local varieties that were nearly lost, grafted from "
        "cuttings kept by a retired teacher in her back garden. Children from the primary "
        "school painted wooden labels for every tree, and a bee keeper brought two hives to "
        "the far corner of the field. The group hopes to hold its first cider pressing in "
        "three years, and it is looking for people with ladders who can help at harvest."
    ),
)
RIVER = SourceArticle(
    url="https://news.example.org/2026/river-survey",
    title="Survey finds otters back on the river",
    text=(
        "A survey by the county wildlife trust has found otters living along eleven miles of "
        "the River Fenn, the first confirmed sighting in the valley for almost four decades. "
        "Volunteers counted spraint and footprints at thirty sites between the weir and the "
        "estuary, and a camera trap near the old paper mill filmed a female with two cubs. "
        "The trust credits cleaner water since the sewage works was upgraded, and it has asked "
        "anglers and dog walkers to report any further sightings through its website."
    ),
)
PORTUGUESE = SourceArticle(
    url="https://noticias.example.com.br/feira-do-livro",
    title="Feira do livro volta à praça central",
    text=(
        "A feira do livro voltou à praça central neste sábado depois de três anos de "
        "ausência, com mais de oitenta bancas de editoras pequenas e sebos da região. "
        "A organização espera receber trinta mil visitantes até domingo, e a prefeitura "
        "fechou duas ruas para a instalação de uma tenda de leitura para crianças. "
        "Escritores locais farão sessões de autógrafos todas as tardes, e um concurso de "
        "contos premiará estudantes das escolas públicas com coleções de livros e bolsas "
        "para oficinas de escrita durante as férias de julho."
    ),
)
KOREAN = SourceArticle(
    url="https://news.example.co.kr/library",
    title="새 도서관 개관",
    text=(
        "시립 도서관이 삼 년간의 공사를 마치고 월요일 아침 문을 열었다. 새 건물은 강변 공원 "
        "옆에 자리 잡았으며 어린이 열람실과 지역 역사 자료실을 갖추고 있다. 개관 첫날에는 "
        "천 명이 넘는 시민들이 찾아와 책을 빌리고 전시를 둘러보았다. 도서관 측은 주말마다 "
        "작가와의 대화와 그림책 읽기 모임을 열 계획이라고 밝혔다. 시는 내년까지 버스 노선을 "
        "조정해 도서관 앞에 정류장을 새로 만들 예정이다. 주민들은 오래 기다린 공간이 생겨 "
        "기쁘다며 저녁 늦게까지 운영해 달라고 요청했다."
    ),
)
JAPANESE = SourceArticle(
    url="https://news.example.jp/bridge",
    title="古い橋の修理",
    text=(
        "市は川にかかる古い石の橋の修理を来月から始めると発表した。橋は百年以上前に造られ、"
        "去年の大雨で一部が崩れていた。工事の間は歩行者のために仮の橋が用意され、車は下流の"
        "新しい橋を使うことになる。地元の人々は橋の形をそのまま残してほしいと願っており、市は"
        "元の石をできるだけ使うと説明した。"
    ),
)
ALL = (HARBOUR, ORCHARD, RIVER, PORTUGUESE, KOREAN, JAPANESE)

HEAD = "Home | World | Sport | Weather\nLatest stories from our partners\n"
TAIL = "\nShare this story. Sign up for our newsletter. About us. Contact. Privacy policy."


@pytest.fixture
def index() -> SourceIndex:
    built = SourceIndex()
    assert built.add(ALL) == len(ALL)
    return built


def _words(article: SourceArticle) -> int:
    return len(tokenize(article.text))


def test_a_full_copy_in_page_chrome_is_found_with_exact_passages(index: SourceIndex) -> None:
    page = HEAD + HARBOUR.text + TAIL
    [match] = index.match(page)
    start = len(HEAD)
    assert match == Match(
        source_url=HARBOUR.url,
        coverage=1.0,
        kind="full",
        passages=(Passage(0, len(HARBOUR.text) - 1, start, start + len(HARBOUR.text) - 1),),
        score=1.0,
    )


@pytest.mark.parametrize("article", [PORTUGUESE, KOREAN, JAPANESE], ids=["pt", "ko", "ja"])
def test_copies_in_other_languages_are_found(index: SourceIndex, article: SourceArticle) -> None:
    [match] = index.match(HEAD + article.text + TAIL)
    assert (match.source_url, match.coverage, match.kind) == (article.url, 1.0, "full")


def test_an_excerpt_and_a_partial_copy_get_their_kind_and_exact_coverage(
    index: SourceIndex,
) -> None:
    paragraphs = HARBOUR.text.split("\n")
    total = _words(HARBOUR)
    first_two = "\n".join(paragraphs[:2])
    [partial] = index.match(HEAD + first_two + TAIL)
    assert partial.kind == "partial"
    assert partial.coverage == len(tokenize(first_two)) / total
    assert len(tokenize(first_two)) / total == 77 / 145
    last_two = "\n".join(paragraphs[2:])
    [excerpt] = index.match(HEAD + last_two + TAIL)
    assert excerpt.kind == "excerpt"
    assert excerpt.coverage == 68 / 145
    assert excerpt.passages == (
        Passage(
            HARBOUR.text.index("Fishermen"),
            len(HARBOUR.text) - 1,
            len(HEAD),
            len(HEAD) + len(last_two) - 1,
        ),
    )


def test_a_quotation_is_not_a_copy(index: SourceIndex) -> None:
    sentence = HARBOUR.text.split(". ")[1]  # one sentence: under min_words
    assert index.match(HEAD + "As the paper reported, " + sentence + TAIL) == []
    loose = SourceIndex(MatchConfig(min_words=10))
    loose.add([HARBOUR])
    [found] = loose.match(HEAD + sentence + TAIL)
    assert found.source_url == HARBOUR.url


def test_under_min_coverage_is_not_a_copy_even_with_many_words() -> None:
    long_source = SourceArticle(url="https://x.example/long", title="", text=_prose(900, 1))
    index = SourceIndex()
    index.add([long_source])
    tokens = tokenize(long_source.text)
    quote = long_source.text[: int(tokens.ends[99])]  # 100 words, 11% of the source
    assert index.match(HEAD + quote + TAIL) == []
    quote = long_source.text[: int(tokens.ends[149])]  # 150 words, 17%
    [match] = index.match(HEAD + quote + TAIL)
    assert (match.kind, match.coverage) == ("excerpt", 150 / 900)


def test_changed_words_do_not_split_the_passage(index: SourceIndex) -> None:
    edited = ORCHARD.text.replace("sixty", "seventy").replace("twelve", "fourteen")
    [match] = index.match(HEAD + edited + TAIL)
    assert match.coverage == 1.0
    assert match.kind == "full"
    assert len(match.passages) == 1


def test_a_dropped_sentence_is_not_counted(index: SourceIndex) -> None:
    sentences = RIVER.text.split(". ")
    dropped = sentences[1]
    page = HEAD + ". ".join(s for s in sentences if s != dropped) + TAIL
    [match] = index.match(page)
    assert match.coverage == 1 - len(tokenize(dropped)) / _words(RIVER) == 56 / 85
    assert len(match.passages) == 2


def test_reordered_paragraphs_are_all_counted(index: SourceIndex) -> None:
    paragraphs = HARBOUR.text.split("\n")
    page = HEAD + "\n".join([paragraphs[3], paragraphs[0], paragraphs[2], paragraphs[1]]) + TAIL
    [match] = index.match(page)
    assert (match.coverage, match.kind, len(match.passages)) == (1.0, "full", 4)
    for p in match.passages:
        assert page[p.page_start : p.page_end] == HARBOUR.text[p.source_start : p.source_end]


def test_an_unrelated_page_matches_nothing(index: SourceIndex) -> None:
    page = HEAD + _prose(400, 7) + TAIL
    assert index.match(page) == []
    assert index.match("") == []
    assert index.match(HEAD + HARBOUR.text, limit=0) == []


def test_several_copies_on_one_page_best_first_and_limited(index: SourceIndex) -> None:
    most_of_river = RIVER.text[: RIVER.text.index(" The trust")]  # 58 of 85 words
    page = HEAD + most_of_river + "\n" + ORCHARD.text + "\n" + HARBOUR.text + TAIL
    found = index.match(page)
    assert [m.source_url for m in found] == [HARBOUR.url, ORCHARD.url, RIVER.url]
    assert [m.kind for m in found] == ["full", "full", "partial"]
    assert [m.source_url for m in index.match(page, limit=2)] == [HARBOUR.url, ORCHARD.url]


def test_stock_phrases_shared_by_many_sources_are_not_evidence() -> None:
    footer = (
        "This article is published under a Creative Commons licence. Republish it free of "
        "charge as long as you credit the author, keep every link and do not edit the text."
    )
    articles = [
        SourceArticle(url=f"https://x.example/{i}", title="", text=_prose(120, i) + "\n" + footer)
        for i in range(40)
    ]
    index = SourceIndex()
    index.add(articles)
    assert index.match(HEAD + footer + TAIL) == []
    [match] = index.match(HEAD + articles[7].text + TAIL)
    assert (match.source_url, match.coverage) == (articles[7].url, 1.0)


def test_add_dedupes_by_url_and_replaces_changed_text(index: SourceIndex) -> None:
    assert len(index) == 6
    assert index.add([HARBOUR, ORCHARD]) == 0
    changed = SourceArticle(url=ORCHARD.url, title=ORCHARD.title, text=RIVER.text)
    assert index.add([changed]) == 1
    assert len(index) == 6
    assert index.get(ORCHARD.url) == changed
    found = {m.source_url for m in index.match(HEAD + RIVER.text + TAIL)}
    assert found == {RIVER.url, ORCHARD.url}
    assert index.match(HEAD + ORCHARD.text + TAIL) == []


def test_get_and_articles_return_every_field(index: SourceIndex) -> None:
    assert index.get(HARBOUR.url) == HARBOUR
    assert index.get("https://news.example.org/missing") is None
    assert list(index.articles()) == list(ALL)


def test_save_and_load_give_the_same_matches_and_articles(
    index: SourceIndex, tmp_path: Path
) -> None:
    path = tmp_path / "idx" / "sources.index"
    page = HEAD + ORCHARD.text + "\n" + HARBOUR.text[:600] + TAIL
    before = index.match(page)
    index.save(path)
    assert path.read_bytes()[:8] == b"XPCINDEX"
    assert [p.name for p in path.parent.iterdir()] == ["sources.index"]  # no temp file left
    loaded = SourceIndex.load(path)
    assert len(loaded) == 6
    assert loaded.match(page) == before
    assert list(loaded.articles()) == list(ALL)
    assert loaded.config == index.config


def test_a_loaded_index_grows_incrementally_and_saves_again(
    index: SourceIndex, tmp_path: Path
) -> None:
    path = tmp_path / "sources.index"
    index.save(path)
    loaded = SourceIndex.load(path)
    extra = SourceArticle(url="https://x.example/new", title="New", text=_prose(200, 3))
    replaced = SourceArticle(url=RIVER.url, title="Otters", text=_prose(150, 4))
    assert loaded.add([extra, replaced, HARBOUR]) == 2
    loaded.flush()  # the read-only bitmap of the file gains the new keys' bits
    assert _bitmap_passes(loaded, np.asarray(loaded._keys)).all()
    loaded.save(path)
    again = SourceIndex.load(path)
    assert len(again) == 7
    assert again.get(RIVER.url) == replaced
    assert [m.source_url for m in again.match(HEAD + extra.text + TAIL)] == [extra.url]
    assert [m.source_url for m in again.match(HEAD + replaced.text + TAIL)] == [RIVER.url]
    assert again.match(HEAD + RIVER.text + TAIL) == []
    assert [m.source_url for m in again.match(HEAD + KOREAN.text + TAIL)] == [KOREAN.url]


def test_a_pickled_index_matches_the_same(index: SourceIndex, tmp_path: Path) -> None:
    page = HEAD + PORTUGUESE.text + TAIL
    assert pickle.loads(pickle.dumps(index)).match(page) == index.match(page)
    index.save(tmp_path / "i")
    loaded = SourceIndex.load(tmp_path / "i")
    assert pickle.loads(pickle.dumps(loaded)).match(page) == index.match(page)


def test_thresholds_can_change_on_load_but_index_settings_cannot(
    index: SourceIndex, tmp_path: Path
) -> None:
    path = tmp_path / "sources.index"
    index.save(path)
    strict = SourceIndex.load(path, config=MatchConfig(min_coverage=0.48))
    assert strict.match(HEAD + "\n".join(HARBOUR.text.split("\n")[2:]) + TAIL) == []
    with pytest.raises(IndexFileError) as err:
        SourceIndex.load(path, config=MatchConfig(shingle=6))
    assert str(err.value) == (
        f"{path}: the index was built with shingle=5, not 6;"
        " delete the file so that the next scan rebuilds it"
    )


def test_bad_index_files_raise_one_clear_error(index: SourceIndex, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.index"
    with pytest.raises(IndexFileError, match=f"^{missing}: no index file here"):
        SourceIndex.load(missing)
    garbage = tmp_path / "garbage.index"
    garbage.write_bytes(b"PK\x03\x04 this is a zip, not an index" * 4)
    with pytest.raises(IndexFileError, match=f"^{garbage}: not an xpostcheck index"):
        SourceIndex.load(garbage)
    good = tmp_path / "good.index"
    index.save(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.index"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexFileError, match="the index is damaged"):
        SourceIndex.load(truncated)
    future = tmp_path / "future.index"
    future.write_bytes(data[:8] + (99).to_bytes(4, "little") + data[12:])
    with pytest.raises(
        IndexFileError, match="index format 99 is not one of the supported formats 1, 2, 3, 4"
    ):
        SourceIndex.load(future)
    header = tmp_path / "header.index"
    header.write_bytes(data[:24] + b"{not json" + data[33:])
    with pytest.raises(IndexFileError, match="cannot read the index"):
        SourceIndex.load(header)
    assert issubclass(IndexFileError, XPostCheckError)


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="min_coverage must be between 0 and 1"):
        MatchConfig(min_coverage=1.5)
    with pytest.raises(ConfigError, match="modulus must be a power of two"):
        MatchConfig(modulus=6)
    with pytest.raises(ConfigError, match="partial_coverage <= full_coverage"):
        MatchConfig(full_coverage=0.4)


def test_kind_thresholds_and_copy_rule() -> None:
    config = MatchConfig()
    assert [config.kind_for(c) for c in (1.0, 0.9, 0.89, 0.5, 0.49, 0.15)] == [
        "full", "full", "partial", "partial", "excerpt", "excerpt",
    ]  # fmt: skip
    assert config.is_copy(0.15, 50)
    assert not config.is_copy(0.149, 500)  # a quotation of a long article
    assert not config.is_copy(0.5, 49)  # too few words ...
    assert config.is_copy(1.0, 30)  # ... unless it is the whole of a short source
    assert config.df_limit(1) == 2
    assert config.df_limit(40) == 10
    assert config.df_limit(100_000) == 32


def test_align_without_an_index() -> None:
    result = align(ORCHARD.text, HEAD + ORCHARD.text + TAIL)
    assert (result.coverage, result.matched_words, result.source_words) == (1.0, 100, 100)
    assert result.passages == (
        Passage(0, len(ORCHARD.text) - 1, len(HEAD), len(HEAD) + len(ORCHARD.text) - 1),
    )
    assert align(ORCHARD.text, "nothing in common here at all").passages == ()


_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ner",
    "sta",
    "vu",
    "pe",
    "ron",
    "tal",
    "dis",
    "emb",
    "qua",
    "fio",
    "gre",
    "hul",
    "zan",
    "bor",
    "ite",
]


def _prose(words: int, seed: int) -> str:
    """Invented words, different for every seed (no two seeds share long runs)."""
    rng = random.Random(seed)
    out = []
    for i in range(words):
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))
        out.append(word + ("." if i % 12 == 11 else ""))
    return " ".join(out)


def test_verdicts_do_not_depend_on_how_many_sources_are_indexed() -> None:
    own = [HARBOUR, ORCHARD, RIVER, PORTUGUESE, KOREAN, JAPANESE]
    filler = [
        SourceArticle(url=f"https://filler.example/{i}", title="", text=_prose(100, 100 + i))
        for i in range(2000)
    ]
    small, large = SourceIndex(), SourceIndex()
    small.add(own + filler[:34])
    large.add(own + filler)
    assert (len(small), len(large)) == (40, 2006)
    pages = [
        HEAD + HARBOUR.text + TAIL,
        HEAD + "\n".join(HARBOUR.text.split("\n")[2:]) + TAIL,
        HEAD + ORCHARD.text.replace("sixty", "seventy") + "\n" + KOREAN.text + TAIL,
        HEAD + RIVER.text.split(". ")[0] + TAIL,
        HEAD + _prose(300, 5) + TAIL,
        HEAD + filler[20].text + TAIL,
    ]

    def verdicts(index: SourceIndex) -> list[list[tuple[str, float, str, tuple[Passage, ...]]]]:
        return [
            [(m.source_url, m.coverage, m.kind, m.passages) for m in index.match(page)]
            for page in pages
        ]

    found = verdicts(small)
    assert found == verdicts(large)
    assert [len(f) for f in found] == [1, 1, 2, 0, 0, 1]


def test_threads_may_match_at_once_while_the_first_merge_is_pending() -> None:
    from concurrent.futures import ThreadPoolExecutor

    pages = [HEAD + a.text + TAIL for a in ALL] * 4
    expected = [[a.url] for a in ALL] * 4
    index = SourceIndex()
    index.add(ALL)  # not merged yet: the first match() merges, once
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(index.match, pages))
    assert [[m.source_url for m in f] for f in found] == expected
    assert len(index._postings) == sum(int(n) for n in index._retrieval.effective)


def test_the_presence_bitmap_passes_every_key_and_lookup_finds_exactly_the_keys(
    index: SourceIndex,
) -> None:
    index.flush()
    keys = np.asarray(index._keys)
    rng = np.random.default_rng(5)
    queries = np.unique(np.concatenate([keys, rng.integers(0, 2**64, 20_000, dtype=np.uint64)]))
    positions, found = index._retrieval.lookup(queries)
    assert np.array_equal(queries[found], np.intersect1d(queries, keys))
    assert np.array_equal(keys[positions], queries[found])
    # A hash in no source gets past the bitmap rarely (at least 16 slots per key).
    assert 0 < _bitmap_passes(index, np.setdiff1d(queries, keys)).mean() < 0.07


def _bitmap_passes(index: SourceIndex, hashes: np.ndarray) -> np.ndarray:
    slot = (hashes >> np.uint64(index._retrieval.bitmap_shift)).astype(np.intp)
    return ((index._bitmap[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1).astype(bool)


def test_short_sources_need_a_larger_estimate_to_be_aligned() -> None:
    config = MatchConfig()
    index = SourceIndex(config)
    index.add(
        [
            SourceArticle(url=f"https://x.example/{n}", title="", text=_prose(n, n))
            for n in (40, 100, 200, 400, 2000)
        ]
    )
    index.flush()
    least = index._retrieval.least_estimate().tolist()
    # A source of n tokens needs max(0.15, min(50 / n, 0.9)) of it copied: min_estimate
    # (0.05, for 0.15) grows in the same proportion.
    assert least == pytest.approx(
        [0.05 * 0.9 / 0.15, 0.05 * 0.5 / 0.15, 0.05 * 0.25 / 0.15, 0.05, 0.05]
    )
    lax = SourceIndex(MatchConfig(min_coverage=0.0, partial_coverage=0.0))
    lax.add([SourceArticle(url="https://x.example/1", title="", text=_prose(40, 1))])
    lax.flush()
    assert lax._retrieval.least_estimate().tolist() == [0.05]


# An index file written by the previous release (format 1: blake2b token hashes), holding
# ORCHARD only: gzip, then base64.
FORMAT_1_INDEX = (
    "H4sIAAAAAAACA+WWbWwURRiAK6V8FiwfFSgWhiu0WOq1d+1dW+QrFkOKYBokFxC0zu3O3o63t7OZnevdWdpEJfqD"
    "H4JURCWa+EPAGKMokhAk0CBBEkEbojYQiQYIEhRFTNUI8Z29KZQTTAQTf7h/nsz7Pe+8dzMrWpqaH1r4wIo78rLf"
    "2UFZtvsMxhNY+GajQBXyacw2aAwW7b4EtVs11kY4jhEQ1PgDITCQ0hTjuguiUA0IjKRlXW/XCFIHc0FxjkL6uya1"
    "Y5Zce9GYnrSSMlaDiu3ihGMRKanzRDjdqhuwqg1eXbW6JubZiMGQksawMyAIcQWFPWVtaqSNhm2d6iCSkYM1HSBK"
    "cksuVvlMIRx3dnW1TVKun6S9AvyMx6qDNcFwNeMapNN9j4IL5LZogspmyXJ0yqEWash1uKZfIIjjlQ9rzDnOuF43"
    "4ySTzTYn2eCrQqvqaiFgfbhBhmWG4RKh1DSrrgNFIBAKSr3DYD92rN+/7qp/IFQblgbEMIgmaBsZGCIgDeqDXgZb"
    "sDix3b+qG70E9rWuX69vCHnxYV8Qn/HMdQb10qIxWCMtBEkLT7kmGZDKULgRxMFAINivbb3BLqUyGG7wSkwQgQdG"
    "CNR62vpsC6T2phEaoVsdHehvv81WasPJipMFzqXO1Ae90XGrfymeVqTfX7r70N7557q3+b7d1Ys2rR1b8cSQtsPL"
    "jn0+M7rls3ePNbf6t/UceK+nYGioc9ue5l1fnwyduPTp6Y3p1Y0XI5XNhQ8PmtP9dvn7Wyb9OvfZyWdemLBoR1Pw"
    "k+4Xz/BdTbvJ/CkdJU8uKnl9+/byfcMffGfuh/t++ua5JUeeX7R859L9y0bfO7Ro2JH9kaJRF+8rWxZYeWDW79NL"
    "rGBr+jWjd/OFNZpzMbSysuesMbZsBp1XO5MtOH60o/RUrzizeHdqcPe0Z7pSO1/KWzBy3eanW/QZkZb1885H5qQn"
    "rdsSWYjn9X035q0rP/Qt/rl9wkf81cKOrdWH9r6x5+XHas8eP7i+s7NIPHXucOTjR37bQfOPdo3YW0nOH+wZPLqF"
    "bw3lfylOmfEurezEpcSKTQWvhE+fu/BjWZe58sL44qnBy4nH+xaWflG2cd0ffRMrrnwfefOry3n/8Ov//1F/P3n5"
    "ioMVCxSHKA5VHKY4XHGE4kjFQsVRiqMV71QsUhyjOFZxnOJ4xWLFuxQnKE5UnKRYojhZ8W7FUsUpilMVkeI0RZ9i"
    "meJ0xRmK5YoVijMV71GsVJyV9//4bnef+n+cP3f+83PmuzBnPotvMneTbzJnKGeeynPm5nbrX8o4QcLENnJpWmRQ"
    "G7OStiCEu8h1iC1AR1CKELhmdMSJY2Fb3lmeWGOJRNKm4KUuU8RstJRaFlqCbVKFUiaB4BgZSTuGLaRTl2CXoDhY"
    "EB0l4PZDzPAiMUtH2IGrCglOiIssDLoMwdyPloMabnDkYseSlyWitmYldbBMEauNIItpELsNc0oEBVfYi4CCufTC"
    "3MqAgSuqUIxjQ0BWg7ME0pLCu3hRnDgCRTNQIwdvDnpBsAZlQxYkEcVaHMVga8T2oyaTWjondjaIrNvh8B7hGeRq"
    "JmMWcjC1ZZIUY+AAu4gSy0XwEEMEnksZb3NVCJ4skDBKoBOEODIJZ8mYCa1OMWTCbQ+bYF54A3NoMrfBRjXKoMTS"
    "s02JgZeDTOZk7U3ZQyogHeXQPI3q4OVw4rryuGA7woTsXlPdbA1UIAqtZiwuLWSVDmHyDFJUmFC8rsspSJkMwSsL"
    "umE5CFoL5wwVCn/OHDUOurX5a/cJKrx3oy9ybfTUoN14ynzyBZYUJuPek8F7SSWjFnVNooPAhofrABGXoaULnFSM"
    "XPUwRcJSxh3/xu9/7S36/Qmnn0n9wAsAAA=="
)


def test_an_index_file_of_format_1_loads_matches_the_same_and_stays_format_1(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.index"
    path.write_bytes(gzip.decompress(base64.b64decode("".join(FORMAT_1_INDEX))))
    assert path.read_bytes()[8:12] == (1).to_bytes(4, "little")
    old = SourceIndex.load(path)
    assert list(old.articles()) == [ORCHARD]
    page = HEAD + ORCHARD.text.replace("sixty", "seventy") + TAIL
    fresh = SourceIndex()
    fresh.add([ORCHARD])

    def found(index: SourceIndex, text: str) -> list[tuple[str, float, str, tuple[Passage, ...]]]:
        # The score (share of samples found) differs: other hashes sample other shingles.
        return [(m.source_url, m.coverage, m.kind, m.passages) for m in index.match(text)]

    assert found(old, page) == found(fresh, page)
    assert [(m.coverage, m.kind) for m in old.match(page)] == [(1.0, "full")]
    # Grown and saved again, it keeps its hashes and its format (with what its readers need).
    assert old.add([HARBOUR]) == 1
    old.save(path)
    data = path.read_bytes()
    assert data[8:12] == (1).to_bytes(4, "little")
    header = json.loads(data[24 : 24 + int.from_bytes(data[16:24], "little")])
    assert {"directory", "bitmap"} <= set(header["arrays"]) and header["dir_steps"] >= 1
    again = SourceIndex.load(path)
    assert [m.source_url for m in again.match(HEAD + HARBOUR.text + TAIL)] == [HARBOUR.url]
    assert found(again, page) == found(fresh, page)
    # A new index is written in format 4 (format 2 with content-word pairs and compressed
    # texts), without the directory; an index without pairs (as loaded from a format 2 file)
    # stays format 2.
    fresh.save(tmp_path / "new.index")
    assert (tmp_path / "new.index").read_bytes()[8:12] == (4).to_bytes(4, "little")
    SourceIndex(MatchConfig(pair_modulus=0)).save(tmp_path / "no-pairs.index")
    assert (tmp_path / "no-pairs.index").read_bytes()[8:12] == (2).to_bytes(4, "little")
    assert SourceIndex.load(tmp_path / "no-pairs.index").config.pair_modulus == 0


def test_load_applies_the_scans_thresholds_and_keeps_the_files_structure(
    index: SourceIndex, tmp_path: Path
) -> None:
    path = tmp_path / "sources.index"
    index.save(path)
    for x in (0.15, 0.3, 0.95):
        config = MatchConfig(
            min_coverage=x, partial_coverage=max(0.5, x), full_coverage=max(0.9, x)
        )
        loaded = SourceIndex.load(path, config=config)
        assert loaded.config == config
        assert (loaded.config.shingle, loaded.config.modulus) == (5, 8)  # as in the file
    half = HEAD + "\n".join(HARBOUR.text.split("\n")[2:]) + TAIL  # 0.47 of HARBOUR
    lenient = SourceIndex.load(path, config=MatchConfig(min_coverage=0.3))
    strict = SourceIndex.load(path, config=MatchConfig(min_coverage=0.5))
    assert [m.kind for m in lenient.match(half)] == ["excerpt"]
    assert strict.match(half) == []
    for shaping in ({"shingle": 4}, {"modulus": 16}, {"min_samples": 32}):
        with pytest.raises(IndexFileError, match="the index was built with"):
            SourceIndex.load(path, config=MatchConfig(**shaping))  # type: ignore[arg-type]


def test_an_empty_index_saves_loads_and_matches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.index"
    SourceIndex().save(path)
    loaded = SourceIndex.load(path)
    assert (len(loaded), list(loaded.articles()), loaded.match(HEAD + HARBOUR.text)) == (0, [], [])
    assert loaded.add([HARBOUR]) == 1
    assert [m.source_url for m in loaded.match(HEAD + HARBOUR.text)] == [HARBOUR.url]


def test_a_format_3_file_loads_matches_the_same_and_is_saved_again_as_format_4(
    tmp_path: Path,
) -> None:
    index = SourceIndex()
    index.add([HARBOUR, ORCHARD])
    old = tmp_path / "old.index"
    index._write(old, version=3)  # as the previous release wrote it: raw texts, 64-bit offsets
    assert old.read_bytes()[8:12] == (3).to_bytes(4, "little")
    page = HEAD + ORCHARD.text.replace("sixty", "seventy") + TAIL

    def found(idx: SourceIndex) -> list[tuple[str, float, str, tuple[Passage, ...]]]:
        return [(m.source_url, m.coverage, m.kind, m.passages) for m in idx.match(page)]

    loaded = SourceIndex.load(old)
    assert loaded._offsets.dtype == np.int64
    assert list(loaded.articles()) == [HARBOUR, ORCHARD]
    assert found(loaded) == found(index) and found(index)[0][0] == ORCHARD.url
    new = tmp_path / "new.index"
    loaded.save(new)
    data = new.read_bytes()
    assert data[8:12] == (4).to_bytes(4, "little")
    # The texts are compressed: the plain words of a source are nowhere in the file.
    assert HARBOUR.text.encode("utf-8")[:60] not in data
    assert new.stat().st_size < old.stat().st_size
    again = SourceIndex.load(new)
    assert again._offsets.dtype == np.uint32
    assert list(again.articles()) == [HARBOUR, ORCHARD]
    assert found(again) == found(index)
    # Grown and merged after loading (32-bit offsets from the file), it still finds both.
    assert again.add([replace(ORCHARD, url="https://x.example/orchard-2")]) == 1
    assert {m.source_url for m in again.match(page)} == {
        ORCHARD.url,
        "https://x.example/orchard-2",
    }
