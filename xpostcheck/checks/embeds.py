"""Checks on what the page loads: the publisher's tracking pixel, and reuse of its images.

In: a CheckContext (the page's resources and markup, the original's images). Out: one Finding
per rule.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.textutil import fuzzy_contains, quoted, shorten
from xpostcheck.models import Finding
from xpostcheck.util.urls import article_key

# --- tracking pixel ------------------------------------------------------------------------


# A script runs whatever the CSS around it says: only what draws can be hidden.
_RUNS_UNSEEN = frozenset({"script", "amp-analytics"})


def _article_id(ctx: CheckContext) -> str | None:
    """The original's id, read from its URL by the rule's `article_id` pattern (group 1)."""
    pattern = str(ctx.opt("article_id") or "")
    if not pattern:
        return None
    m = re.search(pattern, ctx.source.url)
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)


def _carries(url: str, article_id: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(article_id)}(?![0-9A-Za-z])", url) is not None


def check_tracking_pixel(ctx: CheckContext) -> Finding:
    patterns = [re.compile(p, re.IGNORECASE) for p in ctx.opt("patterns")]
    tags = {t.lower() for t in ctx.opt("tags")}
    allow_hidden = bool(ctx.opt("allow_hidden"))
    looked = f"looked for {', '.join(sorted(tags))} matching {quoted(ctx.opt('patterns'))}"
    if not patterns:
        return ctx.finding(False, "the rule names no pixel pattern", looked)
    found = [
        r
        for r in ctx.page.resources
        if r.tag.lower() in tags and any(p.search(r.url) for p in patterns)
    ]
    article_id = _article_id(ctx)
    if article_id is not None and found:
        mine = [r for r in found if _carries(r.url, article_id)]
        if not mine:
            return ctx.finding(
                False,
                f"tracking pixel present, but for another article (this one's id is {article_id})",
                found[0].url,
            )
        found = mine
    visible = [r for r in found if allow_hidden or not r.hidden or r.tag.lower() in _RUNS_UNSEEN]
    if visible:
        r = visible[0]
        return ctx.finding(True, f"tracking pixel present ({r.tag})", r.url)
    if found:
        r = found[0]
        return ctx.finding(False, f"tracking pixel present but hidden ({r.tag})", r.url)
    for p in patterns:
        m = p.search(ctx.page.html)
        if m:
            start = max(0, m.start() - 60)
            return ctx.finding(
                False,
                "the pixel's URL is in the markup but nothing loads it (commented out?)",
                shorten(ctx.page.html[start : m.end() + 60], 200),
            )
    return ctx.finding(False, "no tracking pixel", looked)


# --- media ---------------------------------------------------------------------------------

_SIZE_SUFFIX = re.compile(r"-\d{2,5}x\d{2,5}(?=\.[a-z0-9]+$)", re.IGNORECASE)


def _image_keys(url: str) -> tuple[str, str]:
    """(the URL's article key without a WordPress-style size suffix, a distinctive file name
    or ''). A re-uploaded copy keeps the file name; short names like photo.jpg are too common
    to tell anything."""
    key = article_key(_SIZE_SUFFIX.sub("", url.split("?")[0]))
    name = _SIZE_SUFFIX.sub("", urlsplit(url).path.rsplit("/", 1)[-1].lower())
    stem = name.rsplit(".", 1)[0]
    return key, name if len(stem) >= _MIN_NAME else ""


_MIN_NAME = 10


def _caption_credit(ctx: CheckContext) -> Finding | None:
    """A finding when the rule wants reused photos credited in their captions."""
    templates = list(ctx.opt("caption_credit") or [])
    if not templates:
        return None
    wanted = [t for tmpl in templates for t in ctx.expand(tmpl)]
    captions = ctx.page_facts.captions
    for caption in captions:
        if any(fuzzy_contains(w, caption, 90.0) for w in wanted):
            return ctx.finding(True, "the reused photos are credited in a caption", caption)
    return ctx.finding(
        False,
        "the original's photos are reused without the credit in their captions",
        f"looked for {quoted(wanted)} in {len(captions)} caption(s)",
    )


def check_media(ctx: CheckContext) -> Finding:
    mode = str(ctx.opt("reuse"))
    images = ctx.source.images
    if not images:
        return ctx.finding(True, "the original lists no images", None)
    original = [_image_keys(u) for u in images]
    keys = {k for k, _ in original}
    names = {n for _, n in original if n}
    reused = []
    for r in ctx.page.resources:
        if r.tag.lower() not in ("img", "amp-img", "source", "picture", "image"):
            continue
        key, name = _image_keys(r.url)
        if key in keys or (name and name in names):
            reused.append(r.url)
    reused = list(dict.fromkeys(reused))
    evidence = ", ".join(reused[:5]) or None
    if mode == "forbid":
        if reused:
            return ctx.finding(
                False,
                f"reuses {len(reused)} of the original's {len(images)} images, "
                "which the licence does not cover",
                evidence,
            )
        return ctx.finding(True, "none of the original's images are reused", None)
    if mode == "require" and not reused:
        return ctx.finding(
            False, "the original's images are missing", f"looked for {quoted(images)}"
        )
    credit = _caption_credit(ctx) if reused else None
    if credit is not None:
        return credit
    return ctx.finding(
        True, f"{len(reused)} of the original's {len(images)} images reused", evidence
    )
