"""The registry of report formats, by name, and the report package's public names.

`FORMATS` maps each format's name (table, json, csv, html) to its formatter and cannot be
changed at run time; adding a format is one module plus one entry here. In: a format name.
Out: a Formatter, whose `render(report, ctx)` gives text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from xpostcheck.report.base import Formatter, RenderContext, ReportError, summary_line
from xpostcheck.report.csv import CSV_COLUMNS, CsvFormat
from xpostcheck.report.html import HtmlFormat, Segment, elide, highlight
from xpostcheck.report.jsonfmt import JsonFormat, report_from_dict, report_to_dict
from xpostcheck.report.table import TableFormat

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "CsvFormat",
    "Formatter",
    "HtmlFormat",
    "JsonFormat",
    "RenderContext",
    "ReportError",
    "Segment",
    "TableFormat",
    "elide",
    "highlight",
    "report_from_dict",
    "report_to_dict",
    "summary_line",
]

FORMATS: Mapping[str, Formatter] = MappingProxyType(
    {f.name: f for f in (TableFormat(), JsonFormat(), CsvFormat(), HtmlFormat())}
)
