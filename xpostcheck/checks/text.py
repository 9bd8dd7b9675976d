"""Checks that read the words around the article: attribution, byline, copyright, licence.

In: a CheckContext (the page's lines by region, its links for the licence deed). Out: one
Finding per rule.
"""

from __future__ import annotations

import re

from xpostcheck.checks.context import CheckContext, own_header, position_ok
from xpostcheck.checks.credits import credit_in, fold, name_patterns
from xpostcheck.checks.textutil import (
    best_line,
    excerpt,
    frame_words,
    fuzzy_contains,
    lines_of,
    norm,
    quoted,
    shorten,
)
from xpostcheck.models import Finding
from xpostcheck.util.urls import article_key, host_of, same_site

# --- attribution ---------------------------------------------------------------------------

DEFAULT_PHRASES = (
    "The original source of this article is {publisher}",
    "originally published by {publisher}",
    "originally published on {publisher}",
    "originally published at {publisher}",
    "originally published in {publisher}",
    "originally appeared on {publisher}",
    "first published by {publisher}",
    "first published on {publisher}",
    "republished from {publisher}",
    "Source: {publisher}",
)


def _best_line(
    ctx: CheckContext,
    lines: list[str],
    texts: list[str],
    threshold: float,
    frames: dict[str, tuple[str, ...]] | None = None,
) -> tuple[int, str, str] | None:
    """(index, line, phrase) of the line that best contains one of `texts`."""
    found = best_line(texts, lines, threshold, ctx.page_facts.norm, frames)
    return None if found is None else (found[0], found[1], found[2])


def _placed(ctx: CheckContext, lines: list[str], where: str) -> list[str]:
    """The lines that sit where the rule wants them (all of them for 'anywhere')."""
    if where == "anywhere":
        return lines
    full = ctx.page.full_text
    cursor = 0
    placed = []
    for i, line in enumerate(lines):
        offset = full.find(line, cursor)  # lines come in page order: the next occurrence
        if offset < 0:
            offset = full.find(line)
        else:
            cursor = offset + len(line)
        if position_ok(ctx, offset, i, len(lines), where):
            placed.append(line)
    return placed


class _Recogniser:
    """The built-in credit forms (checks.credits) for this copy: the publisher's names, the
    original's domain, and the anchor texts of the page's links to the publisher's site."""

    def __init__(self, ctx: CheckContext) -> None:
        names = list(ctx.names("publisher"))
        header = own_header(ctx)
        host = host_of(ctx.source.url)
        if host:
            names.append(host[4:] if host.startswith("www.") else host)
        self.patterns = name_patterns(names)
        self.linked = tuple(
            fold(link.text)
            for link in ctx.page.links
            if link.text
            and not link.hidden
            and (link.region != "chrome" or link.text in header)
            and same_site(link.href, ctx.source.url)
        )
        self.copied = norm(ctx.source.text)

    def find(self, lines: list[str]) -> tuple[str, str] | None:
        """(line, form) of the first line that credits the publisher."""
        for line in lines:
            if len(line) > 200 and norm(line) in self.copied:
                continue  # a copied paragraph that mentions the publisher is no credit
            form = credit_in(line, self.patterns, self.linked, copyright=False)
            if form is not None:
                return line, form
        return None


_FORMS = {
    "credit": "credit line found",
    "byline": "credit found in a byline naming the publisher",
    "link": "credit found: the publisher's name linked to its site",
}


