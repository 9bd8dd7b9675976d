"""What every check kind shares: the context a check receives, and the spec of a kind.

A check is a pure function `CheckContext -> Finding`. A `KindSpec` holds all a kind's knowledge
besides its function body: the options its rule tables accept (types, defaults, validation),
its summary, and the fix a compliance notice asks for. Facts several checks need about one page
(candidate lines outside the chrome, image captions, publication time in the markup) are worked
out once per page by `PageFacts` and carried in the context.

Imports only `textutil` and `siteprofile` among its siblings; every family module builds on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, get_args

import lxml.etree
import lxml.html

from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.checks.textutil import PLACEHOLDERS, lines_of, norm
from xpostcheck.models import Finding, Match, Page, Rule, RuleSet, Severity, SourceArticle

SEVERITIES: tuple[str, ...] = get_args(Severity)

# --- option specs --------------------------------------------------------------------------

OptionType = str  # "str" | "bool" | "int" | "float" | "list"


@dataclass(frozen=True)
class Option:
    """One option a check kind accepts in a rule table. `validate` checks what the type alone
    cannot (a regular expression compiles, a template's placeholders exist)."""

    type: OptionType
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    validate: Callable[[Any], str | None] | None = field(default=None, compare=False)

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
        return self.validate(value) if self.validate is not None else None


def valid_regexes(value: Any) -> str | None:
    """Option validation: every entry of a list compiles as a regular expression."""
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"has an invalid regular expression {pattern!r}: {exc}"
    return None


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def valid_templates(value: Any) -> str | None:
    """Option validation: a template (or list of them) uses only known placeholders."""
    for template in value if isinstance(value, list) else [value]:
        for placeholder in _PLACEHOLDER.findall(template):
            if placeholder not in PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                return f"uses unknown placeholder {{{placeholder}}}; known: {known}"
    return None


# --- kind specs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeValues:
    """What a compliance notice knows when it asks for a fix: the original and the rule's
    options. `authors` is '' when the original names none."""

    publisher: str
    title: str
    url: str
    authors: str
    year: str
    options: Mapping[str, Any]

    def fill(self, template: str) -> str:
        """`template` with {publisher}, {title}, {url}, {author} and {year} filled in."""
        values = {
            "publisher": self.publisher,
            "title": self.title,
            "url": self.url,
            "author": self.authors or self.publisher,
            "year": self.year,
        }
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return template


CheckFn = Callable[["CheckContext"], Finding]
FixFn = Callable[[NoticeValues], tuple[str, str]]  # -> (what to do, the text to add or '')


@dataclass(frozen=True)
class KindSpec:
    """Everything about one check kind: calling the spec runs its check with its defaults."""

    kind: str
    fn: CheckFn
    summary: str
    options: Mapping[str, Option] = field(default_factory=dict)
    severity: Severity = "error"  # a rule's severity when its table gives none
    condition: str = ""  # the condition in words, for a notice: "link to the original article"
    fix: FixFn | None = None  # what a notice asks the republisher to do
    required: tuple[str, ...] = ()  # options a rule of this kind must set (non-empty)

    def __call__(self, ctx: CheckContext) -> Finding:
        return self.fn(ctx if ctx.spec is self else replace(ctx, spec=self))

    def fix_for(self, values: NoticeValues) -> tuple[str, str]:
        """(action, snippet) a notice asks for when a rule of this kind fails."""
        return self.fix(values) if self.fix is not None else ("", "")


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
    spec: KindSpec | None = field(default=None, compare=False)  # gives the options' defaults

    def opt(self, name: str) -> Any:
        """The rule's option `name`, or the kind's default."""
        if name in self.rule.options:
            return self.rule.options[name]
        spec = self.spec
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


def position_ok(ctx: CheckContext, offset: int, index: int, count: int, where: str) -> bool:
    """Whether text at `offset` in page.full_text (-1: unknown), the index-th of count
    candidate lines, sits at the top (before the copied passages) or the bottom (after them)."""
    if where == "anywhere":
        return True
    passages = ctx.match.passages
    if passages and offset >= 0:
        start = min(p.page_start for p in passages)
        end = max(p.page_end for p in passages)
        slack = max(200, (end - start) // 10)
        return offset <= start + slack if where == "top" else offset >= end - slack
    third = max(1, count // 3)
    return index < third if where == "top" else index >= count - third


HEADER_WINDOW = 600  # characters before the copied text where the copy's own header may sit


def own_header(ctx: CheckContext) -> str:
    """The text between the copy's title and the start of the copied passages, when the title
    sits at most HEADER_WINDOW characters before them: the copy's own header (byline,
    dateline), which belongs to the copy even when its markup sits outside <article> (a
    Medium or Blogger post header). '' when there is no such header."""
    passages = ctx.match.passages
    if not passages:
        return ""
    full = ctx.page.full_text
    start = min(p.page_start for p in passages)
    window = full[max(0, start - HEADER_WINDOW) : start]
    for title in (ctx.source.title, ctx.page.title):
        title = " ".join(title.split())[:80]
        if len(title) >= 8 and (at := window.rfind(title)) >= 0:
            return window[at + len(title) :]
    return ""


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

    @property
    def captions(self) -> tuple[str, ...]:
        """Texts of image captions and photo credits (found by extraction's own parse)."""
        return self.page.captions

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
    def _page_edges(self) -> list[str]:
        """Normalised texts of the page-level <header> and <footer> elements (outside any
        article, aside, nav or comment block): where a page's own end note may sit."""
        html = self.page.html
        if "<footer" not in html.lower() and "<header" not in html.lower():
            return []
        try:
            tree = lxml.html.fromstring(html)
        except (ValueError, lxml.etree.ParserError):
            return []
        edges = []
        for el in tree.iter("header", "footer"):
            blocked = False
            for up in el.iterancestors():
                if up.tag in {"body", "html"}:
                    break
                words = f"{up.get('class', '')} {up.get('id', '')}".lower()
                if up.tag in {"article", "aside", "nav", "main", "section"} or "comment" in words:
                    blocked = True
                    break
            if not blocked:
                edges.append(norm(el.text_content()))
        return edges

    def in_page_edge(self, line: str) -> bool:
        """Whether `line` sits in the page-level header or footer (not a sidebar or comment)."""
        n = self.norm(line)
        return bool(n) and any(n in edge for edge in self._page_edges)

    @property
    def markup_published(self) -> str | None:
        """The publication time the markup states (found by extraction's own parse)."""
        return self.page.markup_published
