"""The HTML format: one self-contained page, violations first, each copy beside its source
with the copied passages highlighted, the credit, copyright and link evidence the checks found
marked on the page, the page cut to the article (site navigation before and after left out)
and long unmatched stretches elided. Filters (violations only, new only, hide triaged, site,
rule, text search) run in inline script; times show their zone.

In: Report and RenderContext (source texts by URL, page texts by copy URL, any Mapping). Out:
HTML text from the jinja2 template `templates/report.html.j2`, autoescaped.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from typing import Any

from rapidfuzz.distance import Indel

from xpostcheck.models import Copy, Finding, Passage, Report
from xpostcheck.report.base import (
    RenderContext,
    candidate_line,
    failed_checks,
    is_new,
    percent,
    summary_line,
)
from xpostcheck.util.textnorm import tokenize
from xpostcheck.util.urls import redact_credentials

__all__ = [
    "HtmlFormat",
    "Segment",
    "article_window",
    "changed_words",
    "elide",
    "found_spans",
    "highlight",
    "mark_changed",
    "mark_found",
    "when",
]

# Check kinds whose evidence, when the check passed, is a line or link on the page.
FOUND_KINDS = {
    "attribution": "credit line",
    "copyright_notice": "copyright line",
    "link_to_original": "link to the original",
    "byline": "byline",
    "license_notice": "licence notice",
}
CONTEXT = 300  # characters of the page kept around the article, to the line's end


@dataclass(frozen=True)
class Segment:
    text: str
    mark: int | None  # passage number (1-based) when highlighted
    elided: int = 0  # characters left out after `text` (long unmatched stretches)
    changed: bool = False  # inside a passage, words the other side does not have (an edit)
    found: str = ""  # what a check found here ("credit line found by gr-attribution")


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    """Cut `text` into plain and marked segments. Spans are clipped to the text and merged
    where they overlap; a marked segment carries the number of the first passage in it."""
    clean = sorted((max(0, a), min(len(text), b), i + 1) for i, (a, b) in enumerate(spans) if b > a)
    merged: list[list[int]] = []
    for a, b, n in clean:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b, n])
    out: list[Segment] = []
    pos = 0
    for a, b, n in merged:
        if a > pos:
            out.append(Segment(text[pos:a], None))
        out.append(Segment(text[a:b], n))
        pos = b
    if pos < len(text):
        out.append(Segment(text[pos:], None))
    return out


def changed_words(
    source_text: str, page_text: str, passages: Sequence[Passage]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character spans of the words changed inside each passage: in the source (dropped or
    replaced in the copy) and on the page (added or replaced), from a word-level diff."""
    in_source: list[tuple[int, int]] = []
    on_page: list[tuple[int, int]] = []
    for p in passages:
        a = tokenize(source_text[p.source_start : p.source_end])
        b = tokenize(page_text[p.page_start : p.page_end])
        for op in Indel.opcodes(a.words, b.words):
            if op.tag == "equal":
                continue
            if op.src_end > op.src_start:
                start, end = int(a.starts[op.src_start]), int(a.ends[op.src_end - 1])
                in_source.append((p.source_start + start, p.source_start + end))
            if op.dest_end > op.dest_start:
                start, end = int(b.starts[op.dest_start]), int(b.ends[op.dest_end - 1])
                on_page.append((p.page_start + start, p.page_start + end))
    return in_source, on_page


def mark_changed(segments: list[Segment], changed: Sequence[tuple[int, int]]) -> list[Segment]:
    """Split the marked segments at the changed spans (offsets in the whole text, so call it
    before :func:`elide`)."""
    cuts = sorted(changed)
    out: list[Segment] = []
    pos = 0
    for seg in segments:
        end = pos + len(seg.text)
        if seg.mark is None or not cuts:
            out.append(seg)
            pos = end
            continue
        at = pos
        for a, b in cuts:
            a, b = max(a, pos), min(b, end)
            if a >= b or a < at:
                continue
            if a > at:
                out.append(Segment(seg.text[at - pos : a - pos], seg.mark))
            out.append(Segment(seg.text[a - pos : b - pos], seg.mark, changed=True))
            at = b
        if at < end:
            out.append(Segment(seg.text[at - pos :], seg.mark))
        pos = end
    return out


