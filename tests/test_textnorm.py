"""Normalisation, tokens with their original spans, and hashes that never change."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata

import numpy as np

from xpostcheck.textnorm import (
    normalize_text,
    shingle_hashes,
    stable_hash64,
    token_hashes,
    tokenize,
)


def test_normalize_text_folds_case_width_quotes_dashes_and_spaces() -> None:
    text = "  \u201cThe ＦＩＮＡＬ\u201d word \u2014 it\u2019s   Straße\u2013time \u00abok\u00bb\n"
    assert normalize_text(text) == '"the final" word - it\'s strasse-time "ok"'


def test_tokens_are_folded_and_keep_their_original_spans() -> None:
    text = "The Mayor\u2019s “ＰＬＡＮ” — costs €4.5m, doesn't it?"
    tokens = tokenize(text)
    assert tokens.words == ("the", "mayor", "s", "plan", "costs", "4", "5m", "doesn", "t", "it")
    assert [text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True)] == [
        "The", "Mayor", "s", "ＰＬＡＮ", "costs", "4", "5m", "doesn", "t", "it",
    ]  # fmt: skip


def test_accents_and_combining_marks_stay_inside_their_word() -> None:
    composed = "Ação não é pública"
    decomposed = unicodedata.normalize("NFD", composed)
    assert tokenize(composed).words == ("ação", "não", "é", "pública")
    assert tokenize(decomposed).words == ("ação", "não", "é", "pública")
    assert tokenize("हिन्दी भाषा").words == ("हिन्दी", "भाषा")


def test_korean_words_split_on_spaces_and_cjk_thai_by_character() -> None:
    assert tokenize("시민들이 새 도서관을 열었다.").words == (
        "시민들이",
        "새",
        "도서관을",
        "열었다",
    )
    text = "東京の図書館 opened ในเมือง"
    tokens = tokenize(text)
    assert tokens.words == ("東", "京", "の", "図", "書", "館", "opened", *"ในเมือง")
    assert [text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True)][:7] == [
        "東", "京", "の", "図", "書", "館", "opened",
    ]  # fmt: skip


def test_half_width_katakana_and_underscores() -> None:
    assert tokenize("ｶﾀｶﾅ snake_case").words == ("カ", "タ", "カ", "ナ", "snake_case")
    # A text without any spaceless script gives the same tokens for underscores.
    assert tokenize("snake_case word").words == ("snake_case", "word")


def test_empty_and_punctuation_only_texts_have_no_tokens() -> None:
    for text in ("", "  ", "—– … !!"):
        tokens = tokenize(text)
        assert len(tokens) == 0
        assert tokens.starts.tolist() == []


def test_stable_hash_is_pinned_and_the_same_in_another_process() -> None:
    assert stable_hash64("copy") == 0x22607B27729E6E7B
    code = "from xpostcheck.textnorm import stable_hash64; print(stable_hash64('copy'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert int(out.stdout) == 0x22607B27729E6E7B


def test_token_hashes_fill_the_callers_cache() -> None:
    cache: dict[str, int] = {}
    hashes = token_hashes(("a", "b", "a"), cache)
    assert hashes.tolist() == [stable_hash64("a"), stable_hash64("b"), stable_hash64("a")]
    assert cache == {"a": stable_hash64("a"), "b": stable_hash64("b")}


def test_shingle_hashes_depend_on_the_window_and_its_order() -> None:
    words = tuple(
        ["one", "two", "three", "four", "five", "one", "two", "three", "four", "five", "six"]
    )
    shingles = shingle_hashes(token_hashes(words), 5)
    assert shingles.dtype == np.uint64
    assert len(shingles) == len(words) - 4
    assert shingles[0] == shingles[5]  # same five words, same hash
    assert len(set(shingles[:5].tolist())) == 5
    swapped = shingle_hashes(token_hashes(("two", "one", "three", "four", "five")), 5)
    assert swapped[0] != shingles[0]
    assert shingle_hashes(token_hashes(("too", "short")), 5).tolist() == []


def test_the_fast_and_the_full_path_give_the_same_tokens() -> None:
    plain = "Café Über naïve ΣΟΦΙΑ 東京"  # folding keeps every offset: the fast path
    forcing = plain + " ﬁ Straße"  # a ligature and ß change lengths: the full path
    fast, full = tokenize(plain), tokenize(forcing)
    assert fast.words == ("café", "über", "naïve", "σοφια", "東", "京")
    assert full.words == (*fast.words, "fi", "strasse")
    assert full.starts[:6].tolist() == fast.starts.tolist() == [0, 5, 10, 16, 22, 23]
    assert [forcing[a:b] for a, b in zip(full.starts, full.ends, strict=True)][-2:] == [
        "ﬁ",
        "Straße",
    ]
