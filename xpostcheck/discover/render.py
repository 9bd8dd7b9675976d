"""The outputs of `xpostcheck discover`: a table, JSON, or one URL per line (the input of
`scan --sites-file`, or of `--url` with `--pages`), and the one-paragraph summary of a log run.

In: `Candidate` rows (and a summary as plain data). Out: text; the CLI writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from xpostcheck.discover.accesslog import LogSummary
from xpostcheck.discover.candidates import Candidate

__all__ = ["OUTPUTS", "describe_log_summary", "render"]

OUTPUTS = ("table", "json", "urls")
SCHEMA_VERSION = 1


def _table(candidates: Sequence[Candidate]) -> str:
    if not candidates:
        return "no candidate sites\n"
    lines = [f"{'HITS':>8}  {'PAGES':>6}  SITE / PAGES"]
    for c in candidates:
        lines.append(f"{c.hits:>8}  {c.distinct_pages:>6}  {c.site}")
        lines.extend(f"{'':>8}  {'':>6}    {page}" for page in c.pages)
    return "\n".join(lines) + "\n"


def _json(candidates: Sequence[Candidate], summary: Mapping[str, object]) -> str:
    data = {
        "schema_version": SCHEMA_VERSION,
        "candidates": [
            {**asdict(c), "pages": list(c.pages), "evidence": list(c.evidence)} for c in candidates
        ],
        "summary": dict(summary),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _urls(candidates: Sequence[Candidate], pages: bool) -> str:
    urls = [page for c in candidates for page in c.pages] if pages else [c.site for c in candidates]
    return "".join(f"{url}\n" for url in urls)


def render(
    fmt: str,
    candidates: Sequence[Candidate],
    summary: Mapping[str, object] | None = None,
    *,
    pages: bool = False,
) -> str:
    """`candidates` as `fmt` (one of OUTPUTS). `pages`: the urls format lists the candidate
    pages (for `scan --url`) instead of the sites (for `scan --sites-file`)."""
    if fmt == "table":
        return _table(candidates)
    if fmt == "json":
        return _json(candidates, summary or {})
    if fmt == "urls":
        return _urls(candidates, pages)
    raise ValueError(f"unknown output {fmt!r}; use one of {', '.join(OUTPUTS)}")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def describe_log_summary(summary: LogSummary, candidates: int) -> list[str]:
    """A log run in a few lines for stderr: what was read, what was malformed (with the first
    places), what was dropped and why, and what a cap or a broken file cost."""
    lines = [
        f"read {_n(summary.lines, 'line')} in {_n(summary.files, 'file')}: "
        f"{_n(summary.kept, 'request')} referred by other sites, "
        f"{_n(candidates, 'candidate site')}"
    ]
    if summary.malformed:
        first = ", ".join(f"{m.file}:{m.line} ({m.reason})" for m in summary.malformed_examples)
        lines.append(f"malformed: {_n(summary.malformed, 'line')}, skipped; first: {first}")
    if summary.dropped:
        lines.append("dropped: " + ", ".join(f"{r} {n:,}" for r, n in summary.dropped))
    if summary.sites_evicted:
        lines.append(
            f"{summary.sites_evicted:,} sites with the fewest hits were evicted to keep memory "
            "bounded; raise --max-sites to count more"
        )
    lines.extend(f"problem: {p}" for p in summary.problems)
    return lines
