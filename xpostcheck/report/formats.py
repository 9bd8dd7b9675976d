"""Report formats: a registry of formatters (table, json, csv, html) over one Report.

Every formatter is a small frozen class with a `name` and `render(report, ctx) -> str`.
`FORMATS` maps each name to its formatter and cannot be changed at run time. The JSON shape
is the versioned contract in DESIGN.md; `report_to_dict` and `report_from_dict` round-trip it.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import urlsplit

from xpostcheck.errors import XPostCheckError
from xpostcheck.models import (
    SCHEMA_VERSION,
    Copy,
    Finding,
    Passage,
    Report,
    Resolved,
    ScanInfo,
    SkipCode,
    Skipped,
    SourceArticle,
)

__all__ = [
    "FORMATS",
    "CSV_COLUMNS",
    "CsvFormat",
    "Formatter",
    "HtmlFormat",
    "JsonFormat",
    "RenderContext",
    "ReportError",
    "TableFormat",
    "highlight",
    "report_from_dict",
    "report_to_dict",
    "summary_line",
]


class ReportError(XPostCheckError):
    """A JSON report cannot be read back (wrong schema version, missing or mistyped field)."""


@dataclass(frozen=True)
class RenderContext:
    """What a formatter may show beyond the report: the texts behind the passages."""

    sources: Mapping[str, SourceArticle] = field(default_factory=dict)  # by source_url
    pages: Mapping[str, str] = field(default_factory=dict)  # by copy url: the page's full_text


class Formatter(Protocol):
    @property
    def name(self) -> str: ...

    def render(self, report: Report, ctx: RenderContext) -> str: ...


# --- JSON contract ---------------------------------------------------------------------------


def _finding_to_dict(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": f.rule,
        "kind": f.kind,
        "passed": f.passed,
        "severity": f.severity,
        "message": f.message,
        "evidence": f.evidence,
    }
    if not f.passed:
        out["first_seen"] = f.first_seen
        out["new"] = f.new
    if f.triage is not None:
        out["triage"] = f.triage
        out["triage_note"] = f.triage_note
    return out


def _copy_to_dict(c: Copy) -> dict[str, Any]:
    return {
        "url": c.url,
        "site": c.site,
        "source_url": c.source_url,
        "title": c.title,
        "source_title": c.source_title,
        "fetched_at": c.fetched_at,
        "coverage": c.coverage,
        "kind": c.kind,
        "verdict": c.verdict,
        "passages": [
            {
                "source_start": p.source_start,
                "source_end": p.source_end,
                "page_start": p.page_start,
                "page_end": p.page_end,
            }
            for p in c.passages
        ],
        "checks": [_finding_to_dict(f) for f in c.checks],
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as the versioned JSON contract (schema_version 1)."""
    s = report.scan
    return {
        "schema_version": SCHEMA_VERSION,
        "scan": {
            "scan_id": s.scan_id,
            "started": s.started,
            "finished": s.finished,
            "sources": s.sources,
            "pages_fetched": s.pages_fetched,
            "pages_unchanged": s.pages_unchanged,
            "sites": list(s.sites),
            "rules": s.rules,
        },
        "summary": {
            "copies": len(report.copies),
            "violations": len(report.violations),
            "new_violations": len(report.new_violations),
            "skipped": len(report.skipped),
            "resolved": len(report.resolved),
        },
        "copies": [_copy_to_dict(c) for c in report.copies],
        "skipped": [
            {"url": k.url, "reason": k.reason, "code": k.code.value} for k in report.skipped
        ],
        "resolved": [
            {"url": r.url, "source_url": r.source_url, "rule": r.rule, "kind": r.kind}
            for r in report.resolved
        ],
    }


