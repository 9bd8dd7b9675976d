"""Text normalisation and tokenisation, with stable hashes, for matching copies.

A page and a source article are compared as sequences of *tokens*:

- a word token is a run of letters, digits and combining marks (so "não", "हिन्दी" and
  "연기가" are one token each); punctuation, quotes, dashes and spaces separate tokens;
- in scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar)
  every character is a token, so a shingle of five tokens is a character 5-gram there.

Each token keeps its character offsets in the *original* text, so aligned passages can be
shown to a person exactly as they were written. Token strings are compared after Unicode
NFKC and case folding. The tokens of a text are found with numpy, from tables of character
classes and case foldings, in a few dozen array operations whatever the text's length.

Token hashes are 64 bits and identical in every process and on every machine (Python's
``hash()`` is salted per process and cannot be stored): ``fast_token_hashes`` computes them
for all tokens at once with numpy; ``token_hashes`` (blake2b of each distinct word) is what
index files of format 1 were built with.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, MutableMapping
from typing import Any

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
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
# The definition of a token, as a regular expression: a letter or digit (\w, outside the
# spaceless scripts) followed by letters, digits and marks; one character of a spaceless
# script; or a run of marks that follows no letter. tokenize() gives the same tokens from a
# table of character classes, without a regex pass (tests hold it to this pattern).
TOKEN_RE = re.compile(
    f"([^\\W{_SPACELESS_CLASS}]+(?:[{_MARK_CLASS}]+[^\\W{_SPACELESS_CLASS}]*)*"
    f"|[{_SPACELESS_CLASS}]|[{_MARK_CLASS}]+)",
)
_WORD_CHARS = re.compile(f"[^\\W{_SPACELESS_CLASS}]+")
_MARK_CHARS = re.compile(f"[{_MARK_CLASS}]+")
_SPACELESS_CHARS = re.compile(f"[{_SPACELESS_CLASS}]+")

# Character classes: a token is made of WORD and MARK characters, or is one SPACELESS one.
OTHER, WORD, MARK, SPACELESS = 0, 1, 2, 3


def _class_of(chars: str) -> npt.NDArray[np.uint8]:
    """The class of every character of ``chars``, by the patterns above."""
    out = np.zeros(len(chars), dtype=np.uint8)
    for pattern, value in ((_MARK_CHARS, MARK), (_WORD_CHARS, WORD), (_SPACELESS_CHARS, SPACELESS)):
        for found in pattern.finditer(chars):
            out[found.start() : found.end()] = value
    return out


_MANY = 0xFFFFFFFF  # in a fold table: the character folds to more than one character


def _fold_of(chars: str) -> npt.NDArray[np.uint32]:
    """The case folding of every character of ``chars``, or _MANY."""
    return np.fromiter(
        (ord(f) if len(f := c.casefold()) == 1 else _MANY for c in chars),
        dtype=np.uint32,
        count=len(chars),
    )


# Tables of the Basic Multilingual Plane, built once (about 30 ms) and never changed;
# characters beyond it (emoji, rare ideographs) are looked up when a text holds them.
_BMP = "".join(map(chr, range(0x10000)))
_BMP_CLASS = _class_of(_BMP)
_BMP_FOLD = _fold_of(_BMP)
_BMP_CLASS.setflags(write=False)
_BMP_FOLD.setflags(write=False)
del _BMP


def _table_lookup(
    codes: npt.NDArray[np.uint32],
    bmp: npt.NDArray[Any],
    beyond: Callable[[str], npt.NDArray[Any]],
) -> npt.NDArray[Any]:
    """``bmp[codes]``, with the characters beyond the BMP worked out by ``beyond``."""
    if not codes.size or codes.max() <= 0xFFFF:
        return bmp[codes.astype(np.intp)]
    high = codes > 0xFFFF
    out = bmp[np.where(high, 0, codes).astype(np.intp)]
    distinct = np.unique(codes[high])
    table = beyond("".join(map(chr, distinct.tolist())))
    out[high] = table[np.searchsorted(distinct, codes[high])]
    return out


def normalize_text(text: str) -> str:
    """NFKC, case folding, one kind of quote and dash, and single spaces.

    For comparing short phrases (credit lines, bylines); offsets are not preserved.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCT_TABLE)
    return _SPACES.sub(" ", folded).strip()


