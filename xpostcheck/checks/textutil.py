"""Text helpers every check shares: normalised comparison, fuzzy line search, short evidence.

Pure functions over strings; imports no sibling module, so every other checks module can use
it. In: page and template text. Out: normalised text, scores, shortened evidence strings.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from rapidfuzz import fuzz

PLACEHOLDERS = ("publisher", "author", "title", "url")
"""The placeholders a phrase template may use."""

_PUNCT = (
    "".join(ch for ch in map(chr, range(0x2000, 0x2070)) if not ch.isalnum())
    + string.punctuation.replace("'", "")
    + "\u00a0\u00ab\u00bb\u00b7\u00bf\u00a1\u00b4"
)
_FOLD = str.maketrans({**dict.fromkeys(_PUNCT, " "), "'": None, "\u2019": None, "\u2018": None})


def norm(text: str) -> str:
    """Case- and punctuation-insensitive form for fuzzy comparison ('©' is kept)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_FOLD).split())


def lines_of(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _key_words(normed: str) -> frozenset[str]:
    words = normed.split()
    return frozenset(w for w in words if len(w) >= 4) or frozenset(words)


def fuzzy_contains(needle: str, hay: str, threshold: float) -> float:
    """Score (0..100) of the best alignment of normalised `needle` inside normalised `hay`,
    or 0 when below `threshold`. Short needles only (partial_ratio)."""
    found = best_line([needle], [hay], threshold)
    return found[3] if found else 0.0


def best_line(
    needles: list[str],
    lines: list[str],
    threshold: float,
    normed: Callable[[str], str] = norm,
    frames: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[int, str, str, float] | None:
    """(index, line, needle, score) of the line that best contains one of `needles`, compared
    case- and punctuation-insensitively, or None below `threshold`.

    A line is scored only when it shares a word of four letters or more with the needle: at a
    score of 90 or more most of the needle's words are intact, and the filter spares
    partial_ratio on long paragraphs that cannot match. `frames` gives, per needle, the words
    of its template around the placeholders ("originally published by"): a fuzzy match must
    hold each of them, so that a long publisher name alone ("... the Centre for Research on
    Globalization will not ...") does not pass for "Source: {publisher}".
    """
    prepared = [(t, n, _key_words(n)) for t in needles if (n := norm(t))]
    best: tuple[int, str, str, float] | None = None
    for i, line in enumerate(lines):
        h = normed(line)
        if not h:
            continue
        words = set(h.split())
        for text, n, keys in prepared:
            if n in h:
                return i, line, text, 100.0
            if len(h) < len(n) * 0.8 or not keys & words:
                continue
            found = fuzz.partial_ratio_alignment(n, h, score_cutoff=threshold)
            if found is None or found.score < threshold:
                continue
            frame = frames.get(text, ()) if frames else ()
            if frame and not _holds(frame, h[found.dest_start : found.dest_end].split()):
                continue
            if best is None or found.score > best[3]:
                best = (i, line, text, float(found.score))
    return best


def _holds(frame: tuple[str, ...], window: list[str]) -> bool:
    """Every frame word is in the window, allowing a typo in words of five letters or more;
    a frame of five words or more may miss one ("of these articles" for "of this article")."""
    missing = 0
    for word in frame:
        if word in window:
            continue
        if len(word) >= 5 and any(fuzz.ratio(word, w) >= 80 for w in window):
            continue
        missing += 1
    return missing <= (1 if len(frame) >= 5 else 0)


_PLACEHOLDER_TOKEN = re.compile(r"\{\w+\}")


def frame_words(template: str) -> tuple[str, ...]:
    """The words of a phrase template outside its placeholders, normalised."""
    return tuple(norm(_PLACEHOLDER_TOKEN.sub(" ", template)).split())


def shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def excerpt(line: str, needle: str, limit: int = 200) -> str:
    """`line` when short, else a window of it around where `needle` best aligns."""
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    found = fuzz.partial_ratio_alignment(needle.casefold(), line.casefold())
    if found is None:
        return shorten(line, limit)
    pad = max(0, (limit - (found.dest_end - found.dest_start)) // 2)
    start = max(0, found.dest_start - pad)
    end = min(len(line), found.dest_end + pad)
    return (
        ("\u2026" if start else "")
        + line[start:end].strip()
        + ("\u2026" if end < len(line) else "")
    )


def quoted(items: Iterable[str], limit: int = 4) -> str:
    items = list(items)
    shown = ", ".join(f'"{shorten(i, 80)}"' for i in items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")
