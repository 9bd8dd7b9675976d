"""Normalisation, tokens with their original spans, and hashes that never change."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import unicodedata

import numpy as np

from xpostcheck.util.textnorm import (
    TOKEN_RE,
    fast_token_hashes,
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
    code = "from xpostcheck.util.textnorm import stable_hash64; print(stable_hash64('copy'))"
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


def _reference_tokens(text: str) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
    """Tokens by the definition: TOKEN_RE over the folded text (or over the original text,
    folding the tokens afterwards, when NFKC or folding would move offsets)."""
    folded = text.casefold()
    if len(folded) == len(text) and unicodedata.is_normalized("NFKC", text):
        found = list(TOKEN_RE.finditer(folded))
        return tuple(m.group() for m in found), [m.span() for m in found]
    found = list(TOKEN_RE.finditer(text))
    if not found:
        return (), []
    joined = "\x00".join(m.group() for m in found)
    words = unicodedata.normalize("NFKC", joined).casefold().split("\x00")
    return tuple(words), [m.span() for m in found]


def test_the_vectorised_tokeniser_follows_the_token_pattern() -> None:
    cases = [
        "The Mayor\u2019s \u201cPLAN\u201d \u2014 costs \u20ac4.5m",
        "\u0301\u0301abc \u0301",  # marks that follow no letter are a token of their own
        "e\u0301te\u0301 na\u0303o",  # decomposed accents: NFKC composes them
        "\u1f00\u0345 \u0345x",  # U+0345 folds to a letter; NFKC reorders it
        "\u03a3\u039f\u03a6\u0399\u0391\u03a3 \u1e9e \ufb01 \u0130",  # lengths change
        "\u6771\u4eac\u306e\u56f3\u66f8\u9928abc\u0e43\u0e19\u0e40\u0e21\u0e37\u0e2d\u0e07",
        "\uff76\uff9e\uff80\uff76\uff85 snake_case \u2460 \u00bd \u00b2",
        "\U0001f600emoji\U0001f600 \U00020001\U00020002 \U0001d400\U0001d401 \U00010400",
        "\ufc5e \u00a0nbsp\u00a0 tab\tnew\nline \x00nul \ud800x\udc00",
        "\u0915\u094d\u0937\u093f \u0939\u093f\u0928\u094d\u0926\u0940",
        "",
        "   ",
    ]
    alphabet = [chr(c) for c in range(0x20, 0x250)]
    alphabet += [chr(c) for c in range(0x300, 0x370)]  # combining marks
    alphabet += [chr(c) for c in range(0x900, 0x980)]  # Devanagari
    alphabet += [chr(c) for c in range(0xE00, 0xE60)]  # Thai
    alphabet += [chr(c) for c in range(0x3000, 0x3100)]  # CJK punctuation, kana
    alphabet += [chr(c) for c in range(0xFF00, 0xFFA0)]  # full and half width forms
    alphabet += list("\U0001f600\U00020001\U0001d7ce\ufb01\u00df\u0130\u0345\u2160\ud800")
    alphabet += list(" \n\t.,") * 30
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        cases += [text, unicodedata.normalize("NFD", text)]
    for text in cases:
        tokens = tokenize(text)
        words, spans = _reference_tokens(text)
        assert tokens.words == words, text
        assert list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)) == spans, text


def test_fast_token_hashes_are_pinned_equal_for_equal_tokens_and_the_same_elsewhere() -> None:
    text = "Copy copy COPY copied \u00e9t\u00e9 e\u0301te\u0301 " + "x" * 70 + " " + "x" * 71
    tokens = tokenize(text)
    hashes = fast_token_hashes(tokens).tolist()
    assert len(hashes) == len(tokens) == 8
    assert hashes[0] == hashes[1] == hashes[2] == 0x65D6460A44E9C9A7
    assert hashes[4] == hashes[5]  # NFKC makes the decomposed word the composed one
    assert len({hashes[0], hashes[3], hashes[4], hashes[6], hashes[7]}) == 5
    code = (
        "from xpostcheck.util.textnorm import fast_token_hashes, tokenize;"
        "print(fast_token_hashes(tokenize('copy'))[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert int(out.stdout) == 0x65D6460A44E9C9A7
    assert fast_token_hashes(tokenize("")).tolist() == []


def test_fast_token_hashes_differ_for_every_distinct_word_of_a_corpus() -> None:
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz\u00e9\u00e3\uac00\uac01\u6771"
    words = {"".join(rng.choices(letters, k=rng.randint(1, 12))) for _ in range(50_000)}
    words |= {w * 9 for w in list(words)[:500]}  # longer than the table of multipliers
    tokens = tokenize(" ".join(sorted(words)))
    assert len(tokens) >= len(words)
    assert len(set(fast_token_hashes(tokens).tolist())) == len(set(tokens.words))
