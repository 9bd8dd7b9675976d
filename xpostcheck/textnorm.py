"""Text normalisation and tokenisation, with stable hashes, for matching copies.

A page and a source article are compared as sequences of *tokens*:

- a word token is a run of letters, digits and combining marks (so "não", "हिन्दी" and
  "연기가" are one token each); punctuation, quotes, dashes and spaces separate tokens;
- in scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar)
  every character is a token, so a shingle of five tokens is a character 5-gram there.

Each token keeps its character offsets in the *original* text, so aligned passages can be
shown to a person exactly as they were written. Token strings are compared after Unicode
NFKC and case folding. Hashes are 64-bit blake2b digests, identical in every process and on
every machine (Python's ``hash()`` is salted per process and cannot be stored).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import MutableMapping

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# Scripts written without spaces between words: one character per token.
SPACELESS_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # CJK extensions B-G
)

QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060\uff07"
DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02"
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_PUNCT_TABLE = str.maketrans(
    {
        **{c: "'" for c in QUOTES},
        **{c: '"' for c in DOUBLE_QUOTES},
        **{c: "-" for c in DASHES},
    }
)
_SPACES = re.compile(r"\s+")


def _class_ranges(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def _in_spaceless(cp: int) -> bool:
    return any(a <= cp <= b for a, b in SPACELESS_RANGES)


def _mark_ranges() -> list[tuple[int, int]]:
    """Combining marks (Mn, Mc, Me) of the Basic Multilingual Plane, outside spaceless scripts.

    Python's ``\\w`` does not match combining marks, so without them "हिन्दी" or a decomposed
    "é" would fall apart into pieces.
    """
    out: list[tuple[int, int]] = []
    for cp in range(0x0300, 0x10000):
        if unicodedata.category(chr(cp))[0] == "M" and not _in_spaceless(cp):
            if out and out[-1][1] == cp - 1:
                out[-1] = (out[-1][0], cp)
            else:
                out.append((cp, cp))
    return out


_SPACELESS_CLASS = _class_ranges(list(SPACELESS_RANGES))
_MARK_CLASS = _class_ranges(_mark_ranges())
# One capturing group, so that re.split returns separators and tokens alternately. The plain
# pattern is twice as fast; it gives the same tokens whenever the text has neither combining
# marks nor spaceless scripts, which _NEEDS_FULL detects (underscore counts as a letter in both).
_PLAIN_RE = re.compile(r"(\w+)")
TOKEN_RE = re.compile(
    f"([^\\W{_SPACELESS_CLASS}]+(?:[{_MARK_CLASS}]+[^\\W{_SPACELESS_CLASS}]*)*"
    f"|[{_SPACELESS_CLASS}]|[{_MARK_CLASS}]+)",
)
_NEEDS_FULL = re.compile(f"[{_SPACELESS_CLASS}{_MARK_CLASS}]")


def normalize_text(text: str) -> str:
    """NFKC, case folding, one kind of quote and dash, and single spaces.

    For comparing short phrases (credit lines, bylines); offsets are not preserved.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCT_TABLE)
    return _SPACES.sub(" ", folded).strip()


class Tokens:
    """Normalised tokens of a text, with the span of each in the original text.

    The spans are worked out on first use (by splitting the text again): most pages match
    nothing and never need them.
    """

    __slots__ = ("words", "_text", "_pattern", "_spans")

    def __init__(self, words: tuple[str, ...], text: str, pattern: re.Pattern[str]) -> None:
        self.words = words
        self._text = text  # the original text, or its case folding when that kept every span
        self._pattern = pattern
        self._spans: tuple[I64, I64] | None = None

    def __len__(self) -> int:
        return len(self.words)

    def _compute(self) -> tuple[I64, I64]:
        if self._spans is None:
            parts = self._pattern.split(self._text)  # separators and tokens alternately
            lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
            before = np.cumsum(lengths) - lengths
            starts = before[1::2]
            self._spans = (starts, starts + lengths[1::2])
        return self._spans

    @property
    def starts(self) -> I64:
        """Character offset of each token in the original text."""
        return self._compute()[0]

    @property
    def ends(self) -> I64:
        """Character offset just after each token."""
        return self._compute()[1]


def tokenize(text: str) -> Tokens:
    """Split ``text`` into normalised tokens and keep their original character spans."""
    pattern = TOKEN_RE if _NEEDS_FULL.search(text) else _PLAIN_RE
    folded = text.casefold()
    if len(folded) == len(text) and unicodedata.is_normalized("NFKC", text):
        # Usual case: NFKC changes nothing and folding maps each character to one character,
        # so tokens of the folded text are the folded tokens, at the same offsets.
        return Tokens(tuple(pattern.findall(folded)), folded, pattern)
    raw = pattern.findall(text)
    if not raw:
        return Tokens((), text, pattern)
    # NFKC never produces U+0000 and never composes across it, so one call folds every token.
    words = unicodedata.normalize("NFKC", "\x00".join(raw)).casefold().split("\x00")
    return Tokens(tuple(words), text, pattern)


def stable_hash64(token: str) -> int:
    """A 64-bit hash of a string that is the same in every process and on every machine."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def token_hashes(words: tuple[str, ...], cache: MutableMapping[str, int] | None = None) -> U64:
    """Stable hashes of tokens; ``cache`` (owned by the caller) saves rehashing common words."""
    memo: MutableMapping[str, int] = {} if cache is None else cache
    try:  # usually every word is known already
        return np.fromiter(map(memo.__getitem__, words), dtype=np.uint64, count=len(words))
    except KeyError:
        for word in set(words).difference(memo):
            memo[word] = stable_hash64(word)
    return np.fromiter(map(memo.__getitem__, words), dtype=np.uint64, count=len(words))


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)


def mix64(values: U64) -> U64:
    """The splitmix64 finaliser: spreads every input bit over all 64 output bits."""
    with np.errstate(over="ignore"):
        z = values ^ (values >> np.uint64(30))
        z = z * _M1
        z ^= z >> np.uint64(27)
        z = z * _M2
        z ^= z >> np.uint64(31)
    mixed: U64 = z
    return mixed


def shingle_hashes(hashes: U64, k: int) -> U64:
    """Hash of every run of ``k`` consecutive tokens (position i covers tokens i..i+k-1)."""
    n = len(hashes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    acc = hashes[:n].copy()
    with np.errstate(over="ignore"):
        for offset in range(1, k):
            acc = (acc * _PRIME) ^ hashes[offset : offset + n]
    mixed: U64 = mix64(acc)
    return mixed
