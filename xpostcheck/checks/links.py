"""Checks that read links and the page head: link to the original, canonical, noindex.

In: a CheckContext (the page's links, canonicals, robots directives; a resolver for
shortlinks). Out: one Finding per rule.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from xpostcheck.checks.context import CheckContext, own_header, position_ok
from xpostcheck.checks.textutil import fuzzy_contains, quoted, shorten
from xpostcheck.models import Finding, Link
from xpostcheck.util.urls import article_key, host_of, is_home_page, original_key, same_site

_NOFOLLOW = {"nofollow", "ugc", "sponsored"}
_MAX_HOPS = 3


def _candidate_links(ctx: CheckContext, region: str) -> tuple[list[Link], list[Link]]:
    """(links in the searched region, links outside it)."""
    wanted = {"page": {"article", "near", "chrome"}, "article": {"article"}}.get(
        region, {"article", "near"}
    )
    visible = [link for link in ctx.page.links if not link.hidden]
    inside = [link for link in visible if link.region in wanted]
    outside = [link for link in visible if link.region not in wanted]
    return inside, outside


def _follow(ctx: CheckContext, href: str, target: str) -> str | None:
    """The redirect chain from `href` when it ends at the article `target`, else None."""
    if ctx.resolve is None:
        return None
    chain = [href]
    url = href
    for _ in range(_MAX_HOPS):
        try:
            location = ctx.resolve(url)
        except Exception:  # a dead shortener is just not a link to the original
            return None
        if not location:
            return None
        url = urljoin(url, location)
        chain.append(url)
        if original_key(url) == target:
            return " -> ".join(chain)
    return None


SHORTENERS = frozenset(
    {
        "bit.ly",
        "t.co",
        "ow.ly",
        "buff.ly",
        "tinyurl.com",
        "goo.gl",
        "dlvr.it",
        "trib.al",
        "lnkd.in",
        "fb.me",
        "is.gd",
        "rebrand.ly",
        "shorturl.at",
        "cutt.ly",
        "tiny.cc",
        "bl.ink",
        "j.mp",
        "wp.me",
        "flip.it",
        "ift.tt",
        "s.id",
        "rb.gy",
        "t.ly",
    }
)


def _shortlink_rank(href: str, page_url: str) -> int:
    host = host_of(href)
    if host in SHORTENERS:
        return 0
    short = len(urlsplit(href).path.strip("/")) <= 12
    if not same_site(href, page_url):
        return 1 if short else 2
    return 3


def check_link_to_original(ctx: CheckContext) -> Finding:
    source = ctx.source
    # AMP, mobile and print forms of the original count as the original (util.urls).
    target = original_key(source.url)
    region = str(ctx.opt("region"))
    allow_home = bool(ctx.opt("allow_home_page"))
    allow_nofollow = bool(ctx.opt("allow_nofollow"))
    anchors = [t for tmpl in ctx.opt("anchor_text") for t in ctx.expand(tmpl)]
    profile = ctx.profile
    inside, outside = _candidate_links(ctx, region)
    if region != "page":
        # A link in the copy's own header (its byline) belongs to the copy, even outside
        # <article> in the markup.
        header = own_header(ctx)
        if header:
            own = [link for link in outside if link.text and link.text in header]
            inside += own
            outside = [link for link in outside if link not in own]

    hits: list[tuple[Link, str]] = []  # (link, evidence)
    home: list[Link] = []
    other_articles: list[Link] = []
    to_resolve: list[Link] = []
    for link in inside:
        href = link.href
        if not href.lower().startswith(("http://", "https://")):
            continue
        if original_key(href) == target:
            hits.append((link, href))
        elif same_site(href, source.url):
            if is_home_page(href):
                if not (profile and profile.is_chrome_link(href)):
                    home.append(link)
            else:
                other_articles.append(link)
        elif not same_site(href, ctx.page.url) or len(urlsplit(href).path) <= 12:
            to_resolve.append(link)
    if not hits and ctx.opt("resolve_shortlinks") and ctx.resolve is not None:
        # Known shorteners first, then short paths on other hosts, then the rest.
        to_resolve.sort(key=lambda link: _shortlink_rank(link.href, ctx.page.url))
        for link in to_resolve[: int(ctx.opt("max_resolve"))]:
            chain = _follow(ctx, link.href, target)
            if chain:
                hits.append((link, chain))
                break

    def describe(link: Link, evidence: str) -> str:
        rel = f" rel={' '.join(link.rel)}" if link.rel else ""
        return f'<a href="{evidence}"{rel}>{shorten(link.text, 80)}</a>'

    if hits:
        followable = [h for h in hits if not (_NOFOLLOW & set(h[0].rel))]
        if not followable and not allow_nofollow:
            link, ev = hits[0]
            return ctx.finding(
                False,
                "the link to the original is rel=nofollow, which the rule forbids",
                describe(link, ev),
            )
        chosen = followable or hits
        if anchors:
            good = [h for h in chosen if any(fuzzy_contains(a, h[0].text, 85) for a in anchors)]
            if not good:
                link, ev = chosen[0]
                return ctx.finding(
                    False,
                    f"link to the original found, but its anchor text is not {quoted(anchors)}",
                    describe(link, ev),
                )
            chosen = good
        where = str(ctx.opt("position"))
        if where != "anywhere":
            placed = [
                h
                for i, h in enumerate(chosen)
                if position_ok(
                    ctx,
                    ctx.page.full_text.find(h[0].text) if h[0].text else -1,
                    i,
                    len(inside),
                    where,
                )
            ]
            if not placed:
                link, ev = chosen[0]
                return ctx.finding(
                    False,
                    f"link to the original found, but not at the {where}",
                    describe(link, ev),
                )
            chosen = placed
        link, ev = chosen[0]
        message = "link to the original found"
        if ev != link.href:
            message += " (through a redirect)"
        return ctx.finding(True, message, describe(link, ev))
    if home and allow_home:
        return ctx.finding(
            True,
            "link to the publisher's home page (the rule accepts it)",
            describe(home[0], home[0].href),
        )
    outside_hits = [link for link in outside if original_key(link.href) == target]
    if outside_hits:
        return ctx.finding(
            False,
            f"a link to the original appears only outside the {region} region (site chrome)",
            describe(outside_hits[0], outside_hits[0].href),
        )
    hidden = [link for link in ctx.page.links if link.hidden and original_key(link.href) == target]
    if hidden:
        return ctx.finding(
            False,
            "the link to the original is hidden from readers",
            describe(hidden[0], hidden[0].href),
        )
    if home:
        return ctx.finding(
            False,
            "links only to the publisher's home page, not to the original article",
            describe(home[0], home[0].href),
        )
    if other_articles:
        return ctx.finding(
            False,
            "links to another page of the publisher, not to the original article",
            describe(other_articles[0], other_articles[0].href),
        )
    return ctx.finding(
        False, "no link to the original article", f"looked for a link to {source.url}"
    )


# --- canonical and noindex -----------------------------------------------------------------

_LINK_HEADER = re.compile(r'<([^>]+)>\s*;[^,]*rel="?canonical"?', re.IGNORECASE)


def _canonicals(ctx: CheckContext) -> list[str]:
    found = list(ctx.page.canonicals)
    header = ctx.page.header("Link") or ""
    for m in _LINK_HEADER.finditer(header):
        url = urljoin(ctx.page.url, m.group(1).strip())
        if url not in found:
            found.append(url)
    return found


def _noindex(ctx: CheckContext, directives: list[str]) -> str | None:
    """The directive that keeps the page out of the index, if any."""
    values = list(ctx.page.meta_robots)
    header = ctx.page.header("X-Robots-Tag")
    if header:
        values.append(header.lower())
    wanted = {d.lower() for d in directives}
    for value in values:
        for part in re.split(r"[,\s]+", value):
            # "googlebot: noindex" in X-Robots-Tag names a crawler first
            if part.split(":")[-1] in wanted:
                return value
    return None


_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"})


def site_root(host: str) -> str:
    """The registrable part of a host, roughly: amp.example.com and www.example.com are both
    example.com; news.example.co.uk is example.co.uk."""
    labels = host.lower().strip(".").split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def check_canonical(ctx: CheckContext) -> Finding:
    target = article_key(ctx.source.url)
    if ctx.opt("accept_noindex"):
        robots = _noindex(ctx, ["noindex", "none"])
        if robots:
            return ctx.finding(True, "the copy is kept out of search (noindex) instead", robots)
    canonicals = _canonicals(ctx)
    if not canonicals:
        return ctx.finding(
            False, "no rel=canonical", f"looked for one pointing to {ctx.source.url}"
        )
    keys = list(dict.fromkeys(article_key(c) for c in canonicals))
    listed = ", ".join(canonicals)
    if len(keys) > 1:
        return ctx.finding(
            False,
            f"{len(canonicals)} rel=canonical tags disagree; search engines ignore them all",
            listed,
        )
    if keys[0] == target:
        note = "" if len(canonicals) == 1 else f" ({len(canonicals)} identical tags)"
        return ctx.finding(True, "rel=canonical points to the original" + note, canonicals[0])
    if site_root(host_of(canonicals[0])) == site_root(host_of(ctx.page.url)):
        return ctx.finding(False, "rel=canonical points to the copy's own site", listed)
    return ctx.finding(False, "rel=canonical points elsewhere, not to the original", listed)


def check_noindex(ctx: CheckContext) -> Finding:
    directives = list(ctx.opt("directives"))
    robots = _noindex(ctx, directives)
    if robots:
        return ctx.finding(True, "the copy is kept out of search", robots)
    if ctx.opt("accept_canonical"):
        target = article_key(ctx.source.url)
        canonicals = _canonicals(ctx)
        keys = {article_key(c) for c in canonicals}
        if keys == {target}:
            return ctx.finding(True, "rel=canonical points to the original instead", canonicals[0])
    found = ", ".join(ctx.page.meta_robots) or "none"
    return ctx.finding(
        False,
        f"no {' or '.join(directives)} in meta robots or X-Robots-Tag",
        f"robots directives found: {found}",
    )
