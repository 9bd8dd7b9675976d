"""Compliance notices: a polite, specific request to a republisher, from an editable template.

`draft_notice` fills a jinja2 text template (the default is `templates/notice.txt.j2`; pass
your own template text to override it) with what was copied, which conditions are missing and
exactly what to add. `find_contacts` reads a page for mailto links and a contact page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

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


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


_CONDITIONS = {
    "attribution": "credit the original publisher",
    "copyright_notice": "keep the copyright line",
    "link_to_original": "link to the original article",
    "canonical": "point the canonical tag at the original article",
    "noindex": "keep the republished copy out of search engines (noindex)",
    "byline": "keep the author's byline",
    "license_notice": "state the licence the article is published under",
    "tracking_pixel": "keep the publisher's tracking pixel",
    "integrity": "republish the article without edits",
    "non_commercial": "republish only on a non-commercial site (no advertising)",
    "embargo": "wait until the embargo ends",
    "media": "use the article's images only as the policy allows",
    "eligibility": "republish only where the policy allows it",
}


def _fix_for(
    f: Finding, rule: Rule | None, copy: Copy, source: SourceArticle | None, ruleset: RuleSet
) -> Fix:
    publisher = ruleset.publisher or (source.publisher if source else "") or "the publisher"
    title = (source.title if source else "") or copy.source_title or copy.source_url
    authors = ", ".join(source.authors) if source and source.authors else ""
    values = {
        "publisher": publisher,
        "title": title,
        "url": copy.source_url,
        "author": authors or publisher,
        "year": _year(source, copy),
    }
    options = rule.options if rule else {}
    condition = (rule.description if rule and rule.description else "") or _CONDITIONS.get(
        f.kind, f"meet the rule {f.rule}"
    )
    found = f.message + (f" ({f.evidence})" if f.evidence else "")
    kind = f.kind
    snippet = ""
    if kind == "attribution":
        phrases = options.get("phrases") or ["The original source of this article is {publisher}"]
        snippet = _fill(str(phrases[0]), values)
        action = "Add this credit line at the top or the bottom of the article:"
    elif kind == "copyright_notice":
        holder = authors or publisher
        snippet = f"Copyright © {values['year']} {holder}"
        action = "Add the copyright line, with the year and the holder:"
    elif kind == "link_to_original":
        snippet = f'<a href="{copy.source_url}">{title}</a>'
        action = "Add a link to the original article (not to the home page), for example:"
    elif kind == "canonical":
        snippet = f'<link rel="canonical" href="{copy.source_url}">'
        action = "Put this tag in the page's <head> (and no other canonical tag):"
    elif kind == "noindex":
        snippet = '<meta name="robots" content="noindex">'
        action = "Put this tag in the page's <head>:"
    elif kind == "byline":
        snippet = f"By {authors}" if authors else ""
        action = "Show the author's byline with the article" + (":" if snippet else ".")
    elif kind == "license_notice":
        licence = str(options.get("license") or options.get("licence") or "")
        snippet = f"This article is republished under a {licence} licence." if licence else ""
        action = "State the licence with the article" + (":" if snippet else ".")
    elif kind == "tracking_pixel":
        action = "Keep the tracking pixel that comes with the republishing code, unchanged."
    elif kind == "integrity":
        action = "Republish the text as it was published: restore any edited headline or text."
    elif kind == "non_commercial":
        action = (
            "Remove the advertising from this page, or write to us for permission first: "
            "the policy covers non-commercial sites."
        )
    elif kind == "embargo":
        action = "Take the copy down until the embargo ends, then republish it."
    elif kind == "media":
        action = "Remove the images the policy does not cover, or credit them as it asks."
    elif kind == "eligibility":
        action = "Please write to us for permission before republishing on this site."
    else:
        action = f"Please meet the rule {f.rule}: {f.message}"
    condition = condition.strip().rstrip(".")
    return Fix(
        rule=f.rule,
        kind=kind,
        condition=condition[:1].upper() + condition[1:],
        found=found.strip().rstrip("."),
        action=action,
        snippet=snippet,
    )


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
