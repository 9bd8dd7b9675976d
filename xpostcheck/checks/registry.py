"""The check registry: every check kind, as one `KindSpec`, and `run_checks`.

In: a RuleSet, a Page, its SourceArticle and Match (and the site's profile). Out: one Finding
per rule. Adding a kind touches one place: write the function (in the family module it belongs
to: text, links, embeds, commercial or content) and add one `KindSpec` to `_SPECS` below, with
its options, its notice condition and fix; `docs/rules.md` and the fixture tests must then
cover it (a test walks every registered kind). The rule loader validates options through these
specs and the notice drafter asks them for the fix text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from xpostcheck.checks.commercial import (
    DEFAULT_AD_PATTERNS,
    DEFAULT_PAYWALL_PATTERNS,
    check_eligibility,
    check_non_commercial,
    domain_in,
)
from xpostcheck.checks.compose import GROUP_KINDS, condition_holds
from xpostcheck.checks.content import (
    check_embargo,
    check_integrity,
    check_retention,
    parse_offset,
    zone,
)
from xpostcheck.checks.context import (
    CheckContext,
    KindSpec,
    NoticeValues,
    Option,
    PageFacts,
    valid_regexes,
    valid_templates,
)
from xpostcheck.checks.embeds import check_media, check_tracking_pixel
from xpostcheck.checks.keeplinks import check_keep_links
from xpostcheck.checks.links import check_canonical, check_link_to_original, check_noindex
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.checks.text import (
    DEFAULT_PHRASES,
    check_attribution,
    check_byline,
    check_copyright_notice,
    check_license_notice,
)
from xpostcheck.models import Finding, Match, Page, Rule, RuleSet, SourceArticle
from xpostcheck.util.urls import host_of

__all__ = ["KINDS", "KindSpec", "Option", "run_checks"]


def _valid_zone(value: Any) -> str | None:
    if not value or zone(value) is not None:
        return None
    return "must be an IANA time zone such as America/Denver (install tzdata if it is missing)"


def _valid_offset(value: Any) -> str | None:
    return None if parse_offset(value) is not None else "must look like +02:00 or -07:00"


# --- what a notice asks for, per kind ------------------------------------------------------


def _asks(action: str) -> Callable[[NoticeValues], tuple[str, str]]:
    """A fix that is only words, with nothing to paste."""
    return lambda _values: (action, "")


def _joined(authors: str) -> str:
    names = [a.strip() for a in authors.split(",") if a.strip()]
    if len(names) < 2:
        return authors
    return ", ".join(names[:-1]) + " and " + names[-1]


def _where(v: NoticeValues) -> str:
    position = v.options.get("position", "anywhere")
    return {"top": "at the top of the article", "bottom": "at the bottom of the article"}.get(
        str(position), "at the top or the bottom of the article"
    )


def _fix_attribution(v: NoticeValues) -> tuple[str, str]:
    phrases = v.options.get("phrases") or ["The original source of this article is {publisher}"]
    return f"Add this credit line {_where(v)}:", v.fill(str(phrases[0]))


def _fix_copyright(v: NoticeValues) -> tuple[str, str]:
    names = str(v.options.get("names") or "author_or_publisher")
    holder = {
        "publisher": v.publisher,
        "author": v.authors or v.publisher,
        "author_and_publisher": f"{v.authors}, {v.publisher}" if v.authors else v.publisher,
    }.get(names, v.authors or v.publisher)
    return "Add the copyright line, with the year and the holder:", f"Copyright © {v.year} {holder}"


def _fix_link(v: NoticeValues) -> tuple[str, str]:
    anchors = v.options.get("anchor_text") or []
    text = v.fill(str(anchors[0])) if anchors else v.title
    return (
        "Add a link to the original article (not to the home page), for example:",
        f'<a href="{v.url}">{text}</a>',
    )


def _fix_canonical(v: NoticeValues) -> tuple[str, str]:
    return (
        "Put this tag in the page's <head> (and no other canonical tag):",
        f'<link rel="canonical" href="{v.url}">',
    )


def _fix_byline(v: NoticeValues) -> tuple[str, str]:
    if not v.authors:
        return "Show the author's byline with the article.", ""
    fmt = str(v.options.get("format") or "{author}")
    byline = v.fill(fmt.replace("{author}", _joined(v.authors)))
    snippet = byline if fmt.strip() != "{author}" else f"By {_joined(v.authors)}"
    return f"Show the author's byline {_where(v)}:", snippet


def _fix_licence(v: NoticeValues) -> tuple[str, str]:
    code = str(v.options.get("license") or "by")
    version = str(v.options.get("version") or "4.0")
    version = "4.0" if version == "any" else version
    label = f"CC {code.upper()} {version}"
    deed = f"https://creativecommons.org/licenses/{code}/{version}/"
    return (
        "State the licence with the article, linked to its deed:",
        f'This article is republished under a <a href="{deed}">{label}</a> licence.',
    )


# --- the kinds -----------------------------------------------------------------------------

_REGION = Option(
    "str",
    "near",
    "where to look: article, near (article and its surroundings) or page",
    choices=("article", "near", "page"),
)
_POSITION = Option(
    "str",
    "anywhere",
    "where it must sit: anywhere, top (before the copied text) or bottom (after it)",
    choices=("anywhere", "top", "bottom"),
)
_THRESHOLD = Option(
    "float", 90.0, "fuzzy match score (0-100) a phrase must reach", minimum=50, maximum=100
)

_SPECS: tuple[KindSpec, ...] = (
    KindSpec(
        "attribution",
        check_attribution,
        "a credit line naming the original, matched fuzzily against template phrases",
        {
            "phrases": Option(
                "list",
                list(DEFAULT_PHRASES),
                "phrases with {publisher}, {author}, {title}, {url}",
                validate=valid_templates,
            ),
            "builtin_credits": Option(
                "bool",
                True,
                "also recognise credits as people write them: the publisher's name or an alias "
                "with a credit verb or label, a byline, a copyright line or a link (en, es, fr, "
                "de, pt, it); false narrows the check to the phrases",
            ),
            "position": _POSITION,
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
        condition="credit the original publisher",
        fix=_fix_attribution,
    ),
    KindSpec(
        "byline",
        check_byline,
        "the original's authors are named, optionally in a set format",
        {
            "format": Option(
                "str",
                "{author}",
                "byline template, e.g. '{author}, {publisher}'",
                validate=valid_templates,
            ),
            "position": _POSITION,
            "require": Option("str", "all", "every author, or any one", choices=("all", "any")),
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
        condition="keep the author's byline",
        fix=_fix_byline,
    ),
    KindSpec(
        "copyright_notice",
        check_copyright_notice,
        "a line with ©, 'Copyright' or '(c)', the author and/or publisher, and a year",
        {
            "names": Option(
                "str",
                "author_or_publisher",
                "whom the line must name",
                choices=("author_or_publisher", "author", "publisher", "author_and_publisher"),
            ),
            "year": Option(
                "str",
                "any",
                "any year, the original's publication year, or optional (no year needed)",
                choices=("any", "original", "optional"),
            ),
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
        condition="keep the copyright line",
        fix=_fix_copyright,
    ),
    KindSpec(
        "link_to_original",
        check_link_to_original,
        "an <a href> to the original article after URL canonicalisation",
        {
            "allow_home_page": Option("bool", False, "a link to the publisher's home page counts"),
            "allow_nofollow": Option("bool", True, "a rel=nofollow/ugc/sponsored link counts"),
            "anchor_text": Option(
                "list",
                [],
                "the link text must match one of these templates",
                validate=valid_templates,
            ),
            "region": _REGION,
            "position": _POSITION,
            "resolve_shortlinks": Option("bool", True, "follow redirects of other links"),
            "max_resolve": Option("int", 5, "at most this many links are resolved", minimum=0),
        },
        condition="link to the original article",
        fix=_fix_link,
    ),
    KindSpec(
        "keep_links",
        check_keep_links,
        "the original's in-body links are kept in the copied text",
        {
            "min_share": Option(
                "float",
                0.8,
                "share of the copied text's links that must be kept",
                minimum=0,
                maximum=1,
            ),
            "min_links": Option(
                "int", 1, "judge only when the copied text carries this many links", minimum=1
            ),
        },
        condition="keep the links of the original article",
        fix=_asks("Keep the links the article carries, as the original has them."),
    ),
    KindSpec(
        "canonical",
        check_canonical,
        "exactly one rel=canonical (tag or Link header), pointing to the original",
        {"accept_noindex": Option("bool", False, "noindex is an accepted alternative")},
        condition="point the canonical tag at the original article",
        fix=_fix_canonical,
    ),
    KindSpec(
        "noindex",
        check_noindex,
        "meta robots or X-Robots-Tag keeps the copy out of search engines",
        {
            "directives": Option("list", ["noindex", "none"], "directives that count"),
            "accept_canonical": Option(
                "bool", False, "a rel=canonical to the original is an accepted alternative"
            ),
        },
        condition="keep the republished copy out of search engines (noindex)",
        fix=lambda _values: (
            "Put this tag in the page's <head>:",
            '<meta name="robots" content="noindex">',
        ),
    ),
    KindSpec(
        "license_notice",
        check_license_notice,
        "the Creative Commons licence, by name and version, and a link to its deed",
        {
            "license": Option(
                "str",
                "by",
                "the licence code",
                choices=("by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"),
            ),
            "version": Option(
                "str",
                "4.0",
                "licence version, or 'any'",
                choices=("1.0", "2.0", "2.5", "3.0", "4.0", "any"),
            ),
            "require_link": Option("bool", True, "a link to the deed (or rel=license) is needed"),
            "region": _REGION,
        },
        condition="state the licence the article is published under",
        fix=_fix_licence,
    ),
    KindSpec(
        "tracking_pixel",
        check_tracking_pixel,
        "an img, script or amp-pixel whose URL matches a pattern (and the article id), not hidden",
        {
            "patterns": Option(
                "list", [], "regular expressions for the pixel URL", validate=valid_regexes
            ),
            "tags": Option(
                "list",
                ["img", "amp-img", "amp-pixel", "script", "iframe", "amp-analytics"],
                "tags that may load the pixel",
            ),
            "allow_hidden": Option(
                "bool", False, "a hidden image counts (a script is never hidden: it runs)"
            ),
            "article_id": Option(
                "str",
                "",
                "regex whose group 1 reads the article id from the original's URL; "
                "the pixel's URL must carry it",
                validate=lambda v: valid_regexes([v]) if v else None,
            ),
        },
        condition="keep the publisher's tracking pixel",
        fix=_asks("Keep the tracking pixel that comes with the republishing code, unchanged."),
        required=("patterns",),
    ),
    KindSpec(
        "integrity",
        check_integrity,
        "no edits beyond what is allowed: coverage, deletions, insertions, changed facts, "
        "headline, excerpts and length limits",
        {
            "min_coverage": Option(
                "float", 0.9, "share of the original the copy must hold", minimum=0, maximum=1
            ),
            "max_deleted": Option(
                "float", 1.0, "largest share of the original left out", minimum=0, maximum=1
            ),
            "allow_headline_change": Option("bool", True, "the headline may be rewritten"),
            "headline_threshold": Option(
                "float", 90.0, "ratio under which a headline changed", minimum=0, maximum=100
            ),
            "max_excerpt_paragraphs": Option(
                "int", 0, "an excerpt of up to N paragraphs is allowed (0: no excerpts)", minimum=0
            ),
            "excerpt_needs_link": Option("bool", True, "an excerpt must link to the original"),
            "allow_insertions": Option(
                "bool", True, "passages the original lacks may be inserted into the copied text"
            ),
            "allow_changed_facts": Option(
                "bool", True, "numbers, names and quotations may differ from the original"
            ),
            "max_words": Option(
                "int", 0, "at most this many of the original's words (0: no limit)", minimum=0
            ),
            "max_paragraphs": Option(
                "int", 0, "at most this many of the original's paragraphs (0: no limit)", minimum=0
            ),
        },
        condition="republish the article without edits",
        fix=_asks("Republish the text as it was published: restore any edited headline or text."),
    ),
    KindSpec(
        "non_commercial",
        check_non_commercial,
        "no ad-network or paywall markup on the page",
        {
            "ad_patterns": Option(
                "list", list(DEFAULT_AD_PATTERNS), "regexes of ad networks", validate=valid_regexes
            ),
            "paywall_patterns": Option(
                "list",
                list(DEFAULT_PAYWALL_PATTERNS),
                "regexes of paywall markers",
                validate=valid_regexes,
            ),
            "check_paywall": Option("bool", True, "a paywall also counts as commercial use"),
        },
        severity="warning",
        condition="republish only on a non-commercial site (no advertising)",
        fix=_asks(
            "Remove the advertising from this page, or write to us for permission first: "
            "the policy covers non-commercial sites."
        ),
    ),
    KindSpec(
        "embargo",
        check_embargo,
        "the copy was published no earlier than the original plus a delay",
        {
            "delay_hours": Option(
                "float", 0.0, "hours after the original (or the next day)", minimum=0
            ),
            "not_before": Option(
                "str", "", "'next_day': not before the calendar day after", choices=("", "next_day")
            ),
            "utc_offset": Option(
                "str", "+00:00", "a fixed UTC offset, e.g. -07:00", validate=_valid_offset
            ),
            "time_zone": Option(
                "str",
                "",
                "the publisher's IANA time zone, e.g. America/Denver (wins over utc_offset)",
                validate=_valid_zone,
            ),
            "unknown": Option(
                "str", "pass", "verdict when the copy's time is unknown", choices=("pass", "fail")
            ),
        },
        condition="wait until the embargo ends",
        fix=_asks("Take the copy down until the embargo ends, then republish it."),
    ),
    KindSpec(
        "retention",
        check_retention,
        "the copy is taken down within N days of publication",
        {
            "max_days": Option("float", 0.0, "days a copy may stay online", minimum=0),
            "counted_from": Option(
                "str",
                "copy",
                "days count from the copy's publication, or the original's",
                choices=("copy", "original"),
            ),
            "time_zone": Option("str", "", "IANA time zone for naive times", validate=_valid_zone),
            "utc_offset": Option("str", "+00:00", "fixed UTC offset", validate=_valid_offset),
        },
        condition="take the copy down when the licence period ends",
        fix=_asks("Please take the copy down: the licence allows it online for a limited time."),
        required=("max_days",),
    ),
    KindSpec(
        "media",
        check_media,
        "whether the original's images are reused (forbid, require or report)",
        {
            "reuse": Option(
                "str",
                "report",
                "what the rule says of the images",
                choices=("forbid", "require", "report"),
            ),
            "caption_credit": Option(
                "list",
                [],
                "reused photos need a caption holding one of these templates, e.g. '{publisher}'",
                validate=valid_templates,
            ),
        },
        condition="use the article's images only as the policy allows",
        fix=_asks("Remove the images the policy does not cover, or credit them as it asks."),
    ),
    KindSpec(
        "eligibility",
        check_eligibility,
        "allow and deny lists of partner sites; licensed partners are exempt from all checks",
        {
            "allow": Option("list", [], "only these domains may republish (empty: any)"),
            "deny": Option("list", [], "these domains may not republish"),
            "licensed": Option("list", [], "licensed partners, exempt from every check"),
        },
        condition="republish only where the policy allows it",
        fix=_asks("Please write to us for permission before republishing on this site."),
    ),
)

KINDS: Mapping[str, KindSpec] = MappingProxyType({spec.kind: spec for spec in _SPECS})


def _licensed_partner(ruleset: RuleSet, page: Page) -> str | None:
    host = host_of(page.url)
    for rule in ruleset.rules:
        if rule.kind == "eligibility":
            licensed = rule.options.get("licensed") or []
            hit = domain_in(host, list(licensed))
            if hit:
                return hit
    return None


def _not_applicable(ctx: CheckContext, when: str) -> Finding:
    return ctx.finding(True, f"does not apply: the condition '{when}' does not hold", None)


def _group(ctx: CheckContext, make: Callable[[Rule], CheckContext]) -> Finding:
    """One finding for an any_of / all_of group, each member's verdict and evidence kept.

    In an any_of, a member whose `when` does not hold is not an alternative that was met."""
    rule = ctx.rule
    members: tuple[Rule, ...] = tuple(rule.options.get("members", ()))
    results: list[tuple[Rule, Finding, bool]] = []  # (member, finding, applies)
    for member in members:
        results.append(_judge(member, make))
    lines = []
    for member, found, applies in results:
        mark = "n/a" if not applies else ("ok" if found.passed else "FAILED")
        lines.append(
            f"[{member.id} {member.kind}: {mark}] {found.message}"
            + (f" ({found.evidence})" if found.evidence else "")
        )
    evidence = " | ".join(lines) or None
    if rule.kind == "any_of":
        met = [m.id for m, f, applies in results if applies and f.passed]
        if met:
            return ctx.finding(
                True, f"met by {met[0]} (one of {len(members)} alternatives)", evidence
            )
        return ctx.finding(False, f"none of the {len(members)} alternatives is met", evidence)
    failed = [m.id for m, f, applies in results if applies and not f.passed]
    if failed:
        return ctx.finding(
            False,
            f"{len(failed)} of {len(members)} conditions unmet: " + ", ".join(failed),
            evidence,
        )
    return ctx.finding(True, f"all {len(members)} conditions met", evidence)


def _judge(rule: Rule, make: Callable[[Rule], CheckContext]) -> tuple[Rule, Finding, bool]:
    """(rule, finding, whether the rule applies) for a rule or a group."""
    ctx = make(rule)
    when = rule.options.get("when")
    if isinstance(when, str) and when and not condition_holds(ctx, when):
        return rule, _not_applicable(ctx, when), False
    if rule.kind in GROUP_KINDS:
        return rule, _group(ctx, make), True
    spec = KINDS.get(rule.kind)
    if spec is None:
        return rule, ctx.finding(False, f"unknown check kind {rule.kind!r}", None), True
    return rule, spec(ctx), True


def run_checks(
    ruleset: RuleSet,
    page: Page,
    source: SourceArticle,
    match: Match,
    *,
    profile: SiteProfile | None = None,
    resolve: Callable[[str], str | None] | None = None,
    now: str | None = None,
) -> tuple[Finding, ...]:
    """One Finding per rule (a group of rules gives one), in the ruleset's order. Never raises
    on odd pages: a check that crashes gives a failed Finding that says the check errored."""
    facts = PageFacts(page, profile)
    licensed = _licensed_partner(ruleset, page)

    def make(rule: Rule) -> CheckContext:
        spec = KINDS.get(rule.kind)
        return CheckContext(rule, ruleset, page, source, match, profile, resolve, now, facts, spec)

    findings: list[Finding] = []
    for rule in ruleset.rules:
        ctx = make(rule)
        if licensed and rule.kind != "eligibility":
            findings.append(
                ctx.finding(True, "licensed partner: exempt", f"{host_of(page.url)} ({licensed})")
            )
            continue
        try:
            findings.append(_judge(rule, make)[1])
        except Exception as exc:  # a check bug must not lose the other findings
            findings.append(
                ctx.finding(False, f"the check errored: {type(exc).__name__}: {exc}", None)
            )
    return tuple(findings)
