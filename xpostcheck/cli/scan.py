"""`xpostcheck scan`: flags to Settings, one scan, the report out.

In: the flags (and a config file). Out: the report on stdout or in a file, the summary line
on stderr, and the exit code the report computes. The pipeline is imported when a scan runs,
so that `--help` and the other commands start without the scan's libraries.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import click

from xpostcheck import options
from xpostcheck.cli.config_cmd import CONFIG_HELP
from xpostcheck.cli.config_cmd import show_config as show_settings_of
from xpostcheck.cli.output import EXIT_OK, configure_logging, emit, progress
from xpostcheck.config import (
    FAIL_ON,
    FORMATS,
    Settings,
    build_settings,
    format_duration,
    read_config,
)
from xpostcheck.report.base import summary_line
from xpostcheck.report.formats import FORMATS as REPORT_FORMATS
from xpostcheck.util.files import STDOUT, check_writable, clean_stale

__all__ = ["scan"]

# Options that take one value each time they are given: a bare argument right after their value
# is almost always a second value given the wrong way, and would otherwise become a SITE.
_REPEATABLE = {"--url": "--url", "--sources": "--sources", "-s": "--sources"}


def _refuse_stray_values(ctx: click.Context, args: list[str]) -> None:
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return
        opt, value, after = "", "", i + 1
        name, eq, rest = token.partition("=")
        if token in _REPEATABLE and i + 1 < len(args):
            opt, value, after = token, args[i + 1], i + 2
        elif eq and name in _REPEATABLE and name.startswith("--"):
            opt, value = name, rest
        elif token.startswith("-s") and not token.startswith("--") and len(token) > 2:
            opt, value = "-s", token[2:]
        if opt and after < len(args) and not args[after].startswith("-"):
            stray = args[after]
            message = (
                f"unexpected argument {stray!r} after {opt} {value}: each {_REPEATABLE[opt]} "
                f"takes one value; repeat the option ({opt} {value} {opt} {stray})"
            )
            if stray.lower().startswith(("http://", "https://")):
                message += f", or write --site {stray} to crawl that site"
            raise click.UsageError(message, ctx=ctx)
        i = after if opt else i + 1


class _ScanCommand(click.Command):
    """`scan`, refusing `--url A B` (B would be crawled as a site) and `--sources a b`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        _refuse_stray_values(ctx, args)
        return super().parse_args(ctx, args)


@click.command(cls=_ScanCommand)
@click.argument("site", nargs=-1)
@click.option(
    "--sources",
    "-s",
    multiple=True,
    help="JSON Lines, feed, sitemap, URL list or folder (repeat for more).",
)
@click.option(
    "--rules", "-r", help="A pack in rules/ (see 'xpostcheck rules list') or a TOML file."
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    help=(
        "A site to crawl (same as a SITE argument; repeat for more): a site is its whole host; "
        "the path is where the crawl starts."
    ),
)
@click.option("--sites-file", type=click.Path(dir_okay=False), help="One site URL per line.")
@click.option(
    "--url", "urls", multiple=True, help="Fetch this page only, without crawling (repeat for more)."
)
@click.option(
    "--warc",
    multiple=True,
    metavar="FILE|URL",
    help=(
        "Check the pages of this WARC file (gzipped or not; a URL is streamed) instead of "
        "crawling; sites with copies and pages linking to the publisher are listed as "
        "candidates for a live scan (repeat for more; see docs/warc.md)."
    ),
)
@click.option(
    "--db",
    help=(
        f"The scan database: a SQLite file (default ./{options.DB}) or a "
        "postgresql://USER@HOST/DB URL shared by several machines."
    ),
)
@click.option("--index", help="Source index file (default: beside the database).")
@click.option(
    "--rebuild-index",
    is_flag=True,
    default=None,
    help="Build the source index anew from these sources, dropping articles no longer given "
    "(the saved index otherwise only grows).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    default=None,
    help="When another scan of the same --db is running, exit 3 at once instead of waiting.",
)
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    help=(
        "Write the report here; '-' is stdout (progress and the summary line go to stderr). "
        "A device, FIFO or /dev/stdout is written in place, never replaced."
    ),
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    help="Exit 1 on any violation (default), on new ones only, or never.",
)
@click.option(
    "--delay",
    type=float,
    help=f"Seconds between two requests to one host (default {options.DELAY:g}).",
)
@click.option("--threads", type=int, help=f"Fetching threads (default {options.THREADS}).")
@click.option("--workers", type=int, help="Extraction processes (default: automatic).")
@click.option("--max-pages", type=int, help=f"Pages per site (default {options.MAX_PAGES}).")
@click.option(
    "--max-depth",
    type=int,
    help=f"Link depth from the site's start page (default {options.MAX_DEPTH}).",
)
@click.option(
    "--timeout",
    type=float,
    help=f"Seconds one page may take to fetch (default {options.TIMEOUT:g}).",
)
@click.option(
    "--recheck-after",
    metavar="DURATION",
    help=(
        "Seconds, or a number with s, m, h or d "
        f"(default {format_duration(options.RECHECK_AFTER)}): pages of crawled sites fetched "
        "less than this long ago, and still fresh by their own HTTP caching headers, are not "
        "requested again and their findings carry over; 0 asks again for every page. Pages "
        "given with --url are always fetched."
    ),
)
@click.option("--contact", help="Contact URL or e-mail put in the User-Agent.")
@click.option(
    "--allow-private",
    multiple=True,
    metavar="HOST[:PORT]",
    help=(
        "Allow this private, loopback or link-local host (a name or an address; without a "
        "port: every port). A site or --url naming an address allows that address and port "
        "only; a host name resolving to such an address needs this flag (repeat for more)."
    ),
)
@click.option(
    "--min-coverage",
    type=float,
    help=f"Share of a source that makes a copy, 0 to 1 ({options.MIN_COVERAGE:g}).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help=CONFIG_HELP,
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    default=None,
    help=(
        "Cron mode: print nothing when nothing is new, and a short summary of the new "
        "violations when something is (the report goes only to --output); errors always."
    ),
)
@click.option(
    "--queue",
    is_flag=True,
    default=None,
    help=(
        "Run the scan's sites (or --warc files, one job per file) as jobs on 'xpostcheck "
        "worker' processes (needs a PostgreSQL --db), show their progress, then write the "
        "report as usual."
    ),
)
@click.option(
    "--show-config",
    is_flag=True,
    help="Print the settings this scan would use, with where each came from, and exit.",
)
def scan(site: tuple[str, ...], config_path: str | None, show_config: bool, **flags: Any) -> None:
    """Crawl SITE... (and --url pages), find copies of the sources, check them against the
    rules, and report. A site is its whole host; the path of SITE is where the crawl starts.

    Every setting may also come from xpostcheck.toml in this folder (or --config), or from an
    XPOSTCHECK_<SETTING> environment variable; a flag wins over the environment, which wins
    over the file. 'xpostcheck config' shows the settings in effect and where each came from.
    New violations can be mailed or posted to a webhook (see docs/cron.md).

    \b
    Examples:
      xpostcheck scan https://blog.example/ -s articles.jsonl -r globalresearch
      xpostcheck scan --config xpostcheck.toml --quiet --fail-on new
      xpostcheck scan --warc CC-NEWS-20261101.warc.gz -s articles.jsonl -r globalresearch

    \b
    Exit codes: 0 no violations, 1 violations found, 2 usage/config/rule error,
    3 the scan failed (for example no site reachable), 4 scanned, but a notification
    failed (its violations stay new and are sent again next run).
    """
    flags["sites"] = tuple(site) + tuple(flags.get("sites") or ())
    flags["format"] = flags.pop("fmt")
    if show_config:
        click.echo(show_settings_of(config_path, flags, scan=False))
        sys.exit(EXIT_OK)
    settings = build_settings(read_config(config_path), flags, env=os.environ)
    if settings.quiet:
        configure_logging(0, quiet=True)
    if settings.output:
        check_writable(settings.output, "report")
    _clean_leftovers(settings)
    if settings.queue and not settings.db.startswith(("postgresql://", "postgres://")):
        raise click.UsageError("--queue needs a PostgreSQL database: --db postgresql://...")
    code = _run_scan(settings, quiet=settings.quiet)
    sys.exit(code)


