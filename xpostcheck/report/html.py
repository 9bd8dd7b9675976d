"""The HTML format: one self-contained page, each copy beside its source with the copied
passages highlighted and long unmatched stretches elided.

In: Report and RenderContext (source texts by URL, page texts by copy URL, any Mapping). Out:
HTML text from the jinja2 template `templates/report.html.j2`, autoescaped.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rapidfuzz.distance import Indel

from xpostcheck.models import Passage, Report
from xpostcheck.report.base import (
    RenderContext,
    failed_checks,
    is_new,
    percent,
    summary_line,
)
from xpostcheck.util.textnorm import tokenize
from xpostcheck.util.urls import redact_credentials

__all__ = ["HtmlFormat", "Segment", "changed_words", "elide", "highlight", "mark_changed"]


@dataclass(frozen=True)
class Segment:
    text: str
    mark: int | None  # passage number (1-based) when highlighted
    elided: int = 0  # characters left out after `text` (long unmatched stretches)
    changed: bool = False  # inside a passage, words the other side does not have (an edit)


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


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _html_context(report: Report, ctx: RenderContext) -> dict[str, Any]:
    copies = []
    sites: dict[str, list[dict[str, Any]]] = {}
    by_rule: Counter[tuple[str, str, str]] = Counter()
    for i, c in enumerate(report.copies, 1):
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
        page_segments = (
            elide(
                mark_changed(
                    highlight(page_text, [(p.page_start, p.page_end) for p in c.passages]),
                    on_page,
                )
            )
            if page_text is not None
            else None
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
            "page_segments": page_segments,
        }
        copies.append(item)
        sites.setdefault(c.site, []).append(item)
    rules = sorted({f.rule for c in report.copies for f in c.checks})
    return {
        "report": report,
        "scan": report.scan,
        "summary": summary_line(report),
        "copies": copies,
        "sites": sorted(sites.items()),
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