def elide(segments: list[Segment], *, keep: int = 1500, limit: int = 4000) -> list[Segment]:
    """Shorten unmarked stretches longer than `limit` to their first and last `keep`
    characters, so that a long page (comments, navigation) does not swamp the report. The
    whole page stays in the WARC evidence."""
    out: list[Segment] = []
    for seg in segments:
        if seg.mark is not None or len(seg.text) <= limit:
            out.append(seg)
            continue
        hidden = len(seg.text) - 2 * keep
        out.append(Segment(seg.text[:keep], None, hidden))
        out.append(Segment(seg.text[-keep:], None))
    return out


def when(value: str | None) -> str:
    """An ISO 8601 time for people, with its zone: '2024-05-06 06:00:00 UTC', or the offset
    ('+02:00'); a time without a zone says so. Anything unreadable is shown as written."""
    if not value:
        return ""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    text = at.strftime("%Y-%m-%d %H:%M:%S")
    offset = at.utcoffset()
    if offset is None:
        return f"{text} (zone unknown)"
    if not offset:
        return f"{text} UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{text} {sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def found_spans(
    page_text: str, checks: Sequence[Finding]
) -> tuple[list[tuple[int, int, str]], list[tuple[str, str]]]:
    """Where the passed checks' evidence stands in the page text: (start, end, label) spans,
    and the (label, evidence) the text does not show (a link's address, mostly)."""
    lower = page_text.lower()
    spans: list[tuple[int, int, str]] = []
    elsewhere: list[tuple[str, str]] = []
    for f in checks:
        what = FOUND_KINDS.get(f.kind)
        if not f.passed or what is None or not f.evidence or not f.evidence.strip():
            continue
        label = f"{what} found by {f.rule}"
        needle = f.evidence.strip().lower()
        at = lower.find(needle)
        if at < 0:
            elsewhere.append((label, f.evidence.strip()))
            continue
        spans.append((at, at + len(needle), label))
    return spans, elsewhere


def article_window(
    text: str, spans: Sequence[tuple[int, int]], *, context: int = CONTEXT
) -> tuple[int, int]:
    """The part of a page worth showing: from the line of the first marked span to the line
    of the last (at most `context` characters beyond either), so that site navigation before
    the article and the footer after it are left out. No spans: the whole text."""
    real = [(a, b) for a, b in spans if b > a and text[a:b].strip()]
    if not real:
        return 0, len(text)
    # A passage may begin with the line break before it: start at its first visible character.
    real = [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in real]
    start = max(0, min(a for a, _ in real))
    end = min(len(text), max(b for _, b in real))
    line_start = text.rfind("\n", 0, start) + 1
    start = line_start if start - line_start <= context else start
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    end = line_end if line_end - end <= context else end
    return start, end


def mark_found(segments: list[Segment], found: Sequence[tuple[int, int, str]]) -> list[Segment]:
    """Split segments at the found spans (offsets in the whole text) and label the parts
    inside them, marked by a passage or not."""
    cuts = sorted(found)
    out: list[Segment] = []
    pos = 0
    for seg in segments:
        end = pos + len(seg.text)
        at = pos
        for a, b, label in cuts:
            a, b = max(a, pos), min(b, end)
            if a >= b or a < at:
                continue
            if a > at:
                out.append(replace(seg, text=seg.text[at - pos : a - pos]))
            out.append(replace(seg, text=seg.text[a - pos : b - pos], found=label))
            at = b
        if at < end:
            out.append(replace(seg, text=seg.text[at - pos :]))
        pos = end
    return out