def _clean_leftovers(settings: Settings) -> None:
    """What killed scans left: stale temporary files beside the index and the report, and the
    temporary folders of dead scan processes (never a running scan's)."""
    from xpostcheck.pipeline.begin import index_path_for

    clean_stale([index_path_for(settings), settings.output or ""])


def _run_scan(settings: Settings, *, quiet: bool) -> int:
    from xpostcheck.pipeline.scan import ScanResult, run_scan  # loaded only to scan
    from xpostcheck.pipeline.warcscan import run_warc_scan
    from xpostcheck.review.notify import new_summary, notify

    # Quiet (cron) mode puts the short summary of new violations in the table's place on
    # stdout; a report asked for in a file, or in a machine format on stdout, is still written.
    to_stdout = settings.output in (None, STDOUT)
    write_report = not quiet or not to_stdout or settings.format != "table"
    with contextlib.ExitStack() as stack:
        update = stack.enter_context(progress(not quiet))

        def deliver(result: ScanResult) -> None:
            # The report and the alerts go out before the scan's findings count as seen: if
            # writing the report fails (exit 3), rendering it (exit 2) or a notification
            # (NotifyFailed, exit 4), they stay new for the next run.
            stack.close()  # the progress line is gone before the report comes out
            if write_report:
                text = REPORT_FORMATS[settings.format].render(result.report, result.context)
                emit(text, settings.output)
            summary = new_summary(result.report) if quiet else ""
            if summary and not (write_report and to_stdout):
                click.echo(summary)
            notify(settings, result.report)

        if settings.warc and not settings.queue:
            result = run_warc_scan(settings, settings.warc, progress=update, deliver=deliver)
        elif settings.queue:
            from xpostcheck.queue.scans import run_queued_scan

            result = run_queued_scan(settings, settings.db, progress=update, deliver=deliver)
        else:
            result = run_scan(settings, progress=update, deliver=deliver)
    if result.undelivered and not quiet:
        click.echo(
            f"the last report was not delivered: {result.undelivered} findings stay new", err=True
        )
    if not quiet and (settings.format != "table" or settings.output):
        where = f" (report in {settings.output})" if settings.output not in (None, STDOUT) else ""
        click.echo(summary_line(result.report) + where, err=True)
    if settings.fail_on == "never":
        return EXIT_OK
    return result.report.exit_code("new" if settings.fail_on == "new" else "any")