def check_attribution(ctx: CheckContext) -> Finding:
    templates: list[str] = list(ctx.opt("phrases"))
    frames = {t: frame_words(tmpl) for tmpl in templates for t in ctx.expand(tmpl)}
    texts = list(frames)
    # A pack's phrases extend the built-in credit forms; only builtin_credits = false narrows
    # the check to the phrases alone.
    builtin = _Recogniser(ctx) if ctx.opt("builtin_credits") is not False else None
    if not texts and builtin is None:
        return ctx.finding(
            True,
            "nothing to look for: the phrases need an author or title the original lacks",
            None,
        )
    threshold = float(ctx.opt("threshold"))
    facts = ctx.page_facts
    lines = facts.lines(str(ctx.opt("region")))
    in_text = [ln for ln in lines if not facts.in_caption(ln)]
    # The copy's own header (title area, byline) belongs to it even outside <article>.
    header = [ln for ln in lines_of(own_header(ctx)) if ln not in in_text]
    in_text = header + in_text
    where = str(ctx.opt("position"))
    placed = _placed(ctx, in_text, where)
    found = _best_line(ctx, placed, texts, threshold, frames) if texts else None
    if found:
        return ctx.finding(True, "credit line found", excerpt(found[1], found[2]))
    recognised = builtin.find(placed) if builtin else None
    if recognised:
        return ctx.finding(True, _FORMS[recognised[1]], shorten(recognised[0]))
    elsewhere = (
        _best_line(ctx, in_text, texts, threshold, frames) if placed != in_text and texts else None
    )
    if elsewhere is None and builtin is not None and placed != in_text:
        misplaced = builtin.find(in_text)
        if misplaced:
            elsewhere = (0, misplaced[0], misplaced[0])
    if elsewhere:
        return ctx.finding(
            False,
            f"credit line found, but not at the {where}",
            excerpt(elsewhere[1], elsewhere[2]),
        )
    looked = (
        f"looked for {quoted(texts)}"
        if texts
        else "looked for the publisher's name in a credit, byline or copyright line"
    )

    def search(candidates: list[str]) -> tuple[str, str] | None:
        hit = _best_line(ctx, candidates, texts, threshold, frames) if texts else None
        if hit:
            return hit[1], excerpt(hit[1], hit[2])
        known = builtin.find(candidates) if builtin else None
        return (known[0], shorten(known[0])) if known else None

    captioned = search([ln for ln in lines if facts.in_caption(ln)])
    if captioned:
        return ctx.finding(
            False,
            "credit appears only in an image caption, which credits the picture, not the article",
            captioned[1],
        )
    chrome = search(facts.chrome_lines)
    if chrome:
        profile = ctx.profile
        if (
            profile is not None
            and profile.pages >= profile.min_pages
            and where == "anywhere"
            and not profile.is_chrome_text(chrome[0])
            and ctx.page_facts.in_page_edge(chrome[0])
        ):
            # In a header or footer by its markup, but no other page of the site shows it:
            # the page's own end note, not site chrome.
            return ctx.finding(
                True,
                "credit found in this page's footer or header (no other page of the site shows it)",
                chrome[1],
            )
        return ctx.finding(
            False,
            "credit appears only in the site's chrome (shown on every page), not with this article",
            chrome[1],
        )
    return ctx.finding(False, "no credit line naming the original", looked)


# --- byline --------------------------------------------------------------------------------


# How bylines join several names: "A and B", "A, B and C", "A & B", "A y B", "A et B", ...
_JOINERS = ("and", "&", "y", "e", "et", "und", "en", "og", "och", "i", "ja")
_JOIN_SPLIT = re.compile(
    r"\s*(?:,\s*(?:(?:"
    + "|".join(map(re.escape, _JOINERS))
    + r")\s+)?|\s+(?:"
    + "|".join(map(re.escape, _JOINERS))
    + r")\s+)",
    re.IGNORECASE,
)
_BYLINE_MAX_WORDS = 40


def _joint_bylines(
    ctx: CheckContext, fmt: str, lines: list[str], threshold: float
) -> dict[str, str]:
    """The authors a joint byline names in the rule's format ("By A and B, Publisher").

    Where the format puts {author}, a line may hold several names joined by a comma or a
    conjunction of any of the usual languages; the rest of the format must follow the list."""
    authors = ctx.source.authors
    head, _, tail = fmt.partition("{author}")
    rest = [t for t in ctx.expand(tail) if t.strip()] if tail.strip() else [""]
    lead = [h for h in ctx.expand(head) if h.strip()] if head.strip() else [""]
    found: dict[str, str] = {}  # author -> the byline that names them
    for line in lines:
        if len(line.split()) > _BYLINE_MAX_WORDS:
            continue
        for after in rest:
            n_after = norm(after)
            n_line = norm(line)
            if n_after and n_after not in n_line and not fuzzy_contains(after, line, threshold):
                continue
            for before in lead:
                if before.strip() and not fuzzy_contains(before, line, threshold):
                    continue
                names_part = line
                if n_after:  # the names come before the rest of the format
                    cut = line.casefold().rfind(after.strip().casefold()[:6])
                    names_part = line[:cut] if cut > 0 else line
                pieces = [p for p in _JOIN_SPLIT.split(names_part) if p.strip()]
                for author in authors:
                    if author in found:
                        continue
                    if any(fuzzy_contains(author, piece, threshold) for piece in pieces):
                        found[author] = shorten(line, 120)
    return found


