"""Checks on the copied content itself: integrity (edits, excerpts) and embargo (timing).

In: a CheckContext (the match's passages and coverage, titles, publication times). Out: one
Finding per rule.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rapidfuzz import fuzz

from xpostcheck.checks.changes import changes, word_count
from xpostcheck.checks.context import CheckContext
from xpostcheck.checks.textutil import norm, shorten
from xpostcheck.models import Finding
from xpostcheck.util.urls import article_key

# --- integrity -----------------------------------------------------------------------------


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def paragraphs_copied(ctx: CheckContext) -> int:
    """How many of the original's paragraphs the aligned passages take from."""
    count = 0
    for start, end in _paragraph_spans(ctx.source.text):
        overlap = sum(
            max(0, min(end, p.source_end) - max(start, p.source_start)) for p in ctx.match.passages
        )
        if overlap >= min(40, (end - start) / 2):
            count += 1
    return count


def _headline_changed(ctx: CheckContext) -> bool:
    original, copy = norm(ctx.source.title), norm(ctx.page.title)
    if not original or not copy or original in copy:
        return False  # "Headline | Site name" keeps the headline
    return fuzz.ratio(original, copy) < float(ctx.opt("headline_threshold"))


def _copied_words(ctx: CheckContext) -> int:
    return sum(
        word_count(ctx.page.full_text[p.page_start : p.page_end]) for p in ctx.match.passages
    )


def _length_limit(ctx: CheckContext) -> Finding | None:
    """A failed finding when the copy is longer than the excerpt the rule allows."""
    max_words = int(ctx.opt("max_words"))
    max_paragraphs = int(ctx.opt("max_paragraphs"))
    if max_words:
        words = _copied_words(ctx)
        if words > max_words:
            return ctx.finding(
                False,
                f"the copy reproduces {words} words of the original; the rule allows {max_words}",
                f"coverage {ctx.match.coverage:.0%}",
            )
    if max_paragraphs:
        copied = paragraphs_copied(ctx)
        if copied > max_paragraphs:
            return ctx.finding(
                False,
                f"the copy reproduces {copied} paragraphs of the original; "
                f"the rule allows {max_paragraphs}",
                f"coverage {ctx.match.coverage:.0%}",
            )
    return None


def _edits(ctx: CheckContext) -> Finding | None:
    """A failed finding for inserted passages or changed facts the rule does not allow."""
    found = changes(ctx)
    bad = [
        c
        for c in found
        if (c.what == "inserted" and not ctx.opt("allow_insertions"))
        or (c.what != "inserted" and not ctx.opt("allow_changed_facts"))
    ]
    if not bad:
        return None
    inserted = sum(1 for c in bad if c.what == "inserted")
    changed = len(bad) - inserted
    parts = []
    if inserted:
        parts.append(f"{inserted} inserted passage{'s' if inserted > 1 else ''}")
    if changed:
        kinds = sorted({c.what for c in bad if c.what != "inserted"})
        parts.append(f"{changed} changed {'/'.join(kinds)}{'s' if changed > 1 else ''}")
    return ctx.finding(
        False,
        "the copy is altered: " + " and ".join(parts),
        "; ".join(c.describe() for c in bad[:8])
        + (f" (+{len(bad) - 8} more)" if len(bad) > 8 else ""),
    )


def check_integrity(ctx: CheckContext) -> Finding:
    coverage = ctx.match.coverage
    deleted = 1.0 - coverage
    min_cov = float(ctx.opt("min_coverage"))
    max_del = float(ctx.opt("max_deleted"))
    if not ctx.opt("allow_headline_change") and _headline_changed(ctx):
        return ctx.finding(
            False,
            "the headline was changed",
            f'"{shorten(ctx.page.title, 100)}" (original: "{shorten(ctx.source.title, 100)}")',
        )
    shares = f"coverage {coverage:.0%}, deleted {deleted:.0%}"
    limit = _length_limit(ctx)
    if limit is not None:
        return limit
    edited = _edits(ctx)
    if edited is not None:
        return edited
    if coverage >= min_cov and deleted <= max_del:
        return ctx.finding(True, "no edits beyond what the rule allows", shares)
    max_par = int(ctx.opt("max_excerpt_paragraphs"))
    if max_par > 0:
        copied = paragraphs_copied(ctx)
        target = article_key(ctx.source.url)
        linked = any(article_key(link.href) == target for link in ctx.page.links)
        if copied <= max_par and (linked or not ctx.opt("excerpt_needs_link")):
            return ctx.finding(
                True, f"an excerpt of {copied} paragraph(s) with a link to the original", shares
            )
        if copied <= max_par:
            return ctx.finding(
                False,
                f"an excerpt of {copied} paragraph(s) without a link to the original",
                shares,
            )
        return ctx.finding(
            False,
            f"a partial copy of {copied} paragraphs: neither the whole article "
            f"(at least {min_cov:.0%}) nor an excerpt of at most {max_par}",
            shares,
        )
    return ctx.finding(
        False,
        f"the copy is edited or cut: {coverage:.0%} of the original is reproduced "
        f"(the rule asks for at least {min_cov:.0%}, at most {max_del:.0%} deleted)",
        shares,
    )


