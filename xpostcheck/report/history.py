"""The history listing: past scans' summaries as a plain text table, newest first; and one
site over time (`history --site HOST`).

In: rows of scan summaries (dataclasses or mappings, such as the store's ScanSummary or
SiteTrend). Out: text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

__all__ = ["format_history", "format_site_trend"]


def format_history(rows: Sequence[Any]) -> str:
    """A plain table of scan summaries (any dataclass rows), newest first."""
    if not rows:
        return "no scans recorded yet"
    dicts = [
        dataclasses.asdict(r)
        if dataclasses.is_dataclass(r) and not isinstance(r, type)
        else dict(r)
        for r in rows
    ]
    columns = list(dicts[0])
    cells = [[("" if d[c] is None else str(d[c])) for c in columns] for d in dicts]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(columns)] + [line(row) for row in cells])


def format_site_trend(site: str, rows: Sequence[Any]) -> str:
    """One site over time, newest first: a line naming the site and the change since the
    previous scan, then the table (scan, started, copies, violations, new, resolved)."""
    if not rows:
        return f"no recorded scan found copies on {site}; check the host name against 'history'"
    latest = rows[0]
    head = f"{site}: {_n(latest.copies, 'copy', 'copies')}, "
    head += f"{_n(latest.violations, 'violation', 'violations')} in scan {latest.scan}"
    if len(rows) > 1:
        change = latest.violations - rows[1].violations
        head += f" ({change:+d} since scan {rows[1].scan})"
    return head + "\n" + format_history(rows)


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