def check_byline(ctx: CheckContext) -> Finding:
    authors = ctx.source.authors
    if not authors:
        return ctx.finding(True, "the original names no author", None)
    fmt = str(ctx.opt("format"))
    threshold = float(ctx.opt("threshold"))
    facts = ctx.page_facts
    lines = facts.lines(str(ctx.opt("region")))
    found: list[str] = []
    missing: list[str] = []
    misplaced: list[str] = []
    where = str(ctx.opt("position"))
    placed = _placed(ctx, lines, where)
    joint = (
        _joint_bylines(ctx, fmt, placed, threshold)
        if len(authors) > 1 and "{author}" in fmt and fmt.strip() != "{author}"
        else {}
    )
    for author in authors:
        texts = ctx.expand(fmt.replace("{author}", author)) or [author]
        hit = _best_line(ctx, placed, texts, threshold)
        if hit is not None:
            found.append(excerpt(hit[1], hit[2], 120))
            continue
        if author in joint:
            found.append(joint[author])
            continue
        if fmt.strip() == "{author}" and where == "anywhere":
            meta = [a for a in ctx.page.authors if fuzzy_contains(author, a, threshold)]
            if meta:
                found.append(f"author metadata: {meta[0]}")
                continue
        elsewhere = _best_line(ctx, lines, texts, threshold) if placed != lines else None
        if elsewhere is not None:
            misplaced.append(excerpt(elsewhere[1], elsewhere[2], 120))
        else:
            missing.append(texts[0])
    need_all = ctx.opt("require") == "all"
    if misplaced and (need_all or not found):
        return ctx.finding(False, f"byline found, but not at the {where}", "; ".join(misplaced))
    if missing and (need_all or not found):
        return ctx.finding(
            False,
            f"byline missing: looked for {quoted(missing)}",
            "; ".join(found) or None,
        )
    return ctx.finding(True, "byline found", "; ".join(dict.fromkeys(found)))


# --- copyright -----------------------------------------------------------------------------