class Tokens:
    """Normalised tokens of a text, with the span of each in the original text.

    The tokens are held as their characters end to end (code points, NFKC and case folded)
    and the length of each; ``words`` makes strings of them on first use.
    """

    __slots__ = ("starts", "ends", "_chars", "_lengths", "_words")

    def __init__(
        self, starts: I64, ends: I64, chars: U32, lengths: I64, words: tuple[str, ...] | None
    ) -> None:
        self.starts = starts  # character offset of each token in the original text
        self.ends = ends  # character offset just after each token
        self._chars = chars
        self._lengths = lengths
        self._words = words

    def __len__(self) -> int:
        return int(self.starts.size)

    @property
    def words(self) -> tuple[str, ...]:
        """The tokens as strings."""
        if self._words is None:
            n = self._lengths.size
            if n == 0:
                self._words = ()
            else:
                number = np.repeat(np.arange(n), self._lengths)
                spaced = np.zeros(self._chars.size + n - 1, dtype=np.uint32)  # U+0000 between
                spaced[np.arange(self._chars.size) + number] = self._chars
                flat = spaced.tobytes().decode("utf-32-le", "surrogatepass")
                self._words = tuple(flat.split("\x00"))
        return self._words

    def hashes(self) -> U64:
        """:func:`fast_token_hashes` of the tokens."""
        return _linear_hashes(self._chars, self._lengths)


def _no_tokens() -> Tokens:
    empty = np.zeros(0, dtype=np.int64)
    return Tokens(empty, empty, np.zeros(0, dtype=np.uint32), empty, ())


