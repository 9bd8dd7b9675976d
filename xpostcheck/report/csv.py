"""The CSV format: one row per finding, for spreadsheets, with formula-safe cells; after them,
for WARC input, one row per candidate site (verdict `candidate`, see docs/reports.md).

In: Report and RenderContext. Out: CSV text (CRLF line ends). The module shares the standard
library's name; absolute imports keep `import csv` below pointing at the standard library.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from xpostcheck.models import Report
from xpostcheck.report.base import RenderContext, candidate_line
from xpostcheck.util.urls import host_of, redact_credentials

__all__ = ["CSV_COLUMNS", "CsvFormat"]

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
        for cand in report.candidates:
            row = [report.scan.started, host_of(cand.site), cand.site] + [""] * 5
            row += ["candidate"] + [""] * 4
            row += [f"{candidate_line(cand)}: scan this site live", cand.example]
            row += [""] * (len(CSV_COLUMNS) - len(row))
            writer.writerow([_cell(v) for v in row])
        return redact_credentials(buf.getvalue())  # no user:password@ in any report