def _shift(spans: Sequence[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    return [(max(a, start) - start, min(b, end) - start) for a, b in spans if b > start and a < end]


def _page_view(c: Copy, page_text: str, on_page: list[tuple[int, int]]) -> dict[str, Any]:
    """The copy pane: the article part of the page, passages, changes and found lines marked."""
    found, elsewhere = found_spans(page_text, c.checks)
    passages = [(p.page_start, p.page_end) for p in c.passages]
    start, end = article_window(page_text, passages + [(a, b) for a, b, _ in found])
    text = page_text[start:end]
    segments = highlight(text, _shift(passages, start, end))
    segments = mark_changed(segments, _shift(on_page, start, end))
    shifted = [(a - start, b - start, label) for a, b, label in found if a >= start and b <= end]
    return {
        "segments": elide(mark_found(segments, shifted)),
        "cut_before": start,
        "cut_after": len(page_text) - end,
        "found_elsewhere": elsewhere,
    }


def _order(c: Copy) -> tuple[int, int, str, str]:
    """Violations first (new ones first), then compliant copies; by site and URL within."""
    return (c.verdict != "violation", not is_new(c), c.site, c.url)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _html_context(report: Report, ctx: RenderContext) -> dict[str, Any]:
    copies = []
    sites: dict[str, list[dict[str, Any]]] = {}
    by_rule: Counter[tuple[str, str, str]] = Counter()
    for i, c in enumerate(sorted(report.copies, key=_order), 1):
        failed = failed_checks(c)
        for f in failed:
            by_rule[(f.rule, f.kind, f.severity)] += 1
        source = ctx.sources.get(c.source_url)
        page_text = ctx.pages.get(c.url)
        in_source, on_page = (
            changed_words(source.text, page_text, c.passages)
            if source is not None and page_text is not None
            else ([], [])
        )
        source_segments = (
            elide(
                mark_changed(
                    highlight(source.text, [(p.source_start, p.source_end) for p in c.passages]),
                    in_source,
                )
            )
            if source is not None
            else None
        )
        page = _page_view(c, page_text, on_page) if page_text is not None else None
        open_failures = [f for f in failed if f.triage is None]
        search = " ".join(
            [c.url, c.title, c.site, c.source_url, c.source_title, c.verdict, c.kind]
            + [
                f"{f.rule} {f.kind} {f.message} {f.evidence or ''} {f.triage or ''} {f.triage_note}"
                for f in c.checks
            ]
        )
        item = {
            "n": i,
            "id": f"copy-{i}",
            "c": c,
            "failed": failed,
            "failed_rules": " ".join(sorted({f.rule for f in failed})),
            "is_new": is_new(c),
            "coverage": percent(c.coverage),
            "source": source,
            "source_segments": source_segments,
            "page": page,
            "triaged": bool(failed) and not open_failures,
            "search": " ".join(search.lower().split()),
        }
        copies.append(item)
        sites.setdefault(c.site, []).append(item)
    rules = sorted({f.rule for c in report.copies for f in c.checks})
    return {
        "report": report,
        "scan": report.scan,
        "summary": summary_line(report),
        "candidates": [(c, candidate_line(c)) for c in report.candidates],
        "copies": copies,
        "sites": sorted(
            sites.items(),
            key=lambda kv: (-sum(i["c"].verdict == "violation" for i in kv[1]), kv[0]),
        ),
        "site_names": sorted(sites),
        "when": when,
        "site_slug": _slug,
        "rules": rules,
        "by_rule": sorted(
            ({"rule": r, "kind": k, "severity": s, "count": n} for (r, k, s), n in by_rule.items()),
            key=lambda x: (x["rule"], x["severity"]),
        ),
        "violations": len(report.violations),
        "new_violations": len(report.new_violations),
        "triaged": sum(1 for c in report.copies for f in c.checks if f.triage and not f.passed),
        "next_steps": lambda url: next_steps(url, ctx, report),
    }


def next_steps(url: str, ctx: RenderContext, report: Report) -> dict[str, str]:
    """The review commands for the copy at `url`, shell-quoted, carrying --db and the rules
    as the scan named them, so that they work as printed."""
    q = shlex.quote
    db = f" --db {q(ctx.db)}" if ctx.db else ""
    rules = ctx.rules or report.scan.rules
    return {
        "notice": f"xpostcheck notice {q(url)}{db}" + (f" --rules {q(rules)}" if rules else ""),
        "evidence": f"xpostcheck evidence {q(url)}{db}",
        "triage": f"xpostcheck triage {q(url)} --as licensed --whole-page{db}",
    }


@dataclass(frozen=True)
class HtmlFormat:
    """One self-contained HTML file: summary, a table per site, each copy beside its source,
    each check with its evidence, and filters (new only, site, rule) in inline script."""

    name: str = "html"
    template: str = "report.html.j2"

    def render(self, report: Report, ctx: RenderContext) -> str:
        import jinja2

        source = (
            resources.files("xpostcheck")
            .joinpath("templates")
            .joinpath(self.template)
            .read_text(encoding="utf-8")
        )
        env = jinja2.Environment(
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        text = env.from_string(source).render(**_html_context(report, ctx))
        return redact_credentials(text)  # no user:password@ in any report
