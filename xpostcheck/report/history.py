"""The history listing: past scans' summaries as a plain text table, newest first.

In: rows of scan summaries (dataclasses or mappings, such as the store's ScanSummary). Out: text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

__all__ = ["format_history"]


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
