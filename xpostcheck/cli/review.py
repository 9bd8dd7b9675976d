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
from xpostcheck.cli.config_cmd import command_settings, explain_settings
from xpostcheck.cli.output import EXIT_FAILED, EXIT_OK
from xpostcheck.errors import XPostCheckError
from xpostcheck.report.history import format_history, format_site_trend
from xpostcheck.util.files import STDOUT, check_writable, scan_tempdir, write_output
from xpostcheck.util.urls import host_of

if TYPE_CHECKING:
    from xpostcheck.store import Store

__all__ = ["evidence", "explain", "history", "notice", "triage"]


_db_option = click.option(
    "--db",
    help=f"The scan database (a SQLite file or a postgresql:// URL; default ./{options.DB} or "
    "the config's).",
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
    db = command_settings(db=db).db
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
        "Write the WARC here (default: a file named by the page in this folder, numbered -2, "
        "-3... when taken); '-' is stdout. An existing file is never overwritten; a device, "
        "FIFO or /dev/stdout is written in place."
    ),
)
def evidence(url: str, db: str, output: str | None) -> None:
    """Export the WARC evidence recorded for URL: the exact response as it was seen. Each
    export is a new file; none is ever overwritten.

    \b
    xpostcheck evidence https://blog.example/posts/harbor.html
    xpostcheck evidence URL -o harbor.warc.gz"""
    from xpostcheck.review.evidence import evidence_name, write_new, write_numbered

    db = command_settings(db=db).db

    in_place = output is not None and _written_in_place(output)
    if output is not None and not in_place and Path(output).exists():
        raise XPostCheckError(
            "a file is already there; evidence is never overwritten: give another -o or "
            "leave -o out for a new file named by the page",
            where=output,
        )
    if output is not None:
        check_writable(output, "evidence")
    store = _open_existing(db)
    try:
        data = store.evidence(url)
    finally:
        store.close()
    if data is None:
        raise XPostCheckError(
            "no evidence recorded for this URL (only pages holding copies are archived)", where=url
        )
    target = output or evidence_name(url)
    try:
        if output is None:
            target = str(write_numbered(".", evidence_name(url), data))
        elif in_place:
            write_output(output, data)
        else:
            write_new(output, data)
    except FileExistsError:
        raise XPostCheckError(
            "a file appeared there meanwhile; evidence is never overwritten: give another -o",
            where=target,
        ) from None
    except OSError as exc:
        raise XPostCheckError(
            f"cannot write the evidence: {exc.strerror or exc}", where=target
        ) from None
    # With the WARC on stdout, the line about it goes to stderr.
    click.echo(f"wrote {len(data)} bytes of WARC evidence to {target}", err=target == STDOUT)


def _written_in_place(path: str) -> bool:
    """stdout, a descriptor path, a device, FIFO or socket: written in place, not a file."""
    from xpostcheck.util.files import _kind  # the same test `write_output` makes

    return _kind(path) in ("stdout", "fd", "special")


class _TriageGroup(click.Group):
    """`triage URL --as S ...` marks (the `mark` command); `triage list` and `triage remove`
    are the other commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["mark", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_TriageGroup)
def triage() -> None:
    """Mark findings as triaged, list the marks, remove them.

    \b
    xpostcheck triage URL --as false-positive --rule RULE   one finding
    xpostcheck triage URL --as licensed --whole-page       every failed check there now
    xpostcheck triage list [URL]                           the marks and what they cover
    xpostcheck triage remove URL --rule RULE | --all

    A mark names one failed check on one page. It never covers a check that passes, nor a
    rule that fails there later; and when the finding's evidence changes materially, the
    finding is new again."""


def _failed_here(store: Store, url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The (source URL, rule) of each failed check the latest scan of `url` recorded, and the
    ids of the rules it checked there."""
    copies = store.previous_copies(url)
    failed = [(c.source_url, f.rule) for c in copies for f in c.checks if not f.passed]
    checked = sorted({f.rule for c in copies for f in c.checks})
    return list(dict.fromkeys(failed)), checked