# --- embargo -------------------------------------------------------------------------------

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_offset(text: str) -> timezone | None:
    m = _OFFSET.match(text.strip())
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def zone(name: str) -> tzinfo | None:
    """The IANA time zone `name` ("America/Denver"), or None when unknown."""
    if not name.strip() or name != name.strip() or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _rule_zone(ctx: CheckContext) -> tzinfo:
    """The rule's `time_zone` (IANA, daylight time included), else its fixed `utc_offset`."""
    named = zone(str(ctx.opt("time_zone") or ""))
    if named is not None:
        return named
    return parse_offset(str(ctx.opt("utc_offset"))) or timezone.utc


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def parse_when(text: str | None, tz: tzinfo) -> tuple[datetime, bool] | None:
    """(aware datetime, date_only) from ISO 8601 text; naive times are read in `tz`."""
    if not text:
        return None
    raw = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            d = date.fromisoformat(raw)
        except ValueError:  # 2025-02-30
            return None
        return datetime.combine(d, time(0), tz), True
    raw = raw.replace("Z", "+00:00").replace("z", "+00:00")
    raw = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", raw)  # +0000 -> +00:00 for Python 3.10
    try:
        when = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when, False


def check_embargo(ctx: CheckContext) -> Finding:
    tz = _rule_zone(ctx)
    original = parse_when(ctx.source.published, tz)
    if original is None:
        return ctx.finding(True, "the original's publication time is unknown; not judged", None)
    copy_text = ctx.page.published or ctx.page_facts.markup_published
    copy = parse_when(copy_text, tz)
    if copy is None:
        passed = ctx.opt("unknown") == "pass"
        return ctx.finding(
            passed,
            "the copy's publication time is unknown"
            + ("; not judged" if passed else "; the rule asks to see it"),
            "looked in article:published_time, JSON-LD datePublished and <time datetime>",
        )
    try:
        orig_at = original[0].astimezone(tz)
        earliest = orig_at
        if ctx.opt("not_before") == "next_day":
            earliest = _midnight(orig_at.date() + timedelta(days=1), tz)
        earliest += timedelta(hours=float(ctx.opt("delay_hours")))
        copy_at, date_only = copy[0].astimezone(tz), copy[1]
    except (OverflowError, ValueError):  # dates at the edge of the calendar (year 1, 9999)
        return ctx.finding(
            True,
            "a publication time is out of range; not judged",
            f"copy published {copy_text}; original {ctx.source.published}",
        )
    ok = copy_at.date() >= earliest.date() if date_only else copy_at >= earliest
    if (
        not ok
        and date_only
        and not ctx.page_facts.markup_published
        and copy_at.date() <= orig_at.date()
    ):
        # No date in the copy's own markup, only a date in its text on or before the
        # original's: the dateline kept with the story (a copy cannot predate its original),
        # not the copy's publication.
        return ctx.finding(
            True,
            "the only date on the page is the original's own or earlier; the copy's time is "
            "unknown; not judged",
            f"page shows {copy_text}; original {ctx.source.published}",
        )
    evidence = (
        f"copy published {copy_text}; original {ctx.source.published}; "
        f"earliest allowed {earliest.isoformat(timespec='minutes')}"
    )
    if ok:
        return ctx.finding(True, "published after the embargo", evidence)
    return ctx.finding(False, "published before the embargo ended", evidence)


# --- retention -----------------------------------------------------------------------------


def check_retention(ctx: CheckContext) -> Finding:
    """'Take the copy down after N days': the copy is still online later than that."""
    days = float(ctx.opt("max_days"))
    tz = _rule_zone(ctx)
    start_text = (
        ctx.source.published
        if ctx.opt("counted_from") == "original"
        else (ctx.page.published or ctx.page_facts.markup_published or ctx.source.published)
    )
    start = parse_when(start_text, tz)
    seen = parse_when(ctx.now or ctx.page.fetched_at, tz)
    if start is None or seen is None:
        return ctx.finding(True, "the publication or fetch time is unknown; not judged", None)
    try:
        deadline = start[0] + timedelta(days=days)
    except OverflowError:
        return ctx.finding(True, "a publication time is out of range; not judged", start_text)
    evidence = (
        f"published {start_text}; still online {ctx.now or ctx.page.fetched_at}; "
        f"to be taken down by {deadline.isoformat(timespec='minutes')}"
    )
    if seen[0] > deadline:
        return ctx.finding(
            False, f"still online more than {days:g} days after publication", evidence
        )
    return ctx.finding(True, f"within the {days:g} days the licence allows", evidence)
