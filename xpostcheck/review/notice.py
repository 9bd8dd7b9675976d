"""Compliance notices: a polite, specific request to a republisher, from an editable template.

`draft_notice` fills a jinja2 text template (the default is `templates/notice.txt.j2`; pass
your own template text to override it) with what was copied, which conditions are missing and
exactly what to add: each check kind's `KindSpec` (checks.registry) words its condition and
fix. `find_contacts` reads a page for mailto links and a contact page.

In: a Copy with its findings, the SourceArticle and RuleSet. Out: the notice text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from xpostcheck.checks.compose import GROUP_KINDS
from xpostcheck.checks.context import NoticeValues
from xpostcheck.checks.registry import KINDS
from xpostcheck.errors import XPostCheckError
from xpostcheck.models import Copy, Finding, Rule, RuleSet, SourceArticle

__all__ = [
    "Fix",
    "NoticeError",
    "default_template",
    "draft_notice",
    "find_contacts",
    "load_template",
]


class NoticeError(XPostCheckError):
    """A notice template cannot be read or rendered."""


@dataclass(frozen=True)
class Fix:
    """One missing condition and what to add or change to meet it."""

    rule: str
    kind: str
    condition: str  # the condition, in words
    found: str  # what the check found (its message, and its evidence)
    action: str  # what to do, in words
    snippet: str = ""  # the exact text or markup to add, when there is one


def default_template() -> str:
    return (
        resources.files("xpostcheck")
        .joinpath("templates")
        .joinpath("notice.txt.j2")
        .read_text(encoding="utf-8")
    )


def load_template(path: str | Path) -> str:
    """Read a notice template file, naming the file when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NoticeError(f"cannot read the notice template: {exc}", where=str(path)) from None


def _year(source: SourceArticle | None, copy: Copy) -> str:
    for when in (source.published if source else None, copy.fetched_at):
        if when and re.match(r"\d{4}", when):
            return when[:4]
    return str(date.today().year)


def _fix_for(
    f: Finding, rule: Rule | None, copy: Copy, source: SourceArticle | None, ruleset: RuleSet
) -> Fix:
    """What the notice says of one failed finding; the check kind's spec gives the condition
    and the fix."""
    publisher = ruleset.publisher or (source.publisher if source else "") or "the publisher"
    values = NoticeValues(
        publisher=publisher,
        title=(source.title if source else "") or copy.source_title or copy.source_url,
        url=copy.source_url,
        authors=", ".join(source.authors) if source and source.authors else "",
        year=_year(source, copy),
        options=rule.options if rule else {},
    )
    spec = KINDS.get(f.kind)
    members: tuple[Rule, ...] = tuple(rule.options.get("members", ())) if rule else ()
    condition = (rule.description if rule and rule.description else "") or (
        spec.condition if spec else f"meet the rule {f.rule}"
    )
    found = f.message + (f" ({f.evidence})" if f.evidence else "")
    if f.kind in GROUP_KINDS and members:
        action, snippet = _group_fix(f.kind, members, values), ""
    elif spec is not None:
        action, snippet = spec.fix_for(values)
    else:
        action, snippet = f"Please meet the rule {f.rule}: {f.message}", ""
    condition = condition.strip().rstrip(".")
    return Fix(
        rule=f.rule,
        kind=f.kind,
        condition=condition[:1].upper() + condition[1:],
        found=found.strip().rstrip("."),
        action=action,
        snippet=snippet,
    )


def _group_fix(kind: str, members: tuple[Rule, ...], values: NoticeValues) -> str:
    """What a notice asks for a failed any_of (one of the alternatives, each with what to add)
    or all_of (each condition)."""
    lines = ["Do one of these:" if kind == "any_of" else "Do all of these:"]
    for n, member in enumerate(members):
        spec = KINDS.get(member.kind)
        if spec is None:
            continue
        action, snippet = spec.fix_for(replace(values, options=member.options))
        lines.append(
            f"   ({chr(ord('a') + n)}) {action}" + (f"\n         {snippet}" if snippet else "")
        )
    return "\n".join(lines)


