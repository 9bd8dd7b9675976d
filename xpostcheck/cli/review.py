"""The editor's commands over a scan database (history, evidence, triage, notice) and
`explain`, which checks one page and shows every finding with its evidence.

In: a database path, a URL and the command's flags. Out: lines on stdout, files (evidence),
triage marks in the store; XPostCheckError (exit 2) when there is nothing to act on. The
store, the notice drafting and the pipeline are imported inside the commands that use them, so
that the command line starts fast.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xpostcheck import options
from xpostcheck.cli.output import EXIT_FAILED, EXIT_OK
from xpostcheck.config import build_settings, default_index
from xpostcheck.errors import XPostCheckError
from xpostcheck.report.history import format_history, format_site_trend
from xpostcheck.util.files import STDOUT, check_writable, scan_tempdir, write_output
from xpostcheck.util.urls import host_of

if TYPE_CHECKING:
    from xpostcheck.store import Store

__all__ = ["evidence", "explain", "history", "notice", "triage"]


_db_option = click.option(
    "--db", default=options.DB, show_default=True, help="The scan database (a SQLite file)."
)


def _open_existing(db: str) -> Store:
    from xpostcheck.store import open_store

    if "://" not in db and not Path(db).exists():
        raise XPostCheckError(
            "no scan database here; run 'xpostcheck scan' first or pass --db", where=db
        )
    return open_store(db)


@click.command()
@_db_option
@click.option(
    "--limit", default=options.HISTORY_LIMIT, show_default=True, help="How many scans to list."
)
@click.option("--site", help="One site over time: its copies, violations, new and resolved.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A plain table, or a JSON array of one object per scan.",
)
def history(db: str, limit: int, site: str | None, fmt: str) -> None:
    """List past scans and their counts, newest first."""
    store = _open_existing(db)
    try:
        rows: Sequence[Any] = (
            store.site_trend(host_of(site) or site, limit) if site else store.history(limit)
        )
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
    elif site:
        click.echo(format_site_trend(site, rows))
    else:
        click.echo(format_history(rows))


@click.command()
@click.argument("url")
@_db_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help=(
        "Write the WARC here (default: <host>.warc.gz in this folder); '-' is stdout. A device, "
        "FIFO or /dev/stdout is written in place, never replaced."
    ),
)
def evidence(url: str, db: str, output: str | None) -> None:
    """Export the WARC evidence recorded for URL: the exact response as it was seen."""
    target = output or f"{host_of(url) or 'evidence'}.warc.gz"
    store = _open_existing(db)
    try:
        check_writable(target, "evidence")
        data = store.evidence(url)
    finally:
        store.close()
    if data is None:
        raise XPostCheckError(
            "no evidence recorded for this URL (only pages holding copies are archived)", where=url
        )
    try:
        write_output(target, data)
    except OSError as exc:
        raise XPostCheckError(
            f"cannot write the evidence: {exc.strerror or exc}", where=target
        ) from None
    # With the WARC on stdout, the line about it goes to stderr.
    click.echo(f"wrote {len(data)} bytes of WARC evidence to {target}", err=target == STDOUT)


@click.command()
@click.argument("url")
@click.option(
    "--as",
    "status",
    required=True,
    type=click.Choice(["false-positive", "licensed", "notified", "ignored"]),
)
@click.option("--note", default="", help="Why; kept with the triage mark.")
@click.option("--source", "source_url", help="Only the copy of this source article.")
@click.option("--rule", help="Only this rule id.")
@_db_option
def triage(
    url: str, status: str, note: str, source_url: str | None, rule: str | None, db: str
) -> None:
    """Mark the findings on URL as triaged; later scans keep them visible but not counted."""
    store = _open_existing(db)
    try:
        rows = store.triage(url, status, note=note, source_url=source_url, rule=rule)
    finally:
        store.close()
    if rows == 0:
        raise XPostCheckError(
            "no recorded findings for this URL; check the URL against 'xpostcheck scan' output",
            where=url,
        )
    click.echo(f"marked {rows} finding(s) on {url} as {status}")


@click.command()
@click.argument("url")
@_db_option
@click.option(
    "--rules",
    "-r",
    help="The pack or rule file the copy was checked against (default: the scan's own pack).",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False),
    help="Your own notice template (jinja2).",
)
@click.option("--index", help="Source index file (default: beside the database).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the notice here instead of stdout (a device or FIFO is written in place).",
)
def notice(
    url: str,
    db: str,
    rules: str | None,
    template: str | None,
    index: str | None,
    output: str | None,
) -> None:
    """Draft a polite, specific compliance request for the copy at URL."""
    from xpostcheck.review.notices import notice_for

    if output:
        check_writable(output, "notice")
    store = _open_existing(db)
    try:
        text = notice_for(
            store, url, rules, index_path=index or default_index(db), template_path=template
        )
    finally:
        store.close()
    if not output or output == STDOUT:
        click.echo(text)
        return
    try:
        write_output(output, text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise XPostCheckError(
            f"cannot write the notice: {exc.strerror or exc}", where=output
        ) from None


@click.command()
@click.argument("url")
@click.option("--rules", "-r", required=True, help="A pack name or a rule file.")
@click.option("--sources", "-s", multiple=True, required=True, help="The publisher's articles.")
@click.option(
    "--min-coverage",
    type=float,
    help=f"Share of a source that makes a copy ({options.MIN_COVERAGE:g}).",
)
def explain(url: str, rules: str, sources: tuple[str, ...], min_coverage: float | None) -> None:
    """Fetch URL and show every check with its evidence. Exit 0 when the page complies (or
    holds no copy), 1 on violations, 3 when the page cannot be fetched."""
    from xpostcheck.pipeline.scan import run_scan  # the scan's libraries load only to scan

    with scan_tempdir() as tmp:
        flags = {
            "sources": sources,
            "rules": rules,
            "urls": (url,),
            "db": f"{tmp}/explain.db",
            "min_coverage": min_coverage,
            "workers": 1,
        }
        result = run_scan(build_settings({}, flags))
    report = result.report
    for skip in report.skipped:
        click.echo(f"skipped {skip.url}: {skip.reason}")
    if not report.copies and report.scan.pages_fetched == 0:
        # Nothing was checked: the page itself failed (a 404, a refused connection, ...).
        click.echo(f"xpostcheck: error: {url}: the page could not be fetched", err=True)
        sys.exit(EXIT_FAILED)
    if not report.copies:
        click.echo(f"{url}: no copy of any of the {report.scan.sources} source articles found.")
        sys.exit(EXIT_OK)
    for copy in report.copies:
        click.echo(f"{copy.url}")
        click.echo(f"  copy of   {copy.source_url}  ({copy.source_title})")
        click.echo(f"  coverage  {copy.coverage:.0%} ({copy.kind}), {len(copy.passages)} passages")
        click.echo(f"  verdict   {copy.verdict}")
        for check in copy.checks:
            mark = "PASS" if check.passed else "FAIL"
            click.echo(f"  {mark} {check.severity:<7} {check.rule} [{check.kind}]: {check.message}")
            if check.evidence:
                click.echo(f"       evidence: {check.evidence}")
    sys.exit(report.exit_code())