class _Reader:
    """Typed access to a JSON object that names the path of any field at fault."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ReportError(f"expected an object at {path}", where="report JSON")
        self.data: Mapping[str, Any] = data
        self.path = path

    def _get(self, key: str, types: tuple[type, ...], default: Any = ..., *, null: bool = False):  # type: ignore[no-untyped-def]
        if key not in self.data:
            if default is ...:
                raise ReportError(f"missing field {self.path}.{key}", where="report JSON")
            return default
        value = self.data[key]
        if value is None and null:
            return None
        # bool is an int in Python; keep them apart so that "passed": 1 is rejected.
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise ReportError(
                f"field {self.path}.{key} should be {names}, not {type(value).__name__}",
                where="report JSON",
            )
        return value

    def get_str(self, key: str, default: Any = ..., *, null: bool = False) -> Any:
        return self._get(key, (str,), default, null=null)

    def get_int(self, key: str, default: Any = ..., *, null: bool = False) -> Any:
        return self._get(key, (int,), default, null=null)

    def get_num(self, key: str, default: Any = ...) -> float:
        return float(self._get(key, (int, float), default))

    def get_bool(self, key: str, default: Any = ..., *, null: bool = False) -> Any:
        return self._get(key, (bool,), default, null=null)

    def get_list(self, key: str, default: Any = ...) -> list[Any]:
        value: list[Any] = self._get(key, (list,), default)
        return value

    def get_choice(self, key: str, choices: Sequence[str]) -> Any:
        value = self.get_str(key)
        if value not in choices:
            raise ReportError(
                f"field {self.path}.{key} is {value!r}; expected one of {', '.join(choices)}",
                where="report JSON",
            )
        return value


def _finding_from(r: _Reader) -> Finding:
    return Finding(
        rule=r.get_str("rule"),
        kind=r.get_str("kind"),
        passed=r.get_bool("passed"),
        severity=r.get_choice("severity", ("error", "warning", "info")),
        message=r.get_str("message"),
        evidence=r.get_str("evidence", None, null=True),
        first_seen=r.get_str("first_seen", None, null=True),
        new=r.get_bool("new", None, null=True),
        triage=r.get_str("triage", None, null=True),
        triage_note=r.get_str("triage_note", ""),
    )


def _copy_from(r: _Reader) -> Copy:
    passages = []
    for i, p in enumerate(r.get_list("passages")):
        pr = _Reader(p, f"{r.path}.passages[{i}]")
        passages.append(
            Passage(
                pr.get_int("source_start"),
                pr.get_int("source_end"),
                pr.get_int("page_start"),
                pr.get_int("page_end"),
            )
        )
    checks = tuple(
        _finding_from(_Reader(f, f"{r.path}.checks[{i}]"))
        for i, f in enumerate(r.get_list("checks"))
    )
    return Copy(
        url=r.get_str("url"),
        site=r.get_str("site"),
        source_url=r.get_str("source_url"),
        coverage=r.get_num("coverage"),
        kind=r.get_choice("kind", ("full", "partial", "excerpt")),
        verdict=r.get_choice("verdict", ("compliant", "violation")),
        passages=tuple(passages),
        checks=checks,
        title=r.get_str("title", ""),
        source_title=r.get_str("source_title", ""),
        fetched_at=r.get_str("fetched_at", ""),
    )


def report_from_dict(data: Mapping[str, Any]) -> Report:
    """Read a report back from its JSON contract. Raises ReportError naming the field at fault."""
    top = _Reader(data, "$")
    version = top.get_int("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportError(
            f"schema_version {version} is not supported (this xpostcheck reads {SCHEMA_VERSION})",
            where="report JSON",
        )
    s = _Reader(top.data.get("scan"), "$.scan")
    sites = s.get_list("sites", [])
    if not all(isinstance(x, str) for x in sites):
        raise ReportError("field $.scan.sites should be a list of strings", where="report JSON")
    scan = ScanInfo(
        started=s.get_str("started"),
        finished=s.get_str("finished"),
        sources=s.get_int("sources"),
        pages_fetched=s.get_int("pages_fetched"),
        sites=tuple(sites),
        rules=s.get_str("rules", ""),
        pages_unchanged=s.get_int("pages_unchanged", 0),
        scan_id=s.get_int("scan_id", None, null=True),
    )
    copies = tuple(
        _copy_from(_Reader(c, f"$.copies[{i}]")) for i, c in enumerate(top.get_list("copies"))
    )
    skipped = []
    for i, k in enumerate(top.get_list("skipped", [])):
        kr = _Reader(k, f"$.skipped[{i}]")
        code = kr.get_str("code", SkipCode.OTHER.value)
        if code not in {c.value for c in SkipCode}:
            code = SkipCode.OTHER.value  # a newer code than this version knows
        skipped.append(Skipped(kr.get_str("url"), kr.get_str("reason"), SkipCode(code)))
    resolved = []
    for i, x in enumerate(top.get_list("resolved", [])):
        xr = _Reader(x, f"$.resolved[{i}]")
        resolved.append(
            Resolved(
                xr.get_str("url"), xr.get_str("source_url"), xr.get_str("rule"), xr.get_str("kind")
            )
        )
    return Report(scan=scan, copies=copies, skipped=tuple(skipped), resolved=tuple(resolved))


def summary_line(report: Report) -> str:
    """One line for cron: 'xpostcheck: 3 copies, 2 violations (1 new), 1 skipped, 12 pages'."""

    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    violations = n(len(report.violations), "violation", "violations")
    line = (
        f"xpostcheck: {n(len(report.copies), 'copy', 'copies')}, "
        f"{violations} ({len(report.new_violations)} new), "
        f"{len(report.skipped)} skipped, {n(report.scan.pages_fetched, 'page', 'pages')}"
    )
    if report.resolved:
        line += f", {len(report.resolved)} resolved"
    return line


# --- helpers shared by the formats -----------------------------------------------------------


def _failed(c: Copy) -> list[Finding]:
    return [f for f in c.checks if not f.passed]


def _is_new(c: Copy) -> bool:
    return any(f.counts_as_violation and f.new for f in c.checks)


def _percent(x: float) -> str:
    return f"{x * 100:.0f}%"


def _path_of(url: str, site: str) -> str:
    """The URL without scheme and host when its host is the copy's site (shown beside it)."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != site.lower():
        return url
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _check_label(f: Finding) -> str:
    tags: list[str] = []
    if f.severity != "error":
        tags.append(f.severity)
    if f.triage:
        tags.append(f"triaged: {f.triage}")
    elif f.new:
        tags.append("new")
    return f.rule + (f" ({', '.join(tags)})" if tags else "")


