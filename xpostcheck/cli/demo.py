"""`xpostcheck demo`: the bundled demo web, scanned end to end, leaving behind what the other
commands need to be tried on it: the JSON and HTML reports and the scan database.

In: where to write the JSON report (the HTML report and the database go beside it). Out: the
table on stdout; the files; on stderr, where they are and the commands to try next, each of
which works as printed from the same folder.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from xpostcheck import options
from xpostcheck.cli.output import EXIT_OK, emit, progress
from xpostcheck.models import Report
from xpostcheck.report.formats import FORMATS as REPORT_FORMATS
from xpostcheck.util.files import check_writable

__all__ = ["demo", "demo_paths", "next_commands"]


def demo_paths(output: str) -> tuple[str, str]:
    """The HTML report and the database beside the JSON report `output`."""
    base = Path(output)
    stem = base.with_suffix("") if base.suffix == ".json" else base
    return f"{stem}.html", f"{stem}.db"


def next_commands(report: Report, db: str, rules: str) -> list[str]:
    """The commands worth trying on the demo's database, in order, quoted for a shell: the
    history, a notice and a triage mark for the first violation, the history again."""
    q = shlex.quote
    lines = [f"xpostcheck history --db {q(db)}"]
    violation = next((c for c in report.copies if c.verdict == "violation"), None)
    if violation is not None:
        rule = next(f.rule for f in violation.checks if f.counts_as_violation)
        url = q(violation.url)
        lines += [
            f"xpostcheck notice {url} --db {q(db)} --rules {q(rules)}",
            f"xpostcheck evidence {url} --db {q(db)} -o {q(str(Path(db).with_suffix('.warc.gz')))}",
            f"xpostcheck triage {url} --as licensed --rule {q(rule)} --note 'demo' --db {q(db)}",
        ]
    return lines


@click.command()
@click.option(
    "--output",
    "-o",
    default=options.DEMO_OUTPUT,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the JSON report; the HTML report and the scan database go beside it "
    "(same name, .html and .db).",
)
@click.option("--keep-serving", is_flag=True, help="Leave the demo web running until Ctrl-C.")
def demo(output: str, keep_serving: bool) -> None:
    """Serve a bundled demo web on loopback, scan it end to end, print the table, write the
    JSON and HTML reports and the scan database, and print the commands to try next. Exits 0
    when the demo ran."""
    from xpostcheck.demo.web import RULES, demo_web
    from xpostcheck.pipeline.scan import run_scan

    html_path, db = demo_paths(output)
    for target in (output, html_path, db):
        check_writable(target, "report" if target != db else "database")
    with demo_web() as web:
        click.echo(f"Demo web serving {len(web.sites)} republisher sites on loopback:", err=True)
        for url in web.sites:
            click.echo(f"  {url}", err=True)
        with progress(True) as update:
            result = run_scan(web.settings(db=db), progress=update)
        report = result.report
        click.echo(REPORT_FORMATS["table"].render(report, result.context))
        emit(REPORT_FORMATS["json"].render(report, result.context), output)
        emit(REPORT_FORMATS["html"].render(report, result.context), html_path)
        click.echo(f"JSON report written to {Path(output).resolve()}", err=True)
        click.echo(f"HTML report written to {Path(html_path).resolve()}", err=True)
        click.echo(f"Scan database: {Path(db).resolve()}", err=True)
        click.echo("Try next (the database keeps what the demo saw):", err=True)
        for line in next_commands(report, db, str(RULES)):
            click.echo(f"  {line}", err=True)
        if keep_serving:
            click.echo("Serving until Ctrl-C.", err=True)
            web.wait()
    sys.exit(EXIT_OK)