def _codes(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def tokenize(text: str) -> Tokens:
    """Split ``text`` into normalised tokens and keep their original character spans.

    The tokens are those of ``TOKEN_RE``, found with numpy on tables of character classes
    and case foldings, so the cost per token stays small.
    """
    codes = _codes(text)
    folded = _table_lookup(codes, _BMP_FOLD, _fold_of)
    # Usual case: NFKC changes nothing and folding maps each character to one character, so
    # tokens of the folded text are the folded tokens, at the same offsets.
    simple = not (folded == _MANY).any() and unicodedata.is_normalized("NFKC", text)
    kind = _table_lookup(folded if simple else codes, _BMP_CLASS, _class_of)
    inside = kind != OTHER
    n = kind.size
    if n == 0 or not inside.any():
        return _no_tokens()
    before = np.empty(n, dtype=np.uint8)
    before[0] = OTHER
    before[1:] = kind[:-1]
    start = inside & (before == OTHER)  # a token starts after a separator ...
    spaceless = kind == SPACELESS
    marks = kind == MARK
    touching = bool(spaceless.any() or marks.any())  # ... and two tokens may touch:
    if touching:
        # at and after each spaceless character;
        start |= spaceless | (inside & (before == SPACELESS))
    if marks.any():
        # and marks that follow no letter are a token of their own: the first letter after
        # them starts the next one (after a letter, marks are part of its word).
        is_word = kind == WORD
        run_start = np.maximum.accumulate(np.where(start, np.arange(n), 0))
        words_so_far = np.cumsum(is_word)
        words_before_run = words_so_far[run_start] - is_word[run_start]
        first_word = is_word & (words_so_far - words_before_run == 1)
        start |= first_word & (kind[run_start] == MARK)
    after_end = np.empty(n, dtype=bool)
    after_end[:-1] = ~inside[1:] | start[1:]
    after_end[-1] = True
    starts = np.flatnonzero(start)
    ends = np.flatnonzero(inside & after_end) + 1
    chars = folded[inside]
    if not simple:
        original = codes[inside]
        if not unicodedata.is_normalized("NFKC", _joined(original, ends - starts)):
            return _normalized(original, starts, ends)
        # NFKC changes none of the tokens: they are only case folded.
        many = chars == _MANY
        if many.any():
            return _unfolded(original, chars, many, starts, ends)
    return Tokens(starts, ends, chars, ends - starts, None)


def _joined(chars: U32, lengths: I64) -> str:
    """Tokens with U+0000 between them, which NFKC never produces nor composes across."""
    n = lengths.size
    spaced = np.zeros(chars.size + n - 1, dtype=np.uint32)
    spaced[np.arange(chars.size) + np.repeat(np.arange(n), lengths)] = chars
    return spaced.tobytes().decode("utf-32-le", "surrogatepass")


def _unfolded(
    original: U32, chars: U32, many: npt.NDArray[np.bool_], starts: I64, ends: I64
) -> Tokens:
    """Tokens with characters that fold to several ("ß" to "ss"): each folded in its place."""
    distinct = np.unique(original[many])
    folds = [_codes(chr(c).casefold()) for c in distinct.tolist()]
    widths = np.ones(chars.size, dtype=np.int64)
    which = np.searchsorted(distinct, original[many])
    widths[many] = np.array([f.size for f in folds], dtype=np.int64)[which]
    at = np.cumsum(widths) - widths  # where each character's folding goes
    out = np.empty(int(widths.sum()), dtype=np.uint32)
    keep = ~many
    out[at[keep]] = chars[keep]
    many_at = at[many]
    for number, fold in enumerate(folds):
        places = many_at[which == number]
        for offset, code in enumerate(fold.tolist()):
            out[places + offset] = code
    lengths = np.add.reduceat(widths, np.cumsum(ends - starts) - (ends - starts))
    return Tokens(starts, ends, out, lengths, None)


def _normalized(original: U32, starts: I64, ends: I64) -> Tokens:
    """Tokens whose NFKC or case folding changes their length: one call for all of them."""
    words = tuple(
        unicodedata.normalize("NFKC", _joined(original, ends - starts)).casefold().split("\x00")
    )
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    return Tokens(starts, ends, _codes("".join(words)), lengths, words)


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
    # Whole-array integer arithmetic wraps around silently (only numpy scalars warn).
    z: U64 = values ^ (values >> np.uint64(30))
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def shingle_hashes(hashes: U64, k: int) -> U64:
    """Hash of every run of ``k`` consecutive tokens (position i covers tokens i..i+k-1)."""
    n = len(hashes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    acc = hashes[:n].copy()
    for offset in range(1, k):
        acc *= _PRIME
        acc ^= hashes[offset : offset + n]
    return mix64(acc)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEED = np.uint64(0x2545F4914F6CDD1D)


def _multipliers(count: int) -> U64:
    """Odd pseudo-random 64-bit multipliers, one per position in a token."""
    odd: U64 = mix64(np.arange(count, dtype=np.uint64) * _GOLDEN + _SEED) | np.uint64(1)
    return odd


_MULTIPLIERS = _multipliers(64)
_MULTIPLIERS.setflags(write=False)


def _linear_hashes(chars: U32, lengths: I64) -> U64:
    """Per token: the sum of code point x the multiplier of its position, plus length x a
    constant, modulo 2**64, then mixed. Two tokens of one length that differ in one
    character never collide (the multipliers are odd); other pairs only by rare chance."""
    n = lengths.size
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    first = np.cumsum(lengths) - lengths  # where each token starts in ``chars``
    position = np.arange(chars.size) - np.repeat(first, lengths)  # of a character in its token
    longest = int(lengths.max())
    multipliers = _MULTIPLIERS if longest <= _MULTIPLIERS.size else _multipliers(longest)
    terms = chars.astype(np.uint64) * multipliers[position]
    sums = np.add.reduceat(terms, first)
    sums += lengths.astype(np.uint64) * _GOLDEN
    return mix64(sums)


def fast_token_hashes(tokens: Tokens) -> U64:
    """Stable 64-bit hashes of tokens, computed for all of them at once with numpy.

    The same in every process and on every machine. Not the values of :func:`token_hashes`.
    """
    return tokens.hashes()


# Function words of the languages most publishers write in (en, es, fr, de, pt, it). Matching
# seeds that must survive edits are made of the other words: a reworded sentence keeps its
# nouns and verbs far more often than its articles and prepositions.
# fmt: off
STOP_WORDS: frozenset[str] = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "for", "from", "had", "has",
    "have", "he", "her", "his", "i", "if", "in", "into", "is", "it", "its", "not", "of", "on",
    "or", "our", "she", "so", "than", "that", "the", "their", "them", "there", "these", "they",
    "this", "those", "to", "was", "we", "were", "what", "when", "which", "who", "will", "with",
    "would", "you", "your", "can", "could", "do", "does", "did", "more", "most", "also", "el",
    "la", "los", "las", "un", "una", "unos", "y", "o", "de", "del", "al", "en", "que", "por",
    "para", "con", "se", "su", "sus", "es", "lo", "como", "pero", "más", "le", "les", "des",
    "du", "et", "ou", "en", "dans", "sur", "pour", "par", "avec", "ce", "cette", "ces", "est",
    "sont", "qui", "pas", "plus", "au", "aux", "il", "der", "die", "das", "den", "dem", "des",
    "ein", "eine", "einer", "und", "oder", "zu", "im", "am", "von", "mit", "auf", "für", "ist",
    "sind", "nicht", "sich", "es", "er", "sie", "wie", "als", "auch", "o", "os", "as", "um",
    "uma", "e", "do", "da", "dos", "das", "em", "no", "na", "nos", "nas", "com", "não", "il",
    "lo", "gli", "i", "una", "di", "da", "nel", "nella", "che", "per", "con", "non", "si", "è",
    "sono",
))
# fmt: on


def stop_word_hashes() -> U64:
    """Sorted hashes of STOP_WORDS, by both token hash functions (fast and blake2b)."""
    words = tokenize(" ".join(sorted(STOP_WORDS)))
    both = np.concatenate([fast_token_hashes(words), token_hashes(words.words)])
    out: U64 = np.unique(both)
    return out