# --- table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFormat:
    """A rich table for people at a terminal, rendered to plain text."""

    name: str = "table"
    width: int = 120

    def render(self, report: Report, ctx: RenderContext) -> str:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        buf = io.StringIO()
        console = Console(
            file=buf, width=self.width, force_terminal=False, color_system=None, emoji=False
        )
        s = report.scan
        title = f"xpostcheck scan {s.started}" + (f" (rules: {s.rules})" if s.rules else "")
        if report.copies:
            table = Table(title=Text(title), show_lines=False, expand=False)
            table.add_column("Site")
            # The page's path beside its site, so that the column stays narrow and whole.
            # (A column min_width makes rich crop the table instead of wrapping it.)
            paths = [_path_of(c.url, c.site) for c in report.copies]
            table.add_column("Copy", overflow="fold")
            table.add_column("Source", overflow="fold", max_width=36)
            table.add_column("Copied", justify="right")
            table.add_column("Verdict")
            table.add_column("Failed checks", overflow="fold")
            for c, path in zip(report.copies, paths, strict=True):
                failed = _failed(c)
                # Text cells: a title with [brackets] is shown as written, never as markup.
                table.add_row(
                    Text(c.site),
                    Text(path),
                    Text(c.source_title or c.source_url),
                    Text(f"{c.kind} {_percent(c.coverage)}"),
                    Text(c.verdict.upper() if c.verdict == "violation" else c.verdict),
                    Text("\n".join(_check_label(f) for f in failed) if failed else "-"),
                )
            console.print(table)
        else:
            console.print(f"{title}: no copies found.", markup=False, highlight=False)
        if report.resolved:
            console.print("Resolved since the last scan:")
            for r in report.resolved:
                console.print(f"  {r.url}  {r.rule} ({r.kind})", markup=False, highlight=False)
        if report.skipped:
            console.print("Skipped:")
            for k in report.skipped:
                console.print(f"  {k.url}: {k.reason}", markup=False, highlight=False)
        console.print(summary_line(report), markup=False, highlight=False)
        return buf.getvalue()


# --- json ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonFormat:
    name: str = "json"

    def render(self, report: Report, ctx: RenderContext) -> str:
        return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"


# --- csv -------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "scan_started",
    "site",
    "url",
    "title",
    "source_url",
    "source_title",
    "copy_kind",
    "coverage",
    "verdict",
    "rule",
    "check_kind",
    "severity",
    "passed",
    "message",
    "evidence",
    "new",
    "first_seen",
    "triage",
    "triage_note",
)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: titles and evidence come from other people's
    pages, and a leading = + - @ would make a formula of them."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class CsvFormat:
    """One row per finding, for spreadsheets. A copy without checks still gets one row."""

    name: str = "csv"

    def render(self, report: Report, ctx: RenderContext) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)

        def yn(value: bool | None) -> str:
            return "" if value is None else ("yes" if value else "no")

        for c in report.copies:
            head = [
                report.scan.started,
                c.site,
                c.url,
                c.title,
                c.source_url,
                c.source_title,
                c.kind,
                f"{c.coverage:.4f}",
                c.verdict,
            ]
            if not c.checks:
                writer.writerow([_cell(v) for v in head] + [""] * (len(CSV_COLUMNS) - len(head)))
            for f in c.checks:
                row = head + [
                    f.rule,
                    f.kind,
                    f.severity,
                    yn(f.passed),
                    f.message,
                    f.evidence or "",
                    "" if f.passed else yn(f.new),
                    "" if f.passed else (f.first_seen or ""),
                    f.triage or "",
                    f.triage_note,
                ]
                writer.writerow([_cell(v) for v in row])
        return buf.getvalue()


# --- html ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    mark: int | None  # passage number (1-based) when highlighted
    elided: int = 0  # characters left out after `text` (long unmatched stretches)


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
        failed = _failed(c)
        for f in failed:
            by_rule[(f.rule, f.kind, f.severity)] += 1
        source = ctx.sources.get(c.source_url)
        page_text = ctx.pages.get(c.url)
        source_segments = (
            elide(highlight(source.text, [(p.source_start, p.source_end) for p in c.passages]))
            if source is not None
            else None
        )
        page_segments = (
            elide(highlight(page_text, [(p.page_start, p.page_end) for p in c.passages]))
            if page_text is not None
            else None
        )
        item = {
            "n": i,
            "id": f"copy-{i}",
            "c": c,
            "failed": failed,
            "failed_rules": " ".join(sorted({f.rule for f in failed})),
            "is_new": _is_new(c),
            "coverage": _percent(c.coverage),
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
        return env.from_string(source).render(**_html_context(report, ctx))


FORMATS: Mapping[str, Formatter] = MappingProxyType(
    {f.name: f for f in (TableFormat(), JsonFormat(), CsvFormat(), HtmlFormat())}
)
