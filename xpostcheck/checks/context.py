"""What every check kind shares: the context a check receives, option specs, and text helpers.

A check is a pure function `CheckContext -> Finding`. Facts several checks need about one page
(candidate lines outside the chrome, image captions, publication time in the markup) are worked
out once per page by `PageFacts` and carried in the context.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rapidfuzz import fuzz

from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.models import Finding, Match, Page, Rule, RuleSet, SourceArticle

# --- option specs --------------------------------------------------------------------------

OptionType = str  # "str" | "bool" | "int" | "float" | "list"


@dataclass(frozen=True)
class Option:
    """One option a check kind accepts in a rule table."""

    type: OptionType
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any) -> str | None:
        """None when `value` fits, else what is wrong with it."""
        if self.type == "bool":
            ok = isinstance(value, bool)
        elif self.type == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.type == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif self.type == "list":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, str)
        if not ok:
            want = "a list of strings" if self.type == "list" else f"a {self.type}"
            return f"must be {want}, not {value!r}"
        if self.choices:
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if v not in self.choices]
            if bad:
                return f"{bad[0]!r} is not one of: {', '.join(self.choices)}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return f"must be at most {self.maximum}"
        return None


# --- context -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckContext:
    rule: Rule
    ruleset: RuleSet
    page: Page
    source: SourceArticle
    match: Match
    profile: SiteProfile | None = None  # chrome detection from other pages of the same site
    resolve: Callable[[str], str | None] | None = None  # a shortlink's Location, None offline
    now: str | None = None
    facts: PageFacts | None = field(default=None, compare=False)

    def opt(self, name: str) -> Any:
        """The rule's option `name`, or the kind's default."""
        if name in self.rule.options:
            return self.rule.options[name]
        from xpostcheck.checks.registry import KINDS  # the registry; imported late to avoid a cycle

        spec = KINDS.get(self.rule.kind)
        return spec.options[name].default if spec and name in spec.options else None

    def __post_init__(self) -> None:
        if self.facts is None:  # a context built by hand still works out page facts once
            object.__setattr__(self, "facts", PageFacts(self.page, self.profile))

    @property
    def page_facts(self) -> PageFacts:
        assert self.facts is not None
        return self.facts

    def finding(self, passed: bool, message: str, evidence: str | None = None) -> Finding:
        return Finding(
            rule=self.rule.id,
            kind=self.rule.kind,
            passed=passed,
            severity=self.rule.severity,
            message=message,
            evidence=evidence,
        )

    def names(self, placeholder: str) -> tuple[str, ...]:
        """The values a placeholder stands for on this copy."""
        if placeholder == "publisher":
            names = (self.ruleset.publisher or self.source.publisher,) + self.ruleset.aliases
            if self.source.publisher:
                names += (self.source.publisher,)
        elif placeholder == "author":
            names = self.source.authors
        elif placeholder == "title":
            names = (self.source.title,)
        elif placeholder == "url":
            names = (self.source.url,)
        else:
            names = ()
        return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))

    def expand(self, template: str) -> list[str]:
        """Every text `template` stands for, with each placeholder filled each possible way.

        A template whose placeholder has no value (a source with no author) expands to nothing.
        """
        out = [template]
        for placeholder in PLACEHOLDERS:
            token = "{" + placeholder + "}"
            if token not in template:
                continue
            values = self.names(placeholder)
            out = [t.replace(token, v) for t in out for v in values]
        return out


PLACEHOLDERS = ("publisher", "author", "title", "url")


# --- text helpers --------------------------------------------------------------------------

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


# --- facts about one page, worked out once -------------------------------------------------


class PageFacts:
    """Lazily computed facts about a page that several checks use."""

    def __init__(self, page: Page, profile: SiteProfile | None) -> None:
        self.page = page
        self.profile = profile
        self._norms: dict[str, str] = {}

    def norm(self, line: str) -> str:
        """`norm(line)`, computed once per page."""
        found = self._norms.get(line)
        if found is None:
            found = self._norms[line] = norm(line)
        return found

    @cached_property
    def _near_lines_raw(self) -> list[str]:
        return lines_of(self.page.near_text or self.page.text)

    @cached_property
    def near_lines(self) -> list[str]:
        """Lines of the article and its surroundings, without lines the site repeats as chrome."""
        return [ln for ln in self._near_lines_raw if not self.is_chrome_line(ln)]

    @cached_property
    def site_chrome_lines(self) -> list[str]:
        """Lines near the article that the site's other pages show as well (sidebars, banners)."""
        return [ln for ln in self._near_lines_raw if self.is_chrome_line(ln)]

    @cached_property
    def chrome_lines(self) -> list[str]:
        return lines_of(self.page.chrome_text) + self.site_chrome_lines

    @cached_property
    def article_lines(self) -> list[str]:
        return [ln for ln in lines_of(self.page.text) if not self.is_chrome_line(ln)]

    @cached_property
    def page_lines(self) -> list[str]:
        return lines_of(self.page.full_text) or self._near_lines_raw

    def is_chrome_line(self, line: str) -> bool:
        return self.profile is not None and self.profile.is_chrome_text(line)

    def lines(self, region: str) -> list[str]:
        if region == "article":
            return self.article_lines
        if region == "page":
            return self.page_lines
        return self.near_lines

    @cached_property
    def markup_lower(self) -> str:
        return self.page.html.lower()

    @cached_property
    def _tree(self) -> Any:
        """The page's HTML parsed with lxml (None when there is none or it cannot be parsed)."""
        if not self.page.html:
            return None
        import lxml.html

        try:
            parser = lxml.html.HTMLParser(encoding="utf-8")
            return lxml.html.document_fromstring(
                self.page.html.encode("utf-8", "replace"), parser=parser
            )
        except Exception:  # unparseable markup: no captions, no time
            return None

    @cached_property
    def captions(self) -> tuple[str, ...]:
        """Texts of image captions and photo credits."""
        low = self.markup_lower
        if "caption" not in low and "credit" not in low:
            return ()  # spares the parse on most pages
        tree = self._tree
        if tree is None:
            return ()
        found = tree.xpath(
            "//figcaption | //caption | //*[contains(@class, 'caption')]"
            " | //figure//*[contains(@class, 'credit')]"
        )
        texts = (" ".join(el.text_content().split()) for el in found)
        return tuple(dict.fromkeys(t for t in texts if t))

    @cached_property
    def _caption_norms(self) -> tuple[list[str], list[str]]:
        captions = [c for c in (norm(cap) for cap in self.captions) if c]
        alts = [a for a in (norm(r.alt) for r in self.page.resources if r.alt) if a]
        return captions, alts

    def in_caption(self, line: str) -> bool:
        captions, alts = self._caption_norms
        if not captions and not alts:
            return False
        n = self.norm(line)
        if not n:
            return False
        for c in captions:
            if n in c or (c in n and len(c) >= 0.8 * len(n)):
                return True
        return any(n in a for a in alts)

    @cached_property
    def markup_published(self) -> str | None:
        """The publication time the markup states: article:published_time and its kin, JSON-LD
        datePublished, or a <time datetime>."""
        tree = self._tree
        if tree is None:
            return None
        for attr, value in (
            ("property", "article:published_time"),
            ("name", "article:published_time"),
            ("itemprop", "datePublished"),
            ("name", "date"),
            ("name", "dc.date"),
        ):
            for content in tree.xpath(f"//meta[@{attr}='{value}']/@content"):
                if str(content).strip():
                    return str(content).strip()
        found = _jsonld_published(tree.xpath("//script[@type='application/ld+json']/text()"))
        if found:
            return found
        for stamp in tree.xpath("//time/@datetime"):
            if str(stamp).strip():
                return str(stamp).strip()
        return None


def _jsonld_published(scripts: Iterable[Any]) -> str | None:
    def walk(node: Any) -> str | None:
        if isinstance(node, Mapping):
            value = node.get("datePublished")
            if isinstance(value, str) and value:
                return value
            for child in node.values():
                found = walk(child)
                if found:
                    return found
        elif isinstance(node, list):
            for child in node:
                found = walk(child)
                if found:
                    return found
        return None

    for script in scripts:
        try:
            data = json.loads(str(script))
        except (ValueError, TypeError):
            continue
        found = walk(data)
        if found:
            return found
    return None
