"""Edits that publishers allow as "relative changes in time, location and editorial style".

Republishing terms (ProPublica, CalMatters, Floodlight, The Conversation, ...) let a republisher
write "15%" for "15 percent", "2300" for "2,300", "5-2" for "five to two", "last week" for
"Tuesday", "here" for "Merrill Crossing" and "Mr. Okafor" for "Martin Okafor". A word-level
diff sees a changed number or name in each; these functions tell such edits from changed facts.

In: the original's words and the copy's words of one difference. Out: whether it is style.
Pure functions; no page or rule knowledge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["is_style_edit", "same_numbers"]

_EDGE = ".,;:!?()[]'\"\u2018\u2019\u201c\u201d\u00ab\u00bb\u201e"
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_PERCENT = {"percent", "per", "cent", "pct", "%", "percentage", "points"}

# Relative time: "yesterday" for "Tuesday", "last week" for "on Tuesday".
_RELATIVE_TIME = {
    "yesterday", "today", "tomorrow", "tonight", "last", "this", "next", "ago", "earlier",
    "later", "recently", "week", "weekend", "month", "year", "morning", "afternoon",
    "evening", "night", "past", "coming",
}  # fmt: skip
_WEEKDAYS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
}  # fmt: skip
_FUNCTION = {"on", "in", "at", "the", "a", "an", "of", "during", "by", "from", "since"}
# Relative location: "here" for "Merrill Crossing", "the city" for "Fenwick".
_DEIXIS = {
    "here", "there", "locally", "local", "this", "our", "the", "city", "town", "county",
    "state", "area", "region", "community", "nearby", "village", "valley", "in", "around",
}  # fmt: skip
_HONORIFICS = {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sen", "rep", "gov", "gen",
    "sgt", "capt", "lt", "col", "hon", "sir", "dame",
}  # fmt: skip
_ABBREVIATIONS = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june",
    "jul": "july", "aug": "august", "sep": "september", "sept": "september",
    "oct": "october", "nov": "november", "dec": "december", "st": "street",
    "ave": "avenue", "blvd": "boulevard", "rd": "road", "mt": "mount", "ft": "fort",
    "u.s": "united states", "us": "united states", "&": "and",
}  # fmt: skip


def _key(word: str) -> str:
    return word.strip(_EDGE).casefold()


def _numbers(words: Sequence[str]) -> list[str]:
    """The numeric values a run of words states, in a style-free form ("2,300" = "2300",
    "five" = "5", "1.5 million" = "1,500,000"), sorted; words that are not numbers are left
    out, and so are percent signs and words."""
    values: list[float] = []
    tens = False  # the last value is a tens word ("forty") that a unit may complete
    for word in words:
        key = _key(word).replace("%", " ").replace("$", " ")
        if key.strip() in _PERCENT or not key.strip():
            continue
        digits = _DIGITS.findall(key)
        if digits:
            tens = False
            for d in digits:
                d = d.replace(",", "") if _GROUPED.fullmatch(d) else d.replace(",", ".")
                try:
                    values.append(float(d))
                except ValueError:
                    continue
            continue
        for part in key.split("-"):
            if part in _UNITS:
                unit = _UNITS[part]
                if tens and unit < 10:
                    values[-1] += unit  # "forty-five", "forty five": one number
                else:
                    values.append(float(unit))
                tens = 20 <= unit <= 90 and unit % 10 == 0 and not (tens and unit < 10)
                continue
            if part in _SCALES:
                if values:
                    values[-1] *= _SCALES[part]
                else:
                    values.append(float(_SCALES[part]))
            tens = False
    return sorted(f"{v:g}" for v in values)


def same_numbers(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether two runs of words state the same numbers in different styles."""
    a, b = _numbers(old), _numbers(new)
    return bool(a or b) and a == b


def _keys(words: Sequence[str]) -> list[str]:
    return [k for k in (_key(w) for w in words) if k]


def _relative_time(old: list[str], new: list[str]) -> bool:
    words = old + new
    if not any(w in _RELATIVE_TIME for w in words):
        return False
    return all(w in _RELATIVE_TIME or w in _WEEKDAYS or w in _FUNCTION for w in words)


def _relative_place(old: Sequence[str], new: Sequence[str]) -> bool:
    """A place name for "here", "the city" and the like, either way round."""

    def deictic(words: Sequence[str]) -> bool:
        keys = _keys(words)
        return (
            bool(keys)
            and all(k in _DEIXIS for k in keys)
            and any(
                k in ("here", "there", "locally", "nearby", "city", "town", "county", "village")
                for k in keys
            )
        )

    def place(words: Sequence[str]) -> bool:
        named = [w for w in words if _key(w) not in _FUNCTION]
        return 0 < len(named) <= 4 and all(w[:1].isupper() for w in named)

    return (deictic(new) and place(old)) or (deictic(old) and place(new))


def _honorific(old: Sequence[str], new: Sequence[str]) -> bool:
    """'Mr. Okafor' for 'Martin Okafor' (or the other way): only honorifics and given names."""
    a = [k for k in _keys(old) if k not in _HONORIFICS]
    b = [k for k in _keys(new) if k not in _HONORIFICS]
    titled = any(k in _HONORIFICS for k in _keys(old) + _keys(new))
    if not titled:
        return False
    rest = old if not b else new if not a else None
    return rest is not None and len(rest) <= 2 and all(w[:1].isupper() for w in rest if w)


def _abbreviated(old: Sequence[str], new: Sequence[str]) -> bool:
    def spelled(words: Sequence[str]) -> str:
        return " ".join(_ABBREVIATIONS.get(k, k) for k in _keys(words))

    return spelled(old) == spelled(new)


def is_style_edit(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether replacing `old` by `new` is a relative change of time or place, an honorific,
    an abbreviation or a number in another style, rather than a changed fact."""
    a, b = _keys(old), _keys(new)
    if any(re.search(r"\d", w) for w in a + b) or any(w in _UNITS or w in _SCALES for w in a + b):
        return same_numbers(old, new)
    return (
        _relative_time(a, b)
        or _relative_place(old, new)
        or _honorific(old, new)
        or _abbreviated(old, new)
    )