def draft_notice(
    copy: Copy,
    source: SourceArticle | None,
    ruleset: RuleSet,
    *,
    contacts: Sequence[str] = (),
    template: str | None = None,
) -> str:
    """The text of a compliance request for `copy`, from `template` (jinja2 source text; the
    default template when None). Findings triaged as false-positive, licensed or ignored are
    left out; those marked notified stay, since the condition is still unmet."""
    import jinja2

    rules = {r.id: r for r in ruleset.rules}

    def wanted(f: Finding) -> bool:
        return not f.passed and f.triage in (None, "notified")

    fixes = [
        _fix_for(f, rules.get(f.rule), copy, source, ruleset)
        for f in copy.checks
        if wanted(f) and f.severity == "error"
    ]
    concerns = [
        _fix_for(f, rules.get(f.rule), copy, source, ruleset)
        for f in copy.checks
        if wanted(f) and f.severity != "error"
    ]
    emails = [c for c in contacts if "@" in c and "://" not in c]
    excerpt = _excerpt(copy, source)
    pages = [c for c in contacts if c not in emails]
    context = {
        "copy": copy,
        "source": source,
        "source_title": (source.title if source else "") or copy.source_title or copy.source_url,
        "source_url": copy.source_url,
        "authors": ", ".join(source.authors) if source and source.authors else "",
        "publisher": ruleset.publisher or (source.publisher if source else ""),
        "policy_url": ruleset.policy_url,
        "site": copy.site,
        "coverage": f"{copy.coverage * 100:.0f}%",
        "kind": copy.kind,
        "excerpt": excerpt,
        "fixes": fixes,
        "concerns": concerns,
        "emails": emails,
        "contact_pages": pages,
        "contacts": list(contacts),
    }
    env = jinja2.Environment(
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    where = "notice template"
    try:
        return env.from_string(template if template is not None else default_template()).render(
            **context
        )
    except jinja2.TemplateSyntaxError as exc:
        raise NoticeError(f"line {exc.lineno}: {exc.message}", where=where) from None
    except jinja2.UndefinedError as exc:
        names = ", ".join(sorted(context))
        raise NoticeError(f"{exc.message}; the template may use: {names}", where=where) from None


def _excerpt(copy: Copy, source: SourceArticle | None, limit: int = 100) -> str:
    """The opening words of the first matched passage, cut at a word boundary."""
    if source is None or not copy.passages:
        return ""
    first = min(copy.passages, key=lambda p: p.source_start)
    text = " ".join(source.text[first.source_start : first.source_end].split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + " …"


# --- contacts --------------------------------------------------------------------------------

_CONTACT_WORDS = re.compile(
    r"\b(contact|contact[- ]us|kontakt|contacto|contatti|get in touch|write to us|reach us|"
    r"impressum|imprint|tips|about[- ]us|about)\b",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def find_contacts(page_html: str, base_url: str) -> list[str]:
    """Contact details shown on a page: e-mail addresses from mailto links (in page order,
    no duplicates), then up to three contact pages (contact first, then about/imprint)."""
    if not page_html.strip():
        return []
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "lxml")
    emails: list[str] = []
    pages: list[tuple[int, int, str]] = []
    for i, a in enumerate(soup.find_all("a", href=True)):
        href = str(a.get("href") or "").strip()
        if href.lower().startswith("mailto:"):
            address = unquote(href[7:].split("?", 1)[0]).strip()
            for one in address.split(","):
                one = one.strip()
                if _EMAIL.match(one) and one.lower() not in (e.lower() for e in emails):
                    emails.append(one)
            continue
        text = " ".join(a.get_text(" ", strip=True).split())
        path = urlsplit(href).path.replace("-", " ").replace("_", " ").replace("/", " ")
        hit = _CONTACT_WORDS.search(text) or _CONTACT_WORDS.search(path)
        if not hit:
            continue
        absolute = urljoin(base_url, href).split("#", 1)[0]
        if not absolute.startswith(("http://", "https://")):
            continue
        word = hit.group(1).lower()
        rank = 0 if word.startswith(("contact", "kontakt", "get in", "write", "reach")) else 1
        if absolute not in (p[2] for p in pages):
            pages.append((rank, i, absolute))
    return emails + [p[2] for p in sorted(pages)[:3]]
