"""Checks on who republishes and how: non-commercial use (ads, paywalls) and eligibility
(partner allow, deny and licensed lists).

In: a CheckContext (the page's markup, resources and host). Out: one Finding per rule.
"""

from __future__ import annotations

import re

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.textutil import quoted
from xpostcheck.models import Finding
from xpostcheck.util.urls import host_of

# --- non-commercial ------------------------------------------------------------------------

_AD_NETWORKS = (
    "googlesyndication.com",
    "adsbygoogle",
    "doubleclick.net",
    "googletagservices.com",
    "amazon-adsystem.com",
    "taboola.com",
    "outbrain.com",
    "mgid.com",
    "revcontent.com",
    "media.net",
    "adnxs.com",
    "criteo.com",
    "criteo.net",
    "pubmatic.com",
    "rubiconproject.com",
    "openx.net",
    "ezoic.net",
    "ezojs.com",
    "propellerads.com",
    "adsterra.com",
    "popads.net",
    "carbonads.net",
    "infolinks.com",
    "adthrive.com",
    "mediavine.com",
    "lijit.com",
)
_NOT_IN_NAME = r"(?<![a-z0-9-])"
DEFAULT_AD_PATTERNS = tuple(_NOT_IN_NAME + re.escape(name) for name in _AD_NETWORKS)
DEFAULT_PAYWALL_PATTERNS = (
    r'"isAccessibleForFree"\s*:\s*"?false',
    _NOT_IN_NAME + r"tinypass\.com",
    _NOT_IN_NAME + r"piano\.io",
    _NOT_IN_NAME + r"memberful\.com",
    _NOT_IN_NAME + r"laterpay\.net",
    r'class="[^"]*\bpaywall',
    r'id="[^"]*\bpaywall',
)
# A lower-case string each default pattern's match contains: a page without it cannot match,
# and `in` on the page is far cheaper than running the regular expression.
_HINTS = {
    **dict(zip(DEFAULT_AD_PATTERNS, _AD_NETWORKS, strict=True)),
    **dict(
        zip(
            DEFAULT_PAYWALL_PATTERNS,
            (
                "isaccessibleforfree",
                "tinypass.com",
                "piano.io",
                "memberful.com",
                "laterpay.net",
                "paywall",
                "paywall",
            ),
            strict=True,
        )
    ),
}


class _Markup:
    """Whether positions, asked in increasing order, lie inside a tag or a script (not in the
    page's visible text): a position is in a tag when the last "<" before it comes after the
    last ">", in a script when the last "<script" comes after the last "</script".

    Each question only looks at the text since the one before, so answering every match of a
    pattern reads the page once: scanning back from each match to the page's start made a page
    that repeats an ad network's name a million times quadratic."""

    def __init__(self, html: str, low: str) -> None:
        self.html = html
        self.low = low
        self.pos = 0
        self.lt = self.gt = self.open = self.close = -1

    def inside(self, pos: int) -> bool:
        start = self.pos
        if pos < start:
            raise ValueError("positions must be asked in increasing order")
        html, low = self.html, self.low
        self.lt = max(self.lt, html.rfind("<", start, pos))
        self.gt = max(self.gt, html.rfind(">", start, pos))
        # An occurrence may straddle the previous position: look back by its length less one.
        self.open = max(self.open, low.rfind("<script", max(start - 6, 0), pos))
        self.close = max(self.close, low.rfind("</script", max(start - 7, 0), pos))
        self.pos = pos
        return self.lt > self.gt or self.open > self.close


def check_non_commercial(ctx: CheckContext) -> Finding:
    # Tags and scripts only: an article that mentions an ad network in its text is no ad.
    html = ctx.page.html
    low = ctx.page_facts.markup_lower
    urls = "\n".join(r.url for r in ctx.page.resources)
    urls_low = urls.lower()
    hits: list[str] = []
    groups = [("ad network", list(ctx.opt("ad_patterns")))]
    if ctx.opt("check_paywall"):
        groups.append(("paywall", list(ctx.opt("paywall_patterns"))))
    for label, patterns in groups:
        for pattern in patterns:
            hint = _HINTS.get(pattern)
            if hint is not None and hint not in low and hint not in urls_low:
                continue
            rx = re.compile(pattern, re.IGNORECASE)
            markup = _Markup(html, low)
            m = next((m for m in rx.finditer(html) if markup.inside(m.start())), None)
            m = m or rx.search(urls)
            if m:
                hits.append(f"{label}: {m.group(0)}")
    if hits:
        return ctx.finding(
            False,
            "commercial use: the page carries ads or a paywall; commercial sites must ask first",
            "; ".join(dict.fromkeys(hits)),
        )
    return ctx.finding(True, "no ad network or paywall markup", None)


# --- eligibility ---------------------------------------------------------------------------


def domain_in(host: str, domains: list[str]) -> str | None:
    """The entry of `domains` that `host` is, or is a subdomain of (www-insensitive)."""
    host = host[4:] if host.startswith("www.") else host
    for domain in domains:
        d = domain.lower().strip().lstrip(".")
        d = d[4:] if d.startswith("www.") else d
        if d and (host == d or host.endswith("." + d)):
            return domain
    return None


def check_eligibility(ctx: CheckContext) -> Finding:
    host = host_of(ctx.page.url)
    licensed = domain_in(host, list(ctx.opt("licensed")))
    if licensed:
        return ctx.finding(
            True,
            "licensed partner: exempt from the republishing conditions",
            f"{host} matches {licensed}",
        )
    denied = domain_in(host, list(ctx.opt("deny")))
    if denied:
        return ctx.finding(
            False, "this site is on the publisher's deny list", f"{host} matches {denied}"
        )
    allow = list(ctx.opt("allow"))
    if allow:
        allowed = domain_in(host, allow)
        if not allowed:
            return ctx.finding(
                False,
                "this site is not one of the allowed partners",
                f"{host} is not in {quoted(allow)}",
            )
        return ctx.finding(True, "allowed partner", f"{host} matches {allowed}")
    return ctx.finding(True, "any site may republish", host)