@triage.command("mark")
@click.argument("url")
@click.option(
    "--as",
    "status",
    required=True,
    type=click.Choice(["false-positive", "licensed", "notified", "ignored"]),
    help="What the finding is.",
)
@click.option("--rule", help="The rule whose failed check to mark.")
@click.option(
    "--whole-page",
    is_flag=True,
    help="Mark every check failing on URL now (they are listed); not the ones that pass, nor "
    "rules that fail there later.",
)
@click.option("--source", "source_url", help="Only the copy of this source article.")
@click.option("--note", default="", help="Why; kept with the triage mark.")
@_db_option
def mark(
    url: str,
    status: str,
    rule: str | None,
    whole_page: bool,
    source_url: str | None,
    note: str,
    db: str,
) -> None:
    """Mark the failed check of RULE on URL (or, with --whole-page, every failed check there)
    as triaged: later scans show it but do not count it."""
    db = command_settings(db=db).db
    if rule and whole_page:
        raise XPostCheckError("give --rule or --whole-page, not both", where=url)
    store = _open_existing(db)
    try:
        failed, checked = _failed_here(store, url)
        if source_url is not None:
            failed = [f for f in failed if f[0] == source_url]
        failing_rules = list(dict.fromkeys(r for _, r in failed))
        if not checked:
            raise XPostCheckError(
                "no recorded findings for this URL; check the URL against 'xpostcheck scan' output",
                where=url,
            )
        if not failed:
            raise XPostCheckError(
                "no failed check on this page to mark (marks never cover checks that pass)",
                where=url,
            )
        failing = ", ".join(failing_rules)
        if rule is None and not whole_page:
            raise XPostCheckError(
                f"name the finding to mark with --rule (failing here: {failing}), or mark "
                "every failed check with --whole-page",
                where=url,
            )
        if rule is not None and rule not in failing_rules:
            why = "passes" if rule in checked else "has no finding"
            raise XPostCheckError(
                f"rule '{rule}' {why} on this page; the rules failing here: {failing}",
                where=url,
            )
        covered = [f for f in failed if rule is None or f[1] == rule]
        store.triage(url, status, note=note, source_url=source_url, rule=rule)
    finally:
        store.close()
    if whole_page:
        click.echo(f"marked {len(covered)} failed check(s) on {url} as {status}:")
        for src, r in covered:
            click.echo(f"  {r}  (copy of {src})")
        click.echo("Checks that pass are not marked, nor rules that fail here later.")
    else:
        click.echo(f"marked {rule} on {url} as {status}")


@triage.command("list")
@click.argument("url", required=False)
@_db_option
def list_marks(url: str | None, db: str | None) -> None:
    """List the triage marks (on URL, or everywhere), one per finding: page, rule, status,
    when set, note. A lapsed mark (the evidence changed) covers nothing."""
    store = _open_existing(command_settings(db=db).db)
    try:
        marks = store.triage_marks(url)
    finally:
        store.close()
    if not marks:
        click.echo(f"no triage marks{f' on {url}' if url else ''}")
        return
    for m in marks:
        state = m["status"] + (f" (lapsed {m['lapsed']}: evidence changed)" if m["lapsed"] else "")
        rule = m["rule"] or "(every rule)"
        line = f"{m['url']}  {rule}  {state}  {m['created']}"
        click.echo(line + (f"  {m['note']}" if m["note"] else ""))


@triage.command("remove")
@click.argument("url")
@click.option("--rule", help="Remove the mark of this rule.")
@click.option("--all", "every", is_flag=True, help="Remove every mark on URL.")
@click.option("--source", "source_url", help="Only the marks of this source article.")
@_db_option
def remove(url: str, rule: str | None, every: bool, source_url: str | None, db: str | None) -> None:
    """Remove triage marks on URL: the findings count again from the next scan."""
    if bool(rule) == every:
        raise XPostCheckError("give --rule RULE or --all", where=url)
    store = _open_existing(command_settings(db=db).db)
    try:
        removed = store.untriage(url, source_url=source_url, rule=rule)
        left = [m["rule"] for m in store.triage_marks(url)] if not removed else []
    finally:
        store.close()
    if not removed:
        marked = f"; marked here: {', '.join(left)}" if left else ""
        raise XPostCheckError(
            f"no triage mark{f' of rule {rule!r}' if rule else ''} on this URL{marked}",
            where=url,
        )
    click.echo(f"removed {removed} triage mark(s) on {url}")


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
    db, index = (s := command_settings(db=db, index=index)).db, s.index
    store = _open_existing(db)
    try:
        text = notice_for(store, url, rules, index_path=index, template_path=template)
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
@click.option("--rules", "-r", help="A pack name or a rule file (default: 'rules' in the config).")
@click.option("--sources", "-s", multiple=True, help="The publisher's articles (or the config's).")
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
        result = run_scan(explain_settings(**flags))
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
