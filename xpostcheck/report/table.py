"""The table format: a rich table for people at a terminal, rendered to text.

The table fits `width` columns (the terminal's by default): below `NARROW` it stacks the site
over the page's path and the verdict under the share copied, in four columns. Paths are broken
after `/`, `-`, `_`, `.`, `?`, `&` or `=` rather than mid-word; a host's port is shown. With
`color` (by default: stdout is a terminal and NO_COLOR is not set) violations are red.

In: Report and RenderContext. Out: text (rich is imported only when a table is drawn).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xpostcheck.models import Copy, Finding, Report
from xpostcheck.report.base import (
    RenderContext,
    candidate_line,
    failed_checks,
    percent,
    summary_line,
)
from xpostcheck.util.urls import redact_credentials

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["NARROW", "TableFormat", "break_path", "terminal_color", "terminal_width"]

NARROW = 110  # below this many columns, the table stacks into four columns
DEFAULT_WIDTH = 120  # when the output is no terminal and COLUMNS is not set (cron mail, files)
_SEGMENTS = re.compile(r"[^/]*/?")
_PIECES = re.compile(r"[^/\-_.?&=]*[/\-_.?&=]?")


def terminal_width() -> int:
    """COLUMNS when set, else the terminal's width when stdout is one, else DEFAULT_WIDTH."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) >= 40:
        return int(columns)
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def terminal_color() -> bool:
    """Colour when stdout is a terminal and NO_COLOR (https://no-color.org) is unset or empty
    (`xpostcheck --no-color` sets it)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def break_path(path: str, width: int) -> list[str]:
    """`path` in lines of at most `width` characters, broken after a `/` where one is near
    enough, else after a `-`, `_`, `.`, `?`, `&` or `=`; a piece longer than a line is cut."""
    lines: list[str] = []
    line = ""
    for piece in _pieces(path, width):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return lines


def _pieces(path: str, width: int) -> list[str]:
    """The parts of `path` after each `/`; one longer than `width` in its finer parts, and a
    part still longer in `width`-sized cuts."""
    out: list[str] = []
    for part in (p for p in _SEGMENTS.findall(path) if p):
        if len(part) <= width:
            out.append(part)
            continue
        for piece in (p for p in _PIECES.findall(part) if p):
            out.extend(piece[i : i + width] for i in range(0, len(piece), width))
    return out


def _site_of(url: str, site: str) -> str:
    """The copy's site as shown: its host, and the port when the URL names one."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{site}:{port}" if port and (parts.hostname or "").lower() == site.lower() else site


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
    """A rich table for people at a terminal, rendered to text: `width` columns and `color`
    default to the terminal's (see `terminal_width` and `terminal_color`)."""

    name: str = "table"
    width: int | None = None
    color: bool | None = None

    def render(self, report: Report, ctx: RenderContext) -> str:
        from rich.console import Console
        from rich.text import Text

        width = self.width or terminal_width()
        color = terminal_color() if self.color is None else self.color
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=width,
            force_terminal=color,
            color_system="standard" if color else None,
            no_color=not color,
            emoji=False,
            highlight=False,
        )
        s = report.scan
        title = f"xpostcheck scan {s.started}" + (f" (rules: {s.rules})" if s.rules else "")
        if report.copies:
            console.print(self._table(report, Text(title), width))
        else:
            console.print(f"{title}: no copies found.", markup=False, soft_wrap=True)
        if report.resolved:
            console.print("Resolved since the last scan:")
            for r in report.resolved:
                console.print(f"  {r.url}  {r.rule} ({r.kind})", markup=False, soft_wrap=True)
        if report.candidates:  # from WARC input: the sites worth a live scan, best first
            console.print("Candidate sites for a live scan (--site):")
            for cand in report.candidates:
                line = f"  {cand.site}: {candidate_line(cand)}"
                line += f"; for example {cand.example}" if cand.example else ""
                console.print(line, markup=False, soft_wrap=True)
        if report.skipped:
            console.print("Skipped:")
            for k in report.skipped:
                console.print(f"  {k.url}: {k.reason}", markup=False, soft_wrap=True)
        summary = Text(summary_line(report))
        if report.violations:
            summary.stylize("bold red")
        console.print(summary, soft_wrap=True)  # one line, whatever the width: cron greps it
        return redact_credentials(buf.getvalue())  # no user:password@ in any report

    def _table(self, report: Report, title: Text, width: int) -> object:
        from rich.table import Table
        from rich.text import Text

        narrow = width < NARROW
        sites = [_site_of(c.url, c.site) for c in report.copies]
        paths = [_path_of(c.url, c.site) for c in report.copies]
        # The path column has a fixed width (rich would fold a path mid-word): as wide as the
        # longest path, within a share of what the fixed columns and borders leave.
        copied_w = max(len(f"{c.kind} {percent(c.coverage)}") for c in report.copies)
        if narrow:
            fixed = 5 + 2 * 4 + max(copied_w, len("VIOLATION"))
            longest = max(len(x) for x in paths + sites)
        else:
            fixed = 7 + 2 * 6 + max(len(x) for x in sites) + copied_w + len("VIOLATION")
            longest = max(len(x) for x in paths)
        path_w = max(12, min(longest, int((width - fixed) * 0.45)))
        table = Table(title=title, show_lines=narrow, expand=False)
        if not narrow:
            table.add_column("Site", overflow="fold")
        table.add_column("Copy", overflow="fold", width=path_w)
        table.add_column("Source", overflow="fold", max_width=36)
        table.add_column("Copied", justify="right")
        if not narrow:
            table.add_column("Verdict")
        table.add_column("Failed checks", overflow="fold")
        for c, site, path in zip(report.copies, sites, paths, strict=True):
            # Text cells: a title with [brackets] is shown as written, never as markup.
            where = Text("\n".join(break_path(path, path_w)))
            copied = Text(f"{c.kind} {percent(c.coverage)}")
            verdict = _verdict(c)
            source = Text(c.source_title or c.source_url)
            checks = _failed(c)
            if narrow:
                host = "\n".join(break_path(site, path_w))
                where = Text.assemble(Text(host, style="bold"), "\n", where)
                table.add_row(where, source, Text.assemble(copied, "\n", verdict), checks)
            else:
                table.add_row(Text(site), where, source, copied, verdict, checks)
        return table


def _verdict(c: Copy) -> Text:
    from rich.text import Text

    if c.verdict == "violation":
        return Text("VIOLATION", style="bold red")
    return Text(c.verdict, style="green")


def _failed(c: Copy) -> Text:
    from rich.text import Text

    failed = failed_checks(c)
    if not failed:
        return Text("-")
    lines = [
        Text(_check_label(f), style="red" if f.counts_as_violation else "yellow") for f in failed
    ]
    return Text("\n").join(lines)
