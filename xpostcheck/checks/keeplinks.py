"""Keep the original's in-body links: "you must include the links from the story".

The original's in-body links are read from its HTML (`SourceArticle.html`): an <a href> whose
anchor text is part of the article's text. Only links whose anchor text the copy reproduces are
expected (an excerpt need not carry the links of what it left out). A link counts as kept when
the copy links to the same article (`util.urls.article_key`) from the article or near it.

In: a CheckContext. Out: one Finding.
"""

from __future__ import annotations

from urllib.parse import urljoin

import lxml.etree
import lxml.html

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.textutil import norm, quoted
from xpostcheck.models import Finding
from xpostcheck.util.urls import article_key

__all__ = ["check_keep_links", "in_body_links"]


def in_body_links(html: str, base: str, text: str) -> list[tuple[str, str]]:
    """(anchor text, absolute href) of the links in `html` whose anchor text is in `text`."""
    if not html.strip():
        return []
    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    body = norm(text)
    found: dict[str, tuple[str, str]] = {}
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        anchor = " ".join(a.text_content().split())
        if not href or href.startswith(("#", "mailto:", "javascript:")) or len(anchor) < 3:
            continue
        if norm(anchor) and norm(anchor) in body:
            absolute = urljoin(base, href)
            found.setdefault(article_key(absolute), (anchor, absolute))
    return list(found.values())


def check_keep_links(ctx: CheckContext) -> Finding:
    source = ctx.source
    if not source.html:
        return ctx.finding(True, "the original's HTML is not known; its links are not judged")
    copied = norm(ctx.page.full_text)
    expected = [
        (anchor, href)
        for anchor, href in in_body_links(source.html, source.url, source.text)
        if norm(anchor) in copied
    ]
    if len(expected) < int(ctx.opt("min_links")):
        return ctx.finding(True, f"the copied text carries {len(expected)} of the original's links")
    present = {article_key(x.href) for x in ctx.page.links if x.region != "chrome"}
    missing = [(a, h) for a, h in expected if article_key(h) not in present]
    kept = len(expected) - len(missing)
    share = kept / len(expected)
    message = f"{kept} of the original's {len(expected)} in-body links kept ({share:.0%})"
    if share >= float(ctx.opt("min_share")):
        return ctx.finding(True, message, None)
    return ctx.finding(
        False,
        message + f"; the rule asks for {float(ctx.opt('min_share')):.0%}",
        "missing: " + quoted([f"{a} -> {h}" for a, h in missing]),
    )
