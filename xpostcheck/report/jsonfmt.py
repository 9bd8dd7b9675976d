"""The JSON report: the versioned contract of DESIGN.md (schema_version 1) and its reader.

`report_to_dict` and `report_from_dict` round-trip a Report; `JsonFormat` renders it. In: a
Report (or its JSON data). Out: JSON text, a dict, or a Report; ReportError names the field at
fault in data that does not follow the contract.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xpostcheck.models import (
    SCHEMA_VERSION,
    ArchiveCandidate,
    Copy,
    Finding,
    Passage,
    PrefilterCounts,
    Report,
    Resolved,
    ScanInfo,
    SkipCode,
    Skipped,
)
from xpostcheck.report.base import RenderContext, ReportError
from xpostcheck.util.urls import redact_credentials

__all__ = ["JsonFormat", "report_from_dict", "report_to_dict"]


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
    out = {
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
    if c.record:  # a page read from a WARC file (docs/warc.md)
        out["record"] = c.record
    return out


def report_to_dict(report: Report) -> dict[str, Any]:
    """The report as the versioned JSON contract (schema_version 1)."""
    s = report.scan
    out: dict[str, Any] = {
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
    if s.prefilter is not None:  # a scan of WARC files: pages looked at, analysed in full
        out["scan"]["prefilter"] = {"looked": s.prefilter.looked, "analysed": s.prefilter.analysed}
    if report.candidates:  # sites for a live scan, from WARC input (docs/warc.md)
        out["summary"]["candidates"] = len(report.candidates)
        out["candidates"] = [
            {"site": c.site, "copies": c.copies, "linking": c.linking, "example": c.example}
            for c in report.candidates
        ]
    return out


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
        record=r.get_str("record", ""),
    )


def _prefilter_from(data: Any) -> PrefilterCounts | None:
    if data is None:
        return None
    p = _Reader(data, "$.scan.prefilter")
    return PrefilterCounts(looked=p.get_int("looked"), analysed=p.get_int("analysed"))


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
        prefilter=_prefilter_from(s.data.get("prefilter")),
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
    candidates = []
    for i, x in enumerate(top.get_list("candidates", [])):
        xr = _Reader(x, f"$.candidates[{i}]")
        candidates.append(
            ArchiveCandidate(
                xr.get_str("site"),
                xr.get_int("copies", 0),
                xr.get_int("linking", 0),
                xr.get_str("example", ""),
            )
        )
    return Report(
        scan=scan,
        copies=copies,
        skipped=tuple(skipped),
        resolved=tuple(resolved),
        candidates=tuple(candidates),
    )


@dataclass(frozen=True)
class JsonFormat:
    name: str = "json"

    def render(self, report: Report, ctx: RenderContext) -> str:
        text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
        return redact_credentials(text)  # no user:password@ in any report
