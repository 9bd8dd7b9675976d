"""The check registry: one function per kind, with the options its rule tables accept.

Adding a kind touches one place: write the function (in a `checks_*.py` module) and add one
`KindSpec` to `_SPECS` below; `docs/rules.md` and the fixture tests must then cover it (a test
walks every registered kind).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from xpostcheck.checks.content import check_embargo, check_integrity
from xpostcheck.checks.context import CheckContext, Option, PageFacts
from xpostcheck.checks.links import (
    DEFAULT_AD_PATTERNS,
    DEFAULT_PAYWALL_PATTERNS,
    check_canonical,
    check_eligibility,
    check_link_to_original,
    check_media,
    check_noindex,
    check_non_commercial,
    check_tracking_pixel,
    domain_in,
)
from xpostcheck.checks.siteprofile import SiteProfile
from xpostcheck.checks.text import (
    DEFAULT_PHRASES,
    check_attribution,
    check_byline,
    check_copyright_notice,
    check_license_notice,
)
from xpostcheck.models import Finding, Match, Page, RuleSet, Severity, SourceArticle
from xpostcheck.util.urls import host_of

__all__ = [
    "CHECKS",
    "KINDS",
    "CheckContext",
    "CheckFn",
    "KindSpec",
    "Option",
    "run_checks",
]

CheckFn = Callable[[CheckContext], Finding]


@dataclass(frozen=True)
class KindSpec:
    kind: str
    fn: CheckFn
    summary: str
    options: Mapping[str, Option] = field(default_factory=dict)
    severity: Severity = "error"  # a rule's severity when its table gives none


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
                "list", list(DEFAULT_PHRASES), "phrases with {publisher}, {author}, {title}, {url}"
            ),
            "position": _POSITION,
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
    ),
    KindSpec(
        "byline",
        check_byline,
        "the original's authors are named, optionally in a set format",
        {
            "format": Option("str", "{author}", "byline template, e.g. '{author}, {publisher}'"),
            "position": _POSITION,
            "require": Option("str", "all", "every author, or any one", choices=("all", "any")),
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
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
                "any year, or the original's publication year",
                choices=("any", "original"),
            ),
            "region": _REGION,
            "threshold": _THRESHOLD,
        },
    ),
    KindSpec(
        "link_to_original",
        check_link_to_original,
        "an <a href> to the original article after URL canonicalisation",
        {
            "allow_home_page": Option("bool", False, "a link to the publisher's home page counts"),
            "allow_nofollow": Option("bool", True, "a rel=nofollow/ugc/sponsored link counts"),
            "anchor_text": Option("list", [], "the link text must match one of these templates"),
            "region": _REGION,
            "position": _POSITION,
            "resolve_shortlinks": Option("bool", True, "follow redirects of other links"),
            "max_resolve": Option("int", 5, "at most this many links are resolved", minimum=0),
        },
    ),
    KindSpec(
        "canonical",
        check_canonical,
        "exactly one rel=canonical (tag or Link header), pointing to the original",
        {"accept_noindex": Option("bool", False, "noindex is an accepted alternative")},
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
    ),
    KindSpec(
        "tracking_pixel",
        check_tracking_pixel,
        "an img, script or amp-pixel whose URL matches a pattern, and which is not hidden",
        {
            "patterns": Option("list", [], "regular expressions for the pixel URL"),
            "tags": Option(
                "list",
                ["img", "amp-img", "amp-pixel", "script", "iframe", "amp-analytics"],
                "tags that may load the pixel",
            ),
            "allow_hidden": Option("bool", False, "a hidden pixel counts"),
        },
    ),
    KindSpec(
        "integrity",
        check_integrity,
        "no edits beyond what is allowed: coverage, deletions, headline, excerpts",
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
        },
    ),
    KindSpec(
        "non_commercial",
        check_non_commercial,
        "no ad-network or paywall markup on the page",
        {
            "ad_patterns": Option("list", list(DEFAULT_AD_PATTERNS), "regexes of ad networks"),
            "paywall_patterns": Option(
                "list", list(DEFAULT_PAYWALL_PATTERNS), "regexes of paywall markers"
            ),
            "check_paywall": Option("bool", True, "a paywall also counts as commercial use"),
        },
        severity="warning",
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
            "utc_offset": Option("str", "+00:00", "the publisher's time zone, e.g. -07:00"),
            "unknown": Option(
                "str", "pass", "verdict when the copy's time is unknown", choices=("pass", "fail")
            ),
        },
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
            )
        },
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
    ),
)

KINDS: Mapping[str, KindSpec] = MappingProxyType({spec.kind: spec for spec in _SPECS})
CHECKS: Mapping[str, CheckFn] = MappingProxyType({spec.kind: spec.fn for spec in _SPECS})


def _licensed_partner(ruleset: RuleSet, page: Page) -> str | None:
    host = host_of(page.url)
    for rule in ruleset.rules:
        if rule.kind == "eligibility":
            licensed = rule.options.get("licensed") or []
            hit = domain_in(host, list(licensed))
            if hit:
                return hit
    return None


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
    """One Finding per rule, in the ruleset's order. Never raises on odd pages: a check that
    crashes gives a failed Finding that says the check errored."""
    facts = PageFacts(page, profile)
    licensed = _licensed_partner(ruleset, page)
    findings: list[Finding] = []
    for rule in ruleset.rules:
        ctx = CheckContext(rule, ruleset, page, source, match, profile, resolve, now, facts)
        fn = CHECKS.get(rule.kind)
        if fn is None:
            findings.append(ctx.finding(False, f"unknown check kind {rule.kind!r}", None))
            continue
        if licensed and rule.kind != "eligibility":
            findings.append(
                ctx.finding(True, "licensed partner: exempt", f"{host_of(page.url)} ({licensed})")
            )
            continue
        try:
            findings.append(fn(ctx))
        except Exception as exc:  # a check bug must not lose the other findings
            findings.append(
                ctx.finding(False, f"the check errored: {type(exc).__name__}: {exc}", None)
            )
    return tuple(findings)
