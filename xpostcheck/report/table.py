"""The table format: a rich table for people at a terminal, rendered to plain text.

In: Report and RenderContext. Out: text (rich is imported only when a table is drawn).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

from xpostcheck.models import Finding, Report
from xpostcheck.report.base import RenderContext, failed_checks, percent, summary_line
from xpostcheck.util.urls import redact_credentials

__all__ = ["TableFormat"]


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
                failed = failed_checks(c)
                # Text cells: a title with [brackets] is shown as written, never as markup.
                table.add_row(
                    Text(c.site),
                    Text(path),
                    Text(c.source_title or c.source_url),
                    Text(f"{c.kind} {percent(c.coverage)}"),
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
        return redact_credentials(buf.getvalue())  # no user:password@ in any report