_MARK = re.compile(r"©|&copy;|\(c\)|\bcopyright\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def _source_year(ctx: CheckContext) -> str | None:
    published = ctx.source.published or ""
    m = re.match(r"\s*(\d{4})", published)
    return m.group(1) if m else None


def check_copyright_notice(ctx: CheckContext) -> Finding:
    threshold = float(ctx.opt("threshold"))
    names_mode = str(ctx.opt("names"))
    year_mode = str(ctx.opt("year"))
    authors = ctx.names("author")
    publishers = ctx.names("publisher")

    def names_ok(line: str) -> bool:
        has_author = any(fuzzy_contains(a, line, threshold) for a in authors)
        has_pub = any(fuzzy_contains(p, line, threshold) for p in publishers)
        if names_mode == "author":
            return has_author or not authors
        if names_mode == "publisher":
            return has_pub
        if names_mode == "author_and_publisher":
            return has_pub and (has_author or not authors)
        return has_author or has_pub

    facts = ctx.page_facts
    want_year = _source_year(ctx) if year_mode == "original" else None
    folded_names = [n.casefold() for n in (*authors, *publishers) if n]

    def names_follow(after: str) -> bool:
        """'Copyright Jane Doe': the word is a notice when a name comes right after it."""
        rest = after.lstrip(" \t©:,-–—").casefold()
        rest = rest[4:] if rest.startswith("(c)") else rest
        return any(rest.lstrip().startswith(n) for n in folded_names)

    def scan(lines: list[str]) -> tuple[str | None, str | None, str | None]:
        """(a good notice, one with the wrong year, one with no year), each a window of its
        line around the copyright mark"""
        good = wrong = noyear = None
        for line in lines:
            for mark in _MARK.finditer(line):
                notice = line[max(0, mark.start() - 60) : mark.end() + 100]
                years = _YEAR.findall(notice)
                bare_word = mark.group(0).lower() == "copyright" and not years
                if bare_word and (year_mode != "optional" or not names_follow(line[mark.end() :])):
                    continue  # the word in a sentence ("the source and copyright are ...")
                if not names_ok(notice):
                    continue
                if not years and year_mode != "optional":
                    noyear = noyear or notice
                elif want_year and want_year not in years:
                    wrong = wrong or notice
                else:
                    good = good or notice
        return good, wrong, noyear

    good, wrong, noyear = scan(facts.lines(str(ctx.opt("region"))))
    if good:
        return ctx.finding(True, "copyright line found", shorten(good))
    if wrong:
        years = ", ".join(_YEAR.findall(wrong))
        return ctx.finding(
            False,
            f"copyright year {years} differs from the original's {want_year}",
            shorten(wrong),
        )
    if noyear:
        return ctx.finding(False, "copyright line has no year", shorten(noyear))
    chrome_good, chrome_wrong, _ = scan(facts.chrome_lines)
    if chrome_good or chrome_wrong:
        return ctx.finding(
            False,
            "copyright line appears only in the site's chrome, not with this article",
            shorten(chrome_good or chrome_wrong or ""),
        )
    who = {
        "author": "the author",
        "publisher": "the publisher",
        "author_and_publisher": "the author and the publisher",
    }.get(names_mode, "the author or the publisher")
    names = quoted(list(authors) + list(publishers))
    return ctx.finding(
        False,
        f"no copyright line (©, 'Copyright' or '(c)' with {who}"
        + (")" if year_mode == "optional" else " and a year)"),
        f"looked for a copyright line naming {names}"
        + (f" with the year {want_year}" if want_year else ""),
    )


# --- licence -------------------------------------------------------------------------------

_LICENCE_URL = re.compile(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", re.IGNORECASE)
_SHORT_NAME = re.compile(r"\bCC[\s-]+(BY(?:[\s-]+(?:NC|SA|ND))*)(?:[\s-]+(\d\.\d))?", re.IGNORECASE)
_LONG_NAME = re.compile(
    r"Creative\s+Commons\s+(Attribution(?:[\s-]+(?:NonCommercial|ShareAlike|NoDerivatives|"
    r"NoDerivs))*)(?:[\s-]+(\d\.\d))?",
    re.IGNORECASE,
)
_LONG_PARTS = {"noncommercial": "nc", "sharealike": "sa", "noderivatives": "nd", "noderivs": "nd"}


def licence_label(code: str, version: str) -> str:
    return f"CC {code.upper()}" + ("" if version == "any" else f" {version}")


def _short_code(words: str) -> str:
    return "-".join(w.lower() for w in re.split(r"[\s-]+", words) if w)


def _long_code(words: str) -> str:
    parts = [w.lower() for w in re.split(r"[\s-]+", words) if w]
    return "-".join(["by"] + [_LONG_PARTS[p] for p in parts[1:] if p in _LONG_PARTS])


def _mentions(line: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for m in _SHORT_NAME.finditer(line):
        out.append((_short_code(m.group(1)), m.group(2)))
    for m in _LONG_NAME.finditer(line):
        out.append((_long_code(m.group(1)), m.group(2)))
    return out


def check_license_notice(ctx: CheckContext) -> Finding:
    code = str(ctx.opt("license")).lower()
    version = str(ctx.opt("version"))
    label = licence_label(code, version)
    facts = ctx.page_facts
    profile = ctx.profile
    region = str(ctx.opt("region"))
    page_wide = region == "page"
    allowed = {"article"} if region == "article" else {"article", "near"}
    links = ctx.page.links
    # rel=license in the site's footer is the site's own licence, not this copy's
    chrome_only = {x.href for x in links if x.region == "chrome"} - {
        x.href for x in links if x.region != "chrome"
    }

    def usable(href: str) -> bool:
        return not (profile and profile.is_chrome_link(href))

    hrefs = [x.href for x in links if (page_wide or x.region in allowed) and usable(x.href)]
    hrefs += [u for u in ctx.page.license_urls if usable(u) and (page_wide or u not in chrome_only)]
    good_link = wrong_link = None
    for href in dict.fromkeys(hrefs):
        m = _LICENCE_URL.search(href)
        if not m:
            continue
        if m.group(1).lower() == code and version in ("any", m.group(2)):
            good_link = good_link or href
        else:
            wrong_link = wrong_link or href
    named = wrong_name = None
    for line in facts.lines(region):
        for found_code, found_version in _mentions(line):
            if found_code == code and (version == "any" or found_version in (None, version)):
                named = named or line
            else:
                wrong_name = wrong_name or line
    if good_link:
        evidence = good_link + (f" ({shorten(named, 100)})" if named else "")
        return ctx.finding(True, f"{label} licence linked", evidence)
    if named and not ctx.opt("require_link"):
        return ctx.finding(True, f"{label} licence named", shorten(named))
    if wrong_link or wrong_name:
        return ctx.finding(
            False,
            f"names a different licence; expected {label}",
            wrong_link or shorten(wrong_name or ""),
        )
    if named:
        return ctx.finding(
            False,
            f"{label} is named but not linked to its deed",
            shorten(named),
        )
    url = f"https://creativecommons.org/licenses/{code}/{'4.0' if version == 'any' else version}/"
    return ctx.finding(
        False,
        f"no {label} licence notice",
        f"looked for a link to {url} or rel=license, key {article_key(url)}",
    )
