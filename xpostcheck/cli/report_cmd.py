"""`xpostcheck report --scan ID`: render a past scan again from the store, in any format.

In: the database, a scan id, a format and an output path. Out: the report as the scan
recorded it (triage marks as they were then), on stdout or in a file. The HTML shows the
source texts when the source index beside the database still holds them, and a page's text
when the store still keeps the text that scan saw.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xpostcheck import options
from xpostcheck.cli.config_cmd import command_settings
from xpostcheck.config import default_index
from xpostcheck.errors import XPostCheckError
from xpostcheck.util.files import check_writable

if TYPE_CHECKING:
    from xpostcheck.store import Store

__all__ = ["report"]


class _ScanTexts(Mapping[str, str]):
    """Page texts of one scan, read from the store on demand (the HTML asks per copy)."""

    def __init__(self, store: Store, scan_id: int, urls: list[str]) -> None:
        self._store, self._scan, self._urls = store, scan_id, urls

    def __getitem__(self, url: str) -> str:
        text = self._store.page_text_at(url, self._scan)
        if text is None:
            raise KeyError(url)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._urls)

    def __len__(self) -> int:
        return len(self._urls)


@click.command()
@click.option("--scan", "scan_id", type=int, required=True, help="The scan's number (see history).")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json", "csv", "html"]),
    default="html",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the report here instead of stdout.",
)
@click.option(
    "--db",
    help=f"The scan database (a SQLite file or a postgresql:// URL; default ./{options.DB} or "
    "the config's).",
)
@click.option("--index", help="Source index file, for the source texts (default: beside --db).")
def report(scan_id: int, fmt: str, output: str | None, db: str, index: str | None) -> None:
    """Render a past scan's report again from the database.

    \b
    Examples:
      xpostcheck history
      xpostcheck report --scan 12 -o scan-12.html
      xpostcheck report --scan 12 --format csv --db scans.db
    """
    from xpostcheck.cli.output import emit
    from xpostcheck.match.index import SourceIndex
    from xpostcheck.report.base import RenderContext
    from xpostcheck.report.formats import FORMATS
    from xpostcheck.store import open_store

    db, index = (s := command_settings(db=db, index=index)).db, s.index
    if "://" not in db and not Path(db).exists():
        raise XPostCheckError(
            "no scan database here; run 'xpostcheck scan' first or pass --db", where=db
        )
    if output:
        check_writable(output, "report")
    with open_store(db) as store:
        found = store.report(scan_id)
        if found is None:
            raise XPostCheckError(
                f"no finished scan #{scan_id}; 'xpostcheck history' lists the scans", where=db
            )
        ctx = RenderContext()
        if fmt == "html":
            path = index or default_index(db)
            sources = SourceIndex.load(path) if path and Path(path).exists() else None
            ctx = RenderContext(
                sources={
                    c.source_url: a
                    for c in found.copies
                    if sources is not None and (a := sources.get(c.source_url)) is not None
                },
                pages=_ScanTexts(store, scan_id, [c.url for c in found.copies]),
            )
        text = FORMATS[fmt].render(found, ctx)
    emit(text, output)
